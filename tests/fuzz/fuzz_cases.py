"""Seeded generators of hostile inputs, one module per class: mutated IR at all four levels
(fuzz_ir), mutated ONNX models (fuzz_onnx), chip files and .npy inputs (fuzz_files), options and
valid option combinations (fuzz_commands). Each generator returns `Case`s whose files are
written into their own folder, so outputs and "the input did not change" are checked per case.

Same seed, same cases: a failure is reproduced by its seed and index.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fuzz_base import LEVELS, Base
from fuzz_commands import options_cases, valid_cases
from fuzz_files import chip_cases, npy_cases
from fuzz_harness import Case
from fuzz_ir import ir_cases
from fuzz_onnx import onnx_cases

Generator = Callable[[Base, Path, int, int], list[Case]]

GENERATORS: dict[str, Generator] = {
    **{f"ir-{level}": (lambda b, r, n, s, lv=level: ir_cases(b, r, lv, n, s)) for level in LEVELS},
    "onnx": onnx_cases,
    "chip": chip_cases,
    "options": options_cases,
    "npy": npy_cases,
    "valid": valid_cases,
}


def cases(kind: str, base: Base, root: Path, n: int, seed: int) -> list[Case]:
    """`n` cases of class `kind` for `seed`."""
    return GENERATORS[kind](base, root, n, seed)
