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
- `partition_cost` costs a partition for the replication (and the placement hint,
  pimdsl/placement_hint.py) its IR records: the report, the re-costing and the lowering
  (`partition-to-crossbar` places what the IR says) read it. A replication that does not fit
  is a PimError naming the partition, the layer and the most replicas that fit.

The request helpers (`parse_pairs`, `store_pairs`, `get_pairs`, `layer_index`,
`partition_ops`) serve the placement hint too.

A layer is named by its ONNX node name (`pim.node`, what reports print), its result's SSA
name, or its weight name. A layer cut by a partition boundary gets the replication in every
partition holding a piece of it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, TypeVar

from xdsl.dialects.builtin import (
    DictionaryAttr,
    FloatAttr,
    IntegerAttr,
    ModuleOp,
    f64,
    i64,
)
from xdsl.ir import Attribute

from pimdsl.dialects import nn
from pimdsl.dialects import partition as part
from pimdsl.errors import PimError

if TYPE_CHECKING:
    from pimdsl.cost.model import PartitionCost
    from pimdsl.partitioning import Analysis

REQUEST = "pim.replication"  # module attribute: {layer name = replicas} the user asked for
V = TypeVar("V")
A = TypeVar("A", bound=Attribute)


def parse_pairs(
    text: str, where: str, what: str, value: Callable[[str], V | None], form: str
) -> dict[str, V]:
    """`"conv1=X fc=Y"` (separated by spaces or commas) -> {"conv1": value("X"), ...}; a pair
    whose value is None is a PimError asking for `form` (what, and an example option)."""
    wanted: dict[str, V] = {}
    for item in (t for t in re.split(r"[\s,]+", text.strip()) if t):
        name, eq, v = item.rpartition("=")
        parsed = value(v) if eq and name else None
        if parsed is None:
            raise PimError(
                f"{where}: bad {what} '{item}' in \"{text}\".",
                hint=f"Give {form}. A layer is its ONNX node name, SSA name or weight name "
                "(`pim-opt -t summary` lists them).",
            )
        wanted[name] = parsed
    return wanted


def parse_request(text: str, where: str) -> dict[str, int]:
    """`"conv1=4 fc=2"` (separated by spaces or commas) -> {"conv1": 4, "fc": 2}."""
    return parse_pairs(
        text,
        where,
        "replication",
        lambda v: int(v) if re.fullmatch(r"[0-9]+", v) and int(v) >= 1 else None,
        "LAYER=REPLICAS pairs (REPLICAS >= 1) separated by spaces, the whole value in double "
        "quotes: --partition='replication=\"conv1=4 fc=2\"'",
    )


def store_pairs(module: ModuleOp, key: str, wanted: Mapping[str, Attribute]) -> None:
    """Keep `wanted` as the module's dictionary attribute `key`, merged with an earlier one."""
    old = module.attributes.get(key)
    merged = {**(old.data if isinstance(old, DictionaryAttr) else {}), **wanted}
    module.attributes[key] = DictionaryAttr(merged)


def get_pairs(module: ModuleOp, key: str, kind: type[A], example: str) -> dict[str, A]:
    """The module's dictionary attribute `key` ({} when absent), each value a `kind`."""
    attr = module.attributes.get(key)
    if attr is None:
        return {}
    if not isinstance(attr, DictionaryAttr) or not all(
        isinstance(v, kind) for v in attr.data.values()
    ):
        raise PimError(f"module attribute {key} must be a dictionary like {example}, got {attr}.")
    return dict(attr.data)  # type: ignore[arg-type]


def store_request(module: ModuleOp, wanted: Mapping[str, int]) -> None:
    """Keep `wanted` as the module's `pim.replication` (merged with an earlier request)."""
    store_pairs(module, REQUEST, {k: IntegerAttr(v, i64) for k, v in wanted.items()})


def get_request(module: ModuleOp) -> dict[str, int]:
    got = get_pairs(module, REQUEST, IntegerAttr, "{conv1 = 4 : i64}")
    return {k: v.value.data for k, v in got.items()}


def apply_requests(module: ModuleOp) -> None:
    """Apply the module's `pim.replication` to its partitions (after they were made)."""
    wanted = get_request(module)
    if wanted:
        set_replication(module, wanted)


def layer_index(a: Analysis, name: str, what: str = "replication") -> int:
    """The index of the weight layer called `name` (node, SSA or weight name); `what` names the
    request in the error."""
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
        f"{what}: the network has no weight layer '{name}'"
        + (f"; did you mean {', '.join(repr(c) for c in close)}?" if close else "."),
        hint="Name a layer by its ONNX node name, SSA name or weight name "
        "(`pim-opt FILE -t summary` lists the layers).",
    )


def set_replication(module: ModuleOp, wanted: Mapping[str, int]) -> None:
    """Give each named layer `wanted[name]` replicas in the partitions holding it, and store
    those partitions' costs for their new replication (partition-level IR)."""
    from pimdsl.partitioning import analyse

    parts = partition_ops(module, "replication", 'replication="LAYER=R"')
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


def partition_ops(module: ModuleOp, what: str, option: str) -> list[part.PartitionOp]:
    """The module's partitions; a PimError when it is not partition-level IR."""
    from pimdsl.partitioning import partitions

    parts = partitions(module)
    if not parts:
        raise PimError(
            f"{what} can only be set on partition-level IR, but @main has no "
            "partition.partition op.",
            hint=f"Run --partition (or --ga-group) first, or give --partition='{option}'.",
        )
    return parts


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
    hint: Mapping[int, Sequence[int]] | None = None,
) -> PartitionCost:
    """The cost of partition `p` for its span, the schedule, the replication and the placement
    hint its IR records, or `replication`, `schedule` (None: the one the module's policy picks)
    and `hint` ({layer: cores}, pimdsl.placement_hint). The cost model's own replication
    without a hint costs nothing extra. `asked`: the weight names of the layers whose
    replication the user just set (named if it does not fit)."""
    from pimdsl.cost.model import span_costs
    from pimdsl.placement_hint import hint_of, hinted_cost

    s, e = p.unit_span
    reps = tuple(part.ints(p.replication) if replication is None else replication)
    hint = hint_of(a, p) if hint is None else hint
    schedule = p.schedule_name if schedule == "" else schedule
    try:
        chosen = a.costs.partition(s, e, schedule)
    except ValueError as exc:
        raise PimError(
            f"partition {p.number}: {exc} on chip '{a.chip.name}'.",
            hint="Re-run --partition (or --ga-group) for this chip.",
        ) from None
    if chosen.replication == reps and not hint:
        return chosen
    check_fits(a, p.number, s, e, reps, asked, hint)
    if hint:
        return hinted_cost(a, s, e, reps, hint, schedule)
    costs = span_costs(a.network, a.units, a.chip, a.batch, a.schedule, replication={(s, e): reps})
    return costs.partition(s, e, schedule)


def check_fits(
    a: Analysis,
    number: int,
    s: int,
    e: int,
    reps: Sequence[int],
    asked: Sequence[str] = (),
    hint: Mapping[int, Sequence[int]] | None = None,
) -> None:
    """A PimError unless `reps` replicas of the layers of units [s, e) place on the chip (with
    the placement `hint`, checked by pimdsl.placement_hint); it names the most replicas that fit
    of the most replicated layer of `asked` (weight names), else of the partition."""
    from pimdsl.placement import place_partition
    from pimdsl.placement_hint import check_hint

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
    if hint:
        check_hint(a, number, s, e, replication, hint)
        return

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
