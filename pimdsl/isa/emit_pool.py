"""Code of max, average and global average pools: per channel chunk and tile of output windows
one band through a line buffer (`line_buffer.pool_loads`), each window's taps gathered from it,
or one load of a window's taps where windows do not overlap; an average pool excluding padding
as a sum pool scaled per region of equal tap counts."""

from __future__ import annotations

from dataclasses import dataclass

from pimdsl.dialects import pim_isa as isa
from pimdsl.isa import line_buffer as lb
from pimdsl.isa.builder import Aff, CoreCode
from pimdsl.isa.emit import Emit, chunks
from pimdsl.isa.placement import Place
from pimdsl.isa.weight_inputs import load_band, window


@dataclass(frozen=True)
class Pool:
    kind: str  # max, avg
    kernel: tuple[int, int]
    strides: tuple[int, int]
    pads: tuple[int, int, int, int]
    dilations: tuple[int, int]
    out_hw: tuple[int, int]
    # avg only: divide by the taps inside the map (ONNX count_include_pad = 0), not all taps
    exclude_pad: bool = False


def _valid_runs(
    n_out: int, stride: int, pad: int, kernel: int, dilation: int, size: int
) -> list[tuple[int, int, int]]:
    """(first output, count, taps inside the map) for runs of outputs along one axis whose
    windows hold the same number of taps inside the map (borders differ from the interior)."""
    runs: list[tuple[int, int, int]] = []
    for o in range(n_out):
        lo = o * stride - pad
        valid = sum(1 for t in range(kernel) if 0 <= lo + t * dilation < size)
        if runs and runs[-1][2] == valid:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1, valid)
        else:
            runs.append((o, 1, valid))
    return runs


def pool(
    e: Emit,
    core: int,
    src: Place,
    out: Place,
    p: Pool,
    what: str,
    rows: tuple[int, int] | None = None,
) -> None:
    """Output rows `rows` = (first, count) of a pool (all of them by default) on `core`."""
    (kh, kw), (sh, sw), (dh, dw) = p.kernel, p.strides, p.dilations
    oh, ow = p.out_hw
    taps = kh * kw
    rows = rows or (0, oh)
    e.vector_work[core] = e.vector_work.get(core, 0) + rows[1] * ow * src.c * taps
    if p.kind != "avg" or not p.exclude_pad:
        _pool_region(e, core, src, out, p, rows, (0, ow), p.kind, None, what)
        return
    assert rows == (0, oh), "an average pool excluding padding runs on one core"
    # average over the taps inside the map: a sum pool scaled per region of equal counts
    ys = _valid_runs(oh, sh, p.pads[0], kh, dh, src.h)
    xs = _valid_runs(ow, sw, p.pads[1], kw, dw, src.w)
    for y0, ny, cy in ys:
        for x0, nx, cx in xs:
            _pool_region(e, core, src, out, p, (y0, ny), (x0, nx), "sum", 1.0 / (cy * cx), what)


def _pool_region(
    e: Emit,
    core: int,
    src: Place,
    out: Place,
    p: Pool,
    rows: tuple[int, int],
    cols: tuple[int, int],
    kind: str,
    scale: float | None,
    what: str,
) -> None:
    """Pool outputs rows[0] + [0, rows[1]) x cols[0] + [0, cols[1]); `scale` multiplies them."""
    code = e.code(core)
    arena = e.arena(what)
    (kh, kw), (sh, sw), (dh, dw) = p.kernel, p.strides, p.dilations
    taps = kh * kw
    cb = lb.pool_chunk(src.c, taps, e.local_elems)
    ibuf = arena.take(taps * cb)
    obuf = arena.take(cb)
    win = window(p)
    rect = (rows[0], rows[1], cols[0], cols[1])
    gw = lb.rect_shape(win, [rect], cb, lb.pool_budget(e.local_elems, taps, cb))
    if gw is not None:
        _pool_bands(
            code,
            arena.take(win.band_elements(gw[1], cb, gw[0])),
            ibuf,
            obuf,
            src,
            out,
            p,
            win,
            rect,
            gw,
            cb,
            kind,
            scale,
            e.elem,
        )
        return
    code.open_loop("oy", rows[1])
    code.open_loop("ox", cols[1])
    oy, ox = Aff.of(rows[0], oy=1), Aff.of(cols[0], ox=1)
    for start, size, count in chunks(src.c, cb):
        code.open_loop("k", count)
        c = Aff.of(start, k=size)
        off = src.at(oy.scaled(sh) + (-p.pads[0]), ox.scaled(sw) + (-p.pads[1])) + c
        code.add(
            isa.LoadBlockOp(
                src.buffer,
                code.addr(off),
                [kh, kw],
                [dh * src.wp * src.c, dw * src.c],
                size,
                code.addr(ibuf),
            )
        )
        code.add(isa.VPoolOp(kind, code.addr(obuf), code.addr(ibuf), size, taps, size))
        if scale is not None:
            code.add(isa.VScaleOp(code.addr(obuf), code.addr(obuf), size, factor=scale))
        code.add(isa.StoreOp(code.addr(obuf), out.buffer, code.addr(out.at(oy, ox) + c), size))
        code.close_loop()
    code.close_loop()
    code.close_loop()


def _pool_bands(
    code: CoreCode,
    band: int,
    ibuf: int,
    obuf: int,
    src: Place,
    out: Place,
    p: Pool,
    win: lb.Window,
    rect: lb.Rect,
    gw: tuple[int, int],
    cb: int,
    kind: str,
    scale: float | None,
    elem: int,
) -> None:
    """A pool region through line buffers (`line_buffer.pool_loads`): per channel chunk and
    tile of output windows one band, each window's taps gathered from it as [ky][kx][channel]."""
    (kh, kw), (sh, sw), (dh, dw) = p.kernel, p.strides, p.dilations
    for start, size, count in chunks(src.c, cb):
        code.open_loop("k", count)
        c = Aff.of(start, k=size)
        for oy0, ny, ox0, nx, group in lb.split([rect], *gw):
            code.open_loop("g", ny // group)
            top = Aff.of(oy0, g=group)
            load_band(code, src, p, c, size, band, top, ox0, nx, group)
            code.open_loop("oy", group)
            code.open_loop("ox", nx)
            row = win.band_cols(nx) * size  # elements of one band row
            taps = Aff.of(band, oy=sh * row * elem, ox=sw * size * elem)
            code.add(
                isa.GatherOp(
                    code.addr(ibuf), code.addr(taps), [kh, kw], [dh * row, dw * size], size
                )
            )
            code.add(isa.VPoolOp(kind, code.addr(obuf), code.addr(ibuf), size, kh * kw, size))
            if scale is not None:
                code.add(isa.VScaleOp(code.addr(obuf), code.addr(obuf), size, factor=scale))
            at = out.at(top + Aff.of(0, oy=1), Aff.of(ox0, ox=1)) + c
            code.add(isa.StoreOp(code.addr(obuf), out.buffer, code.addr(at), size))
            code.close_loop()
            code.close_loop()
            code.close_loop()
        code.close_loop()


def global_avgpool(e: Emit, core: int, src: Place, out: Place, what: str) -> None:
    code = e.code(core)
    arena = e.arena(what)
    taps = src.h * src.w
    cb = max(1, min(src.c, e.local_elems // (taps + 1)))
    ibuf = arena.take(taps * cb)
    obuf = arena.take(cb)
    e.vector_work[core] = e.vector_work.get(core, 0) + taps * src.c
    for start, size, count in chunks(src.c, cb):
        code.open_loop("k", count)
        c = Aff.of(start, k=size)
        code.add(
            isa.LoadBlockOp(
                src.buffer,
                code.addr(src.at(0, 0) + c),
                [src.h, src.w],
                [src.wp * src.c, src.c],
                size,
                code.addr(ibuf),
            )
        )
        code.add(isa.VPoolOp("avg", code.addr(obuf), code.addr(ibuf), size, taps, size))
        code.add(isa.StoreOp(code.addr(obuf), out.buffer, code.addr(out.at(0, 0) + c), size))
        code.close_loop()
