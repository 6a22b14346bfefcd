"""Numpy kernels with ONNX semantics for every `nn` op (float32, NCHW).

These are the reference numerics of the `nn` level: each function takes and returns numpy
arrays and knows nothing about the IR. Spatial ops follow ONNX attribute conventions:
`pads` is [top, left, bottom, right], windows may be dilated, pools may use `ceil_mode`.

Convolution is im2col + one GEMM (BLAS does the work); grouped convolutions are one batched
matmul over the groups, depthwise ones a loop over the kh*kw kernel taps. Pools loop over
kernel taps too, so no Python loop ever runs over channels or pixels.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from pimdsl.shapes import window_out

F32 = np.float32

# im2col of one chunk stays under this many elements (256 MB of float32).
_IM2COL_BUDGET = 1 << 26


def _f32(x: np.ndarray | np.generic) -> np.ndarray:
    return np.asarray(x, dtype=F32)


# --- windows ------------------------------------------------------------------------------------


def _out_hw(
    hw: Sequence[int],
    kernel: Sequence[int],
    strides: Sequence[int],
    pads: Sequence[int],
    dilations: Sequence[int],
    ceil_mode: bool,
) -> tuple[int, int]:
    return (
        window_out(hw[0], kernel[0], strides[0], pads[0], pads[2], dilations[0], ceil_mode),
        window_out(hw[1], kernel[1], strides[1], pads[1], pads[3], dilations[1], ceil_mode),
    )


def _pad_hw(
    x: np.ndarray,
    pads: Sequence[int],
    out_hw: Sequence[int],
    kernel: Sequence[int],
    strides: Sequence[int],
    dilations: Sequence[int],
    value: float,
) -> np.ndarray:
    """Pad H and W by `pads`, plus whatever extra bottom/right padding ceil_mode windows need
    (the extra cells hold `value` and never count as real input)."""
    pad_h = [pads[0], pads[2]]
    pad_w = [pads[1], pads[3]]
    for axis, pad in ((0, pad_h), (1, pad_w)):
        need = (out_hw[axis] - 1) * strides[axis] + dilations[axis] * (kernel[axis] - 1) + 1
        have = x.shape[2 + axis] + pad[0] + pad[1]
        if need > have:
            pad[1] += need - have
    if not any(pad_h) and not any(pad_w):
        return x
    return np.pad(x, ((0, 0), (0, 0), tuple(pad_h), tuple(pad_w)), constant_values=value)


def _taps(
    xp: np.ndarray,
    out_hw: Sequence[int],
    kernel: Sequence[int],
    strides: Sequence[int],
    dilations: Sequence[int],
):
    """Yield (i, j, view) for each kernel tap: view[n, c, oh, ow] = xp[n, c, oh*s + i*d, ...]."""
    oh, ow = out_hw
    sh, sw = strides
    for i in range(kernel[0]):
        r = i * dilations[0]
        for j in range(kernel[1]):
            c = j * dilations[1]
            yield i, j, xp[:, :, r : r + sh * (oh - 1) + 1 : sh, c : c + sw * (ow - 1) + 1 : sw]


# --- weight layers --------------------------------------------------------------------------------


def conv2d(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    *,
    strides: Sequence[int] = (1, 1),
    pads: Sequence[int] = (0, 0, 0, 0),
    dilations: Sequence[int] = (1, 1),
    groups: int = 1,
) -> np.ndarray:
    """ONNX Conv: x [N, C, H, W], w [Cout, C/groups, kh, kw], b [Cout]."""
    x, w = _f32(x), _f32(w)
    n, c, h, wd = x.shape
    cout, cg, kh, kw = w.shape
    out_hw = _out_hw((h, wd), (kh, kw), strides, pads, dilations, False)
    xp = _pad_hw(x, pads, out_hw, (kh, kw), strides, dilations, 0.0)
    if groups == 1:
        y = _conv_gemm(xp, w, out_hw, strides, dilations)
    elif cg == 1 and cout == groups:
        y = _conv_depthwise(xp, w, out_hw, strides, dilations)
    else:
        y = _conv_grouped(xp, w, out_hw, strides, dilations, groups)
    if b is not None:
        y += _f32(b).reshape(1, cout, 1, 1)
    return y


def _windows(
    xp: np.ndarray,
    kernel: Sequence[int],
    out_hw: Sequence[int],
    strides: Sequence[int],
    dilations: Sequence[int],
) -> np.ndarray:
    """A view [N, C, OH, OW, kh, kw] of the (padded) input's receptive fields."""
    kh, kw = kernel
    span = (dilations[0] * (kh - 1) + 1, dilations[1] * (kw - 1) + 1)
    v = sliding_window_view(xp, span, axis=(2, 3))
    v = v[:, :, :: strides[0], :: strides[1], :: dilations[0], :: dilations[1]]
    return v[:, :, : out_hw[0], : out_hw[1]]


def _window_chunks(
    xp: np.ndarray,
    kernel: Sequence[int],
    out_hw: Sequence[int],
    strides: Sequence[int],
    dilations: Sequence[int],
) -> Iterator[tuple[int, np.ndarray]]:
    """(first image, windows) over runs of images whose im2col stays within _IM2COL_BUDGET."""
    n, c = xp.shape[:2]
    per_image = out_hw[0] * out_hw[1] * c * kernel[0] * kernel[1]
    chunk = max(1, _IM2COL_BUDGET // max(per_image, 1))
    for start in range(0, n, chunk):
        yield start, _windows(xp[start : start + chunk], kernel, out_hw, strides, dilations)


def _conv_gemm(
    xp: np.ndarray,
    w: np.ndarray,
    out_hw: Sequence[int],
    strides: Sequence[int],
    dilations: Sequence[int],
) -> np.ndarray:
    n, c = xp.shape[:2]
    cout, _, kh, kw = w.shape
    oh, ow = out_hw
    wm = w.reshape(cout, c * kh * kw).T  # [C*kh*kw, Cout], rows ordered (c, i, j)
    y = np.empty((n, cout, oh, ow), dtype=F32)
    for start, v in _window_chunks(xp, (kh, kw), out_hw, strides, dilations):
        m = v.shape[0]
        # [m, OH, OW, C, kh, kw] -> rows of the im2col matrix (one copy)
        cols = v.transpose(0, 2, 3, 1, 4, 5).reshape(m * oh * ow, c * kh * kw)
        out = cols @ wm  # [m*OH*OW, Cout]
        y[start : start + m] = out.reshape(m, oh, ow, cout).transpose(0, 3, 1, 2)
    return y


def _conv_grouped(
    xp: np.ndarray,
    w: np.ndarray,
    out_hw: Sequence[int],
    strides: Sequence[int],
    dilations: Sequence[int],
    groups: int,
) -> np.ndarray:
    n, c = xp.shape[:2]
    cout, cg, kh, kw = w.shape
    oh, ow = out_hw
    og = cout // groups
    wm = w.reshape(groups, og, cg * kh * kw).transpose(0, 2, 1)  # [G, Cg*kh*kw, Og]
    y = np.empty((n, cout, oh, ow), dtype=F32)
    for start, v in _window_chunks(xp, (kh, kw), out_hw, strides, dilations):
        m = v.shape[0]
        v = v.reshape(m, groups, cg, oh, ow, kh, kw)
        # [G, m*OH*OW, Cg*kh*kw]: one batched matmul over the groups
        cols = v.transpose(1, 0, 3, 4, 2, 5, 6).reshape(groups, m * oh * ow, cg * kh * kw)
        out = np.matmul(cols, wm)  # [G, m*OH*OW, Og]
        out = out.reshape(groups, m, oh, ow, og).transpose(1, 0, 4, 2, 3)
        y[start : start + m] = out.reshape(m, cout, oh, ow)
    return y


def _conv_depthwise(
    xp: np.ndarray,
    w: np.ndarray,
    out_hw: Sequence[int],
    strides: Sequence[int],
    dilations: Sequence[int],
) -> np.ndarray:
    n, c = xp.shape[:2]
    _, _, kh, kw = w.shape
    y = np.zeros((n, c, out_hw[0], out_hw[1]), dtype=F32)
    for i, j, tap in _taps(xp, out_hw, (kh, kw), strides, dilations):
        y += tap * w[:, 0, i, j].reshape(1, c, 1, 1)
    return y


def linear(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, *, weight_in_out: bool = False
) -> np.ndarray:
    """y = x @ W^T + b (W [out, in]) or x @ W + b when `weight_in_out` (W [in, out])."""
    x, w = _f32(x), _f32(w)
    y = x @ (w if weight_in_out else w.T)
    if b is not None:
        y = y + _f32(b)
    return _f32(y)


# --- pooling --------------------------------------------------------------------------------------


def maxpool(
    x: np.ndarray,
    *,
    kernel: Sequence[int],
    strides: Sequence[int],
    pads: Sequence[int] = (0, 0, 0, 0),
    dilations: Sequence[int] = (1, 1),
    ceil_mode: bool = False,
) -> np.ndarray:
    x = _f32(x)
    out_hw = _out_hw(x.shape[2:], kernel, strides, pads, dilations, ceil_mode)
    xp = _pad_hw(x, pads, out_hw, kernel, strides, dilations, -np.inf)
    y: np.ndarray | None = None
    for _, _, tap in _taps(xp, out_hw, kernel, strides, dilations):
        y = tap.copy() if y is None else np.maximum(y, tap, out=y)
    assert y is not None
    return y


def avgpool(
    x: np.ndarray,
    *,
    kernel: Sequence[int],
    strides: Sequence[int],
    pads: Sequence[int] = (0, 0, 0, 0),
    dilations: Sequence[int] = (1, 1),
    ceil_mode: bool = False,
    count_include_pad: bool = False,
) -> np.ndarray:
    """ONNX AveragePool. The divisor counts the window cells inside the input, or with
    `count_include_pad` inside input + `pads`; cells added only for ceil_mode never count."""
    x = _f32(x)
    h, wd = x.shape[2:]
    out_hw = _out_hw((h, wd), kernel, strides, pads, dilations, ceil_mode)
    xp = _pad_hw(x, pads, out_hw, kernel, strides, dilations, 0.0)
    # 1 where a cell counts towards the divisor, as a [1, 1, Hp, Wp] map over the padded grid
    rows = np.zeros(xp.shape[2], dtype=F32)
    cols = np.zeros(xp.shape[3], dtype=F32)
    if count_include_pad:
        rows[: pads[0] + h + pads[2]] = 1
        cols[: pads[1] + wd + pads[3]] = 1
    else:
        rows[pads[0] : pads[0] + h] = 1
        cols[pads[1] : pads[1] + wd] = 1
    mask = (rows[:, None] * cols[None, :])[None, None]
    total = np.zeros((*x.shape[:2], *out_hw), dtype=F32)
    count = np.zeros((1, 1, *out_hw), dtype=F32)
    for (_, _, tap), (_, _, mtap) in zip(
        _taps(xp, out_hw, kernel, strides, dilations),
        _taps(mask, out_hw, kernel, strides, dilations),
        strict=True,
    ):
        total += tap
        count += mtap
    return total / np.maximum(count, 1)


def global_avgpool(x: np.ndarray) -> np.ndarray:
    return _f32(np.mean(_f32(x), axis=(2, 3), keepdims=True, dtype=np.float64))


# --- element-wise ---------------------------------------------------------------------------------


def add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _f32(np.add(_f32(a), _f32(b)))


def sub(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _f32(np.subtract(_f32(a), _f32(b)))


def mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _f32(np.multiply(_f32(a), _f32(b)))


def div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):  # IEEE results, as onnxruntime gives
        return _f32(np.divide(_f32(a), _f32(b)))


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(_f32(x), F32(0))


def clip(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return np.clip(_f32(x), F32(lo), F32(hi))


def fake_quant(x: np.ndarray, scale: float, zero_point: int, lo: int, hi: int) -> np.ndarray:
    """ONNX QuantizeLinear then DequantizeLinear, in float32: ties round to even."""
    s, zp = F32(scale), F32(zero_point)
    q = np.clip(np.rint(_f32(x) / s) + zp, F32(lo), F32(hi))
    return ((q - zp) * s).astype(F32)


def leaky_relu(x: np.ndarray, alpha: float) -> np.ndarray:
    x = _f32(x)
    return np.where(x >= 0, x, x * F32(alpha))


def sigmoid(x: np.ndarray) -> np.ndarray:
    x = _f32(x)
    # exp of a non-positive number never overflows
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(F32)


def tanh(x: np.ndarray) -> np.ndarray:
    return np.tanh(_f32(x))


def softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """ONNX Softmax (opset 13+): along one axis."""
    x = _f32(x)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def lrn(x: np.ndarray, *, size: int, alpha: float, beta: float, bias: float) -> np.ndarray:
    """ONNX LRN: x / (bias + alpha/size * sum of x^2 over channels
    [c - floor((size-1)/2), c + ceil((size-1)/2)])^beta."""
    x = _f32(x)
    c = x.shape[1]
    lo, hi = (size - 1) // 2, (size - 1) - (size - 1) // 2
    sq = np.square(x, dtype=np.float64)
    # prefix sums over a zero-padded channel axis give every window sum at once
    csum = np.cumsum(np.pad(sq, ((0, 0), (lo + 1, hi), (0, 0), (0, 0))), axis=1)
    window = csum[:, size : size + c] - csum[:, :c]
    return _f32(x / (bias + alpha / size * window) ** beta)


def batch_norm(
    x: np.ndarray,
    scale: np.ndarray,
    bias: np.ndarray,
    mean: np.ndarray,
    var: np.ndarray,
    epsilon: float,
) -> np.ndarray:
    x = _f32(x)
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    k = _f32(scale) / np.sqrt(_f32(var) + F32(epsilon))
    return _f32((x - _f32(mean).reshape(shape)) * k.reshape(shape) + _f32(bias).reshape(shape))


# --- data movement --------------------------------------------------------------------------------


def concat(xs: Sequence[np.ndarray], axis: int) -> np.ndarray:
    return np.concatenate([_f32(x) for x in xs], axis=axis)


def reshape(x: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    return _f32(x).reshape(tuple(shape))


def flatten(x: np.ndarray, axis: int) -> np.ndarray:
    lead = int(np.prod(x.shape[:axis], dtype=np.int64))
    return _f32(x).reshape(lead, -1) if x.size else _f32(x).reshape(lead, 0)


def transpose(x: np.ndarray, perm: Sequence[int]) -> np.ndarray:
    return np.ascontiguousarray(_f32(x).transpose(tuple(perm)))


def pad(
    x: np.ndarray, pads: Sequence[int], mode: str = "constant", value: float = 0.0
) -> np.ndarray:
    """ONNX Pad: pads = [begin_0, ..., begin_n, end_0, ..., end_n]."""
    x = _f32(x)
    n = x.ndim
    widths = [(pads[i], pads[i + n]) for i in range(n)]
    if mode == "constant":
        return np.pad(x, widths, mode="constant", constant_values=F32(value))
    if mode not in ("reflect", "edge", "wrap"):  # nn.PadOp's verifier allows no other
        raise ValueError(f"unknown pad mode '{mode}'")
    return np.pad(x, widths, mode=mode)


def slice_box(
    x: np.ndarray,
    axes: Sequence[int],
    starts: Sequence[int],
    ends: Sequence[int],
    steps: Sequence[int] | None = None,
) -> np.ndarray:
    """nn.slice: along each axis in `axes`, indices starts[k], starts[k] + steps[k], ... < ends[k]
    (canonical: non-negative, in range, steps >= 1); the other axes whole."""
    index = [slice(None)] * x.ndim
    for k, a in enumerate(axes):
        index[a] = slice(starts[k], ends[k], 1 if steps is None else steps[k])
    return np.ascontiguousarray(_f32(x)[tuple(index)])
