"""pim-asm / pim-json emission, the Python builders of the crossbar and pim_isa dialects, and the
numeric meaning of weight layouts.

The JSON checker below is written from docs/pim-json.md by hand, not derived from the emitter,
so a field the emitter drops, renames or mistypes fails it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block, Region
from xdsl.utils.exceptions import VerifyException

from pimdsl.chip import load_preset
from pimdsl.dialects import crossbar as xb
from pimdsl.dialects import pim_isa as isa
from pimdsl.emit.asm import emit_asm
from pimdsl.emit.json import emit_json
from pimdsl.errors import PimError
from pimdsl.module_attrs import set_batch, set_chip

# --- the schema of docs/pim-json.md, by hand ------------------------------------------------------

ADDR, INT, FLOAT, STR, FLAG, RANGE, INTS = "addr", "int", "float", "str", "flag", "range", "ints"
BINARY = {"dst": ADDR, "lhs": ADDR, "rhs": ADDR, "len": INT, "broadcast": FLAG}
UNARY = {"dst": ADDR, "src": ADDR, "len": INT}
INSTRUCTIONS: dict[str, dict[str, str]] = {
    "ld_weight": {"weight": STR, "layout": STR, "rows": RANGE, "cols": RANGE, "dst": ADDR},
    "wr_xbar": {"xbar": INT, "src": ADDR, "rows": INT, "cols": INT},
    "load": {"buffer": STR, "offset": ADDR, "dst": ADDR, "len": INT},
    "store": {"src": ADDR, "buffer": STR, "offset": ADDR, "len": INT},
    "mvm": {
        "xbar": INT,
        "src": ADDR,
        "rows": INT,
        "dst": ADDR,
        "cols": INT,
        "bits": INT,
        "accumulate": FLAG,
    },
    **{op: BINARY for op in ("vadd", "vsub", "vmul", "vdiv", "vmax", "vmin")},
    **{op: UNARY for op in ("vcopy", "vrelu", "vsigmoid", "vtanh", "vexp")},
    "vscale": {**UNARY, "factor": FLOAT},
    "vpow": {**UNARY, "exponent": FLOAT},
    "vleaky_relu": {**UNARY, "alpha": FLOAT},
    "vclip": {**UNARY, "min": FLOAT, "max": FLOAT},
    "vfake_quant": {**UNARY, "scale": FLOAT, "zero_point": FLOAT, "min": FLOAT, "max": FLOAT},
    "vreduce": {"kind": STR, "dst": ADDR, "src": ADDR, "len": INT},
    "vpool": {"kind": STR, "dst": ADDR, "src": ADDR, "len": INT, "count": INT, "step": INT},
    "send": {"peer": INT, "src": ADDR, "len": INT, "tag": INT},
    "recv": {"peer": INT, "dst": ADDR, "len": INT, "tag": INT},
    "barrier": {"cores": INTS},
}


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check_field(kind: str, value: Any, depth: int, where: str) -> None:
    ok = {
        INT: _is_int(value),
        FLOAT: isinstance(value, float),
        STR: isinstance(value, str),
        FLAG: isinstance(value, bool),
        RANGE: isinstance(value, list) and len(value) == 2 and all(map(_is_int, value)),
        INTS: isinstance(value, list) and all(map(_is_int, value)),
        ADDR: isinstance(value, dict)
        and set(value) == {"base", "strides"}
        and _is_int(value["base"])
        and isinstance(value["strides"], list)
        and all(map(_is_int, value["strides"]))
        # strides: none at all outside loops, else exactly one per enclosing loop
        and len(value["strides"]) == depth,
    }[kind]
    assert ok, f"{where}: bad {kind} value {value!r} (loop depth {depth})"


def check_instructions(items: Any, depth: int, where: str) -> int:
    """Validate a list of instructions; returns how many there are (loops included)."""
    assert isinstance(items, list), where
    n = 0
    for i, item in enumerate(items):
        here = f"{where}[{i}]"
        assert isinstance(item, dict) and isinstance(item.get("op"), str), here
        if item["op"] == "loop":
            assert set(item) == {"op", "count", "body"}, here
            assert _is_int(item["count"]) and item["count"] >= 1, here
            n += 1 + check_instructions(item["body"], depth + 1, here + ".body")
            continue
        fields = INSTRUCTIONS.get(item["op"])
        assert fields is not None, f"{here}: unknown op {item['op']!r}"
        assert set(item) == {"op", *fields}, f"{here}: fields {sorted(item)} != {sorted(fields)}"
        for name, kind in fields.items():
            _check_field(kind, item[name], depth, f"{here}.{name}")
        n += 1
    return n


def check_pim_json(doc: Any) -> int:
    """Validate a whole pim-json document; returns the number of instructions."""
    assert isinstance(doc, dict)
    assert set(doc) == {"format", "version", "chip", "batch", "elem_bytes", "buffers", "partitions"}
    assert doc["format"] == "pim-json" and doc["version"] == 1
    assert doc["chip"] is None or (isinstance(doc["chip"], dict) and "cores" in doc["chip"])
    assert _is_int(doc["batch"]) and doc["batch"] >= 1
    assert _is_int(doc["elem_bytes"]) and doc["elem_bytes"] >= 1
    for b in doc["buffers"]:
        assert set(b) == {"name", "role", "shape"} and b["role"] in ("input", "output", "temp")
        assert isinstance(b["name"], str) and all(map(_is_int, b["shape"]))
    n = 0
    for k, part in enumerate(doc["partitions"]):
        assert set(part) == {"index", "cores"} and part["index"] == k
        for core in part["cores"]:
            assert set(core) == {"id", "instructions"} and _is_int(core["id"])
            n += check_instructions(core["instructions"], 0, f"partition {k} core {core['id']}")
    return n


# --- fixtures ----------------------------------------------------------------------------------


def a(base: int, *strides: int):
    return isa.addr(base, *strides)


def small_program(send_per_row: bool = False) -> ModuleOp:
    """Two cores: core 0 computes 4 rows of x @ W (one MVM per row in a loop) and sends them
    (`send_per_row`: one send per row inside the loop, which core 1 does not match)."""
    per_row = [isa.SendOp(1, a(2048, 16), 8, tag=5)] if send_per_row else []
    core0 = isa.CoreOp(
        0,
        [
            isa.LdWeightOp("fc.weight", "oi", (0, 16), (0, 8), a(0)),
            isa.WrXbarOp(0, a(0), 16, 8),
            isa.LoopOp(
                4,
                [
                    isa.LoadOp("x", a(0, 16), a(1024), 16),
                    isa.MvmOp(0, a(1024), 16, a(2048, 16), 8, bits=4),
                    *per_row,
                ],
            ),
            isa.SendOp(1, a(2048), 32, tag=5),
            isa.BarrierOp([0, 1]),
        ],
    )
    core1 = isa.CoreOp(
        1,
        [
            isa.RecvOp(0, a(0), 32, tag=5),
            isa.LoopOp(
                2,
                [
                    isa.LoopOp(
                        4,
                        [
                            isa.VClipOp(a(512, 64, 16), a(0, 0, 8), 8, min=0.0, max=6.0),
                        ],
                    )
                ],
            ),
            isa.VAddOp(a(0), a(0), a(64), 32, broadcast=True),
            isa.StoreOp(a(0), "y", a(0), 32),
            isa.BarrierOp([0, 1]),
        ],
    )
    program = isa.ProgramOp(
        2,
        [
            isa.BufferOp("x", (4, 16), "input"),
            isa.BufferOp("y", (4, 8), "output"),
            isa.PartitionOp(0, [core0, core1]),
        ],
    )
    module = ModuleOp([program])
    set_chip(module, load_preset("compass-s"))
    set_batch(module, 4)
    return module


# --- emitters ----------------------------------------------------------------------------------


def test_asm_lines_of_the_small_program() -> None:
    module = small_program()
    module.verify()
    out = io.StringIO()
    emit_asm(module, out)
    body = [line for line in out.getvalue().splitlines() if line and not line.startswith(";")]
    assert body == [
        ".buffer x input 4x16",
        ".buffer y output 4x8",
        ".partition 0",
        ".core 0",
        "    ld_weight  weight=fc.weight layout=oi rows=0:16 cols=0:8 dst=@0",
        "    wr_xbar    xbar=0 src=@0 rows=16 cols=8",
        "    loop 4 i0 {",
        "        load       buffer=x offset=0+16*i0 dst=@1024 len=16",
        "        mvm        xbar=0 src=@1024 rows=16 dst=@2048+16*i0 cols=8 bits=4",
        "    }",
        "    send       peer=1 src=@2048 len=32 tag=5",
        "    barrier    cores=0,1",
        ".core 1",
        "    recv       peer=0 dst=@0 len=32 tag=5",
        "    loop 2 i0 {",
        "        loop 4 i1 {",
        "            vclip      dst=@512+64*i0+16*i1 src=@0+8*i1 len=8 min=0.0 max=6.0",
        "        }",
        "    }",
        "    vadd       dst=@0 lhs=@0 rhs=@64 len=32 broadcast",
        "    store      src=@0 buffer=y offset=0 len=32",
        "    barrier    cores=0,1",
    ]
    comments = [line for line in out.getvalue().splitlines() if line.startswith(";")]
    assert "; batch 4, elem_bytes 2" in comments
    assert "; ==== partition 0: cores 0, 1 ====" in comments
    assert "; ==== end of partition 0 ====" in comments


def test_json_follows_the_documented_schema() -> None:
    out = io.StringIO()
    emit_json(small_program(), out)
    doc = json.loads(out.getvalue())
    # core 0: ld_weight, wr_xbar, loop, load, mvm, send, barrier;
    # core 1: recv, loop, loop, vclip, vadd, store, barrier
    assert check_pim_json(doc) == 14
    core1 = doc["partitions"][0]["cores"][1]["instructions"]
    clip = core1[1]["body"][0]["body"][0]
    assert clip["dst"] == {"base": 512, "strides": [64, 16]}
    assert clip["src"] == {"base": 0, "strides": [0, 8]}
    assert core1[2]["broadcast"] is True and core1[2]["rhs"] == {"base": 64, "strides": []}
    assert doc["chip"]["name"] == "compass-s" and doc["batch"] == 4


def test_schema_checker_rejects_broken_documents() -> None:
    out = io.StringIO()
    emit_json(small_program(), out)
    good = json.loads(out.getvalue())
    mvm = good["partitions"][0]["cores"][0]["instructions"][2]["body"][1]
    assert mvm["op"] == "mvm"
    for breakage in (
        lambda m: m.pop("bits"),
        lambda m: m.update(rows="16"),
        lambda m: m["dst"].update(strides=[]),  # inside one loop: needs one stride
        lambda m: m.update(extra=1),
    ):
        doc = json.loads(out.getvalue())
        breakage(doc["partitions"][0]["cores"][0]["instructions"][2]["body"][1])
        with pytest.raises(AssertionError):
            check_pim_json(doc)


def test_ops_file_emits_valid_json(parse: Callable[[str], ModuleOp]) -> None:
    """Every pim_isa op (tests/filecheck/dialects/pim_isa/ops.mlir) passes the checker."""
    from pathlib import Path

    text = (Path(__file__).parent / "filecheck/dialects/pim_isa/ops.mlir").read_text()
    module = parse(text)
    set_chip(module, load_preset("compass-s"))
    module.verify()
    out = io.StringIO()
    emit_json(module, out)
    doc = json.loads(out.getvalue())
    check_pim_json(doc)
    seen = set()

    def collect(items: list[dict[str, Any]]) -> None:
        for item in items:
            seen.add(item["op"])
            if item["op"] == "loop":
                collect(item["body"])

    for part in doc["partitions"]:
        for core in part["cores"]:
            collect(core["instructions"])
    assert seen == {*INSTRUCTIONS, "loop"}  # the ops file covers the whole instruction set


def test_emitting_a_module_without_program_is_a_user_error() -> None:
    for emit in (emit_asm, emit_json):
        with pytest.raises(PimError, match="no pim_isa.program"):
            emit(ModuleOp([]), io.StringIO())


# --- builders and verifiers from Python --------------------------------------------------------


def test_pim_isa_verifier_counts_sends_over_loops() -> None:
    small_program().verify()
    with pytest.raises(
        VerifyException, match=r"4 send\(s\) from core 0 to core 1 \(tag 5, len 8\) but 0"
    ):
        small_program(send_per_row=True).verify()


def test_crossbar_builders_verify_and_round_trip(parse: Callable[[str], ModuleOp]) -> None:
    x_type = xb.tensor((2, 3, 8, 8))
    block = Block(arg_types=[x_type])
    (x,) = block.args
    t0 = xb.TileOp("conv.weight", "oihw", (0, 27), (0, 8), replica=0, core=0, xbar=0)
    t1 = xb.TileOp("conv.weight", "oihw", (0, 27), (0, 8), replica=1, core=1, xbar=0)
    u = xb.Im2colOp(x, kernel=(3, 3), strides=(1, 1), pads=(1, 1, 1, 1))
    p0 = xb.MvmOp(t0.result, u.output, (0, 27), windows=(0, 40))
    p1 = xb.MvmOp(t1.result, u.output, (0, 27), windows=(40, 64))
    y = xb.ConcatOp([p0.output, p1.output], axis=1)
    b = xb.BiasOp(y.output, "conv.bias", (0, 8))
    f = xb.Col2imOp(b.output, (8, 8))
    block.add_ops(
        [
            t0,
            t1,
            xb.WriteOp([t0.result, t1.result]),
            u,
            p0,
            p1,
            y,
            b,
            f,
            xb.YieldOp([f.output]),
        ]
    )
    part = xb.PartitionOp(0, [], [f.output.type], Region(block))  # operands added below
    fn_block = Block(arg_types=[x_type])
    part.operands = [fn_block.args[0]]
    fn_block.add_ops([part, func.ReturnOp(part.outputs[0])])
    fn = func.FuncOp("main", ([x_type], [f.output.type]), Region(fn_block))
    module = ModuleOp([fn])
    set_chip(module, load_preset("compass-s"))
    module.verify()
    assert u.output.type == xb.tensor((2, 64, 27))
    assert p1.output.type == xb.tensor((2, 24, 8))
    text = str(module)
    again = parse(text)
    again.verify()
    assert str(again) == text
    assert xb.tile_summary(part) == {"tiles": 2, "cores": 2, "crossbars": 2}


def test_crossbar_capacity_checks_are_skipped_without_chip() -> None:
    block = Block(arg_types=[xb.tensor((1, 300))])
    tile = xb.TileOp("w", "oi", (0, 300), (0, 100), replica=0, core=99, xbar=99)
    block.add_ops([tile, xb.WriteOp([tile.result]), xb.YieldOp([block.args[0]])])
    outer = Block(arg_types=[xb.tensor((1, 300))])
    part = xb.PartitionOp(0, [outer.args[0]], [xb.tensor((1, 300))], Region(block))
    outer.add_op(part)
    module = ModuleOp(Region(outer))
    module.verify()  # no pim.chip: a 300-row tile on core 99 is not checked
    set_chip(module, load_preset("compass-s"))
    with pytest.raises(VerifyException, match="core 99 is out of range"):
        module.verify()


# --- numeric meaning of layouts ------------------------------------------------------------------


def _conv_direct(x: np.ndarray, w: np.ndarray, pad: int) -> np.ndarray:
    """Plain loops, no im2col: y[n, o, i, j] = sum_{c,ky,kx} x_pad[n, c, i+ky, j+kx] w[o, c, ky, kx]."""
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    y = np.zeros((n, o, h + 2 * pad - kh + 1, wd + 2 * pad - kw + 1))
    for i in range(y.shape[2]):
        for j in range(y.shape[3]):
            for oc in range(o):
                y[:, oc, i, j] = (xp[:, :, i : i + kh, j : j + kw] * w[oc]).sum(axis=(1, 2, 3))
    return y


def _im2col(x: np.ndarray, k: int, pad: int, channel_last: bool) -> np.ndarray:
    """docs/dialects.md: rows = windows (oy, ox), columns (c, ky, kx) or, channel-last, (ky, kx, c)."""
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, c, h, w = x.shape
    oh, ow = h + 2 * pad - k + 1, w + 2 * pad - k + 1
    rows = []
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i : i + k, j : j + k]  # [n, c, ky, kx]
            if channel_last:
                patch = patch.transpose(0, 2, 3, 1)
            rows.append(patch.reshape(n, -1))
    return np.stack(rows, axis=1)


@pytest.mark.parametrize("layout", ["oihw", "ohwi"])
def test_conv_as_unfolded_matmul_with_tiles(layout: str) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 5, 5))
    w = rng.standard_normal((4, 3, 3, 3))
    expected = _conv_direct(x, w, pad=1)
    matrix = xb.weight_matrix(w, layout)
    assert matrix.shape == (27, 4)
    u = _im2col(x, 3, 1, channel_last=layout == "ohwi")
    # Two row tiles (0:16, 16:27) x two column tiles (0:2, 2:4), partial sums accumulated.
    cols = [
        u[..., 0:16] @ matrix[0:16, c0:c1] + u[..., 16:27] @ matrix[16:27, c0:c1]
        for c0, c1 in ((0, 2), (2, 4))
    ]
    y = np.concatenate(cols, axis=-1)  # [n, windows, Cout]
    y = y.transpose(0, 2, 1).reshape(expected.shape)  # col2im
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)


def test_linear_layouts() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 6))
    w_oi = rng.standard_normal((5, 6))  # [out, in]
    np.testing.assert_allclose(x @ xb.weight_matrix(w_oi, "oi"), np.einsum("ni,oi->no", x, w_oi))
    np.testing.assert_allclose(x @ xb.weight_matrix(w_oi.T, "io"), np.einsum("ni,oi->no", x, w_oi))
