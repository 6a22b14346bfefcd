"""Emitters of the element-wise vector ops: unary activations (also fused into a weight layer's
stores, `UNARY`), binary ops of equal shapes or with a per-channel weight, batch norm, LRN and
softmax."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from xdsl.ir import Operation, SSAValue

from pimdsl.dialects import nn
from pimdsl.dialects import pim_isa as isa
from pimdsl.errors import PimError
from pimdsl.isa.builder import CoreCode
from pimdsl.isa.emit import Unary
from pimdsl.isa.emit_elementwise import batch_norm, elementwise, lrn, per_channel, softmax_rows
from pimdsl.isa.emitters import VectorTask, shape, vector_emitter, where

if TYPE_CHECKING:
    from pimdsl.isa.state import PartitionState


def _clip(op: Operation) -> Unary:
    assert isinstance(op, nn.ClipOp)
    lo, hi = op.min.value.data, op.max.value.data
    return lambda d, s, n: isa.VClipOp(d, s, n, min=lo, max=hi)


def _leaky_relu(op: Operation) -> Unary:
    assert isinstance(op, nn.LeakyReluOp)
    alpha = op.alpha.value.data
    return lambda d, s, n: isa.VLeakyReluOp(d, s, n, alpha=alpha)


def _fake_quant(op: Operation) -> Unary:
    assert isinstance(op, nn.FakeQuantOp)
    scale, zero_point = op.scale.value.data, op.zero_point.value.data
    lo, hi = op.bounds()
    return lambda d, s, n: isa.VFakeQuantOp(
        d, s, n, scale=scale, zero_point=zero_point, min=lo, max=hi
    )


UNARY: dict[type, Callable[[Operation], Unary]] = {
    nn.ReluOp: lambda op: isa.VReluOp,
    nn.SigmoidOp: lambda op: isa.VSigmoidOp,
    nn.TanhOp: lambda op: isa.VTanhOp,
    nn.ClipOp: _clip,
    nn.LeakyReluOp: _leaky_relu,
    nn.FakeQuantOp: _fake_quant,
}
BINARY: dict[type, type[isa.VectorBinaryOp]] = {
    nn.AddOp: isa.VAddOp,
    nn.SubOp: isa.VSubOp,
    nn.MulOp: isa.VMulOp,
    nn.DivOp: isa.VDivOp,
}


@vector_emitter(*UNARY)
def unary(s: PartitionState, step: VectorTask) -> None:
    op = UNARY[type(step.op)](step.op)
    _row_by_row(s, step, lambda code, a, o, n: code.add(op(code.addr(o), code.addr(a[0]), n)))


@vector_emitter(*BINARY)
def binary(s: PartitionState, step: VectorTask) -> None:
    """Operands of one shape row by row, or a feature map and a per-channel weight."""
    op, cls = step.op, BINARY[type(step.op)]
    a, b = shape(op.operands[0]), shape(op.operands[1])
    weight = per_channel_operand(s, op)
    if weight is not None:
        name, weight_first = weight
        s.on_core(
            step,
            lambda out: per_channel(
                s.e, step.core, step.ins[0], out, name, cls, weight_first, step.what
            ),
        )
        return
    if a != b:
        raise PimError(
            f"crossbar-to-isa: {where(op)} broadcasts {list(a)} with {list(b)}; "
            "only element-wise operands of one shape are supported."
        )
    _row_by_row(
        s,
        step,
        lambda code, a, o, n: code.add(cls(code.addr(o), code.addr(a[0]), code.addr(a[1]), n)),
    )


def _row_by_row(
    s: PartitionState, step: VectorTask, body: Callable[[CoreCode, list[int], int, int], None]
) -> None:
    """An element-wise step on its core: `body(code, input addrs, out addr, len)` per chunk."""
    s.on_core(step, lambda out: elementwise(s.e, step.core, step.ins, out, body, step.what))


def per_channel_operand(s: PartitionState, op: Operation) -> tuple[str, bool] | None:
    """(weight name, weight is the first operand) when `op` combines an NCHW activation
    with a per-channel weight ([C], [C, 1, 1] or [1, C, 1, 1], e.g. a batch norm written
    out as Mul and Add); None otherwise."""
    for i in (0, 1):
        x, w = op.operands[1 - i], op.operands[i]
        key = s.weight_key(w)
        xs, ws = shape(x), shape(w)
        if key is None or s.weight_key(x) is not None or len(xs) != 4:
            continue
        if tuple(ws) in ((xs[1],), (xs[1], 1, 1), (1, xs[1], 1, 1)) and shape(op.results[0]) == xs:
            return key, i == 0
    return None


@vector_emitter(nn.BatchNormOp)
def batch_norm_step(s: PartitionState, step: VectorTask) -> None:
    op = step.op
    assert isinstance(op, nn.BatchNormOp)
    names = tuple(_weight_name(op, v) for v in op.operands[1:])
    if len(shape(op.input)) != 4:
        raise PimError(f"crossbar-to-isa: {where(op)}: only NCHW batch norm is supported.")
    scale, bias, mean, var = names
    eps = op.epsilon.value.data
    s.on_core(
        step,
        lambda out: batch_norm(
            s.e, step.core, step.ins[0], out, (scale, bias, mean, var), eps, step.what
        ),
        [op.input],
    )


@vector_emitter(nn.LRNOp)
def lrn_step(s: PartitionState, step: VectorTask) -> None:
    op = step.op
    assert isinstance(op, nn.LRNOp)
    s.on_core(
        step,
        lambda out: lrn(
            s.e,
            step.core,
            step.ins[0],
            out,
            op.size.value.data,
            op.alpha.value.data,  # type: ignore[arg-type]
            op.beta.value.data,  # type: ignore[arg-type]
            op.bias.value.data,  # type: ignore[arg-type]
            step.what,
        ),
    )


@vector_emitter(nn.SoftmaxOp)
def softmax(s: PartitionState, step: VectorTask) -> None:
    op = step.op
    assert isinstance(op, nn.SoftmaxOp)
    x = shape(op.operands[0])
    if len(x) != 2 or op.axis.value.data % 2 != 1:
        raise PimError(
            f"crossbar-to-isa: {where(op)}: only softmax over the last axis of [N, F] is supported."
        )
    s.on_core(step, lambda out: softmax_rows(s.e, step.core, step.ins[0], out, step.what))


def _weight_name(op: Operation, v: SSAValue) -> str:
    owner = v.owner
    if not isinstance(owner, nn.WeightOp):
        raise PimError(
            f"crossbar-to-isa: {where(op)} takes a parameter that is not a tensor of the "
            "weight file; not supported."
        )
    return owner.key
