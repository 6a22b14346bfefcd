"""Baseline groupings and the exact optimum of an additive objective over a `SpanTable`.

- `greedy`: COMPASS's greedy baseline, pack as many consecutive units as fit.
- `layerwise`: COMPASS's layer-wise baseline, one weight layer per partition (a layer too big for
  the chip is packed greedily inside the layer).
- `optimal`: the exact minimum of total latency (or total energy). Because a partition's cost
  depends only on its span, this is a shortest path over the validity map from unit 0 to unit n,
  solved by dynamic programming in O(n * width), vectorised over the width for each start.

Every function returns a group as its sorted boundaries `[0, b1, ..., n]`.
"""

from __future__ import annotations

import numpy as np

from pimdsl.grouping.problem import SpanTable

ADDITIVE_OBJECTIVES: tuple[str, ...] = ("latency", "throughput", "energy")


def _check_single_units(table: SpanTable) -> None:
    # A unit fits one core by construction; a table where it does not is a bug upstream.
    starts = np.arange(table.n_units)
    if table.n_units and np.any(table.max_end <= starts):
        bad = int(np.flatnonzero(table.max_end <= starts)[0])
        raise ValueError(
            f"unit {bad} alone is not a legal partition (max end {table.max_end[bad]})"
        )


def greedy(table: SpanTable) -> list[int]:
    """Pack as many consecutive units as fit into each partition, left to right."""
    _check_single_units(table)
    bounds, s = [0], 0
    while s < table.n_units:
        s = int(table.max_end[s])
        bounds.append(s)
    return bounds


def layerwise(table: SpanTable) -> list[int]:
    """One weight layer per partition; a layer larger than the chip is split greedily inside it."""
    _check_single_units(table)
    n = table.n_units
    layer = np.asarray(table.unit_layer)
    # layer_end[u]: exclusive end of the run of units sharing u's layer.
    change = np.flatnonzero(np.diff(layer) != 0) + 1
    run_ends = np.append(change, n)
    layer_end = np.repeat(run_ends, np.diff(np.concatenate(([0], run_ends))))
    bounds, s = [0], 0
    while s < n:
        s = int(min(table.max_end[s], layer_end[s]))
        bounds.append(s)
    return bounds


def optimal(table: SpanTable, objective: str = "latency") -> list[int]:
    """Exact minimum of total latency (`latency`/`throughput`) or total `energy`.

    Forward relaxation: when start s is reached, best[s] is final (every predecessor is < s), so
    all ends s+1..max_end[s] are relaxed at once. Ties keep the earliest start, hence the fewest
    and largest early partitions, deterministically.
    """
    if objective not in ADDITIVE_OBJECTIVES:
        raise ValueError(
            f"optimal needs an additive objective ({', '.join(ADDITIVE_OBJECTIVES)}), got "
            f"{objective!r}; EDP is not a sum over partitions, use the GA for it"
        )
    _check_single_units(table)
    cost = table.energy if objective == "energy" else table.latency
    n = table.n_units
    best = np.full(n + 1, np.inf)
    best[0] = 0.0
    parent = np.full(n + 1, -1, dtype=np.int64)
    for s in range(n):
        e_max = int(table.max_end[s])
        cand = best[s] + cost[s, : e_max - s]
        cur = best[s + 1 : e_max + 1]
        better = cand < cur
        cur[better] = cand[better]  # `cur` is a view into best
        parent[s + 1 : e_max + 1][better] = s
    if not np.isfinite(best[n]):
        raise ValueError("no legal group: some span costs are infinite inside the validity map")
    bounds = [n]
    while bounds[-1] > 0:
        bounds.append(int(parent[bounds[-1]]))
    return bounds[::-1]
