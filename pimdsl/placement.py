"""Placement: the weight tiles of a partition's units, on (core, crossbar), for every replica.

A unit (pimdsl/units.py) occupies `units.crossbars[u]` crossbars of one core. Here each of them
gets its *tile*: a block of the layer's weight matrix (rows = Cin/groups*kh*kw in (i, ky, kx)
order, cols = output channels; see `pimdsl.dialects.crossbar.weight_matrix`):

- dense unit: its row range [in_lo*kh*kw, in_hi*kh*kw) of its group's matrix, cut into row
  tiles of `crossbar_rows` rows, times its output channels cut into column chunks of
  `weights_per_crossbar_row` channels (one tile per row tile x column chunk);
- packed-group unit (grouped/depthwise conv whose group matrix fits a crossbar): chunks of
  `k = min(X // rows, P // cols_per_group)` groups, one block-diagonal tile per chunk
  (`groups = k`).

Cores come from first-fit decreasing over the unit replicas, in the same item order as the
cost model (`SpanCosts.partition`): per layer of the partition, its units, repeated once per
replica. So the crossbars per core equal the partition's recorded `core_crossbars`. Within a
core, items take consecutive crossbars in item order.

A placement hint (`hint = {layer: cores}`, pimdsl/placement_hint.py) places the hinted layers
first, in layer order, each its items first-fit decreasing over its own cores; the other layers'
items then go first-fit decreasing over the room left on every core.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from pimdsl.chip import Chip
from pimdsl.network import Layer
from pimdsl.units import Units, ffd_pack


@dataclass(frozen=True)
class TileBlock:
    """One crossbar's block of a layer's weight matrix and where its inputs come from."""

    rows: tuple[int, int]  # rows of one group's matrix
    cols: tuple[int, int]  # output channels (absolute)
    groups: int  # > 1: block-diagonal, `groups` groups side by side
    in_rows: tuple[int, int]  # columns of the MVM input (im2col columns, or input features)


@dataclass(frozen=True)
class PlacedTile:
    layer: int
    unit: int
    replica: int
    core: int
    xbar: int
    block: TileBlock


def packed_groups(layer: Layer, chip: Chip) -> int:
    """Groups sharing one crossbar block-diagonally (0: the layer is not packed)."""
    X, P = chip.crossbar_rows, chip.weights_per_crossbar_row
    if layer.groups > 1 and layer.rows <= X and layer.cols_per_group <= P:
        return min(X // layer.rows, P // layer.cols_per_group)
    return 0


def unit_blocks(units: Units, u: int, layer: Layer, chip: Chip) -> list[TileBlock]:
    """The tiles of unit `u` of `layer`, one per crossbar, column chunk by column chunk."""
    X, P = chip.crossbar_rows, chip.weights_per_crossbar_row
    o0, o1 = int(units.out_lo[u]), int(units.out_hi[u])
    R, cpg = layer.rows, layer.cols_per_group
    k = packed_groups(layer, chip)
    blocks: list[TileBlock] = []
    if k:
        g0, g1 = o0 // cpg, o1 // cpg
        for ga in range(g0, g1, k):
            gb = min(ga + k, g1)
            blocks.append(TileBlock((0, R), (ga * cpg, gb * cpg), gb - ga, (ga * R, gb * R)))
    else:
        g = o0 // cpg
        r0 = int(units.in_lo[u]) * layer.kernel_area
        r1 = int(units.in_hi[u]) * layer.kernel_area
        for c in range(o0, o1, P):
            for r in range(r0, r1, X):
                re = min(r + X, r1)
                blocks.append(TileBlock((r, re), (c, min(c + P, o1)), 1, (g * R + r, g * R + re)))
    assert len(blocks) == int(units.crossbars[u]), "tiles disagree with the unit's crossbar count"
    return blocks


class Unplaced(ValueError):
    """The items do not pack: those of hinted layer `layer` on its cores, or (None) the rest."""

    def __init__(self, message: str, layer: int | None):
        super().__init__(message)
        self.layer = layer


def hinted_pack(
    sizes: Sequence[int],
    item_layers: Sequence[int],
    chip: Chip,
    hint: Mapping[int, Sequence[int]],
) -> list[int]:
    """The core of each item (crossbar count; `item_layers[i]` its layer): the items of each
    hinted layer, in layer order, first-fit decreasing over its cores of `hint`, then the
    others first-fit decreasing over the room left (with an empty hint: `ffd_pack`)."""
    free = [chip.crossbars_per_core] * chip.cores
    where = [0] * len(sizes)
    groups = [(li, set(hint[li])) for li in sorted(hint)]
    for li, cores in [*groups, (None, set(range(chip.cores)))]:
        mine = [(lay == li) if li is not None else lay not in hint for lay in item_layers]
        idx = [i for i, m in enumerate(mine) if m]
        room = [f if c in cores else 0 for c, f in enumerate(free)]
        got = ffd_pack([sizes[i] for i in idx], chip, room) if idx else []
        if got is None:
            raise Unplaced(
                f"{'the items of layer ' + str(li) if li is not None else 'the unhinted items'} "
                f"do not fit {chip.cores} cores x {chip.crossbars_per_core} crossbars",
                li,
            )
        for i, c in zip(idx, got, strict=True):
            where[i] = c
            free[c] -= sizes[i]
    return where


def place_partition(
    units: Units,
    layers: Sequence[Layer],
    chip: Chip,
    start: int,
    end: int,
    replication: dict[int, int],
    hint: Mapping[int, Sequence[int]] | None = None,
) -> tuple[list[PlacedTile], list[int]]:
    """Tiles of units [start, end) with `replication[layer]` replicas each, and crossbars per
    core; `hint` (layer -> cores) places those layers' replicas on those cores first.

    Raises ValueError (`Unplaced` with a hint) when the replicas do not pack onto the chip."""
    items: list[tuple[int, int, int]] = []  # (layer, unit, replica), cost-model order
    for li in sorted({int(units.layer[u]) for u in range(start, end)}):
        lo, hi = max(start, int(units.first[li])), min(end, int(units.end[li]))
        for r in range(replication[li]):
            items += [(li, u, r) for u in range(lo, hi)]
    sizes = [int(units.crossbars[u]) for _, u, _ in items]
    if hint:
        where = hinted_pack(sizes, [li for li, _, _ in items], chip, hint)
    elif (packed := ffd_pack(sizes, chip)) is not None:
        where = packed
    else:
        raise ValueError(
            f"units [{start}, {end}) with replication {replication} do not fit "
            f"{chip.cores} cores x {chip.crossbars_per_core} crossbars"
        )
    next_xbar = [0] * chip.cores
    tiles: list[PlacedTile] = []
    for (li, u, r), core in zip(items, where, strict=True):
        for block in unit_blocks(units, u, layers[li], chip):
            tiles.append(PlacedTile(li, u, r, core, next_xbar[core], block))
            next_xbar[core] += 1
    per_core = list(next_xbar)
    while per_core and per_core[-1] == 0:
        per_core.pop()
    return tiles, per_core


def window_ranges(windows: int, replicas: int) -> list[tuple[int, int]]:
    """Balanced contiguous window ranges, one per replica (empty ones dropped)."""
    bounds = [math.floor(k * windows / replicas) for k in range(replicas + 1)]
    return [(a, b) for a, b in pairwise(bounds) if b > a]
