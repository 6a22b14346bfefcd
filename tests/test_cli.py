"""pim-opt: argv rewriting, inputs, chip/batch attributes, report, output and error paths.

In-process tests call `pimdsl.tools.pim_opt.main(argv)`; a few subprocess tests run the installed
console script to check what a user sees (exit code, no traceback).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest
from xdsl.context import Context
from xdsl.dialects.builtin import FloatAttr, ModuleOp, f32
from xdsl.passes import ModulePass

from pimdsl import module_attrs
from pimdsl.chip import load_preset
from pimdsl.errors import PimError
from pimdsl.tools import opt_driver
from pimdsl.tools.opt_driver import cached_model, rewrite_pass_flags
from pimdsl.tools.pim_opt import main

NET = """\
func.func @main(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %a = nn.relu %x : tensor<1x4xf32> -> tensor<1x4xf32>
  %b = nn.relu %x : tensor<1x4xf32> -> tensor<1x4xf32>
  %c = nn.clip %a {min = 0.000000e+00 : f32, max = 6.000000e+00 : f32} : tensor<1x4xf32> -> tensor<1x4xf32>
  %y = nn.add %c, %b : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
  func.return %y : tensor<1x4xf32>
}
"""

BAD_LINE_4 = """\
// the clip on line 4 has min > max
func.func @main(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %a = nn.relu %x : tensor<1x4xf32> -> tensor<1x4xf32>
  %c = nn.clip %a {min = 7.000000e+00 : f32, max = 6.000000e+00 : f32} : tensor<1x4xf32> -> tensor<1x4xf32>
  func.return %c : tensor<1x4xf32>
}
"""


@pytest.fixture
def net(tmp_path: Path) -> Path:
    path = tmp_path / "net.mlir"
    path.write_text(NET)
    return path


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


# --- test passes, registered for one test at a time -----------------------------------------


def _clips(op: ModuleOp) -> Iterator[object]:
    return (o for o in op.walk() if o.name == "nn.clip")


@dataclass(frozen=True)
class BreakClip(ModulePass):
    """Test pass: sets every clip's min above its max (invalid IR)."""

    name: ClassVar[str] = "test-break-clip"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for clip in _clips(op):
            clip.properties["min"] = FloatAttr(10.0, f32)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class FixClip(ModulePass):
    """Test pass: resets every clip's min to 0."""

    name: ClassVar[str] = "test-fix-clip"
    value: float = 0.0

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        for clip in _clips(op):
            clip.properties["min"] = FloatAttr(self.value, f32)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Refuse(ModulePass):
    """Test pass: raises a user error, as a pass does for a layer no chip can hold."""

    name: ClassVar[str] = "test-refuse"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        raise PimError("layer 'fc1' needs 40 crossbars but a core has 9.", where="net.mlir: @main")


@dataclass(frozen=True)
class Crash(ModulePass):
    """Test pass: has a bug."""

    name: ClassVar[str] = "test-crash"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        raise RuntimeError("bug in a pass")


@pytest.fixture
def test_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    import pimdsl.passes as passes

    ours: dict[str, type[ModulePass]] = {p.name: p for p in (BreakClip, FixClip, Refuse, Crash)}
    upstream = passes.get_all_passes

    def get_all_passes() -> dict[str, Callable[[], type[ModulePass]]]:
        found = upstream()
        for name, cls in ours.items():
            found[name] = lambda cls=cls: cls
        return found

    monkeypatch.setattr(passes, "get_all_passes", get_all_passes)
    monkeypatch.setattr(passes, "PASSES", {**passes.PASSES, **{n: f"tests:{n}" for n in ours}})


# --- argv rewriting -------------------------------------------------------------------------

PASS_NAMES = {"partition", "ga-group", "cse", "dce"}
OPTIONS = {"-o", "-p", "--passes", "--chip", "--batch", "-t", "--print-op-generic", "--report"}


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["m.mlir", "--partition", "--ga-group"], ["-p", "partition,ga-group", "m.mlir"]),
        (["--partition=strategy=greedy", "m.mlir"], ["-p", "partition{strategy=greedy}", "m.mlir"]),
        (["--ga-group=objective=edp seed=7"], ["-p", "ga-group{objective=edp seed=7}"]),
        (["--ga-group={seed=7}"], ["-p", "ga-group{seed=7}"]),
        (["-p", "cse,dce", "--partition"], ["-p", "cse,dce,partition"]),
        (["--partition", "-p", "cse"], ["-p", "partition,cse"]),
        (["-pcse", "--passes=dce"], ["-p", "cse,dce"]),
        (["--partition=", "x.mlir"], ["-p", "partition", "x.mlir"]),
        (["--chip", "compass-s", "--batch", "4"], ["--chip", "compass-s", "--batch", "4"]),
        (["-o", "out.mlir", "--print-op-generic"], ["-o", "out.mlir", "--print-op-generic"]),
        (["--cse", "--", "--dce"], ["-p", "cse", "--", "--dce"]),
        (["x.mlir"], ["x.mlir"]),
    ],
)
def test_rewrite_pass_flags(argv: list[str], expected: list[str]) -> None:
    assert rewrite_pass_flags(argv, PASS_NAMES, OPTIONS) == expected


def test_driver_option_wins_over_pass_of_same_name() -> None:
    assert rewrite_pass_flags(["--report", "r.json"], {"report"}, OPTIONS) == ["--report", "r.json"]


def test_unknown_flag_suggests_a_pass() -> None:
    with pytest.raises(PimError, match="Did you mean --partition"):
        rewrite_pass_flags(["--partiton"], PASS_NAMES, OPTIONS)


def test_option_prefix_is_left_to_argparse() -> None:
    assert rewrite_pass_flags(["--print-op"], PASS_NAMES, OPTIONS) == ["--print-op"]


# --- running ------------------------------------------------------------------------------------


def test_passes_as_flags_run_in_order(net: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run([str(net), "--cse", "--dce", "--print-ir-after-all"], capsys)
    assert code == 0
    assert err.index("IR Dump After cse") < err.index("IR Dump After dce")
    assert out.count("nn.relu") == 1  # cse merged the two relus


def test_pass_options_in_xdsl_syntax(
    net: Path, capsys: pytest.CaptureFixture[str], test_passes: None
) -> None:
    code, out, _ = run([str(net), "--test-fix-clip=value=2.5"], capsys)
    assert code == 0
    assert "min = 2.500000e+00" in out


def test_print_op_generic_output_parses_back(
    net: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    generic = tmp_path / "generic.mlir"
    assert main([str(net), "--print-op-generic", "-o", str(generic)]) == 0
    assert '"nn.clip"' in generic.read_text()
    code, out, _ = run([str(generic)], capsys)
    assert code == 0
    code, again, _ = run([str(net)], capsys)
    assert out == again


def test_verify_between_passes(
    net: Path, capsys: pytest.CaptureFixture[str], test_passes: None
) -> None:
    argv = [str(net), "--test-break-clip", "--test-fix-clip"]
    code, _, err = run(argv, capsys)
    assert code == 1
    assert "after pass 'test-break-clip'" in err
    assert "'nn.clip': min 10.0 is greater than max 6.0" in err
    # --no-verify-each checks only input and output: the second pass repairs the IR in time
    code, out, err = run([*argv, "--no-verify-each"], capsys)
    assert code == 0, err
    assert "min = 0.000000e+00" in out


def test_no_verify_each_still_verifies_the_output(
    net: Path, capsys: pytest.CaptureFixture[str], test_passes: None
) -> None:
    code, _, err = run([str(net), "--test-break-clip", "--no-verify-each"], capsys)
    assert code == 1
    assert "after pass 'test-break-clip'" in err


def test_pim_error_from_a_pass(
    net: Path, capsys: pytest.CaptureFixture[str], test_passes: None
) -> None:
    code, out, err = run([str(net), "--test-refuse"], capsys)
    assert code == 1
    assert (
        err == "pim-opt: error: net.mlir: @main: layer 'fc1' needs 40 crossbars but a core has 9.\n"
    )
    assert out == ""


def test_a_bug_keeps_its_traceback(net: Path, test_passes: None) -> None:
    with pytest.raises(RuntimeError, match="bug in a pass"):
        main([str(net), "--test-crash"])


def test_help_lists_our_passes_first_and_the_chips(
    capsys: pytest.CaptureFixture[str], test_passes: None
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    ours = out.index("test-break-clip")
    assert "Test pass: sets every clip's min above its max" in out
    assert ours < out.index("xDSL passes") < out.index("canonicalize")
    for chip in ("compass-s", "compass-m", "compass-l", "pimcomp-default"):
        assert chip in out[out.index("chip presets") :]


# --- chip and batch ---------------------------------------------------------------------------


def _parse(text: str) -> ModuleOp:
    from xdsl.parser import Parser

    from pimdsl.dialects import context

    return Parser(context(), text).parse_module()


def test_chip_and_batch_are_attached(net: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run([str(net), "--chip", "compass-m", "--batch", "16"], capsys)
    assert code == 0 and err == ""
    module = _parse(out)
    assert module_attrs.get_chip(module) == load_preset("compass-m")
    assert module_attrs.get_batch(module) == 16


def test_flag_replaces_the_module_chip_with_a_note(
    tmp_path: Path, net: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with_chip = tmp_path / "with_chip.mlir"
    assert main([str(net), "--chip", "compass-s", "--batch", "2", "-o", str(with_chip)]) == 0
    capsys.readouterr()
    code, out, err = run([str(with_chip), "--chip", "compass-l"], capsys)
    assert code == 0
    assert err == "pim-opt: note: --chip compass-l replaces the module's chip 'compass-s'.\n"
    module = _parse(out)
    assert module_attrs.get_chip(module) == load_preset("compass-l")
    assert module_attrs.get_batch(module) == 2  # untouched
    code, out, err = run([str(with_chip), "--chip", "compass-s", "--batch", "2"], capsys)
    assert (code, err) == (0, "")  # same values: no note
    code, out, err = run([str(with_chip), "--batch", "8"], capsys)
    assert err == "pim-opt: note: --batch 8 replaces the module's batch 2.\n"


def test_chip_file(tmp_path: Path, net: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chip = tmp_path / "tiny.toml"
    chip.write_text('base = "compass-s"\nname = "tiny"\ncores = 2\n')
    code, out, _ = run([str(net), "--chip", str(chip)], capsys)
    assert code == 0
    assert module_attrs.get_chip(_parse(out)).cores == 2  # type: ignore[union-attr]


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--chip", "compass-q"], ["unknown chip preset 'compass-q'"]),
        (["--batch", "0"], ["--batch must be a positive integer"]),
        (["-p", "cse,partiton-x"], ["unknown pass 'partiton-x'"]),
        (["-p", "cse{bogus=1}"], ["bad pass options", "bogus"]),
        (["-p", "cse{"], ["bad pass pipeline"]),
        (["--cse-x"], ["unknown option or pass '--cse-x'", "Did you mean --cse"]),
        (["--model", "resnet18"], ["not both"]),
    ],
)
def test_user_errors(
    net: Path, capsys: pytest.CaptureFixture[str], extra: list[str], words: list[str]
) -> None:
    code, _, err = run([str(net), *extra], capsys)
    assert code == 1
    assert err.startswith("pim-opt: error: ")
    for word in words:
        assert word in err, err


def test_verify_error_names_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.mlir"
    bad.write_text(BAD_LINE_4)
    code, _, err = run([str(bad)], capsys)
    assert code == 1
    assert err == (
        f"pim-opt: error: {bad}:4: invalid IR: 'nn.clip': min 7.0 is greater than max 6.0\n"
    )


def test_verify_error_line_in_a_split_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "split.mlir"
    bad.write_text(NET + "// -----\n" + BAD_LINE_4)
    code, _, err = run([str(bad), "--split-input-file"], capsys)
    assert code == 1
    line = NET.count("\n") + 1 + 4  # the clip's line in the whole file
    assert f"{bad}:{line}: invalid IR" in err


def test_parse_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.mlir"
    bad.write_text("func.func @main() {\n  %x = nn.nope : tensor<1xf32>\n}\n")
    code, _, err = run([str(bad)], capsys)
    assert code == 1
    assert err.startswith(f"pim-opt: error: parse error: {bad}:2:")
    assert "nn.nope is not registered" in err


def test_unknown_extension_and_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "net.txt"
    other.write_text(NET)
    code, _, err = run([str(other)], capsys)
    assert code == 1 and "reads .mlir and .onnx files" in err
    code, out, _ = run([str(other), "-f", "mlir"], capsys)
    assert code == 0 and "nn.relu" in out
    code, _, err = run([str(tmp_path / "none.mlir")], capsys)
    assert code == 1 and "does not exist" in err


# --- output -----------------------------------------------------------------------------------


def test_output_never_overwrites_the_input(net: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = net.read_text()
    code, _, err = run([str(net), "--cse", "-o", str(net)], capsys)
    assert code == 1 and "refusing to overwrite the input file" in err
    assert net.read_text() == before


def test_failed_run_leaves_the_old_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.mlir"
    bad.write_text(BAD_LINE_4)
    out = tmp_path / "out.mlir"
    out.write_text("previous result\n")
    assert main([str(bad), "-o", str(out)]) == 1
    assert out.read_text() == "previous result\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.mlir", "out.mlir"]  # no scratch file


def test_output_file(net: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.mlir"
    code, stdout, _ = run([str(net), "-o", str(out)], capsys)
    assert code == 0 and stdout == ""
    assert "nn.clip" in out.read_text()
    code, _, err = run([str(net), "-o", str(tmp_path / "no" / "dir.mlir")], capsys)
    assert code == 1 and "does not exist" in err


def test_targets_registry_is_lazy(
    net: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A target registered as "module:Class" (pimdsl.registry) is imported only when chosen."""
    from dataclasses import dataclass
    from typing import ClassVar

    from xdsl.utils.target import Target

    from pimdsl.registry import lazy
    from pimdsl.universe import multiverse

    @dataclass(frozen=True)
    class Count(Target):
        name: ClassVar[str] = "count"

        def emit(self, ctx: object, op: ModuleOp, stream: object) -> None:
            ops = sum(1 for o in op.walk() if o.name.startswith("nn."))
            stream.write(f"{ops} nn ops\n")  # type: ignore[attr-defined]

    module = types.ModuleType("pimdsl_test_target")
    module.Count = Count  # type: ignore[attr-defined]
    monkeypatch.setitem(multiverse().all_targets, "count", lazy("pimdsl_test_target:Count"))
    monkeypatch.setitem(sys.modules, "pimdsl_test_target", module)
    code, out, _ = run([str(net), "-t", "count"], capsys)
    assert (code, out) == (0, "4 nn ops\n")


# --- report -----------------------------------------------------------------------------------


def test_report_is_written_after_the_pipeline(
    net: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[int, str]] = []

    def write_report(module: ModuleOp, dest: str) -> None:
        calls.append((sum(1 for o in module.walk() if o.name == "nn.relu"), dest))

    fake = types.ModuleType("pimdsl.report")
    fake.write_report = write_report  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pimdsl.report", fake)
    code, _, _ = run([str(net), "--cse", "--report", "r.json"], capsys)
    assert code == 0
    assert calls == [(1, "r.json")]  # one relu: the report sees the IR after cse


def test_report_without_the_report_module(
    net: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pimdsl.report", None)  # import fails as if absent
    code, _, err = run([str(net), "--report", "-"], capsys)
    assert code == 1
    assert "--report needs pimdsl.report" in err


# --- ONNX and zoo inputs ----------------------------------------------------------------------


def test_onnx_input_goes_through_the_frontend(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import pimdsl.frontend as frontend

    seen: list[str] = []

    def import_onnx(path: str, **options: object) -> ModuleOp:
        seen.append(path)
        return _parse(NET)

    monkeypatch.setattr(frontend, "import_onnx", import_onnx, raising=False)
    model = tmp_path / "m.onnx"
    model.write_bytes(b"not read by the driver")
    code, out, _ = run([str(model), "--chip", "compass-s"], capsys)
    assert code == 0
    assert seen == [str(model)]
    assert module_attrs.get_chip(_parse(out)) == load_preset("compass-s")


def test_zoo_model_is_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pimdsl.models as models

    saved: list[str] = []

    def save_model(name: str, path: str) -> None:
        saved.append(name)
        Path(path).write_bytes(b"onnx:" + name.encode())

    monkeypatch.setattr(models, "save_model", save_model, raising=False)
    monkeypatch.setenv("PIMDSL_CACHE", str(tmp_path / "cache"))
    old = tmp_path / "cache" / "models" / "tiny-0123456789"  # built by an older zoo
    old.mkdir(parents=True)
    keep = tmp_path / "cache" / "models" / "tiny-extra-0123456789"  # another model
    keep.mkdir()
    first = cached_model("tiny")
    second = cached_model("tiny")
    assert first == second and saved == ["tiny"]
    assert first.read_bytes() == b"onnx:tiny"
    assert first.is_relative_to(tmp_path / "cache")
    left = sorted(p.name for p in first.parent.parent.iterdir())
    assert left == sorted([first.parent.name, keep.name])  # no scratch, no stale copy


def test_model_flag_imports_the_cached_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import pimdsl.frontend as frontend
    import pimdsl.models as models

    imported: list[str] = []
    monkeypatch.setattr(
        models, "save_model", lambda name, path: Path(path).write_bytes(b"x"), raising=False
    )
    monkeypatch.setattr(
        frontend,
        "import_onnx",
        lambda path, **options: imported.append(path) or _parse(NET),
        raising=False,
    )
    monkeypatch.setenv("PIMDSL_CACHE", str(tmp_path))
    code, out, _ = run(["--model", "tiny"], capsys)
    assert code == 0 and "nn.relu" in out
    assert Path(imported[0]) == opt_driver.cached_model("tiny")


def test_list_models(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import pimdsl.models as models

    monkeypatch.setattr(models, "save_model", lambda name, path: None, raising=False)
    monkeypatch.setattr(models, "list_models", lambda: ["vgg16", "mlp"], raising=False)
    code, out, _ = run(["--list-models"], capsys)
    assert (code, out) == (0, "mlp\nvgg16\n")


@pytest.mark.skipif(
    not hasattr(__import__("pimdsl.frontend", fromlist=["x"]), "import_onnx"),
    reason="pimdsl.frontend.import_onnx is not written yet",
)
def test_real_onnx_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A one-node ONNX graph built by hand goes through the real frontend."""
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])],
    )
    path = tmp_path / "relu.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    code, out, err = run([str(path)], capsys)
    assert code == 0, err
    assert "nn.relu" in out


# --- the installed console script ---------------------------------------------------------------

PIM_OPT = shutil.which("pim-opt", path=str(Path(sys.executable).parent)) or "pim-opt"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--no-such-pass"], "unknown option or pass"),
        (["-p", "no-such-pass"], "unknown pass 'no-such-pass'"),
        (["--chip", "compass-q"], "unknown chip preset"),
    ],
)
def test_console_script_errors(net: Path, argv: list[str], message: str) -> None:
    proc = subprocess.run([PIM_OPT, str(net), *argv], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1  # one paragraph


def test_console_script_verify_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mlir"
    bad.write_text(BAD_LINE_4)
    proc = subprocess.run([PIM_OPT, str(bad)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert f"{bad}:4:" in proc.stderr and "Traceback" not in proc.stderr


def test_console_script_reads_stdin() -> None:
    proc = subprocess.run([PIM_OPT, "--cse"], input=NET, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("nn.relu") == 1


# --- the summary target -----------------------------------------------------------------------

SMALL = """\
func.func @main(%x: tensor<1x3x4x4xf32>) -> tensor<1x10xf32> {
  %w = nn.weight "w" : tensor<4x3x3x3xf32>
  %b = nn.weight "b" : tensor<4xf32>
  %y = nn.conv2d %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x3x4x4xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32>
  %f = nn.flatten %y {axis = 1 : i64} : tensor<1x4x4x4xf32> -> tensor<1x64xf32>
  %fw = nn.weight "fw" : tensor<10x64xf32>
  %o = nn.linear %f, %fw : (tensor<1x64xf32>, tensor<10x64xf32>) -> tensor<1x10xf32>
  func.return %o : tensor<1x10xf32>
}
"""


def test_summary_target(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    small = tmp_path / "small.mlir"
    small.write_text(SMALL)
    code, out, _ = run([str(small), "-t", "summary", "--chip", "compass-s"], capsys)
    assert code == 0
    lines = out.splitlines()
    # by hand: conv 4*3*3*3 = 108, bias 4, linear 10*64 = 640
    assert lines[0] == "ops         3 nn ops (3 weight/constant references)"
    assert lines[1] == "layers      2 weight layers (1 conv2d, 1 linear)"
    assert lines[2] == "parameters  752 (748 in weight layers)"
    assert lines[3].startswith("chip        compass-s: 16 cores x 9 crossbars of 256x256, 1.125 MB")
    assert lines[4].endswith("fits on chip at once")


def test_summary_of_a_network_too_big_for_the_chip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    small = tmp_path / "small.mlir"
    small.write_text(SMALL)
    chip = tmp_path / "tiny.toml"  # one 8x8 crossbar of 1-bit cells: 8 bytes
    chip.write_text(
        'base = "compass-s"\ncores = 1\ncrossbars_per_core = 1\ncrossbar_rows = 8\ncrossbar_cols = 8\n'
    )
    code, out, _ = run([str(small), "-t", "summary", "--chip", str(chip)], capsys)
    assert code == 0
    # 748 weights x 4 bits = 374 bytes = 46.75 x 8 bytes
    assert "(46.75x the crossbars, before tiling losses): does not fit" in out


# --- review findings: user-acceptance fixes ---------------------------------------------------


def _mlp_onnx(path: Path, opset: int = 13, batch: int = 1) -> Path:
    """A two-layer MLP (Gemm 48->8, Relu, Gemm 8->4) with its weights inside the file."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    inits = [
        numpy_helper.from_array(rng.standard_normal(s).astype(np.float32), n)
        for n, s in (("w1", (8, 48)), ("b1", (8,)), ("w2", (4, 8)), ("b2", (4,)))
    ]
    graph = helper.make_graph(
        [
            helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], transB=1, name="fc1"),
            helper.make_node("Relu", ["h"], ["r"], name="relu"),
            helper.make_node("Gemm", ["r", "w2", "b2"], ["y"], transB=1, name="fc2"),
        ],
        "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 48])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 4])],
        inits,
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)]), str(path))
    return path


TINY_CHIP = (
    'base = "compass-s"\ncrossbar_rows = 16\ncrossbar_cols = 16\ncrossbars_per_core = 2\n'
    "cores = {cores}\n"
)


def _tiny(tmp_path: Path, cores: int = 2) -> Path:
    """compass-s shrunk to 16x16 crossbars, 2 per core: the MLP needs several partitions."""
    path = tmp_path / f"tiny{cores}.toml"
    path.write_text(TINY_CHIP.format(cores=cores))
    return path


def _report(path: Path) -> dict[str, object]:
    import json

    return json.loads(path.read_text())


def test_changed_batch_recosts_partition_ir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A1: partitions made at batch 16, relabelled --batch 1: the report is the batch-1 cost of
    the same grouping (= partitioning at batch 1 from scratch; greedy does not depend on the
    batch), not the batch-16 latency divided by 1."""
    model, chip = _mlp_onnx(tmp_path / "mlp.onnx"), _tiny(tmp_path)
    part16 = tmp_path / "p16.mlir"
    assert (
        run(
            [str(model), "--chip", str(chip), "--batch", "16", "--partition", "-o", str(part16)],
            capsys,
        )[0]
        == 0
    )
    code, _, err = run(
        [
            str(part16),
            "--batch",
            "1",
            "--report",
            str(tmp_path / "relabel.json"),
            "-o",
            str(tmp_path / "p1.mlir"),
        ],
        capsys,
    )
    assert code == 0, err
    assert "costed again" in err
    assert (
        run(
            [
                str(model),
                "--chip",
                str(chip),
                "--batch",
                "1",
                "--partition",
                "--report",
                str(tmp_path / "fresh.json"),
                "-o",
                "-",
            ],
            capsys,
        )[0]
        == 0
    )
    relabel, fresh = _report(tmp_path / "relabel.json"), _report(tmp_path / "fresh.json")
    assert relabel["batch"] == 1
    assert relabel["totals"] == pytest.approx(fresh["totals"])  # type: ignore[arg-type]
    assert relabel["partitions"] == fresh["partitions"]
    # the saved batch-1 IR carries the batch-1 costs too: its report needs no recomputation note
    code, _, err = run(
        [str(tmp_path / "p1.mlir"), "--report", str(tmp_path / "again.json"), "-o", "-"], capsys
    )
    assert code == 0 and "differ" not in err
    assert _report(tmp_path / "again.json") == relabel


def test_changed_chip_on_partition_ir_that_no_longer_fits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model, chip, small = _mlp_onnx(tmp_path / "mlp.onnx"), _tiny(tmp_path), _tiny(tmp_path, cores=1)
    part = tmp_path / "p.mlir"
    assert run([str(model), "--chip", str(chip), "--partition", "-o", str(part)], capsys)[0] == 0
    code, out, err = run([str(part), "--chip", str(small), "--report", "-"], capsys)
    assert code == 1 and out == ""
    assert "not legal on chip 'tiny1'" in err and "--partition" in err
    # re-partitioning in the same command is what the error asks for: it works
    code, out, err = run(
        [str(part), "--chip", str(small), "--partition", "--report", str(tmp_path / "r.json")],
        capsys,
    )
    assert code == 0, err
    assert _report(tmp_path / "r.json")["chip"] == "tiny1"


def test_weight_path_follows_the_output_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A5: `cd /tmp && pim-opt ux/mlp.onnx -o /tmp/ux/sub/mlp.mlir; cd / && pim-run ...`."""
    from pimdsl.tools.pim_run import main as pim_run

    (tmp_path / "ux" / "sub").mkdir(parents=True)
    _mlp_onnx(tmp_path / "ux" / "mlp.onnx")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "ux" / "sub" / "mlp.mlir"
    assert run(["ux/mlp.onnx", "-o", str(out)], capsys)[0] == 0
    assert module_attrs.get_weights(_parse(out.read_text())) == ["../mlp.onnx"]
    # an .mlir input names its weights relative to itself; -o elsewhere rebases them again
    (tmp_path / "other").mkdir()
    assert run([str(out), "-o", str(tmp_path / "other" / "m.mlir")], capsys)[0] == 0
    assert module_attrs.get_weights(_parse((tmp_path / "other" / "m.mlir").read_text())) == [
        "../ux/mlp.onnx"
    ]
    # stdout: resolvable from the current directory
    code, text, _ = run([str(out)], capsys)
    assert code == 0 and module_attrs.get_weights(_parse(text)) == ["ux/mlp.onnx"]
    monkeypatch.chdir("/")  # anywhere else: pim-run still finds them
    assert pim_run([str(out), "--compare-onnxruntime"]) == 0
    assert "matches onnxruntime" in capsys.readouterr().out


def test_report_table_goes_to_stderr_when_the_ir_goes_to_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """E2 and D4: stdout stays parseable IR; the table's total row says it is per batch."""
    model, chip = _mlp_onnx(tmp_path / "mlp.onnx"), _tiny(tmp_path)
    code, out, err = run(
        [str(model), "--chip", str(chip), "--batch", "4", "--partition", "--report", "-"], capsys
    )
    assert code == 0
    _parse(out)  # parses: nothing but IR on stdout
    assert "partition.partition" in out
    assert "inf/s" in err and "batch total" in err and "per inference" in err
    assert "inf/s" not in out
    code, out, err = run(
        [
            str(model),
            "--chip",
            str(chip),
            "--partition",
            "--report",
            "-",
            "-o",
            str(tmp_path / "p.mlir"),
        ],
        capsys,
    )
    assert code == 0 and "inf/s" in out and "inf/s" not in err


def test_binary_input_as_mlir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = _mlp_onnx(tmp_path / "mlp.onnx")
    (tmp_path / "x.mlir").write_bytes(model.read_bytes())
    for argv in ([str(tmp_path / "x.mlir")], [str(model), "-f", "mlir"]):
        code, _, err = run(argv, capsys)
        assert code == 1 and "is not a text .mlir file" in err, err


def test_output_and_input_folders(
    net: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run([str(net), "-o", str(tmp_path)], capsys)
    assert code == 1 and "is a folder" in err
    code, _, err = run([str(tmp_path)], capsys)
    assert code == 1 and "is a folder" in err


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="needs /proc (Linux)")
def test_output_in_a_folder_that_cannot_hold_files(
    net: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run([str(net), "-o", "/proc/x.mlir"], capsys)
    assert code == 1 and "cannot write -o '/proc/x.mlir'" in err


def test_upstream_targets_are_hidden(net: Path) -> None:
    for target in ("llvm", "arm-asm", "riscv-asm", "x86-asm", "mps"):
        with pytest.raises(SystemExit) as info:
            main([str(net), "-t", target])
        assert info.value.code == 2


def test_failing_upstream_pass_is_named(net: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run([str(net), "-p", "mlir-opt"], capsys)
    assert code == 1
    assert "the xDSL pass 'mlir-opt' failed" in err and "Traceback" not in err


def test_batch_beyond_i64(net: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run([str(net), "--batch", str(10**23)], capsys)
    assert code == 1 and "--batch 1000" in err and "too large" in err


def test_pass_option_syntax_error_hints_at_quoting(
    net: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run([str(net), "--ga-group=trace=t.json"], capsys)
    assert code == 1 and err.startswith("pim-opt: error:")
    assert 'trace="t.json"' in err and "spaces, not commas" in err


def test_newer_onnx_opset_warns(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import onnx

    model = _mlp_onnx(tmp_path / "new.onnx", opset=onnx.defs.onnx_opset_version() + 2)
    code, out, err = run([str(model)], capsys)
    assert code == 0 and "nn.linear" in out
    assert "warning" in err and f"opset {onnx.defs.onnx_opset_version() + 2}" in err
    code, _, err = run([str(_mlp_onnx(tmp_path / "old.onnx"))], capsys)
    assert code == 0 and "warning" not in err


def test_models_main_output_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pimdsl.models.__main__ import main as models_main

    assert models_main(["mlp", "-o", str(tmp_path / "missing" / "m.onnx")]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert models_main(["mlp", "-o", str(tmp_path)]) == 1
    assert "is a folder" in capsys.readouterr().err
    assert models_main(["mlp", "--seed", "-1", "-o", str(tmp_path / "m.onnx")]) == 1
    assert "--seed must be >= 0" in capsys.readouterr().err


def test_batch_counts_images_whatever_the_graph_batch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A6: --batch 4 is 4 inferences for a graph of static batch 1 and of static batch 2 alike."""
    from pimdsl.tools.pim_run import main as pim_run

    chip = _tiny(tmp_path)
    reports = []
    for n0 in (1, 2):
        model = _mlp_onnx(tmp_path / f"mlp{n0}.onnx", batch=n0)
        dest = tmp_path / f"r{n0}.json"
        assert (
            run(
                [
                    str(model),
                    "--chip",
                    str(chip),
                    "--batch",
                    "4",
                    "--partition",
                    "--report",
                    str(dest),
                    "-o",
                    str(tmp_path / f"p{n0}.mlir"),
                ],
                capsys,
            )[0]
            == 0
        )
        reports.append(_report(dest)["totals"])
        assert (
            pim_run([str(tmp_path / f"p{n0}.mlir"), "--output", str(tmp_path / f"y{n0}.npy")]) == 0
        )
        assert "input 0: shape [4, 48]" in capsys.readouterr().out  # pim.batch = 4 images
    assert reports[0] == pytest.approx(reports[1])
