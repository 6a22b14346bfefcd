"""Per-core instruction lists with counted loops and affine addresses.

An address is an `Aff`: a constant plus one coefficient per named loop variable ("n" for the
image of the batch, "oy"/"ox" for output windows, ...). `CoreCode.addr` turns it into the
`array<i64: base, s1, ..., sd>` property of the loops open at that point; a loop of count 1
is never emitted, and its variable is 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from xdsl.dialects.builtin import DenseArrayBase
from xdsl.ir import Operation

from pimdsl.dialects import pim_isa as isa
from pimdsl.isa import pipeline


@dataclass(frozen=True)
class Aff:
    """base + sum(coeff[v] * v) over loop variables v."""

    base: int = 0
    coeff: tuple[tuple[str, int], ...] = ()

    @staticmethod
    def of(base: int = 0, **coeff: int) -> Aff:
        return Aff(base, tuple(sorted((k, v) for k, v in coeff.items() if v)))

    def __add__(self, other: Aff | int) -> Aff:
        if isinstance(other, int):
            return Aff(self.base + other, self.coeff)
        merged = dict(self.coeff)
        for k, v in other.coeff:
            merged[k] = merged.get(k, 0) + v
        return Aff.of(self.base + other.base, **merged)

    __radd__ = __add__

    def scaled(self, factor: int) -> Aff:
        return Aff.of(self.base * factor, **{k: v * factor for k, v in self.coeff})

    def get(self, var: str) -> int:
        return dict(self.coeff).get(var, 0)


@dataclass
class CoreCode:
    """The instruction list of one core in one partition, built front to back."""

    core: int
    ops: list[Operation] = field(default_factory=list)
    _stack: list[tuple[str, int, list[Operation]]] = field(default_factory=list)
    _stages: list[int | None] = field(default_factory=list)
    # the element schedule (`pimdsl.isa.element`): what is added directly inside the image loop
    # goes into a chunk of this key; the loop's chunks are put in key order when it closes
    chunk_key: tuple[float, ...] | None = None
    period: float = 1.0  # ... and a chunk of key t runs image n - floor(t / period) in iteration n

    @property
    def current(self) -> list[Operation]:
        body = self._stack[-1][2] if self._stack else self.ops
        if self.chunk_key is not None and self._stack and self._stack[-1][0] == "n":
            if not body or not isinstance(body[-1], _Chunk) or body[-1].key != self.chunk_key:
                body.append(_Chunk(self.chunk_key))  # type: ignore[arg-type]
            return body[-1]  # type: ignore[return-value]
        return body

    def open_loop(self, var: str, count: int, stage: int | None = None) -> None:
        """Open a loop; `stage` marks an image loop of the `batch` schedule (its steps' stage,
        `pimdsl.isa.pipeline`), which `finish` builds into the core's pipeline segments."""
        self._stack.append((var, count, []))
        self._stages.append(stage)

    def slot(self) -> list[Operation]:
        """A place in the code, filled later (a token send after a producer step); loops are
        built by `finish`, so instructions added to a slot after its loop closed still land."""
        slot = _Slot()
        self.current.append(slot)  # type: ignore[arg-type]
        return slot

    def finish(self) -> list[Operation]:
        """The instruction list, loops built and slots spliced in (after the last close_loop);
        staged image loops become the core's pipeline segments (`pimdsl.isa.pipeline`)."""
        staged = [op for op in self.ops if isinstance(op, _Pending) and op.stage is not None]
        if not staged:
            self.ops = _build(self.ops)
            return self.ops
        first = self.ops.index(staged[0])  # type: ignore[arg-type]
        if any(not isinstance(op, _Pending) or op.stage is None for op in self.ops[first:]):
            raise AssertionError("a staged image loop is followed by unstaged code")  # internal
        stages = [op.stage or 0 for op in staged]
        orders = [op.order for op in staged]
        bodies = [_build(op.body) for op in staged]
        out = _build(self.ops[:first])
        known = [o for o in orders if o is not None]
        for t0, t1, active in pipeline.segments(
            stages, staged[0].count, known if len(known) == len(orders) else None
        ):
            body = [x for i in active for x in pipeline.shifted(bodies[i], t0 - stages[i])]
            out.append(isa.LoopOp(t1 - t0, body))
        self.ops = out
        return self.ops

    def close_loop(self) -> None:
        var, count, body = self._stack.pop()
        stage = self._stages.pop()
        if any(isinstance(x, _Chunk) for x in body):
            # stable: chunks of one key keep their emission order
            body = sorted(body, key=lambda x: x.key if isinstance(x, _Chunk) else ())  # type: ignore[attr-defined]
            if count > 1:
                # the element schedule's software pipeline: a chunk of key t runs image
                # n - floor(t / period) in iteration n, in the order of t mod period
                for chunk in body:
                    assert isinstance(chunk, _Chunk), (
                        "the element schedule's image loop holds only chunks"
                    )
                    stage = math.floor(chunk.key[0] / self.period)
                    self.current.append(
                        _Pending(
                            count,
                            list(chunk),
                            stage,  # type: ignore[arg-type]
                            (chunk.key[0] - stage * self.period, *chunk.key[1:]),
                        )
                    )
                return
        if count == 1:
            self.current.extend(body)  # a loop of one: its body inline, strides dropped below
        elif body:
            self.current.append(_Pending(count, body, stage))  # type: ignore[arg-type]

    @contextmanager
    def loop(self, var: str, count: int) -> Iterator[None]:
        self.open_loop(var, count)
        try:
            yield
        finally:
            self.close_loop()

    def addr(self, a: Aff | int) -> DenseArrayBase:
        if isinstance(a, int):
            a = Aff(a)
        live = [(var, count) for var, count, _ in self._stack if count > 1]
        strides = [a.get(var) for var, _ in live]
        return isa.addr(a.base, *strides) if any(strides) else isa.addr(a.base)

    def add(self, op: Operation) -> None:
        self.current.append(op)


class _Slot(list):  # type: ignore[type-arg]
    """Instructions to be spliced into the enclosing list."""


class _Chunk(_Slot):
    """A unit of the element schedule's image loop (a tile of a weight layer, a vector step),
    ordered by `key` when the loop closes."""

    def __init__(self, key: tuple[float, ...]):
        super().__init__()
        self.key = key


@dataclass
class _Pending:
    """A closed loop, built into a `pim_isa.loop` by `finish`."""

    count: int
    body: list[Operation]
    stage: int | None = None  # an image loop of the `batch` schedule
    order: tuple[float, ...] | None = None  # its place in an iteration (the element schedule)


def _build(ops: list[Operation]) -> list[Operation]:
    out: list[Operation] = []
    for op in ops:
        if isinstance(op, _Slot):
            out.extend(_build(op))
        elif isinstance(op, _Pending):
            body = _build(op.body)
            if body:
                out.append(isa.LoopOp(op.count, body))
        else:
            out.append(op)
    return out


def count_ops(ops: list[Operation]) -> int:
    """Instructions and loops in a list, nested bodies included."""
    n = 0
    for op in ops:
        n += 1
        if isinstance(op, isa.LoopOp):
            n += count_ops(list(op.body.block.ops))
    return n
