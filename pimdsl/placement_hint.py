"""Placement hint set by the user: which cores a layer's tiles (all its replicas) go to.

The lowering places a partition's unit replicas first-fit decreasing over the cores
(pimdsl/placement.py). A user, or a pass, may say where a layer goes instead; the IR is then the
truth everywhere, as for replication (pimdsl/replication.py, whose helpers this module shares):

- `set_placement(module, {layer: cores})` sets it on partition-level IR, in the partition ops'
  optional `placement` property (one core list per layer, empty: no hint), checks that it fits
  (the cores exist, the layer's replicas fit on them, the other layers in the room left) and
  stores the partition's costs recomputed for it (core_crossbars, latency, energy); under the
  `auto` schedule policy the partition's schedule is chosen again. This is the API for passes
  (`set-placement`);
- `--partition='placement="conv1=0-3 fc=4+6"'` (and `--ga-group`) keep the request as the module
  attribute `pim.placement` and apply it to the grouping they choose (`apply_requests`), after
  the replication request;
- `pimdsl.replication.partition_cost` costs a partition for the hint its IR records
  (`hinted_cost`): the report, the re-costing and `partition-to-crossbar` (which places the
  hinted layers on their cores first, `pimdsl.placement.hinted_pack`) read it, and the
  simulator runs what that lowering makes. A hint that does not fit is a PimError naming the
  partition, the layer and how many of its replicas fit on its cores (`check_hint`).

Cores are given as `A` or `A-B`, joined by `+` (`0-3+8`). A layer cut by a partition boundary
gets the hint in every partition holding a piece of it.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
from xdsl.dialects.builtin import ArrayAttr, DenseArrayBase, ModuleOp

from pimdsl.dialects import nn
from pimdsl.dialects import partition as part
from pimdsl.errors import PimError
from pimdsl.replication import (
    get_pairs,
    layer_index,
    parse_pairs,
    partition_cost,
    partition_ops,
    store_costs,
    store_pairs,
)

if TYPE_CHECKING:
    from pimdsl.cost.model import PartitionCost
    from pimdsl.partitioning import Analysis

REQUEST = "pim.placement"  # module attribute: {layer name = array<i64: cores>} the user asked for
_RANGE = re.compile(r"^([0-9]+)(?:-([0-9]+))?$")


def parse_cores(text: str) -> tuple[int, ...] | None:
    """`"0-3+8"` -> (0, 1, 2, 3, 8); None when it is not such a list."""
    cores: set[int] = set()
    for item in text.split("+"):
        m = _RANGE.match(item)
        if m is None or int(m[2] or m[1]) < int(m[1]):
            return None
        cores.update(range(int(m[1]), int(m[2] or m[1]) + 1))
    return tuple(sorted(cores))


def cores_text(cores: Sequence[int]) -> str:
    """(0, 1, 2, 3, 8) -> `"0-3+8"` (the option's syntax)."""
    runs: list[list[int]] = []
    for c in sorted(cores):
        if runs and c == runs[-1][1] + 1:
            runs[-1][1] = c
        else:
            runs.append([c, c])
    return "+".join(f"{a}" if a == b else f"{a}-{b}" for a, b in runs)


def _on(cores: Sequence[int]) -> str:
    """ "core 3" / "cores 0-3" for messages."""
    return f"core{'s' * (len(cores) != 1)} {cores_text(cores) or '(none)'}"


def parse_request(text: str, where: str) -> dict[str, tuple[int, ...]]:
    """`"conv1=0-3 fc=4+6"` (separated by spaces or commas) -> {"conv1": (0, 1, 2, 3), ...}."""
    return parse_pairs(
        text,
        where,
        "placement hint",
        parse_cores,
        "LAYER=CORES pairs separated by spaces or commas, CORES as A or A-B joined by +, the "
        "whole value in double quotes: --partition='placement=\"conv1=0-3 fc=4+6\"'",
    )


def store_request(module: ModuleOp, wanted: Mapping[str, Sequence[int]]) -> None:
    """Keep `wanted` as the module's `pim.placement` (merged with an earlier request)."""
    store_pairs(module, REQUEST, {k: part.i64_array(v) for k, v in wanted.items()})


def get_request(module: ModuleOp) -> dict[str, tuple[int, ...]]:
    got = get_pairs(module, REQUEST, DenseArrayBase, "{conv1 = array<i64: 0, 1>}")
    return {k: part.ints(v) for k, v in got.items()}


def apply_requests(module: ModuleOp) -> None:
    """Apply the module's `pim.placement` to its partitions (after they were made)."""
    wanted = get_request(module)
    if wanted:
        set_placement(module, wanted)


def hint_of(a: Analysis, p: part.PartitionOp) -> dict[int, tuple[int, ...]]:
    """The hint partition `p` records: {layer index: cores}, hinted layers only."""
    l0 = int(a.units.layer[p.unit_span[0]])
    return {l0 + j: cores for j, cores in enumerate(p.layer_hints) if cores}


def set_placement(module: ModuleOp, wanted: Mapping[str, Sequence[int]]) -> None:
    """Put each named layer's tiles on the cores `wanted[name]` in the partitions holding it,
    and store those partitions' costs for the new placement (partition-level IR)."""
    from pimdsl.partitioning import analyse

    parts = partition_ops(module, "a placement hint", 'placement=\\"LAYER=CORES\\"')
    a = analyse(module)
    by_layer = {
        a.network.layers[layer_index(a, name, "placement")].name: tuple(sorted(set(cores)))
        for name, cores in wanted.items()
    }
    changes: list[tuple[part.PartitionOp, list[tuple[int, ...]], PartitionCost]] = []
    for p in parts:  # all costed (and checked) before any is changed
        old = p.layer_hints
        new = [by_layer.get(n, h) for n, h in zip(p.layer_names, old, strict=True)]
        if new != old:
            l0 = int(a.units.layer[p.unit_span[0]])
            hint = {l0 + j: cores for j, cores in enumerate(new) if cores}
            schedule = None if a.schedule == "auto" else p.schedule_name
            changes.append((p, new, partition_cost(a, p, hint=hint, schedule=schedule)))
    for p, new, cost in changes:
        store_costs(p, cost)
        p.properties["placement"] = ArrayAttr([part.i64_array(c) for c in new])


def hinted_cost(
    a: Analysis,
    s: int,
    e: int,
    reps: Sequence[int],
    hint: Mapping[int, Sequence[int]],
    schedule: str | None,
) -> PartitionCost:
    """The cost of units [s, e) at `reps` replicas placed with `hint` (checked to fit): the
    cores holding each layer and the crossbars per core are the hinted placement's."""
    from pimdsl.cost.model import span_costs
    from pimdsl.placement import place_partition

    l0 = int(a.units.layer[s])
    replication = {l0 + j: int(r) for j, r in enumerate(reps)}
    tiles, per_core = place_partition(a.units, a.network.layers, a.chip, s, e, replication, hint)
    held = np.zeros((len(reps), a.chip.cores), dtype=bool)
    for t in tiles:
        held[t.layer - l0, t.core] = True
    costs = span_costs(
        a.network,
        a.units,
        a.chip,
        a.batch,
        a.schedule,
        replication={(s, e): tuple(reps)},
        on_core_of={(s, e): held},
    )
    return dataclasses.replace(costs.partition(s, e, schedule), core_crossbars=tuple(per_core))


def check_hint(
    a: Analysis,
    number: int,
    s: int,
    e: int,
    replication: Mapping[int, int],
    hint: Mapping[int, Sequence[int]],
) -> None:
    """A PimError unless units [s, e) at `replication` place with `hint`: it names the layer
    whose cores do not exist or do not hold its replicas, and how many of them fit there."""
    from pimdsl.placement import Unplaced, place_partition

    chip, layers = a.chip, a.network.layers
    label = {li: nn.layer_label(layers[li].op) for li in replication}
    asked = " ".join(f"{label[li]}={cores_text(c)}" for li, c in sorted(hint.items()))
    for li, cores in sorted(hint.items()):
        if not cores or min(cores) < 0 or max(cores) >= chip.cores:
            raise PimError(
                f"partition {number}: the placement hint puts layer '{label[li]}' on "
                f"{_on(cores)}, but chip '{chip.name}' has cores "
                f"0-{chip.cores - 1}.",
                hint=f"Give that layer cores between 0 and {chip.cores - 1}.",
            )

    def place(rep: Mapping[int, int]) -> list[int]:
        """Crossbars per core with only the layers of `rep` (the others' replicas: 0)."""
        return place_partition(
            a.units, layers, chip, s, e, {**dict.fromkeys(replication, 0), **rep}, hint
        )[1]

    try:
        place(replication)
        return
    except Unplaced as exc:
        bad = exc.layer
    where = f"chip '{chip.name}' ({chip.cores} cores x {chip.crossbars_per_core} crossbars)"
    if bad is None:
        raise PimError(
            f"partition {number}: with the placement hint {asked}, the other layers' replicas do "
            f"not fit the room the hinted layers leave on {where}, placed first-fit decreasing.",
            hint="Hint fewer cores or fewer replicas (replication=...) for the hinted layers, "
            "or cut the network into smaller partitions.",
        )
    before = {li: replication[li] for li in hint if li < bad}
    used = place(before)
    cores = hint[bad]
    room = sum(chip.crossbars_per_core - (used[c] if c < len(used) else 0) for c in cores)
    lo, hi = 0, replication[bad]  # the most replicas of `bad` that fit on its cores
    while hi - lo > 1:
        mid = (lo + hi) // 2
        try:
            place({**before, bad: mid})
            lo = mid
        except Unplaced:
            hi = mid
    first, end = max(s, int(a.units.first[bad])), min(e, int(a.units.end[bad]))
    unit_xbars = [int(c) for c in a.units.crossbars[first:end]]
    need = sum(unit_xbars) * replication[bad]
    r = replication[bad]
    fits = f"at most {lo} replica{'s' * (lo != 1)} fit there" if lo else "not even one fits there"
    raise PimError(
        f"partition {number}: the placement hint puts layer '{label[bad]}' on "
        f"{_on(cores)} of {where}, but its {r} replica{'s' * (r != 1)} need{'s' * (r == 1)} {need} "
        f"crossbars (units of up to {max(unit_xbars)}, each within one core) and those cores "
        f"have {room} free{' after the layers hinted before it' if before else ''}: {fits}.",
        hint=f"Give '{label[bad]}' more cores"
        + (f', or fewer replicas (replication="{label[bad]}={lo}")' if lo else "")
        + "; the partition's replication is the cost model's choice unless the user set it.",
    )
