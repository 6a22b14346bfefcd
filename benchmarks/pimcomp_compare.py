"""pimdsl against PIMCOMP-NN's own figures on its default template (`pimcomp-default`).

    python benchmarks/pimcomp_compare.py [--models resnet18,squeezenet1_1,googlenet]
                                         [--units 0,auto] [--chip pimcomp-default]
                                         [--out benchmarks/results/pimcomp.md]

For each network, one partition (`strategy=greedy`: the network fits the chip) with the given
unit sizes (`--partition='unit_crossbars=...'`), lowered (`schedule=auto`) and simulated
(`pim-run --timing-only`) at batch 1 and 16, through the CLI a user runs. Reports the batch-1
latency (PIMCOMP's element pipeline is its low-latency mode), the batch-16 time per image and
the steady-state period (latency(16) - latency(1)) / 15 (PIMCOMP's batch pipeline reports the
steady state: no fill, drain or weight load), each next to PIMCOMP-NN's figure and as a ratio.

PIMCOMP-NN's figures were measured by building its code (commit 2ed10c8) and running
`./PIMCOMP-NN -m=M -r=balance -p=element|batch -o=NO -v=NO -i=NO -s=NO` ("practical (ns)");
its `squeezenet` is SqueezeNet 1.1 (3x3 conv1 with 64 channels). docs/pimcomp-comparison.md
says which assumptions differ; `--chip examples/chips/pimcomp-logical.toml` takes PIMCOMP-NN's
capacity assumptions (logical 16-bit crossbars, 144 cores).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# PIMCOMP-NN at 2ed10c8, default config.json, -r=balance: (element latency, batch period) in ms
PIMCOMP_MS = {
    "resnet18": (5.363, 0.470),
    "squeezenet1_1": (2.307, 0.480),
    "googlenet": (8.252, 0.811),
}


def run(cmd: list[str]) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"failed: {' '.join(cmd)}\n{done.stderr}")


def simulate(model: str, chip: str, units: str, batch: int, tmp: Path) -> dict[str, float]:
    isa = tmp / f"{model}-{units}-{batch}.mlir"
    stats = tmp / f"{model}-{units}-{batch}.json"
    part = f"--partition=strategy=greedy unit_crossbars={units}"
    t0 = time.perf_counter()
    run(["pim-opt", "-q", "--model", model, "--chip", chip, "--batch", str(batch), part,
         "--lower-to-isa", "-o", str(isa)])  # fmt: skip
    run(["pim-run", "-q", str(isa), "--timing-only", "--stats", str(stats)])
    data = json.loads(stats.read_text())
    return {
        "latency_ms": data["latency_s"] * 1e3,
        "partitions": len(data["partitions"]),
        "wall_s": time.perf_counter() - t0,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(PIMCOMP_MS))
    ap.add_argument("--units", default="0,auto")
    ap.add_argument("--chip", default="pimcomp-default")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "pimcomp.md"))
    args = ap.parse_args()
    rows = [
        "| network | unit_crossbars | partitions | batch 1 (ms) | PIMCOMP element (ms) | ratio "
        "| batch 16 per image (ms) | steady-state period (ms) | PIMCOMP batch (ms) | ratio |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as d:
        for model in args.models.split(","):
            ref_lat, ref_period = PIMCOMP_MS[model]
            for units in args.units.split(","):
                one = simulate(model, args.chip, units, 1, Path(d))
                many = simulate(model, args.chip, units, 16, Path(d))
                period = (many["latency_ms"] - one["latency_ms"]) / 15
                rows.append(
                    f"| {model} | {units} | {one['partitions']} | {one['latency_ms']:.2f} | "
                    f"{ref_lat:.2f} | {one['latency_ms'] / ref_lat:.2f}x | "
                    f"{many['latency_ms'] / 16:.2f} | {period:.2f} | {ref_period:.3f} | "
                    f"{period / ref_period:.2f}x |"
                )
                print(rows[-1], f"({one['wall_s'] + many['wall_s']:.0f} s)", flush=True)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    text = (
        f"\n## {stamp}: one partition (greedy) on `{args.chip}`, simulated\n\n"
        "`python benchmarks/pimcomp_compare.py` (docs/pimcomp-comparison.md). Ratios: pimdsl "
        "over PIMCOMP-NN as shipped (its MVM-latency bug and logical 16-bit crossbars "
        "included).\n\n" + "\n".join(rows) + "\n"
    )
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
