"""Constant folding with numpy: ONNX ops whose inputs are all known at import time.

Exporters compute shapes with small subgraphs (Shape -> Gather -> Unsqueeze -> Concat ->
Reshape); since pimdsl's shapes are static, these fold to constants. Each folder takes the node's
attributes and input arrays (None for a missing optional input) and returns the output arrays.
A folder raises ValueError with a readable message when the node is malformed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, overload

import numpy as np
import onnx

from pimdsl.frontend.shape_rules import norm_axis

Arrays = list[np.ndarray | None]


@dataclass
class FoldNode:
    op: str
    attrs: dict[str, Any]
    opset: int


Folder = Callable[[FoldNode, Arrays], list[np.ndarray]]
FOLDERS: dict[str, Folder] = {}


def folder(*ops: str) -> Callable[[Folder], Folder]:
    def register(fn: Folder) -> Folder:
        for op in ops:
            FOLDERS[op] = fn
        return fn

    return register


def _req(x: np.ndarray | None, what: str) -> np.ndarray:
    if x is None:
        raise ValueError(f"input '{what}' is missing")
    return x


@overload
def _ints(x: np.ndarray) -> list[int]: ...
@overload
def _ints(x: np.ndarray | None) -> list[int] | None: ...
def _ints(x: np.ndarray | None) -> list[int] | None:
    return None if x is None else [int(v) for v in np.asarray(x).reshape(-1)]


# --- sources ----------------------------------------------------------------------------------


@folder("Constant")
def _constant(node: FoldNode, _: Arrays) -> list[np.ndarray]:
    a = node.attrs
    if "value" in a:
        return [np.asarray(a["value"])]
    if "value_float" in a:
        return [np.array(a["value_float"], dtype=np.float32)]
    if "value_floats" in a:
        return [np.array(a["value_floats"], dtype=np.float32)]
    if "value_int" in a:
        return [np.array(a["value_int"], dtype=np.int64)]
    if "value_ints" in a:
        return [np.array(a["value_ints"], dtype=np.int64)]
    raise ValueError(
        f"Constant with attributes {sorted(a)} (sparse or string constants) is not supported"
    )


@folder("ConstantOfShape")
def _constant_of_shape(node: FoldNode, x: Arrays) -> list[np.ndarray]:
    shape = _ints(_req(x[0], "input")) or []
    value = np.asarray(node.attrs.get("value", np.zeros(1, dtype=np.float32))).reshape(-1)
    return [np.full(shape, value[0], dtype=value.dtype)]


@folder("Range")
def _range(_: FoldNode, x: Arrays) -> list[np.ndarray]:
    start, limit, delta = (_req(v, n) for v, n in zip(x, ("start", "limit", "delta"), strict=False))
    return [np.arange(start.item(), limit.item(), delta.item()).astype(start.dtype)]


# --- shape manipulation -----------------------------------------------------------------------


@folder("Concat")
def _concat(node: FoldNode, x: Arrays) -> list[np.ndarray]:
    parts = [_req(v, "inputs") for v in x]
    return [np.concatenate(parts, axis=norm_axis(int(node.attrs["axis"]), parts[0].ndim))]


@folder("Gather")
def _gather(node: FoldNode, x: Arrays) -> list[np.ndarray]:
    data, idx = _req(x[0], "data"), _req(x[1], "indices")
    axis = norm_axis(int(node.attrs.get("axis", 0)), data.ndim)
    return [np.take(data, idx.astype(np.int64), axis=axis)]


@folder("Slice")
def _slice(node: FoldNode, x: Arrays) -> list[np.ndarray]:
    data = _req(x[0], "data")
    if node.opset < 10:
        starts, ends = node.attrs["starts"], node.attrs["ends"]
        axes, steps = node.attrs.get("axes"), None
    else:
        starts, ends = _ints(_req(x[1], "starts")), _ints(_req(x[2], "ends"))
        axes = _ints(x[3]) if len(x) > 3 else None
        steps = _ints(x[4]) if len(x) > 4 else None
    axes = list(range(len(starts))) if axes is None else axes
    steps = [1] * len(starts) if steps is None else steps
    index = [slice(None)] * data.ndim
    for a, s, e, st in zip(axes, starts, ends, steps, strict=True):
        index[norm_axis(int(a), data.ndim)] = slice(int(s), int(e), int(st))
    return [data[tuple(index)]]


@folder("Expand")
def _expand(_: FoldNode, x: Arrays) -> list[np.ndarray]:
    data, shape = _req(x[0], "input"), _ints(_req(x[1], "shape")) or []
    return [np.broadcast_to(data, np.broadcast_shapes(data.shape, tuple(shape))).copy()]


@folder("Tile")
def _tile(_: FoldNode, x: Arrays) -> list[np.ndarray]:
    return [np.tile(_req(x[0], "input"), _ints(_req(x[1], "repeats")) or [])]


@folder("Pad")
def _pad(node: FoldNode, x: Arrays) -> list[np.ndarray]:
    data = _req(x[0], "data")
    if node.opset < 11:
        pads, value, axes = node.attrs["pads"], float(node.attrs.get("value", 0.0)), None
    else:
        pads = _ints(_req(x[1], "pads")) or []
        value = float(x[2].item()) if len(x) > 2 and x[2] is not None and x[2].size else 0.0
        axes = _ints(x[3]) if len(x) > 3 else None
    mode = node.attrs.get("mode", "constant")
    if isinstance(mode, bytes):
        mode = mode.decode()
    axes = list(range(data.ndim)) if axes is None else [norm_axis(a, data.ndim) for a in axes]
    width = [(0, 0)] * data.ndim
    for i, a in enumerate(axes):
        width[a] = (int(pads[i]), int(pads[i + len(axes)]))
    if mode == "constant":
        return [np.pad(data, width, mode="constant", constant_values=value)]
    modes: dict[str, Literal["reflect", "edge", "wrap"]] = {
        "reflect": "reflect",
        "edge": "edge",
        "wrap": "wrap",
    }
    return [np.pad(data, width, mode=modes[mode])]


# --- arithmetic -------------------------------------------------------------------------------


def _int_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # ONNX integer Div truncates toward zero (C semantics), numpy's // floors.
    q = np.abs(a) // np.abs(b)
    return (q * np.sign(a) * np.sign(b)).astype(np.result_type(a, b))


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if np.issubdtype(a.dtype, np.integer) and np.issubdtype(b.dtype, np.integer):
        return _int_div(a, b)
    return (a / b).astype(np.result_type(a, b))


_BINARY: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "Add": np.add,
    "Sub": np.subtract,
    "Mul": np.multiply,
    "Div": _div,
    "Pow": np.power,
    "Equal": np.equal,
    "Less": np.less,
    "Greater": np.greater,
    "LessOrEqual": np.less_equal,
    "GreaterOrEqual": np.greater_equal,
    "And": np.logical_and,
    "Or": np.logical_or,
    "Xor": np.logical_xor,
    "Mod": np.mod,
}


@folder(*_BINARY)
def _binary(node: FoldNode, x: Arrays) -> list[np.ndarray]:
    a, b = _req(x[0], "A"), _req(x[1], "B")
    fn = np.fmod if node.op == "Mod" and node.attrs.get("fmod", 0) else _BINARY[node.op]
    out = np.asarray(fn(a, b))
    if node.op in ("Add", "Sub", "Mul", "Pow"):
        out = out.astype(a.dtype)  # ONNX keeps the operand type (numpy may widen)
    return [out]


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return (1.0 / (1.0 + np.exp(-a))).astype(a.dtype)


_UNARY: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "Neg": np.negative,
    "Abs": np.abs,
    "Sqrt": np.sqrt,
    "Exp": np.exp,
    "Log": np.log,
    "Floor": np.floor,
    "Ceil": np.ceil,
    "Reciprocal": np.reciprocal,
    "Sign": np.sign,
    "Not": np.logical_not,
    "Relu": lambda a: np.maximum(a, 0).astype(a.dtype),
    "Sigmoid": _sigmoid,
    "Tanh": np.tanh,
}


@folder(*_UNARY)
def _unary(node: FoldNode, x: Arrays) -> list[np.ndarray]:
    return [np.asarray(_UNARY[node.op](_req(x[0], "X")))]


@folder("Where")
def _where(_: FoldNode, x: Arrays) -> list[np.ndarray]:
    return [np.where(_req(x[0], "condition"), _req(x[1], "X"), _req(x[2], "Y"))]


_VARIADIC: dict[str, Callable[[list[np.ndarray]], np.ndarray]] = {
    "Min": lambda xs: np.minimum.reduce(np.broadcast_arrays(*xs)),
    "Max": lambda xs: np.maximum.reduce(np.broadcast_arrays(*xs)),
    "Sum": lambda xs: np.add.reduce(np.broadcast_arrays(*xs)),
    "Mean": lambda xs: np.add.reduce(np.broadcast_arrays(*xs)) / len(xs),
}


@folder(*_VARIADIC)
def _variadic(node: FoldNode, x: Arrays) -> list[np.ndarray]:
    xs = [_req(v, "inputs") for v in x]
    return [np.asarray(_VARIADIC[node.op](xs)).astype(xs[0].dtype)]


@folder("Clip")
def _clip(node: FoldNode, x: Arrays) -> list[np.ndarray]:
    a = _req(x[0], "input")
    if node.opset < 11:
        lo, hi = node.attrs.get("min"), node.attrs.get("max")
    else:
        lo = x[1].item() if len(x) > 1 and x[1] is not None else None
        hi = x[2].item() if len(x) > 2 and x[2] is not None else None
    if lo is None and hi is None:
        return [a]
    return [np.clip(a, lo, hi).astype(a.dtype)]


_REDUCE: dict[str, Callable[..., np.ndarray]] = {
    "ReduceSum": np.sum,
    "ReduceMean": np.mean,
    "ReduceProd": np.prod,
    "ReduceMax": np.max,
    "ReduceMin": np.min,
}


@folder(*_REDUCE)
def _reduce(node: FoldNode, x: Arrays) -> list[np.ndarray]:
    a = _req(x[0], "data")
    axes = _ints(x[1]) if len(x) > 1 else None
    if axes is None and "axes" in node.attrs:
        axes = list(node.attrs["axes"])
    if not axes:
        if node.attrs.get("noop_with_empty_axes", 0):
            return [a]
        axes = list(range(a.ndim))
    keep = bool(node.attrs.get("keepdims", 1))
    ax = tuple(norm_axis(v, a.ndim) for v in axes)
    return [np.asarray(_REDUCE[node.op](a, axis=ax, keepdims=keep)).astype(a.dtype)]


@folder("Cast")
def _cast(node: FoldNode, x: Arrays) -> list[np.ndarray]:
    to = onnx.helper.tensor_dtype_to_np_dtype(int(node.attrs["to"]))
    return [_req(x[0], "input").astype(to)]


@folder("Size")
def _size(_: FoldNode, x: Arrays) -> list[np.ndarray]:
    return [np.array(_req(x[0], "input").size, dtype=np.int64)]
