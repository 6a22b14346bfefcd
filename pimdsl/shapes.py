"""Shape arithmetic shared by the `nn` verifiers, the ONNX frontend and the interpreters."""

from __future__ import annotations

import math
from collections.abc import Sequence


def window_out(
    size: int,
    kernel: int,
    stride: int,
    pad_begin: int,
    pad_end: int,
    dilation: int = 1,
    ceil_mode: bool = False,
) -> int:
    """Output length of a sliding window (conv or pool) along one spatial axis (ONNX semantics)."""
    span = dilation * (kernel - 1) + 1
    total = size + pad_begin + pad_end - span
    if total < 0:
        return 0
    if not ceil_mode:
        return total // stride + 1
    out = math.ceil(total / stride) + 1
    # ONNX / PyTorch: the last window must start inside the input or the left padding.
    if (out - 1) * stride >= size + pad_begin:
        out -= 1
    return out


def conv2d_out_hw(
    hw: Sequence[int],
    kernel: Sequence[int],
    strides: Sequence[int],
    pads: Sequence[int],
    dilations: Sequence[int],
    ceil_mode: bool = False,
) -> tuple[int, int]:
    """`pads` is ONNX order: [top, left, bottom, right]."""
    return (
        window_out(hw[0], kernel[0], strides[0], pads[0], pads[2], dilations[0], ceil_mode),
        window_out(hw[1], kernel[1], strides[1], pads[1], pads[3], dilations[1], ceil_mode),
    )


def broadcast_shapes(a: Sequence[int], b: Sequence[int]) -> tuple[int, ...] | None:
    """Numpy broadcasting of two shapes, or None when they do not broadcast."""
    out: list[int] = []
    for i in range(1, max(len(a), len(b)) + 1):
        x = a[-i] if i <= len(a) else 1
        y = b[-i] if i <= len(b) else 1
        if x != y and 1 not in (x, y):
            return None
        out.append(max(x, y))
    return tuple(reversed(out))


def pair(values: Sequence[int]) -> tuple[int, int]:
    """Two ints (a kernel, strides, a row range...) from an IR array, its length checked."""
    a, b = values
    return int(a), int(b)


def quad(values: Sequence[int]) -> tuple[int, int, int, int]:
    """Four ints (pads: top, left, bottom, right) from an IR array, its length checked."""
    a, b, c, d = values
    return int(a), int(b), int(c), int(d)
