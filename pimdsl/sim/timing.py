"""The timing and energy model of a `pim_isa` program: per-core timelines, rendezvous,
barriers, shared DRAM and bus, weight reloads and static power.

    from pimdsl.sim.timing import simulate_module
    stats = simulate_module(module)          # a pimdsl.sim.stats.SimStats
    stats.to_json()["latency_s"]

Timing depends on the instructions, never on the data, so it runs on the IR alone (no
weights needed; `pim-run --timing-only`), next to the numeric interpreter or without it.

The model (docs/simulator.md has every formula):

- Each core has units: a load DMA, a store DMA, the vector unit, the link (send/recv), the
  crossbar write port and one per crossbar. An instruction starts when its unit is free, the
  local-memory bytes it reads have been produced (a scoreboard of ready times per element of local memory) and any barrier it
  follows has released; its unit is then busy for its occupancy and its result is ready after
  its latency. Units of one core thus overlap (crossbars of a core work in parallel, a crossbar
  pipelines MVMs), while each unit keeps program order.
- Shared resources, the DRAM channel and the on-chip bus, are calendars: a transfer starts at
  the earliest time >= its ready time when the resource is free for bytes / bandwidth, and holds
  it that long; a DRAM access completes dram_latency_ns later.
- send/recv is a rendezvous: the transfer starts when both sides are ready (and the bus is free).
  A barrier releases every member at the latest member's arrival (all its work done).
- Partitions run one after another: partition k+1 starts when every core finished partition k.
- A counted loop without send/recv/barrier is not stepped: its first iterations are
  simulated (up to a steady state), the others each take the least increment seen (at least the
  busiest unit's or shared link's time per iteration): closed form. Loops holding send/recv/barrier are
  stepped, their inner loops in closed form.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections import deque
from collections.abc import Generator

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from pimdsl.chip import Chip
from pimdsl.dialects import pim_isa as isa
from pimdsl.errors import PimError
from pimdsl.module_attrs import get_batch, get_chip
from pimdsl.sim.stats import PartitionStats, SimStats
from pimdsl.sim.timing_program import (
    ENERGY_KEYS,
    K_BARRIER,
    K_DMA,
    K_LOCAL,
    K_RECV,
    K_SEND,
    XBAR,
    Access,
    CompiledProgram,
    CoreProgram,
    Instr,
    Loop,
    compile_program,
)
from pimdsl.sim.timing_resource import Calendar, fill_both

# requests a core's execution yields to the scheduler
R_DMA, R_STREAM, R_SEND, R_RECV, R_BARRIER = range(5)
STREAM_CHUNKS = 16  # bookings per closed-form loop's traffic
DRAM_GRAN = 64  # elements of a DRAM buffer whose store completion one entry tracks
CLOSED_EXACT = 16  # iterations of a closed-form loop simulated at most before extrapolating
# (16: a batch-16 image loop is stepped whole; after 8 of 16 images the extrapolation priced a
# DRAM-bound conv of ResNet18/compass-s, optimal grouping, at 585 us against 425 us stepped)
# Iterations of a closed-form loop that wait for the shared links behind other cores' traffic
# are stepped, up to this many (SqueezeNet 1.0 on compass-l, batch 1, optimal grouping,
# partition 6: one core's window loop waits behind the other cores' weight loads in its first
# iterations; extrapolated from them the partition took 511 us, stepped 249)
CLOSED_CONTENDED = 32
Request = tuple  # (kind, ready time ns, ...): see _Core.run_block


class _Core:
    """The timeline state of one core inside one partition."""

    __slots__ = (
        "id",
        "free",
        "ready",
        "fence",
        "acquired",
        "done",
        "idx",
        "gran",
        "stored",
        "landed",
        "acquired_by",
        "landed_by",
        "link_wait",
    )
    # stored: DRAM buffer -> when this core's stores to each DRAM_GRAN elements of it land

    def __init__(self, core: int, units: int, memory_elems: int, gran: int, start: float):
        self.id = core
        self.free = [start] * units  # when each unit is free
        self.ready = np.full(memory_elems, start)  # when each local element's value is ready
        self.fence = start  # nothing starts before this (partition start, barriers)
        self.acquired = start  # no DRAM load starts before this (the last token received)
        self.landed = start  # when the stores issued so far have landed
        self.acquired_by: dict[str, float] = {}  # no load of the buffer before (a token naming it)
        self.landed_by: dict[str, float] = {}  # when the stores to the buffer issued so far land
        self.done = start  # completion of everything issued so far
        # ns the core's DMA requests waited for the shared links (DRAM, bus) behind other
        # cores' traffic (`run_closed` steps a loop exactly while its iterations wait)
        self.link_wait = 0.0
        self.idx: list[int] = []  # iteration indices of the enclosing loops
        self.gran = gran
        self.stored: dict[str, np.ndarray] = {}

    def address(self, values: tuple[int, ...]) -> int:
        if len(values) == 1:
            return values[0]
        return values[0] + sum(s * i for s, i in zip(values[1:], self.idx, strict=False))

    def deps(self, accesses: tuple[Access, ...]) -> float:
        t = self.fence
        g = self.gran
        for values, nbytes in accesses:
            a = self.address(values)
            lo, hi = a // g, -(-(a + nbytes) // g)
            if hi > lo:
                r = float(self.ready[lo:hi].max())
                if r > t:
                    t = r
        return t

    def stored_by(self, buffer: str, values: tuple[int, ...], elements: int) -> float:
        """When this core's stores to the DRAM elements an access reads have landed (its own
        stores only: other cores' arrive with tokens)."""
        ready = self.stored.get(buffer)
        if ready is None:
            return 0.0
        a = self.address(values)
        lo, hi = a // DRAM_GRAN, -(-(a + elements) // DRAM_GRAN)
        return float(ready[lo:hi].max()) if hi > lo and lo < ready.shape[0] else 0.0

    def store(self, buffer: str, lo: int, hi: int, t: float) -> None:
        """Stores to DRAM elements [lo, hi) of `buffer` land at t."""
        ready = self.stored.get(buffer)
        b0, b1 = lo // DRAM_GRAN, -(-hi // DRAM_GRAN)
        if ready is None or ready.shape[0] < b1:
            grown = np.zeros(max(b1, 2 * (0 if ready is None else ready.shape[0])))
            if ready is not None:
                grown[: ready.shape[0]] = ready
            self.stored[buffer] = ready = grown
        np.maximum(ready[b0:b1], t, out=ready[b0:b1])

    def produce(self, accesses: tuple[Access, ...], t: float) -> None:
        g = self.gran
        for values, nbytes in accesses:
            a = self.address(values)
            self.ready[a // g : -(-(a + nbytes) // g)] = t


class _Engine:
    """Runs one partition: core executions interleaved in simulated time."""

    def __init__(self, compiled: CompiledProgram):
        self.chip: Chip = compiled.chip
        self.elem = compiled.elem_bytes
        chip = self.chip
        self.units = XBAR + chip.crossbars_per_core
        self.dram = Calendar()
        self.bus = Calendar()
        self.dram_ns_per_byte = 1e9 / chip.dram_bandwidth
        # (core, unit, start ns, end ns, mnemonic) of every simulated instruction, when a
        # caller asks for a timeline (`simulate_program(events=...)`); closed-form iterations
        # are not simulated one by one, so a whole timeline needs step_all
        self.events: list[tuple[int, int, float, float, str]] | None = None
        self.bus_ns_per_byte = 1e9 / chip.bus_bandwidth

    # --- one core's execution (a generator of requests) -------------------------------------
    def run_block(self, core: _Core, body: list[Instr | Loop]) -> Generator[Request, float, None]:
        for node in body:
            if isinstance(node, Loop):
                if node.interacts:
                    idx = core.idx
                    idx.append(0)
                    for i in range(node.count):
                        idx[-1] = i
                        yield from self.run_block(core, node.body)
                    idx.pop()
                else:
                    yield from self.run_closed(core, node)
            elif node.kind == K_LOCAL:
                self.local(core, node)
            elif node.kind == K_DMA:
                t = max(core.free[node.unit], core.deps(node.reads))
                if not node.stores:
                    t = max(t, core.acquired, core.acquired_by.get(node.buffer, 0.0))
                if node.buffer and not node.stores:
                    t = max(t, core.stored_by(node.buffer, *node.dram))
                start = yield (R_DMA, t, node.dram_bytes, node.bus_bytes)
                if start > t:
                    core.link_wait += start - t
                end = start + node.occupancy
                core.free[node.unit] = end
                if self.events is not None:
                    self.events.append((core.id, node.unit, start, end, node.op.name))
                complete = start + node.latency
                core.produce(node.writes, complete)
                if node.stores:
                    a = core.address(node.dram[0])
                    core.store(node.buffer, a, a + node.dram[1], complete)
                    if complete > core.landed:
                        core.landed = complete
                    if complete > core.landed_by.get(node.buffer, 0.0):
                        core.landed_by[node.buffer] = complete
                if complete > core.done:
                    core.done = complete
            elif node.kind in (K_SEND, K_RECV):
                token = node.tag < 0
                # a token is a flag, not a transfer the link unit queues: a late one does not
                # hold up the core's other sends and receives (docs/simulator.md)
                t = (
                    core.deps(node.reads)
                    if token
                    else max(core.free[node.unit], core.deps(node.reads))
                )
                if token and node.kind == K_SEND:
                    # release: what the core stored before (to the token's buffer, when it
                    # names one) has landed (a token announces data in DRAM; work still in
                    # flight on its other crossbars does not hold it)
                    t = max(t, core.landed_by.get(node.buffer, 0.0) if node.buffer else core.landed)
                kind = R_SEND if node.kind == K_SEND else R_RECV
                end = yield (kind, t, node.peer, node.tag, node)
                if not token:
                    core.free[node.unit] = end
                if self.events is not None:
                    self.events.append(
                        (core.id, node.unit, end - node.occupancy, end, node.op.name)
                    )
                core.produce(node.writes, end)
                if token and node.kind == K_RECV:
                    # acquire: no DRAM load (of the token's buffer, when it names one) after
                    # the token starts before it (what a token announces is data in DRAM; the
                    # core's other units go on)
                    if node.buffer:
                        if end > core.acquired_by.get(node.buffer, 0.0):
                            core.acquired_by[node.buffer] = end
                    elif end > core.acquired:
                        core.acquired = end
                if end > core.done:
                    core.done = end
            elif node.kind == K_BARRIER:
                arrive = max(core.done, *core.free)
                release = yield (R_BARRIER, arrive, node.group, node)
                core.fence = release
                if release > core.done:
                    core.done = release

    def local(self, core: _Core, node: Instr) -> None:
        free = core.free
        t = core.deps(node.reads)
        if free[node.unit] > t:
            t = free[node.unit]
        if node.crossbar >= 0 and free[node.crossbar] > t:
            t = free[node.crossbar]
        end = t + node.occupancy
        free[node.unit] = end
        if node.crossbar >= 0:
            free[node.crossbar] = end
        if self.events is not None:
            self.events.append((core.id, node.unit, t, end, node.op.name))
        complete = t + node.latency
        if node.writes:
            core.produce(node.writes, complete)
        if complete > core.done:
            core.done = complete

    def run_closed(self, core: _Core, loop: Loop) -> Generator[Request, float, None]:
        """A loop without send/recv/barrier, in closed form.

        Iterations are simulated exactly until two consecutive ones advance the loop's
        completion and every unit by the same amounts (a periodic steady state), at most
        CLOSED_EXACT of them; the rest are extrapolated: each unit advances by its own
        increment per iteration (at least its busy time), so a unit that ran ahead stays ahead,
        and the loop completes at the later of the completion's own extrapolation and the
        last extrapolated use of any unit plus that unit's result latency."""
        idx = core.idx
        idx.append(0)
        yield from self.run_block(core, loop.body)
        units = loop.units
        prev_done, prev_free = core.done, [core.free[u] for u in units]
        prev_wait = core.link_wait
        prev_inc: list[float] | None = None
        least: list[float] | None = None
        i = 1
        while i < loop.count:
            idx[-1] = i
            yield from self.run_block(core, loop.body)
            i += 1
            incs = [core.done - prev_done] + [
                core.free[u] - f for u, f in zip(units, prev_free, strict=True)
            ]
            prev_done, prev_free = core.done, [core.free[u] for u in units]
            # an iteration whose loads waited for the shared links behind other cores'
            # traffic does not give the loop's pace (that traffic may end soon: other cores'
            # weight loads, say): such iterations are stepped, up to CLOSED_CONTENDED
            waited = core.link_wait > prev_wait
            prev_wait = core.link_wait
            # the least increment seen: an iteration that waited for the shared links behind
            # other cores' traffic is a transient, not the loop's own pace (the links' delay
            # of the remaining iterations is booked below)
            least = incs if least is None else [min(a, b) for a, b in zip(least, incs, strict=True)]
            if waited and i < CLOSED_CONTENDED:
                prev_inc = None
                continue
            if incs == prev_inc or i >= CLOSED_EXACT:
                prev_inc = incs
                break
            prev_inc = incs
        n = loop.count - i
        if n <= 0 or least is None:
            idx.pop()
            return
        prev_inc = least
        busy = loop.busy
        inc = {u: max(d, float(busy[u])) for u, d in zip(units, prev_inc[1:], strict=True)}
        for u, d in inc.items():
            core.free[u] += n * d
        for u, (dram, bus) in loop.traffic.items():
            if not (dram or bus):
                continue
            # the remaining iterations' traffic of each DMA queue, booked on the shared links in
            # chunks, paced no faster than the loop's busiest unit uses the data (loads running
            # ahead must not claim the links before cores whose loops start later: stepping
            # interleaves them fairly); what the links delay that paced stream delays the queue
            own = inc.get(u, 0.0)
            pace = max(own, float(busy.max()))
            t = core.free[u] - n * own
            finish = yield (R_STREAM, t, n, pace, dram, bus)
            late = finish - (
                t
                + n * pace
                + max(dram / self.chip.dram_bandwidth, bus / self.chip.bus_bandwidth) * 1e9
            )
            if late > 0:
                core.free[u] += late
        link = (
            max(
                loop.dram_bytes / self.chip.dram_bandwidth, loop.bus_bytes / self.chip.bus_bandwidth
            )
            * 1e9
        )
        end = core.done + n * max(prev_inc[0], link)
        for u in units:
            end = max(end, core.free[u] + loop.tail[u])
        g = core.gran
        idx.pop()
        for (values, nbytes), path in loop.writes:
            # the range a write covers over the remaining iterations is ready at the end
            lo, hi = _span(core, values, nbytes, path)
            sl = slice(lo // g, -(-hi // g))
            np.maximum(core.ready[sl], end, out=core.ready[sl])
        step = (end - core.done) / n
        for buffer, (values, elements), path in loop.dram_stores:
            # the remaining iterations' stores: iteration j's land about (j - i + 1) steps
            # after the exact ones, so a later load of this core waits for the iteration
            # that stores what it reads (a layer on another crossbar of the core reads the
            # rows of this one as they land)
            _ramp_store(core, buffer, values, elements, path, i, core.done, step)
        if loop.dram_stores and core.landed < end:
            core.landed = end
        for buffer in loop.stored:
            if core.landed_by.get(buffer, 0.0) < end:
                core.landed_by[buffer] = end
        core.done = end

    def stream(self, t: float, n: int, step: float, dram: float, bus: float) -> float:
        """Book n iterations of `dram` and `bus` bytes each, paced one per `step` ns from t,
        in at most STREAM_CHUNKS bookings; return when the last transfer ends."""
        chunks = min(n, STREAM_CHUNKS)
        end = t
        done = 0
        for j in range(chunks):
            iters = (n * (j + 1)) // chunks - done
            ready = max(t + done * step, end)
            s = fill_both(
                self.dram,
                iters * dram * self.dram_ns_per_byte,
                self.bus,
                iters * bus * self.bus_ns_per_byte,
                ready,
            )
            end = s + iters * max(dram * self.dram_ns_per_byte, bus * self.bus_ns_per_byte)
            done += iters
        return end

    # --- the scheduler ------------------------------------------------------------------------
    def run_partition(self, cores: list[CoreProgram], start: float) -> float:
        chip = self.chip
        gran = self.elem
        memory = -(-chip.local_memory_bytes // gran)
        self.dram.reset(start)
        self.bus.reset(start)
        states = {c.core: _Core(c.core, self.units, memory, gran, start) for c in cores}
        gens = {c.core: self.run_block(states[c.core], c.body) for c in cores}
        heap: list[tuple[float, int, int, Request]] = []
        seq = itertools.count()
        posted: dict[tuple[int, int, int, int], deque[tuple[float, Instr]]] = {}
        barriers: dict[tuple[int, ...], dict[int, float]] = {}
        tokens: dict[tuple[int, int, int], deque[float]] = {}  # (sender, receiver, tag) -> arrivals

        def advance(core: int, value: float | None) -> None:
            try:
                req = gens[core].send(value) if value is not None else next(gens[core])
            except StopIteration:
                return
            heapq.heappush(heap, (req[1], next(seq), core, req))

        for c in cores:
            advance(c.core, None)
        while heap:
            t, _, core, req = heapq.heappop(heap)
            kind = req[0]
            if kind == R_DMA:
                dram, bus = req[2], req[3]
                s = fill_both(
                    self.dram, dram * self.dram_ns_per_byte, self.bus, bus * self.bus_ns_per_byte, t
                )
                advance(core, s)
            elif kind == R_STREAM:
                advance(core, self.stream(t, req[2], req[3], req[4], req[5]))
            elif (kind == R_SEND or kind == R_RECV) and req[3] < 0:
                # a token (negative tag): the sender does not wait for the receiver; the
                # receiver waits for the token
                peer, tag, ins = req[2], req[3], req[4]
                if kind == R_SEND:
                    busy = ins.bus_bytes * self.bus_ns_per_byte
                    s = self.bus.earliest(t, busy)
                    self.bus.book(s, busy)
                    end = s + ins.occupancy
                    advance(core, end)
                    waiting = posted.get((peer, core, tag, 0))
                    if waiting:
                        t_recv, _ = waiting.popleft()
                        advance(peer, max(t_recv, end))
                    else:
                        tokens.setdefault((core, peer, tag), deque()).append(end)
                else:
                    arrived = tokens.get((peer, core, tag))
                    if arrived:
                        advance(core, max(t, arrived.popleft()))
                    else:
                        posted.setdefault((core, peer, tag, 0), deque()).append((t, ins))
            elif kind == R_SEND or kind == R_RECV:
                peer, tag, ins = req[2], req[3], req[4]
                send = kind == R_SEND
                mine = (core, peer, tag, 1 if send else 0)
                other = (peer, core, tag, 0 if send else 1)
                waiting = posted.get(other)
                if waiting:
                    t_other, other_ins = waiting.popleft()
                    sender = ins if send else other_ins
                    busy = sender.bus_bytes * self.bus_ns_per_byte
                    s = self.bus.earliest(max(t, t_other), busy)
                    self.bus.book(s, busy)
                    end = s + sender.occupancy
                    advance(core, end)
                    advance(peer, end)
                else:
                    posted.setdefault(mine, deque()).append((t, ins))
            else:  # barrier
                group, ins = req[2], req[3]
                arrived = barriers.setdefault(group, {})
                arrived[core] = t
                if len(arrived) == len(group):
                    del barriers[group]
                    release = max(arrived.values())
                    for c in arrived:
                        advance(c, release)
        stuck = sorted(
            {k[0] for k, q in posted.items() if q} | {c for g in barriers.values() for c in g}
        )
        if stuck:
            waits = sorted(
                f"core {c} at a {'send to' if send else 'recv from'} core {p} (tag {tag})"
                for (c, p, tag, send), q in posted.items()
                if q
            )
            raise PimError(
                f"the pim_isa program deadlocks: core(s) {', '.join(map(str, stuck))} wait forever "
                "at a send/recv or barrier whose partner never arrives (each core runs its "
                "instructions in order, and send/recv is a rendezvous)"
                + (f"; first waits: {'; '.join(waits[:4])}." if waits else "."),
                hint="Order the sends and recvs of each pair of cores the same way on both sides.",
            )
        return max((s.done for s in states.values()), default=start)


def _ramp_store(
    core: _Core,
    buffer: str,
    values: tuple[int, ...],
    elements: int,
    path: tuple[int, ...],
    first: int,
    t0: float,
    step: float,
) -> None:
    """Iterations first.. of the loop `path[0]` store what `values` addresses (DRAM elements,
    inner loops `path[1:]` spanned whole); iteration j's stores land at t0 + (j - first + 1)
    * step."""
    if len(values) == 1:
        core.store(buffer, values[0], values[0] + elements, t0 + (path[0] - first) * step)
        return
    outer = len(values) - 1 - len(path)
    base = values[0] + sum(
        s * i for s, i in zip(values[1 : 1 + outer], core.idx[:outer], strict=True)
    )
    stride = values[1 + outer]
    inner = values[2 + outer :]
    for j in range(first, path[0]):
        lo, hi = (
            isa.address_span((base + j * stride, *inner), path[1:])
            if inner
            else (base + j * stride,) * 2
        )
        core.store(buffer, lo, hi + elements, t0 + (j - first + 1) * step)


def _span(
    core: _Core, values: tuple[int, ...], nbytes: int, path: tuple[int, ...]
) -> tuple[int, int]:
    """Byte range an access covers over all iterations of the loops in `path` (trip counts,
    outermost first, ending at the access), the loops outside them fixed at their indices."""
    if len(values) == 1:
        return values[0], values[0] + nbytes
    outer = len(values) - 1 - len(path)
    base = values[0] + sum(
        s * i for s, i in zip(values[1 : 1 + outer], core.idx[:outer], strict=True)
    )
    lo, hi = isa.address_span((base, *values[1 + outer :]), path)
    return lo, hi + nbytes


def simulate_program(
    program: isa.ProgramOp,
    chip: Chip,
    batch: int = 1,
    *,
    step_all: bool = False,
    events: dict[int, list[tuple[int, int, float, float, str]]] | None = None,
) -> SimStats:
    """Timing and energy of `program` on `chip`; `batch` inferences per run. `step_all`
    steps every loop iteration by iteration (the exact reference of the closed form).
    `events`: for each partition index it holds, filled with that partition's timeline,
    (core, unit, start ns, end ns, instruction name) per simulated instruction (unit indices as
    in `pimdsl.sim.timing_program`; with step_all every execution)."""
    wall = time.perf_counter()
    compiled = compile_program(program, chip, step_all)
    engine = _Engine(compiled)
    t = 0.0
    static_w = chip.cores * chip.static_power_mw_per_core * 1e-3
    parts: list[PartitionStats] = []
    for p in compiled.partitions:
        engine.events = events.get(p.index) if events is not None else None
        end = engine.run_partition(p.cores, t)
        latency_s = (end - t) * 1e-9
        _check_links(p.index, end - t, int(p.counts[1]), int(p.counts[3]), chip)
        energy = dict(zip(ENERGY_KEYS, (float(e) for e in p.energy), strict=True))
        energy["static"] = static_w * latency_s
        parts.append(
            PartitionStats(
                index=p.index,
                start_s=t * 1e-9,
                latency_s=latency_s,
                energy=energy,
                mvm_count=int(p.counts[0]),
                dram_bytes=int(p.counts[1]),
                weight_bytes_loaded=int(p.counts[2]),
                bus_bytes=int(p.counts[3]),
            )
        )
        t = end
    from pimdsl.area import chip_area

    return SimStats(
        chip=chip.name,
        batch=batch,
        partitions=parts,
        sim_seconds=time.perf_counter() - wall,
        area=chip_area(chip).to_json(),
    )


def _check_links(index: int, ns: float, dram_bytes: int, bus_bytes: int, chip: Chip) -> None:
    """A partition cannot move more bytes than its DRAM channel and bus carry in its time: a
    guard on the calendars (until 8 Dec 2026 they forgot bookings, and a saturated channel
    was served twice over)."""
    need = max(dram_bytes / chip.dram_bandwidth, bus_bytes / chip.bus_bandwidth) * 1e9
    if ns < need * (1 - 1e-6):
        raise PimError(
            f"internal error in the timing model: partition {index} took {ns:.0f} ns but moves "
            f"{dram_bytes} bytes over DRAM and {bus_bytes} over the bus, which need {need:.0f} "
            "ns at the chip's bandwidths.",
            hint="Please report it with the pim_isa file (pimdsl/sim/timing_resource.py).",
        )


def simulate_module(
    module: ModuleOp,
    *,
    step_all: bool = False,
    events: dict[int, list[tuple[int, int, float, float, str]]] | None = None,
) -> SimStats:
    """Timing and energy of the module's `pim_isa.program` on its chip at its batch."""
    program = isa.find_program(module)
    if program is None:
        raise PimError(
            "timing needs pim_isa-level IR, but the module holds no pim_isa.program.",
            hint="Lower it first: pim-opt model.mlir --lower-to-isa -o model.isa.mlir, then run "
            "pim-run model.isa.mlir --stats stats.json.",
        )
    chip = get_chip(module)
    assert chip is not None
    return simulate_program(program, chip, get_batch(module), step_all=step_all, events=events)
