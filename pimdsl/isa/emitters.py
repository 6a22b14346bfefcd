"""The registry of op lowerings: op class -> emitter, the idiom of the frontend's converters
(`pimdsl.frontend.context.converter`).

An emitter lowers one op of a crossbar partition's body: `emit(state, op)` with the partition
being lowered (`pimdsl.isa.state.PartitionState`). Crossbar ops (im2col, mvm, accumulate,
concat, bias, col2im) register with `emitter`; they build a weight layer's output blocks
(`lower_weight.py`). Vector ops register with `vector_emitter`: the state first does what
every vector step needs (stores the crossbar results it reads, fusing the op into the layer
when it can, picks its core) and then calls `emit(state, step)` with a `VectorTask`. The
families: lower_weight.py, lower_pool.py, lower_elementwise.py, lower_layout.py; importing
`pimdsl.isa.state` registers them all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from xdsl.dialects.builtin import TensorType
from xdsl.ir import Operation, SSAValue

from pimdsl.isa.placement import Place

if TYPE_CHECKING:
    from pimdsl.isa.state import PartitionState


@dataclass(frozen=True)
class VectorTask:
    """A vector op about to be lowered: its activation inputs' places (weights excluded), the
    core chosen for it, `what` (op and core, for errors) and `hint` (its buffer's name)."""

    op: Operation
    ins: list[Place]
    core: int
    what: str
    hint: str


Emitter = Callable[["PartitionState", Operation], None]
VectorEmitter = Callable[["PartitionState", VectorTask], None]

EMITTERS: dict[type[Operation], Emitter] = {}


def emitter(*ops: type[Operation]) -> Callable[[Emitter], Emitter]:
    """Register `fn` as the lowering of the ops of these classes."""

    def register(fn: Emitter) -> Emitter:
        for op in ops:
            EMITTERS[op] = fn
        return fn

    return register


def vector_emitter(*ops: type[Operation]) -> Callable[[VectorEmitter], VectorEmitter]:
    """Register `fn` as the lowering of these vector ops (called after `PartitionState.vector`'s
    common part)."""

    def register(fn: VectorEmitter) -> VectorEmitter:
        def emit(state: PartitionState, op: Operation) -> None:
            state.vector(op, fn)

        for op in ops:
            EMITTERS[op] = emit
        return fn

    return register


def shape(v: SSAValue) -> tuple[int, ...]:
    t = v.type
    assert isinstance(t, TensorType)
    return tuple(t.get_shape())


def where(op: Operation) -> str:
    name = getattr(op, "name", "op")
    res = op.results[0].name_hint if op.results and op.results[0].name_hint else None
    return f"'{name}'" + (f" (%{res})" if res else "")
