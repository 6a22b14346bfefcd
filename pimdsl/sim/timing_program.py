"""A pim_isa program compiled for the timing model: per core, a tree of plain records.

The timing and energy of an instruction depend only on its properties and the chip, never on
the data, so the IR is read once into `Instr` / `Loop` records holding what the timing engine
(`pimdsl.sim.timing`) needs: the core *unit* the instruction occupies and for how long, its
result latency, the local-memory ranges it reads and writes (for data dependencies), its
traffic on the shared DRAM and bus, and its energy. docs/simulator.md gives every formula.

Units of a core (indices into a core's unit array):

- `DMA_IN`: loads and weight loads (DRAM -> local memory over the bus);
- `VECTOR`: the vector unit;
- `LINK`: send/recv (core <-> core over the bus);
- `WRITE`: the crossbar write port (a core programs one crossbar at a time);
- `DMA_OUT`: stores (local memory -> DRAM), a queue of its own so that loads of the next
  window do not wait behind the store of the previous one;
- `GATHER`: the local copy engine that forms a convolution's windows from its line buffer
  (`gather`), a queue of its own so that the next tile's band load is not held up behind this
  tile's gathers (which wait for this band), as the window loads it replaces were not;
- `XBAR + k`: crossbar k; it accepts a new MVM every `mvm_issue_ns` (pipelined).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
from xdsl.ir import Block, Operation

from pimdsl.chip import Chip
from pimdsl.dialects import pim_isa as isa
from pimdsl.errors import PimError
from pimdsl.sim.stats import ENERGY_BREAKDOWN_KEYS

DMA_IN, VECTOR, LINK, WRITE, DMA_OUT, GATHER, XBAR = 0, 1, 2, 3, 4, 5, 6

# instruction kinds
K_LOCAL, K_DMA, K_SEND, K_RECV, K_BARRIER = 0, 1, 2, 3, 4

# energy breakdown keys, in the order of `Instr.energy`: the stats' keys but static energy,
# which depends on time, not on instructions
ENERGY_KEYS: tuple[str, ...] = tuple(k for k in ENERGY_BREAKDOWN_KEYS if k != "static")
E_MVM, E_ADC, E_SHIFT_ADD, E_WRITE, E_DRAM, E_BUS, E_LOCAL, E_VECTOR = range(8)
# counters, in the order of `Instr.counts`
COUNT_KEYS: tuple[str, ...] = ("mvm_count", "dram_bytes", "weight_bytes_loaded", "bus_bytes")
PJ = 1e-12

# An access: (address values (base, strides...), bytes). Addresses are local bytes.
Access = tuple[tuple[int, ...], int]


@dataclass(slots=True)
class Instr:
    op: Operation
    kind: int
    unit: int
    occupancy: float  # ns the unit is busy
    latency: float  # ns from start to result
    reads: tuple[Access, ...]
    writes: tuple[Access, ...]
    dram_bytes: float = 0  # bytes moved over DRAM (act_bits / 8 per element)
    bus_bytes: float = 0  # bytes moved over the shared bus
    rate: float = 0.0  # bytes/ns of a transfer (the slowest link it crosses)
    crossbar: int = -1  # wr_xbar: the crossbar it programs (busy too)
    peer: int = -1
    tag: int = 0
    group: tuple[int, ...] = ()
    buffer: str = ""  # load/store: the DRAM buffer (for spill dependencies)
    stores: bool = False
    dram: Access = ((0,), 0)  # load/store: (element offset values, elements spanned) in `buffer`
    energy: np.ndarray = field(default_factory=lambda: np.zeros(len(ENERGY_KEYS)))
    counts: np.ndarray = field(default_factory=lambda: np.zeros(len(COUNT_KEYS)))


@dataclass(slots=True)
class Loop:
    op: Operation
    count: int
    body: list[Instr | Loop]
    interacts: bool  # holds send/recv/barrier: stepped iteration by iteration
    busy: np.ndarray  # ns per iteration on each unit (nested loops included)
    dram_bytes: float  # per iteration
    bus_bytes: float  # per iteration
    traffic: dict[int, tuple[float, float]]  # DMA unit -> (DRAM, bus) bytes per iteration
    writes: list[tuple[Access, tuple[int, ...]]]  # every write inside, with the trip counts
    # of the loops from this one down to it
    units: tuple[int, ...]  # units the body uses
    tail: np.ndarray  # per unit: the longest result latency beyond occupancy of its work
    stored: frozenset[str] = frozenset()  # DRAM buffers a store inside writes
    # every store inside: (buffer, its DRAM access, the trip counts from this loop down to it)
    dram_stores: list[tuple[str, Access, tuple[int, ...]]] = field(default_factory=list)

    def bottleneck(self, chip: Chip) -> float:
        """ns per iteration in steady state: the busiest unit or shared link."""
        return max(
            float(self.busy.max()) if self.busy.size else 0.0,
            self.dram_bytes / chip.dram_bandwidth * 1e9,
            self.bus_bytes / chip.bus_bandwidth * 1e9,
        )


@dataclass(slots=True)
class CoreProgram:
    core: int
    body: list[Instr | Loop]


@dataclass(slots=True)
class PartitionProgram:
    index: int
    cores: list[CoreProgram]
    energy: np.ndarray  # J of the partition's instructions (static power not included)
    counts: np.ndarray


@dataclass(slots=True)
class CompiledProgram:
    chip: Chip
    elem_bytes: int
    partitions: list[PartitionProgram]


def mvm_steps(chip: Chip, bits: int) -> int:
    """Bit-serial input steps of an MVM fed `bits` bits through `dac_bits` DACs."""
    return math.ceil(bits / chip.dac_bits)


def mvm_latency_ns(chip: Chip, steps: int) -> float:
    """PIMCOMP's MVM latency: read + steps x per-bit + ADC + shift-add + write (the chip's
    formula, which the cost model uses too: ADC time follows adc_bits)."""
    return chip.mvm_latency_for(steps)


def mvm_issue_ns(chip: Chip, steps: int) -> float:
    """A crossbar starts a new MVM this often: every `mvm_interval_ns`, but never before the
    previous one has fed all its bit-serial steps (the same rule as the cost model)."""
    return max(chip.mvm_interval_ns, steps * chip.mvm_per_bit_ns)


class _Compiler:
    def __init__(self, chip: Chip, elem_bytes: int, step_all: bool = False):
        self.chip = chip
        self.step_all = step_all
        self.elem = elem_bytes
        # Activations are act_bits wide on this chip: transfers and vector work move that many
        # bits per element, whatever container (elem_bytes) local memory addresses use.
        self.data = chip.act_bits / 8
        self.units = XBAR + chip.crossbars_per_core
        self.seen_blocks: set[tuple[object, ...]] = set()
        # bytes per ns
        self.dram_bw = chip.dram_bandwidth * 1e-9
        self.bus_bw = chip.bus_bandwidth * 1e-9
        self.local_bw = chip.local_memory_bandwidth * 1e-9

    # --- instructions ----------------------------------------------------------------------
    def access(self, op: Operation, prop: str, nbytes: int) -> Access:
        return isa.ints(op.properties[prop]), nbytes  # type: ignore[arg-type]

    def instr(self, op: isa.InstrOp) -> Instr:
        chip, E = self.chip, self.elem
        energy = np.zeros(len(ENERGY_KEYS))
        counts = np.zeros(len(COUNT_KEYS))
        v = lambda name: op.properties[name].value.data  # type: ignore[attr-defined]  # noqa: E731
        if isinstance(op, isa.MvmOp):
            rows, cols, steps = v("rows"), v("cols"), mvm_steps(chip, v("bits"))
            conversions = steps * cols * chip.cols_per_weight
            energy[E_MVM] = steps * chip.crossbar_read_pj
            energy[E_ADC] = conversions * chip.adc_conversion_pj  # follows adc_bits
            energy[E_SHIFT_ADD] = conversions * chip.shift_add_pj
            energy[E_LOCAL] = (rows + cols) * self.data * chip.local_memory_pj_per_byte
            counts[0] = 1
            return Instr(
                op,
                K_LOCAL,
                XBAR + v("xbar"),
                mvm_issue_ns(chip, steps),
                mvm_latency_ns(chip, steps),
                (self.access(op, "src", rows * E),),
                (self.access(op, "dst", cols * E),),
                energy=energy * PJ,
                counts=counts,
            )
        if isinstance(op, isa.WrXbarOp):
            rows, cols = v("rows"), v("cols")
            bits = rows * cols * chip.cols_per_weight * chip.cell_bits
            staged = math.ceil(rows * cols * chip.weight_bits / 8)
            energy[E_WRITE] = bits * chip.crossbar_write_pj_per_bit
            energy[E_LOCAL] = staged * chip.local_memory_pj_per_byte
            t = rows * chip.crossbar_write_ns_per_row
            return Instr(
                op,
                K_LOCAL,
                WRITE,
                t,
                t,
                (self.access(op, "src", staged),),
                (),
                crossbar=XBAR + v("xbar"),
                energy=energy * PJ,
                counts=counts,
            )
        if isinstance(op, isa.LdWeightOp):
            r0, r1 = isa.ints(op.rows)
            c0, c1 = isa.ints(op.cols)
            # DRAM holds the weights only; a block-diagonal (grouped) block is staged with zeros
            nbytes = math.ceil((r1 - r0) * (c1 - c0) * chip.weight_bits / 8)
            sr, sc = op.block_shape
            staged = math.ceil(sr * sc * chip.weight_bits / 8)
            key = (op.weight.data, op.layout.data, r0, r1, c0, c1, op.group_count)
            # A block already read in this partition is multicast on the bus, not re-read.
            dram = 0 if key in self.seen_blocks else nbytes
            self.seen_blocks.add(key)
            counts[1] = counts[2] = dram
            return self.transfer(
                op, nbytes, dram, (), (self.access(op, "dst", staged),), energy, counts
            )
        if isinstance(op, isa.LoadOp | isa.StoreOp | isa.LoadBlockOp | isa.StoreBlockOp):
            n = op.elements if isinstance(op, isa.LoadBlockOp | isa.StoreBlockOp) else v("len")
            nbytes = n * self.data
            counts[1] = nbytes
            load = isinstance(op, isa.LoadOp | isa.LoadBlockOp)
            local = (self.access(op, "dst" if load else "src", n * E),)
            reads, writes = ((), local) if load else (local, ())
            ins = self.transfer(op, nbytes, nbytes, reads, writes, energy, counts)
            ins.buffer = op.buffer.data
            ins.stores = not load
            ins.dram = (isa.ints(op.offset), op.dram_extent())  # type: ignore[arg-type]
            return ins
        if isinstance(op, isa.GatherOp):
            # a local-to-local copy by the core's gather engine (it forms a convolution window
            # from the line buffer): read and write each element once at the local memory's
            # bandwidth. Not on the vector unit (a window's epilogue there would hold up the
            # next window's gather) nor the load DMA (the next band's load would wait for
            # this band to land)
            n = op.elements
            nbytes = n * self.data
            energy[E_LOCAL] = 2 * nbytes * chip.local_memory_pj_per_byte
            t = 2 * nbytes / self.local_bw
            return Instr(
                op,
                K_LOCAL,
                GATHER,
                t,
                t,
                (self.access(op, "src", op.src_extent() * E),),
                (self.access(op, "dst", n * E),),
                energy=energy * PJ,
                counts=counts,
            )
        if isinstance(op, isa.SendOp | isa.RecvOp):
            nbytes = v("len") * self.data
            energy[E_BUS] = nbytes * chip.bus_pj_per_byte
            # each side touches its own local memory once
            energy[E_LOCAL] = nbytes * chip.local_memory_pj_per_byte
            counts[3] = nbytes if isinstance(op, isa.SendOp) else 0
            send = isinstance(op, isa.SendOp)
            t = nbytes / min(self.bus_bw, self.local_bw)
            local = (self.access(op, "src" if send else "dst", v("len") * E),)
            return Instr(
                op,
                K_SEND if send else K_RECV,
                LINK,
                t,
                t,
                local if send else (),
                () if send else local,
                bus_bytes=nbytes if send else 0,
                rate=min(self.bus_bw, self.local_bw),
                peer=v("peer"),
                tag=v("tag"),
                energy=energy * PJ,
                counts=counts,
                buffer=op.token_buffer or "",
            )
        if isinstance(op, isa.BarrierOp):
            return Instr(
                op,
                K_BARRIER,
                LINK,
                0.0,
                0.0,
                (),
                (),
                group=isa.ints(op.cores),
                energy=energy,
                counts=counts,
            )
        if "len" not in op.properties:
            raise PimError(
                f"the timing model does not know the instruction '{op.name}'.",
                hint="Add it to pimdsl/sim/timing_program.py.",
            )
        return self.vector(op, energy, counts)

    def transfer(
        self,
        op: isa.InstrOp,
        nbytes: float,
        dram: float,
        reads: tuple[Access, ...],
        writes: tuple[Access, ...],
        energy: np.ndarray,
        counts: np.ndarray,
    ) -> Instr:
        chip = self.chip
        energy[E_DRAM] = dram * chip.dram_pj_per_byte
        energy[E_BUS] = nbytes * chip.bus_pj_per_byte
        energy[E_LOCAL] = nbytes * chip.local_memory_pj_per_byte
        counts[3] = nbytes
        rate = min(self.bus_bw, self.local_bw, self.dram_bw if dram else math.inf)
        t = nbytes / rate
        return Instr(
            op,
            K_DMA,
            DMA_OUT if isinstance(op, isa.StoreOp | isa.StoreBlockOp) else DMA_IN,
            t,
            t + (chip.dram_latency_ns if dram else 0.0),
            reads,
            writes,
            dram_bytes=dram,
            bus_bytes=nbytes,
            rate=rate,
            energy=energy * PJ,
            counts=counts,
        )

    def vector(self, op: isa.InstrOp, energy: np.ndarray, counts: np.ndarray) -> Instr:
        chip, E, D = self.chip, self.elem, self.data
        n = op.properties["len"].value.data  # type: ignore[attr-defined]
        # elements processed, elements touched in local memory, and the accesses (in bytes)
        if isinstance(op, isa.VectorBinaryOp):
            rhs = 1 if op.broadcast is not None else n
            reads = (self.access(op, "lhs", n * E), self.access(op, "rhs", rhs * E))
            work, touched = n, 2 * n + rhs
            writes = (self.access(op, "dst", n * E),)
        elif isinstance(op, isa.VPoolOp):
            count, step = op.count.value.data, op.step.value.data
            reads = (self.access(op, "src", ((count - 1) * step + n) * E),)
            work, touched = count * n, count * n + n
            writes = (self.access(op, "dst", n * E),)
        elif isinstance(op, isa.VReduceOp):
            reads = (self.access(op, "src", n * E),)
            work, touched = n, n + 1
            writes = (self.access(op, "dst", E),)
        else:  # unary
            reads = (self.access(op, "src", n * E),)
            work, touched = n, 2 * n
            writes = (self.access(op, "dst", n * E),)
        ops = math.ceil(work * D / chip.vector_bytes)
        t = max(ops * chip.vector_latency_ns, touched * D / self.local_bw)
        energy[E_VECTOR] = ops * chip.vector_pj_per_op
        energy[E_LOCAL] = touched * D * chip.local_memory_pj_per_byte
        return Instr(op, K_LOCAL, VECTOR, t, t, reads, writes, energy=energy * PJ, counts=counts)

    # --- structure ---------------------------------------------------------------------------
    def block(self, block: Block, totals: list[np.ndarray], depth: int) -> list[Instr | Loop]:
        out: list[Instr | Loop] = []
        for op in block.ops:
            if isinstance(op, isa.LoopOp):
                out.append(self.loop(op, totals, depth))
            elif isinstance(op, isa.InstrOp):
                ins = self.instr(op)
                totals[0] += ins.energy
                totals[1] += ins.counts
                out.append(ins)
        return out

    def loop(self, op: isa.LoopOp, totals: list[np.ndarray], depth: int) -> Loop:
        inner = [np.zeros(len(ENERGY_KEYS)), np.zeros(len(COUNT_KEYS))]
        body = self.block(op.body.block, inner, depth + 1)
        count = op.trip_count
        totals[0] += inner[0] * count
        totals[1] += inner[1] * count
        busy = np.zeros(self.units)
        tail = np.zeros(self.units)
        dram = bus = 0.0
        interacts = self.step_all
        traffic: dict[int, list[float]] = {}
        writes: list[tuple[Access, tuple[int, ...]]] = []
        dram_stores: list[tuple[str, Access, tuple[int, ...]]] = []
        for node in body:
            if isinstance(node, Loop):
                busy += node.busy * node.count
                np.maximum(tail, node.tail, out=tail)
                dram += node.dram_bytes * node.count
                bus += node.bus_bytes * node.count
                for u, (d, b) in node.traffic.items():
                    acc = traffic.setdefault(u, [0.0, 0.0])
                    acc[0] += d * node.count
                    acc[1] += b * node.count
                interacts |= node.interacts
                writes += [(w, (count, *path)) for w, path in node.writes]
                dram_stores += [(b, a, (count, *path)) for b, a, path in node.dram_stores]
            else:
                busy[node.unit] += node.occupancy
                tail[node.unit] = max(tail[node.unit], node.latency - node.occupancy)
                if node.crossbar >= 0:
                    busy[node.crossbar] += node.occupancy
                dram += node.dram_bytes
                bus += node.bus_bytes
                if node.kind == K_DMA:
                    acc = traffic.setdefault(node.unit, [0.0, 0.0])
                    acc[0] += node.dram_bytes
                    acc[1] += node.bus_bytes
                interacts |= node.kind in (K_SEND, K_RECV, K_BARRIER)
                writes += [(w, (count,)) for w in node.writes]
                if node.stores:
                    dram_stores.append((node.buffer, node.dram, (count,)))
        units = tuple(int(u) for u in np.nonzero(busy)[0])
        flows = {u: (d, b) for u, (d, b) in traffic.items()}
        stored = frozenset(n.buffer for n in walk_instrs(body) if n.stores)
        return Loop(
            op,
            count,
            body,
            interacts,
            busy,
            dram,
            bus,
            flows,
            writes,
            units,
            tail,
            stored,
            dram_stores,
        )


def walk_instrs(body: list[Instr | Loop]) -> Iterator[Instr]:
    for node in body:
        if isinstance(node, Loop):
            yield from walk_instrs(node.body)
        else:
            yield node


def compile_program(program: isa.ProgramOp, chip: Chip, step_all: bool = False) -> CompiledProgram:
    """Read `program` into timing records for `chip`; `step_all` marks every loop to be
    stepped iteration by iteration (exact, slower) instead of in closed form."""
    compiler = _Compiler(chip, program.element_bytes, step_all)
    parts: list[PartitionProgram] = []
    for p in program.partitions():
        compiler.seen_blocks = set()
        totals = [np.zeros(len(ENERGY_KEYS)), np.zeros(len(COUNT_KEYS))]
        cores = [CoreProgram(c.number, compiler.block(c.body.block, totals, 0)) for c in p.cores()]
        parts.append(PartitionProgram(p.number, cores, totals[0], totals[1]))
    return CompiledProgram(chip, program.element_bytes, parts)
