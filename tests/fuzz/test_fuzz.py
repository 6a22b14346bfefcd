"""Seeded fuzzing of pim-opt and pim-run: every case must end in a clean error or a correct
result, never a traceback, a hang, a memory blow-up, a changed input file or invalid JSON.

The CI share: CASES cases per class (IR at the four levels, ONNX, chip files, options, .npy
inputs), run in a worker process that keeps xDSL imported (tests/fuzz/fuzz_worker.py). The
counts per class and verdict are printed (pytest -s, or the captured output of a failure).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import fuzz_cases
import pytest
from fuzz_harness import Case, Outcome, Worker, failures, run_case, summary

SEED = int(os.environ.get("PIMDSL_FUZZ_SEED", "0"))
CASES = {
    "ir-nn": 40,
    "ir-partition": 40,
    "ir-crossbar": 30,
    "ir-pim_isa": 40,
    "onnx": 50,
    "chip": 40,
    "options": 50,
    "npy": 40,
    "valid": 40,
}
LONG_FACTOR = 10


@pytest.fixture(scope="module")
def worker() -> Iterator[Worker]:
    w = Worker(timeout=float(os.environ.get("PIMDSL_FUZZ_TIMEOUT", "60")))
    yield w
    w.close()


@pytest.fixture(scope="module")
def base(worker: Worker, tmp_path_factory: pytest.TempPathFactory) -> fuzz_cases.Base:
    folder = tmp_path_factory.mktemp("fuzz-base")

    def compile_ir(argv: list[str], cwd: str) -> None:
        reply = worker.request(Case("base", "pim-opt", argv, cwd))
        assert isinstance(reply, dict) and reply["code"] == 0, reply

    return fuzz_cases.Base(folder, compile_ir)


def _cases(base: fuzz_cases.Base, root: Path, kind: str, n: int) -> list[Case]:
    return fuzz_cases.cases(kind, base, root, n, SEED)


def _run(worker: Worker, cases: list[Case]) -> list[Outcome]:
    outcomes = [run_case(worker, c) for c in cases]
    print(f"\nfuzz seed {SEED}:\n{summary(outcomes)}")
    bad = failures(outcomes)
    assert not bad, f"{summary(outcomes)}\n\n{bad}"
    return outcomes


@pytest.mark.parametrize("kind", sorted(CASES))
def test_fuzz(kind: str, worker: Worker, base: fuzz_cases.Base, tmp_path: Path) -> None:
    _run(worker, _cases(base, tmp_path, kind, CASES[kind]))


@pytest.mark.fuzz_long
@pytest.mark.parametrize("kind", sorted(CASES))
def test_fuzz_long(kind: str, worker: Worker, base: fuzz_cases.Base, tmp_path: Path) -> None:
    _run(worker, _cases(base, tmp_path, kind, CASES[kind] * LONG_FACTOR))
