"""`python -m pimdsl` and `--version` on both tools."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version

import pimdsl


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pimdsl", *args], capture_output=True, text=True, timeout=120
    )


def test_versions_name_pimdsl_and_xdsl() -> None:
    for tool in ("opt", "run"):
        done = run(tool, "--version")
        assert done.returncode == 0, done.stderr
        assert (
            done.stdout.strip()
            == f"pim-{tool} (pimdsl {pimdsl.__version__}, xDSL {version('xdsl')})"
        )


def test_python_m_pimdsl_runs_the_tools() -> None:
    done = run("opt", "--list-chips")
    assert done.returncode == 0 and "compass-s" in done.stdout
    done = run()
    assert done.returncode == 0 and "python -m pimdsl {opt,run}" in done.stdout
    done = run("simulate")
    assert done.returncode == 2 and "unknown tool 'simulate'" in done.stderr
