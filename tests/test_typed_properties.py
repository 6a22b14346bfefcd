"""Typed dialect properties: integer arrays are i64 arrays (`I64_ARRAY`), string enums are
`EnumAttribute`s spelled `#dialect.name<value>` (dialects/common.py, docs/dialects.md)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from mlir_opt import mlir_opt_generic, needs_mlir_opt
from xdsl.dialects.builtin import ModuleOp
from xdsl.printer import Printer
from xdsl.utils.exceptions import ParseError, VerifyException

from pimdsl.dialects import crossbar, nn, partition, pim_isa
from pimdsl.emit.program import instruction_fields
from pimdsl.module_attrs import SCHEDULES

Parse = Callable[[str], ModuleOp]


def program(instruction: str, buffers: str = "") -> str:
    return (
        f"pim_isa.program elem_bytes 2 {{\n{buffers}\n  pim_isa.partition 0 {{\n"
        f"    pim_isa.core 0 {{\n      {instruction}\n    }}\n  }}\n}}\n"
    )


POOL = (
    "pim_isa.vpool {{kind = {kind}, dst = array<i64: 0>, src = array<i64: 64>, len = 8 : i64, "
    "count = 4 : i64, step = 8 : i64}}"
)


def test_an_i32_array_is_rejected_with_the_expected_form(parse: Parse) -> None:
    text = program("pim_isa.vrelu {dst = array<i32: 0>, src = array<i64: 0>, len = 8 : i64}")
    with pytest.raises(VerifyException) as info:
        parse(text).verify()
    assert str(info.value) == ("expected an i64 array such as array<i64: 0, 4>, got array<i32: 0>")


def test_an_optional_i64_array_is_checked_at_verification(parse: Parse) -> None:
    """crossbar.mvm's optional `windows`: xDSL checks optional properties only in verify()."""
    text = """
%x = "test.op"() : () -> tensor<1x4x16xf32>
%r = crossbar.partition 0 (%x) : (tensor<1x4x16xf32>) -> tensor<1x4x8xf32> {
^bb0(%a: tensor<1x4x16xf32>):
  %t = crossbar.tile {weight = "w", layout = #crossbar.layout<oi>, rows = array<i64: 0, 16>,
                      cols = array<i64: 0, 8>, replica = 0 : i64, core = 0 : i64, xbar = 0 : i64}
  crossbar.write %t
  %y = crossbar.mvm %t, %a {in_rows = array<i64: 0, 16>, windows = array<i16: 0, 4>}
       : (tensor<1x4x16xf32>) -> tensor<1x4x8xf32>
  crossbar.yield %y : tensor<1x4x8xf32>
}
"""
    module = parse(text)
    with pytest.raises(VerifyException, match=r"got array<i16: 0, 4>"):
        module.verify()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            program(POOL.format(kind="#pim_isa.pool_kind<min>")),
            "unknown pim_isa.pool_kind 'min': expected one of max, avg, sum",
        ),
        (
            program(
                "", 'pim_isa.buffer "x" {role = #pim_isa.role<scratch>, shape = array<i64: 4>}'
            ),
            "unknown pim_isa.role 'scratch': expected one of input, output, temp",
        ),
        (
            '%x = "test.op"() : () -> tensor<2x3xf32>\n%y = nn.fake_quant %x {scale = 0.1 : f32, '
            "zero_point = 0 : i64, qtype = #nn.qtype<int3>} : tensor<2x3xf32> -> tensor<2x3xf32>",
            "unknown nn.qtype 'int3': expected one of uint8, int8, uint16, int16, uint4, int4",
        ),
    ],
)
def test_an_unknown_enum_value_is_a_parse_error_at_the_value(
    parse: Parse, text: str, message: str
) -> None:
    with pytest.raises(ParseError) as info:
        parse(text)
    assert info.value.msg == message
    bad = message.split("'")[1]
    assert text[info.value.span.start :].startswith(bad)  # the error points at the value


def test_the_string_spelling_of_an_enum_names_the_typed_one(parse: Parse) -> None:
    with pytest.raises(VerifyException) as info:
        parse(program(POOL.format(kind='"max"'))).verify()
    assert str(info.value) == (
        "expected a pim_isa.pool_kind value such as #pim_isa.pool_kind<max> "
        '(one of max, avg, sum), got "max"'
    )


def test_enum_properties_read_as_plain_strings(parse: Parse) -> None:
    """Readers compare `.data` with str values and use it as a dict key; emitters write str."""
    module = parse(program(POOL.format(kind="#pim_isa.pool_kind<avg>")))
    module.verify()
    op = next(op for op in module.walk() if isinstance(op, pim_isa.VPoolOp))
    assert op.kind.data == "avg" and {"avg": 1}[op.kind.data] == 1 and f"{op.kind.data}" == "avg"
    fields = dict(instruction_fields(op, 0))
    assert type(fields["kind"]) is str and json.dumps(fields["kind"]) == '"avg"'


def test_builders_spell_the_enums_and_reject_unknown_values() -> None:
    op = pim_isa.VPoolOp("max", pim_isa.addr(0), pim_isa.addr(64), 8, 4, 8)
    assert str(op.kind) == "#pim_isa.pool_kind<max>"
    assert str(pim_isa.BufferOp("x", [4], "input").role) == "#pim_isa.role<input>"
    with pytest.raises(ValueError, match="'mean' is not a valid PoolKind"):
        pim_isa.VPoolOp("mean", pim_isa.addr(0), pim_isa.addr(64), 8, 4, 8)


def test_the_enums_hold_the_documented_values() -> None:
    """The value sets of docs/dialects.md, written out independently of the enum classes."""
    assert SCHEDULES == ("layer", "batch", "element")
    assert [e.value for e in crossbar.WeightLayout] == ["oihw", "ohwi", "oi", "io"]
    assert [e.value for e in pim_isa.PoolKind] == ["max", "avg", "sum"]
    assert [e.value for e in pim_isa.ReduceKind] == ["sum", "max"]
    assert [e.value for e in pim_isa.BufferRole] == ["input", "output", "temp"]
    assert nn.PadOp.MODES == ("constant", "reflect", "edge")
    assert partition.ScheduleAttr.name == "partition.schedule"


@needs_mlir_opt
def test_enum_spellings_survive_an_mlir_opt_round_trip(parse: Parse, tmp_path: Path) -> None:
    text = program(
        POOL.format(kind="#pim_isa.pool_kind<avg>"),
        'pim_isa.buffer "x" {role = #pim_isa.role<input>, shape = array<i64: 64>}',
    )
    module = parse(text)
    src = tmp_path / "g.mlir"
    with src.open("w") as f:
        Printer(stream=f, print_generic_format=True).print_op(module)
    again = parse(mlir_opt_generic(src))
    again.verify()
    kinds = [op.kind.data for op in again.walk() if isinstance(op, pim_isa.VPoolOp)]
    roles = [op.role.data for op in again.walk() if isinstance(op, pim_isa.BufferOp)]
    assert kinds == ["avg"] and roles == ["input"]
