"""Time and memory of importing ~500 MB models with the ONNX frontend, for each place weights
can be: initializers (the zoo's VGG16, 224x224, ~528 MB), `Constant` nodes (the same VGG16 with
every initializer rewritten into a Constant node) and computed at import (onnx's bundled
`light_vgg19.onnx`: ~548 MB of weights made by ConstantOfShape, written to a side-car file).

Writes benchmarks/results/import.json. Each measurement runs in a fresh subprocess and reads
its peak resident set size (VmHWM): once after loading the libraries (the baseline), once
after the import (and printing the IR). For comparison it also measures plain
`onnx.load(path)`, which holds the file's bytes and the parsed model at the same time. Run:

    .venv/bin/python benchmarks/bench_import.py [--model FILE.onnx] [--style torchscript]
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
    module = import_onnx(path, sidecar=sys.argv[3])
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
    sidecar = str(path.with_suffix(".weights.npz"))
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, mode, str(path), sidecar],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


_TO_CONSTANTS = (
    "import sys, onnx; from onnx import helper as h\n"
    "m = onnx.load(sys.argv[1])\n"
    "nodes = [h.make_node('Constant', [], [t.name], value=t) for t in m.graph.initializer]\n"
    "nodes += list(m.graph.node); del m.graph.node[:]; m.graph.node.extend(nodes)\n"
    "del m.graph.initializer[:]; onnx.save(m, sys.argv[2])\n"
)


def _weights_mb(path: Path) -> float:
    """MB of float32 weights the model holds or computes (initializers, Constant nodes,
    ConstantOfShape outputs), read from a subprocess so this process stays small."""
    code = (
        "import sys, math, onnx; from onnx import numpy_helper as nh\n"
        "m = onnx.load(sys.argv[1]); g = m.graph\n"
        "ints = {t.name: nh.to_array(t) for t in g.initializer if t.data_type == onnx.TensorProto.INT64}\n"
        "n = sum(math.prod(t.dims) for t in g.initializer if t.data_type == onnx.TensorProto.FLOAT)\n"
        "n += sum(math.prod(a.t.dims) for x in g.node if x.op_type == 'Constant' for a in x.attribute)\n"
        "n += sum(int(ints[x.input[0]].prod()) for x in g.node if x.op_type == 'ConstantOfShape' and x.input[0] in ints)\n"
        "print(n * 4 / 2**20)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)], check=True, capture_output=True, text=True
    )
    return float(done.stdout.strip())


def measure(path: Path, name: str, onnx_load: bool = True) -> dict[str, object]:
    weights_mb = _weights_mb(path)
    imported = _probe("import", path)
    loaded = _probe("onnx.load", path) if onnx_load else None
    growth = imported["peak_mb"] - imported["baseline_peak_mb"]
    result: dict[str, object] = {
        "model": name,
        "file_mb": round(os.path.getsize(path) / 2**20, 1),
        "weights_mb": round(weights_mb, 1),
        "import_s": round(imported["import_s"], 3),
        "print_s": round(imported["print_s"], 3),
        "ir_text_bytes": imported["text_bytes"],
        "ir_ops": imported["ops"],
        "baseline_peak_rss_mb": round(imported["baseline_peak_mb"], 1),
        "import_peak_rss_mb": round(imported["peak_mb"], 1),
        "import_growth_mb": round(growth, 1),
        "import_peak_over_weights": round(imported["peak_mb"] / weights_mb, 3),
    }
    sidecar = path.with_suffix(".weights.npz")
    if sidecar.exists():
        result["sidecar_mb"] = round(sidecar.stat().st_size / 2**20, 1)
    if loaded is not None:
        result["onnx_load_peak_rss_mb"] = round(loaded["peak_mb"], 1)
        result["onnx_load_growth_mb"] = round(loaded["peak_mb"] - loaded["baseline_peak_mb"], 1)
        result["onnx_load_s"] = round(loaded["load_s"], 3)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, help="an existing .onnx file (default: zoo vgg16)")
    parser.add_argument("--style", default="torchscript", choices=["torchscript", "dynamo", "zoo9"])
    parser.add_argument("--image-size", type=int, default=224)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = args.model
        if path is not None:
            results = {"given": measure(path, str(path))}
        else:
            # Build in a subprocess so this process stays small.
            path = Path(tmp) / "vgg16.onnx"
            code = (
                "import sys; from pimdsl.models import save_model; "
                "save_model('vgg16', sys.argv[1], style=sys.argv[2], image_size=int(sys.argv[3]))"
            )
            subprocess.run(
                [sys.executable, "-c", code, str(path), args.style, str(args.image_size)],
                check=True,
            )
            zoo = f"zoo vgg16 ({args.style}, {args.image_size}x{args.image_size})"
            results = {"initializers": measure(path, zoo)}
            consts = Path(tmp) / "vgg16_constants.onnx"
            subprocess.run(
                [sys.executable, "-c", _TO_CONSTANTS, str(path), str(consts)], check=True
            )
            path.unlink()
            results["constant_nodes"] = measure(consts, f"{zoo}, initializers as Constant nodes")
            consts.unlink()
            import onnx

            light = (
                Path(onnx.__file__).parent
                / "backend"
                / "test"
                / "data"
                / "light"
                / "light_vgg19.onnx"
            )
            if light.exists():
                local = Path(tmp) / light.name
                local.write_bytes(light.read_bytes())
                results["computed"] = measure(
                    local,
                    "onnx's light_vgg19 (ConstantOfShape weights -> side-car)",
                    onnx_load=False,
                )
    result = {**results, "python": platform.python_version(), "cpus": os.cpu_count()}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
