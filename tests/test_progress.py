"""pimdsl.progress (plain lines without a terminal, silent when quiet) and the tools' -v/-q."""

from __future__ import annotations

import time

import pytest

from pimdsl import progress


def test_counter_lines_and_quiet(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with progress.counter("tool", 3, "three parts", "part") as tick:
        for i in range(1, 4):
            tick(i, f"at {i}")
    assert capsys.readouterr().err == ""  # short, not a terminal: silent
    monkeypatch.setattr(progress, "QUIET_SECONDS", 0.0)
    monkeypatch.setattr(progress, "LINE_SECONDS", 0.0)
    with progress.counter("tool", 3, "three parts", "part") as tick:
        for i in range(1, 4):
            tick(i, f"at {i}")
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "tool: three parts"
    assert [ln.rsplit(",", 1)[0] for ln in lines[1:4]] == [
        f"tool: part {i}/3, at {i}" for i in (1, 2, 3)
    ]
    assert lines[4].startswith("tool: done in ") and lines[4].endswith("after 3 parts, at 3")
    with progress.quiet(), progress.counter("tool", 3, "x") as tick:
        tick(1, "y")
    assert capsys.readouterr().err == ""


def test_step_says_what_runs_only_when_it_is_long(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with progress.step("tool", "quick work"):
        pass
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(progress, "QUIET_SECONDS", 0.05)
    with progress.step("tool", "slow work"):
        time.sleep(0.3)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "tool: slow work ..."
    assert lines[1].startswith("tool: slow work done in ")
    progress.set_quiet(True)
    try:
        with progress.step("tool", "slow work"):
            time.sleep(0.1)
    finally:
        progress.set_quiet(False)
    assert capsys.readouterr().err == ""


def test_pim_opt_verbose_and_quiet(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    from pimdsl.tools import pim_opt

    args = ["--model", "mlp", "--chip", "compass-s", "--partition", "-o", str(tmp_path / "o.mlir")]
    assert pim_opt.main([*args, "-v"]) == 0
    err = capsys.readouterr().err
    assert "pim-opt: pass partition: " in err
    assert pim_opt.main([*args, "-q"]) == 0
    assert capsys.readouterr().err == ""
    assert pim_opt.main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("pim-opt (pimdsl ")
