"""Emitters of the element-wise vector ops: unary activations (also fused into a weight layer's
stores, `UNARY`), binary ops of equal shapes or with a per-channel weight, batch norm, LRN and
softmax."""

from __future__ import annotations

from collections.abc import Callable

from xdsl.ir import Operation

from pimdsl.dialects import nn
from pimdsl.dialects import pim_isa as isa
from pimdsl.isa.emit import Unary


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
