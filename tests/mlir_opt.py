"""Run LLVM's mlir-opt on generic-form IR, for the round-trip tests (skipped without it)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

MLIR_OPT = shutil.which("mlir-opt-19") or shutil.which("mlir-opt")

needs_mlir_opt = pytest.mark.skipif(
    MLIR_OPT is None, reason="mlir-opt (LLVM 19) is not installed (apt install mlir-19-tools)"
)


def mlir_opt_generic(path: Path) -> str:
    """mlir-opt's generic print of the generic-form file `path`, our dialects unregistered."""
    assert MLIR_OPT is not None
    return subprocess.run(
        [MLIR_OPT, "--allow-unregistered-dialect", "--mlir-print-op-generic", str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
