"""ONNX shape semantics of the reshaping ops and of auto_pad, shared by run-time tensors and
constants. Each raises ValueError with a readable message on bad input."""

from __future__ import annotations

import math
from collections.abc import Sequence


def norm_axis(axis: int, rank: int) -> int:
    if not -rank <= axis < rank:
        raise ValueError(f"axis {axis} is out of range for rank {rank}")
    return axis % rank


def reshape_target(
    shape: Sequence[int], target: Sequence[int], allowzero: bool = False
) -> tuple[int, ...]:
    """ONNX Reshape: 0 copies the input dimension (unless allowzero), -1 is inferred."""
    out = [int(d) for d in target]
    for i, d in enumerate(out):
        if d == 0 and not allowzero:
            if i >= len(shape):
                raise ValueError(
                    f"shape {list(target)} copies dimension {i} of a rank-{len(shape)} input"
                )
            out[i] = shape[i]
    total = math.prod(shape)
    if out.count(-1) > 1:
        raise ValueError(f"shape {list(target)} has more than one -1")
    if -1 in out:
        known = math.prod(d for d in out if d != -1)
        if known == 0 or total % known:
            raise ValueError(f"cannot reshape {list(shape)} to {list(target)}")
        out[out.index(-1)] = total // known
    if any(d < 0 for d in out) or math.prod(out) != total:
        raise ValueError(f"cannot reshape {list(shape)} ({total} elements) to {list(target)}")
    return tuple(out)


def squeeze_shape(shape: Sequence[int], axes: Sequence[int] | None) -> tuple[int, ...]:
    if axes is None:
        return tuple(d for d in shape if d != 1)
    drop = {norm_axis(int(a), len(shape)) for a in axes}
    for a in drop:
        if shape[a] != 1:
            raise ValueError(f"cannot squeeze axis {a} of shape {list(shape)}: its size is not 1")
    return tuple(d for i, d in enumerate(shape) if i not in drop)


def unsqueeze_shape(shape: Sequence[int], axes: Sequence[int]) -> tuple[int, ...]:
    rank = len(shape) + len(axes)
    put = sorted(norm_axis(int(a), rank) for a in axes)
    if len(set(put)) != len(put):
        raise ValueError(f"repeated axes {list(axes)}")
    out: list[int] = []
    rest = iter(shape)
    for i in range(rank):
        out.append(1 if i in put else next(rest))
    return tuple(out)


def flatten_shape(shape: Sequence[int], axis: int) -> tuple[int, int]:
    if not -len(shape) <= axis <= len(shape):
        raise ValueError(f"axis {axis} is out of range for rank {len(shape)}")
    if axis < 0:
        axis += len(shape)
    return math.prod(shape[:axis]), math.prod(shape[axis:])


def transpose_shape(
    shape: Sequence[int], perm: Sequence[int] | None
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(perm with the ONNX default filled in, result shape)."""
    p = tuple(range(len(shape) - 1, -1, -1)) if perm is None else tuple(int(a) for a in perm)
    if sorted(p) != list(range(len(shape))):
        raise ValueError(f"perm {list(p)} is not a permutation of 0..{len(shape) - 1}")
    return p, tuple(shape[a] for a in p)


def auto_pads(
    auto_pad: str,
    hw: Sequence[int],
    kernel: Sequence[int],
    strides: Sequence[int],
    dilations: Sequence[int],
    pads: Sequence[int] | None,
) -> list[int]:
    """Explicit [top, left, bottom, right] pads for an ONNX auto_pad mode."""
    if auto_pad in ("", "NOTSET"):
        return [int(p) for p in pads] if pads is not None else [0, 0, 0, 0]
    if auto_pad == "VALID":
        return [0, 0, 0, 0]
    if auto_pad not in ("SAME_UPPER", "SAME_LOWER"):
        raise ValueError(
            f"auto_pad '{auto_pad}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID"
        )
    begin: list[int] = []
    end: list[int] = []
    for size, k, s, d in zip(hw, kernel, strides, dilations, strict=True):
        out = -(-size // s)
        total = max(0, (out - 1) * s + (k - 1) * d + 1 - size)
        small, big = total // 2, total - total // 2
        # SAME_UPPER puts the odd pad at the end, SAME_LOWER at the beginning.
        begin.append(small if auto_pad == "SAME_UPPER" else big)
        end.append(big if auto_pad == "SAME_UPPER" else small)
    return [*begin, *end]
