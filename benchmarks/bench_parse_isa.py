"""Parse, verify and print a lowered ResNet18 (compass-s, batch 1): the biggest IR pimdsl reads.

The pim_isa module (2.8 MB, 24,000 lines, 43,000 address arrays) is lowered once with pim-opt
and kept in the cache folder. Each phase is timed in-process as CPU time of this process (the
machine is shared; wall time varies with the load), best of --repeat; the Python function calls
of one parse are counted too (a load-independent measure of the work). Writes
benchmarks/results/parse_isa.json and prints the figures.

    python benchmarks/bench_parse_isa.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import json
import os
import platform
import pstats
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def lowered_resnet18() -> str:
    """The lowered module, cached per version of the pim_isa dialect (its spelling)."""
    from pimdsl.cache import cache_dir
    from pimdsl.dialects import pim_isa

    key = hashlib.sha1(Path(pim_isa.__file__).read_bytes()).hexdigest()[:12]
    path = Path(cache_dir()) / f"bench_parse_isa_resnet18_compass-s_{key}.mlir"
    pim_opt = shutil.which("pim-opt", path=str(Path(sys.executable).parent)) or "pim-opt"
    if not path.exists():
        subprocess.run(
            [pim_opt, "--model", "resnet18", "--chip", "compass-s", "--partition"]
            + ["--lower-to-isa", "-o", str(path)],
            check=True,
        )
    return path.read_text()


def best_of(n: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(n):
        start = time.process_time()
        result = fn()
        best = min(best, time.process_time() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from xdsl.parser import Parser
    from xdsl.printer import Printer

    from pimdsl.dialects import context

    text = lowered_resnet18()
    ctx = context()
    parse_s, module = best_of(args.repeat, lambda: Parser(ctx, text).parse_module())
    verify_s, _ = best_of(args.repeat, module.verify)

    def print_module() -> int:
        out = io.StringIO()
        Printer(stream=out).print_op(module)
        return len(out.getvalue())

    print_s, _ = best_of(args.repeat, print_module)
    profile = cProfile.Profile()
    profile.runcall(lambda: Parser(ctx, text).parse_module())
    calls = pstats.Stats(profile).total_calls  # type: ignore[attr-defined]

    figures = {
        "text_bytes": len(text),
        "ops": sum(1 for _ in module.walk()),
        "parse_cpu_s": round(parse_s, 3),
        "verify_cpu_s": round(verify_s, 3),
        "print_cpu_s": round(print_s, 3),
        "parse_function_calls": calls,
        "method": f"CPU time of this process, best of {args.repeat} per phase",
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average_1min": round(os.getloadavg()[0], 2),
        },
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "parse_isa.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"{figures['ops']} ops, {len(text) / 1e6:.2f} MB of text")
    for key in ("parse_cpu_s", "verify_cpu_s", "print_cpu_s", "parse_function_calls"):
        print(f"  {key:22s} {figures[key]}")
    print(f"wrote {RESULTS / 'parse_isa.json'}")


if __name__ == "__main__":
    main()
