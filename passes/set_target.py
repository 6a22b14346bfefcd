"""`set-target`: give the module a chip and a batch, and re-cost partition-level IR for them.

    pim-opt part.mlir -p 'set-target{chip="compass-l" batch=4}'
    pim-opt part.mlir --chip compass-l --batch 4      # pim-opt schedules the same pass first

`chip` (a preset name or a .toml/.json file) and `batch` set the module attributes `pim.chip`
and `pim.batch`; left out (empty, 0), the module's own are kept. The partitions of
partition-level IR carry costs computed for a chip and a batch: when either changes (or when
the pass is given neither, to re-cost hand-edited IR) the same grouping is costed again for the
module's chip and batch. Partitions that no longer fit the chip are an error asking for
`--partition`, unless `regroup=true` (a partitioning pass follows: pim-opt sets it when the
pipeline starts with `partition` or `ga-group`), which returns the IR to the nn level for it.
IR lowered below the partition level is placed for its chip: changing either there is an error.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import ClassVar

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from pimdsl.chip import Chip
from pimdsl.errors import PimError

_log = logging.getLogger("pimdsl.set_target")


def replaced_values(
    module: ModuleOp, chip: Chip | None, batch: int | None
) -> tuple[Chip | None, int | None]:
    """The module's chip and batch that `chip` and `batch` would replace by a different value
    (None: absent, unreadable, not asked for or the same)."""
    from pimdsl import module_attrs

    old_chip: Chip | None = None
    if chip is not None:
        try:
            old_chip = module_attrs.get_chip(module, required=False)
        except PimError:
            old_chip = None  # a broken attribute the new chip replaces anyway
    old_batch: int | None = None
    if batch is not None and module_attrs.BATCH in module.attributes:
        old_batch = module_attrs.get_batch(module)
    return (
        old_chip if old_chip != chip else None,
        old_batch if old_batch != batch else None,
    )


@dataclass(frozen=True)
class SetTargetPass(ModulePass):
    """Set the module's chip and batch; re-cost partition-level IR's partitions for them."""

    name: ClassVar[str] = "set-target"

    chip: str = ""
    """A chip preset or a .toml/.json chip file; empty: keep the module's."""
    batch: int = 0
    """The batch; 0: keep the module's."""
    regroup: bool = False
    """A partitioning pass follows: partitions that no longer fit go back to the nn level."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        from pimdsl import limits, module_attrs
        from pimdsl.chip import load_chip

        if self.batch < 0:
            raise PimError(f"set-target: batch must be a positive integer, got {self.batch}.")
        if self.batch:
            limits.check(self.batch, limits.BATCH, what="set-target batch")
        chip = load_chip(self.chip) if self.chip else None
        batch = self.batch or None
        old_chip, old_batch = replaced_values(op, chip, batch)
        changed = [
            *([f"chip '{chip.name}'"] if old_chip is not None and chip is not None else []),
            *([f"batch {batch}"] if old_batch is not None else []),
        ]
        if changed:
            _check_not_lowered(op, " and ".join(changed))
        if chip is not None:
            module_attrs.set_chip(op, chip)
        if batch is not None:
            module_attrs.set_batch(op, batch)
        if changed or (chip is None and batch is None):
            self._recost(op, old_chip, old_batch)

    def _recost(self, module: ModuleOp, old_chip: Chip | None, old_batch: int | None) -> None:
        """Cost the partitions of partition-level IR again for the module's chip and batch."""
        from pimdsl import module_attrs
        from pimdsl.partitioning import (
            OBJECTIVE,
            STRATEGY,
            apply_grouping,
            flatten,
            incoming_grouping,
        )

        bounds = incoming_grouping(module)
        if bounds is None:
            return  # nn level: nothing is costed yet
        labels = {
            key: getattr(module.attributes.get(key), "data", "unknown")
            for key in (STRATEGY, OBJECTIVE)
        }
        chip = module_attrs.get_chip(module)
        assert chip is not None
        batch = module_attrs.get_batch(module)
        try:
            apply_grouping(module, bounds, strategy=labels[STRATEGY], objective=labels[OBJECTIVE])
        except PimError as exc:
            if self.regroup:  # the next pass groups again: hand it the nn level
                flatten(module)
                return
            made_for = ", ".join(
                [
                    *([f"chip '{old_chip.name}'"] if old_chip is not None else []),
                    *([f"batch {old_batch}"] if old_batch is not None else []),
                ]
            )
            raise PimError(
                f"set-target: the {len(bounds) - 1} partitions"
                f"{f' were made for {made_for} and' if made_for else ''} are not legal on "
                f"chip '{chip.name}' ({exc}).",
                hint=f"Re-run the partitioning for the new chip: pim-opt FILE --chip "
                f"{self.chip or chip.name} --partition (or --ga-group).",
            ) from None
        if not self.regroup:
            _log.warning(
                f"note: the {len(bounds) - 1} partitions were costed again for chip "
                f"'{chip.name}', batch {batch} (same grouping; re-run --partition to regroup "
                "for them)."
            )


def _check_not_lowered(module: ModuleOp, change: str) -> None:
    lowered = next(
        (op.name for op in module.walk() if op.name.startswith(("crossbar.", "pim_isa."))), None
    )
    if lowered is not None:
        raise PimError(
            f"set-target: {change} cannot apply to IR lowered below the partition level (it "
            f"holds {lowered} ops placed for its chip and batch).",
            hint="Compile again from the .onnx or the nn/partition-level .mlir with the new "
            "--chip/--batch, then lower.",
        )
