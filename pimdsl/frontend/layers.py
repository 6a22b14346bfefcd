"""Converters for the layers: convolution, fully connected, pooling, normalisation."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import onnx
from xdsl.dialects.builtin import UnitAttr
from xdsl.ir import SSAValue

from pimdsl.dialects import nn
from pimdsl.dialects.nn import shape_of
from pimdsl.frontend.context import ImportContext, converter, inline_constant
from pimdsl.frontend.shape_rules import auto_pads, norm_axis
from pimdsl.frontend.values import Const, Value
from pimdsl.shapes import broadcast_shapes, conv2d_out_hw


def _spatial(ctx: ImportContext, x: SSAValue, what: str) -> tuple[int, ...]:
    s = shape_of(x)
    if len(s) != 4:
        raise ctx.error(
            f"its input has shape {list(s)}; pimdsl supports only 2-D {what} on NCHW (rank-4) tensors."
        )
    return s


def _window(
    ctx: ImportContext, hw: Sequence[int], kernel: Sequence[int]
) -> tuple[list[int], list[int], list[int]]:
    """(strides, pads [top, left, bottom, right], dilations) from the node's attributes."""
    a = ctx.attrs()
    strides = [int(v) for v in a.get("strides", [1, 1])]
    dilations = [int(v) for v in a.get("dilations", [1, 1])]
    pads = a.get("pads")
    for name, vals, n in (("strides", strides, 2), ("dilations", dilations, 2), ("pads", pads, 4)):
        if vals is not None and len(vals) != n:
            raise ctx.error(f"attribute '{name}' has {len(vals)} values; a 2-D window needs {n}.")
    for name, vals, low in (
        ("strides", strides, 1),
        ("dilations", dilations, 1),
        ("pads", pads, 0),
    ):
        if vals is not None and any(int(v) < low for v in vals):
            raise ctx.error(
                f"attribute '{name}' is {[int(v) for v in vals]}; each value must be >= {low}."
            )
    try:
        p = auto_pads(str(a.get("auto_pad", "NOTSET")), hw, kernel, strides, dilations, pads)
    except ValueError as e:
        raise ctx.error(f"{e}.") from None
    return strides, p, dilations


@converter("Conv")
def conv(ctx: ImportContext, node: onnx.NodeProto) -> list[Value]:
    x = ctx.tensor(0)
    xs = _spatial(ctx, x, "convolutions")
    w = ctx.tensor(1, parameter=True)
    ws = shape_of(w)
    b = ctx.tensor(2, parameter=True) if ctx.input(2) is not None else None
    a = ctx.attrs()
    if len(ws) != 4:
        raise ctx.error(
            f"its weight has shape {list(ws)}; a 2-D convolution needs [Cout, Cin/group, kh, kw]."
        )
    if "kernel_shape" in a and [int(k) for k in a["kernel_shape"]] != list(ws[2:]):
        raise ctx.error(
            f"kernel_shape {list(a['kernel_shape'])} does not match the weight's {list(ws[2:])}."
        )
    strides, pads, dilations = _window(ctx, xs[2:], ws[2:])
    out = (xs[0], ws[0], *conv2d_out_hw(xs[2:], ws[2:], strides, pads, dilations))
    op = nn.Conv2dOp(
        x,
        w,
        b,
        strides=strides,
        pads=pads,
        dilations=dilations,
        groups=int(a.get("group", 1)),
        result_shape=out,
    )
    return [ctx.emit(op, node.output[0])]


def _pool_window(
    ctx: ImportContext, xs: Sequence[int]
) -> tuple[list[int], list[int], list[int], list[int]]:
    a = ctx.attrs()
    kernel = [int(k) for k in a.get("kernel_shape", [])]
    if len(kernel) != 2:
        raise ctx.error(f"kernel_shape {kernel} is not 2-D; pimdsl supports only 2-D pooling.")
    strides, pads, dilations = _window(ctx, xs[2:], kernel)
    return kernel, strides, pads, dilations


@converter("MaxPool")
def maxpool(ctx: ImportContext, node: onnx.NodeProto) -> list[Value | None]:
    if len(node.output) > 1 and node.output[1] and ctx.consumers.get(node.output[1], 0):
        raise ctx.error("its Indices output is used; pimdsl's nn.maxpool has no indices.")
    x = ctx.tensor(0)
    xs = _spatial(ctx, x, "pooling")
    kernel, strides, pads, dilations = _pool_window(ctx, xs)
    ceil = bool(ctx.attrs().get("ceil_mode", 0))
    out = (xs[0], xs[1], *conv2d_out_hw(xs[2:], kernel, strides, pads, dilations, ceil))
    op = nn.MaxPoolOp(
        x,
        kernel=kernel,
        strides=strides,
        pads=pads,
        dilations=dilations,
        ceil_mode=ceil,
        result_shape=out,
    )
    return [ctx.emit(op, node.output[0]), None]


@converter("AveragePool")
def avgpool(ctx: ImportContext, node: onnx.NodeProto) -> list[Value]:
    x = ctx.tensor(0)
    xs = _spatial(ctx, x, "pooling")
    kernel, strides, pads, dilations = _pool_window(ctx, xs)
    a = ctx.attrs()
    ceil = bool(a.get("ceil_mode", 0))
    out = (xs[0], xs[1], *conv2d_out_hw(xs[2:], kernel, strides, pads, dilations, ceil))
    extra = {"count_include_pad": UnitAttr()} if int(a.get("count_include_pad", 0)) else {}
    op = nn.AvgPoolOp(
        x,
        kernel=kernel,
        strides=strides,
        pads=pads,
        dilations=dilations,
        ceil_mode=ceil,
        result_shape=out,
        **extra,
    )
    return [ctx.emit(op, node.output[0])]


@converter("GlobalAveragePool")
def global_avgpool(ctx: ImportContext, node: onnx.NodeProto) -> list[Value]:
    x = ctx.tensor(0)
    _spatial(ctx, x, "pooling")
    return [ctx.emit(nn.GlobalAvgPoolOp(x), node.output[0])]


@converter("GlobalMaxPool")
def global_maxpool(ctx: ImportContext, node: onnx.NodeProto) -> list[Value]:
    x = ctx.tensor(0)
    xs = _spatial(ctx, x, "pooling")
    op = nn.MaxPoolOp(
        x, kernel=xs[2:], strides=[1, 1], pads=[0, 0, 0, 0], result_shape=(xs[0], xs[1], 1, 1)
    )
    return [ctx.emit(op, node.output[0])]


@converter("ReduceMean")
def reduce_mean(ctx: ImportContext, node: onnx.NodeProto) -> list[Value]:
    x = ctx.tensor(0)
    xs = shape_of(x)
    a = ctx.attrs()
    axes = ctx.opt_ints(1, "axes") if ctx.opset >= 18 else a.get("axes")
    spatial = (
        len(xs) == 4 and axes is not None and sorted(norm_axis(int(v), 4) for v in axes) == [2, 3]
    )
    if not spatial:
        raise ctx.error(
            f"it averages axes {list(axes) if axes is not None else 'all'} of a shape-{list(xs)} tensor; "
            "pimdsl supports ReduceMean only over the spatial axes [2, 3] of an NCHW tensor "
            "(a global average pool).",
        )
    y = ctx.emit(nn.GlobalAvgPoolOp(x), node.output[0])
    if not int(a.get("keepdims", 1)):
        y = ctx.emit(nn.ReshapeOp(y, xs[:2]), node.output[0])
    return [y]


def _linear_weight(ctx: ImportContext, c: Const, as_in_out: bool) -> tuple[SSAValue, bool]:
    """The IR weight for a constant matrix M used as y = x @ M (as_in_out) or y = x @ M^T.

    Returns (weight value, weight_in_out flag); a Transpose of an initializer is undone so the
    weight is referenced by its name."""
    if len(c.shape) != 2:
        raise ctx.error(f"its weight has shape {list(c.shape)}; pimdsl needs a matrix.")
    if c.transpose_of is not None:
        return ctx.weight(c.transpose_of), not as_in_out
    return ctx.materialise(c, parameter=True), as_in_out


@converter("Gemm")
def gemm(ctx: ImportContext, node: onnx.NodeProto) -> list[Value]:
    a = ctx.attrs()
    x = ctx.tensor(0)
    if len(shape_of(x)) != 2:
        raise ctx.error(f"input A has shape {list(shape_of(x))}; Gemm needs a matrix.")
    out = node.output[0]
    if int(a.get("transA", 0)):
        x = ctx.emit(nn.TransposeOp(x, [1, 0]), out + ".A_t")
    b = ctx.input(1)
    if not isinstance(b, Const):
        raise ctx.error(
            "its B operand is computed at run time; pimdsl maps Gemm to a crossbar layer, which needs "
            "a constant weight.",
        )
    w, in_out = _linear_weight(ctx, b, as_in_out=not int(a.get("transB", 0)))
    k, m = shape_of(w) if in_out else shape_of(w)[::-1]
    if shape_of(x)[1] != k:
        raise ctx.error(f"A has {shape_of(x)[1]} columns but B has {k} rows.")
    alpha, beta = float(a.get("alpha", 1.0)), float(a.get("beta", 1.0))
    c = ctx.input(2)
    bias = None
    if c is not None and alpha == 1.0 and beta == 1.0 and isinstance(c, Const) and c.shape == (m,):
        bias, c = ctx.materialise(c, parameter=True), None
    y = ctx.emit(
        nn.LinearOp(x, w, bias, weight_in_out=in_out, result_shape=(shape_of(x)[0], m)),
        out if c is None and alpha == 1.0 else out + ".mm",
    )
    if alpha != 1.0:
        y = ctx.emit(
            nn.MulOp(y, ctx.emit(inline_constant(np.float32(alpha)), "alpha")),
            out if c is None else out + ".alpha",
        )
    if c is not None:
        cv = c if isinstance(c, SSAValue) else ctx.materialise(c)
        if beta != 1.0:
            cv = ctx.emit(
                nn.MulOp(cv, ctx.emit(inline_constant(np.float32(beta)), "beta")), out + ".beta"
            )
        if broadcast_shapes(shape_of(y), shape_of(cv)) != shape_of(y):
            raise ctx.error(
                f"C has shape {list(shape_of(cv))}, which does not broadcast to {list(shape_of(y))}."
            )
        y = ctx.emit(nn.AddOp(y, cv), out)
    return [y]


@converter("MatMul")
def matmul(ctx: ImportContext, node: onnx.NodeProto) -> list[Value]:
    lhs, rhs = ctx.input(0), ctx.input(1)
    if not isinstance(rhs, Const) or isinstance(lhs, Const):
        raise ctx.error(
            "pimdsl supports MatMul only as a fully connected layer: a run-time left operand times a "
            "constant matrix (an initializer).",
        )
    x = ctx.tensor(0)
    if len(shape_of(x)) < 2:
        raise ctx.error(f"its left operand has shape {list(shape_of(x))}; pimdsl needs rank >= 2.")
    w, in_out = _linear_weight(ctx, rhs, as_in_out=True)
    k, m = shape_of(w) if in_out else shape_of(w)[::-1]
    if shape_of(x)[-1] != k:
        raise ctx.error(
            f"the left operand has {shape_of(x)[-1]} columns but the matrix has {k} rows."
        )
    op = nn.LinearOp(x, w, None, weight_in_out=in_out, result_shape=(*shape_of(x)[:-1], m))
    return [ctx.emit(op, node.output[0])]


@converter("BatchNormalization")
def batch_norm(ctx: ImportContext, node: onnx.NodeProto) -> list[Value | None]:
    a = ctx.attrs()
    if int(a.get("training_mode", 0)) or any(
        o and ctx.consumers.get(o, 0) for o in node.output[1:]
    ):
        raise ctx.error(
            "it is in training mode; pimdsl imports inference graphs only.",
            hint="Export the model in eval mode (model.eval() in PyTorch).",
        )
    x = ctx.tensor(0)
    scale, bias, mean, var = (ctx.tensor(i, parameter=True) for i in range(1, 5))
    op = nn.BatchNormOp(x, scale, bias, mean, var, float(a.get("epsilon", 1e-5)))
    return [ctx.emit(op, node.output[0]), *([None] * (len(node.output) - 1))]


@converter("LRN")
def lrn(ctx: ImportContext, node: onnx.NodeProto) -> list[Value]:
    a = ctx.attrs()
    x = ctx.tensor(0)
    _spatial(ctx, x, "LRN")
    if "size" not in a:
        raise ctx.error("it has no 'size' attribute (required by ONNX).")
    op = nn.LRNOp(
        x,
        size=int(a["size"]),
        alpha=float(a.get("alpha", 1e-4)),
        beta=float(a.get("beta", 0.75)),
        bias=float(a.get("bias", 1.0)),
    )
    return [ctx.emit(op, node.output[0])]
