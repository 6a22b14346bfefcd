"""Time the crossbar MVM numerics on a ResNet18-sized layer; write benchmarks/results/numerics.json.

A ResNet18-sized layer: K and N of a layer4 3x3 conv (512 -> 512 channels) unfolded by
im2col, K = 512 * 3 * 3 = 4608 rows, N = 512 output channels, and B = 196 windows (a 14x14
output map; at 224x224 input layer4's map is 7x7 = 49 windows, so this is 4x that work).
Inputs are post-ReLU (unsigned) except in the `signed` rows. Run:

    /tmp/venv0/bin/python benchmarks/bench_numerics.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

from pimdsl.chip import load_preset
from pimdsl.sim.xbar_numerics import XbarCounts, crossbar_matmul

B, K, N = 196, 4608, 512


def _time(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    # He-initialised weights and half-normal (post-ReLU) activations, like a trained layer's scale.
    w = (rng.normal(size=(K, N)) * np.sqrt(2.0 / K)).astype(np.float32)
    x_relu = np.abs(rng.normal(size=(B, K))).astype(np.float32)
    x_signed = rng.normal(size=(B, K)).astype(np.float32)

    load_before = os.getloadavg()[0]
    rows = []
    for preset in ("compass-s", "pimcomp-default"):
        chip = load_preset(preset)
        for label, x in (("relu", x_relu), ("signed", x_signed)):
            exact = x.astype(np.float64) @ w.astype(np.float64)
            ideal_s = _time(
                lambda x=x, chip=chip: crossbar_matmul(x, w, chip, "ideal"), args.repeat
            )
            quant_s = _time(
                lambda x=x, chip=chip: crossbar_matmul(x, w, chip, "quantized"), args.repeat
            )
            counts = XbarCounts()
            y = crossbar_matmul(x, w, chip, "quantized", counts=counts)
            rel_err = float(np.linalg.norm(y - exact) / np.linalg.norm(exact))
            wide = chip.replace(adc_bits=24)  # same bits, an ADC that never clips
            y_wide = crossbar_matmul(x, w, wide, "quantized")
            rel_err_wide = float(np.linalg.norm(y_wide - exact) / np.linalg.norm(exact))
            rows.append(
                {
                    "chip": preset,
                    "inputs": label,
                    "weight_bits": chip.weight_bits,
                    "cell_bits": chip.cell_bits,
                    "act_bits": chip.act_bits,
                    "dac_bits": chip.dac_bits,
                    "adc_bits": chip.adc_bits,
                    "crossbar": f"{chip.crossbar_rows}x{chip.crossbar_cols}",
                    "ideal_s": round(ideal_s, 4),
                    "quantized_s": round(quant_s, 4),
                    "rel_error_vs_float": rel_err,
                    "rel_error_no_adc_clipping": rel_err_wide,
                    "saturated_fraction": counts.adc_saturations / counts.adc_conversions,
                    "counts": counts.to_dict(),
                }
            )
            print(
                f"{preset:16s} {label:6s} ideal {ideal_s * 1e3:7.1f} ms  quantized "
                f"{quant_s * 1e3:8.1f} ms  rel.err {rel_err:.3e} (no clipping {rel_err_wide:.3e})"
                f"  saturated {rows[-1]['saturated_fraction']:.2%}"
            )

    out = {
        "layer": {
            "B": B,
            "K": K,
            "N": N,
            "note": "ResNet18 layer4 3x3 conv shape (im2col), 196 windows",
        },
        "repeat": args.repeat,
        "seed": args.seed,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            # other jobs share the machine: best-of-repeat times are still noisy
            "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        },
        "results": rows,
    }
    path = Path(__file__).parent / "results" / "numerics.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
