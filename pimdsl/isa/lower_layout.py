"""Emitters of the ops that only move data: channel concat (by rows in the element schedule),
flatten and reshape (the same buffer where the layout allows, `alias`; ShuffleNet's channel
shuffle as one step, `shuffle`; else an NHWC -> (c, h, w) relayout), channel slices and zero
padding of a feature map's height and width."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from xdsl.ir import Operation

from pimdsl.dialects import nn
from pimdsl.errors import PimError
from pimdsl.isa import element
from pimdsl.isa.emit_layout import (
    channel_shuffle,
    channel_slice,
    concat_channels,
    nhwc_to_chw,
    zero_pad,
)
from pimdsl.isa.emitters import VectorTask, shape, vector_emitter, where
from pimdsl.isa.placement import Place

if TYPE_CHECKING:
    from pimdsl.isa.state import PartitionState


@vector_emitter(nn.PadOp)
def pad(s: PartitionState, step: VectorTask) -> None:
    op = step.op
    assert isinstance(op, nn.PadOp)
    x, pads = shape(op.input), nn.ints(op.pads)
    zero = op.mode_name == "constant" and (op.value is None or op.value.value.data == 0.0)
    if not zero or len(x) != 4 or min(pads) < 0 or any(pads[i] or pads[i + 4] for i in (0, 1)):
        raise PimError(
            f"crossbar-to-isa: {where(op)}: only zero padding of a feature map's "
            "height and width is supported."
        )

    def emit(out: Place) -> None:
        if out.fill != 0.0:
            raise PimError(
                f"crossbar-to-isa: {where(op)}: a zero-padded map read by a padded "
                "max pool (-inf halo) is not supported."
            )
        zero_pad(s.e, step.core, step.ins[0], out, pads[2], pads[3], step.what)

    s.on_core(step, emit)


@vector_emitter(nn.ConcatOp)
def concat(s: PartitionState, step: VectorTask) -> None:
    op, e, core, ins, what = step.op, s.e, step.core, step.ins, step.what
    assert isinstance(op, nn.ConcatOp)
    axis = op.axis.value.data % len(shape(op.output))
    if axis != 1 or len(shape(op.output)) not in (2, 4):
        raise PimError(
            f"crossbar-to-isa: {where(op)} concatenates along axis {axis}; "
            "only channels (axis 1) are supported."
        )
    if s.low.part_schedule == "element" and len(shape(op.output)) == 4:
        out = s.low.place_for(op.results[0], step.hint)
        h, w = shape(op.output)[2:]
        pointwise = element.Geometry(*element.POINTWISE, (h, w))
        s.by_rows(
            list(op.operands),
            {s.low.c(v): pointwise for v in op.operands},
            op.results[0],
            {core: [(0, h)]},
            w,
            lambda c, run: concat_channels(e, c, ins, out, what, run),
            s.vector_ns(0, 2 * w * out.c),
        )
        return
    s.on_core(step, lambda out: concat_channels(e, core, ins, out, what))


@vector_emitter(nn.FlattenOp, nn.ReshapeOp)
def flatten(s: PartitionState, step: VectorTask) -> None:
    op = step.op
    if alias(s, op) or (isinstance(op, nn.ReshapeOp) and shuffle(s, op)):
        return
    src, y = step.ins[0], shape(op.results[0])
    if src.rank != 4 or len(y) != 2:
        raise PimError(
            f"crossbar-to-isa: {where(op)} from {list(shape(op.operands[0]))} to "
            f"{list(y)} is not supported."
        )
    s.on_core(step, lambda out: nhwc_to_chw(s.e, step.core, src, out, step.what))


@vector_emitter(nn.SliceOp)
def channel_slice_step(s: PartitionState, step: VectorTask) -> None:
    op = step.op
    assert isinstance(op, nn.SliceOp)
    box = op.box()
    x = shape(op.operands[0])
    if (
        len(x) != 4
        or any(b != (0, d, 1) for i, (b, d) in enumerate(zip(box, x, strict=True)) if i != 1)
        or box[1][2] != 1
    ):
        raise PimError(
            f"crossbar-to-isa: {where(op)}: only unit-step slices along the "
            "channels of a feature map are supported."
        )
    s.on_core(
        step,
        lambda out: channel_slice(
            s.e, step.core, step.ins[0], out, box[1][0], box[1][1], step.what
        ),
    )


def alias(s: PartitionState, op: Operation) -> bool:
    """Flatten/reshape of an unpadded [N, C, 1, 1] (or [N, F]) map to [N, F] or
    [N, F, 1, 1]: the same buffer."""
    x = s.low.c(op.operands[0])
    src = s.place(x)
    y = shape(op.results[0])
    if src.padded or (src.rank == 4 and src.h * src.w != 1):
        return False
    if len(y) == 2:
        s.low.places[op.results[0]] = Place(src.buffer, src.n, math.prod(y[1:]), 1, 1, rank=2)
    elif len(y) == 4 and tuple(y[2:]) == (1, 1):
        s.low.places[op.results[0]] = Place(src.buffer, src.n, y[1], 1, 1)
    else:
        return False
    y = op.results[0]
    # written when and where `x` is: every record of x's producer carries over (its cores,
    # the element schedule's completion time, the batch schedule's stage); a reader of
    # the alias that missed the stage ran at stage 0 and waited a whole pipeline early
    s.writers[y] = s.writers.get(x, set())
    for record in (s.done, s.stages):
        if x in record:
            record[y] = record[x]  # type: ignore[index]
    for w in s.writers[y]:
        s.slots[(y, w)] = s.slots[(x, w)]
    return True


def shuffle(s: PartitionState, op: nn.ReshapeOp) -> bool:
    """reshape [N, C, H, W] -> [N, G, K, H, W], transpose (0, 2, 1, 3, 4), reshape back:
    ShuffleNet's channel shuffle, lowered as one step (the three ops fused)."""
    x, y = shape(op.operands[0]), shape(op.results[0])
    if len(x) != 4 or len(y) != 5 or y[1] * y[2] != x[1] or tuple(y[3:]) != tuple(x[2:]):
        return False
    uses = list(op.results[0].uses)
    if len(uses) != 1 or not isinstance(uses[0].operation, nn.TransposeOp):
        return False
    tr = uses[0].operation
    if nn.ints(tr.perm) != (0, 2, 1, 3, 4) or len(list(tr.results[0].uses)) != 1:
        return False
    back = next(iter(tr.results[0].uses)).operation
    if not isinstance(back, nn.ReshapeOp) or shape(back.results[0]) != x:
        return False
    src = s.place(op.operands[0])
    core = s.vector_core([op.operands[0]])
    out = s.low.place_for(back.results[0], "shuffle")
    s.sync({core}, [op.operands[0]])
    channel_shuffle(s.e, core, src, out, y[1], f"{where(op)} on core {core}")
    s.wrote(back.results[0], {core})
    s.fused.update({tr, back})
    return True
