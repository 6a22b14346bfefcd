"""One group of sweep points on a worker: its span table, each point's grouping and costs, and
the optional lowering and simulation.

The groupings are the passes' own: `passes.partition.choose_grouping` for greedy, layerwise and
optimal (what `pim-opt --partition='strategy=X objective=Y'` picks) and `GAGroupPass.run`
seeded with the greedy grouping for ga (what `pim-opt --partition --ga-group='...'` picks).
The costs are the partition report's: per partition `SpanCosts.partition`, totals summed the
same way (`pimdsl.report.report_data`), so a row's throughput equals the report's.

A user error on a point (a network that does not fit the chip, a lowering limit) becomes the
row's `error` text and the point counts as finished; anything else is a bug and propagates.
Rows hold no times; `GroupResult.seconds` does (the runners log it apart from the table).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pimdsl.dse.points import Group, Point
from pimdsl.errors import PimError

if TYPE_CHECKING:
    from xdsl.dialects.builtin import ModuleOp

    from pimdsl.cost.model import SpanCosts
    from pimdsl.grouping.problem import SpanTable

# a Dask worker may run tasks on several threads; the network memo and the xDSL modules are
# not thread-safe, and the GIL leaves nothing to gain from threads here
_LOCK = threading.Lock()
_NETWORKS: dict[str, ModuleOp] = {}  # per process: the imported nn module of each model


@dataclass
class GroupResult:
    rows: list[dict[str, Any]]
    seconds: float  # wall time of the whole group on its worker
    table_seconds: float  # of which getting the span table
    cache_hit: bool


def _network(group: Group) -> ModuleOp:
    model = group.model
    ident = model.zoo or model.path or ""
    if ident not in _NETWORKS:
        from pimdsl.frontend import import_onnx

        if model.zoo is not None:
            from pimdsl.tools.opt_driver import cached_model

            path = cached_model(model.zoo)
        else:
            assert model.path is not None
            path = Path(model.path)
        _NETWORKS[ident] = import_onnx(path)
    return _NETWORKS[ident]


def _module_for(group: Group) -> ModuleOp:
    """The nn module of the group's network with its chip, batch and schedule set."""
    from pimdsl.chip import from_dict
    from pimdsl.module_attrs import set_batch, set_chip, set_schedule

    module = _network(group)
    set_chip(module, from_dict(group.chip, source=f"chip '{group.chip['name']}'"))
    set_batch(module, group.batch)
    set_schedule(module, group.schedule)
    return module


def grouping(table: SpanTable, point: Point, group: Group) -> list[int]:
    """The partition boundaries the point's strategy picks."""
    from pimdsl.passes.partition import choose_grouping

    if point.strategy != "ga":
        return choose_grouping(table, point.strategy, point.objective or "latency")
    from pimdsl.grouping.baselines import greedy
    from pimdsl.passes.ga_group import GAGroupPass

    assert point.seed is not None
    ga = GAGroupPass(objective=point.objective, seed=point.seed, **group.ga.as_dict())
    return ga.run(table, greedy(table)).bounds


def partition_rows(costs: SpanCosts, bounds: list[int]) -> list[dict[str, Any]]:
    """Per partition: span, schedule, crossbars, bytes, latency and energy of one batch."""
    rows = []
    for s, e in zip(bounds[:-1], bounds[1:], strict=True):
        c = costs.partition(s, e)
        rows.append(
            {
                "span": [s, e],
                "schedule": c.schedule,
                "crossbars": c.crossbars,
                "weight_bytes": c.weight_bytes,
                "dram_bytes": int(round(c.dram_bytes)),
                "latency_s": c.latency_s,
                "energy_j": c.energy_j,
            }
        )
    return rows


def totals(parts: list[dict[str, Any]], batch: int) -> dict[str, Any]:
    """The report's totals (`report_data`): energy and EDP per inference, latency per batch."""
    latency = sum(p["latency_s"] for p in parts)
    energy = sum(p["energy_j"] for p in parts) / batch
    return {
        "partitions": len(parts),
        "latency_s": latency,
        "throughput_ips": batch / latency,
        "energy_j": energy,
        "edp": energy * latency / batch,
        "weight_bytes": sum(p["weight_bytes"] for p in parts),
        "dram_bytes": sum(p["dram_bytes"] for p in parts),
    }


def _lower_and_simulate(group: Group, point: Point, bounds: list[int]) -> dict[str, Any]:
    from pimdsl.dialects import context
    from pimdsl.partitioning import apply_grouping
    from pimdsl.passes.lower_to_isa import LowerToIsaPass

    module = _module_for(group).clone()
    apply_grouping(module, bounds, strategy=point.strategy, objective=point.objective or "latency")
    LowerToIsaPass().apply(context(), module)
    out: dict[str, Any] = {"isa_ops": sum(1 for _ in module.walk())}
    if "simulate" in group.stages:
        from pimdsl.sim.timing import simulate_module

        sim = simulate_module(module).to_json()
        out.update(
            sim_latency_s=sim["latency_s"],
            sim_throughput_ips=sim["throughput_ips"],
            sim_energy_j=sim["energy_j"],
        )
    return out


def _row(
    group: Group, point: Point, units: int | None, values: dict[str, Any], error: str = ""
) -> dict[str, Any]:
    chip = group.chip
    return {
        "key": point.key,
        "model": point.model,
        "chip": point.chip,
        "batch": point.batch,
        "strategy": point.strategy,
        "objective": point.objective,
        "seed": point.seed,
        "schedule": group.schedule,
        "units": units,
        "chip_cores": chip["cores"],
        "chip_crossbars": chip["cores"] * chip["crossbars_per_core"],
        "chip_capacity_bytes": chip["cores"]
        * chip["crossbars_per_core"]
        * chip["crossbar_rows"]
        * chip["crossbar_cols"]
        * chip["cell_bits"]
        // 8,
        **values,
        "error": error,
    }


def run_group(group: Group, cache: str | None) -> GroupResult:
    """Evaluate every point of `group`; `cache` is the span-table folder (None: none)."""
    from pimdsl import progress
    from pimdsl.dse.tables import span_costs_of

    t0 = time.perf_counter()
    with _LOCK, progress.quiet():  # a worker's steps report through the sweep's progress
        try:
            costs, hit = span_costs_of(_module_for(group), Path(cache) if cache else None)
        except PimError as exc:
            rows = [_row(group, p, None, {}, error=str(exc)) for p in group.points]
            return GroupResult(rows, time.perf_counter() - t0, time.perf_counter() - t0, False)
        t_table = time.perf_counter() - t0
        table = costs.table()
        rows = []
        for point in group.points:
            try:
                bounds = grouping(table, point, group)
                parts = partition_rows(costs, bounds)
                values = {
                    **totals(parts, group.batch),
                    "bounds": " ".join(map(str, bounds)),
                    "partition_costs": parts,
                }
                if "lower" in group.stages:
                    values.update(_lower_and_simulate(group, point, bounds))
                rows.append(_row(group, point, table.n_units, values))
            except PimError as exc:
                rows.append(_row(group, point, table.n_units, {}, error=str(exc)))
    return GroupResult(rows, time.perf_counter() - t0, t_table, hit)
