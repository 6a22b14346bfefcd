"""GA speed: default settings (population 100, 30 generations, keep 20) on real span tables and on
synthetic ones, in-process and with a process pool.

    python benchmarks/bench_ga.py [--out benchmarks/results]

Writes bench_ga.json and a convergence plot of ResNet18-S to the output folder.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from compass_table import load_network, onnx_cache, table_for  # noqa: E402

from pimdsl.errors import PimError  # noqa: E402
from pimdsl.grouping.baselines import greedy  # noqa: E402
from pimdsl.grouping.ga import plot_trace, run_ga  # noqa: E402
from pimdsl.grouping.synthetic import random_table  # noqa: E402
from pimdsl.passes.ga_group import seed_groups  # noqa: E402

CASES = (
    ("resnet18", "compass-s", 1),
    ("resnet18", "compass-s", 16),
    ("vgg16", "compass-l", 1),
    ("vgg16", "compass-l", 16),
)


def timed(table, repeat: int = 3, **kw) -> tuple[float, object]:
    best, res = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = run_ga(table, **kw)
        best = min(best, time.perf_counter() - t0)
    return best, res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="benchmarks/results")
    ap.add_argument("--synthetic-only", action="store_true")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    if not args.synthetic_only:
        cache = onnx_cache()
        modules = {}
        for model, chip, batch in CASES:
            if model not in modules:
                modules[model] = load_network(model, cache)
            t0 = time.perf_counter()
            _, table = table_for(modules[model], chip, batch)
            t_table = time.perf_counter() - t0
            initial = seed_groups(table, "latency", greedy(table))
            t1, r = timed(table, initial=initial)
            t2, _ = timed(table, initial=initial, workers=2, repeat=1)
            t3, _ = timed(table, initial=[greedy(table)], patience=10**6)
            rows.append(
                {
                    "case": f"{model}-{chip}-b{batch}",
                    "units": table.n_units,
                    "table_seconds": t_table,
                    "ga_seconds": t1,
                    "ga_seconds_workers2": t2,
                    "ga_seconds_30_generations_unseeded": t3,
                    "generations": r.generations,
                }
            )
            print(rows[-1], file=sys.stderr)
            if (model, chip, batch) == CASES[0]:
                try:
                    plot_trace(
                        run_ga(table, initial=[greedy(table)], patience=10**6),
                        out / "ga_convergence_resnet18_s.png",
                    )
                except PimError as exc:  # matplotlib is optional
                    print(exc, file=sys.stderr)
    for n in (100, 300, 1000):
        table = random_table(n, seed=0)
        t1, r = timed(table, patience=10**6)
        rows.append(
            {"case": f"synthetic-{n}", "units": n, "ga_seconds_30_generations_unseeded": t1}
        )
        print(rows[-1], file=sys.stderr)
    (out / "bench_ga.json").write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
