"""Run fuzz cases against pim-opt / pim-run and classify each outcome.

A case is a command line plus the files it reads. The outcome classes:

- `ok`: exit 0; every JSON file the case writes is strict JSON;
- `clean-error`: exit 1 (or argparse's 2) with one `tool: error: ...` paragraph, no traceback;
- `mismatch`: pim-run --compare-onnxruntime exit 2 (a wrong result);
- `traceback`: an exception escaped, exit 3 ("internal error"), or "Traceback" on stderr;
- `hang`: no answer within the time limit (the worker is killed and restarted);
- `memory`: a MemoryError under the worker's address-space limit, or the worker died;
- `input-changed`: a file the case reads differs afterwards (or a scratch file was left);
- `bad-json`: exit 0 but a JSON output holds NaN/Infinity or does not parse;
- `refused-valid`: a valid command (the `valid` class) ended in an error.

Only `ok` and `clean-error` are acceptable.
"""

from __future__ import annotations

import hashlib
import json
import os
import select
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

WORKER = Path(__file__).with_name("fuzz_worker.py")
ACCEPTABLE = ("ok", "clean-error")
SCRATCH_GLOB = ".pimdsl-*.tmp"
MEMORY_MB = 2500.0  # a worker beyond this resident size is a memory blow-up


@dataclass
class Case:
    kind: str  # the generator's class: ir-nn, onnx, chip, options, npy, ...
    tool: str  # pim-opt | pim-run
    argv: list[str]
    cwd: str
    reads: list[str] = field(default_factory=list)  # files that must not change
    json_outputs: list[str] = field(default_factory=list)  # checked for strict JSON on success
    note: str = ""  # what was mutated, for the failure message
    expect_ok: bool = False  # a valid command: a clean error is a failure too


@dataclass
class Outcome:
    case: Case
    verdict: str
    detail: str = ""
    seconds: float = 0.0
    max_rss_mb: float = 0.0


def _digest(path: str) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def _strict_json_problem(path: str) -> str | None:
    def refuse(token: str) -> float:
        raise ValueError(f"non-finite number {token}")

    try:
        json.loads(Path(path).read_text(), parse_constant=refuse)
    except FileNotFoundError:
        return None
    except (ValueError, OSError) as exc:
        return f"{path}: {exc}"
    return None


class Worker:
    """One fuzz_worker.py process; restarted after a hang or a crash."""

    def __init__(self, timeout: float = 30.0):
        self.timeout = timeout
        self.proc: subprocess.Popen[str] | None = None

    def _start(self) -> subprocess.Popen[str]:
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
        return subprocess.Popen(
            [sys.executable, str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
            bufsize=1,
        )

    def close(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def request(self, case: Case) -> dict[str, object] | str:
        """The worker's reply, or "hang" / "died"."""
        if self.proc is None or self.proc.poll() is not None:
            self.proc = self._start()
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(
            json.dumps({"tool": case.tool, "argv": case.argv, "cwd": case.cwd}) + "\n"
        )
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], self.timeout)
        if not ready:
            self.close()
            return "hang"
        line = self.proc.stdout.readline()
        if not line:
            self.close()
            return "died"
        return json.loads(line)


def classify(case: Case, reply: dict[str, object] | str) -> tuple[str, str]:
    if reply == "hang":
        return "hang", "no answer within the time limit"
    if reply == "died":
        return "memory", "the worker died (killed, out of memory?)"
    assert isinstance(reply, dict)
    code = int(reply["code"])  # type: ignore[arg-type]
    err = str(reply["stderr"])
    exc = reply.get("exception")
    text = f"{err}\n{exc or ''}"
    if "MemoryError" in text:
        return "memory", text[-800:]
    if exc or code in (3, 99) or "Traceback" in err:
        return "traceback", text[-1500:]
    if code == 0:
        ir_out = {case.argv[i + 1] for i, a in enumerate(case.argv[:-1]) if a == "-o"}
        for path in (p for p in case.json_outputs if p not in ir_out):
            problem = _strict_json_problem(os.path.join(case.cwd, path))
            if problem:
                return "bad-json", problem
        return "ok", ""
    if code == 2 and "MISMATCH" in err:
        return "mismatch", err[-800:]
    if code == 2 and "usage:" in err:
        return "clean-error", ""
    prefix = f"{case.tool}: error: "
    if code == 1 and prefix in err:
        return "clean-error", ""
    return "traceback", f"exit {code} without a one-paragraph error: {text[-800:]}"


def run_case(worker: Worker, case: Case) -> Outcome:
    before = {p: _digest(os.path.join(case.cwd, p)) for p in case.reads}
    start = time.monotonic()
    reply = worker.request(case)
    seconds = time.monotonic() - start
    verdict, detail = classify(case, reply)
    if case.expect_ok and verdict == "clean-error":
        verdict, detail = (
            "refused-valid",
            str(reply.get("stderr", ""))[-800:] if isinstance(reply, dict) else "",
        )
    rss = float(reply.get("max_rss_kb", 0)) / 1024 if isinstance(reply, dict) else 0.0  # type: ignore[arg-type]
    if verdict in ACCEPTABLE and rss > MEMORY_MB:
        verdict, detail = "memory", f"the worker grew to {rss:.0f} MB"
        worker.close()  # a fresh worker for the next case: ru_maxrss never goes down
    if verdict in ACCEPTABLE:
        # a successful command may replace the files it was told to write, nothing else
        written = named_outputs(case.argv) if verdict == "ok" else set()
        changed = [
            p
            for p, d in before.items()
            if p not in written and _digest(os.path.join(case.cwd, p)) != d
        ]
        left = sorted(str(p) for p in Path(case.cwd).rglob(SCRATCH_GLOB))
        if changed or left:
            verdict, detail = "input-changed", f"changed {changed}, scratch files left {left}"
    return Outcome(case, verdict, detail, seconds, rss)


OUTPUT_OPTIONS = ("-o", "--report", "--stats", "--output")


def named_outputs(argv: list[str]) -> set[str]:
    """The files a command line names as outputs (-o X, --report X, trace="X", ...)."""
    import re

    names = {argv[i + 1] for i, a in enumerate(argv[:-1]) if a in OUTPUT_OPTIONS}
    for a in argv:
        names.update(re.findall(r'(?:trace|plot)="([^"]*)"', a))
    return names


def summary(outcomes: list[Outcome]) -> str:
    """Counts per generator kind and verdict, one line per kind."""
    table: dict[str, Counter[str]] = {}
    for o in outcomes:
        table.setdefault(o.case.kind, Counter())[o.verdict] += 1
    lines = []
    total: Counter[str] = Counter()
    for kind in sorted(table):
        total.update(table[kind])
        counts = ", ".join(f"{v} {n}" for v, n in sorted(table[kind].items()))
        lines.append(f"  {kind:<12} {sum(table[kind].values()):4d} cases: {counts}")
    lines.append(
        f"  {'all':<12} {sum(total.values()):4d} cases: "
        + ", ".join(f"{v} {n}" for v, n in sorted(total.items()))
    )
    if outcomes:
        slow = max(outcomes, key=lambda o: o.seconds)
        lines.append(
            f"  slowest case {slow.seconds:.1f} s ({slow.case.kind}: {slow.case.note}); "
            f"largest worker {max(o.max_rss_mb for o in outcomes):.0f} MB"
        )
    return "\n".join(lines)


def failures(outcomes: list[Outcome]) -> str:
    bad = [o for o in outcomes if o.verdict not in ACCEPTABLE]
    return "\n\n".join(
        f"[{o.verdict}] {o.case.kind}: {o.case.tool} {' '.join(o.case.argv)} ({o.case.note})\n{o.detail}"
        for o in bad[:12]
    )
