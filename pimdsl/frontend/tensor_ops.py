"""Converters for element-wise ops, activations and data movement (reshape, concat, pad...).

The reshaping ops also accept constants: on a weight they give a lazy view that knows how to
rebuild itself in IR (nn.reshape / nn.transpose of the nn.weight), so weights are never copied.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import onnx
from xdsl.ir import Operation, SSAValue

from pimdsl.dialects import nn
from pimdsl.dialects.nn import shape_of
from pimdsl.frontend.context import F32_MAX, ImportContext, converter
from pimdsl.frontend.shape_rules import (
    flatten_shape,
    norm_axis,
    reshape_target,
    squeeze_shape,
    transpose_shape,
    unsqueeze_shape,
)
from pimdsl.frontend.values import Const, Value
from pimdsl.shapes import broadcast_shapes


def _shape(v: Value) -> tuple[int, ...]:
    return v.shape if isinstance(v, Const) else shape_of(v)


def _view(
    ctx: ImportContext,
    src: Const,
    shape: tuple[int, ...],
    compute: Callable[[np.ndarray], np.ndarray],
    make_op: Callable[[SSAValue], Operation],
) -> Const:
    """A constant that is a reshaping of `src`: evaluated lazily, rebuilt from weights in IR."""
    out = ctx.node.output[0]
    recipe: Callable[[], SSAValue] | None = None
    if src.initializer is not None or src.recipe is not None:

        def rebuild() -> SSAValue:
            return ctx.emit(make_op(ctx.materialise(src)), out)

        recipe = rebuild
    return Const(shape, src.dtype, lambda: compute(src.value()), recipe=recipe)


def _guard(ctx: ImportContext, fn: Callable[[], tuple[int, ...]]) -> tuple[int, ...]:
    try:
        return fn()
    except ValueError as e:
        raise ctx.error(f"{e}.") from None


# --- pass-through -----------------------------------------------------------------------------


@converter("Identity", "Dropout", constants=True)
def identity(ctx: ImportContext, node: onnx.NodeProto) -> list[Value | None]:
    if node.op_type == "Dropout" and len(node.output) > 1 and ctx.consumers.get(node.output[1], 0):
        raise ctx.error("its mask output is used; pimdsl imports inference graphs only.")
    v = ctx.input(0)
    if v is None:
        raise ctx.error("input 0 is missing.")
    return [v, *([None] * (len(node.output) - 1))]


@converter("Cast", constants=True)
def cast(ctx: ImportContext, node: onnx.NodeProto) -> list[Value]:
    to = int(ctx.attrs()["to"])
    v = ctx.input(0)
    if isinstance(v, Const):
        target = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(to))
        if v.dtype == target:
            return [v]
        # lazy: a float16 weight cast to float32 is computed only for its side-car entry
        return [Const(v.shape, target, lambda: v.value().astype(target))]
    if to != onnx.TensorProto.FLOAT:
        raise ctx.error(
            f"it casts a run-time tensor to {onnx.TensorProto.DataType.Name(to)}; pimdsl's nn IR is float32 only."
        )
    return [ctx.tensor(0)]


@converter("Shape", constants=True)
def shape(ctx: ImportContext, node: onnx.NodeProto) -> list[Value]:
    v = ctx.input(0)
    if v is None:
        raise ctx.error("input 0 is missing.")
    dims = _shape(v)
    a = ctx.attrs()
    start, end = int(a.get("start", 0)), a.get("end")
    sel = dims[start:] if end is None else dims[start : int(end)]
    return [Const.of(np.array(sel, dtype=np.int64))]


@converter("Size", constants=True)
def size(ctx: ImportContext, node: onnx.NodeProto) -> list[Value]:
    v = ctx.input(0)
    if v is None:
        raise ctx.error("input 0 is missing.")
    return [Const.of(np.array(math.prod(_shape(v)), dtype=np.int64))]


# --- reshaping --------------------------------------------------------------------------------


def _reshape_like(ctx: ImportContext, node: onnx.NodeProto, target: tuple[int, ...]) -> Value:
    v = ctx.input(0)
    assert v is not None
    if isinstance(v, Const):
        return _view(ctx, v, target, lambda a: a.reshape(target), lambda x: nn.ReshapeOp(x, target))
    return ctx.emit(nn.ReshapeOp(v, target), node.output[0])


@converter("Reshape", constants=True)
def reshape(ctx: ImportContext, node: onnx.NodeProto) -> list[Value]:
    src = _shape(ctx.tensor_or_const(0))
    if ctx.opset < 5:
        target = [int(d) for d in ctx.attrs().get("shape", [])]
    else:
        target = ctx.opt_ints(1, "target shape") or []
    allowzero = bool(ctx.attrs().get("allowzero", 0))
    return [_reshape_like(ctx, node, _guard(ctx, lambda: reshape_target(src, target, allowzero)))]


@converter("Squeeze", constants=True)
def squeeze(ctx: ImportContext, node: onnx.NodeProto) -> list[Value]:
    src = _shape(ctx.tensor_or_const(0))
    axes = ctx.attrs().get("axes") if ctx.opset < 13 else ctx.opt_ints(1, "axes")
    return [_reshape_like(ctx, node, _guard(ctx, lambda: squeeze_shape(src, axes)))]


@converter("Unsqueeze", constants=True)
def unsqueeze(ctx: ImportContext, node: onnx.NodeProto) -> list[Value]:
    src = _shape(ctx.tensor_or_const(0))
    axes = ctx.attrs().get("axes") if ctx.opset < 13 else ctx.opt_ints(1, "axes")
    if axes is None:
        raise ctx.error("it has no axes.")
    return [_reshape_like(ctx, node, _guard(ctx, lambda: unsqueeze_shape(src, axes)))]


@converter("Flatten", constants=True)
def flatten(ctx: ImportContext, node: onnx.NodeProto) -> list[Value]:
    v = ctx.tensor_or_const(0)
    src = _shape(v)
    axis = int(ctx.attrs().get("axis", 1))
    target = _guard(ctx, lambda: flatten_shape(src, axis))
    if isinstance(v, Const):
        return [_reshape_like(ctx, node, target)]
    return [ctx.emit(nn.FlattenOp(v, axis + len(src) if axis < 0 else axis), node.output[0])]


@converter("Transpose", constants=True)
def transpose(ctx: ImportContext, node: onnx.NodeProto) -> list[Value]:
    v = ctx.tensor_or_const(0)
    src = _shape(v)
    try:
        perm, target = transpose_shape(src, ctx.attrs().get("perm"))
    except ValueError as e:
        raise ctx.error(f"{e}.") from None
    if isinstance(v, SSAValue):
        return [ctx.emit(nn.TransposeOp(v, perm), node.output[0])]
    out = _view(ctx, v, target, lambda a: a.transpose(perm), lambda x: nn.TransposeOp(x, perm))
    if v.initializer is not None and perm == (1, 0):
        out.transpose_of = v.initializer
    return [out]


# --- element-wise -----------------------------------------------------------------------------

_BINARY: dict[str, type[nn.BinaryOp]] = {
    "Add": nn.AddOp,
    "Sub": nn.SubOp,
    "Mul": nn.MulOp,
    "Div": nn.DivOp,
}


def _fuse_bias(ctx: ImportContext, node: onnx.NodeProto, i: int) -> SSAValue | None:
    """MatMul + Add(bias) -> one nn.linear with a bias, when the MatMul feeds only this Add."""
    lin, bias = ctx.input(i), ctx.input(1 - i)
    if not (isinstance(lin, SSAValue) and isinstance(bias, Const)):
        return None
    op = lin.owner
    if (
        not isinstance(op, nn.LinearOp)
        or op.bias is not None
        or ctx.consumers.get(node.input[i], 0) != 1
    ):
        return None
    if bias.shape != (op.in_out[1],):
        return None
    b = ctx.materialise(bias, parameter=True)
    fused = nn.LinearOp(
        op.input,
        op.weight,
        b,
        weight_in_out=op.weight_in_out is not None,
        result_shape=shape_of(lin),
    )
    y = ctx.emit(fused, node.output[0])
    op.detach()
    op.erase()
    return y


def _per_channel_constant(ctx: ImportContext, i: int) -> bool:
    """Whether input i is a constant [C, 1, 1] or [1, C, 1, 1] combined with an NCHW tensor of
    C channels: a per-channel scale or shift (a batch norm written out), which the chip loads
    from DRAM like a layer parameter, so it is always in a weight file, never inline."""
    c, x = ctx.input(i), ctx.input(1 - i)
    if not isinstance(c, Const) or not isinstance(x, SSAValue) or len(shape_of(x)) != 4:
        return False
    n = shape_of(x)[1]
    return n > 1 and c.shape in ((n, 1, 1), (1, n, 1, 1))


@converter(*_BINARY)
def binary(ctx: ImportContext, node: onnx.NodeProto) -> list[Value]:
    if node.op_type == "Add":
        for i in (0, 1):
            if (fused := _fuse_bias(ctx, node, i)) is not None:
                return [fused]
    x, y = (ctx.tensor(i, parameter=_per_channel_constant(ctx, i)) for i in (0, 1))
    if broadcast_shapes(shape_of(x), shape_of(y)) is None:
        raise ctx.error(
            f"operand shapes {list(shape_of(x))} and {list(shape_of(y))} do not broadcast."
        )
    return [ctx.emit(_BINARY[node.op_type](x, y), node.output[0])]


@converter("Sum")
def sum_(ctx: ImportContext, node: onnx.NodeProto) -> list[Value]:
    acc = ctx.tensor(0)
    for i in range(1, len(node.input)):
        y = ctx.tensor(i)
        if broadcast_shapes(shape_of(acc), shape_of(y)) is None:
            raise ctx.error(
                f"operand shapes {list(shape_of(acc))} and {list(shape_of(y))} do not broadcast."
            )
        acc = ctx.emit(nn.AddOp(acc, y), node.output[0])
    return [acc]


_UNARY: dict[str, type[nn.UnaryOp]] = {
    "Relu": nn.ReluOp,
    "Sigmoid": nn.SigmoidOp,
    "Tanh": nn.TanhOp,
}


@converter(*_UNARY)
def unary(ctx: ImportContext, node: onnx.NodeProto) -> list[Value]:
    return [ctx.emit(_UNARY[node.op_type](ctx.tensor(0)), node.output[0])]


@converter("LeakyRelu")
def leaky_relu(ctx: ImportContext, node: onnx.NodeProto) -> list[Value]:
    alpha = float(ctx.attrs().get("alpha", 0.01))
    return [ctx.emit(nn.LeakyReluOp(ctx.tensor(0), alpha), node.output[0])]


@converter("Clip")
def clip(ctx: ImportContext, node: onnx.NodeProto) -> list[Value]:
    x = ctx.tensor(0)
    if ctx.opset < 11:
        lo, hi = ctx.attrs().get("min"), ctx.attrs().get("max")
    else:
        lo = _scalar(ctx, 1, "min")
        hi = _scalar(ctx, 2, "max")
    lo = -F32_MAX if lo is None else max(float(lo), -F32_MAX)
    hi = F32_MAX if hi is None else min(float(hi), F32_MAX)
    if lo > hi:
        raise ctx.error(f"min {lo} is greater than max {hi}.")
    return [ctx.emit(nn.ClipOp(x, lo, hi), node.output[0])]


def _scalar(ctx: ImportContext, i: int, what: str) -> float | None:
    if ctx.input(i) is None:
        return None
    c = ctx.const(i, what)
    if c.size != 1:
        raise ctx.error(f"its {what} has shape {list(c.shape)}; ONNX needs a scalar.")
    return float(c.value().reshape(-1)[0])


@converter("Softmax")
def softmax(ctx: ImportContext, node: onnx.NodeProto) -> list[Value]:
    x = ctx.tensor(0)
    xs = shape_of(x)
    axis = int(ctx.attrs().get("axis", -1 if ctx.opset >= 13 else 1))
    try:
        axis = norm_axis(axis, len(xs))
    except ValueError as e:
        raise ctx.error(f"{e}.") from None
    out = node.output[0]
    if ctx.opset >= 13 or axis == len(xs) - 1:
        return [ctx.emit(nn.SoftmaxOp(x, axis), out)]
    # Before opset 13, Softmax normalises over all axes from `axis` on, as if flattened to 2-D.
    flat = ctx.emit(nn.ReshapeOp(x, flatten_shape(xs, axis)), out + ".2d")
    y = ctx.emit(nn.SoftmaxOp(flat, 1), out + ".2d")
    return [ctx.emit(nn.ReshapeOp(y, xs), out)]


# --- data movement ----------------------------------------------------------------------------


@converter("Concat")
def concat(ctx: ImportContext, node: onnx.NodeProto) -> list[Value]:
    xs = [ctx.tensor(i) for i in range(len(node.input))]
    rank = len(shape_of(xs[0]))
    try:
        axis = norm_axis(int(ctx.attrs()["axis"]), rank)
    except (KeyError, ValueError) as e:
        raise ctx.error(f"bad axis: {e}.") from None
    for v in xs:
        s = shape_of(v)
        if len(s) != rank or any(s[i] != shape_of(xs[0])[i] for i in range(rank) if i != axis):
            raise ctx.error(
                f"input shapes {[list(shape_of(v)) for v in xs]} differ outside axis {axis}."
            )
    return [ctx.emit(nn.ConcatOp(xs, axis), node.output[0])]


@converter("Pad")
def pad(ctx: ImportContext, node: onnx.NodeProto) -> list[Value]:
    x = ctx.tensor(0)
    rank = len(shape_of(x))
    a = ctx.attrs()
    mode = str(a.get("mode", "constant"))
    if ctx.opset < 11:
        pads = [int(p) for p in a.get("pads", [])]
        value = float(a.get("value", 0.0))
        axes = None
    else:
        pads = ctx.opt_ints(1, "pads") or []
        value = _scalar(ctx, 2, "constant value") or 0.0
        axes = ctx.opt_ints(3, "axes")
    try:
        ax = list(range(rank)) if axes is None else [norm_axis(v, rank) for v in axes]
    except ValueError as e:
        raise ctx.error(f"{e}.") from None
    if len(pads) != 2 * len(ax):
        raise ctx.error(f"it has {len(pads)} pads for {len(ax)} axes; ONNX needs two per axis.")
    if min(pads, default=0) < 0:
        raise ctx.error(f"its pads {pads} are negative (cropping); pimdsl supports only padding.")
    if mode not in nn.PadOp.MODES:
        raise ctx.error(
            f"mode '{mode}' is not supported; pimdsl supports {', '.join(nn.PadOp.MODES)}."
        )
    full = [0] * (2 * rank)
    for i, axis in enumerate(ax):
        full[axis], full[axis + rank] = pads[i], pads[i + len(ax)]
    return [ctx.emit(nn.PadOp(x, full, mode, value), node.output[0])]
