"""The base files every fuzz case starts from: a small conv net as ONNX and its IR at the four
levels (below nn on a chip small enough for 4 partitions with cut layers)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

LEVELS = ("nn", "partition", "crossbar", "pim_isa")
PIPELINE = {
    "nn": [],
    "partition": ["--partition"],
    "crossbar": ["--partition", "--partition-to-crossbar"],
    "pim_isa": ["--partition", "--lower-to-isa"],
}
SMALL_CHIP = (
    'base = "compass-s"\nname = "fuzz-small"\ncores = 2\ncrossbars_per_core = 2\n'
    "crossbar_rows = 32\ncrossbar_cols = 16\n"
)
HUGE_INTS = [0, -1, 1, 2, 3, 7, 255, 65537, 2**31, 2**63 - 1, 2**63, 2**64, 10**30, 10**400]
ODD_FLOATS = ["0.0", "-1.0", "1e-300", "1e300", "1e308", "1e999", "-0.0", "0.5", "nan", "inf"]


# --- the base model -------------------------------------------------------------------------


def base_onnx(path: Path, seed: int = 0) -> None:
    """A small conv net with weights: Conv 3->8 3x3, Relu, MaxPool, Flatten, Gemm 8*3*3 -> 10."""
    rng = np.random.default_rng(seed)
    inits = [
        numpy_helper.from_array(
            rng.standard_normal((8, 3, 3, 3)).astype(np.float32) * 0.3, "conv.w"
        ),
        numpy_helper.from_array(rng.standard_normal(8).astype(np.float32) * 0.1, "conv.b"),
        numpy_helper.from_array(rng.standard_normal((10, 72)).astype(np.float32) * 0.1, "fc.w"),
        numpy_helper.from_array(rng.standard_normal(10).astype(np.float32) * 0.1, "fc.b"),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "conv.w", "conv.b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("MaxPool", ["r"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p"], ["f"], name="flat"),
        helper.make_node("Gemm", ["f", "fc.w", "fc.b"], ["y"], name="fc", transB=1),
    ]
    graph = helper.make_graph(
        nodes,
        "net",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 6, 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))


class Base:
    """The base files every case copies: net.onnx and its IR at the four levels."""

    def __init__(self, folder: Path, compile_ir: Callable[[list[str], str], None]):
        self.folder = folder
        base_onnx(folder / "net.onnx")
        # below the nn level: a chip small enough that the net needs 4 partitions with cut
        # layers, so pim.piece / pim.accumulate, DRAM loads and stores are in the IR
        (folder / "small.toml").write_text(SMALL_CHIP)
        for level in LEVELS:
            chip = "compass-s" if level == "nn" else "small.toml"
            compile_ir(
                ["net.onnx", "--chip", chip, *PIPELINE[level], "-o", f"{level}.mlir"], str(folder)
            )
            assert (folder / f"{level}.mlir").is_file(), f"cannot build the {level} base"

    def case_dir(self, root: Path, name: str, files: list[str]) -> Path:
        d = root / name
        d.mkdir(parents=True)
        for f in files:
            shutil.copy(self.folder / f, d / f)
        return d
