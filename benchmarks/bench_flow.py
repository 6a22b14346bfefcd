"""Time the whole flow import -> partition -> ga-group -> pim_isa -> pim-asm.

ResNet18 on compass-s and VGG16 on compass-l (224x224, batch 16, GA with the paper's defaults,
seed 0). Each phase is timed in-process (wall and CPU time of this process: on a shared
machine the CPU time is the steadier figure), then the same flow once more as one `pim-opt`
command line in a fresh process (wall time, Python start-up and the verifier after every pass
included). The peer PIMCOMP-NN needs 2.75 s (ResNet18) and 15 s (VGG16, on a chip that holds
it: it cannot reload weights). Writes benchmarks/results/flow.json. Run:

    /tmp/venv0/bin/python benchmarks/bench_flow.py [--repeat 2]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results" / "flow.json"
CASES = [("resnet18", "compass-s", 2.75), ("vgg16", "compass-l", 15.0)]
BATCH = 16


def _timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def flow(path: Path, chip_name: str) -> dict[str, Any]:
    from xdsl.context import Context

    from pimdsl import frontend
    from pimdsl.chip import load_preset
    from pimdsl.dialects import pim_isa as isa
    from pimdsl.emit.asm import emit_asm
    from pimdsl.module_attrs import set_batch, set_chip
    from pimdsl.passes.crossbar_to_isa import CrossbarToIsaPass
    from pimdsl.passes.ga_group import GAGroupPass
    from pimdsl.passes.partition import PartitionPass
    from pimdsl.passes.partition_to_crossbar import PartitionToCrossbarPass

    ctx = Context()
    phases: dict[str, dict[str, float]] = {}

    def phase(name: str, fn: Callable[[], Any]) -> Any:
        out, wall, cpu = _timed(fn)
        phases[name] = {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3)}
        return out

    module = phase("import", lambda: frontend.import_onnx(path))
    set_chip(module, load_preset(chip_name))
    set_batch(module, BATCH)
    phase("partition", lambda: PartitionPass().apply(ctx, module))
    phase("ga-group", lambda: GAGroupPass().apply(ctx, module))
    phase("partition-to-crossbar", lambda: PartitionToCrossbarPass().apply(ctx, module))
    phase("crossbar-to-isa", lambda: CrossbarToIsaPass().apply(ctx, module))
    phase("verify", module.verify)
    text = io.StringIO()
    phase("pim-asm", lambda: emit_asm(module, text))
    program = isa.find_program(module)
    assert program is not None
    return {
        "phases": phases,
        "total_wall_s": round(sum(p["wall_s"] for p in phases.values()), 3),
        "total_cpu_s": round(sum(p["cpu_s"] for p in phases.values()), 3),
        "partitions": len(program.partitions()),
        "pim_isa_ops": sum(1 for _ in program.walk()),
        "pim_asm_lines": text.getvalue().count("\n"),
    }


def cli(path: Path, chip_name: str, out: Path) -> float:
    cmd = [
        sys.executable,
        "-m",
        "pimdsl.tools.pim_opt",
        str(path),
        "--chip",
        chip_name,
        "--batch",
        str(BATCH),
        "--partition",
        "--ga-group",
        "--lower-to-isa",
        "-t",
        "pim-asm",
        "-o",
        str(out),
    ]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    return round(time.perf_counter() - t0, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs per case; the best is kept")
    args = parser.parse_args()
    from pimdsl import models

    results: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average_at_start": os.getloadavg(),
        },
        "batch": BATCH,
        "cases": [],
    }
    with tempfile.TemporaryDirectory() as tmp:
        for name, chip, peer in CASES:
            path = models.save_model(name, Path(tmp) / f"{name}.onnx", seed=0)
            runs = [flow(path, chip) for _ in range(args.repeat)]
            best = min(runs, key=lambda r: r["total_wall_s"])
            cli_s = min(cli(path, chip, Path(tmp) / f"{name}.asm") for _ in range(args.repeat))
            case = {
                "model": name,
                "chip": chip,
                "image": 224,
                **best,
                "pim_opt_command_wall_s": cli_s,
                "pimcomp_nn_s": peer,
            }
            results["cases"].append(case)
            print(
                f"{name} on {chip}: in-process {best['total_wall_s']} s wall / "
                f"{best['total_cpu_s']} s CPU, pim-opt command {cli_s} s wall, "
                f"{best['pim_isa_ops']} pim_isa ops, {best['partitions']} partitions "
                f"(PIMCOMP-NN {peer} s)",
                flush=True,
            )
    results["machine"]["load_average_at_end"] = os.getloadavg()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
