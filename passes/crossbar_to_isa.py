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

    schedule: str = "auto"
    """"layer": a core runs each of its steps over the whole batch, then the next; "batch": a
    core's steps are stages of a software pipeline over the images (docs/lowering.md); "auto":
    each partition the schedule its `schedule` property names, the one the partition pass
    costed (`--partition='schedule=auto'` picks the faster; absent: layer)."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        from pimdsl.isa.lower import lower_module

        if self.elem_bytes < 1:
            raise PimError(f"crossbar-to-isa: elem-bytes must be >= 1, got {self.elem_bytes}.")
        check_constant_operands(op)
        lower_module(op, self.elem_bytes, self.schedule)


def check_constant_operands(module: ModuleOp) -> None:
    """The per-core programs read tensors from local memory or the weight file; a non-zero
    `nn.constant` feeding a vector op (a Gemm's alpha/beta scale, a Mul/Add by a constant) has
    no place there yet: a clear error naming the op, not an internal one later."""
    import numpy as np
    from xdsl.dialects.builtin import DenseIntOrFPElementsAttr

    from pimdsl.dialects import crossbar as xb
    from pimdsl.dialects import nn

    for const in module.walk():
        if not isinstance(const, nn.ConstantOp):
            continue
        value = const.properties.get("value")
        if isinstance(value, DenseIntOrFPElementsAttr) and not np.any(
            np.asarray(value.get_values())
        ):
            continue  # zeros are folded by the lowering
        for use in const.results[0].uses:
            reader = use.operation
            if reader.name.startswith(("crossbar.", "partition.")) and not isinstance(
                reader, xb.PartitionOp
            ):
                continue
            name = const.results[0].name_hint or "a constant"
            raise PimError(
                f"crossbar-to-isa: '{reader.name}' ({reader.results[0].name_hint or 'unnamed'}) uses "
                f"the non-zero constant '{name}' as an operand; the per-core programs cannot hold "
                "constant tensors yet (a Gemm with alpha or beta != 1 imports this way).",
                hint="Run this IR at the nn, partition or crossbar level with pim-run, or export the "
                "model with the scale folded into the weights (Gemm alpha = beta = 1).",
            )
