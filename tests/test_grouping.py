"""Baselines and the exact optimum over SpanTables, checked against hand-derived groups and a
brute force over every group."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from pimdsl.grouping.baselines import greedy, layerwise, optimal
from pimdsl.grouping.problem import SpanTable, group_fitness
from pimdsl.grouping.synthetic import random_table

INF = np.inf


def tiny_table(unit_layer: list[int] | None = None) -> SpanTable:
    """4 units; legal spans and their latencies written by hand.

    [0,1)=3 [0,2)=4.5 | [1,2)=2 [1,3)=4 | [2,3)=3 [2,4)=6 | [3,4)=2
    Groups: 0|1|2|3 = 10, 0|1|23 = 11, 0|12|3 = 9, 01|2|3 = 9.5, 01|23 = 10.5.
    Latency optimum: [0,1,3,4] (9). Every partition has energy 1: energy optimum = fewest
    partitions = [0,2,4].
    """
    latency = np.array([[3, 4.5], [2, 4], [3, 6], [2, INF]], dtype=float)
    energy = np.where(np.isfinite(latency), 1.0, INF)
    return SpanTable(
        latency=latency,
        energy=energy,
        max_end=np.array([2, 3, 4, 4]),
        unit_layer=np.array(unit_layer if unit_layer is not None else [0, 0, 1, 1]),
        batch=1,
    )


def all_groups(n: int):
    for mask in range(1 << (n - 1)):
        yield [0] + [i + 1 for i in range(n - 1) if mask >> i & 1] + [n]


def brute_force(table: SpanTable, objective: str) -> float:
    best = INF
    for g in all_groups(table.n_units):
        if all(table.is_legal(s, e) for s, e in itertools.pairwise(g)):
            lat, en = table.group_costs(g)
            best = min(best, float((en if objective == "energy" else lat).sum()))
    return best


def test_tiny_hand_derived() -> None:
    t = tiny_table()
    assert optimal(t) == [0, 1, 3, 4]
    assert group_fitness(t, optimal(t), "latency") == 9.0
    assert optimal(t, "throughput") == [0, 1, 3, 4]
    assert optimal(t, "energy") == [0, 2, 4]
    assert greedy(t) == [0, 2, 4]
    assert layerwise(t) == [0, 2, 4]
    assert layerwise(tiny_table([0, 0, 0, 1])) == [0, 2, 3, 4]
    assert layerwise(tiny_table([0, 1, 2, 3])) == [0, 1, 2, 3, 4]


def test_optimal_rejects_edp() -> None:
    with pytest.raises(ValueError, match="not a sum"):
        optimal(tiny_table(), "edp")


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("objective", ["latency", "energy"])
def test_optimal_matches_brute_force(seed: int, objective: str) -> None:
    n = 4 + seed % 9  # 4..12 units
    t = random_table(n, seed=seed, capacity=20, max_unit=8)
    g = optimal(t, objective)
    t.check_group(g)
    lat, en = t.group_costs(g)
    got = float((en if objective == "energy" else lat).sum())
    assert got == pytest.approx(brute_force(t, objective), rel=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_greedy_and_layerwise_shapes(seed: int) -> None:
    t = random_table(80, seed=seed, capacity=40, max_unit=10)
    n = t.n_units
    g = greedy(t)
    t.check_group(g)
    # greedy: every partition ends at the furthest legal end of its start
    assert all(e == t.max_end[s] for s, e in itertools.pairwise(g))
    lw = layerwise(t)
    t.check_group(lw)
    layer = t.unit_layer
    for s, e in itertools.pairwise(lw):
        assert np.all(layer[s:e] == layer[s])  # never two layers in one partition
        # a partition stops early only at a layer end or at the chip's capacity
        assert e == n or layer[e] != layer[s] or e == t.max_end[s]
    # every layer boundary is a partition boundary
    layer_starts = set(np.flatnonzero(np.diff(layer)) + 1)
    assert layer_starts <= set(lw)
    # the optimum is never worse than either baseline
    best = group_fitness(t, optimal(t), "latency")
    assert best <= group_fitness(t, g, "latency") + 1e-9
    assert best <= group_fitness(t, lw, "latency") + 1e-9
