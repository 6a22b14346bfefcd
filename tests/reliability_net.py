"""A small ONNX network with weights and its IR at each level, for the reliability tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from pimdsl.tools.pim_opt import main as pim_opt

PIPELINES = {"nn": [], "partition": ["--partition"], "pim_isa": ["--partition", "--lower-to-isa"]}


def gemm_net(path: Path, *, alpha: float = 1.0, beta: float = 1.0) -> Path:
    """Conv 3->4 3x3, Relu, Flatten, Gemm 4*4*4 -> 5 (alpha, beta as given)."""
    rng = np.random.default_rng(0)
    inits = [
        numpy_helper.from_array(rng.standard_normal((4, 3, 3, 3)).astype(np.float32), "conv.w"),
        numpy_helper.from_array(rng.standard_normal((5, 64)).astype(np.float32) * 0.1, "fc.w"),
        numpy_helper.from_array(rng.standard_normal(5).astype(np.float32), "fc.b"),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "conv.w"], ["c"], name="conv"),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("Flatten", ["r"], ["f"], name="flat"),
        helper.make_node(
            "Gemm", ["f", "fc.w", "fc.b"], ["y"], name="fc", transB=1, alpha=alpha, beta=beta
        ),
    ]
    graph = helper.make_graph(
        nodes,
        "net",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 6, 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def compile_levels(folder: Path) -> dict[str, Path]:
    """net.onnx and its IR at the nn, partition and pim_isa levels, all in `folder`."""
    gemm_net(folder / "net.onnx")
    out = {"onnx": folder / "net.onnx"}
    for level, passes in PIPELINES.items():
        path = folder / f"{level}.mlir"
        assert (
            pim_opt([str(folder / "net.onnx"), "--chip", "compass-s", *passes, "-o", str(path)])
            == 0
        )
        out[level] = path
    return out
