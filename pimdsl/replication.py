"""Replication set by the user: how many copies of a layer's weights a partition holds.

The partition pass chooses each layer's replication with the cost model (docs/cost-model.md,
A7) and records it in the partition ops' `replication` property. A user, or a pass, may set it
instead; the IR is then the truth everywhere:

- `set_replication(module, {layer: replicas})` sets it on partition-level IR, checks that the
  replicas fit (crossbars and cores of the module's chip, at most one replica per window) and
  recomputes the partition's stored costs (crossbars, core_crossbars, latency, energy, DRAM
  bytes) for it; under the `auto` schedule policy (the default) the partition's schedule is
  chosen again for the new replication, as `--partition` would. This is the API for passes (`set-replication`, docs/extending.md);
- `--partition='replication="conv1=4 fc=2"'` (and `--ga-group`) keep the request as the module
  attribute `pim.replication` and apply it to the grouping they choose (`apply_requests`), so
  it survives regrouping and re-costing for another `--chip`/`--batch`;
- `partition_cost` costs a partition for the replication its IR records: the report, the
  re-costing and the lowering (`partition-to-crossbar` places what the IR says) read it. A
  replication that does not fit is a PimError naming the partition, the layer and the most
  replicas that fit.

A layer is named by its ONNX node name (`pim.node`, what reports print), its result's SSA
name, or its weight name. A layer cut by a partition boundary gets the replication in every
partition holding a piece of it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from xdsl.dialects.builtin import (
    DictionaryAttr,
    FloatAttr,
    IntegerAttr,
    ModuleOp,
    f64,
    i64,
)

from pimdsl.dialects import nn
from pimdsl.dialects import partition as part
from pimdsl.errors import PimError

if TYPE_CHECKING:
    from pimdsl.cost.model import PartitionCost
    from pimdsl.partitioning import Analysis

REQUEST = "pim.replication"  # module attribute: {layer name = replicas} the user asked for
_ITEM = re.compile(r"^(?P<name>.+)=(?P<r>[0-9]+)$")


def parse_request(text: str, where: str) -> dict[str, int]:
    """`"conv1=4 fc=2"` (separated by spaces or commas) -> {"conv1": 4, "fc": 2}."""
    wanted: dict[str, int] = {}
    for item in (t for t in re.split(r"[\s,]+", text.strip()) if t):
        m = _ITEM.match(item)
        if m is None or int(m["r"]) < 1:
            raise PimError(
                f"{where}: bad replication '{item}' in \"{text}\".",
                hint="Give LAYER=REPLICAS pairs (REPLICAS >= 1) separated by spaces, the whole "
                "value in double quotes: --partition='replication=\"conv1=4 fc=2\"'. A layer is "
                "its ONNX node name, SSA name or weight name (`pim-opt -t summary` lists them).",
            )
        wanted[m["name"]] = int(m["r"])
    return wanted


def store_request(module: ModuleOp, wanted: Mapping[str, int]) -> None:
    """Keep `wanted` as the module's `pim.replication` (merged with an earlier request)."""
    merged = {**get_request(module), **wanted}
    module.attributes[REQUEST] = DictionaryAttr({k: IntegerAttr(v, i64) for k, v in merged.items()})


def get_request(module: ModuleOp) -> dict[str, int]:
    attr = module.attributes.get(REQUEST)
    if attr is None:
        return {}
    if not isinstance(attr, DictionaryAttr) or not all(
        isinstance(v, IntegerAttr) for v in attr.data.values()
    ):
        raise PimError(
            f"module attribute {REQUEST} must be a dictionary of integers "
            f"({{conv1 = 4 : i64}}), got {attr}."
        )
    return {k: v.value.data for k, v in attr.data.items()}  # type: ignore[attr-defined]


def apply_requests(module: ModuleOp) -> None:
    """Apply the module's `pim.replication` to its partitions (after they were made)."""
    wanted = get_request(module)
    if wanted:
        set_replication(module, wanted)


def layer_index(a: Analysis, name: str) -> int:
    """The index of the weight layer called `name` (node, SSA or weight name)."""
    names: list[str] = []
    for L in a.network.layers:
        own = [nn.layer_label(L.op), L.name]
        if L.op.results and L.op.results[0].name_hint:
            own.append(L.op.results[0].name_hint)
        if name in own:
            return L.index
        names.append(own[0])
    close = difflib.get_close_matches(name, names, n=3)
    raise PimError(
        f"replication: the network has no weight layer '{name}'"
        + (f"; did you mean {', '.join(repr(c) for c in close)}?" if close else "."),
        hint="Name a layer by its ONNX node name, SSA name or weight name "
        "(`pim-opt FILE -t summary` lists the layers).",
    )


def set_replication(module: ModuleOp, wanted: Mapping[str, int]) -> None:
    """Give each named layer `wanted[name]` replicas in the partitions holding it, and store
    those partitions' costs for their new replication (partition-level IR)."""
    from pimdsl.partitioning import analyse, partitions

    parts = partitions(module)
    if not parts:
        raise PimError(
            "replication can only be set on partition-level IR, but @main has no "
            "partition.partition op.",
            hint="Run --partition (or --ga-group) first, or give "
            "--partition='replication=\"LAYER=R\"'.",
        )
    a = analyse(module)
    by_layer = {a.network.layers[layer_index(a, name)].name: r for name, r in wanted.items()}
    costs: list[tuple[part.PartitionOp, PartitionCost]] = []
    for p in parts:  # all costed (and checked) before any is changed
        reps = list(part.ints(p.replication))
        new = [by_layer.get(n, r) for n, r in zip(p.layer_names, reps, strict=True)]
        if new != reps:
            asked = [n for n in p.layer_names if n in by_layer]
            # under the `auto` policy the schedule is the model's choice: made again for `new`
            schedule = None if a.schedule == "auto" else p.schedule_name
            costs.append((p, partition_cost(a, p, asked, replication=new, schedule=schedule)))
    for p, cost in costs:
        store_costs(p, cost)


def store_costs(p: part.PartitionOp, cost: PartitionCost) -> None:
    """Write `cost` into the partition op's cost properties."""
    p.properties["replication"] = part.i64_array(cost.replication)
    p.properties["crossbars"] = IntegerAttr(cost.crossbars, i64)
    p.properties["core_crossbars"] = part.i64_array(cost.core_crossbars)
    p.properties["weight_bytes"] = IntegerAttr(cost.weight_bytes, i64)
    p.properties["dram_bytes"] = IntegerAttr(int(round(cost.dram_bytes)), i64)
    p.properties["latency_s"] = FloatAttr(cost.latency_s, f64)
    p.properties["energy_j"] = FloatAttr(cost.energy_j, f64)
    p.properties["schedule"] = part.ScheduleAttr(part.Schedule(cost.schedule))


def partition_cost(
    a: Analysis,
    p: part.PartitionOp,
    asked: Sequence[str] = (),
    replication: Sequence[int] | None = None,
    schedule: str | None = "",
) -> PartitionCost:
    """The cost of partition `p` for its span, the schedule and the replication its IR records,
    or `replication` and `schedule` (None: the one the module's policy picks). The cost model's
    own replication costs nothing extra. `asked`: the weight names of the layers whose
    replication the user just set (named if it does not fit)."""
    from pimdsl.cost.model import span_costs

    s, e = p.unit_span
    reps = tuple(part.ints(p.replication) if replication is None else replication)
    schedule = p.schedule_name if schedule == "" else schedule
    try:
        chosen = a.costs.partition(s, e, schedule)
    except ValueError as exc:
        raise PimError(
            f"partition {p.number}: {exc} on chip '{a.chip.name}'.",
            hint="Re-run --partition (or --ga-group) for this chip.",
        ) from None
    if chosen.replication == reps:
        return chosen
    check_fits(a, p.number, s, e, reps, asked)
    costs = span_costs(a.network, a.units, a.chip, a.batch, a.schedule, replication={(s, e): reps})
    return costs.partition(s, e, schedule)


def check_fits(
    a: Analysis, number: int, s: int, e: int, reps: Sequence[int], asked: Sequence[str] = ()
) -> None:
    """A PimError unless `reps` replicas of the layers of units [s, e) place on the chip; it
    names the most replicas that fit of the most replicated layer of `asked` (weight names),
    else of the partition."""
    from pimdsl.placement import place_partition

    l0 = int(a.units.layer[s])
    layers = a.network.layers
    if len(reps) != int(a.units.layer[e - 1]) - l0 + 1:
        raise PimError(
            f"partition {number}: {len(reps)} replication counts for the "
            f"{int(a.units.layer[e - 1]) - l0 + 1} layers of units [{s}, {e}).",
            hint="Re-run --partition (or --ga-group) on the nn-level IR.",
        )
    replication = {l0 + j: int(r) for j, r in enumerate(reps)}
    for li, r in replication.items():
        if not 1 <= r <= layers[li].windows:
            raise PimError(
                f"partition {number}: layer '{nn.layer_label(layers[li].op)}' cannot have {r} "
                f"replicas: it has {layers[li].windows} window{'s' * (layers[li].windows != 1)} "
                "(MVMs per inference), and each replica computes at least one.",
                hint=f"Give it at most {layers[li].windows}.",
            )

    def fits(rep: dict[int, int]) -> bool:
        try:
            place_partition(a.units, layers, a.chip, s, e, rep)
        except ValueError:
            return False
        return True

    if fits(replication):
        return
    named = [li for li in replication if layers[li].name in asked] or list(replication)
    grown = max(named, key=lambda li: replication[li])
    lo, hi = 0, replication[grown]  # the most replicas of `grown` that fit with the others
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if fits({**replication, grown: mid}) else (lo, mid)
    names = ", ".join(f"{nn.layer_label(layers[li].op)}={r}" for li, r in replication.items())
    label = nn.layer_label(layers[grown].op)
    most = (
        f"with the others as they are, layer '{label}' fits at most {lo} replicas"
        if lo
        else f"with the others as they are, not even one replica of layer '{label}' fits"
    )
    raise PimError(
        f"partition {number}: replication {names} does not fit chip '{a.chip.name}' "
        f"({a.chip.cores} cores x {a.chip.crossbars_per_core} crossbars, units placed first-fit "
        f"decreasing): {most}.",
        hint="Ask for fewer replicas, or cut the network into smaller partitions.",
    )
