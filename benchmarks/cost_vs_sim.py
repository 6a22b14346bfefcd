"""The cost model against the simulator, per partition.

    python benchmarks/cost_vs_sim.py [--quick] [--strategy greedy,optimal,ga] [--schedule layer|batch|auto]
                                     [--out benchmarks/results]

ResNet18, VGG16, SqueezeNet x compass-s/m/l x batch 1 and 16 x the groupings users get: greedy
(`--partition`), the exact optimum (`--partition='strategy=optimal'`) and the GA's
(`--partition --ga-group`, seed 0). For each, the cost model's per-partition latency (the
`latency_s` attribute of each `partition.partition`) is read, the module is lowered to pim_isa and its timing simulated
(`pimdsl.sim.timing`, no numerics). Writes cost_vs_sim.json and cost_vs_sim.md: per case the
largest per-partition relative difference |sim - model| / model, and the totals.
`--quick` runs ResNet18 on compass-s only; `--exact` steps every loop instead of using the
closed form (the reference the closed form approximates; slower). `--schedule` is the
partition pass's schedule policy (the lowering follows each partition's): results go to
cost_vs_sim.{json,md} for layer, cost_vs_sim_<schedule>.{json,md} otherwise.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from sim_flow import CHIPS, MODELS, lower_model, missing_passes, onnx_path  # noqa: E402

BATCHES = (1, 16)
LIMIT = 0.10


def compare(
    model: str,
    chip: str,
    batch: int,
    nn_module: object,
    exact: bool = False,
    strategy: str = "greedy",
    seen: dict | None = None,
    schedule: str = "layer",
) -> dict:
    """Cost model against simulation for one case; `seen` maps groupings already simulated
    (spans and replication) to their result, which a case with the same grouping reuses."""
    from pimdsl.sim.timing import simulate_module

    t0 = time.perf_counter()
    module, costs = lower_model(
        model, chip, batch, strategy=strategy, module=nn_module, schedule=schedule
    )
    lower_s = time.perf_counter() - t0
    key = repr([(c["span"], c["replication"]) for c in costs])
    if seen is not None and key in seen:
        return {**seen[key], "same_grouping_as": seen[key]["strategy"], "strategy": strategy}
    stats = simulate_module(module, step_all=exact)
    parts = []
    for c, p in zip(costs, stats.partitions, strict=True):
        rel = (p.latency_s - c["latency_s"]) / c["latency_s"]
        parts.append(
            {
                "model_latency_s": c["latency_s"],
                "sim_latency_s": p.latency_s,
                "rel_diff": rel,
                "model_energy_j": c["energy_j"],
                "sim_energy_j": p.energy_j,
            }
        )
    model_total = sum(c["latency_s"] for c in costs)
    result = {
        "partitions": parts,
        "max_abs_rel_diff": max(abs(p["rel_diff"]) for p in parts),
        "model_latency_s": model_total,
        "sim_latency_s": stats.latency_s,
        "total_rel_diff": (stats.latency_s - model_total) / model_total,
        "model_energy_j": sum(c["energy_j"] for c in costs) / batch,
        "sim_energy_j": stats.to_json()["energy_j"],
        "lower_seconds": lower_s,
        "sim_seconds": stats.sim_seconds,
        "spans": [c["span"] for c in costs],
        "strategy": strategy,
        "schedules": [c.get("schedule", "layer") for c in costs],
    }
    if seen is not None:
        seen[key] = result
    return result


def same(r: dict) -> str:
    return f" (= {r['same_grouping_as']})" if "same_grouping_as" in r else ""


def markdown(results: dict) -> str:
    lines = [
        "| model | chip | batch | grouping | partitions | cost model (ms) | simulated (ms) | "
        "total diff | worst partition diff | within 10% |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, r in results["cases"].items():
        model, chip, batch, strategy = key.split("/")
        lines.append(
            f"| {model} | {chip} | {batch} | {strategy}{same(r)} | {len(r['partitions'])} | {r['model_latency_s'] * 1e3:.3f} | "
            f"{r['sim_latency_s'] * 1e3:.3f} | {100 * r['total_rel_diff']:+.1f}% | "
            f"{100 * r['max_abs_rel_diff']:.1f}% | {'yes' if r['max_abs_rel_diff'] <= LIMIT else 'no'} |"
        )
    # every partition of every distinct grouping once
    parts = [
        p for r in results["cases"].values() if "same_grouping_as" not in r for p in r["partitions"]
    ]
    inside = sum(abs(p["rel_diff"]) <= LIMIT for p in parts)
    mean = sum(abs(p["rel_diff"]) for p in parts) / max(1, len(parts))
    worst = max((abs(p["rel_diff"]) for p in parts), default=0.0)
    lines.append("")
    lines.append(
        f"{inside} of {len(parts)} partitions within {100 * LIMIT:.0f}%; mean |diff| "
        f"{100 * mean:.1f}%, worst {100 * worst:.1f}%."
    )
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--exact", action="store_true", help="step every loop (no closed form; slower)")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results"))
    ap.add_argument(
        "--strategy",
        default="greedy,optimal,ga",
        help="groupings to check, comma-separated: greedy, layerwise, optimal, ga "
        "(--partition --ga-group)",
    )
    ap.add_argument(
        "--models", default=None, help="comma-separated labels (ResNet18,VGG16,SqueezeNet)"
    )
    ap.add_argument(
        "--schedule",
        default="layer",
        choices=("layer", "batch", "element", "auto"),
        help="the partition pass's schedule policy (default layer)",
    )
    args = ap.parse_args()
    missing = missing_passes()
    if missing:
        print(f"cost_vs_sim: the lowering pass(es) {', '.join(missing)} are not available yet.")
        return 1
    from pimdsl.frontend import import_onnx

    models = {"ResNet18": "resnet18"} if args.quick else MODELS
    if args.models:
        models = {k: v for k, v in MODELS.items() if k in args.models.split(",")}
    strategies = args.strategy.split(",")
    chips = {"S": "compass-s"} if args.quick else CHIPS
    results: dict = {
        "machine": platform.platform(),
        "limit": LIMIT,
        "exact": args.exact,
        "schedule": args.schedule,
        "cases": {},
    }
    for label, model in models.items():
        nn_module = import_onnx(onnx_path(model))
        for chip_label, chip in chips.items():
            for batch in BATCHES:
                seen: dict = {}
                for strategy in strategies:
                    r = compare(
                        model, chip, batch, nn_module, args.exact, strategy, seen, args.schedule
                    )
                    results["cases"][f"{label}/{chip_label}/{batch}/{strategy}"] = r
                    print(
                        f"{label:10s} {chip_label} B={batch:2d} {strategy:8s}: model "
                        f"{r['model_latency_s'] * 1e3:9.3f} ms, sim {r['sim_latency_s'] * 1e3:9.3f} ms, "
                        f"worst partition {100 * r['max_abs_rel_diff']:5.1f}%{same(r)}",
                        flush=True,
                    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = "cost_vs_sim" if args.schedule == "layer" else f"cost_vs_sim_{args.schedule}"
    (out / f"{stem}.json").write_text(json.dumps(results, indent=1) + "\n")
    (out / f"{stem}.md").write_text(markdown(results))
    print(markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
