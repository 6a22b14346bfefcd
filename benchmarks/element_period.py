"""The element schedule's fill and period per partition: priced by the cost model, simulated.

    python benchmarks/element_period.py MODEL CHIP BATCH STRATEGY [--schedule auto|element]
                                        [--out benchmarks/results/element_period.md]

Partitions MODEL (a zoo name) for CHIP at BATCH with STRATEGY (greedy, layerwise, optimal, or ga =
greedy then `--ga-group`), lowers the grouping twice — at BATCH and, with the same partition IR, at
batch 1 — and simulates both. For each partition that runs the element schedule (every one with
`--schedule element`): the cost model's fill (one image) and period (each further image), and the
simulated ones: fill = the batch-1 latency, period = (latency at BATCH - fill) / (BATCH - 1), each
less the partition's weight load and crossbar writes as priced. docs/status.md (item 0) says what
these showed. Appends a table to `--out`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from sim_flow import apply, onnx_path, partition_costs  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("chip")
    ap.add_argument("batch", type=int)
    ap.add_argument("strategy", choices=("greedy", "layerwise", "optimal", "ga"))
    ap.add_argument("--schedule", default="auto", choices=("auto", "element"))
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "element_period.md"))
    args = ap.parse_args()
    if args.batch < 2:
        ap.error("the period needs a batch of at least 2")

    from pimdsl.chip import load_chip
    from pimdsl.cost.model import NS
    from pimdsl.frontend import import_onnx
    from pimdsl.module_attrs import set_batch, set_chip, set_schedule
    from pimdsl.partitioning import analyse
    from pimdsl.sim.timing import simulate_module

    module = import_onnx(onnx_path(args.model))
    set_chip(module, load_chip(args.chip))
    set_batch(module, args.batch)
    set_schedule(module, args.schedule)
    costs = analyse(module.clone()).costs  # the span table the partition pass reads
    if args.strategy == "ga":
        apply(module, "partition", strategy="greedy", schedule=args.schedule)
        apply(module, "ga-group", seed=0)
    else:
        apply(module, "partition", strategy=args.strategy, schedule=args.schedule)
    parts = partition_costs(module)
    simulated: dict[int, list[float]] = {}
    for batch in (args.batch, 1):
        lowered = module.clone()
        set_batch(lowered, batch)
        apply(lowered, "partition-to-crossbar")
        apply(lowered, "crossbar-to-isa", schedule="auto")
        t0 = time.perf_counter()
        simulated[batch] = [p.latency_s / NS for p in simulate_module(lowered).partitions]
        print(f"# simulated batch {batch} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)

    rows = []
    for k, part in enumerate(parts):
        if part["schedule"] != "element":
            continue
        lo, hi = part["span"]
        i = costs.flat(lo, hi)
        setup = (costs.latency["weight_load"][i] + costs.latency["crossbar_write"][i]) / NS
        fill, period = costs.schedule["element_fill"][i], costs.schedule["element_period"][i]
        sim_fill = simulated[1][k] - setup
        sim_period = (simulated[args.batch][k] - simulated[1][k]) / (args.batch - 1)
        layers = sum(1 for r in part["replication"] if r)
        rows.append(
            f"| {k} | [{lo}, {hi}) | {layers} | {fill / 1e3:.1f} | {sim_fill / 1e3:.1f} | "
            f"{sim_fill / fill:.2f} | {period / 1e3:.1f} | {sim_period / 1e3:.1f} | "
            f"{sim_period / period:.2f} |"
        )
    head = (
        f"\n## {args.model} on {args.chip}, batch {args.batch}, {args.strategy}, "
        f"schedule {args.schedule}\n\n"
        "| partition | units | layers | fill priced (us) | fill simulated | ratio | "
        "period priced (us) | period simulated | ratio |\n|---|---|---|---|---|---|---|---|---|\n"
    )
    table = head + ("\n".join(rows) if rows else "(no partition runs the element schedule)") + "\n"
    print(table)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a") as f:
        f.write(table)


if __name__ == "__main__":
    main()
