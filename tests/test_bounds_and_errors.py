"""Bounded work and user errors: limits checked before allocating, the lexer hang, exceptions
from hostile input turned into one-paragraph errors, and the wrong or silent results of issue 12
(Gemm alpha/beta, non-finite JSON, two ONNX writers, pim-run --chip, NaN outputs, stats bytes)."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import pytest
from reliability_net import compile_levels, gemm_net

from pimdsl import limits, strict_json
from pimdsl.chip import load_chip, load_preset, preset_names
from pimdsl.errors import PimError
from pimdsl.tools.pim_opt import main as pim_opt
from pimdsl.tools.pim_run import main as pim_run

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def net(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    monkeypatch.chdir(tmp_path)
    return compile_levels(tmp_path)


def _user_error(code: int, err: str, *needles: str) -> None:
    assert code == 1, err
    assert "Traceback" not in err and "internal error" not in err, err
    for needle in needles:
        assert needle in err, err


# --- the lexer -------------------------------------------------------------------------------


def test_truncated_string_literal_answers_at_once(net: dict[str, Path]) -> None:
    text = net["nn"].read_text()
    cut = text.index('description = "') + 60  # the old lexer needed 2^45 steps here
    bad = net["nn"].with_name("cut.mlir")
    bad.write_text(text[:cut])
    for tool in ("pim-opt", "pim-run"):
        start = time.monotonic()
        proc = subprocess.run(
            [str(Path(sys.executable).with_name(tool)), str(bad)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert time.monotonic() - start < 30
        _user_error(proc.returncode, proc.stderr, "cut.mlir:1:", "closing string literal")
        assert (
            max(len(line) for line in proc.stderr.splitlines()) < 400
        )  # the 1,500-char line is cut


# --- limits ----------------------------------------------------------------------------------


def test_a_tiny_chip_answers_within_seconds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """ResNet18 on a 1-core chip of four 16x8 crossbars: 93,952 units. It ran for minutes and
    1.5 GB before the unit limit; now it is refused at once."""
    from pimdsl.tools.opt_driver import cached_model

    model = cached_model("resnet18")
    chip = tmp_path / "tiny.toml"
    chip.write_text(
        'base = "compass-s"\ncores = 1\ncrossbars_per_core = 4\ncrossbar_rows = 16\ncrossbar_cols = 8\n'
    )
    start = time.monotonic()
    code = pim_opt([str(model), "--chip", str(chip), "--partition", "-o", "/dev/null"])
    assert time.monotonic() - start < 30
    _user_error(code, capsys.readouterr().err, "93,952 units", "over the limit of 4,096")


def test_a_chip_needing_thousands_of_partitions_answers_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """ResNet18 on one core of eight 64x32 crossbars: 3,227 units (under the unit limit) but at
    least 3,106 partitions; building and printing their IR took 110 s, now refused at once."""
    from pimdsl.tools.opt_driver import cached_model

    chip = tmp_path / "one-core.toml"
    chip.write_text(
        'base = "compass-s"\ncores = 1\ncrossbars_per_core = 8\ncrossbar_rows = 64\ncrossbar_cols = 32\n'
    )
    start = time.monotonic()
    code = pim_opt(
        [str(cached_model("resnet18")), "--chip", str(chip), "--partition", "-o", "/dev/null"]
    )
    assert time.monotonic() - start < 30
    _user_error(code, capsys.readouterr().err, "needs at least 3,106 partitions", "limit of 512")


def test_unit_count_matches_the_units_built() -> None:
    """The count that guards plan_units is the number of units plan_units makes."""
    from pimdsl.frontend import import_onnx
    from pimdsl.network import extract_network
    from pimdsl.tools.opt_driver import cached_model
    from pimdsl.units import count_layer_units, plan_units

    for model in ("mobilenetv2", "squeezenet1_0", "googlenet", "shufflenet_v2_x1_0"):
        net = extract_network(import_onnx(cached_model(model)))
        for name in preset_names():
            chip = load_preset(name)
            counted = sum(count_layer_units(L, chip) for L in net.layers)
            assert counted == plan_units(net, chip).n, (model, name)


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["--batch", "65537"], "--batch 65537 is too large"),
        (["--batch", str(10**30)], "--batch 1000000000000000000000000000000 is too large"),
    ],
)
def test_batch_limit(
    net: dict[str, Path], argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _user_error(pim_opt([str(net["nn"]), *argv]), capsys.readouterr().err, needle)
    _user_error(pim_run([str(net["nn"]), *argv]), capsys.readouterr().err, needle)


def test_image_size_limit(capsys: pytest.CaptureFixture[str]) -> None:
    _user_error(
        pim_run(["--model", "mlp", "--image-size", "100000"]),
        capsys.readouterr().err,
        "--image-size 100000 is too large",
    )


@pytest.mark.parametrize(
    "option, needle",
    [
        ("population=100000", "population 100000 is too large"),
        ("workers=10000", "workers 10000 is too large"),
        ("generations=1000000", "generations 1000000 is too large"),
    ],
)
def test_ga_limits(
    net: dict[str, Path], option: str, needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _user_error(
        pim_opt([str(net["nn"]), "--partition", f"--ga-group={option}"]),
        capsys.readouterr().err,
        needle,
    )


@pytest.mark.parametrize(
    "field, value, needle",
    [
        ("cores", 10**6, "outside the allowed range"),
        ("crossbar_rows", 10**30, "too large"),
        ("dram_bandwidth", 1e-300, "outside the allowed range"),
        ("mvm_read_ns", 1e300, "outside the allowed range"),
        ("cores", 10**400, "too large"),
    ],
)
def test_chip_field_limits(tmp_path: Path, field: str, value: object, needle: str) -> None:
    chip = tmp_path / "c.json"
    chip.write_text(json.dumps({"base": "compass-s", field: value}))
    with pytest.raises(PimError, match=needle):
        load_chip(str(chip))


def test_huge_tensor_in_ir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ir = tmp_path / "huge.mlir"
    t = "tensor<100000x3x100000x8xf32>"
    ir.write_text(
        f"func.func @main(%x: {t}) -> {t} {{\n  %r = nn.relu %x : {t} -> {t}\n  func.return %r : {t}\n}}\n"
    )
    _user_error(pim_opt([str(ir)]), capsys.readouterr().err, "huge.mlir:1", "over the limit")
    _user_error(pim_run([str(ir)]), capsys.readouterr().err, "huge.mlir:1", "over the limit")


def test_forged_npy_header(net: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    x = net["nn"].with_name("x.npy")
    with open(x, "wb") as f:
        np.lib.format.write_array_header_1_0(
            f, {"descr": "<f4", "fortran_order": False, "shape": (10**6, 3, 6, 6)}
        )
    _user_error(
        pim_run([str(net["nn"]), "--input", str(x)]), capsys.readouterr().err, "over the limit"
    )
    x.write_bytes(x.read_bytes()[:20])  # a truncated header: EOFError inside numpy
    _user_error(
        pim_run([str(net["nn"]), "--input", str(x)]),
        capsys.readouterr().err,
        "cannot read the input tensor",
    )


def test_limits_are_documented() -> None:
    doc = (ROOT / "docs" / "limits.md").read_text()
    for limit in vars(limits).values():
        if isinstance(limit, limits.Limit):
            assert f"{limit.maximum:,}" in doc, limit
    for field, (_, hi) in limits.CHIP_INT_FIELDS.items():
        assert f"`{field}`" in doc, field
        assert f"{hi:,}" in doc or f"2^{hi.bit_length() - 1}" in doc, (field, hi)


# --- exceptions from hostile input -------------------------------------------------------------


def test_deep_nesting_is_a_user_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ir = tmp_path / "deep.mlir"
    ir.write_text("builtin.module attributes {x = " + "[" * 5000 + "]" * 5000 + "} {}\n")
    _user_error(pim_opt([str(ir)]), capsys.readouterr().err, "nests too deeply")
    _user_error(pim_run([str(ir)]), capsys.readouterr().err, "nests too deeply")


@pytest.mark.parametrize(
    "content, needle",
    [
        (b"\xff\xfe\x00binary", "not valid"),
        (b'{"base": "compass-s", "cores": ' + b"9" * 5000 + b"}", "not valid JSON"),
        (b'{"base": "compass-s", "cores": ' + b"[" * 5000 + b"}", "not valid JSON"),
    ],
)
def test_broken_chip_files(tmp_path: Path, content: bytes, needle: str) -> None:
    chip = tmp_path / "c.json"
    chip.write_bytes(content)
    with pytest.raises(PimError, match=needle):
        load_chip(str(chip))


def _external(path: Path, location: str) -> Path:
    gemm_net(path)
    model = onnx.load(str(path))
    t = model.graph.initializer[0]
    t.ClearField("raw_data")
    t.data_location = onnx.TensorProto.EXTERNAL
    entry = t.external_data.add()
    entry.key, entry.value = "location", location
    onnx.save(model, str(path))
    return path


@pytest.mark.parametrize("location", ["../../etc/passwd", "missing.bin"])
def test_external_data_outside_or_missing(
    tmp_path: Path, location: str, capsys: pytest.CaptureFixture[str]
) -> None:
    model = _external(tmp_path / "ext.onnx", location)
    _user_error(pim_run([str(model)]), capsys.readouterr().err, "cannot read initializer")


def test_tampered_pim_units(net: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    text = net["partition"].read_text()
    bad = net["partition"].with_name("bad.mlir")
    bad.write_text(
        re.sub(
            r"pim.units = array<i64: (\d+), (\d+)>", "pim.units = array<i64: 0, 99>", text, count=1
        )
    )
    _user_error(
        pim_opt([str(bad), "--partition-to-crossbar"]), capsys.readouterr().err, "pim.units"
    )


def test_use_before_definition(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    t = "tensor<1x4xf32>"
    ir = tmp_path / "order.mlir"
    ir.write_text(
        f"func.func @main(%x: {t}) -> {t} {{\n  %b = nn.relu %a : {t} -> {t}\n"
        f"  %a = nn.relu %x : {t} -> {t}\n  func.return %b : {t}\n}}\n"
    )
    _user_error(
        pim_opt([str(ir), "--chip", "compass-s", "--partition"]),
        capsys.readouterr().err,
        "order.mlir:2",
        "before the op that defines it",
    )


# --- wrong or silent results ---------------------------------------------------------------------


def test_gemm_alpha_beta(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = gemm_net(tmp_path / "ab.onnx", alpha=0.5, beta=2.0)
    assert pim_run([str(model), "--compare-onnxruntime"]) == 0  # correct at the nn level
    assert "matches onnxruntime" in capsys.readouterr().out
    code = pim_opt(
        [str(model), "--chip", "compass-s", "--partition", "--lower-to-isa", "-o", "/dev/null"]
    )
    _user_error(code, capsys.readouterr().err, "alpha or beta", "crossbar-to-isa")


def test_two_onnx_nodes_writing_one_tensor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = onnx.load(str(gemm_net(tmp_path / "dup.onnx")))
    model.graph.node[2].output[0] = "r"  # Flatten now writes Relu's output
    onnx.save(model, str(tmp_path / "dup.onnx"))
    _user_error(pim_opt([str(tmp_path / "dup.onnx")]), capsys.readouterr().err, "writes tensor 'r'")


def test_pim_run_chip_on_ir_with_a_chip(
    net: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _user_error(
        pim_run([str(net["pim_isa"]), "--chip", "nope.toml"]),
        capsys.readouterr().err,
        "does not exist",
    )
    _user_error(
        pim_run([str(net["pim_isa"]), "--chip", "compass-m"]),
        capsys.readouterr().err,
        "compiled for chip 'compass-s'",
    )
    assert pim_run([str(net["pim_isa"]), "--chip", "compass-s"]) == 0
    assert pim_run([str(net["nn"]), "--chip", "compass-m"]) == 0
    assert "replaces the module's chip" in capsys.readouterr().err


def test_nan_outputs_warn(net: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    x = np.zeros((1, 3, 6, 6), np.float32)
    x[0, 0, 0, 0] = np.nan
    np.save(net["nn"].with_name("x.npy"), x)
    assert pim_run([str(net["nn"]), "--input", "x.npy"]) == 0
    assert "warning: output 0 holds" in capsys.readouterr().err


def test_stats_are_byte_identical(net: dict[str, Path]) -> None:
    for name in ("a.json", "b.json"):
        assert pim_run([str(net["pim_isa"]), "--stats", name]) == 0
    assert Path("a.json").read_bytes() == Path("b.json").read_bytes()


# --- strict JSON ---------------------------------------------------------------------------------


def _strict(path: Path) -> object:
    def refuse(token: str) -> float:
        raise ValueError(token)

    return json.loads(path.read_text(), parse_constant=refuse)


def test_every_json_file_is_strict(net: dict[str, Path]) -> None:
    ga = '--ga-group=generations=2 population=4 keep=2 trace="t.json"'
    assert pim_opt([str(net["nn"]), "--partition", ga, "--report", "r.json", "-o", "p.mlir"]) == 0
    assert pim_opt([str(net["pim_isa"]), "-t", "pim-json", "-o", "p.json"]) == 0
    assert pim_run([str(net["pim_isa"]), "--stats", "s.json"]) == 0
    for name in ("t.json", "r.json", "p.json", "s.json"):
        _strict(Path(name))


def test_strict_json_names_the_key() -> None:
    with pytest.raises(PimError, match="totals.latency_s"):
        strict_json.dumps({"totals": {"latency_s": float("inf")}}, what="report")
    assert strict_json.dumps({"a": [1.5]}, what="x") == '{"a": [1.5]}'


def test_no_json_writer_allows_nan() -> None:
    """Every json.dump(s) in pimdsl passes allow_nan=False, or goes through strict_json."""
    offenders = []
    for folder in ("pimdsl", "tools", "passes", "dialects"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("dump", "dumps")
                    and getattr(node.func.value, "id", "") == "json"
                    and not any(k.arg == "allow_nan" for k in node.keywords)
                ):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


@pytest.mark.parametrize("op", ["ConstantOfShape", "Expand", "Tile"])
def test_constant_folding_is_bounded(
    tmp_path: Path, op: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folded node whose output is far larger than its inputs is refused before numpy
    allocates it (50,000 x 50,000 float32 = 10 GB)."""
    from onnx import TensorProto, helper, numpy_helper

    big = np.array([50_000, 50_000], np.int64)
    inits = [
        numpy_helper.from_array(big, "shape"),
        numpy_helper.from_array(np.ones((1, 1), np.float32), "one"),
    ]
    node = {
        "ConstantOfShape": helper.make_node("ConstantOfShape", ["shape"], ["k"]),
        "Expand": helper.make_node("Expand", ["one", "shape"], ["k"]),
        "Tile": helper.make_node("Tile", ["one", "shape"], ["k"]),
    }[op]
    add = helper.make_node("Add", ["x", "k"], ["y"])
    graph = helper.make_graph(
        [node, add],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        inits,
    )
    path = tmp_path / "fold.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    _user_error(pim_opt([str(path)]), capsys.readouterr().err, "2,500,000,000 elements")


def test_unimplemented_parser_construct(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """xDSL's parser raises NotImplementedError for a dense array of i604 (found by the fuzz)."""
    ir = tmp_path / "odd.mlir"
    ir.write_text("builtin.module attributes {x = array<i604: 1>} {}\n")
    _user_error(pim_opt([str(ir)]), capsys.readouterr().err, "does not implement")
    _user_error(pim_run([str(ir)]), capsys.readouterr().err, "does not implement")


def test_constant_graph_output_cannot_be_partitioned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A graph output that folds to a constant (found by the fuzz): a clear error, no KeyError."""
    model = onnx.load(str(gemm_net(tmp_path / "k.onnx")))
    model.graph.node.append(onnx.helper.make_node("Identity", ["fc.b"], ["k"]))
    model.graph.output.append(onnx.helper.make_tensor_value_info("k", onnx.TensorProto.FLOAT, [5]))
    onnx.save(model, str(tmp_path / "k.onnx"))
    code = pim_opt(
        [str(tmp_path / "k.onnx"), "--chip", "compass-s", "--partition", "-o", "/dev/null"]
    )
    _user_error(code, capsys.readouterr().err, "which no layer computes")
