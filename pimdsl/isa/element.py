"""The `element` schedule: layers of one image pipelined by rows (PIMCOMP-NN's element pipeline).

In the `layer` and `batch` schedules a step waits for a token per image from each core that
wrote its input: a consumer starts only when its producer has finished the whole image. In the
`element` schedule every core runs all its steps of one image in one image loop, in program
order, and a weight layer that reads a convolution map written by a weight layer of the same
partition waits per *tile* (a group of output rows, `line_buffer.Tile`) for just the producer
tiles whose rows its band covers: the producer sends a token after each tile a consumer waits
for, the consumer receives it before that tile's band load. So a consumer runs a few rows
behind its producer, and one image takes about one layer's time plus a few tiles per layer,
instead of the sum of the layers' times.

Tiles are the unit of synchronisation, so their loops are unrolled (a token after iteration k
of a loop would need a different loop body). Every tile is a *chunk* of its core's image loop
with a key, an estimate of when it starts (`RowTokens.order`); a core runs the chunks of all its
steps in key order, and a software pipeline over the images by key / period
(`builder.CoreCode.close_loop`). With replicas cut into contiguous window ranges, the first tile
of a consumer replica needs the last rows of the producer replica above it (its top halo);
ordered by readiness it runs last, instead of making the whole replica wait for the producer's
image. Every core of one window range sees the same tiles and producers, so they agree on the
keys (the shared bands and partial sums they exchange meet in sequence).

No deadlock: a producer never waits for its consumers (DRAM holds every image), and a core's
steps are in the partition's program order, a topological order of the layer DAG.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from xdsl.ir import Operation

from pimdsl.dialects import pim_isa as isa
from pimdsl.isa import line_buffer as lb
from pimdsl.isa.builder import CoreCode
from pimdsl.isa.line_buffer import Tile


class Produced(NamedTuple):
    """A producer tile: output rows [y0, y0 + rows) x columns [x0, x0 + cols) of its map."""

    y0: int
    rows: int
    x0: int
    cols: int
    slot: list[Operation]  # the place in its core's code right after its stores (token sends)
    key: tuple[float, ...]  # its chunk's key (`RowTokens`)
    end: float  # when it is estimated to end (ns into the image)
    start: float | None = None  # ... and to start, when not its key's time (a run's later rows)


@dataclass(frozen=True)
class Geometry:
    """How a consumer's output windows read an input map: kernel, strides, pads (top, left,
    ...), dilations, and the input map's height and width."""

    kernel: tuple[int, int]
    strides: tuple[int, int]
    pads: tuple[int, int, int, int]
    dilations: tuple[int, int]
    in_hw: tuple[int, int]

    def rows(self, oy0: int, ny: int) -> tuple[int, int]:
        """Input rows [first, last] (inclusive, clipped to the map) of output rows oy0.."""
        return self._span(oy0, ny, 0)

    def cols(self, ox0: int, nx: int) -> tuple[int, int]:
        return self._span(ox0, nx, 1)

    def _span(self, o0: int, n: int, axis: int) -> tuple[int, int]:
        s, k, d, pad = self.strides[axis], self.kernel[axis], self.dilations[axis], self.pads[axis]
        first = o0 * s - pad
        last = (o0 + n - 1) * s - pad + (k - 1) * d
        return max(first, 0), min(last, self.in_hw[axis] - 1)


POINTWISE = ((1, 1), (1, 1), (0, 0, 0, 0), (1, 1))  # a map read pixel by pixel (a residual add)


@dataclass
class RowTokens:
    """The row-granular synchronisation of one weight layer (step number `step`) in the
    element schedule.

    `sources`: per input map read by rows, its geometry and its producer tiles per writer core
    (in that core's program order). `waited`: (consumer core, map, writer) -> the tokens already
    received for this image, as (key of the receiving chunk, key of the producer tile) (shared
    by the partition's steps: a token received by an earlier chunk still holds). `base`: when the inputs it waits for by
    whole images are complete (the `done` times of their steps; 0 without). `produced` collects this
    layer's own tiles per home core, for its consumers.

    A tile's *key* orders the chunks of every core's image loop: (t, step, segment, index),
    t an estimate of when it starts (ns into its image): after `base` (when the inputs it waits
    for by whole images are complete), after the previous tile of its window range (which runs
    on the same crossbars) and after the producer tiles it reads have ended. Keys grow strictly
    along every dependency, so each core's order is one linear extension of the same partial
    order, whatever core it is: no token or rendezvous waits in a cycle."""

    tag: Callable[[], int]
    code: Callable[[int], CoreCode]
    sources: list[tuple[object, Geometry, dict[int, list[Produced]]]]
    waited: dict[tuple[int, object, int], list[tuple[tuple[float, ...], tuple[float, ...]]]]
    step: int
    base: float = 0.0
    buffers: dict[object, str] = field(
        default_factory=dict
    )  # map -> its DRAM buffer (tokens name it)
    produced: dict[int, list[Produced]] = field(default_factory=dict)
    busy: dict[int, float] = field(default_factory=dict)  # segment -> ns of its tiles per image

    def needs(self, tile: Tile) -> list[tuple[object, int, int]]:
        """(map, writer core, index of the tile of the writer that this tile's windows read
        and that its core runs last: the one of the largest key)."""
        oy0, ny, ox0, nx, _ = tile
        out = []
        for value, geo, writers in self.sources:
            r0, r1 = geo.rows(oy0, ny)
            c0, c1 = geo.cols(ox0, nx)
            for w, tiles in writers.items():
                last = -1
                for k, p in enumerate(tiles):
                    if (
                        p.y0 <= r1
                        and r0 < p.y0 + p.rows
                        and p.x0 <= c1
                        and c0 < p.x0 + p.cols
                        and (last < 0 or p.key > tiles[last].key)
                    ):
                        last = k
                if last >= 0:
                    out.append((value, w, last))
        return out

    def latest(self, tile: Tile) -> tuple[float, ...] | None:
        """The largest key of the producer tiles `tile` waits for (None: none)."""
        keys = [self._writer(v, w)[k].key for v, w, k in self.needs(tile)]
        return max(keys) if keys else None

    def cut_runs(
        self, tiles: list[Tile], keys: list[tuple[float, ...]], roll: int
    ) -> list[tuple[list[int], int]]:
        """A window range's tiles (in key order) cut into rolling runs of at most `roll`
        (`line_buffer.runs`), each with the index of the tile whose key its chunk takes: its
        first, so a run delays none of its rows, and a tile joins only while the producer tile
        it waits for has a smaller key than the run's (every token a run waits for is then from
        a producer of a smaller key: no cycle). A run keyed by its last tile instead takes
        every row but holds the core's queues while it waits for its later rows (measured in
        `line_buffer`'s notes)."""
        out: list[list[int]] = []
        for run in lb.runs(tiles, roll) if roll > 1 else [[i] for i in range(len(tiles))]:
            out.append([run[0]])
            for i in run[1:]:
                need = self.latest(tiles[i])
                if need is None or need < keys[out[-1][0]]:
                    out[-1].append(i)
                else:
                    out.append([i])
        return [(run, run[0]) for run in out]

    def order(
        self, tiles: list[Tile], segment: int, durations: list[float]
    ) -> tuple[list[Tile], list[tuple[float, ...]], list[float]]:
        """A window range's tiles by when their inputs are ready (stable: ties keep the
        row-major order), their keys and estimated ends; `durations`: ns each tile takes."""
        # ready one producer tile after the tile it reads has ended: its core's queues are in
        # order, so a chunk placed as soon as its input could land stalls the chunks behind it
        # whenever the producer runs late (the producer's next tile among them)
        ready = [
            max([self.base, *(self._lagged(v, w, k) for v, w, k in self.needs(t))]) for t in tiles
        ]
        idx = sorted(range(len(tiles)), key=lambda i: ready[i])
        keys, ends = [], []
        at = self.base
        for j, i in enumerate(idx):
            start = max(at, ready[i])
            at = start + durations[i]
            keys.append((start, float(self.step), float(segment), float(j)))
            ends.append(at)
        self.busy[segment] = sum(durations)
        return [tiles[i] for i in idx], keys, ends

    def _lagged(self, value: object, w: int, k: int) -> float:
        p = self._writer(value, w)[k]
        return 2 * p.end - (p.key[0] if p.start is None else p.start)

    def _writer(self, value: object, w: int) -> list[Produced]:
        return next(ws[w] for v, _, ws in self.sources if v is value)

    def before(self, core: int, tile: Tile) -> None:
        """Wait, on `core`, for the producer tiles `tile` reads that it has not waited for."""
        code = self.code(core)
        here = code.chunk_key or ()
        for value, w, k in self.needs(tile):
            if w == core:
                continue  # the core's own tiles are earlier in its program order
            produced = self._writer(value, w)[k].key
            # a token received by a chunk that runs before this one (a smaller key) for a
            # writer's tile of a larger key covers this one: the writer sends it when all it
            # stored before has landed
            got = self.waited.setdefault((core, value, w), [])
            if any(at <= here and p >= produced for at, p in got):
                continue
            got.append((here, produced))
            tag = -self.tag()  # negative: a synchronisation token
            buffer = self.buffers.get(value)
            self._writer(value, w)[k].slot.append(isa.SendOp(core, isa.addr(0), 1, tag, buffer))
            code.add(isa.RecvOp(w, isa.addr(0), 1, tag, buffer))

    def after(
        self,
        core: int,
        tile: Tile,
        slot: list[Operation],
        key: tuple[float, ...],
        end: float,
        start: float | None = None,
    ) -> None:
        """Record a tile the home core `core` has just stored (`start`: when it is estimated
        to start, if not at its key's time: a later row of a rolling run)."""
        oy0, ny, ox0, nx, _ = tile
        self.produced.setdefault(core, []).append(Produced(oy0, ny, ox0, nx, slot, key, end, start))


def unit_tiles(tiles: list[Tile], banded: bool) -> list[Tile]:
    """Every tile's groups as tiles of their own (one band each): the loop over groups
    unrolled, so that a token can follow any one of them. Without line buffers (windows
    loaded one by one) a tile is a whole rectangle of windows; it is cut into rows."""
    if not banded:
        return lb.unit_rows(tiles)
    return [(oy0 + k * g, g, ox0, nx, g) for oy0, ny, ox0, nx, g in tiles for k in range(ny // g)]
