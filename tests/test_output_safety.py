"""Nothing the user gave is ever lost: every file the tools write goes through pimdsl.output,
never over an input or the weight file, renamed into place only when the command succeeded,
no scratch file left on failure or SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from reliability_net import compile_levels, gemm_net

from pimdsl import output
from pimdsl.errors import PimError
from pimdsl.tools.pim_opt import main as pim_opt
from pimdsl.tools.pim_run import main as pim_run


@pytest.fixture
def net(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    monkeypatch.chdir(tmp_path)
    return compile_levels(tmp_path)


def _digests(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def _no_scratch(folder: Path) -> None:
    assert output.scratch_files(folder) == []


def test_report_never_rewrites_the_input(
    net: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    before = net["nn"].read_bytes()
    assert pim_opt([str(net["nn"]), "--partition", "--report", str(net["nn"])]) == 1
    assert "refusing to overwrite the input file" in capsys.readouterr().err
    assert net["nn"].read_bytes() == before


@pytest.mark.parametrize("option", ["-o", "--report"])
def test_pim_opt_never_writes_the_weight_file(
    net: dict[str, Path], option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = net["nn"].parent
    os.link(net["onnx"], folder / "hard.onnx")
    before = _digests(folder)
    for target in (net["onnx"], folder / "hard.onnx"):
        assert pim_opt([str(net["nn"]), "--partition", option, str(target)]) == 1
        assert "weight file (pim.weights)" in capsys.readouterr().err
    assert _digests(folder) == before


@pytest.mark.parametrize("option", ["--output", "--stats"])
def test_pim_run_never_writes_an_input(
    net: dict[str, Path], option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = net["nn"].parent
    before = _digests(folder)
    for target in (net["onnx"], net["pim_isa"]):
        assert pim_run([str(net["pim_isa"]), option, str(target)]) == 1
        assert "refusing to overwrite" in capsys.readouterr().err
    assert _digests(folder) == before


def test_a_failing_run_replaces_nothing(
    net: dict[str, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--stats and --output are staged: the run fails after the timing simulation (where the
    stats used to be written at once) and both old files survive."""
    folder = net["nn"].parent
    (folder / "s.json").write_text("old stats")
    (folder / "y.npy").write_text("old output")
    import pimdsl.sim.runner as runner

    def fail(*args: object, **kwargs: object) -> None:
        raise PimError("injected failure after the timing run")

    monkeypatch.setattr(runner, "run_batched", fail)
    assert pim_run([str(net["pim_isa"]), "--stats", "s.json", "--output", "y.npy"]) == 1
    assert "injected failure" in capsys.readouterr().err
    assert (folder / "s.json").read_text() == "old stats"
    assert (folder / "y.npy").read_text() == "old output"
    _no_scratch(folder)


def test_ga_trace_is_written_only_when_the_command_succeeds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    gemm_net(tmp_path / "alpha.onnx", alpha=2.0)  # imports, partitions, then fails to lower
    (tmp_path / "t.json").write_text("old trace")
    (tmp_path / "out.mlir").write_text("old output")
    ga = '--ga-group=generations=2 population=4 keep=2 trace="t.json"'
    assert (
        pim_opt(
            [
                "alpha.onnx",
                "--chip",
                "compass-s",
                "--partition",
                ga,
                "--lower-to-isa",
                "-o",
                "out.mlir",
            ]
        )
        == 1
    )
    assert (tmp_path / "t.json").read_text() == "old trace"
    assert (tmp_path / "out.mlir").read_text() == "old output"
    _no_scratch(tmp_path)
    assert pim_opt(["alpha.onnx", "--chip", "compass-s", "--partition", ga, "-o", "out.mlir"]) == 0
    assert (tmp_path / "t.json").read_text().startswith("{")


def test_two_outputs_to_one_file(net: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert pim_opt([str(net["nn"]), "--partition", "--report", "r.json", "-o", "r.json"]) == 1
    assert "name the same file" in capsys.readouterr().err


@pytest.mark.parametrize(
    "target, message", [("/dev/full", "No space left"), ("", "empty file name")]
)
def test_unwritable_outputs_are_user_errors(
    net: dict[str, Path], target: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert pim_opt([str(net["nn"]), "-o", target]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert pim_run([str(net["pim_isa"]), "--stats", target]) == 1
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_device_targets_are_written_through(net: dict[str, Path]) -> None:
    assert pim_opt([str(net["nn"]), "-o", "/dev/null"]) == 0
    assert Path("/dev/null").exists() and not Path("/dev/null").is_file()


def test_outputs_library_use_is_atomic(tmp_path: Path) -> None:
    target = tmp_path / "a.json"
    output.write_text(target, "--report", "new")
    assert target.read_text() == "new"
    _no_scratch(tmp_path)


def test_session_discards_on_error(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), output.session("test"):
        output.write_text(target, "-o", "new")
        assert len(output.scratch_files(tmp_path)) == 1
        raise RuntimeError("boom")
    assert target.read_text() == "old"
    _no_scratch(tmp_path)


SIGTERM_SCRIPT = """
import sys, time
from pimdsl import output
with output.session("test") as out:
    output.write_text("out.txt", "-o", "new")
    print("staged", flush=True)
    time.sleep(60)
    out.commit()
"""


def test_sigterm_leaves_no_scratch_and_the_old_file(tmp_path: Path) -> None:
    (tmp_path / "out.txt").write_text("old")
    proc = subprocess.Popen(
        [sys.executable, "-c", SIGTERM_SCRIPT],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "staged"
    assert len(output.scratch_files(tmp_path)) == 1
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 128 + signal.SIGTERM
    assert (tmp_path / "out.txt").read_text() == "old"
    _no_scratch(tmp_path)


def test_a_failing_device_output_replaces_no_file(
    net: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """--report r.json -o /dev/full: the device write fails at commit, before the rename."""
    folder = net["nn"].parent
    (folder / "r.json").write_text("old report")
    assert pim_opt([str(net["nn"]), "--partition", "--report", "r.json", "-o", "/dev/full"]) == 1
    assert "No space left" in capsys.readouterr().err
    assert (folder / "r.json").read_text() == "old report"
    _no_scratch(folder)
