"""Parameter counting in torchvision's sense (trainable weights, not BN running statistics)."""

from __future__ import annotations

import math

import onnx

# (op type, input positions that hold trainable parameters)
_PARAM_INPUTS: dict[str, tuple[int, ...]] = {
    "Conv": (1, 2),
    "Gemm": (1, 2),
    "MatMul": (0, 1),
    "Add": (0, 1),  # the bias of a MatMul + Add linear layer
    "BatchNormalization": (1, 2),  # scale and bias; mean and var are buffers, not parameters
}


def count_parameters(model: onnx.ModelProto) -> int:
    """Number of float parameters the nodes consume from initializers.

    With BatchNorm kept as nodes (the dynamo and zoo9 styles) this equals torchvision's
    `sum(p.numel() for p in model.parameters())`; with BN folded (torchscript) each BN layer
    contributes one bias per channel instead of scale and bias.
    """
    sizes = {
        t.name: math.prod(t.dims)
        for t in model.graph.initializer
        if t.data_type == onnx.TensorProto.FLOAT
    }
    counted: set[str] = set()
    for node in model.graph.node:
        for pos in _PARAM_INPUTS.get(node.op_type, ()):
            if pos < len(node.input) and node.input[pos] in sizes:
                counted.add(node.input[pos])
    return sum(sizes[name] for name in counted)
