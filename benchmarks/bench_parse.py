"""Parse, verify and print a 10k-op nn module; time pim-opt's start-up.

A long residual chain of conv2d -> relu -> add with shape-only weights (2,500 blocks of
nn.weight, nn.conv2d, nn.relu, nn.add = 10,000 ops). Each phase is timed in-process, best of 3;
the whole `pim-opt FILE -o /dev/null` run and `pim-opt --version` are timed as subprocesses.
Writes benchmarks/results/parse.json and prints the figures.

    python benchmarks/bench_parse.py [--blocks 2500]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
SHAPE = "1x8x8x8"


def network_text(blocks: int) -> str:
    """`blocks` residual blocks; every block is 4 ops."""
    t = f"tensor<{SHAPE}xf32>"
    lines = [f"func.func @main(%x0: {t}) -> {t} {{"]
    attrs = (
        "{strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, "
        "dilations = array<i64: 1, 1>, groups = 1 : i64}"
    )
    prev = "%x0"
    for i in range(blocks):
        lines += [
            f'  %w{i} = nn.weight "block{i}.conv.weight" : tensor<8x8x3x3xf32>',
            f"  %c{i} = nn.conv2d {prev}, %w{i} {attrs} : ({t}, tensor<8x8x3x3xf32>) -> {t}",
            f"  %r{i} = nn.relu %c{i} : {t} -> {t}",
            f"  %a{i} = nn.add %r{i}, {prev} : ({t}, {t}) -> {t}",
        ]
        prev = f"%a{i}"
    lines += [f"  func.return {prev} : {t}", "}"]
    return "\n".join(lines) + "\n"


def best_of(n: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(n):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=2500)
    args = parser.parse_args()

    from xdsl.parser import Parser
    from xdsl.printer import Printer

    from pimdsl.dialects import context

    text = network_text(args.blocks)
    ctx = context()

    parse_s, module = best_of(3, lambda: Parser(ctx, text).parse_module())
    ops = sum(1 for op in module.walk() if op.name.startswith("nn."))
    verify_s, _ = best_of(3, module.verify)

    def print_module() -> int:
        out = io.StringIO()
        Printer(stream=out).print_op(module)
        return len(out.getvalue())

    print_s, _ = best_of(3, print_module)

    pim_opt = shutil.which("pim-opt", path=str(Path(sys.executable).parent)) or "pim-opt"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "chain.mlir"
        path.write_text(text)
        cli_s, _ = best_of(
            3, lambda: subprocess.run([pim_opt, str(path), "-o", os.devnull], check=True)
        )
    version_s, _ = best_of(
        5, lambda: subprocess.run([pim_opt, "--version"], check=True, capture_output=True)
    )

    figures = {
        "nn_ops": ops,
        "text_bytes": len(text),
        "parse_s": round(parse_s, 4),
        "verify_s": round(verify_s, 4),
        "print_s": round(print_s, 4),
        "parse_verify_print_s": round(parse_s + verify_s + print_s, 4),
        "pim_opt_cli_s": round(cli_s, 4),
        "pim_opt_version_s": round(version_s, 4),
        "method": "in-process best of 3 per phase; CLI runs best of 3, --version best of 5",
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_average_1min": round(os.getloadavg()[0], 2),
        },
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "parse.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"{ops} nn ops, {len(text) / 1e6:.2f} MB of text")
    for key in (
        "parse_s",
        "verify_s",
        "print_s",
        "parse_verify_print_s",
        "pim_opt_cli_s",
        "pim_opt_version_s",
    ):
        print(f"  {key:22s} {figures[key]:.3f} s")
    print(f"wrote {RESULTS / 'parse.json'}")


if __name__ == "__main__":
    main()
