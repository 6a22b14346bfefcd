"""xDSL interpreter functions for the `nn` dialect: tensors are float32 numpy arrays.

Each `@impl` reads the op's properties, calls the matching kernel in `nn_kernels` and checks
the result against the op's result type, so a kernel bug surfaces at the op that caused it.
`nn.weight` reads the module's weight file through the `WeightStore` this object holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, StructPackableType
from xdsl.interpreter import Interpreter, InterpreterFunctions, PythonValues, impl, register_impls
from xdsl.ir import Operation

from pimdsl.dialects import nn
from pimdsl.errors import PimError
from pimdsl.sim import nn_kernels as k
from pimdsl.weights import WeightStore

if TYPE_CHECKING:
    from pimdsl.sim.runner import RunContext


def _result(op: Operation, value: np.ndarray) -> PythonValues:
    expected = nn.shape_of(op.results[0])
    if value.shape != expected:
        # a kernel bug, not a user error: let it surface as a traceback
        raise RuntimeError(
            f"internal error: '{op.name}' produced shape {list(value.shape)}, the IR says {list(expected)}"
        )
    return (np.asarray(value, dtype=np.float32),)


def _float(attr: Any) -> float:
    return float(attr.value.data)


def _int(attr: Any) -> int:
    return int(attr.value.data)


def dense_to_numpy(attr: DenseIntOrFPElementsAttr) -> np.ndarray:
    """The values of a dense elements attribute as a float32 array (splats broadcast)."""
    element = attr.get_element_type()
    assert isinstance(element, StructPackableType), f"no numpy dtype for {element}"
    dtype = np.dtype(element.format)
    flat = np.frombuffer(attr.data.data, dtype=dtype)
    shape = tuple(attr.get_shape())
    if flat.size == 1 and int(np.prod(shape, dtype=np.int64)) != 1:
        return np.full(shape, flat[0], dtype=np.float32)
    return flat.astype(np.float32).reshape(shape)


def weight_where(op: nn.WeightOp) -> str:
    """How an error names an `nn.weight` op: its name, and its function when it has one."""
    func = op.parent_op()
    fname = getattr(getattr(func, "sym_name", None), "data", None)
    inside = f" in @{fname}" if fname else ""
    return f'nn.weight "{op.key}"{inside}'


@register_impls
@dataclass
class NNFunctions(InterpreterFunctions):
    """Reference semantics of every `nn` op. `weights` is None for a shape-only module."""

    weights: WeightStore | None = None

    @classmethod
    def for_run(cls, context: RunContext) -> NNFunctions:
        """The factory `pimdsl.sim.runner.LEVELS` names for the `nn` dialect."""
        return cls(weights=context.weights)

    # --- weights and constants ------------------------------------------------------------

    @impl(nn.WeightOp)
    def run_weight(
        self, interpreter: Interpreter, op: nn.WeightOp, args: PythonValues
    ) -> PythonValues:
        if self.weights is None:
            raise PimError(
                f"{weight_where(op)}: the module names no weight file (attribute pim.weights), "
                "so its weights are unknown.",
                hint="Import the network from its .onnx file, or add pim.weights pointing at "
                "an .onnx/.npz/.safetensors file.",
            )
        return _result(
            op, self.weights.fetch(op.key, nn.shape_of(op.result), where=weight_where(op))
        )

    @impl(nn.ConstantOp)
    def run_constant(
        self, interpreter: Interpreter, op: nn.ConstantOp, args: PythonValues
    ) -> PythonValues:
        return _result(op, dense_to_numpy(op.value))

    # --- weight layers --------------------------------------------------------------------

    @impl(nn.Conv2dOp)
    def run_conv2d(
        self, interpreter: Interpreter, op: nn.Conv2dOp, args: PythonValues
    ) -> PythonValues:
        x, w, *b = args
        y = k.conv2d(
            x,
            w,
            b[0] if b else None,
            strides=nn.ints(op.strides),
            pads=nn.ints(op.pads),
            dilations=nn.ints(op.dilations),
            groups=_int(op.groups),
        )
        return _result(op, y)

    @impl(nn.LinearOp)
    def run_linear(
        self, interpreter: Interpreter, op: nn.LinearOp, args: PythonValues
    ) -> PythonValues:
        x, w, *b = args
        y = k.linear(x, w, b[0] if b else None, weight_in_out=op.weight_in_out is not None)
        return _result(op, y)

    # --- pooling --------------------------------------------------------------------------

    @impl(nn.MaxPoolOp)
    def run_maxpool(
        self, interpreter: Interpreter, op: nn.MaxPoolOp, args: PythonValues
    ) -> PythonValues:
        y = k.maxpool(
            args[0],
            kernel=nn.ints(op.kernel),
            strides=nn.ints(op.strides),
            pads=nn.ints(op.pads),
            dilations=op.dilation_values(),
            ceil_mode=op.ceil_mode is not None,
        )
        return _result(op, y)

    @impl(nn.AvgPoolOp)
    def run_avgpool(
        self, interpreter: Interpreter, op: nn.AvgPoolOp, args: PythonValues
    ) -> PythonValues:
        y = k.avgpool(
            args[0],
            kernel=nn.ints(op.kernel),
            strides=nn.ints(op.strides),
            pads=nn.ints(op.pads),
            dilations=op.dilation_values(),
            ceil_mode=op.ceil_mode is not None,
            count_include_pad=op.count_include_pad is not None,
        )
        return _result(op, y)

    @impl(nn.GlobalAvgPoolOp)
    def run_global_avgpool(
        self, interpreter: Interpreter, op: nn.GlobalAvgPoolOp, args: PythonValues
    ) -> PythonValues:
        return _result(op, k.global_avgpool(args[0]))

    # --- element-wise ---------------------------------------------------------------------

    @impl(nn.AddOp)
    def run_add(self, interpreter: Interpreter, op: nn.AddOp, args: PythonValues) -> PythonValues:
        return _result(op, k.add(*args))

    @impl(nn.SubOp)
    def run_sub(self, interpreter: Interpreter, op: nn.SubOp, args: PythonValues) -> PythonValues:
        return _result(op, k.sub(*args))

    @impl(nn.MulOp)
    def run_mul(self, interpreter: Interpreter, op: nn.MulOp, args: PythonValues) -> PythonValues:
        return _result(op, k.mul(*args))

    @impl(nn.DivOp)
    def run_div(self, interpreter: Interpreter, op: nn.DivOp, args: PythonValues) -> PythonValues:
        return _result(op, k.div(*args))

    @impl(nn.ReluOp)
    def run_relu(self, interpreter: Interpreter, op: nn.ReluOp, args: PythonValues) -> PythonValues:
        return _result(op, k.relu(args[0]))

    @impl(nn.SigmoidOp)
    def run_sigmoid(
        self, interpreter: Interpreter, op: nn.SigmoidOp, args: PythonValues
    ) -> PythonValues:
        return _result(op, k.sigmoid(args[0]))

    @impl(nn.TanhOp)
    def run_tanh(self, interpreter: Interpreter, op: nn.TanhOp, args: PythonValues) -> PythonValues:
        return _result(op, k.tanh(args[0]))

    @impl(nn.ClipOp)
    def run_clip(self, interpreter: Interpreter, op: nn.ClipOp, args: PythonValues) -> PythonValues:
        return _result(op, k.clip(args[0], _float(op.min), _float(op.max)))

    @impl(nn.LeakyReluOp)
    def run_leaky_relu(
        self, interpreter: Interpreter, op: nn.LeakyReluOp, args: PythonValues
    ) -> PythonValues:
        return _result(op, k.leaky_relu(args[0], _float(op.alpha)))

    @impl(nn.FakeQuantOp)
    def run_fake_quant(
        self, interpreter: Interpreter, op: nn.FakeQuantOp, args: PythonValues
    ) -> PythonValues:
        lo, hi = op.bounds()
        return _result(
            op, k.fake_quant(args[0], _float(op.scale), op.zero_point.value.data, lo, hi)
        )

    @impl(nn.SoftmaxOp)
    def run_softmax(
        self, interpreter: Interpreter, op: nn.SoftmaxOp, args: PythonValues
    ) -> PythonValues:
        return _result(op, k.softmax(args[0], _int(op.axis)))

    @impl(nn.LRNOp)
    def run_lrn(self, interpreter: Interpreter, op: nn.LRNOp, args: PythonValues) -> PythonValues:
        y = k.lrn(
            args[0],
            size=_int(op.size),
            alpha=_float(op.alpha),
            beta=_float(op.beta),
            bias=_float(op.bias),
        )
        return _result(op, y)

    @impl(nn.BatchNormOp)
    def run_batch_norm(
        self, interpreter: Interpreter, op: nn.BatchNormOp, args: PythonValues
    ) -> PythonValues:
        return _result(op, k.batch_norm(*args, epsilon=_float(op.epsilon)))

    # --- data movement --------------------------------------------------------------------

    @impl(nn.ConcatOp)
    def run_concat(
        self, interpreter: Interpreter, op: nn.ConcatOp, args: PythonValues
    ) -> PythonValues:
        return _result(op, k.concat(args, _int(op.axis)))

    @impl(nn.ReshapeOp)
    def run_reshape(
        self, interpreter: Interpreter, op: nn.ReshapeOp, args: PythonValues
    ) -> PythonValues:
        return _result(op, k.reshape(args[0], nn.shape_of(op.output)))

    @impl(nn.FlattenOp)
    def run_flatten(
        self, interpreter: Interpreter, op: nn.FlattenOp, args: PythonValues
    ) -> PythonValues:
        return _result(op, k.flatten(args[0], _int(op.axis)))

    @impl(nn.TransposeOp)
    def run_transpose(
        self, interpreter: Interpreter, op: nn.TransposeOp, args: PythonValues
    ) -> PythonValues:
        return _result(op, k.transpose(args[0], nn.ints(op.perm)))

    @impl(nn.PadOp)
    def run_pad(self, interpreter: Interpreter, op: nn.PadOp, args: PythonValues) -> PythonValues:
        value = _float(op.value) if op.value is not None else 0.0
        return _result(op, k.pad(args[0], nn.ints(op.pads), op.mode_name, value))

    @impl(nn.SliceOp)
    def run_slice(
        self, interpreter: Interpreter, op: nn.SliceOp, args: PythonValues
    ) -> PythonValues:
        y = k.slice_box(
            args[0], nn.ints(op.axes), nn.ints(op.starts), nn.ints(op.ends), op.step_values()
        )
        return _result(op, y)
