"""One crossbar partition being lowered (`PartitionState`): the values it has stored and where,
which cores wrote them, the tokens between cores, the open image loops and the element
schedule's row tokens. It walks the partition's body in program order and hands each op to its
emitter (`pimdsl.isa.emitters`); the emitters call back for the decisions every step shares:
`vector_core` (which core runs a vector step), `sync` (the tokens and image loops before a
step) and `wrote` (who stored a value, and the tokens after)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from xdsl.ir import Operation, SSAValue

from pimdsl.dialects import crossbar as xb
from pimdsl.dialects import nn
from pimdsl.dialects import pim_isa as isa
from pimdsl.errors import PimError
from pimdsl.isa import (
    element,
    lower_elementwise,  # noqa: F401  (registers the element-wise emitters)
    lower_layout,  # noqa: F401  (registers the data-movement emitters)
    lower_pool,  # noqa: F401  (registers the pool emitters)
)
from pimdsl.isa import linear as lin
from pimdsl.isa.emit import Emit
from pimdsl.isa.emitters import EMITTERS, VectorEmitter, VectorTask, shape, where
from pimdsl.isa.lower_weight import materialise
from pimdsl.isa.placement import Place

if TYPE_CHECKING:
    from pimdsl.isa.lower import Lowering


class PartitionState:
    """Walks one crossbar.partition's body and emits its steps."""

    def __init__(self, low: Lowering, e: Emit, cores: list[int]):
        self.yielded: set[SSAValue] = set()
        self.low = low
        self.e = e
        self.cores = cores
        self.linear: dict[SSAValue, lin.Linear] = {}
        self.sources: dict[SSAValue, lin.Source] = {}
        self.writers: dict[SSAValue, set[int]] = {}
        self.fused: set[Operation] = set()
        self.slots: dict[
            tuple[SSAValue, int], list[Operation]
        ] = {}  # (value, writer) -> token sends
        self.synced: set[tuple[SSAValue, int]] = set()  # (value, reader) already waited for
        self.open: list[int] = []  # cores whose image loop the current step opened
        self.open_stage = 0  # the pipeline stage of that loop (the batch schedule)
        self.stages: dict[SSAValue, int] = {}  # value written here -> its step's stage
        # a conv's stored map -> (output columns, (first window, end window, core) per block)
        self.row_writers: dict[SSAValue, tuple[int, list[tuple[int, int, int]]]] = {}
        # the element schedule: a weight layer's stored map -> its tiles per home core, and
        # the producer tiles each core has waited for in the image (`pimdsl.isa.element`)
        self.tiles: dict[SSAValue, dict[int, list[element.Produced]]] = {}
        self.row_waited: dict[
            tuple[int, object, int], list[tuple[tuple[float, ...], tuple[float, ...]]]
        ] = {}
        self.done: dict[SSAValue, float] = {}  # value -> when its last chunk ends (ns)
        # ns per image of each core's vector unit and of each window range's crossbars: the
        # element schedule's period is the busiest (`CoreCode.period`)
        self.lanes: dict[object, float] = {}
        self.step_no = 0
        self.base = 0.0  # the chunk key of the step being emitted

    # --- synchronisation -------------------------------------------------------------------

    def sync(
        self,
        readers: set[int],
        inputs: list[SSAValue],
        needs: dict[int, set[int]] | None = None,
        join: bool = True,
    ) -> None:
        """Before a step on `readers`: each reader waits for a token from every other core that
        wrote one of `inputs` in this partition (sent right after that core's producer step), or
        only from the writers `needs[reader]` names (a pool split by rows reads its rows' writers).
        Point to point, per image: a producer never waits for its consumers, so while a
        consumer works on image n its producers may run image n+1 (DRAM holds every image)."""
        # A step whose cores all ran the step just before continues their image loop: per
        # image, that core runs the earlier step and then this one (a residual add, a pool or a
        # relu right after its producer layer), so the consumers of this step do not wait for
        # the producer's whole batch. Otherwise every open image loop closes here.
        if self.low.part_schedule == "element":
            # one image loop per core around all its steps (`pimdsl.isa.element`); the step's
            # chunks start when its whole-image inputs are complete
            self.step_no += 1
            base = max((self.done.get(self.low.c(v), 0.0) for v in inputs), default=0.0)
            self.base = base
            self.e.set_chunk_key((base, float(self.step_no), -1.0, -1.0))
            for c in sorted(readers):
                if c not in self.cores:
                    self.cores.append(c)
                if c not in self.open:
                    self.e.code(c).open_loop("n", self.low.images)
                    self.open.append(c)
            self.open.sort()
            self._tokens(readers, inputs, needs)
            return
        cont = bool(readers) and readers <= set(self.open) and join
        stage: int | None = None
        if self.low.part_schedule == "batch" and self.low.images > 1:
            # the batch schedule (`pimdsl.isa.pipeline`): a step's stage is one more than any
            # producer's in this partition, or the stage of the image loop it continues
            made = [self.stages[x] for x in (self.low.c(v) for v in inputs) if x in self.stages]
            cont = cont and all(d <= self.open_stage for d in made)
            stage = self.open_stage if cont else max((d + 1 for d in made), default=0)
        for c in self.open:
            if not (cont and c in readers):
                self.e.code(c).close_loop()
        for c in sorted(readers):
            if c not in self.cores:
                self.cores.append(c)
            if not cont:
                self.e.code(c).open_loop("n", self.low.images, stage)
        self.open = sorted(readers)
        self.open_stage = stage or 0
        self._tokens(readers, inputs, needs)

    def _tokens(
        self, readers: set[int], inputs: list[SSAValue], needs: dict[int, set[int]] | None
    ) -> None:
        """Per image, each reader waits for a token from each other core that wrote an input."""
        for v in inputs:
            v = self.low.c(v)
            # the element schedule's tokens name the buffer they announce (`pim_isa.recv`):
            # a core's loads of other buffers do not wait for them
            place = self.low.places.get(v)
            buffer = (
                place.buffer if place is not None and self.low.part_schedule == "element" else None
            )
            for w in sorted(self.writers.get(v, set())):
                for r in sorted(readers - {w}):
                    if (v, r) in self.synced or (
                        needs is not None and w not in needs.get(r, set())
                    ):
                        continue
                    if (
                        self.low.part_schedule == "batch"
                        and self.stages.get(v, math.inf) > self.open_stage
                    ):
                        # pimdsl.isa.pipeline's no-deadlock rule: a token comes from a lower
                        # stage or from earlier in the same one
                        raise AssertionError(
                            f"batch schedule: a step at stage {self.open_stage} waits "
                            f"for {v} of stage {self.stages.get(v)}"
                        )
                    tag = -self.e.next_tag()  # negative tag: a synchronisation token
                    self.slots[(v, w)].append(isa.SendOp(r, isa.addr(0), 1, tag, buffer))
                    self.e.code(r).add(isa.RecvOp(w, isa.addr(0), 1, tag, buffer))
            for r in readers:
                # (a reader that waited for only some writers waits for all when it reads again)
                if needs is None or self.writers.get(v, set()) - {r} <= needs.get(r, set()):
                    self.synced.add((v, r))

    def wrote(
        self,
        v: SSAValue,
        cores: set[int],
        keys: dict[int, float] | None = None,
        merge: bool = False,
    ) -> None:
        """`v` is stored by `cores`; the element schedule: `keys` = when each core's last
        chunk of it ends (ns into the image; default: a step on one core that reads and
        writes `v`'s elements through DRAM). `merge`: another part of `v` (a concat's
        producers store its map one after another)."""
        v = self.low.c(v)
        before = self.done.get(v, 0.0) if merge else 0.0
        self.writers[v] = (self.writers.get(v, set()) if merge else set()) | cores
        self.stages[v] = self.open_stage
        element = self.low.part_schedule == "element"
        if element:
            if keys is None:
                ns = self.vector_ns(math.prod(shape(v)[1:]), 2 * math.prod(shape(v)[1:]))
                keys = {c: self.base + ns for c in cores}
                for c in cores:
                    self.lanes[c] = self.lanes.get(c, 0.0) + ns
            done = max(keys.values(), default=self.base)
            self.done[v] = max(done, before)
        for c in cores:
            if element:
                # the step's token sends right after its last chunk on the core
                assert keys is not None
                self.e.code(c).chunk_key = (
                    max(keys.get(c, self.base) - 1e-9, self.base),
                    float(self.step_no),
                    math.inf,
                    math.inf,
                )
            self.slots[(v, c)] = self.e.code(c).slot()
            self.e.code(c).chunk_key = self.e.chunk_key

    def row_tokens(self, by_rows: dict[SSAValue, element.Geometry]) -> element.RowTokens:
        """The element schedule's row tokens of the step being emitted, for the maps it reads
        by rows (`by_rows`: each map's geometry as this step reads it)."""
        return element.RowTokens(
            self.e.next_tag,
            self.e.code,
            [(v, g, self.tiles[v]) for v, g in by_rows.items()],
            self.row_waited,
            self.step_no,
            self.base,
            {v: self.low.places[v].buffer for v in by_rows},
        )

    def close(self) -> None:
        """Close the open image loops (the end of the partition)."""
        period = max(self.lanes.values(), default=1.0)
        for c in self.open:
            self.e.code(c).period = period
            self.e.code(c).close_loop()
        self.open = []

    def vector_core(self, inputs: Sequence[SSAValue] = ()) -> int:
        """The core of a vector step reading `inputs`: a core of the step just emitted that
        wrote one of them (the step then joins that core's image loop, see `sync`), the
        least vector-loaded such core; else the partition's least vector-loaded core."""
        work = self.e.vector_work
        near = set(self.open) & {w for v in inputs for w in self.writers.get(self.low.c(v), set())}
        return min(near or self.cores, key=lambda c: (work.get(c, 0), c))

    # --- values ----------------------------------------------------------------------------

    def stored(self, v: SSAValue, hint: str) -> Place | None:
        """The place of `v`, storing it first when it is still a symbolic crossbar result;
        None when storing fused `v`'s only reader into the layer (that reader is done)."""
        cv = self.low.c(v)
        if cv in self.linear:
            target = materialise(self, cv, self.linear.pop(cv), None, hint)
            if target is not cv:
                return None
        if isinstance(cv.owner, nn.WeightOp):
            return None  # read by name from the weight file
        if cv not in self.low.places:
            raise PimError(f"crossbar-to-isa: value {cv} is read before it is stored (internal).")
        return self.low.places[cv]

    # --- the body --------------------------------------------------------------------------

    def body(self, p: xb.PartitionOp) -> None:
        last = p.body.block.last_op
        assert isinstance(last, xb.YieldOp)
        self.yielded = {v for v in last.values}
        for op in p.body.block.ops:
            if op in self.fused or isinstance(
                op, xb.TileOp | xb.WriteOp | nn.WeightOp | nn.ConstantOp
            ):
                continue
            if isinstance(op, xb.YieldOp):
                for v in op.values:
                    self.stored(v, "exit")
                continue
            self.step(op)

    def weight_key(self, v: SSAValue) -> str | None:
        """The weight-file tensor `v` is: an nn.weight, or a reshape of one (same elements)."""
        owner = self.low.c(v).owner
        while isinstance(owner, nn.FlattenOp | nn.ReshapeOp):
            owner = self.low.c(owner.operands[0]).owner
        return owner.key if isinstance(owner, nn.WeightOp) else None

    def step(self, op: Operation) -> None:
        """Lower `op` by its registered emitter (`pimdsl.isa.emitters`)."""
        emit = EMITTERS.get(type(op))
        if emit is None:
            self.vector(op, None)
        else:
            emit(self, op)

    def vector(self, op: Operation, emit: VectorEmitter | None) -> None:
        """What every vector step does first (store the crossbar results it reads, fusing `op`
        into the layer when it can; pick its core), then `emit` (None: `op` has no lowering)."""
        hint = op.name.split(".")[-1]
        if (
            isinstance(op, nn.FlattenOp | nn.ReshapeOp)
            and self.weight_key(op.results[0]) is not None
        ):
            return  # a reshaped weight: read by name where it is used
        for v in op.operands:  # store pending crossbar results (fusing `op` when it can)
            if self.weight_key(v) is None:
                self.stored(v, "linear")
        if op in self.fused:
            if isinstance(op, nn.ConcatOp):  # its producers stored into its map: all of them?
                whole = self.low.places[self.low.c(op.results[0])].buffer
                if any(self.place(v).buffer != whole for v in op.operands):
                    raise PimError(
                        f"crossbar-to-isa: {where(op)}: some of its producers did not store "
                        "into the concat's map (internal: `lower_weight._concat_in_stores` "
                        "decided for all of them)."
                    )
            return
        ins = [self.place(v) for v in op.operands if self.weight_key(v) is None]
        core = self.vector_core(op.operands)
        what = f"{where(op)} on core {core}"
        if emit is None:
            raise PimError(
                f"crossbar-to-isa: {where(op)} has no pim_isa lowering yet.",
                hint="Supported vector ops: relu, sigmoid, tanh, clip, leaky_relu, fake_quant, add, sub, mul, "
                "div (same shapes), max/avg pool, global average pool, LRN, batch norm, zero pad, "
                "channel concat, flatten, softmax over features.",
            )
        emit(self, VectorTask(op, ins, core, what, hint))

    def on_core(
        self,
        step: VectorTask,
        emit: Callable[[Place], None],
        inputs: list[SSAValue] | None = None,
    ) -> None:
        """A vector step on its one core: the result's place, the wait for `inputs` (default:
        all operands), `emit(result place)`, and the record of who wrote the result."""
        op = step.op
        out = self.low.place_for(op.results[0], step.hint)
        self.sync({step.core}, list(op.operands) if inputs is None else inputs)
        emit(out)
        self.wrote(op.results[0], {step.core})

    def by_rows(
        self,
        inputs: list[SSAValue],
        geometry: dict[SSAValue, element.Geometry],
        result: SSAValue,
        rows_of: dict[int, list[tuple[int, int]]],
        width: int,
        emit: Callable[[int, tuple[int, int]], None],
        row_ns: float,
        group: int = 2,
    ) -> None:
        """The element schedule: a vector step whose output rows each read a few rows of its
        inputs (a pool, a concat), as chunks of `group` output rows on the cores of `rows_of`
        (core -> runs (first, count)), each waiting only for the producer tiles it reads
        (`pimdsl.isa.element`); `emit(core, (first, count))` emits one chunk's rows, which
        take about `row_ns` each."""
        by_rows = {v: g for v, g in geometry.items() if v in self.tiles}
        self.sync(set(rows_of), [v for v in inputs if self.low.c(v) not in by_rows])
        rt = self.row_tokens(by_rows)
        for c in sorted(rows_of):
            tiles = [
                (y, min(group, first + count - y), 0, width, min(group, first + count - y))
                for first, count in rows_of[c]
                for y in range(first, first + count, group)
            ]
            code = self.e.code(c)
            ordered, keys, ends = rt.order(tiles, c, [t[1] * row_ns for t in tiles])
            for tile, key, end in zip(ordered, keys, ends, strict=True):
                code.chunk_key = key
                rt.before(c, tile)
                emit(c, (tile[0], tile[1]))
                rt.after(c, tile, code.slot(), key, end)
            code.chunk_key = self.e.chunk_key
            self.lanes[c] = self.lanes.get(c, 0.0) + sum(t[1] for t in tiles) * row_ns
        self.wrote(result, set(rows_of), {c: max(p.end for p in t) for c, t in rt.produced.items()})
        self.tiles[self.low.c(result)] = rt.produced

    def vector_ns(self, ops: int, moved: int) -> float:
        """The element schedule's estimate of a vector chunk: `ops` element operations on the
        vector unit, `moved` elements through DRAM."""
        chip, act = self.low.chip, self.low.chip.act_bits / 8
        return (
            ops * act / chip.vector_bytes * chip.vector_latency_ns
            + moved * act / min(chip.dram_bandwidth, chip.bus_bandwidth) * 1e9
        )

    def place(self, v: SSAValue) -> Place:
        place = self.stored(v, "in")
        assert place is not None, "a fused or weight value read as an activation"
        return place
