"""xDSL interpreter functions for the `partition` dialect (level 2).

A `partition.partition` runs its region on its entry values; the `nn` ops inside run with the
`nn` level's functions (registered alongside, see `pimdsl.sim.runner`). `partition.load` /
`partition.store` pass values through and count their DRAM bytes; `partition.unit_weights`
keeps the blocks of its units and zeroes the rest, so a layer cut by a boundary really computes
only its units' part in each partition. The weight bytes of each partition's units (what its
start reads from DRAM) are counted from the IR; this level has no crossbars, so the weights
themselves are read through `nn.weight` (the crossbar level models crossbar contents).

Options (`RunContext.options`): `stats` (dict, see `pimdsl.sim.run_stats`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from xdsl.interpreter import (
    Interpreter,
    InterpreterFunctions,
    PythonValues,
    ReturnedValues,
    TerminatorValue,
    impl,
    impl_terminator,
    register_impls,
)

from pimdsl.dialects import nn
from pimdsl.dialects import partition as part
from pimdsl.module_attrs import get_chip
from pimdsl.sim import run_stats

if TYPE_CHECKING:
    from pimdsl.sim.runner import RunContext


def unit_weights(
    w: np.ndarray, boxes: list[tuple[int, int, int, int]], out_axis: int
) -> np.ndarray:
    """`w` with only the [out, in] blocks `boxes` kept (zero elsewhere)."""
    out = np.zeros(w.shape, dtype=w.dtype)  # calloc: untouched pages cost nothing
    for o0, o1, i0, i1 in boxes:
        index: list[Any] = [slice(None)] * w.ndim
        index[out_axis] = slice(o0, o1)
        index[1 - out_axis] = slice(i0, i1)
        out[tuple(index)] = w[tuple(index)]
    return out


def partition_weight_elements(p: part.PartitionOp) -> int:
    """Weight values the partition's units hold (its layers' weights, pieces: their blocks)."""
    total = 0
    for op in p.body.block.ops:
        if not isinstance(op, nn.WEIGHT_LAYERS):
            continue
        w = op.operands[1]
        shape = nn.shape_of(w)
        if isinstance(w.owner, part.UnitWeightsOp):
            rest = math.prod(shape[2:])
            total += sum((o1 - o0) * (i1 - i0) * rest for o0, o1, i0, i1 in w.owner.box_list())
        else:
            total += math.prod(shape)
    return total


@register_impls
@dataclass
class PartitionFunctions(InterpreterFunctions):
    weight_bits: int = 32
    act_bits: int = 32
    stats: dict[str, float] = field(default_factory=dict)
    _weight_elements: dict[part.PartitionOp, int] = field(default_factory=dict)

    @classmethod
    def for_run(cls, context: RunContext) -> PartitionFunctions:
        """The factory `pimdsl.sim.runner.LEVELS` names for the `partition` dialect."""
        chip = get_chip(context.module, required=False)
        return cls(
            weight_bits=chip.weight_bits if chip else 32,
            act_bits=chip.act_bits if chip else 32,
            stats=run_stats.stats_dict(context.options),
        )

    @impl(part.PartitionOp)
    def run_partition(
        self, interpreter: Interpreter, op: part.PartitionOp, args: PythonValues
    ) -> PythonValues:
        if op not in self._weight_elements:
            self._weight_elements[op] = partition_weight_elements(op)
        run_stats.add(self.stats, "partitions_run", 1)
        run_stats.add_weight_traffic(self.stats, self._weight_elements[op] * self.weight_bits / 8)
        return interpreter.run_ssacfg_region(op.body, args, f"partition {op.number}")

    @impl_terminator(part.YieldOp)
    def run_yield(
        self, interpreter: Interpreter, op: part.YieldOp, args: PythonValues
    ) -> tuple[TerminatorValue, PythonValues]:
        return ReturnedValues(args), ()

    @impl(part.LoadOp)
    def run_load(
        self, interpreter: Interpreter, op: part.LoadOp, args: PythonValues
    ) -> PythonValues:
        run_stats.add_activation_traffic(self.stats, [args[0]], [], self.act_bits)
        return (args[0],)

    @impl(part.StoreOp)
    def run_store(
        self, interpreter: Interpreter, op: part.StoreOp, args: PythonValues
    ) -> PythonValues:
        run_stats.add_activation_traffic(self.stats, [], [args[0]], self.act_bits)
        return (args[0],)

    @impl(part.UnitWeightsOp)
    def run_unit_weights(
        self, interpreter: Interpreter, op: part.UnitWeightsOp, args: PythonValues
    ) -> PythonValues:
        return (unit_weights(args[0], op.box_list(), op.out_axis.value.data),)
