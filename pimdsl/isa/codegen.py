"""The instructions of one step (a weight layer, a vector op, a copy) on the cores running it.

Every step runs inside the per-image loop "n" that each core opens around its partition body,
reads its inputs from DRAM and writes its output to DRAM (see placement.py for the layouts).
Local memory is allocated per step and core by a bump allocator (`Arena`): a step's buffers
are dead once it ends, so the next step reuses the space. Loops inside a step go over output
windows ("oy", "ox"), rows ("y") and chunks ("k"); every local address inside them is
loop-invariant, every DRAM address affine, so a loop is one strided transfer per iteration.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from xdsl.dialects.builtin import DenseArrayBase
from xdsl.ir import Operation, SSAValue

from pimdsl.chip import Chip
from pimdsl.dialects import pim_isa as isa
from pimdsl.errors import PimError
from pimdsl.isa import line_buffer as lb
from pimdsl.isa.builder import Aff, CoreCode
from pimdsl.isa.element import RowTokens, unit_tiles
from pimdsl.isa.linear import Block, Linear, Source, Term
from pimdsl.isa.placement import Place
from pimdsl.sim.timing_program import mvm_issue_ns, mvm_steps

# A unary vector op applied in place: (dst, src, len) -> instruction.
Unary = Callable[[DenseArrayBase, DenseArrayBase, int], Operation]


@dataclass
class Arena:
    """Bump allocation of one core's local memory for one step (byte addresses)."""

    size: int
    elem: int
    what: str
    top: int = 0

    def take(self, elements: int) -> int:
        addr = self.top
        self.top += elements * self.elem
        if self.top > self.size:
            raise PimError(
                f"crossbar-to-isa: {self.what} needs {self.top} bytes of local memory but a core "
                f"has {self.size}.",
                hint="Use a chip with more local memory, or a smaller element size (--elem-bytes).",
            )
        return addr


@dataclass
class Emit:
    """What step code generation needs: the chip, the partition's per-core code, counters."""

    chip: Chip
    elem: int
    images: int
    cores: dict[int, CoreCode]
    tag: int = 0
    vector_work: dict[int, int] = field(default_factory=dict)
    chunk_key: tuple[float, ...] | None = (
        None  # the element schedule's key of the step being emitted
    )
    tile_rows: int | None = None  # at most this many output rows per line-buffer tile

    @property
    def local_elems(self) -> int:
        return self.chip.local_memory_bytes // self.elem

    def code(self, core: int) -> CoreCode:
        if core not in self.cores:
            self.cores[core] = CoreCode(core, chunk_key=self.chunk_key)
        return self.cores[core]

    def set_chunk_key(self, key: tuple[float, ...]) -> None:
        """The element schedule: what every core emits in its image loop from now on belongs
        to a chunk of this key (`CoreCode.chunk_key`)."""
        self.chunk_key = key
        for code in self.cores.values():
            code.chunk_key = key

    def arena(self, what: str) -> Arena:
        return Arena(self.chip.local_memory_bytes, self.elem, what)

    def next_tag(self) -> int:
        self.tag += 1
        return self.tag


# --- weight layers ----------------------------------------------------------------------------


@dataclass
class WeightLayer:
    """A weight layer's output blocks, stored to `out`, with a fused `epilogue` per window and
    block, in order: element-wise ops, and residual maps (a Place) whose pixel it adds."""

    name: str
    linear: Linear
    out: Place
    out_hw: tuple[int, int]  # output windows as (rows, cols)
    epilogue: list[Unary | Place]
    places: dict[SSAValue, Place]  # source value -> place
    default_core: int

    def blocks(self) -> list[Block]:
        return [b for b in self.linear.blocks if b.terms or b.bias]

    def home(self, b: Block) -> int:
        return min(t.core for t in b.terms) if b.terms else self.default_core

    def readers(self) -> set[int]:
        return {t.core for b in self.blocks() for t in b.terms} | {
            self.home(b) for b in self.blocks()
        }

    def writers(self) -> set[int]:
        return {self.home(b) for b in self.blocks()}


def _out_offset(layer: WeightLayer, oy: Aff, ox: Aff, c: int, out: Place | None = None) -> Aff:
    """Offset of window (oy, ox), channel c in the layer's output (or in `out`, a map of the
    same shape)."""
    out = out or layer.out
    if out.rank == 4:
        return out.at(oy, ox, c)
    if out.rank == 3:
        return out.at(0, oy.scaled(layer.out_hw[1]) + ox, c)
    return out.at(0, 0, c)


def merge_ranges(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The union of [lo, hi) ranges, as disjoint sorted ranges (touching ones merged)."""
    merged: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return [(lo, hi) for lo, hi in merged]


def _source_span(t: Term) -> tuple[int, int]:
    """The range of the source a term needs: channels for an unfolded conv, else features."""
    lo, hi = t.in_rows
    if t.source.conv is None:
        return lo, hi
    k = t.source.conv.kernel[0] * t.source.conv.kernel[1]
    return lo // k, -(-hi // k)


def weight_layer(e: Emit, layer: WeightLayer, row_sync: RowTokens | None = None) -> None:
    """Emit a weight layer on its cores; with `row_sync` (the element schedule), its tiles one by
    one in the order their inputs are ready, with row-granular tokens (`pimdsl.isa.element`)."""
    blocks = layer.blocks()
    segments = sorted({(b.w0, b.w1) for b in blocks})
    for seg_no, seg in enumerate(segments):
        seg_blocks = [(i, b) for i, b in enumerate(blocks) if (b.w0, b.w1) == seg]
        events: list[tuple[int, int, int, int]] = []  # (block, remote, home, tag)
        for i, b in seg_blocks:
            home = layer.home(b)
            for r in sorted({t.core for t in b.terms} - {home}):
                events.append((i, r, home, e.next_tag()))
        work: dict[int, list[tuple[int, Block, list[Term]]]] = {}
        for i, b in seg_blocks:
            per: dict[int, list[Term]] = {layer.home(b): []}
            for t in b.terms:
                per.setdefault(t.core, []).append(t)
            for core, terms in per.items():
                work.setdefault(core, []).append((i, b, terms))
        plans = {core: _input_plan(e, layer, core, seg, work[core]) for core in sorted(work)}
        shares = shared_bands(e, plans)
        for core in sorted(work):
            _weight_segment(
                e, layer, core, work[core], events, plans[core], shares, row_sync, seg_no
            )


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


def _input_plan(
    e: Emit,
    layer: WeightLayer,
    core: int,
    seg: tuple[int, int],
    mine: list[tuple[int, Block, list[Term]]],
) -> InputPlan:
    arena = e.arena(f"weight layer '{layer.name}' on core {core}")
    # Input clusters per source: one load per cluster and window.
    spans: dict[Source, list[tuple[int, int]]] = {}
    for _, _, terms in mine:
        for t in terms:
            spans.setdefault(t.source, []).append(_source_span(t))
    loads: list[tuple[Source, int, int, int]] = []  # (source, lo, hi, window input address)
    for source, ranges in spans.items():
        for lo, hi in merge_ranges(ranges):
            per = 1 if source.conv is None else source.conv.kernel[0] * source.conv.kernel[1]
            loads.append((source, lo, hi, arena.take((hi - lo) * per)))
    tiles, bands = _line_buffers(e, arena, seg, layer.out_hw[1], loads)
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


def _weight_segment(
    e: Emit,
    layer: WeightLayer,
    core: int,
    mine: list[tuple[int, Block, list[Term]]],
    events: list[tuple[int, int, int, int]],
    plan: InputPlan,
    shares: dict[tuple[int, int], BandShare],
    row_sync: RowTokens | None = None,
    seg_no: int = 0,
) -> None:
    """One core's share of the blocks of one window range: `mine` = (block index, block,
    the core's terms of it) for every block it holds terms of or is the home core of."""
    code = e.code(core)
    arena, loads, tiles, bands = plan.arena, plan.loads, plan.tiles, plan.bands
    E = e.elem
    homes = {i for i, b, _ in mine if layer.home(b) == core}
    cols_of = {i: b.cols for i, b, _ in mine}
    events = [ev for ev in events if core in (ev[1], ev[2])]
    # shared bands in their global order, then the core's own (a load never waits)
    band_order = sorted(
        bands, key=lambda j: (0, shares[(core, j)].order) if (core, j) in shares else (1, j)
    )
    # Output, send, receive and scratch buffers.
    out_buf = {i: arena.take(b.cols) for i, b, _ in mine if i in homes}
    send_buf = {i: arena.take(b.cols) for i, b, terms in mine if terms and i not in homes}
    recv_cols = max(
        (b.cols for i, b, _ in mine if i in homes and any(ev[0] == i for ev in events)), default=0
    )
    recv_buf = arena.take(recv_cols) if recv_cols else 0
    tile_cols = max((t.shape[1] for _, _, terms in mine for t in terms), default=0)
    need_tmp = any(t.tile_col != 0 or t.shape[1] != b.cols for _, b, terms in mine for t in terms)
    tmp_buf = arena.take(tile_cols) if need_tmp else 0
    residual = any(isinstance(step, Place) for step in layer.epilogue)
    res_buf = (
        arena.take(max((b.cols for i, b, _ in mine if i in homes), default=0)) if residual else 0
    )
    bias_buf: dict[tuple[int, int], int] = {}
    bias_loads: list[tuple[str, int, int, int]] = []
    for i, b, _ in mine:
        if i in homes:
            for j, (weight, col) in enumerate(b.bias):
                bias_buf[(i, j)] = addr = arena.take(b.cols)
                bias_loads.append((weight, col, addr, b.cols))

    def load_biases() -> None:
        for weight, col, addr, n in bias_loads:
            code.add(isa.LoadOp(weight, code.addr(col), code.addr(addr), n))

    ow = layer.out_hw[1]
    keys: list[tuple[float, ...]] = []
    if row_sync is None:
        load_biases()
    else:
        # tiles one by one, each a chunk of the image loop that loads all it needs (other
        # steps' chunks run between them and reuse the local memory)
        tiles = unit_tiles(tiles, banded=bool(bands))
        # a tile's windows run one after another on the range's crossbars
        issue = mvm_issue_ns(e.chip, mvm_steps(e.chip, e.chip.act_bits))
        tiles, keys, ends = row_sync.order(tiles, seg_no, [t[1] * t[3] * issue for t in tiles])
    for n_tile, tile in enumerate(tiles):
        oy0, ny, ox0, nx, group = tile
        if row_sync is not None:
            code.chunk_key = keys[n_tile]
            row_sync.before(core, tile)
            load_biases()
        # one band per tile of `group` output rows x `nx` columns (docs/lowering.md)
        code.open_loop("g", ny // group)
        top = Aff.of(oy0, g=group)
        for j in band_order:
            band = bands[j]
            source, lo, hi, _ = loads[j]
            share = shares.get((core, j))
            size = _window(source.conv).band_elements(nx, hi - lo, group)  # type: ignore[attr-defined]
            if share is not None and share.recv is not None:
                peer, tag = share.recv
                code.add(isa.RecvOp(peer, code.addr(band), size, tag))
                continue
            _load_band(
                code,
                layer.places[source.value],
                source.conv,
                lo,
                hi - lo,
                band,
                top,
                ox0,
                nx,
                group,
            )  # type: ignore[attr-defined]
            for peer, tag in share.sends if share is not None else []:
                code.add(isa.SendOp(peer, code.addr(band), size, tag))
        code.open_loop("oy", group)
        code.open_loop("ox", nx)
        oy, ox = top + Aff.of(0, oy=1), Aff.of(ox0, ox=1)
        for j, (source, lo, hi, addr) in enumerate(loads):
            if j in bands:
                _gather_window(code, source.conv, hi - lo, bands[j], addr, nx, E)  # type: ignore[attr-defined]
            else:
                _load_window(e, code, layer.places[source.value], source, lo, hi, addr, oy, ox, ow)  # type: ignore[attr-defined]
        started: set[int] = set()
        for i, b, terms in mine:
            dst = out_buf[i] if i in homes else send_buf.get(i)
            for t in terms:
                assert dst is not None
                src = _term_src(t, loads, E)
                rows, cols = t.shape
                bits = e.chip.act_bits
                if t.tile_col == 0 and cols == b.cols:
                    code.add(
                        isa.MvmOp(
                            t.xbar,
                            code.addr(src),
                            rows,
                            code.addr(dst),
                            cols,
                            bits,
                            accumulate=i in started,
                        )
                    )
                else:
                    code.add(
                        isa.MvmOp(t.xbar, code.addr(src), rows, code.addr(tmp_buf), cols, bits)
                    )
                    piece = code.addr(tmp_buf + t.tile_col * E)
                    if i in started:
                        code.add(isa.VAddOp(code.addr(dst), code.addr(dst), piece, b.cols))
                    else:
                        code.add(isa.VCopyOp(code.addr(dst), piece, b.cols))
                started.add(i)
        for i, r, home, tag in events:
            if core == r:
                code.add(isa.SendOp(home, code.addr(send_buf[i]), cols_of[i], tag))
            elif core == home:
                n = cols_of[i]
                code.add(isa.RecvOp(r, code.addr(recv_buf), n, tag))
                if i in started:
                    code.add(
                        isa.VAddOp(
                            code.addr(out_buf[i]), code.addr(out_buf[i]), code.addr(recv_buf), n
                        )
                    )
                else:
                    code.add(isa.VCopyOp(code.addr(out_buf[i]), code.addr(recv_buf), n))
                    started.add(i)
        for i, b, _ in mine:
            if i not in homes:
                continue
            dst = code.addr(out_buf[i])
            for j in range(len(b.bias)):
                bias = code.addr(bias_buf[(i, j)])
                if i in started:
                    code.add(isa.VAddOp(dst, dst, bias, b.cols))
                else:
                    code.add(isa.VCopyOp(dst, bias, b.cols))
                    started.add(i)
            for step in layer.epilogue:
                if isinstance(step, Place):
                    off = _out_offset(layer, oy, ox, b.c0, step)
                    code.add(isa.LoadOp(step.buffer, code.addr(off), code.addr(res_buf), b.cols))
                    code.add(isa.VAddOp(dst, dst, code.addr(res_buf), b.cols))
                else:
                    code.add(step(dst, dst, b.cols))
            code.add(
                isa.StoreOp(
                    dst, layer.out.buffer, code.addr(_out_offset(layer, oy, ox, b.c0)), b.cols
                )
            )
        code.close_loop()
        code.close_loop()
        code.close_loop()
        if row_sync is not None:
            if homes:
                row_sync.after(core, tile, code.slot(), keys[n_tile], ends[n_tile])
            code.chunk_key = e.chunk_key


def _term_src(t: Term, loads: list[tuple[Source, int, int, int]], elem: int) -> int:
    lo_span, hi_span = _source_span(t)
    for source, lo, hi, addr in loads:
        if source == t.source and lo <= lo_span and hi_span <= hi:
            conv = t.source.conv
            first = lo if conv is None else lo * conv.kernel[0] * conv.kernel[1]
            return addr + (t.in_rows[0] - first) * elem
    raise AssertionError("a term without its input load")  # pragma: no cover


def _line_buffers(
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
        j: lb.shape(_window(conv), seg[0], seg[1], ch, share, e.tile_rows) for j, conv, ch in convs
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
            bands[j] = arena.take(_window(conv).band_elements(width, ch, group))
    return lb.tiles(seg[0], seg[1], ow, group, width), bands


def _window(conv: object) -> lb.Window:
    return lb.Window(conv.kernel, conv.strides, conv.dilations, conv.out_hw)  # type: ignore[attr-defined]


def _load_band(
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
) -> None:
    """A tile's band: the input its `ny` output rows from `oy` x `nx` windows from `ox0` cover,
    `channels` channels from `chan`, dense as [row][column][channel] at `dst`. `conv` is a
    convolution's or a `Pool`'s window geometry (kernel, strides, dilations, out_hw, pads)."""
    win = _window(conv)
    (sh, sw), top, left = win.strides, conv.pads[0], conv.pads[1]  # type: ignore[attr-defined]
    off = place.at(oy.scaled(sh) + (-top), ox0 * sw - left) + chan
    code.add(
        isa.LoadBlockOp(
            place.buffer,
            code.addr(off),
            [win.band_rows(ny), win.band_cols(nx)],
            [place.wp * place.c, place.c],
            channels,
            code.addr(dst),
        )
    )


def _gather_window(
    code: CoreCode,
    conv: object,
    channels: int,
    band: int,
    dst: int,
    nx: int,
    elem: int,
) -> None:
    """Window (oy, ox) of the tile (loop variables, from its corner) as the crossbar's input
    vector, rows ordered (c, ky, kx), from the band at `band`."""
    win = _window(conv)
    (kh, kw), (sh, sw), (dh, dw) = win.kernel, win.strides, win.dilations
    row = win.band_cols(nx) * channels  # elements of one band row
    src = Aff.of(band, oy=sh * row * elem, ox=sw * channels * elem)
    code.add(
        isa.GatherOp(
            code.addr(Aff.of(dst)),
            code.addr(src),
            [channels, kh, kw],
            [1, dh * row, dw * channels],
            1,
        )
    )


def _load_window(
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


# --- element-wise vector steps ----------------------------------------------------------------


def _rows(places: list[Place]) -> tuple[int, int, Callable[[Place, Aff], Aff]]:
    """(rows per image, row length, offset of row y) covering the interiors of `places`."""
    first = places[0]
    if all(not p.padded for p in places):
        return 1, first.h * first.w * first.c, lambda p, y: Aff.of(0, n=p.image)
    return first.h, first.w * first.c, lambda p, y: p.at(y, 0)


def _chunks(length: int, budget: int) -> list[tuple[int, int, int]]:
    """Cover [0, length) with (start, size, count) runs of equal chunks (at most two runs)."""
    size = max(1, min(length, budget))
    full = length // size
    out = [(0, size, full)] if full else []
    if length % size:
        out.append((full * size, length % size, 1))
    return out


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
    for start, size, count in _chunks(length, budget):
        code.open_loop("k", count)
        k = Aff.of(start, k=size)
        for p, buf in zip(ins, bufs, strict=True):
            code.add(isa.LoadOp(p.buffer, code.addr(row_at(p, y) + k), code.addr(buf), size))
        body(code, bufs, obuf, size)
        code.add(isa.StoreOp(code.addr(obuf), out.buffer, code.addr(row_at(out, y) + k), size))
        code.close_loop()
    code.close_loop()


# --- pools ------------------------------------------------------------------------------------


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
    win = _window(p)
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
    for start, size, count in _chunks(src.c, cb):
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
    for start, size, count in _chunks(src.c, cb):
        code.open_loop("k", count)
        c = Aff.of(start, k=size)
        for oy0, ny, ox0, nx, group in lb.split([rect], *gw):
            code.open_loop("g", ny // group)
            top = Aff.of(oy0, g=group)
            _load_band(code, src, p, c, size, band, top, ox0, nx, group)
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
    for start, size, count in _chunks(src.c, cb):
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


# --- data movement ----------------------------------------------------------------------------


def _by_row_chunks(
    e: Emit,
    code: CoreCode,
    src: Place,
    per_pixel: int,
    move: Callable[[Aff, Aff, int], None],
    rows: tuple[int, int] | None = None,
) -> None:
    """Each row of feature map `src` (or rows (first, count)) in chunks of as many pixels as
    fit local memory at `per_pixel` elements a pixel: `move(y, x, pixels)` loads and stores
    one chunk."""
    px = max(1, min(src.w, (e.local_elems - 1) // per_pixel))
    first, count = rows or (0, src.h)
    code.open_loop("y", count)
    y = Aff.of(first, y=1)
    for start, size, count in _chunks(src.w, px):
        code.open_loop("k", count)
        move(y, Aff.of(start, k=size), size)
        code.close_loop()
    code.close_loop()


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

        _by_row_chunks(e, code, p, p.c, move, rows)
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
    for start, size, count in _chunks(src.c, cb):
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
    for start, size, count in _chunks(w, px):
        code.open_loop("k", count)
        x = Aff.of(start, k=size)
        off = Aff.of(0, n=c * h * w) + y.scaled(w) + x
        code.add(
            isa.LoadBlockOp(src_buffer, code.addr(off), [size, c], [1, h * w], 1, code.addr(buf))
        )
        code.add(isa.StoreOp(code.addr(buf), out.buffer, code.addr(out.at(y, x)), size * c))
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


def _open_pixels(code: CoreCode, src: Place, out: Place) -> tuple[Aff, Aff]:
    """Open the loops over a feature map's pixels (rows and columns; all pixels as one loop
    when neither map has a halo) and return a pixel's offsets in `src` and `out`; the caller
    adds the per-pixel code and closes both loops."""
    padded = src.padded or out.padded
    code.open_loop("y", src.h if padded else 1)
    code.open_loop("x", src.w if padded else src.h * src.w)
    y, xx = Aff.of(0, y=1), Aff.of(0, x=1)
    at_in = src.at(y, xx) if padded else Aff.of(0, n=src.image, x=src.c)
    at_out = out.at(y, xx) if padded else Aff.of(0, n=out.image, x=src.c)
    return at_in, at_out


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
    at_in, at_out = _open_pixels(code, src, out)
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
    at_in, at_out = _open_pixels(code, src, out)
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
    at_in, at_out = _open_pixels(code, src, out)
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


def zero_pad(e: Emit, core: int, src: Place, out: Place, top: int, left: int, what: str) -> None:
    """A feature map copied row by row into a larger one at (top, left); the rows and columns
    around it are never written, so they keep the buffer's zero fill."""
    code = e.code(core)
    buf = e.arena(what).take(e.local_elems - 1)

    def move(y: Aff, x: Aff, size: int) -> None:
        code.add(isa.LoadOp(src.buffer, code.addr(src.at(y, x)), code.addr(buf), size * src.c))
        at = code.addr(out.at(y + top, x + left))
        code.add(isa.StoreOp(code.addr(buf), out.buffer, at, size * src.c))

    _by_row_chunks(e, code, src, src.c, move)


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

    _by_row_chunks(e, code, src, n, move)


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

    _by_row_chunks(e, code, src, c, move)
