"""`lower-to-isa`: partition-level IR all the way to `pim_isa` programs, in one flag.

    pim-opt model.onnx --chip compass-s --batch 16 --partition --ga-group --lower-to-isa -o out.mlir

It runs `partition-to-crossbar` (tile placement, docs/lowering.md) and then `crossbar-to-isa`
(per-core instruction programs); the two stay separate passes for anyone who wants to look at or
change the crossbar level in between.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass


@dataclass(frozen=True)
class LowerToIsaPass(ModulePass):
    """partition-to-crossbar, then crossbar-to-isa."""

    name: ClassVar[str] = "lower-to-isa"

    elem_bytes: int = 2
    """Bytes of one activation / partial-sum element in local memory (crossbar-to-isa)."""

    schedule: str = "auto"
    """"layer", "batch" or "auto" (each partition as the partition pass costed it; crossbar-to-isa,
    docs/lowering.md)."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        from pimdsl.passes.crossbar_to_isa import CrossbarToIsaPass
        from pimdsl.passes.partition_to_crossbar import PartitionToCrossbarPass

        PartitionToCrossbarPass().apply(ctx, op)
        CrossbarToIsaPass(elem_bytes=self.elem_bytes, schedule=self.schedule).apply(ctx, op)
