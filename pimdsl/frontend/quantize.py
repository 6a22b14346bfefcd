"""Quantized (QDQ) models: QuantizeLinear / DequantizeLinear.

- On constants (a quantized weight and its scales) both fold with numpy: `DequantizeLinear` of
  an int8 initializer is a float weight computed at import, so it goes to the side-car file
  (per-tensor or per-axis scales; int8/uint8/int16/uint16/int32 and int4/uint4).
- On a run-time tensor, a `QuantizeLinear` whose every user is a `DequantizeLinear` with the
  same scale and zero point becomes one `nn.fake_quant` (the pair in float, keeping the model's
  scale, zero point and integer type); the `DequantizeLinear` then passes it through.
"""

from __future__ import annotations

import numpy as np
import onnx

from pimdsl.dialects import nn
from pimdsl.frontend.context import ImportContext, converter
from pimdsl.frontend.folding import Arrays, FoldNode, folder
from pimdsl.frontend.shape_rules import norm_axis
from pimdsl.frontend.values import Const, Quant, Value

# numpy / ml_dtypes type name -> nn.fake_quant qtype
_QTYPES = {name: name for name in nn.QUANT_TYPES}


def _per_axis(x: np.ndarray, param: np.ndarray, axis: int) -> np.ndarray:
    """A scale or zero point shaped to broadcast against `x`: a scalar, or 1-D along `axis`."""
    if param.size == 1:
        return param.reshape(())
    if param.ndim != 1:
        raise ValueError(
            f"scale/zero point of shape {list(param.shape)} (blocked quantization) is not supported"
        )
    a = norm_axis(axis, x.ndim)
    if param.shape[0] != x.shape[a]:
        raise ValueError(f"{param.shape[0]} scales for axis {a} of size {x.shape[a]}")
    shape = [1] * x.ndim
    shape[a] = param.shape[0]
    return param.reshape(shape)


def _check_blocked(node: FoldNode) -> None:
    if int(node.attrs.get("block_size", 0)):
        raise ValueError("blocked quantization (block_size) is not supported")


@folder("DequantizeLinear")
def _dequantize(node: FoldNode, x: Arrays) -> list[np.ndarray]:
    _check_blocked(node)
    data, scale = x[0], x[1]
    if data is None or scale is None:
        raise ValueError("input 'x' or 'x_scale' is missing")
    axis = int(node.attrs.get("axis", 1))
    zp = x[2] if len(x) > 2 and x[2] is not None else np.zeros((), dtype=np.int64)
    q = data.astype(np.int64) - _per_axis(data, zp.astype(np.int64), axis)
    out_type = scale.dtype if np.issubdtype(scale.dtype, np.floating) else np.float32
    return [
        (q.astype(np.float32) * _per_axis(data, scale.astype(np.float32), axis)).astype(out_type)
    ]


@folder("QuantizeLinear")
def _quantize(node: FoldNode, x: Arrays) -> list[np.ndarray]:
    _check_blocked(node)
    data, scale = x[0], x[1]
    if data is None or scale is None:
        raise ValueError("input 'x' or 'y_scale' is missing")
    axis = int(node.attrs.get("axis", 1))
    zp = x[2] if len(x) > 2 and x[2] is not None else None
    qtype = _qtype_of(zp, node.attrs)
    lo, hi = nn.QUANT_TYPES[qtype][1:]
    zero = np.zeros((), dtype=np.int64) if zp is None else zp.astype(np.int64)
    q = np.rint(data.astype(np.float32) / _per_axis(data, scale.astype(np.float32), axis))
    q = np.clip(q + _per_axis(data, zero, axis), lo, hi)
    target = zp.dtype if zp is not None else np.dtype(np.uint8)
    return [q.astype(np.int64).astype(target)]


def _qtype_of(zp: np.ndarray | None, attrs: dict[str, object]) -> str:
    """The integer type a QuantizeLinear produces (its zero point's, else `output_dtype`,
    else uint8), as an nn.fake_quant qtype; ValueError for the others (float8, ...)."""
    if zp is not None:
        name = np.dtype(zp.dtype).name
    elif attrs.get("output_dtype"):
        name = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(int(attrs["output_dtype"]))).name  # type: ignore[call-overload]
    else:
        name = "uint8"
    if name not in _QTYPES:
        raise ValueError(
            f"quantization to {name} is not supported (supported: {', '.join(_QTYPES)})"
        )
    return _QTYPES[name]


def _scalar_params(ctx: ImportContext, what: str) -> tuple[float, int, str]:
    """(scale, zero point, qtype) of the current Q or DQ node, which must be per-tensor."""
    scale = ctx.const(1, f"{what} scale").value()
    zp_c = ctx.input(2)
    zp = ctx.const(2, f"{what} zero point").value() if zp_c is not None else None
    if scale.size != 1 or (zp is not None and zp.size != 1):
        raise ctx.error(
            f"it quantizes a run-time tensor with per-axis scales (shape {list(scale.shape)}); pimdsl "
            "supports per-tensor quantization of activations (per-axis only for weights).",
            hint="Quantize activations per tensor (onnxruntime's quantize_static does by default).",
        )
    if int(ctx.attrs().get("block_size", 0)):
        raise ctx.error("blocked quantization (block_size) is not supported.")
    try:
        qtype = _qtype_of(zp, ctx.attrs())
    except ValueError as e:
        raise ctx.error(f"{e}.") from None
    s = float(scale.reshape(-1)[0])
    if not s > 0:
        raise ctx.error(f"its scale is {s}; a quantization scale must be > 0.")
    return s, 0 if zp is None else int(zp.reshape(-1)[0]), qtype


def dequantized(
    node: FoldNode, data: Const, scale: Const, zero_point: Const | None
) -> Quant | None:
    """The model's quantization of a weight DequantizeLinear computes (None for a type
    nn.fake_quant does not know, e.g. the int32 of a bias)."""
    name = np.dtype(data.dtype).name
    if name not in _QTYPES:
        return None
    axis = None if scale.size == 1 else norm_axis(int(node.attrs.get("axis", 1)), len(data.shape))
    return Quant(_QTYPES[name], axis, scale, zero_point)


@converter("QuantizeLinear")
def quantize(ctx: ImportContext, node: onnx.NodeProto) -> list[Value]:
    out = node.output[0]
    users = ctx.users.get(out, [])
    bad = [u for u in users if u is None or u.op_type != "DequantizeLinear"]
    if bad or not users:
        nodes = [u for u in bad if u is not None]
        what = (
            "a graph output"
            if len(nodes) < len(bad) or not users
            else f"node '{nodes[0].name}' (op {nodes[0].op_type})"
        )
        raise ctx.error(
            f"its quantized output '{out}' is used by {what}; pimdsl imports QDQ models, where every "
            "QuantizeLinear on an activation feeds DequantizeLinear nodes only (integer tensors are "
            "not run-time values of the nn IR).",
            hint="Export the model in QDQ format (onnxruntime.quantization.quantize_static with "
            "quant_format=QuantFormat.QDQ), not QOperator.",
        )
    scale, zp, qtype = _scalar_params(ctx, "quantization")
    y = ctx.emit(nn.FakeQuantOp(ctx.tensor(0), scale, zp, qtype), out)
    ctx.quantized[out] = (scale, zp, qtype)
    return [y]


@converter("DequantizeLinear")
def dequantize(ctx: ImportContext, node: onnx.NodeProto) -> list[Value]:
    src = node.input[0]
    if src not in ctx.quantized:
        raise ctx.error(
            f"it dequantizes '{src}', which is neither a constant nor the output of a QuantizeLinear; "
            "pimdsl's nn IR has no integer run-time tensors.",
            hint="Export the model in QDQ format (onnxruntime.quantization.quantize_static with "
            "quant_format=QuantFormat.QDQ).",
        )
    params = _scalar_params(ctx, "dequantization")
    if params != ctx.quantized[src]:
        raise ctx.error(
            f"its scale, zero point and type {params} differ from those of the QuantizeLinear "
            f"that produced '{src}' {ctx.quantized[src]}; pimdsl imports matching QDQ pairs only."
        )
    return [ctx.tensor(0)]


__all__ = ["dequantize", "quantize"]
