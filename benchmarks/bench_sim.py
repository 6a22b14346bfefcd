"""Simulation speed: ResNet18 (224x224) at batch 1 on compass-s, end to end at pim_isa level.

    python benchmarks/bench_sim.py [--out benchmarks/results]

The model is imported from ONNX (with its weights), partitioned greedily and lowered to pim_isa
(not timed: that is the compiler's benchmark); then timed, best of 3:
- `timing`: the timing/energy simulation alone (`pimdsl.sim.timing.simulate_module`);
- `numerics`: the numeric pim_isa interpreter (`run_module`, ideal mode), when it is registered;
- `end_to_end`: both, as `pim-run --stats` does.
The goal (issue 6) is under 10 s end to end; the peer cycle-level simulator PIMSIM-NN needs
about 80 s for ResNet18. Writes results/sim.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from sim_flow import lower_model, missing_passes, onnx_path  # noqa: E402


def best_of(n: int, fn) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--out", default=str(Path(__file__).parent / "results"))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    missing = missing_passes()
    if missing:
        print(f"bench_sim: the lowering pass(es) {', '.join(missing)} are not available yet.")
        return 1
    import numpy as np

    from pimdsl.frontend import import_onnx
    from pimdsl.sim.runner import LEVELS, main_input_shapes, run_module
    from pimdsl.sim.timing import simulate_module

    path = onnx_path("resnet18")
    t0 = time.perf_counter()
    module, _ = lower_model("resnet18", "compass-s", 1, module=import_onnx(path))
    compile_s = time.perf_counter() - t0
    ops = sum(1 for _ in module.walk())
    stats = simulate_module(module)
    result: dict = {
        "machine": platform.platform(),
        "model": "resnet18 224x224",
        "chip": "compass-s",
        "batch": 1,
        "ir_ops": ops,
        "partitions": len(stats.partitions),
        "compile_seconds": compile_s,
        "simulated_latency_s": stats.latency_s,
        "simulated_mvms": stats.to_json()["mvm_count"],
        "timing_seconds": best_of(args.repeat, lambda: simulate_module(module)),
        "peer_pimsim_nn_seconds": 80.0,
        "goal_seconds": 10.0,
    }
    if "pim_isa" in LEVELS:
        shapes = main_input_shapes(module)
        x = [np.random.default_rng(0).standard_normal(s).astype(np.float32) for s in shapes]
        result["numerics_seconds"] = best_of(
            args.repeat, lambda: run_module(module, x, base_dir=path.parent)
        )
        result["end_to_end_seconds"] = best_of(
            args.repeat,
            lambda: (run_module(module, x, base_dir=path.parent), simulate_module(module)),
        )
    else:
        result["numerics_seconds"] = None
        result["end_to_end_seconds"] = None
        result["note"] = (
            "the numeric pim_isa interpreter is not registered in pimdsl.sim.runner.LEVELS"
        )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "sim.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
