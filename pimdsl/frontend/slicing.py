"""Converters for ONNX Slice and Split: both become `nn.slice` ops (one per Split output).

ONNX indices may be negative (counted from the end) and out of range (clamped); here they are
resolved against the static shape, so `nn.slice` only ever holds canonical, in-range, non-empty
boxes with positive steps. On constants both ops give lazy views: a slice of a weight is
rebuilt in IR as `nn.slice` of the `nn.weight`, a slice of a shape vector is folded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import onnx
from xdsl.ir import SSAValue

from pimdsl.dialects import nn
from pimdsl.dialects.nn import shape_of
from pimdsl.frontend.context import ImportContext, converter
from pimdsl.frontend.shape_rules import norm_axis
from pimdsl.frontend.values import Const, Value

# One axis of a slice: (axis, effective start, effective end, step), as ONNX resolves them.
AxisSlice = tuple[int, int, int, int]


def effective_bounds(dim: int, start: int, end: int, step: int) -> tuple[int, int]:
    """ONNX Slice's start and end for one axis of size `dim`: negative values count from the
    end, then both are clamped to [0, dim] (step > 0) or [0, dim - 1] / [-1, dim - 1] (step < 0)."""
    if start < 0:
        start += dim
    if end < 0:
        end += dim
    if step > 0:
        return min(max(start, 0), dim), min(max(end, 0), dim)
    return min(max(start, 0), dim - 1), min(max(end, -1), dim - 1)


def _shape(v: Value) -> tuple[int, ...]:
    return v.shape if isinstance(v, Const) else shape_of(v)


def _numpy_index(rank: int, box: Sequence[AxisSlice]) -> tuple[slice, ...]:
    index = [slice(None)] * rank
    for a, s, e, st in box:
        # end -1 with a negative step means "before index 0", which a Python slice spells None
        index[a] = slice(s, None if e < 0 else e, st)
    return tuple(index)


def _sliced(ctx: ImportContext, data: Value, box: list[AxisSlice], out: str) -> Value | None:
    """`data` restricted to `box` (axes distinct, bounds already effective): the input itself
    when the box is everything, a lazy constant for constant data, else one nn.slice."""
    src = _shape(data)
    shape = list(src)
    for a, s, e, st in box:
        shape[a] = len(range(s, e, st))
    box = sorted(b for b in box if (b[1], b[2], b[3]) != (0, src[b[0]], 1))
    if not box:
        return data
    if 0 in shape and not isinstance(data, Const):  # empty constants (shape vectors) are fine
        if not ctx.consumers.get(out, 0):
            return None
        raise ctx.error(
            f"its output '{out}' is empty (shape {shape}) and is used; pimdsl's nn IR has no empty "
            "tensors.",
            hint="Remove the empty slice from the model (e.g. simplify it with onnx-simplifier).",
        )
    index = _numpy_index(len(src), box)
    positive = all(st > 0 for _, _, _, st in box)

    def make(x: SSAValue) -> nn.SliceOp:
        return nn.SliceOp(
            x, [b[0] for b in box], [b[1] for b in box], [b[2] for b in box], [b[3] for b in box]
        )

    if isinstance(data, Const):
        recipe: Callable[[], SSAValue] | None = None
        if (
            positive
            and 0 not in shape
            and (data.initializer is not None or data.recipe is not None)
        ):

            def rebuild() -> SSAValue:
                return ctx.emit(make(ctx.materialise(data)), out)

            recipe = rebuild
        return Const(tuple(shape), data.dtype, lambda: data.value()[index], recipe=recipe)
    if not positive:
        steps = [st for _, _, _, st in box]
        raise ctx.error(
            f"it slices the run-time tensor '{ctx.node.input[0]}' with steps {steps}; pimdsl's "
            "nn.slice supports only positive steps (a negative step reverses the tensor).",
            hint="Re-export the model without the reversal (e.g. torch.flip), or apply it to a "
            "constant so that it folds at import.",
        )
    return ctx.emit(make(data), out)


@converter("Slice", constants=True)
def slice_(ctx: ImportContext, node: onnx.NodeProto) -> list[Value | None]:
    data = ctx.tensor_or_const(0)
    src = _shape(data)
    rank = len(src)
    a = ctx.attrs()
    if ctx.opset < 10:
        if "starts" not in a or "ends" not in a:
            raise ctx.error("it has no 'starts' or 'ends' attribute (required before opset 10).")
        starts = [int(v) for v in a["starts"]]
        ends = [int(v) for v in a["ends"]]
        axes = None if a.get("axes") is None else [int(v) for v in a["axes"]]
        steps = None
    else:
        starts = ctx.opt_ints(1, "starts")
        ends = ctx.opt_ints(2, "ends")
        if starts is None or ends is None:
            raise ctx.error("its 'starts' or 'ends' input is missing (both are required).")
        axes = ctx.opt_ints(3, "axes")
        steps = ctx.opt_ints(4, "steps")
    axes = list(range(len(starts))) if axes is None else axes
    steps = [1] * len(starts) if steps is None else steps
    if not len(starts) == len(ends) == len(axes) == len(steps):
        raise ctx.error(
            f"its starts {starts}, ends {ends}, axes {axes} and steps {steps} differ in length; "
            "ONNX needs one of each per sliced axis."
        )
    try:
        norm = [norm_axis(v, rank) for v in axes]
    except ValueError as e:
        raise ctx.error(f"{e}.") from None
    if len(set(norm)) != len(norm):
        raise ctx.error(f"its axes {axes} repeat an axis of the rank-{rank} input.")
    if 0 in steps:
        raise ctx.error(f"its steps {steps} contain 0; ONNX steps must be non-zero.")
    box = [
        (ax, *effective_bounds(src[ax], s, e, st), st)
        for ax, s, e, st in zip(norm, starts, ends, steps, strict=True)
    ]
    return [_sliced(ctx, data, box, node.output[0])]


def split_sizes(ctx: ImportContext, node: onnx.NodeProto, dim: int) -> list[int]:
    """The length of every output along the split axis, from whichever encoding the node uses:
    `split` attribute (opset < 13), `split` input (>= 13), `num_outputs` attribute (>= 18), or
    none of them (equal parts, one per output)."""
    a = ctx.attrs()
    n = len(node.output)
    if ctx.opset < 13:
        sizes = None if a.get("split") is None else [int(v) for v in a["split"]]
    else:
        sizes = ctx.opt_ints(1, "split sizes")
    num = a.get("num_outputs") if ctx.opset >= 18 else None
    if sizes is not None and num is not None:
        raise ctx.error(
            "it has both a 'split' input and a 'num_outputs' attribute; ONNX allows one."
        )
    if sizes is None and num is not None:
        num = int(num)
        if num != n:
            raise ctx.error(f"its num_outputs is {num} but it has {n} outputs.")
        # ONNX: chunks of ceil(dim / num), the last one smaller when dim does not divide evenly.
        chunk = -(-dim // num)
        sizes = [chunk] * (num - 1) + [dim - chunk * (num - 1)]
        if sizes[-1] < 0:
            raise ctx.error(
                f"it splits an axis of size {dim} into num_outputs={num} chunks of {chunk}, which "
                "leaves a negative last chunk.",
                hint="Give the sizes explicitly with the 'split' input.",
            )
    elif sizes is None:
        if dim % n:
            raise ctx.error(
                f"it splits an axis of size {dim} into {n} equal parts, which does not divide evenly.",
                hint="Give the sizes explicitly (the 'split' attribute or input).",
            )
        sizes = [dim // n] * n
    if len(sizes) != n or min(sizes, default=0) < 0 or sum(sizes) != dim:
        raise ctx.error(
            f"its split sizes {sizes} must be {n} non-negative numbers (one per output) summing to "
            f"the axis size {dim}."
        )
    return sizes


@converter("Split", constants=True)
def split(ctx: ImportContext, node: onnx.NodeProto) -> list[Value | None]:
    data = ctx.tensor_or_const(0)
    src = _shape(data)
    try:
        axis = norm_axis(int(ctx.attrs().get("axis", 0)), len(src))
    except ValueError as e:
        raise ctx.error(f"{e}.") from None
    outs: list[Value | None] = []
    start = 0
    for name, size in zip(node.output, split_sizes(ctx, node, src[axis]), strict=True):
        outs.append(_sliced(ctx, data, [(axis, start, start + size, 1)], name) if name else None)
        start += size
    return outs


__all__ = ["effective_bounds", "split_sizes"]
