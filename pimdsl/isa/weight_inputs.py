"""What one core of a weight layer reads for a window range: its input clusters (one load per
cluster and window), the window tiles and line buffers (`line_buffer.shape`: one band per tile,
each window gathered from it), and the bands it shares with the other cores of the range that
read the same channels (`shared_bands`). `load_band` and `window` serve the pools too."""

from __future__ import annotations

from dataclasses import dataclass, field

from pimdsl.dialects import pim_isa as isa
from pimdsl.isa import line_buffer as lb
from pimdsl.isa.builder import Aff, CoreCode
from pimdsl.isa.emit import Arena, Emit
from pimdsl.isa.linear import Block, Source, Term
from pimdsl.isa.placement import Place


def merge_ranges(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The union of [lo, hi) ranges, as disjoint sorted ranges (touching ones merged)."""
    merged: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return [(lo, hi) for lo, hi in merged]


def source_span(t: Term) -> tuple[int, int]:
    """The range of the source a term needs: channels for an unfolded conv, else features."""
    lo, hi = t.in_rows
    if t.source.conv is None:
        return lo, hi
    k = t.source.conv.kernel[0] * t.source.conv.kernel[1]
    return lo // k, -(-hi // k)


@dataclass
class InputPlan:
    """What one core reads for its blocks of one window range: its input clusters `loads`
    (source, first, end, local address of a window's input vector), the window tiles, and per
    clustered convolution input its line buffer's address (`bands`, by index into `loads`)."""

    arena: Arena
    loads: list[tuple[Source, int, int, int]]
    tiles: list[lb.Tile]
    bands: dict[int, int]


@dataclass
class BandShare:
    """A band several cores of one window range read (the same input channels, the same
    tiles; e.g. the cores holding different output channels of a layer): the lowest of them
    loads it from DRAM and sends it to the others (`sends`: (core, tag)); the others receive
    it (`recv`: (leader, tag)) instead of loading it. `order` places the transfer among the
    core's others in one global order, so that every core meets its partners in the same
    sequence (no deadlock)."""

    order: int
    sends: list[tuple[int, int]] = field(default_factory=list)
    recv: tuple[int, int] | None = None


def input_plan(
    e: Emit,
    name: str,
    ow: int,
    core: int,
    seg: tuple[int, int],
    mine: list[tuple[int, Block, list[Term]]],
    base: int = 0,
) -> InputPlan:
    """Core `core`'s reads for the window range `seg` of layer `name` (`ow` output columns):
    `mine` = (block index, block, the core's terms of it); its local memory from byte `base`."""
    arena = e.arena(f"weight layer '{name}' on core {core}")
    arena.top = base
    # Input clusters per source: one load per cluster and window.
    spans: dict[Source, list[tuple[int, int]]] = {}
    for _, _, terms in mine:
        for t in terms:
            spans.setdefault(t.source, []).append(source_span(t))
    loads: list[tuple[Source, int, int, int]] = []  # (source, lo, hi, window input address)
    for source, ranges in spans.items():
        for lo, hi in merge_ranges(ranges):
            per = 1 if source.conv is None else source.conv.kernel[0] * source.conv.kernel[1]
            loads.append((source, lo, hi, arena.take((hi - lo) * per)))
    tiles, bands = line_buffers(e, arena, seg, ow, loads)
    return InputPlan(arena, loads, tiles, bands)


def shared_bands(e: Emit, plans: dict[int, InputPlan]) -> dict[tuple[int, int], BandShare]:
    """(core, load index) -> its part in a band shared by several cores of one window range
    (`BandShare`): bands of the same source, channels and tiles. The cost model's side of the
    rule is `pimdsl.cost.model._InputLoads` (bands shared by the units of a layer that read the
    same input channels)."""
    groups: dict[tuple[object, ...], list[tuple[int, int]]] = {}
    for core in sorted(plans):
        p = plans[core]
        for j in sorted(p.bands):
            source, lo, hi, _ = p.loads[j]
            groups.setdefault((source, lo, hi, tuple(p.tiles)), []).append((core, j))
    out: dict[tuple[int, int], BandShare] = {}
    for order, members in enumerate(m for m in groups.values() if len(m) > 1):
        (leader, lj), followers = members[0], members[1:]
        lead = out[(leader, lj)] = BandShare(order)
        for core, j in followers:
            tag = e.next_tag()
            lead.sends.append((core, tag))
            out[(core, j)] = BandShare(order, recv=(leader, tag))
    return out


def term_src(t: Term, loads: list[tuple[Source, int, int, int]], elem: int) -> int:
    lo_span, hi_span = source_span(t)
    for source, lo, hi, addr in loads:
        if source == t.source and lo <= lo_span and hi_span <= hi:
            conv = t.source.conv
            first = lo if conv is None else lo * conv.kernel[0] * conv.kernel[1]
            return addr + (t.in_rows[0] - first) * elem
    raise AssertionError("a term without its input load")  # pragma: no cover


def line_buffers(
    e: Emit,
    arena: Arena,
    seg: tuple[int, int],
    ow: int,
    loads: list[tuple[Source, int, int, int]],
) -> tuple[list[lb.Tile], dict[int, int]]:
    """The window tiles of a segment and, per convolution load that takes a line buffer
    (`line_buffer.shape`), its band's local address. All bands of one core share the tiles:
    the smallest any of them needs. Without a band, a tile is a whole window rectangle."""
    budget = lb.band_budget(e.chip.local_memory_bytes, e.elem)
    convs = [
        (j, src.conv, hi - lo) for j, (src, lo, hi, _) in enumerate(loads) if src.conv is not None
    ]  # type: ignore[attr-defined]
    share = budget // max(1, len(convs))
    shapes = {
        j: lb.shape(window(conv), seg[0], seg[1], ch, share, e.tile_rows) for j, conv, ch in convs
    }
    banded = {j: gw for j, gw in shapes.items() if gw is not None}
    if not banded:
        return [
            (oy0, ny, ox0, nx, ny) for oy0, ny, ox0, nx in lb.rectangles(seg[0], seg[1], ow)
        ], {}
    group = min(g for g, _ in banded.values())
    width = min(w for _, w in banded.values())
    bands = {}
    for j, conv, ch in convs:
        if j in banded:
            bands[j] = arena.take(window(conv).band_elements(width, ch, group))
    return lb.tiles(seg[0], seg[1], ow, group, width), bands


def window(conv: object) -> lb.Window:
    return lb.Window(conv.kernel, conv.strides, conv.dilations, conv.out_hw)  # type: ignore[attr-defined]


def load_band(
    code: CoreCode,
    place: Place,
    conv: object,
    chan: Aff | int,
    channels: int,
    dst: int,
    oy: Aff,
    ox0: int,
    nx: int,
    ny: int,
    skip: int = 0,
    rows: int | None = None,
) -> None:
    """A tile's band: the input its `ny` output rows from `oy` x `nx` windows from `ox0` cover,
    `channels` channels from `chan`, dense as [row][column][channel] at `dst`. `conv` is a
    convolution's or a `Pool`'s window geometry (kernel, strides, dilations, out_hw, pads).
    With `skip`/`rows`: only `rows` of the band's rows from its row `skip` (a rolling band's
    new rows, `line_buffer.runs`)."""
    win = window(conv)
    (sh, sw), top, left = win.strides, conv.pads[0], conv.pads[1]  # type: ignore[attr-defined]
    off = place.at(oy.scaled(sh) + (skip - top), ox0 * sw - left) + chan
    code.add(
        isa.LoadBlockOp(
            place.buffer,
            code.addr(off),
            [win.band_rows(ny) - skip if rows is None else rows, win.band_cols(nx)],
            [place.wp * place.c, place.c],
            channels,
            code.addr(dst),
        )
    )


def shift_band(code: CoreCode, conv: object, channels: int, band: int, nx: int, elem: int) -> int:
    """Move a one-row tile's band up by the rows the next row of windows no longer reads (one
    local gather: a rolling band, `line_buffer.runs`); returns the local address its new rows
    go to."""
    win = window(conv)
    keep, new = lb.new_rows(win)
    row = win.band_cols(nx) * channels  # elements of one band row
    code.add(isa.GatherOp(code.addr(band), code.addr(band + new * row * elem), [keep], [row], row))
    return band + keep * row * elem


def gather_window(
    code: CoreCode,
    conv: object,
    channels: int,
    band: int,
    dst: int,
    nx: int,
    elem: int,
    x0: int = 0,
) -> None:
    """Window (oy, x0 + ox) of the tile (loop variables, from its corner) as the crossbar's
    input vector, rows ordered (c, ky, kx), from the band at `band`."""
    win = window(conv)
    (kh, kw), (sh, sw), (dh, dw) = win.kernel, win.strides, win.dilations
    row = win.band_cols(nx) * channels  # elements of one band row
    src = Aff.of(band + x0 * sw * channels * elem, oy=sh * row * elem, ox=sw * channels * elem)
    code.add(
        isa.GatherOp(
            code.addr(Aff.of(dst)),
            code.addr(src),
            [channels, kh, kw],
            [1, dh * row, dw * channels],
            1,
        )
    )


def load_window(
    e: Emit,
    code: CoreCode,
    place: Place,
    source: object,
    lo: int,
    hi: int,
    dst: int,
    oy: Aff,
    ox: Aff,
    ow: int,
) -> None:
    conv = source.conv  # type: ignore[attr-defined]
    if conv is None:
        x = oy.scaled(ow) + ox if place.rank == 3 else Aff(0)
        off = place.at(0, x, lo)
        code.add(isa.LoadOp(place.buffer, code.addr(off), code.addr(dst), hi - lo))
        return
    (kh, kw), (sh, sw), (dh, dw) = conv.kernel, conv.strides, conv.dilations
    top, left = conv.pads[0], conv.pads[1]
    off = place.at(oy.scaled(sh) + (-top), ox.scaled(sw) + (-left), lo)
    if kh * kw == 1:
        code.add(isa.LoadOp(place.buffer, code.addr(off), code.addr(dst), hi - lo))
    else:
        code.add(
            isa.LoadBlockOp(
                place.buffer,
                code.addr(off),
                [hi - lo, kh, kw],
                [1, dh * place.wp * place.c, dw * place.c],
                1,
                code.addr(dst),
            )
        )
