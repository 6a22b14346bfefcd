"""`partition`: cut the network into partitions that fit the chip (nn level -> partition level).

    pim-opt model.onnx --chip compass-s --batch 16 --partition
    pim-opt model.mlir --partition='strategy=optimal objective=energy'

Strategies (COMPASS's baselines and the exact yardstick):
- `greedy`: each partition takes as many consecutive units as fit;
- `layerwise`: one weight layer per partition (a layer too large is split over several);
- `optimal`: the exact minimum of the objective by dynamic programming over the validity map.
  For `objective=edp`, which is not a sum over partitions, it takes whichever of the latency-
  and the energy-optimal groupings has the lower EDP (not exact: that is the GA's job).

The module needs a chip (`--chip`) and takes its batch from `pim.batch` (`--batch`, default 1).
`schedule=layer|batch|auto` is the lowering schedule the costs assume (docs/lowering.md,
"Schedules"); `auto` costs both and takes, per partition, the one predicted faster. It is kept
as `pim.schedule` (so `--ga-group` costs the same way) and each partition records its own in
its `schedule` property, which `crossbar-to-isa` emits. Default: the module's `pim.schedule`,
else auto.
`replication="conv1=4 fc=2"` gives those layers that many replicas instead of the cost
model's choice (kept as the module attribute `pim.replication`; pimdsl/replication.py,
docs/partitioning.md "Replication set by the user"); the grouping is chosen first.
`placement="conv1=0-3 fc=4+6"` puts those layers' tiles on those cores (kept as `pim.placement`;
pimdsl/placement_hint.py, docs/partitioning.md "Placement hint"), applied after the replication.
`unit_crossbars=N` plans units of at most N crossbars (0: a whole core); `auto` costs the
grouping with whole-core and half-core units and keeps the better for the objective (twice the
partitioning time). Either is kept in the module's chip (`unit_crossbars` field), so every later
pass plans the same units; empty (the default): as the chip says (docs/chips.md "Unit size").
Costs, replication and the DRAM transfers of every partition are in the IR (see
docs/partitioning.md); `--report` writes them out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from pimdsl.errors import PimError

STRATEGIES = ("greedy", "layerwise", "optimal")
PARTITION_OBJECTIVES = ("latency", "energy", "edp")


def choose_grouping(table: object, strategy: str, objective: str) -> list[int]:
    from pimdsl.grouping.baselines import greedy, layerwise, optimal
    from pimdsl.grouping.problem import SpanTable, group_fitness

    assert isinstance(table, SpanTable)
    if strategy == "greedy":
        return greedy(table)
    if strategy == "layerwise":
        return layerwise(table)
    if objective in ("latency", "energy"):
        return optimal(table, objective)
    candidates = [optimal(table, "latency"), optimal(table, "energy")]
    return min(candidates, key=lambda g: group_fitness(table, g, "edp"))


@dataclass(frozen=True)
class PartitionPass(ModulePass):
    """Group the units into partitions with a baseline strategy or the exact optimum."""

    name: ClassVar[str] = "partition"

    strategy: str = "greedy"
    objective: str = "latency"
    schedule: str = ""
    """layer, batch or auto; empty: the module's `pim.schedule`, else auto."""
    replication: str = ""
    """"LAYER=R ..." replicas of layers, instead of the cost model's (pimdsl.replication)."""
    placement: str = ""
    """"LAYER=CORES ..." the cores of layers' tiles, before first-fit (pimdsl.placement_hint)."""
    unit_crossbars: str | int = ""
    """N (0: a whole core) or auto; empty: the chip's `unit_crossbars`."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if self.strategy not in STRATEGIES:
            raise PimError(
                f"partition: unknown strategy '{self.strategy}'.",
                hint=f"Use --partition='strategy=X' with X one of {', '.join(STRATEGIES)} "
                "(the GA is the separate pass --ga-group).",
            )
        if self.objective not in PARTITION_OBJECTIVES:
            raise PimError(
                f"partition: unknown objective '{self.objective}'.",
                hint=f"Use --partition='objective=X' with X one of {', '.join(PARTITION_OBJECTIVES)}.",
            )
        from pimdsl.module_attrs import SCHEDULE_POLICIES, get_schedule, set_schedule

        if self.schedule and self.schedule not in SCHEDULE_POLICIES:
            raise PimError(
                f"partition: unknown schedule '{self.schedule}'.",
                hint=f"Use --partition='schedule=X' with X one of {', '.join(SCHEDULE_POLICIES)}.",
            )
        # kept in the IR, so that later passes (--ga-group, --report) cost the same way
        set_schedule(op, self.schedule or get_schedule(op))
        from pimdsl import placement_hint
        from pimdsl.partitioning import apply_grouping, span_table_for_module
        from pimdsl.replication import parse_request, store_request

        if self.replication:  # applied by apply_grouping to the grouping chosen
            store_request(op, parse_request(self.replication, "--partition='replication=...'"))
        if self.placement:  # so is the placement hint
            where = "--partition='placement=...'"
            placement_hint.store_request(op, placement_hint.parse_request(self.placement, where))

        self._set_unit_size(op)
        table = span_table_for_module(op)
        bounds = choose_grouping(table, self.strategy, self.objective)
        apply_grouping(op, bounds, strategy=self.strategy, objective=self.objective)

    def _set_unit_size(self, op: ModuleOp) -> None:
        """Write the requested unit size into the module's chip (`auto`: the better of a
        whole core and half a core for this strategy and objective)."""
        if self.unit_crossbars == "":
            return
        from dataclasses import replace

        from pimdsl.grouping.problem import group_fitness
        from pimdsl.module_attrs import get_chip, set_chip
        from pimdsl.partitioning import span_table_for_module

        chip = get_chip(op)
        assert chip is not None
        K = chip.crossbars_per_core
        if self.unit_crossbars == "auto":
            best: tuple[float, int] | None = None
            for size in dict.fromkeys((0, K // 2)):
                set_chip(op, replace(chip, unit_crossbars=size))
                table = span_table_for_module(op)
                bounds = choose_grouping(table, self.strategy, self.objective)
                fit = group_fitness(table, bounds, self.objective)  # type: ignore[arg-type]
                if best is None or fit < best[0]:
                    best = (fit, size)
            assert best is not None
            set_chip(op, replace(chip, unit_crossbars=best[1]))
            return
        try:
            size = int(self.unit_crossbars)
        except ValueError:
            size = -1
        if not 0 <= size <= K:
            raise PimError(
                f"partition: unit_crossbars must be auto or a whole number from 0 to {K} (the "
                f"crossbars of a core of '{chip.name}'), got '{self.unit_crossbars}'.",
                hint="Use --partition='unit_crossbars=auto', or 0 for units of a whole core.",
            )
        set_chip(op, replace(chip, unit_crossbars=size))
