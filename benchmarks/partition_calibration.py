"""Partitioning figures for docs/partitioning.md: throughput of the paper's networks on the COMPASS
chips (greedy / layer-wise / optimal, batch 1..16) and the in-process time of `--partition` on
ResNet18 for compass-s. Writes benchmarks/results/partition_calibration.{json,md}.

    python benchmarks/partition_calibration.py
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from xdsl.context import Context

import pimdsl.partitioning as partitioning
from pimdsl.chip import load_chip
from pimdsl.frontend import import_onnx
from pimdsl.grouping.baselines import greedy, layerwise, optimal
from pimdsl.grouping.problem import group_fitness
from pimdsl.models import build_model
from pimdsl.module_attrs import set_batch, set_chip
from pimdsl.partitioning import span_table_for_module
from pimdsl.passes.partition import PartitionPass

NETS = ("vgg16", "resnet18", "squeezenet1_0")
CHIPS = ("compass-s", "compass-m", "compass-l")
BATCHES = (1, 2, 4, 8, 16)
OUT = Path(__file__).parent / "results"


def main() -> None:
    rows = []
    modules = {n: import_onnx(f"{n}.onnx", model=build_model(n, image_size=224)) for n in NETS}
    for net, chip_name, batch in ((n, c, b) for n in NETS for c in CHIPS for b in BATCHES):
        m = modules[net].clone()
        set_chip(m, load_chip(chip_name))
        set_batch(m, batch)
        table = span_table_for_module(m)
        row = {"net": net, "chip": chip_name, "batch": batch}
        for name, fn in (("greedy", greedy), ("layerwise", layerwise), ("optimal", optimal)):
            bounds = fn(table)
            row[name] = batch / group_fitness(table, bounds, "latency")
            row[f"{name}_partitions"] = len(bounds) - 1
        rows.append(row)
    timings = []
    for strategy in ("greedy", "optimal"):
        best = float("inf")
        for _ in range(3):
            m = modules["resnet18"].clone()
            set_chip(m, load_chip("compass-s"))
            set_batch(m, 16)
            partitioning._CACHE.clear()  # time the cost model too, not a cache hit
            t = time.perf_counter()
            PartitionPass(strategy=strategy).apply(Context(), m)
            best = min(best, time.perf_counter() - t)
        timings.append(
            {
                "pass": f"partition{{strategy={strategy}}}",
                "net": "resnet18",
                "chip": "compass-s",
                "batch": 16,
                "seconds": best,
            }
        )
    OUT.mkdir(exist_ok=True)
    (OUT / "partition_calibration.json").write_text(
        json.dumps({"throughput": rows, "timing": timings}, indent=2)
    )
    lines = [
        "| net | chip | batch | greedy | layer-wise | optimal | partitions (g/l/o) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['net']} | {r['chip']} | {r['batch']} | {r['greedy']:.0f} | {r['layerwise']:.0f} | "
            f"{r['optimal']:.0f} | {r['greedy_partitions']}/{r['layerwise_partitions']}/"
            f"{r['optimal_partitions']} |"
        )
    lines.append("")
    for t in timings:
        lines.append(
            f"- `{t['pass']}` on {t['net']}, {t['chip']}, batch {t['batch']}: {t['seconds']:.3f} s"
        )
    (OUT / "partition_calibration.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
