"""`pim-units`: annotate the units and the validity map on nn-level IR (for tests and readers).

Every weight layer gets `pim.layer` (its index), `pim.units = array<i64: first, end>` (its
units in topological order) and `pim.unit_crossbars` (crossbars of each unit); the module gets
`pim.n_units` and `pim.validity` (for each start unit the furthest legal exclusive end). The IR
stays at the nn level; `--partition` does not need this pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass


@dataclass(frozen=True)
class UnitsPass(ModulePass):
    """Cut weight layers into units for the module's chip and record the validity map."""

    name: ClassVar[str] = "pim-units"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        from pimdsl.partitioning import annotate_units

        annotate_units(op)
