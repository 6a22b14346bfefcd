"""Code of the steps that only move data: channel concat, relayouts between NHWC feature maps
and row-major buffers (flatten, network inputs and outputs), channel slices, channel shuffle
and zero padding. Each goes row by row through local memory in chunks that fit."""

from __future__ import annotations

from pimdsl.dialects import pim_isa as isa
from pimdsl.errors import PimError
from pimdsl.isa.builder import Aff
from pimdsl.isa.emit import Emit, by_row_chunks, chunks
from pimdsl.isa.placement import Place


def concat_channels(
    e: Emit, core: int, ins: list[Place], out: Place, what: str, rows: tuple[int, int] | None = None
) -> None:
    """Concatenate feature maps (or [N, F] values) along channels (output rows (first,
    count) of feature maps, all by default)."""
    code = e.code(core)
    arena = e.arena(what)
    buf = arena.take(e.local_elems - 1)
    offset = 0
    for p in ins:

        def move(y: Aff, x: Aff, size: int, p: Place = p, offset: int = offset) -> None:
            code.add(isa.LoadOp(p.buffer, code.addr(p.at(y, x)), code.addr(buf), size * p.c))
            at = code.addr(out.at(y, x, offset))
            if p.c == out.c:
                code.add(isa.StoreOp(code.addr(buf), out.buffer, at, size * p.c))
            else:
                code.add(isa.StoreBlockOp(code.addr(buf), out.buffer, at, [size], [out.c], p.c))

        by_row_chunks(e, code, p, p.c, move, rows)
        offset += p.c


def nhwc_to_chw(e: Emit, core: int, src: Place, out: Place, what: str) -> None:
    """A feature map to channel-major order [C, H, W] per image (flatten, network outputs)."""
    code = e.code(core)
    arena = e.arena(what)
    hw = src.h * src.w
    cb = max(1, min(src.c, (e.local_elems - 1) // hw))
    if cb * hw > e.local_elems - 1:
        raise PimError(
            f"crossbar-to-isa: {what}: one channel of {hw} pixels does not fit local memory."
        )
    buf = arena.take(cb * hw)
    for start, size, count in chunks(src.c, cb):
        code.open_loop("k", count)
        c = Aff.of(start, k=size)
        code.add(
            isa.LoadBlockOp(
                src.buffer,
                code.addr(src.at(0, 0) + c),
                [size, src.h, src.w],
                [1, src.wp * src.c, src.c],
                1,
                code.addr(buf),
            )
        )
        code.add(
            isa.StoreOp(
                code.addr(buf),
                out.buffer,
                code.addr(Aff.of(0, n=out.image) + c.scaled(hw)),
                size * hw,
            )
        )
        code.close_loop()


def chw_to_nhwc(
    e: Emit, core: int, src_buffer: str, shape: tuple[int, ...], out: Place, what: str
) -> None:
    """A row-major NCHW input buffer into a (padded) NHWC feature map."""
    code = e.code(core)
    arena = e.arena(what)
    _, c, h, w = shape
    px = max(1, min(w, (e.local_elems - 1) // c))
    buf = arena.take(px * c)
    code.open_loop("y", h)
    y = Aff.of(0, y=1)
    for start, size, count in chunks(w, px):
        code.open_loop("k", count)
        x = Aff.of(start, k=size)
        off = Aff.of(0, n=c * h * w) + y.scaled(w) + x
        code.add(
            isa.LoadBlockOp(src_buffer, code.addr(off), [size, c], [1, h * w], 1, code.addr(buf))
        )
        code.add(isa.StoreOp(code.addr(buf), out.buffer, code.addr(out.at(y, x)), size * c))
        code.close_loop()
    code.close_loop()


def zero_pad(e: Emit, core: int, src: Place, out: Place, top: int, left: int, what: str) -> None:
    """A feature map copied row by row into a larger one at (top, left); the rows and columns
    around it are never written, so they keep the buffer's zero fill."""
    code = e.code(core)
    buf = e.arena(what).take(e.local_elems - 1)

    def move(y: Aff, x: Aff, size: int) -> None:
        code.add(isa.LoadOp(src.buffer, code.addr(src.at(y, x)), code.addr(buf), size * src.c))
        at = code.addr(out.at(y + top, x + left))
        code.add(isa.StoreOp(code.addr(buf), out.buffer, at, size * src.c))

    by_row_chunks(e, code, src, src.c, move)


def channel_slice(e: Emit, core: int, src: Place, out: Place, lo: int, hi: int, what: str) -> None:
    """Channels [lo, hi) of a feature map (ONNX Split/Slice along channels)."""
    code = e.code(core)
    arena = e.arena(what)
    n = hi - lo
    buf = arena.take(max(1, min(src.w, (e.local_elems - 1) // n)) * n)

    def move(y: Aff, x: Aff, size: int) -> None:
        code.add(
            isa.LoadBlockOp(
                src.buffer, code.addr(src.at(y, x, lo)), [size], [src.c], n, code.addr(buf)
            )
        )
        code.add(isa.StoreOp(code.addr(buf), out.buffer, code.addr(out.at(y, x)), size * n))

    by_row_chunks(e, code, src, n, move)


def channel_shuffle(e: Emit, core: int, src: Place, out: Place, groups: int, what: str) -> None:
    """out channel k*G + g = in channel g*K + k (reshape [G, K] + transpose + reshape)."""
    code = e.code(core)
    arena = e.arena(what)
    c = src.c
    k = c // groups
    buf = arena.take(max(1, min(src.w, (e.local_elems - 1) // c)) * c)

    def move(y: Aff, x: Aff, size: int) -> None:
        code.add(isa.LoadOp(src.buffer, code.addr(src.at(y, x)), code.addr(buf), size * c))
        code.add(
            isa.StoreBlockOp(
                code.addr(buf),
                out.buffer,
                code.addr(out.at(y, x)),
                [size, groups, k],
                [c, 1, groups],
                1,
            )
        )

    by_row_chunks(e, code, src, c, move)
