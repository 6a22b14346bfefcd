"""Code of a weight layer: per window range and core, a nest over tiles of output windows (band
loads or per-window loads, `weight_inputs`), one `mvm` per crossbar tile, partial sums sent to
the block's home core, then bias, the fused epilogue (element-wise ops, a residual map's pixel)
and the store of each output block. With row tokens (the element schedule) the tiles run one
by one as chunks of the image loop (`pimdsl.isa.element`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from xdsl.ir import SSAValue

from pimdsl.dialects import pim_isa as isa
from pimdsl.errors import PimError
from pimdsl.isa import line_buffer as lb
from pimdsl.isa.builder import Aff
from pimdsl.isa.element import RowTokens, unit_tiles
from pimdsl.isa.emit import Emit, Unary
from pimdsl.isa.linear import Block, Linear, Term
from pimdsl.isa.placement import Place
from pimdsl.isa.weight_inputs import (
    BandShare,
    InputPlan,
    gather_window,
    input_plan,
    load_band,
    load_window,
    shared_bands,
    shift_band,
    term_src,
    window,
)
from pimdsl.sim.timing_program import mvm_issue_ns, mvm_steps

# Plans the bands shared by the cores of one window range: (core, load) -> its part.
SharePlan = Callable[[Emit, dict[int, InputPlan]], dict[tuple[int, int], BandShare]]


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


def weight_layer(
    e: Emit,
    layer: WeightLayer,
    row_sync: RowTokens | None = None,
    share: SharePlan = shared_bands,
) -> None:
    """Emit a weight layer on its cores; with `row_sync` (the element schedule), its tiles one by
    one in the order their inputs are ready, with row-granular tokens (`pimdsl.isa.element`).
    `share` plans the bands the cores of a window range share (`shared_bands`)."""
    blocks = layer.blocks()
    segments = sorted({(b.w0, b.w1) for b in blocks})
    # per core, its window ranges that no other core takes part in (no partial sums, no
    # shared bands: nothing to meet in order), for `interleaved`
    solo: dict[int, list[tuple[int, tuple[int, int], list[tuple[int, Block, list[Term]]]]]] = {}
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
        if row_sync is None and len(work) == 1:
            core = next(iter(work))
            solo.setdefault(core, []).append((seg_no, seg, work[core]))
            continue
        plans = {
            core: input_plan(e, layer.name, layer.out_hw[1], core, seg, work[core])
            for core in sorted(work)
        }
        shares = share(e, plans)
        roll = rolling_runs(layer, plans, e.chip.roll_rows) if row_sync is not None else 0
        for core in sorted(work):
            for _ in _weight_segment(
                e, layer, core, work[core], events, plans[core], shares, row_sync, seg_no, roll
            ):
                pass
    for core, ranges in sorted(solo.items()):
        interleaved(e, layer, core, ranges)


def interleaved(
    e: Emit,
    layer: WeightLayer,
    core: int,
    ranges: list[tuple[int, tuple[int, int], list[tuple[int, Block, list[Term]]]]],
) -> None:
    """A core's window ranges of one layer that no other core takes part in (its replicas),
    their code interleaved: each range cut into `line_buffer.INTERLEAVE_TURNS` turns of about
    equal windows (`line_buffer.turns`), the ranges taking their turns in turn. Run one after
    another, the ranges' epilogues and stores would queue on the core's one vector unit and
    store DMA behind the first range's, which its MVMs pace: the others' would all run after
    it, in a burst on the shared channel. Interleaved, every range's stores follow its MVMs.
    Each range has its own local memory (its buffers live across the others' turns); a range
    that does not fit beside the ones before starts a new group, run after them."""
    turns = lb.INTERLEAVE_TURNS if len(ranges) > 1 else 1  # a range alone runs whole

    def start(
        seg_no: int, seg: tuple[int, int], mine: list[tuple[int, Block, list[Term]]], base: int
    ) -> tuple[int, Iterator[None]]:
        """The range's code, its buffers taken from byte `base` on (no code emitted yet), and
        the end of its local memory."""
        plan = input_plan(e, layer.name, layer.out_hw[1], core, seg, mine, base=base)
        code = _weight_segment(e, layer, core, mine, [], plan, {}, None, seg_no, 0, turns)
        next(code)
        return plan.arena.top, code

    group: list[Iterator[None]] = []
    top = 0
    for seg_no, seg, mine in ranges:
        try:
            top, code = start(seg_no, seg, mine, top)
        except PimError:  # local memory is full: the group so far runs first
            if not group:
                raise
            _take_turns(group)
            group = []
            top, code = start(seg_no, seg, mine, 0)
        group.append(code)
    _take_turns(group)


def _take_turns(group: list[Iterator[None]]) -> None:
    """Run the generators one step each in turn until all are done."""
    live = list(group)
    while live:
        live = [g for g in live if next(g, StopIteration) is not StopIteration]


def rolling_runs(layer: WeightLayer, plans: dict[int, InputPlan], roll_rows: int) -> int:
    """The longest run of one-row tiles the cores of one window range run through rolling
    bands (`line_buffer.runs`): the chip's `roll_rows`, or 0: only where a convolution's consecutive rows share input
    rows and every core cuts the same tiles, one per row (so that all cores cut the same runs:
    the partial sums and shared bands they exchange meet in the same order)."""
    convs = {t.source.conv for b in layer.blocks() for t in b.terms} - {None}
    if not any(lb.rolls(window(c)) for c in convs):
        return 0
    cut = [unit_tiles(p.tiles, banded=bool(p.bands)) for p in plans.values()]
    if any(c != cut[0] for c in cut) or not lb.one_tile_per_row(cut[0]):
        return 0
    return roll_rows


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
    roll: int = 0,
    turns: int = 1,
) -> Iterator[None]:
    """One core's share of the blocks of one window range: `mine` = (block index, block,
    the core's terms of it) for every block it holds terms of or is the home core of; `roll`:
    the element schedule's rolling runs (`rolling_runs`). A generator: it takes its buffers,
    yields (no code emitted yet), then emits its tiles, yielding after each, or with
    `turns` > 1 (`interleaved` runs several in turn) after each of that many turns of about
    equal windows (`line_buffer.turns`)."""
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
    # (tile, chunk key, its produced key, estimated start and end, continues a rolling run,
    # first of its chunk)
    sequence: list[tuple[lb.Tile, tuple[float, ...], tuple[float, ...], float, float, bool, bool]]
    yield  # the buffers are taken
    if row_sync is None:
        load_biases()
        sequence = [(t, (), (), 0.0, 0.0, False, False) for t in tiles]
    else:
        # tiles one by one, each a chunk of the image loop that loads all it needs (other
        # steps' chunks run between them and reuse the local memory) ...
        tiles = unit_tiles(tiles, banded=bool(bands))
        # a tile's windows run one after another on the range's crossbars
        issue = mvm_issue_ns(e.chip, mvm_steps(e.chip, e.chip.act_bits))

        def durations_of(t: lb.Tile) -> float:
            return t[1] * t[3] * issue

        tiles, keys, _ = row_sync.order(tiles, seg_no, [durations_of(t) for t in tiles])
        # ... or, with `roll`, runs of consecutive rows in one chunk through a rolling band
        # (`line_buffer.runs`, cut by `RowTokens.cut_runs`)
        sequence = []
        for run, lead in row_sync.cut_runs(tiles, keys, roll):
            key, at = keys[lead], keys[lead][0]
            for k, i in enumerate(run):
                end = at + durations_of(tiles[i])
                sequence.append((tiles[i], key, (*key, float(k)), at, end, k > 0, k == 0))
                at = end

    def _piece(g0: int, gn: int, x0: int, xn: int, banded: bool, tile: lb.Tile, cont: bool) -> None:
        """Band iterations g0.. (gn of them) of `tile`, windows x0.. (xn) of each row; its
        bands loaded when `banded` (else an earlier piece of the same band iteration did)."""
        oy0, _, ox0, nx, group = tile
        code.open_loop("g", gn)
        top = Aff.of(oy0 + g0 * group, g=group)
        for j in band_order if banded else []:
            band = bands[j]
            source, lo, hi, _ = loads[j]
            share = shares.get((core, j))
            win = window(source.conv)
            size = win.band_elements(nx, hi - lo, group)
            dst, skip, rows = band, 0, None
            if cont and lb.rolls(win):  # a rolling band: keep the rows shared with the last
                dst = shift_band(code, source.conv, hi - lo, band, nx, E)
                skip, rows = lb.new_rows(win)
                size = rows * win.band_cols(nx) * (hi - lo)
            if share is not None and share.recv is not None:
                peer, tag = share.recv
                code.add(isa.RecvOp(peer, code.addr(dst), size, tag))
                continue
            load_band(
                code,
                layer.places[source.value],
                source.conv,
                lo,
                hi - lo,
                dst,
                top,
                ox0,
                nx,
                group,
                skip,
                rows,
            )
            for peer, tag in share.sends if share is not None else []:
                code.add(isa.SendOp(peer, code.addr(dst), size, tag))
        code.open_loop("oy", group)
        code.open_loop("ox", xn)
        oy, ox = top + Aff.of(0, oy=1), Aff.of(ox0 + x0, ox=1)
        for j, (source, lo, hi, addr) in enumerate(loads):
            if j in bands:
                gather_window(code, source.conv, hi - lo, bands[j], addr, nx, E, x0)  # type: ignore[attr-defined]
            else:
                load_window(e, code, layer.places[source.value], source, lo, hi, addr, oy, ox, ow)  # type: ignore[attr-defined]
        started: set[int] = set()
        for i, b, terms in mine:
            dst = out_buf[i] if i in homes else send_buf.get(i)
            for t in terms:
                assert dst is not None
                src = term_src(t, loads, E)
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

    if turns > 1:  # interleaved with the core's other ranges: turns of equal windows
        assert row_sync is None
        for turn in lb.turns(tiles, turns):
            for t, (g0, gn, x0, xn, banded) in turn:
                _piece(g0, gn, x0, xn, banded, tiles[t], False)
            yield
        return
    for tile, chunk, produced, start, end, cont, first in sequence:
        if row_sync is not None:
            code.chunk_key = chunk
            row_sync.before(core, tile)
            if first:
                load_biases()
        # one band per tile of `group` output rows x `nx` columns (docs/lowering.md)
        _piece(0, tile[1] // tile[4], 0, tile[3], True, tile, cont)
        if row_sync is not None:
            if homes:
                row_sync.after(core, tile, code.slot(), produced, end, start)
            code.chunk_key = e.chunk_key
        yield
