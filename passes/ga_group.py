"""`ga-group`: choose the partition boundaries with COMPASS's genetic algorithm.

    pim-opt --partition --ga-group model.mlir
    pim-opt --partition --ga-group='objective=edp seed=7 trace="ga.json" plot="ga.png"' model.mlir

(paths are quoted: xDSL's pass-option syntax takes a bare word or a quoted string)

Options (COMPASS's defaults): population=100 generations=30 keep=20 seed=0 patience=15
objective=latency|throughput|energy|edp workers=1 trace="" (a .json file) plot="" (a .png, .pdf
or .svg file) seed_optimum=true. Bad values and unwritable trace/plot paths are reported before
anything runs.

The pass builds the span-cost table of the module (`pimdsl.partitioning.span_table_for_module`),
seeds the GA's population with the incoming grouping (the partitions `--partition` made, if any)
and, unless `seed_optimum=false`, the exact optimum of the additive objective(s); runs the GA
(`pimdsl.grouping.ga.run_ga`) and rewrites the module with the best group
(`pimdsl.partitioning.apply_grouping`, strategy "ga"). With the optimum seeded and objective
latency the result is never worse than `--partition=strategy=optimal` (and the seed rarely
matters); the GA earns its keep on EDP, which is not a sum over partitions. `seed_optimum=false`
runs the GA on its own (from the incoming grouping, if any, and random groups), to study its
search: then `seed` changes the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.util import find_spec
from typing import ClassVar

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from pimdsl.errors import PimError
from pimdsl.grouping.baselines import optimal
from pimdsl.grouping.ga import (
    PLOT_SUFFIXES,
    TRACE_SUFFIXES,
    GAResult,
    check_output_path,
    plot_trace,
    run_ga,
    validate_options,
)
from pimdsl.grouping.problem import OBJECTIVES, SpanTable


def seed_groups(
    table: SpanTable, objective: str, incoming: list[int] | None, optimum: bool = True
) -> list[list[int]]:
    """The incoming grouping and (when `optimum`) the exact optimum of each additive objective
    the target needs."""
    groups = [incoming] if incoming is not None else []
    if not optimum:
        return groups
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
    seed_optimum: bool = True  # put the exact optimum in the first population

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        if self.objective not in OBJECTIVES:
            raise PimError(
                f"ga-group: unknown objective '{self.objective}'.",
                hint=f"Use --ga-group='objective=X' with X one of {', '.join(OBJECTIVES)}.",
            )
        self.check_options()
        try:
            from pimdsl.partitioning import apply_grouping, incoming_grouping, span_table_for_module
        except ImportError as exc:  # pragma: no cover - the partitioning module is part of pimdsl
            raise PimError(
                "ga-group: the partitioning engine is missing from this install."
            ) from exc
        table = span_table_for_module(op)
        result = self.run(table, incoming_grouping(op))
        if self.trace:
            result.write_trace(self.trace)
        if self.plot:
            plot_trace(result, self.plot)
        apply_grouping(op, result.bounds, strategy="ga", objective=self.objective)

    def check_options(self) -> None:
        """PimError for bad settings or output paths, before the (possibly long) run."""
        validate_options(
            population=self.population,
            generations=self.generations,
            keep=self.keep,
            seed=self.seed,
            patience=self.patience,
            objective=self.objective,
            workers=self.workers,
        )
        if not isinstance(self.seed_optimum, bool):
            raise PimError(
                f"ga-group: seed_optimum must be true or false, got {self.seed_optimum!r}."
            )
        if self.trace:
            check_output_path(self.trace, "trace", TRACE_SUFFIXES)
        if self.plot:
            check_output_path(self.plot, "plot", PLOT_SUFFIXES)
            if find_spec("matplotlib") is None:
                raise PimError(
                    "ga-group: plot= needs matplotlib, which is not installed.",
                    hint="Install it with `pip install 'pimdsl[plot]'` or drop the plot option.",
                )

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
            initial=seed_groups(table, self.objective, incoming, optimum=self.seed_optimum),
        )
