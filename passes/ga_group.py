"""`ga-group`: choose the partition boundaries with COMPASS's genetic algorithm.

    pim-opt --partition --ga-group model.mlir
    pim-opt --partition --ga-group='objective=edp seed=7 trace="ga.json" plot="ga.png"' model.mlir

(paths are quoted: xDSL's pass-option syntax takes a bare word or a quoted string)

The pass builds the span-cost table of the module (`pimdsl.partitioning.span_table_for_module`),
seeds the GA's population with the incoming grouping (the partitions `--partition` made, if any)
and the exact optimum of the additive objective(s), runs the GA (`pimdsl.grouping.ga.run_ga`) and
rewrites the module with the best group (`pimdsl.partitioning.apply_grouping`, strategy "ga").
With objective latency the result is therefore never worse than `--partition=strategy=optimal`;
the GA earns its keep on EDP, which is not a sum over partitions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from pimdsl.errors import PimError
from pimdsl.grouping.baselines import optimal
from pimdsl.grouping.ga import GAResult, plot_trace, run_ga
from pimdsl.grouping.problem import OBJECTIVES, SpanTable


def seed_groups(table: SpanTable, objective: str, incoming: list[int] | None) -> list[list[int]]:
    """The incoming grouping and the exact optimum of each additive objective the target needs."""
    groups = [incoming] if incoming is not None else []
    if objective in ("latency", "throughput"):
        groups.append(optimal(table, "latency"))
    elif objective == "energy":
        groups.append(optimal(table, "energy"))
    else:  # edp: both ends of the latency/energy trade-off
        groups += [optimal(table, "latency"), optimal(table, "energy")]
    return groups


@dataclass(frozen=True)
class GAGroupPass(ModulePass):
    """Partition grouping by COMPASS's GA (population, generations, keep: the paper's defaults)."""

    name: ClassVar[str] = "ga-group"

    population: int = 100
    generations: int = 30
    keep: int = 20
    seed: int = 0
    patience: int = 15
    objective: str = "latency"
    workers: int = 1
    trace: str = ""  # write the per-generation trace as JSON to this path
    plot: str = ""  # write a convergence plot (needs matplotlib) to this path

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if self.objective not in OBJECTIVES:
            raise PimError(f"ga-group: unknown objective '{self.objective}'.",
                           hint=f"Use --ga-group='objective=X' with X one of {', '.join(OBJECTIVES)}.")
        try:
            from pimdsl.partitioning import apply_grouping, incoming_grouping, span_table_for_module
        except ImportError as exc:  # pragma: no cover - the partitioning module is part of pimdsl
            raise PimError("ga-group: the partitioning engine is missing from this install.") from exc
        table = span_table_for_module(op)
        result = self.run(table, incoming_grouping(op))
        if self.trace:
            result.write_trace(self.trace)
        if self.plot:
            plot_trace(result, self.plot)
        apply_grouping(op, result.bounds, strategy="ga", objective=self.objective)

    def run(self, table: SpanTable, incoming: list[int] | None) -> GAResult:
        if incoming is not None:
            try:
                table.check_group(incoming)
            except ValueError:
                incoming = None  # stale grouping of another chip or batch: the GA starts without it
        return run_ga(
            table,
            population=self.population,
            generations=self.generations,
            keep=self.keep,
            seed=self.seed,
            patience=self.patience,
            objective=self.objective,
            workers=self.workers,
            initial=seed_groups(table, self.objective, incoming),
        )
