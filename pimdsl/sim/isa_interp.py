"""The numeric interpreter of `pim_isa` programs (level 4), vectorised across loop iterations.

    from pimdsl.sim.isa_interp import run_program
    outputs, trace = run_program(module, {"input": x}, weights=store, mode="ideal")

A modelled chip executes the module's `pim_isa.program`: DRAM holds the declared buffers
(filled with their `fill`) and the weight file's tensors; each core has a local memory of
`local_memory_bytes` (one float32 per element of `elem_bytes` bytes: values are kept at float32
precision, `quantized` mode models the crossbar's precision) and its crossbars. Partitions run
one after another; within one, cores are coroutines that run until they block on a `recv`
without data or a `barrier` not yet reached by every member. A send never blocks (the
functional result does not depend on when the rendezvous happens).

Speed: a counted loop whose body holds no barrier and only loop-invariant local addresses is
run *vectorised*: each instruction executes once for all iterations of the nest (a loop of N
windows doing load-window / mvm / store is one gather, one matmul and one scatter), with local
memory privatised per iteration. A read sees an earlier write of the nest in the same
iteration of the loops both share and the last iteration of the write's own inner loops (loops
are told apart by identity: sibling loops with equal trip counts are different loops). The
static check (`_Nest`) accepts a nest when that is what stepping gives for every local read
(no loop-carried value: docs/interpreter.md "The pim_isa level"), no DRAM buffer is both read
and written in it, and each send/recv channel has one instruction; anything else is stepped
iteration by iteration, with the same result.

`mode="quantized"`: each `mvm` goes through `pimdsl.sim.xbar_numerics.crossbar_matmul` with the
chip's bit widths; its inputs are quantized per execution batch (all iterations of a
vectorised nest at once, or one iteration when stepped), so quantized results depend on
vectorisation and differ from the crossbar level's per-layer input scale (documented, not
fixed); ideal mode agrees across levels. On a chip with device non-idealities each
`wr_xbar` is that crossbar's next write and its `mvm`s go through `xbar_devices` (new
variation per write, read and ADC noise per mvm; docs/numerics.md "Non-idealities"); the
trace's `xbar` counts (ADC saturations, stuck cells) go to the run's `stats` too.

The trace (`IsaTrace`, docs/lowering.md "pim_isa execution events") counts, per partition and
core, the executions of every instruction kind and the bytes each moved.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from xdsl.dialects.builtin import ModuleOp
from xdsl.interpreter import Interpreter, InterpreterFunctions, PythonValues, impl, register_impls
from xdsl.ir import Operation

from pimdsl.chip import Chip
from pimdsl.dialects import pim_isa as isa
from pimdsl.dialects.crossbar import weight_matrix
from pimdsl.errors import PimError
from pimdsl.module_attrs import get_chip
from pimdsl.sim import run_stats
from pimdsl.sim.nn_kernels import fake_quant
from pimdsl.sim.xbar_numerics import MODES, DeviceState, XbarCounts, crossbar_matmul

_UNARY = {
    "vcopy": lambda x, op: x,
    "vrelu": lambda x, op: np.maximum(x, 0),
    "vsigmoid": lambda x, op: (1.0 / (1.0 + np.exp(-x.astype(np.float64)))).astype(np.float32),
    "vtanh": lambda x, op: np.tanh(x),
    "vexp": lambda x, op: np.exp(x),
    "vscale": lambda x, op: x * np.float32(op.factor.value.data),
    "vpow": lambda x, op: np.power(x, np.float32(op.exponent.value.data)),
    "vleaky_relu": lambda x, op: np.where(x >= 0, x, x * np.float32(op.alpha.value.data)),
    "vclip": lambda x, op: np.clip(x, np.float32(op.lo.value.data), np.float32(op.hi.value.data)),
    "vfake_quant": lambda x, op: fake_quant(
        x,
        op.scale.value.data,
        int(op.zero_point.value.data),
        int(op.lo.value.data),
        int(op.hi.value.data),
    ),
}
_BINARY = {
    "vadd": np.add,
    "vsub": np.subtract,
    "vmul": np.multiply,
    "vdiv": np.divide,
    "vmax": np.maximum,
    "vmin": np.minimum,
}


# --- trace -------------------------------------------------------------------------------------


@dataclass
class CoreTrace:
    """What one core executed in one partition."""

    counts: Counter[str] = field(default_factory=Counter)  # mnemonic -> executions
    bytes: Counter[str] = field(default_factory=Counter)  # mnemonic -> bytes moved
    loop_iterations: int = 0  # loop body executions (every level)
    vectorised_iterations: int = 0  # of those, run as one vector batch

    def add(self, mnemonic: str, times: int, nbytes: int) -> None:
        self.counts[mnemonic] += times
        self.bytes[mnemonic] += nbytes

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": dict(self.counts),
            "bytes": dict(self.bytes),
            "loop_iterations": self.loop_iterations,
            "vectorised_iterations": self.vectorised_iterations,
        }


@dataclass
class IsaTrace:
    """Per (partition, core) execution counts, plus crossbar event counts (quantized mode)."""

    cores: dict[tuple[int, int], CoreTrace] = field(default_factory=dict)
    xbar: XbarCounts = field(default_factory=XbarCounts)

    def core(self, partition: int, core: int) -> CoreTrace:
        return self.cores.setdefault((partition, core), CoreTrace())

    def totals(self) -> CoreTrace:
        total = CoreTrace()
        for t in self.cores.values():
            total.counts.update(t.counts)
            total.bytes.update(t.bytes)
            total.loop_iterations += t.loop_iterations
            total.vectorised_iterations += t.vectorised_iterations
        return total

    def to_dict(self) -> dict[str, Any]:
        return {
            "cores": [
                {"partition": p, "core": c, **t.to_dict()}
                for (p, c), t in sorted(self.cores.items())
            ],
            "totals": self.totals().to_dict(),
            "xbar": self.xbar.to_dict(),
        }


def _bytes_of(op: isa.InstrOp, elem: int, chip: Chip) -> int:
    """Bytes one execution moves (DRAM, bus or crossbar write), 0 for compute."""
    if isinstance(op, isa.LdWeightOp):
        r, c = op.block_shape
        return math.ceil(r * c * chip.weight_bits / 8)
    if isinstance(op, isa.WrXbarOp):
        return math.ceil(op.rows.value.data * op.cols.value.data * chip.weight_bits / 8)
    if isinstance(op, isa.LoadOp | isa.StoreOp | isa.SendOp | isa.RecvOp):
        return op.length.value.data * elem
    if isinstance(op, isa.LoadBlockOp | isa.StoreBlockOp):
        return op.elements * elem
    return 0


# --- static analysis of a loop nest --------------------------------------------------------------

_SYNC = (isa.BarrierOp, isa.LdWeightOp, isa.WrXbarOp)


def _accesses(op: isa.InstrOp) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """(reads, writes) of local memory as (address property, elements)."""
    if isinstance(op, isa.LoadOp | isa.LoadBlockOp | isa.RecvOp):
        return [], [(op.local_accesses()[0].prop, op.local_accesses()[0].count)]
    if isinstance(op, isa.StoreOp | isa.StoreBlockOp | isa.SendOp):
        return [(op.local_accesses()[0].prop, op.local_accesses()[0].count)], []
    if isinstance(op, isa.MvmOp):
        reads = [("src", op.rows.value.data)]
        if op.accumulate is not None:
            reads.append(("dst", op.cols.value.data))
        return reads, [("dst", op.cols.value.data)]
    acc = op.local_accesses()
    writes = [(a.prop, a.count) for a in acc if a.prop == "dst"]
    reads = [(a.prop, a.count) for a in acc if a.prop != "dst"]
    return reads, writes


@dataclass
class _Item:
    op: isa.InstrOp
    path: tuple[int, ...]  # trip counts of the nest's loops around it (outermost first)
    order: int
    loops: tuple[int, ...] = ()  # identities of those loops: siblings with equal trips differ


def _common(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    """How many enclosing loops two items share (the nest's root loop at least)."""
    k = 0
    while k < min(len(a), len(b)) and a[k] == b[k]:
        k += 1
    return k


class _Nest:
    """A loop nest flattened for vectorised execution (None-like `ok` = False when it cannot)."""

    def __init__(self, loop: isa.LoopOp, depth: int, elem: int):
        self.items: list[_Item] = []
        self.ok = True
        self.depth = depth  # loops outside the nest
        self.elem = elem
        self._flatten(loop, (), (), [0], [0])
        self.ok = self.ok and self._check()

    def _flatten(
        self,
        loop: isa.LoopOp,
        path: tuple[int, ...],
        loops: tuple[int, ...],
        order: list[int],
        next_loop: list[int],
    ) -> None:
        path = (*path, loop.trip_count)
        loops = (*loops, next_loop[0])
        next_loop[0] += 1
        for op in loop.body.block.ops:
            if isinstance(op, isa.LoopOp):
                self._flatten(op, path, loops, order, next_loop)
            elif isinstance(op, _SYNC):
                self.ok = False
            else:
                self.items.append(_Item(op, path, order[0], loops))  # type: ignore[arg-type]
                order[0] += 1

    def _local(self, op: isa.InstrOp, prop: str, n_path: int) -> int | None:
        """The loop-invariant byte address of `prop` inside the nest, else None."""
        values = isa.ints(op.properties[prop])  # type: ignore[arg-type]
        base = values[0]
        if len(values) > 1 and any(values[1 + self.depth : 1 + self.depth + n_path]):
            return None
        return base

    def _check(self) -> bool:
        if not self.ok:
            return False
        writes: list[tuple[int, int, tuple[int, ...], int]] = []  # start, end, loops, order
        loaded: set[str] = set()
        stored: set[str] = set()
        channels: Counter[tuple[str, int, int]] = Counter()
        for it in self.items:
            op = it.op
            reads, wr = _accesses(op)
            for prop, _n in [*reads, *wr]:
                if self._local(op, prop, len(it.path)) is None and not _moving_read(op, prop):
                    return False
            for prop, n in wr:
                a = self._local(op, prop, len(it.path))
                assert a is not None
                writes.append((a, a + n * self.elem, it.loops, it.order))
            if isinstance(op, isa.LoadOp | isa.LoadBlockOp):
                loaded.add(op.buffer.data)
            elif isinstance(op, isa.StoreOp | isa.StoreBlockOp):
                stored.add(op.buffer.data)
            elif isinstance(op, isa.SendOp | isa.RecvOp):
                channels[(op.name, op.peer.value.data, op.tag.value.data)] += 1
        if loaded & stored or any(n > 1 for n in channels.values()):
            return False
        for it in self.items:
            reads, _ = _accesses(it.op)
            for prop, n in reads:
                lo, hi = self._span(it, prop)
                if not self._read_is_current(it, lo, hi + n * self.elem, writes):
                    return False
        return True

    def _span(self, it: _Item, prop: str) -> tuple[int, int]:
        """(lowest, highest) start byte of a local read over the nest's iterations (a gather's
        source moves with the window; every other local address is loop-invariant)."""
        values = isa.ints(it.op.properties[prop])  # type: ignore[arg-type]
        if len(values) == 1:
            return values[0], values[0]
        strides = values[1 + self.depth : 1 + self.depth + len(it.path)]
        return isa.address_span((values[0], *strides), it.path)

    @staticmethod
    def _read_is_current(
        it: _Item,
        lo: int,
        hi: int,
        writes: list[tuple[int, int, tuple[int, ...], int]],
    ) -> bool:
        """Whether every byte of [lo, hi) the nest writes is, when `it` reads it, the value of
        the last earlier write in program order (what the shadow memory returns). A write
        sharing k loops with the read last ran in the current iteration of those k loops; a
        later write (order >= the read's) sharing k' loops last ran in the previous iteration
        of loop k', so the earlier write is the newer one exactly when k >= k'."""
        before = np.full(hi - lo, -1, dtype=np.int64)  # shared loops of the newest earlier write
        after = np.full(hi - lo, -1, dtype=np.int64)  # most shared loops of any later write
        for ws, we, loops, order in writes:
            if we <= lo or ws >= hi:
                continue
            span = slice(max(ws, lo) - lo, min(we, hi) - lo)
            k = _common(loops, it.loops)
            if order < it.order:
                before[span] = k  # writes are listed in program order: the last one wins
            else:
                after[span] = np.maximum(after[span], k)
        # a loop-carried value (written later in the nest, read before in an iteration) or a
        # byte written only later both mean the nest must be stepped
        return bool(np.all((after < 0) | (before >= after)))


# --- the machine -------------------------------------------------------------------------------


@dataclass
class _Core:
    id: int
    mem: np.ndarray  # one float32 per element: byte address a is mem[a // elem]
    elem: int
    staged: dict[int, np.ndarray] = field(default_factory=dict)
    xbars: dict[int, np.ndarray] = field(default_factory=dict)
    devices: dict[int, DeviceState] = field(default_factory=dict)  # non-ideal quantized mode


class Machine:
    """DRAM, cores and channels of one run of a program."""

    def __init__(
        self,
        module: ModuleOp,
        weights: Any,
        mode: str = "ideal",
        per_channel: bool = True,
        vectorise: bool = True,
        noise_stream: int = 0,
    ):
        program = isa.find_program(module)
        if program is None:
            raise PimError("the module holds no pim_isa.program to run.")
        chip = get_chip(module)
        if chip is None:
            raise PimError("running a pim_isa program needs the chip (module attribute pim.chip).")
        if mode not in MODES:
            raise PimError(
                f"unknown crossbar numerics mode '{mode}'.", hint=f"Use one of {', '.join(MODES)}."
            )
        self.program = program
        self.chip = chip
        self.elem = program.element_bytes
        self.weights = weights
        self.mode = mode
        self.per_channel = per_channel
        self.vectorise = vectorise
        self.noise_stream = noise_stream
        self.writes: Counter[tuple[int, int]] = Counter()  # (core, xbar) -> wr_xbar executions
        self.dram: dict[str, np.ndarray] = {
            b.buffer_name: np.full(b.elements, b.fill_value, dtype=np.float32)
            for b in program.buffers()
        }
        self.trace = IsaTrace()
        self._nests: dict[int, _Nest] = {}
        self._weight_cache: dict[str, np.ndarray] = {}

    # --- DRAM --------------------------------------------------------------------------------

    def write_buffer(self, name: str, value: np.ndarray) -> None:
        buf = self.dram[name]
        flat = np.asarray(value, dtype=np.float32).reshape(-1)
        if flat.size != buf.size:
            raise PimError(f"buffer '{name}' holds {buf.size} elements, got {flat.size}.")
        buf[:] = flat

    def dram_array(self, name: str) -> np.ndarray:
        if name in self.dram:
            return self.dram[name]
        if name not in self._weight_cache:
            if self.weights is None or name not in self.weights:
                raise PimError(
                    f"pim_isa: DRAM name '{name}' is neither a program buffer nor a tensor of the "
                    "weight file.",
                    hint="Give the module a weight file (pim.weights) that holds it.",
                )
            self._weight_cache[name] = np.asarray(self.weights[name], dtype=np.float32).reshape(-1)
        return self._weight_cache[name]

    def weight_block(self, op: isa.LdWeightOp) -> np.ndarray:
        name = op.weight.data
        if self.weights is None or name not in self.weights:
            raise PimError(f"pim_isa.ld_weight: weight '{name}' is not in the weight file.")
        m = weight_matrix(np.asarray(self.weights[name], dtype=np.float32), op.layout.data)
        r0, r1 = isa.ints(op.rows)
        c0, c1 = isa.ints(op.cols)
        k = op.group_count
        if k == 1:
            return np.array(m[r0:r1, c0:c1], dtype=np.float32)
        per = (c1 - c0) // k
        rows = r1 - r0
        out = np.zeros((rows * k, c1 - c0), dtype=np.float32)
        for i in range(k):
            out[i * rows : (i + 1) * rows, i * per : (i + 1) * per] = m[
                r0:r1, c0 + i * per : c0 + (i + 1) * per
            ]
        return out

    # --- running -----------------------------------------------------------------------------

    def run(self) -> None:
        for part in self.program.partitions():
            self.run_partition(part)

    def run_partition(self, part: isa.PartitionOp) -> None:
        size = self.chip.local_memory_bytes // self.elem
        self.queues: dict[tuple[int, int, int], deque[np.ndarray]] = {}
        self.barriers: dict[tuple[int, ...], Counter[int]] = {}
        self.progress = 0
        self._stalled = False
        gens = {}
        for core in part.cores():
            state = _Core(core.number, np.zeros(size, dtype=np.float32), self.elem)
            gens[core.number] = self._run_ops(state, list(core.body.block.ops), (), part.number)
        live = dict(gens)
        while live:
            before = self.progress
            for cid in list(live):
                try:
                    next(live[cid])
                except StopIteration:
                    del live[cid]
                    self.progress += 1
            if live and self.progress == before and not self._stalled:
                self._stalled = True  # one more round: a waiting vectorised nest may step instead
                continue
            if live and self.progress == before:
                raise PimError(
                    f"pim_isa: partition {part.number} deadlocks: cores {sorted(live)} all wait "
                    "for a recv or barrier that never comes.",
                )

    def _run_ops(
        self,
        core: _Core,
        ops: Sequence[Operation],
        env: tuple[int, ...],
        part: int,
    ) -> Generator[None, None, None]:
        trace = self.trace.core(part, core.id)
        for op in ops:
            if isinstance(op, isa.LoopOp):
                yield from self._run_loop(core, op, env, part)
                continue
            assert isinstance(op, isa.InstrOp)
            if isinstance(op, isa.BarrierOp):
                group = isa.ints(op.cores)
                counts = self.barriers.setdefault(group, Counter())
                counts[core.id] += 1
                mine = counts[core.id]
                self.progress += 1
                while min(counts[c] for c in group) < mine:
                    yield
            elif isinstance(op, isa.RecvOp):
                key = (op.peer.value.data, core.id, op.tag.value.data)
                while not self._available(key, 1):
                    yield
            self._execute(core, op, env, None)
            trace.add(op.mnemonic, 1, _bytes_of(op, self.elem, self.chip))
            self.progress += 1

    def _run_loop(
        self,
        core: _Core,
        loop: isa.LoopOp,
        env: tuple[int, ...],
        part: int,
    ) -> Generator[None, None, None]:
        nest = self._nests.get(id(loop))
        if nest is None:
            nest = self._nests[id(loop)] = _Nest(loop, len(env), self.elem)
        trace = self.trace.core(part, core.id)
        if nest.ok and self.vectorise:
            needs: Counter[tuple[int, int, int]] = Counter()
            for it in nest.items:
                if isinstance(it.op, isa.RecvOp):
                    needs[(it.op.peer.value.data, core.id, it.op.tag.value.data)] += math.prod(
                        it.path
                    )
            while not all(self._available(k, n) for k, n in needs.items()):
                if self._stalled:
                    # every core waits: this nest's own sends may be what the others need, so
                    # run it iteration by iteration instead of all at once
                    self._stalled = False
                    for i in range(loop.trip_count):
                        trace.loop_iterations += 1
                        yield from self._run_ops(core, list(loop.body.block.ops), (*env, i), part)
                    return
                yield
            self._run_nest(core, nest, env, part)
            iters = _loop_iterations(loop)
            trace.loop_iterations += iters
            trace.vectorised_iterations += iters
            self.progress += 1
            return
        for i in range(loop.trip_count):
            trace.loop_iterations += 1
            yield from self._run_ops(core, list(loop.body.block.ops), (*env, i), part)

    def _available(self, key: tuple[int, int, int], n: int) -> bool:
        q = self.queues.get(key)
        return q is not None and sum(len(m) for m in q) >= n

    def _take(self, key: tuple[int, int, int], n: int) -> np.ndarray:
        q = self.queues[key]
        parts = []
        while n:
            head = q[0]
            if len(head) <= n:
                parts.append(q.popleft())
                n -= len(head)
            else:
                parts.append(head[:n])
                q[0] = head[n:]
                n = 0
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    # --- one instruction over a batch of iterations -------------------------------------------

    def _execute(
        self, core: _Core, op: isa.InstrOp, env: tuple[int, ...], batch: _Batch | None
    ) -> None:
        """Run `op` once (batch None: loop indices `env`) or for every iteration of `batch`."""
        b = batch or _Batch.single(env)
        name = op.mnemonic
        if isinstance(op, isa.LdWeightOp):
            core.staged[b.local(op, "dst")] = self.weight_block(op)
        elif isinstance(op, isa.WrXbarOp):
            src = b.local(op, "src")
            block = core.staged.get(src)
            rows, cols = op.rows.value.data, op.cols.value.data
            if block is None or block.shape[0] < rows or block.shape[1] < cols:
                raise PimError(
                    f"pim_isa.wr_xbar on core {core.id}: no {rows}x{cols} weight block "
                    f"was staged at local address {src} by ld_weight."
                )
            xbar = op.xbar.value.data
            core.xbars[xbar] = block[:rows, :cols]
            if self.mode == "quantized" and self.chip.non_ideal:  # new variation per write
                core.devices[xbar] = DeviceState(
                    core.id, xbar, self.writes[(core.id, xbar)], self.noise_stream
                )
                self.writes[(core.id, xbar)] += 1
        elif isinstance(op, isa.LoadOp | isa.LoadBlockOp):
            data = self.dram_array(op.buffer.data)
            idx = b.dram_index(op)
            if idx.size and (idx.min() < 0 or idx.max() >= data.size):
                raise PimError(
                    f"pim_isa.{name} on core {core.id}: DRAM index out of range of "
                    f"'{op.buffer.data}' ({data.size} elements)."
                )
            b.write(core, op, "dst", data[idx])
        elif isinstance(op, isa.GatherOp):
            b.write(core, op, "dst", b.gather(core, op))
        elif isinstance(op, isa.StoreOp | isa.StoreBlockOp):
            if op.buffer.data not in self.dram:
                raise PimError(f"pim_isa.{name}: '{op.buffer.data}' is not a program buffer.")
            data = self.dram[op.buffer.data]
            idx = b.dram_index(op)
            values = b.read(core, op, "src", idx.shape[-1])
            data[idx.reshape(-1)] = values.reshape(-1)
        elif isinstance(op, isa.MvmOp):
            rows, cols = op.rows.value.data, op.cols.value.data
            w = core.xbars.get(op.xbar.value.data)
            if w is None or w.shape[0] < rows or w.shape[1] < cols:
                raise PimError(
                    f"pim_isa.mvm on core {core.id}: crossbar {op.xbar.value.data} holds "
                    f"no {rows}x{cols} block (wr_xbar first)."
                )
            x = b.read(core, op, "src", rows)
            y = crossbar_matmul(
                x,
                w[:rows, :cols],
                self.chip,
                self.mode,
                self.per_channel,
                counts=self.trace.xbar if self.mode == "quantized" else None,
                device=core.devices.get(op.xbar.value.data),
            )
            if op.accumulate is not None:
                y = y + b.read(core, op, "dst", cols)
            b.write(core, op, "dst", y)
        elif name in _BINARY:
            n = op.length.value.data  # type: ignore[attr-defined]
            lhs = b.read(core, op, "lhs", n)
            rhs = b.read(core, op, "rhs", 1 if op.broadcast is not None else n)  # type: ignore[attr-defined]
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                b.write(core, op, "dst", _BINARY[name](lhs, rhs).astype(np.float32))
        elif name in _UNARY:
            n = op.length.value.data  # type: ignore[attr-defined]
            with np.errstate(over="ignore", invalid="ignore"):
                b.write(
                    core, op, "dst", _UNARY[name](b.read(core, op, "src", n), op).astype(np.float32)
                )
        elif isinstance(op, isa.VReduceOp):
            x = b.read(core, op, "src", op.length.value.data)
            r = x.max(axis=1) if op.kind.data == "max" else x.sum(axis=1, dtype=np.float32)
            b.write(core, op, "dst", r[:, None])
        elif isinstance(op, isa.VPoolOp):
            n, count, step = op.length.value.data, op.count.value.data, op.step.value.data
            x = b.read(core, op, "src", (count - 1) * step + n)
            taps = np.stack([x[:, k * step : k * step + n] for k in range(count)], axis=1)
            if op.kind.data == "max":
                r = taps.max(axis=1)
            else:
                r = taps.sum(axis=1, dtype=np.float32)
                if op.kind.data == "avg":
                    r = r / np.float32(count)
            b.write(core, op, "dst", r.astype(np.float32))
        elif isinstance(op, isa.SendOp):
            key = (core.id, op.peer.value.data, op.tag.value.data)
            self.queues.setdefault(key, deque()).append(
                b.read(core, op, "src", op.length.value.data).copy()
            )
        elif isinstance(op, isa.RecvOp):
            key = (op.peer.value.data, core.id, op.tag.value.data)
            msg = self._take(key, b.size)
            if msg.shape[1] != op.length.value.data:
                raise PimError(
                    f"pim_isa.recv on core {core.id}: message of {msg.shape[1]} elements, "
                    f"expected {op.length.value.data}."
                )
            b.write(core, op, "dst", msg)
        elif isinstance(op, isa.BarrierOp):
            pass
        else:  # pragma: no cover - every instruction is handled above
            raise PimError(f"pim_isa: no interpretation of '{op.name}'.")

    def _run_nest(self, core: _Core, nest: _Nest, env: tuple[int, ...], part: int) -> None:
        trace = self.trace.core(part, core.id)
        shadow = _Shadow(core, self.elem)
        for it in nest.items:
            batch = _Batch(env, it.path, shadow, it.order, it.loops)
            self._execute(core, it.op, env, batch)
            trace.add(
                it.op.mnemonic, batch.size, batch.size * _bytes_of(it.op, self.elem, self.chip)
            )
        shadow.commit()


def _loop_iterations(loop: isa.LoopOp) -> int:
    inner = sum(_loop_iterations(op) for op in loop.body.block.ops if isinstance(op, isa.LoopOp))
    return loop.trip_count * (1 + inner)


# --- vectorised operands -------------------------------------------------------------------------


class _Shadow:
    """Private local memory of a vectorised nest: every write as (start byte, path, values)."""

    def __init__(self, core: _Core, elem: int):
        self.core = core
        self.elem = elem
        # start, end, trips, loops, values [M, n], in program order
        self.writes: list[tuple[int, int, tuple[int, ...], tuple[int, ...], np.ndarray]] = []

    def read(self, start: int, n: int, path: tuple[int, ...], loops: tuple[int, ...]) -> np.ndarray:
        e = self.elem
        base = self.core.mem[start // e : start // e + n]
        size = math.prod(path)
        out = None
        for ws, we, wpath, wloops, values in self.writes:
            end = start + n * e
            if we <= start or ws >= end:
                continue
            if out is None:
                out = np.array(np.broadcast_to(base, (size, n)), dtype=np.float32)
            lo, hi = max(ws, start), min(we, end)
            rows = _newest_row(path, loops, wpath, wloops)
            out[:, (lo - start) // e : (hi - start) // e] = values[
                rows, (lo - ws) // e : (hi - ws) // e
            ]
        if out is None:
            return np.broadcast_to(base, (size, n))
        return out

    def write(
        self, start: int, path: tuple[int, ...], loops: tuple[int, ...], values: np.ndarray
    ) -> None:
        self.writes.append((start, start + values.shape[1] * self.elem, path, loops, values))

    def gather(self, idx: np.ndarray, path: tuple[int, ...], loops: tuple[int, ...]) -> np.ndarray:
        """Elements at local element indices `idx` [iterations, n] (each iteration its own
        addresses), seeing the nest's earlier writes as `read` does."""
        e = self.elem
        out = self.core.mem[idx]
        for ws, we, wpath, wloops, values in self.writes:
            mask = (idx >= ws // e) & (idx < we // e)
            if not mask.any():
                continue
            rows = np.broadcast_to(_newest_row(path, loops, wpath, wloops)[:, None], idx.shape)
            out[mask] = values[rows[mask], idx[mask] - ws // e]
        return out

    def commit(self) -> None:
        e = self.elem
        for start, _, _, _, values in self.writes:
            self.core.mem[start // e : start // e + values.shape[1]] = values[-1]


def _newest_row(
    path: tuple[int, ...],
    loops: tuple[int, ...],
    wpath: tuple[int, ...],
    wloops: tuple[int, ...],
) -> np.ndarray:
    """For each iteration of a read in `loops` (trips `path`), the row of an earlier write in
    `wloops` (trips `wpath`) that it sees: the same iteration of the loops both share, and the
    last iteration of the write's own inner loops (they finished before the read)."""
    k = _common(loops, wloops)
    idx = np.indices(path).reshape(len(path), -1)
    wstrides = [math.prod(wpath[j + 1 :]) for j in range(len(wpath))]
    rows = np.zeros(idx.shape[1], dtype=np.int64)
    for j in range(len(wpath)):
        rows += (idx[j] if j < k else wpath[j] - 1) * wstrides[j]
    return rows


@dataclass
class _Batch:
    """The iterations one instruction executes for: loop indices outside the nest (`env`) and
    the trip counts `path` of the nest's loops around it (empty path: a single execution)."""

    env: tuple[int, ...]
    path: tuple[int, ...]
    shadow: _Shadow | None
    order: int = 0
    loops: tuple[int, ...] = ()

    @staticmethod
    def single(env: tuple[int, ...]) -> _Batch:
        return _Batch(env, (), None)

    @property
    def size(self) -> int:
        return math.prod(self.path)

    def _values(self, op: isa.InstrOp, prop: str) -> np.ndarray:
        """The property's address for every iteration, shape [size]."""
        v = isa.ints(op.properties[prop])  # type: ignore[arg-type]
        base, strides = v[0], v[1:]
        depth = len(self.env) + len(self.path)
        strides = strides or (0,) * depth
        addr = base + sum(s * i for s, i in zip(strides, self.env, strict=False))
        if not self.path:
            return np.array([addr], dtype=np.int64)
        inner = strides[len(self.env) :]
        idx = np.indices(self.path).reshape(len(self.path), -1)
        return addr + (np.asarray(inner, dtype=np.int64)[:, None] * idx).sum(axis=0)

    def local(self, op: isa.InstrOp, prop: str) -> int:
        return int(self._values(op, prop)[0])

    def dram_index(self, op: isa.InstrOp) -> np.ndarray:
        """[size, elements] DRAM element indices of a load/store (block forms included)."""
        return self._values(op, "offset")[:, None] + _pattern(op)[None, :]

    def gather(self, core: _Core, op: isa.GatherOp) -> np.ndarray:
        """[size, elements] values of a local gather, each iteration from its own source."""
        e = core.elem
        start = self._values(op, "src")
        idx = start[:, None] // e + _pattern(op)[None, :]
        if self.shadow is not None:
            return self.shadow.gather(idx, self.path, self.loops)
        _check_local(core, op, int(start[0]), op.src_extent(), e)
        return core.mem[idx]

    def read(self, core: _Core, op: isa.InstrOp, prop: str, n: int) -> np.ndarray:
        e = core.elem
        if self.shadow is not None:
            return self.shadow.read(int(self._values(op, prop)[0]), n, self.path, self.loops)
        addr = self.local(op, prop)
        _check_local(core, op, addr, n, e)
        return core.mem[addr // e : addr // e + n][None, :]

    def write(self, core: _Core, op: isa.InstrOp, prop: str, values: np.ndarray) -> None:
        values = np.asarray(values, dtype=np.float32)
        if self.shadow is not None:
            if values.shape[0] != self.size:
                values = np.broadcast_to(values, (self.size, values.shape[1]))
            self.shadow.write(int(self._values(op, prop)[0]), self.path, self.loops, values)
            return
        addr = self.local(op, prop)
        _check_local(core, op, addr, values.shape[1], core.elem)
        core.mem[addr // core.elem : addr // core.elem + values.shape[1]] = values[-1]


def _pattern(op: isa.InstrOp) -> np.ndarray:
    """Element offsets of one execution of a transfer: `len` contiguous elements, repeated over
    the block's `sizes` at its `pitches` for the strided forms."""
    pattern = np.arange(op.length.value.data, dtype=np.int64)  # type: ignore[attr-defined]
    if isinstance(op, isa.LoadBlockOp | isa.StoreBlockOp | isa.GatherOp):
        for size, pitch in zip(
            reversed(isa.ints(op.sizes)), reversed(isa.ints(op.pitches)), strict=True
        ):
            pattern = (np.arange(size, dtype=np.int64)[:, None] * pitch + pattern[None, :]).reshape(
                -1
            )
    return pattern


def _moving_read(op: isa.InstrOp, prop: str) -> bool:
    """A local read whose address may move with the nest's loops (checked by its span)."""
    return isinstance(op, isa.GatherOp) and prop == "src"


def _check_local(core: _Core, op: isa.InstrOp, addr: int, n: int, e: int) -> None:
    if addr < 0 or addr // e + n > core.mem.size:
        raise PimError(
            f"{op.name} on core {core.id}: local address {addr} + {n} elements is "
            "outside local memory."
        )


# --- public API --------------------------------------------------------------------------------


def run_program(
    module: ModuleOp,
    inputs: dict[str, np.ndarray],
    *,
    weights: Any = None,
    mode: str = "ideal",
    per_channel: bool = True,
    vectorise: bool = True,
    noise_stream: int = 0,
) -> tuple[dict[str, np.ndarray], IsaTrace]:
    """Run the module's program with the named input buffers filled; returns every buffer of
    role "output" (flat float32) and the execution trace. `vectorise=False` steps every loop
    (slow; for checking the vectorised path)."""
    m = Machine(module, weights, mode, per_channel, vectorise, noise_stream)
    for name, value in inputs.items():
        if name not in m.dram:
            raise PimError(f"the program has no buffer '{name}' to fill.")
        m.write_buffer(name, value)
    m.run()
    outs = {
        b.buffer_name: m.dram[b.buffer_name].copy()
        for b in m.program.buffers()
        if b.role.data == "output"
    }
    return outs, m.trace


@register_impls
class PimIsaFunctions(InterpreterFunctions):
    """`pim_isa.execute` for xDSL's interpreter (runner.LEVELS["pim_isa"]). Options:
    `mode` ("ideal" | "quantized"), `per_channel` (bool), `noise_stream` (int), `stats` (a dict:
    quantized mode adds the crossbar event counts, `pimdsl.sim.run_stats`). The last run's trace
    is `last_trace`."""

    def __init__(self, context: Any = None):
        super().__init__()
        self.context = context
        self.last_trace: IsaTrace | None = None

    @classmethod
    def for_run(cls, context: Any) -> PimIsaFunctions:
        return cls(context)

    @impl(isa.ExecuteOp)
    def run_execute(
        self, interpreter: Interpreter, op: isa.ExecuteOp, args: PythonValues
    ) -> PythonValues:
        module = interpreter.module
        opts = self.context.options if self.context is not None else {}
        weights = self.context.weights if self.context is not None else None
        inputs = {name: np.asarray(a) for name, a in zip(op.input_names, args, strict=True)}
        outs, trace = run_program(
            module,
            inputs,
            weights=weights,
            mode=opts.get("mode", "ideal"),
            per_channel=opts.get("per_channel", True),
            vectorise=opts.get("vectorise", True),
            noise_stream=int(opts.get("noise_stream", 0)),
        )
        self.last_trace = trace
        if self.context is not None:
            self.context.options["pim_isa_trace"] = trace
            if opts.get("mode") == "quantized":  # ADC saturation and fault counts, as above
                stats = run_stats.stats_dict(self.context.options)
                for key, value in trace.xbar.to_dict().items():
                    run_stats.add(stats, key, value)
        results = []
        for name, t in zip(op.output_names, op.results_.types, strict=True):
            results.append(outs[name].reshape(t.get_shape()))  # type: ignore[attr-defined]
        return tuple(results)


def iter_instructions(block: Any, depth: int = 0) -> Iterator[tuple[isa.InstrOp, tuple[int, ...]]]:
    """Every instruction of a core body with the trip counts of its loops (static walk)."""
    for op in block.ops:
        if isinstance(op, isa.LoopOp):
            for inner, loops in iter_instructions(op.body.block, depth + 1):
                yield inner, (op.trip_count, *loops)
        else:
            yield op, ()
