"""`crossbar-to-isa`: crossbar-level IR -> per-core `pim_isa` programs (level 3 -> level 4).

    pim-opt model.onnx --chip compass-s --partition --partition-to-crossbar --crossbar-to-isa

One `pim_isa.partition` per `crossbar.partition`, one `pim_isa.core` per core it uses: weight
loads from DRAM and crossbar writes first, then the partition's layers in order, each in a loop
over the batch's images (activations streamed window by window between DRAM and local memory,
MVMs, partial sums sent to the block's home core, vector ops), with a per-image token from the
core that wrote a value to each other core that reads it. @main becomes `pim_isa.execute`. docs/lowering.md
describes the program; the work is in `pimdsl.isa`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from pimdsl.errors import PimError


@dataclass(frozen=True)
class CrossbarToIsaPass(ModulePass):
    """Lower every crossbar.partition of @main to a pim_isa program."""

    name: ClassVar[str] = "crossbar-to-isa"

    elem_bytes: int = 2
    """Bytes of one activation / partial-sum element in local memory."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        from pimdsl.isa.lower import lower_module

        if self.elem_bytes < 1:
            raise PimError(f"crossbar-to-isa: elem-bytes must be >= 1, got {self.elem_bytes}.")
        lower_module(op, self.elem_bytes)
