"""The state of one import and the helpers every op converter uses.

A converter takes the context and an ONNX node and returns one entry per node output: an SSA
value (a run-time tensor it emitted nn ops for), a `Const` (known at import time), or None (an
optional output nobody uses). Converters register themselves in `CONVERTERS`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper
from xdsl.dialects.builtin import (
    BytesAttr,
    DenseIntOrFPElementsAttr,
    IntegerAttr,
    StringAttr,
    TensorType,
    f32,
    i64,
)
from xdsl.ir import Block, Operation, SSAValue

from pimdsl.dialects import nn
from pimdsl.dialects.nn import NODE
from pimdsl.errors import PimError
from pimdsl.frontend.loading import OpenModel
from pimdsl.frontend.values import Const, Value

# Folded constants up to this many elements may be inlined as nn.constant.
MAX_INLINE_ELEMENTS = 1024
F32_MAX = float(np.finfo(np.float32).max)


class ImportContext:
    def __init__(
        self,
        opened: OpenModel,
        block: Block,
        consumers: dict[str, int],
        users: dict[str, list[onnx.NodeProto | None]] | None = None,
    ):
        self.path = opened.path
        self.opset = opened.opset
        self.weights = opened.weights
        self.block = block
        self.consumers = consumers
        # value name -> the nodes reading it (None: a graph output)
        self.users = users or {}
        # run-time values that are QuantizeLinear outputs -> (scale, zero point, qtype)
        self.quantized: dict[str, tuple[float, int, str]] = {}
        self.values: dict[str, Value] = {}
        self.node = onnx.NodeProto()
        self._weight_ops: dict[str, SSAValue] = {}
        # Large constants computed at import and used as tensors: the side-car file's entries.
        self.computed: dict[str, Const] = {}
        self._materialised: dict[tuple[Const, bool], SSAValue] = {}
        self._attrs: dict[int, dict[str, Any]] = {}

    # --- errors -------------------------------------------------------------------------------

    def node_label(self, node: onnx.NodeProto | None = None) -> str:
        node = node or self.node
        name = node.name or (
            f"<unnamed, output '{node.output[0]}'>" if node.output else "<unnamed>"
        )
        return f"node '{name}' (op {node.op_type}, opset {self.opset})"

    def error(self, message: str, hint: str | None = None) -> PimError:
        return PimError(f"{self.node_label()}: {message}", where=self.path, hint=hint)

    # --- reading the node ---------------------------------------------------------------------

    def attrs(self, node: onnx.NodeProto | None = None) -> dict[str, Any]:
        node = node or self.node
        key = id(node)
        if key not in self._attrs:
            out: dict[str, Any] = {}
            for a in node.attribute:
                v = onnx.helper.get_attribute_value(a)
                if isinstance(v, onnx.TensorProto):
                    v = numpy_helper.to_array(v)
                elif isinstance(v, bytes):
                    v = v.decode("utf-8", errors="replace")
                out[a.name] = v
            self._attrs[key] = out
        return self._attrs[key]

    def input(self, i: int) -> Value | None:
        """The i-th input of the current node, or None when it is absent or empty."""
        if i >= len(self.node.input) or not self.node.input[i]:
            return None
        name = self.node.input[i]
        if name not in self.values:
            raise self.error(
                f"input '{name}' is not produced by any node, graph input or initializer.",
                hint="The model is invalid or not topologically sortable; check it with onnx.checker.check_model.",
            )
        return self.values[name]

    def tensor_or_const(self, i: int) -> Value:
        v = self.input(i)
        if v is None:
            raise self.error(f"input {i} is missing.")
        return v

    def tensor(self, i: int, *, parameter: bool = False) -> SSAValue:
        """The i-th input as an IR value (constants are materialised; see `materialise`)."""
        v = self.input(i)
        if v is None:
            raise self.error(f"input {i} is missing.")
        return v if isinstance(v, SSAValue) else self.materialise(v, parameter=parameter)

    def const(self, i: int, what: str) -> Const:
        v = self.input(i)
        if v is None:
            raise self.error(f"input {i} ({what}) is missing.")
        if not isinstance(v, Const):
            raise self.error(
                f"its {what} (input '{self.node.input[i]}') is computed at run time; pimdsl needs it "
                "to be a constant (an initializer or a constant subgraph).",
                hint="Export with constant folding enabled (torch.onnx.export(..., do_constant_folding=True)) "
                "or simplify the model with onnx-simplifier.",
            )
        return v

    def opt_ints(self, i: int, what: str) -> list[int] | None:
        if self.input(i) is None:
            return None
        return [int(x) for x in self.const(i, what).value().reshape(-1)]

    # --- writing IR ---------------------------------------------------------------------------

    def emit(self, op: Operation, hint: str | None = None) -> SSAValue:
        self.block.add_op(op)
        if hint:
            op.results[0].name_hint = value_name(hint)
        if isinstance(op, nn.WEIGHT_LAYERS) and NODE not in op.attributes:
            # the layer's name in reports and errors, whatever SSA names later tools give it
            node = self.node
            label = node.name or (node.output[0] if node.output else "")
            if label:
                op.attributes[NODE] = StringAttr(label)
        return op.results[0]

    def weight(self, name: str) -> SSAValue:
        """`nn.weight "name"`, one per initializer."""
        if name not in self._weight_ops:
            if not self.weights.is_float32(name):
                raise self.error(
                    f"initializer '{name}' has type {self.weights.dtype(name)}; pimdsl's nn IR is float32 only.",
                    hint="Convert the model's weights to float32 before import.",
                )
            self._weight_ops[name] = self.emit(nn.WeightOp(name, self.weights.shape(name)), name)
        return self._weight_ops[name]

    def materialise(self, c: Const, *, parameter: bool = False) -> SSAValue:
        """A constant as an IR value: its initializer by name, its weight recipe, inline when
        small, else a reference to its entry in the side-car weight file.

        A `parameter` of a layer (conv/linear weight or bias, batch-norm statistics) is never
        inlined: the chip loads it from DRAM, so it is always in a weight file."""
        inline = not parameter and c.size <= MAX_INLINE_ELEMENTS
        key = (c, inline)
        if key in self._materialised:
            return self._materialised[key]
        if c.initializer is not None:
            v = self.weight(c.initializer)
        elif c.recipe is not None:
            v = c.recipe()
        elif inline:
            v = self.emit(inline_constant(c.value()), "cst")
        else:
            v = self._computed_weight(c)
        self._materialised[key] = v
        return v

    def _computed_weight(self, c: Const) -> SSAValue:
        if not np.issubdtype(c.dtype, np.floating):
            raise self.error(
                f"a {c.dtype} constant of shape {list(c.shape)} computed at import time is used as "
                "a tensor; pimdsl's nn IR is float32 only.",
                hint="Cast it to float32 in the model.",
            )
        name = c.origin or self.node.output[0]
        while name in self.computed or name in self.weights:
            name += "_"
        self.computed[name] = c
        op = nn.WeightOp(name, c.shape)
        if c.quant is not None:  # keep the model's quantization: type, axis, scales by name
            q = c.quant
            op.attributes["pim.quant_type"] = StringAttr(q.qtype)
            if q.axis is not None:
                op.attributes["pim.quant_axis"] = IntegerAttr(q.axis, i64)
            self.computed[f"{name}.scale"] = q.scale
            if q.zero_point is not None:
                self.computed[f"{name}.zero_point"] = q.zero_point
        return self.emit(op, name)


def inline_constant(array: np.ndarray | np.generic) -> nn.ConstantOp:
    a = np.asarray(array, dtype="<f4")
    t = TensorType(f32, list(a.shape))
    attr = DenseIntOrFPElementsAttr(t, BytesAttr(a.tobytes()))
    return nn.ConstantOp(properties={"value": attr}, result_types=[t])


Converter = Callable[[ImportContext, onnx.NodeProto], Sequence[Value | None]]
CONVERTERS: dict[str, Converter] = {}
# Converters that also handle all-constant inputs themselves (views of weights, shapes); for the
# others, a node whose inputs are all constant is folded with numpy instead.
HANDLES_CONSTANTS: set[str] = set()


def converter(*ops: str, constants: bool = False) -> Callable[[Converter], Converter]:
    def register(fn: Converter) -> Converter:
        for op in ops:
            CONVERTERS[op] = fn
            if constants:
                HANDLES_CONSTANTS.add(op)
        return fn

    return register


_INVALID = re.compile(r"[^A-Za-z0-9_$.-]")


def value_name(onnx_name: str) -> str:
    """A readable SSA name from an ONNX value name: '/layer1/layer1.0/conv1/Conv_output_0'
    becomes 'layer1.0.conv1.Conv'."""
    name = onnx_name.removesuffix("_output_0")
    parts = [p for p in re.split(r"/|::", name) if p]
    # TorchScript repeats module prefixes: /layer1/layer1.0/... -> drop 'layer1'.
    parts = [
        p
        for i, p in enumerate(parts)
        if not (i + 1 < len(parts) and parts[i + 1].startswith(p + "."))
    ]
    out = _INVALID.sub("_", ".".join(parts)) or "v"
    if out[0].isdigit():
        out = "v" + out
    return out
