"""A per-core timeline of one simulated partition, drawn from the simulator's events.

    python benchmarks/timeline.py [--model resnet18] [--chip compass-s] [--batch 4]
        [--strategy optimal] [--partition 1] [--images 2] [--out docs/img]

Lowers the zoo model with the grouping (`greedy`, `optimal`, `ga`), simulates it with every loop
stepped (`simulate_module(step_all=True, events=...)`, the exact timeline) and draws, per core,
when its units are busy: crossbars (any MVM), the load DMA (band and window loads), the gather
engine (windows formed from the line buffer), the vector unit and the store DMA, plus the
crossbar writes. Writes `timeline_<model>_<chip>_b<batch>_<strategy>_p<k>.png` and prints where
the partition's time goes per unit class. Used for the picture in docs/lowering.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from sim_flow import lower_model  # noqa: E402

from pimdsl.isa.codegen import merge_ranges as merged  # noqa: E402  (a union of busy intervals)

ROWS = ("crossbars", "load DMA", "gather", "vector", "store DMA", "write", "link")


def unit_row(unit: int) -> str:
    from pimdsl.sim.timing_program import DMA_IN, DMA_OUT, GATHER, LINK, VECTOR, WRITE

    return {
        DMA_IN: "load DMA",
        DMA_OUT: "store DMA",
        GATHER: "gather",
        VECTOR: "vector",
        WRITE: "write",
        LINK: "link",
    }.get(unit, "crossbars")


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--model", default="resnet18")
    ap.add_argument("--chip", default="compass-s")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument(
        "--strategy", default="optimal", choices=("greedy", "layerwise", "optimal", "ga")
    )
    ap.add_argument("--schedule", default="layer", choices=("layer", "batch", "element"))
    ap.add_argument("--partition", type=int, default=1)
    ap.add_argument("--cores", default="0,1,2,3", help="cores to draw, comma-separated ('all')")
    ap.add_argument("--out", default=str(Path(__file__).parent.parent / "docs" / "img"))
    args = ap.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pimdsl.dialects import pim_isa as isa
    from pimdsl.sim.timing import simulate_module

    module, costs = lower_model(
        args.model, args.chip, args.batch, strategy=args.strategy, schedule=args.schedule
    )
    print(
        "partitions (units, replication):",
        ", ".join(f"{k}: {c['span']} {c['replication']}" for k, c in enumerate(costs)),
    )
    if not 0 <= args.partition < len(costs):
        print(f"timeline: partition {args.partition} does not exist ({len(costs)} partitions).")
        return 1
    # only the partition drawn is simulated (partitions run one after another: the others do
    # not change its timeline)
    program = isa.find_program(module)
    assert program is not None
    for op in list(program.body.block.ops):
        if isinstance(op, isa.PartitionOp) and op.number != args.partition:
            op.detach()
            op.erase(safe_erase=False)
    events: dict[int, list[tuple[int, int, float, float, str]]] = {args.partition: []}
    stats = simulate_module(module, step_all=True, events=events)
    ev = events[args.partition]
    part = next(p for p in stats.partitions if p.index == args.partition)
    t0 = part.start_s * 1e9
    busy: dict[tuple[int, str], list[tuple[float, float]]] = {}
    for core, unit, s, e, _ in ev:
        busy.setdefault((core, unit_row(unit)), []).append(((s - t0) / 1e3, (e - t0) / 1e3))
    cores = sorted({c for c, _ in busy})
    if args.cores != "all":
        cores = [c for c in cores if str(c) in args.cores.split(",")]
    fig, ax = plt.subplots(figsize=(12, 0.22 * len(cores) * len(ROWS) + 1.5))
    colors = dict(
        zip(
            ROWS,
            (
                "tab:red",
                "tab:blue",
                "tab:cyan",
                "tab:green",
                "tab:orange",
                "tab:purple",
                "tab:gray",
            ),
            strict=True,
        )
    )
    y, ticks, labels = 0, [], []
    for c in cores:
        for row in ROWS:
            spans = merged(busy.get((c, row), []))
            if spans:
                ax.broken_barh(
                    [(s, e - s) for s, e in spans],
                    (y, 0.8),
                    color=colors[row],
                    linewidth=0,
                    antialiased=False,
                )
            ticks.append(y + 0.4)
            labels.append(f"core {c} {row}")
            y += 1
        y += 0.6
    ax.set_yticks(ticks, labels, fontsize=6)
    ax.invert_yaxis()
    ax.set_xlabel("time in partition (µs)")
    cost = costs[args.partition]
    sim = part.latency_s
    ax.set_title(
        f"{args.model} on {args.chip}, batch {args.batch}, {args.strategy} grouping, "
        f"{args.schedule} schedule, "
        f"partition {args.partition} (units {cost['span'][0]}-{cost['span'][1]}, "
        f"replication {cost['replication']}), cores {', '.join(map(str, cores))}:\n"
        f"simulated {sim * 1e6:.0f} µs, cost model {cost['latency_s'] * 1e6:.0f} µs",
        fontsize=9,
    )
    fig.tight_layout()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = (
        out / f"timeline_{args.model}_{Path(args.chip).stem}_b{args.batch}_{args.strategy}"
        f"{'' if args.schedule == 'layer' else '_' + args.schedule}_p{args.partition}.png"
    )
    fig.savefig(path, dpi=110)
    total = sim * 1e9
    print(f"wrote {path}")
    for row in ROWS:
        per = [sum(e - s for s, e in merged(busy.get((c, row), []))) * 1e3 / total for c in cores]
        if any(per):
            print(
                f"  {row:10s} busy {100 * min(per):5.1f}-{100 * max(per):5.1f}% of the partition per core"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
