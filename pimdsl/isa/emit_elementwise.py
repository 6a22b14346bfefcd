"""Code of the vector steps that compute element by element: unary and binary element-wise ops
row by row, a per-channel operand (a batch norm written out as Mul and Add), inference batch
norm, LRN and softmax over [N, F]."""

from __future__ import annotations

from collections.abc import Callable

from pimdsl.dialects import pim_isa as isa
from pimdsl.errors import PimError
from pimdsl.isa.builder import Aff, CoreCode
from pimdsl.isa.emit import Emit, chunks, open_pixels
from pimdsl.isa.placement import Place


def _rows(places: list[Place]) -> tuple[int, int, Callable[[Place, Aff], Aff]]:
    """(rows per image, row length, offset of row y) covering the interiors of `places`."""
    first = places[0]
    if all(not p.padded for p in places):
        return 1, first.h * first.w * first.c, lambda p, y: Aff.of(0, n=p.image)
    return first.h, first.w * first.c, lambda p, y: p.at(y, 0)


def elementwise(
    e: Emit,
    core: int,
    ins: list[Place],
    out: Place,
    body: Callable[[CoreCode, list[int], int, int], None],
    what: str,
) -> None:
    """Row by row: load each input row chunk, run `body(code, input addrs, out addr, len)`,
    store the chunk."""
    code = e.code(core)
    arena = e.arena(what)
    rows, length, row_at = _rows([*ins, out])
    budget = e.local_elems // (len(ins) + 1)
    bufs = [arena.take(min(length, budget)) for _ in ins]
    obuf = arena.take(min(length, budget))
    e.vector_work[core] = e.vector_work.get(core, 0) + rows * length
    code.open_loop("y", rows)
    y = Aff.of(0, y=1)
    for start, size, count in chunks(length, budget):
        code.open_loop("k", count)
        k = Aff.of(start, k=size)
        for p, buf in zip(ins, bufs, strict=True):
            code.add(isa.LoadOp(p.buffer, code.addr(row_at(p, y) + k), code.addr(buf), size))
        body(code, bufs, obuf, size)
        code.add(isa.StoreOp(code.addr(obuf), out.buffer, code.addr(row_at(out, y) + k), size))
        code.close_loop()
    code.close_loop()


def softmax_rows(e: Emit, core: int, src: Place, out: Place, what: str) -> None:
    code = e.code(core)
    arena = e.arena(what)
    f = src.c
    buf = arena.take(f)
    red = arena.take(1)
    row = Aff.of(0, n=src.image)
    code.add(isa.LoadOp(src.buffer, code.addr(row), code.addr(buf), f))
    code.add(isa.VReduceOp("max", code.addr(red), code.addr(buf), f))
    code.add(isa.VSubOp(code.addr(buf), code.addr(buf), code.addr(red), f, broadcast=True))
    code.add(isa.VExpOp(code.addr(buf), code.addr(buf), f))
    code.add(isa.VReduceOp("sum", code.addr(red), code.addr(buf), f))
    code.add(isa.VDivOp(code.addr(buf), code.addr(buf), code.addr(red), f, broadcast=True))
    code.add(isa.StoreOp(code.addr(buf), out.buffer, code.addr(Aff.of(0, n=out.image)), f))


def batch_norm(
    e: Emit,
    core: int,
    src: Place,
    out: Place,
    names: tuple[str, str, str, str],
    eps: float,
    what: str,
) -> None:
    """Inference batch norm per pixel: x * s + t with s = scale / sqrt(var + eps), t = bias -
    mean * s, computed on the vector unit from the weight file's four [C] tensors."""
    code = e.code(core)
    arena = e.arena(what)
    c = src.c
    scale, shift, tmp, x = (arena.take(c) for _ in range(4))
    scale_name, bias_name, mean_name, var_name = names
    A = code.addr
    code.add(isa.LoadOp(var_name, A(0), A(tmp), c))
    code.add(isa.VClipOp(A(x), A(tmp), c, min=eps, max=eps))  # a vector of eps
    code.add(isa.VAddOp(A(tmp), A(tmp), A(x), c))
    code.add(isa.VPowOp(A(tmp), A(tmp), c, exponent=-0.5))
    code.add(isa.LoadOp(scale_name, A(0), A(scale), c))
    code.add(isa.VMulOp(A(scale), A(scale), A(tmp), c))
    code.add(isa.LoadOp(mean_name, A(0), A(tmp), c))
    code.add(isa.VMulOp(A(tmp), A(tmp), A(scale), c))
    code.add(isa.LoadOp(bias_name, A(0), A(shift), c))
    code.add(isa.VSubOp(A(shift), A(shift), A(tmp), c))
    e.vector_work[core] = e.vector_work.get(core, 0) + src.h * src.w * c * 2
    at_in, at_out = open_pixels(code, src, out)
    code.add(isa.LoadOp(src.buffer, A(at_in), A(x), c))
    code.add(isa.VMulOp(A(x), A(x), A(scale), c))
    code.add(isa.VAddOp(A(x), A(x), A(shift), c))
    code.add(isa.StoreOp(A(x), out.buffer, A(at_out), c))
    code.close_loop()
    code.close_loop()


def per_channel(
    e: Emit,
    core: int,
    src: Place,
    out: Place,
    name: str,
    op: type[isa.VectorBinaryOp],
    weight_first: bool,
    what: str,
) -> None:
    """x (op) w per pixel, w a [C] tensor of the weight file (a per-channel scale or shift)."""
    code = e.code(core)
    arena = e.arena(what)
    c = src.c
    w, x = arena.take(c), arena.take(c)
    A = code.addr
    code.add(isa.LoadOp(name, A(0), A(w), c))
    e.vector_work[core] = e.vector_work.get(core, 0) + src.h * src.w * c
    at_in, at_out = open_pixels(code, src, out)
    code.add(isa.LoadOp(src.buffer, A(at_in), A(x), c))
    code.add(op(A(x), A(w), A(x), c) if weight_first else op(A(x), A(x), A(w), c))
    code.add(isa.StoreOp(A(x), out.buffer, A(at_out), c))
    code.close_loop()
    code.close_loop()


def lrn(
    e: Emit,
    core: int,
    src: Place,
    out: Place,
    size: int,
    alpha: float,
    beta: float,
    bias: float,
    what: str,
) -> None:
    """ONNX LRN per pixel: x / (bias + alpha/size * sum of x^2 over the channel window
    [c - (size-1)//2, c + size//2])^beta. The squares go into a buffer with (size-1)//2 zeros
    before and size//2 after the channels, so one sum pool of `size` taps one element apart
    gives every window; bias and the zeros are made by clipping and scaling loaded data.
    (Local addresses are bytes: element i of a buffer is at buffer + i * elem.)"""
    code = e.code(core)
    arena = e.arena(what)
    c = src.c
    lo, hi = (size - 1) // 2, size // 2
    if max(lo, hi) > c:
        raise PimError(
            f"crossbar-to-isa: {what}: an LRN window of {size} over {c} channels is "
            "not supported (at most 2 x channels + 1)."
        )
    x, k, s = arena.take(c), arena.take(c), arena.take(c)
    sq = arena.take(c + size - 1)
    A = code.addr
    first = src.at(0, 0) if src.padded else Aff.of(0, n=src.image)
    code.add(isa.LoadOp(src.buffer, A(first), A(x), c))  # finite data to make constants from
    code.add(isa.VClipOp(A(k), A(x), c, min=bias, max=bias))  # a vector of bias
    if lo:
        code.add(isa.VScaleOp(A(sq), A(x), lo, factor=0.0))
    if hi:
        code.add(isa.VScaleOp(A(sq + (lo + c) * e.elem), A(x), hi, factor=0.0))
    e.vector_work[core] = e.vector_work.get(core, 0) + src.h * src.w * c * (size + 5)
    at_in, at_out = open_pixels(code, src, out)
    code.add(isa.LoadOp(src.buffer, A(at_in), A(x), c))
    code.add(isa.VMulOp(A(sq + lo * e.elem), A(x), A(x), c))
    code.add(isa.VPoolOp("sum", A(s), A(sq), c, size, 1))
    code.add(isa.VScaleOp(A(s), A(s), c, factor=alpha / size))
    code.add(isa.VAddOp(A(s), A(s), A(k), c))
    code.add(isa.VPowOp(A(s), A(s), c, exponent=-beta))
    code.add(isa.VMulOp(A(x), A(x), A(s), c))
    code.add(isa.StoreOp(A(x), out.buffer, A(at_out), c))
    code.close_loop()
    code.close_loop()
