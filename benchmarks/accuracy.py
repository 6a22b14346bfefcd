"""Accuracy of the digits MLP and CNN under swept crossbar non-idealities (docs/accuracy.md).

The two networks are trained by `pimdsl.digits` (numpy, seed 0) into a temporary folder,
compiled for compass-s (greedy partitions, crossbar level, @main taking `--batch` images) and
run on the 360 test images in quantized mode. One knob is swept at a time from the ideal
quantized chip: conductance variation sigma, ADC bits, stuck-at fault rate (half stuck at 0,
half at 1), read noise and ADC noise; each noisy point is the mean over `--seeds` chip seeds
(noise_seed 0, 1, ...), with the lowest and highest seed's accuracy. Run:

    python benchmarks/accuracy.py [--seeds 3] [--batch 60] [--quick]

Writes benchmarks/results/accuracy.{json,md} and docs/img/accuracy.png. About 2 minutes on
one core (--quick: one seed, fewer points).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from pimdsl import accuracy, digits
from pimdsl.chip import Chip, load_chip
from pimdsl.sim.runner import main_input_shapes

ROOT = Path(__file__).resolve().parent.parent
SWEEPS: dict[str, tuple[str, list[float]]] = {
    "variation": ("variation_sigma", [0.0, 0.02, 0.05, 0.1, 0.2, 0.3]),
    "adc_bits": ("adc_bits", [8, 7, 6, 5, 4, 3]),
    "faults": ("stuck_at_rate", [0.0, 0.001, 0.003, 0.01, 0.03, 0.1]),
    "read_noise": ("read_noise_sigma", [0.0, 0.02, 0.05, 0.1, 0.2, 0.4]),
    "adc_noise": ("adc_noise_sigma", [0.0, 0.1, 0.25, 0.5, 1.0, 2.0]),
}
QUICK = {
    "variation": [0.0, 0.1, 0.3],
    "adc_bits": [8, 5, 3],
    "faults": [0.0, 0.01, 0.1],
    "read_noise": [0.0, 0.05],
    "adc_noise": [0.0, 1.0],
}


def chip_for(base: Chip, knob: str, value: float, seed: int) -> Chip:
    if knob == "adc_bits":
        return base.replace(adc_bits=int(value))
    if knob == "stuck_at_rate":
        return base.replace(stuck_at_0_rate=value / 2, stuck_at_1_rate=value / 2, noise_seed=seed)
    return base.replace(**{knob: value, "noise_seed": seed})


def top1(path: Path, chip: Chip, x: np.ndarray, labels: np.ndarray, batch: int) -> float:
    module = accuracy.compile_network(path, chip, "crossbar", batch)
    xs = accuracy.fit_images(x, main_input_shapes(module))
    logits = accuracy.run(module, xs, options={"mode": "quantized"}, show_progress=False)
    return accuracy.top_k(logits, labels, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=60)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    seeds = 1 if args.quick else args.seeds

    x, labels, _ = accuracy.load_dataset("digits")
    base = load_chip("compass-s")
    start = time.perf_counter()
    results: dict[str, Any] = {"models": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in digits.MODELS:
            path = digits.save_model(kind, Path(tmp) / f"digits-{kind}.onnx", seed=0)
            module = accuracy.compile_network(path, base, "nn", args.batch)
            xs = accuracy.fit_images(x, main_input_shapes(module))
            float_logits = accuracy.run(module, xs, options={"mode": "ideal"}, show_progress=False)
            entry: dict[str, Any] = {
                "float_top1": accuracy.top_k(float_logits, labels, 1),
                "quantized_top1": top1(path, base, x, labels, args.batch),
                "sweeps": {},
            }
            for name, (knob, values) in SWEEPS.items():
                points = []
                for value in QUICK[name] if args.quick else values:
                    noisy = knob != "adc_bits" and value != 0
                    accs = [
                        top1(path, chip_for(base, knob, value, s), x, labels, args.batch)
                        for s in range(seeds if noisy else 1)
                    ]
                    points.append(
                        {
                            "value": value,
                            "mean": float(np.mean(accs)),
                            "min": min(accs),
                            "max": max(accs),
                            "runs": len(accs),
                        }
                    )
                    print(
                        f"{kind} {knob}={value}: top-1 {100 * np.mean(accs):.2f}% "
                        f"({len(accs)} run(s))",
                        flush=True,
                    )
                entry["sweeps"][name] = {"knob": knob, "points": points}
            results["models"][kind] = entry
    results.update(
        chip="compass-s",
        level="crossbar",
        mode="quantized",
        images=len(labels),
        batch=args.batch,
        seeds=seeds,
        seconds=time.perf_counter() - start,
        machine=platform.machine(),
        load_average=os.getloadavg()[0],
    )
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "accuracy.json").write_text(json.dumps(results, indent=1) + "\n")
    (out / "accuracy.md").write_text(table(results))
    plot(results, ROOT / "docs" / "img" / "accuracy.png")
    print(table(results))
    print(f"{results['seconds']:.0f} s")


def table(results: dict[str, Any]) -> str:
    lines = [
        f"Top-1 accuracy (%) on the {results['images']} digits test images, compass-s, "
        f"crossbar level, quantized, @main batch {results['batch']}; noisy points: mean "
        f"[min, max] over {results['seeds']} chip seed(s).",
        "",
    ]
    for kind, entry in results["models"].items():
        lines.append(
            f"**{kind}**: float model {100 * entry['float_top1']:.2f}%, ideal quantized "
            f"chip {100 * entry['quantized_top1']:.2f}%"
        )
        lines.append("")
        lines.append("| knob | " + " | ".join(f"point {i + 1}" for i in range(6)) + " |")
        lines.append("|---|" + "---|" * 6)
        for sweep in entry["sweeps"].values():
            cells = []
            for p in sweep["points"]:
                spread = f" [{100 * p['min']:.1f}, {100 * p['max']:.1f}]" if p["runs"] > 1 else ""
                cells.append(f"{p['value']:g}: {100 * p['mean']:.1f}{spread}")
            cells += [""] * (6 - len(cells))
            lines.append(f"| `{sweep['knob']}` | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(SWEEPS)
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3.0), sharey=True)
    for ax, name in zip(axes, names, strict=True):
        for kind, entry in results["models"].items():
            pts = entry["sweeps"][name]["points"]
            v = [p["value"] for p in pts]
            ax.plot(v, [100 * p["mean"] for p in pts], marker="o", label=kind)
            ax.fill_between(
                v, [100 * p["min"] for p in pts], [100 * p["max"] for p in pts], alpha=0.2
            )
        knob = results["models"]["mlp"]["sweeps"][name]["knob"]
        ax.set_xlabel(knob)
        if name == "adc_bits":
            ax.invert_xaxis()
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("top-1 accuracy (%)")
    axes[0].legend()
    fig.suptitle("digits test set on compass-s (crossbar level, quantized)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
