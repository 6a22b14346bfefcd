"""Time and memory of importing VGG16 (224x224, ~528 MB of float32 weights) with the ONNX frontend.

Writes benchmarks/results/import.json. Each measurement runs in a fresh subprocess and reads
its peak resident set size (VmHWM): once after loading the libraries (the baseline), once
after the import (and printing the IR). For comparison it also measures plain
`onnx.load(path)`, which holds the file's bytes and the parsed model at the same time. Run:

    /tmp/venv0/bin/python benchmarks/bench_import.py [--model FILE.onnx] [--style torchscript]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "import.json"

_PROBE = r"""
import json, resource, sys, time
mode, path = sys.argv[1], sys.argv[2]
def peak_mb():
    # VmHWM belongs to this process image; ru_maxrss would carry the parent's peak over fork/exec.
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
import onnx, numpy, xdsl
from pimdsl.frontend.importer import import_onnx
out = {"baseline_peak_mb": peak_mb()}
t0 = time.perf_counter()
if mode == "import":
    module = import_onnx(path)
    out["import_s"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    text = str(module)
    out["print_s"] = time.perf_counter() - t1
    out["text_bytes"] = len(text)
    out["ops"] = sum(1 for _ in module.walk())
else:
    model = onnx.load(path)
    out["load_s"] = time.perf_counter() - t0
out["peak_mb"] = peak_mb()
print(json.dumps(out))
"""


def _probe(mode: str, path: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, mode, str(path)], check=True, capture_output=True, text=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, help="an existing .onnx file (default: zoo vgg16)")
    parser.add_argument("--style", default="torchscript", choices=["torchscript", "dynamo", "zoo9"])
    parser.add_argument("--image-size", type=int, default=224)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = args.model
        if path is None:
            # Build in a subprocess so this process stays small.
            path = Path(tmp) / "vgg16.onnx"
            code = (
                "import sys; from pimdsl.models import save_model; "
                "save_model('vgg16', sys.argv[1], style=sys.argv[2], image_size=int(sys.argv[3]))"
            )
            subprocess.run([sys.executable, "-c", code, str(path), args.style, str(args.image_size)], check=True)
        size_mb = os.path.getsize(path) / 2**20
        imported = _probe("import", path)
        loaded = _probe("onnx.load", path)

    growth = imported["peak_mb"] - imported["baseline_peak_mb"]
    result = {
        "model": str(args.model) if args.model else f"zoo vgg16 ({args.style}, {args.image_size}x{args.image_size})",
        "model_mb": round(size_mb, 1),
        "import_s": round(imported["import_s"], 3),
        "print_s": round(imported["print_s"], 3),
        "ir_text_bytes": imported["text_bytes"],
        "ir_ops": imported["ops"],
        "baseline_peak_rss_mb": round(imported["baseline_peak_mb"], 1),
        "import_peak_rss_mb": round(imported["peak_mb"], 1),
        "import_growth_mb": round(growth, 1),
        "import_peak_over_model_size": round(imported["peak_mb"] / size_mb, 3),
        "onnx_load_peak_rss_mb": round(loaded["peak_mb"], 1),
        "onnx_load_growth_mb": round(loaded["peak_mb"] - loaded["baseline_peak_mb"], 1),
        "onnx_load_s": round(loaded["load_s"], 3),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
