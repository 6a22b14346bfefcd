"""COMPASS's results table: VGG16, ResNet18, SqueezeNet x compass-s/m/l x batch 1..16 x strategies.

    python benchmarks/compass_table.py [--quick] [--out benchmarks/results]
    make compass-table

Strategies: layerwise, greedy, optimal (exact minimum latency, DP), ga (objective latency, seeded
like the pass: incoming greedy grouping + the optimum), ga-edp (objective edp), and ga-unseeded
(objective latency, only the greedy grouping in the first population: how good the GA's search is
on its own). Per case: throughput (inferences/s), energy per inference (J), EDP per inference (J s),
partitions, weight bytes loaded from DRAM per batch, GA time. Writes compass_table.json,
compass_table.md and compass_*.png to the output folder.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from statistics import fmean, geometric_mean

import numpy as np

from pimdsl.grouping.baselines import greedy, layerwise, optimal
from pimdsl.grouping.ga import run_ga
from pimdsl.grouping.problem import SpanTable
from pimdsl.passes.ga_group import seed_groups

MODELS = {"VGG16": "vgg16", "ResNet18": "resnet18", "SqueezeNet": "squeezenet1_0"}
CHIPS = {"S": "compass-s", "M": "compass-m", "L": "compass-l"}
BATCHES = (1, 2, 4, 8, 16)
STRATEGIES = ("layerwise", "greedy", "optimal", "ga", "ga-edp", "ga-unseeded")
# Paper (COMPASS, DATE 2025): mean throughput ratio of the GA over batches 1-16 and chips S/M/L.
PAPER_VS_GREEDY = {"VGG16": 1.80, "ResNet18": 1.71, "SqueezeNet": 2.24}
PAPER_VS_LAYERWISE = {"VGG16": 1.56, "ResNet18": 1.31, "SqueezeNet": 1.98}
PAPER_EDP_R18_S = {"greedy": 1.28, "layerwise": 2.08}


def onnx_cache() -> Path:
    """Zoo ONNX files are big (VGG16: 0.5 GB): keep them in the user's cache, not in results/."""
    root = Path(os.environ.get("PIMDSL_CACHE", Path.home() / ".cache" / "pimdsl"))
    path = root / "onnx"
    path.mkdir(parents=True, exist_ok=True)
    return path


def load_network(model: str, cache: Path):
    """The zoo model imported to the nn dialect (ONNX written once to `cache`)."""
    from pimdsl.frontend import import_onnx
    from pimdsl.models import save_model

    path = cache / f"{model}.onnx"
    if not path.exists():
        save_model(model, path)
    return import_onnx(path)


def table_for(module, chip_name: str, batch: int):
    """(SpanCosts, SpanTable) of an nn-level module on a chip at a batch size, straight from the
    cost model (what `pimdsl.partitioning.span_table_for_module` wraps for a module)."""
    from pimdsl.chip import load_chip
    from pimdsl.cost.model import span_costs
    from pimdsl.network import extract_network
    from pimdsl.units import plan_units

    chip = load_chip(chip_name)
    net = extract_network(module)
    # the partition pass's default: each span costed for the faster of the layer and batch
    # schedules (docs/lowering.md "Schedules")
    costs = span_costs(net, plan_units(net, chip), chip, batch, "auto")
    return costs, costs.table()


def weight_bytes(costs, bounds: list[int]) -> int:
    """Unique weight bytes read from DRAM per batch for this grouping."""
    b = np.asarray(bounds)
    idx = costs.index[b[:-1], b[1:] - b[:-1] - 1]
    return int(round(float(costs.weight_bytes[idx].sum())))


def measure(table: SpanTable, bounds: list[int]) -> dict:
    lat, en = table.group_costs(bounds)
    L, E, B = float(lat.sum()), float(en.sum()), table.batch
    return {
        "latency_s": L,
        "throughput_ips": B / L,
        "energy_j": E / B,
        "edp": (E / B) * (L / B),
        "partitions": len(bounds) - 1,
        "bounds": bounds,
    }


def run_case(module, chip: str, batch: int, seed: int) -> dict:
    costs, table = table_for(module, chip, batch)
    out: dict = {"units": table.n_units}
    g0 = greedy(table)
    groups = {"layerwise": layerwise(table), "greedy": g0, "optimal": optimal(table)}
    times = {}
    for name, objective, initial in (
        ("ga", "latency", seed_groups(table, "latency", g0)),
        ("ga-edp", "edp", seed_groups(table, "edp", g0)),
        ("ga-unseeded", "latency", [g0]),
    ):
        r = run_ga(table, seed=seed, objective=objective, initial=initial)
        groups[name], times[name] = r.bounds, r.seconds
    for name, bounds in groups.items():
        row = measure(table, bounds)
        row["weight_bytes_loaded"] = weight_bytes(costs, bounds)
        if name in times:
            row["ga_seconds"] = times[name]
        out[name] = row
    return out


def summarise(results: list[dict]) -> dict:
    def ratio(model: str, a: str, b: str, key: str = "throughput_ips", chips=CHIPS) -> list[float]:
        return [
            r[a][key] / r[b][key] for r in results if r["model"] == model and r["chip"] in chips
        ]

    s: dict = {"throughput_vs_greedy": {}, "throughput_vs_layerwise": {}}
    for model in MODELS:
        for key, base in (
            ("throughput_vs_greedy", "greedy"),
            ("throughput_vs_layerwise", "layerwise"),
        ):
            v = ratio(model, "ga", base)
            if v:
                s[key][model] = {
                    "mean": fmean(v),
                    "geomean": geometric_mean(v),
                    "max": max(v),
                    "paper": (PAPER_VS_GREEDY if base == "greedy" else PAPER_VS_LAYERWISE)[model],
                }
    r18s = [r for r in results if r["model"] == "ResNet18" and r["chip"] == "S"]
    if r18s:
        s["edp_resnet18_s"] = {
            base: {
                "mean": fmean(r[base]["edp"] / r["ga-edp"]["edp"] for r in r18s),
                "paper": PAPER_EDP_R18_S[base],
            }
            for base in ("greedy", "layerwise")
        }
    s["ga_over_optimal_throughput_min"] = min(
        r["ga"]["throughput_ips"] / r["optimal"]["throughput_ips"] for r in results
    )
    s["ga_unseeded_over_optimal_throughput_min"] = min(
        r["ga-unseeded"]["throughput_ips"] / r["optimal"]["throughput_ips"] for r in results
    )
    s["ga_unseeded_over_optimal_throughput_mean"] = fmean(
        r["ga-unseeded"]["throughput_ips"] / r["optimal"]["throughput_ips"] for r in results
    )
    edp_gain = [r["optimal"]["edp"] / r["ga-edp"]["edp"] for r in results]
    s["edp_ga_vs_latency_optimal"] = {
        "min": min(edp_gain),
        "max": max(edp_gain),
        "strictly_better_cases": sum(g > 1 + 1e-9 for g in edp_gain),
        "cases": len(edp_gain),
    }
    all_greedy = [r["ga"]["throughput_ips"] / r["greedy"]["throughput_ips"] for r in results]
    s["mean_ga_over_greedy_throughput"] = fmean(all_greedy)
    s["ga_seconds"] = {
        f"{r['model']}-{r['chip']}-b{r['batch']}": r["ga"]["ga_seconds"] for r in results
    }
    return s


def markdown(results: list[dict], summary: dict) -> str:
    lines = [
        "# COMPASS results table (generated by benchmarks/compass_table.py)",
        "",
        "| model | chip | batch | units | strategy | partitions | throughput (inf/s) | energy/inf (mJ) | EDP/inf (mJ s) | weight MB/batch | GA s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for st in STRATEGIES:
            x = r[st]
            wb = f"{x['weight_bytes_loaded'] / 1e6:.2f}"
            ga = f"{x['ga_seconds']:.2f}" if "ga_seconds" in x else ""
            lines.append(
                f"| {r['model']} | {r['chip']} | {r['batch']} | {r['units']} | {st} | {x['partitions']} | "
                f"{x['throughput_ips']:.1f} | {x['energy_j'] * 1e3:.3f} | {x['edp'] * 1e3:.4g} | {wb} | {ga} |"
            )
    lines += [
        "",
        "## Ratios (GA, objective latency) beside the paper's",
        "",
        "| model | vs greedy (ours mean / geomean / max) | paper | vs layer-wise (ours mean / geomean / max) | paper |",
        "|---|---|---|---|---|",
    ]
    for model in MODELS:
        g = summary["throughput_vs_greedy"].get(model)
        lw = summary["throughput_vs_layerwise"].get(model)
        if g and lw:
            lines.append(
                f"| {model} | {g['mean']:.2f} / {g['geomean']:.2f} / {g['max']:.2f} | {g['paper']:.2f} | "
                f"{lw['mean']:.2f} / {lw['geomean']:.2f} / {lw['max']:.2f} | {lw['paper']:.2f} |"
            )
    if "edp_resnet18_s" in summary:
        e = summary["edp_resnet18_s"]
        lines += [
            "",
            f"EDP on ResNet18-S (GA objective edp), mean over batches: {e['greedy']['mean']:.2f}x vs greedy "
            f"(paper {e['greedy']['paper']}), {e['layerwise']['mean']:.2f}x vs layer-wise (paper {e['layerwise']['paper']}).",
        ]
    e = summary["edp_ga_vs_latency_optimal"]
    lines += [
        "",
        f"GA/optimal throughput (objective latency), min over cases: {summary['ga_over_optimal_throughput_min']:.4f}; "
        f"unseeded GA: min {summary['ga_unseeded_over_optimal_throughput_min']:.4f}, mean {summary['ga_unseeded_over_optimal_throughput_mean']:.4f}.",
        f"EDP of the latency-optimal grouping / EDP of ga-edp: min {e['min']:.4f}, max {e['max']:.4f}, strictly better in "
        f"{e['strictly_better_cases']} of {e['cases']} cases.",
        f"Mean GA/greedy throughput over all cases: {summary['mean_ga_over_greedy_throughput']:.2f}x.",
        "",
    ]
    return "\n".join(lines)


def plots(results: list[dict], out: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no plots (pip install 'pimdsl[plot]')", file=sys.stderr)
        return
    fig, axes = plt.subplots(len(MODELS), len(CHIPS), figsize=(12, 10), squeeze=False)
    for i, model in enumerate(MODELS):
        for j, chip in enumerate(CHIPS):
            ax = axes[i][j]
            rows = sorted(
                (r for r in results if r["model"] == model and r["chip"] == chip),
                key=lambda r: r["batch"],
            )
            if not rows:
                ax.set_visible(False)
                continue
            for st in ("layerwise", "greedy", "optimal", "ga"):
                ax.plot(
                    [r["batch"] for r in rows],
                    [r[st]["throughput_ips"] for r in rows],
                    marker="o",
                    label=st,
                )
            ax.set_xscale("log", base=2)
            ax.set_title(f"{model}-{chip}")
            ax.set_xlabel("batch")
            ax.set_ylabel("inferences/s")
    axes[0][0].legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(out / "compass_throughput.png")
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    labels = [f"{r['model']}-{r['chip']}-{r['batch']}" for r in results]
    x = np.arange(len(results))
    ax.bar(
        x - 0.2,
        [r["ga"]["throughput_ips"] / r["greedy"]["throughput_ips"] for r in results],
        0.4,
        label="GA / greedy",
    )
    ax.bar(
        x + 0.2,
        [r["ga"]["throughput_ips"] / r["layerwise"]["throughput_ips"] for r in results],
        0.4,
        label="GA / layer-wise",
    )
    ax.set_xticks(x, labels, rotation=90, fontsize=5)
    ax.axhline(1.0, color="gray", lw=0.5)
    ax.set_ylabel("throughput ratio")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(out / "compass_ratios.png")
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="benchmarks/results")
    ap.add_argument("--quick", action="store_true", help="batches 1 and 16 only")
    ap.add_argument(
        "--models", default=",".join(MODELS), help="comma-separated subset of " + ",".join(MODELS)
    )
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cache = onnx_cache()
    batches = (1, 16) if args.quick else BATCHES
    results = []
    for model in args.models.split(","):
        t0 = time.perf_counter()
        module = load_network(MODELS[model], cache)
        print(f"{model}: imported in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        for chip, chip_name in CHIPS.items():
            for batch in batches:
                t0 = time.perf_counter()
                case = run_case(module, chip_name, batch, args.seed)
                results.append({"model": model, "chip": chip, "batch": batch, **case})
                print(
                    f"  {model}-{chip} b{batch}: {case['units']} units, ga {case['ga']['throughput_ips']:.1f} inf/s, "
                    f"greedy {case['greedy']['throughput_ips']:.1f}, optimal {case['optimal']['throughput_ips']:.1f} "
                    f"({time.perf_counter() - t0:.1f} s)",
                    file=sys.stderr,
                )
    summary = summarise(results)
    (out / "compass_table.json").write_text(
        json.dumps({"summary": summary, "cases": results}, indent=1) + "\n"
    )
    (out / "compass_table.md").write_text(markdown(results, summary))
    plots(results, out)
    print(markdown(results, summary).split("## Ratios")[1])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
