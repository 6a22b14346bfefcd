"""Line buffers: how a convolution core reads its input (one rule for the lowering and the cost
model).

Without a line buffer every output window loads its whole input patch (C' x kh x kw elements
of the core's input channels) from DRAM, so each input element is read about kh*kw/(sh*sw)
times. With one, the core cuts its output windows into *tiles* of G output rows x W output
columns and, per tile, loads the *band* of input the tile's windows cover ((G-1)*sh + (kh-1)*dh
+ 1 rows x (W-1)*sw + (kw-1)*dw + 1 columns x C' channels, one `load_block`); it forms each
window's input vector locally from the band (`pim_isa.gather`, rows ordered (c, ky, kx) as the
crossbar tiles expect). An input element is then read about (1 + (kh-sh)/(G*sh)) x
(1 + (kw-sw)/(W*sw)) times: the halo of the tiles. G and W are the largest the band budget
allows that minimise that factor (`tile_shape`).

Tiles, not a rolling buffer: a rolling buffer keeps the last kh-sh rows and loads sh new ones
per output row (each element read once) but makes every window loop carry state from one row
to the next, which the interpreter could no longer run as one vector operation; a tile's band
is independent of the others.

`crossbar-to-isa` (weight_inputs.py, emit_pool.py) emits what `plan` says and the cost model
(pimdsl/cost/model.py) prices `loaded_elements`, which walks the same plan: the two cannot
disagree on a layer's input traffic (tests/test_line_buffer.py checks both against the
program).
"""

from __future__ import annotations

from dataclasses import dataclass

# Local memory a core's line buffers may take, as a share of the core's local memory: the rest
# holds the window vectors, outputs, partial sums and biases of the layer's step.
BAND_SHARE = 2
# Element size the lowering uses unless told otherwise (crossbar-to-isa's `elem-bytes`).
DEFAULT_ELEM_BYTES = 2


@dataclass(frozen=True)
class Window:
    """A convolution's window geometry, as far as its input traffic goes."""

    kernel: tuple[int, int]
    strides: tuple[int, int]
    dilations: tuple[int, int]
    out_hw: tuple[int, int]

    def band_rows(self, ny: int = 1) -> int:
        """Input rows that the windows of `ny` adjacent output rows cover."""
        return (ny - 1) * self.strides[0] + (self.kernel[0] - 1) * self.dilations[0] + 1

    def band_cols(self, nx: int) -> int:
        """Input columns that `nx` adjacent windows of one output row cover."""
        return (nx - 1) * self.strides[1] + (self.kernel[1] - 1) * self.dilations[1] + 1

    def band_elements(self, nx: int, channels: int, ny: int = 1) -> int:
        return self.band_rows(ny) * self.band_cols(nx) * channels


Rect = tuple[int, int, int, int]  # (oy0, rows, ox0, cols) of output windows


def rectangles(w0: int, w1: int, ow: int) -> list[Rect]:
    """Windows w0..w1-1 (row-major over (oy, ox), ow per row) as (oy0, rows, ox0, cols)."""
    out = []
    w = w0
    if w % ow:
        n = min(ow - w % ow, w1 - w)
        out.append((w // ow, 1, w % ow, n))
        w += n
    full = (w1 - w) // ow
    if full:
        out.append((w // ow, full, 0, ow))
        w += full * ow
    if w < w1:
        out.append((w // ow, 1, 0, w1 - w))
    return out


def band_budget(local_memory_bytes: int, elem_bytes: int) -> int:
    """Elements of local memory a core's line buffers may use in one step."""
    return local_memory_bytes // elem_bytes // BAND_SHARE


def tile_shape(
    win: Window, channels: int, budget: int, ny: int, nx: int, max_rows: int | None = None
) -> tuple[int, int]:
    """(G, W): output rows and columns of a tile whose band fits `budget` elements, G <= ny
    (and <= `max_rows`) and W <= nx, minimising the input elements loaded per window (ties: the
    taller tile); (0, 0) when not even one window's band fits."""
    best: tuple[float, int, int] | None = None
    extra = (win.kernel[1] - 1) * win.dilations[1] + 1
    for g in range(1, min(ny, max_rows or ny) + 1):
        per_col = win.band_rows(g) * channels
        if budget // per_col < extra:
            break  # taller tiles do not fit either
        w = min(nx, 1 + (budget // per_col - extra) // win.strides[1])
        cost = win.band_rows(g) * win.band_cols(w) / (g * w)
        if best is None or cost <= best[0]:
            best = (cost, g, w)
    return (0, 0) if best is None else (best[1], best[2])


# The element schedule's tiles (`pimdsl.isa.element`): one output row each, so that a consumer
# runs a row behind its producer (a taller tile loads a little less per window: with 3x3
# windows 3 rows per output row against (G + 2) / G, but waits for G more rows of its input).
ELEMENT_ROWS = 1

# ... and their *runs* (`runs`, the chip's `roll_rows`, 1 = none by default): up to that many
# one-row tiles of consecutive rows of the same columns run back to back as one chunk through a
# rolling band: the first loads its whole band, each next one keeps the band's last rows
# (shifted up by a local gather) and loads only its `sh` new rows. A 3x3 stride-1 conv in runs
# of 8 loads (3 + 7) / 8 = 1.25 input rows per output row instead of 3, in the same local
# memory. A run takes its first tile's key and ends before a tile that waits for a producer
# tile of a later key (`element.RowTokens.cut_runs`): a partition entry runs whole runs, a
# consumer one producer tile behind its producer runs of about 2 (`LATENCY_ROLL`).
# Measured (simulated, batch 16; seventh session): ResNet18 in one partition on
# pimcomp-default (unit_crossbars=auto): steady-state period 3.25 ms without runs, 2.80 with
# runs of 4 (batch-1 latency 7.55 -> 7.84 ms); keyed by their last tile (every row joins, the
# core's queues wait for the later rows) 2.50 with 4 and 2.35 with 8. But ResNet18's greedy
# grouping on compass-s (its partition 0: conv1, the pool and layer1 on cores holding several
# layers) falls from 513 inf/s without runs to 273 with runs of 8, 347 with 4 and 395 with 2,
# and 412 with runs of 8 for the consumers only: so runs are off by default.
LATENCY_ROLL = 2


def priced_roll(roll_rows: int, entry: bool) -> int:
    """The run length the cost model prices, for the chip's `roll_rows`, for a layer that waits
    for no producer tile of its partition (`entry`) or one that does (the lowering cuts its runs
    by the keys, `element.RowTokens.cut_runs`)."""
    return roll_rows if entry else min(roll_rows, LATENCY_ROLL)


def rolls(win: Window) -> bool:
    """Whether consecutive one-row tiles share input rows (the band is taller than a stride)."""
    return win.band_rows(1) > win.strides[0]


def runs(tiles: list[Tile], roll: int) -> list[list[int]]:
    """Indices of `tiles` (one-row tiles in the order they run) cut into runs: a tile continues
    the run before it when it is the next row of the same columns and the run is shorter than
    `roll`. The lowering cuts its tiles in key order, the cost model in row order."""
    out: list[list[int]] = []
    for i, (oy0, _, ox0, nx, _) in enumerate(tiles):
        if out and len(out[-1]) < roll:
            py, prows, px, pnx, _ = tiles[out[-1][-1]]
            if (px, pnx) == (ox0, nx) and py + prows == oy0:
                out[-1].append(i)
                continue
        out.append([i])
    return out


def new_rows(win: Window) -> tuple[int, int]:
    """(rows a continuing tile keeps from the band before it, rows it loads)."""
    sh = win.strides[0]
    return win.band_rows(1) - sh, sh


def run_loads(win: Window, tiles: list[Tile], channels: int, roll: int) -> int:
    """Input elements one-row tiles load in runs of at most `roll` (in the order given)."""
    total = 0
    for run in runs(tiles, roll):
        nx = tiles[run[0]][3]
        total += win.band_elements(nx, channels)
        total += (len(run) - 1) * new_rows(win)[1] * win.band_cols(nx) * channels
    return total


def unit_rows(tiles: list[Tile]) -> list[Tile]:
    """Every row of `tiles` as a one-row tile of its own."""
    return [(oy0 + k, 1, ox0, nx, 1) for oy0, ny, ox0, nx, _ in tiles for k in range(ny)]


def one_tile_per_row(tiles: list[Tile]) -> bool:
    """Whether no two tiles share an output row (one column strip per row: what rolling
    needs, every strip would need a band of its own)."""
    rows = [t[0] for t in tiles]
    return all(t[1] == 1 for t in tiles) and len(set(rows)) == len(rows)


Tile = tuple[int, int, int, int, int]  # (oy0, rows, ox0, cols, group): rows a multiple of group


def split(rects: list[Rect], group: int, width: int) -> list[Tile]:
    """Cut every rectangle into column strips of at most `width` windows and its rows into
    groups of `group` (a last, shorter group of the remaining rows on its own)."""
    out = []
    for oy0, ny, ox0, nx in rects:
        g = min(group, ny)
        full = ny // g * g
        for x in range(ox0, ox0 + nx, width):
            w = min(width, ox0 + nx - x)
            out.append((oy0, full, x, w, g))
            if full < ny:
                out.append((oy0 + full, ny - full, x, w, ny - full))
    return out


def patch_elements(win: Window, rects: list[Rect], channels: int) -> int:
    """Input elements loaded without a line buffer: every window its whole patch."""
    return sum(ny * nx for _, ny, _, nx in rects) * channels * win.kernel[0] * win.kernel[1]


def band_loads(win: Window, tiles: list[Tile], channels: int) -> int:
    return sum(ny // g * win.band_elements(nx, channels, g) for _, ny, _, nx, g in tiles)


def shape(
    win: Window, w0: int, w1: int, channels: int, budget: int, max_rows: int | None = None
) -> tuple[int, int] | None:
    """The tile (G, W) a core takes for windows [w0, w1) of a layer reading `channels` input
    channels, or None when it loads every window's patch instead: a 1x1 window (the band is the
    patch), a band too big for even one window, or bands that would load no less than the
    patches (strides wider than the kernel)."""
    return rect_shape(win, rectangles(w0, w1, win.out_hw[1]), channels, budget, max_rows)


def rect_shape(
    win: Window, rects: list[Rect], channels: int, budget: int, max_rows: int | None = None
) -> tuple[int, int] | None:
    """`shape` for windows given as rectangles (a pool's output region)."""
    if win.kernel[0] * win.kernel[1] == 1:
        return None
    ny = max(r[1] for r in rects)
    nx = max(r[3] for r in rects)
    g, w = tile_shape(win, channels, budget, ny, nx, max_rows)
    if g < 1:
        return None
    if band_loads(win, split(rects, g, w), channels) >= patch_elements(win, rects, channels):
        return None
    return g, w


# --- pools ------------------------------------------------------------------------------------
# A max or average pool reads its input as a convolution does: per channel chunk and tile of
# output windows one band, each window's taps gathered from it ([ky][kx][channel], what
# `pim_isa.vpool` reduces), unless `rect_shape` says the taps themselves load less (a 2x2
# stride-2 pool: no overlap).


def pool_chunk(channels: int, taps: int, local_elements: int) -> int:
    """Channels a pool handles at once: its gathered taps and the result fit local memory."""
    return max(1, min(channels, local_elements // (taps + 1)))


def pool_budget(local_elements: int, taps: int, chunk: int) -> int:
    """Elements a pool's band may take: local memory less its taps and result buffers."""
    return max(0, local_elements - (taps + 1) * chunk)


def pool_loads(win: Window, rects: list[Rect], channels: int, local_elements: int) -> int:
    """Input elements a pool loads for output windows `rects` over `channels` channels (the
    lowering's plan: chunks of `pool_chunk` channels, each through bands where they pay)."""
    taps = win.kernel[0] * win.kernel[1]
    chunk = pool_chunk(channels, taps, local_elements)
    gw = rect_shape(win, rects, chunk, pool_budget(local_elements, taps, chunk))
    if gw is None:
        return patch_elements(win, rects, channels)
    return band_loads(win, split(rects, *gw), channels)


# A core's window ranges of one layer that no other core takes part in run interleaved
# (`emit_weight.interleaved`): each cut into this many turns of about equal windows (`turns`),
# the ranges taking theirs in turn, so that every range's epilogues and stores follow its own
# MVMs instead of queueing behind the first range's. More turns spread the stores more evenly
# but each adds a loop nest or two per range.
INTERLEAVE_TURNS = 8

Piece = tuple[int, int, int, int, bool]  # (g0, gn, x0, xn, loads its bands) of a tile


def turns(tiles: list[Tile], n: int) -> list[list[tuple[int, Piece]]]:
    """A range's tiles cut into `n` turns of about equal windows (the same for every range of
    a core, so that each turn of the interleaved ranges takes about as long on each range's
    crossbars), each turn a list of (tile index, piece): band iterations g0 .. g0 + gn of the
    tile, output columns x0 .. x0 + xn of each (`group` rows each). A band iteration cut by a
    turn's end goes on in the next turn with its other columns, which gather from the band the
    first piece loaded."""
    total = sum(ny * nx for _, ny, _, nx, _ in tiles)
    n = max(1, min(n, total))
    out: list[list[tuple[int, Piece]]] = [[]]
    done = 0  # windows in the turns so far

    def quota() -> int:  # windows left in the current turn
        return -(-(len(out) * total) // n) - done

    for t, (_, ny, _, nx, group) in enumerate(tiles):
        g = 0
        while g < ny // group:
            if quota() <= 0:
                out.append([])
            whole = min(quota() // (group * nx), ny // group - g)
            if whole:  # whole band iterations
                out[-1].append((t, (g, whole, 0, nx, True)))
                done += whole * group * nx
                g += whole
                continue
            x0 = 0  # a band iteration's columns over turns
            while x0 < nx:
                if quota() <= 0:
                    out.append([])
                xn = min(nx - x0, max(1, -(-quota() // group)))
                out[-1].append((t, (g, 1, x0, xn, x0 == 0)))
                done += group * xn
                x0 += xn
            g += 1
    return [turn for turn in out if turn]


def range_elements(win: Window, w0: int, w1: int, channels: int, budget: int) -> int:
    """Local memory (elements) that windows [w0, w1) of a convolution reading `channels`
    channels take for their input, as `weight_inputs.input_plan` allocates it: one window's
    input vector (channels x kernel) and, where it takes a line buffer, its band (the largest
    tile's). The cost model's estimate of how many of a core's ranges run interleaved."""
    patch = channels * win.kernel[0] * win.kernel[1]
    gw = shape(win, w0, w1, channels, budget)
    return patch if gw is None else patch + win.band_elements(gw[1], channels, gw[0])


def tiles(w0: int, w1: int, ow: int, group: int, width: int) -> list[Tile]:
    return split(rectangles(w0, w1, ow), group, width)


def loaded_elements(win: Window, w0: int, w1: int, channels: int, budget: int) -> int:
    """Input elements a core loads to compute windows [w0, w1) from `channels` channels."""
    return loads(win, w0, w1, channels, budget)[0]


def loads(
    win: Window,
    w0: int,
    w1: int,
    channels: int,
    budget: int,
    max_rows: int | None = None,
    roll: int = 0,
) -> tuple[int, bool]:
    """(`loaded_elements`, whether they come through line buffers: only bands are shared
    between cores, `pimdsl.isa.codegen.shared_bands`); with `roll`, one-row tiles of one strip
    per row run in runs of that many rows in row order (`runs`; the element schedule)."""
    gw = shape(win, w0, w1, channels, budget, max_rows)
    if gw is None:
        return patch_elements(win, rectangles(w0, w1, win.out_hw[1]), channels), False
    cut = tiles(w0, w1, win.out_hw[1], *gw)
    if roll > 1 and gw[0] == 1 and rolls(win):
        rows = unit_rows(cut)
        if one_tile_per_row(rows):
            return run_loads(win, rows, channels, roll), True
    return band_loads(win, cut, channels), True
