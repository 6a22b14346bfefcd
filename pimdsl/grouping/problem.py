"""The partition-grouping problem, independent of networks and chips.

Units 0..n-1 are in topological order. A *partition* is a span [s, e) of units; a *group*
(COMPASS's chromosome) is a list of spans that cover 0..n-1 in order, written as its sorted
boundaries `[0, b1, ..., n]`.

The cost model fills a `SpanTable` once: the latency and energy of every legal span. Because a
partition's cost depends only on its span, every strategy (greedy, layer-wise, the exact
optimum, the GA) is then array look-ups. A span [s, e) is legal iff s < e <= max_end[s].
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np

Objective = Literal["latency", "throughput", "energy", "edp"]
OBJECTIVES: tuple[str, ...] = ("latency", "throughput", "energy", "edp")


@dataclass(frozen=True)
class SpanTable:
    """Costs of all legal partitions.

    `latency[s, k]` and `energy[s, k]` are the latency (s) and energy (J) of partition
    [s, s + k + 1) running one whole batch of `batch` inferences; `inf` where illegal.
    `max_end[s]` is the largest legal exclusive end for start s (non-decreasing in s).
    `unit_layer[u]` is the index of the weight layer unit u belongs to (non-decreasing).
    """

    latency: np.ndarray  # float64 [n, W]
    energy: np.ndarray  # float64 [n, W]
    max_end: np.ndarray  # int64 [n]
    unit_layer: np.ndarray  # int64 [n]
    batch: int

    @property
    def n_units(self) -> int:
        return int(self.max_end.shape[0])

    @property
    def width(self) -> int:
        return int(self.latency.shape[1])

    @cached_property
    def max_end_list(self) -> list[int]:
        """`max_end` as Python ints: the GA's sequential random draws index it per unit."""
        return [int(e) for e in self.max_end.tolist()]

    def is_legal(self, s: int, e: int) -> bool:
        return 0 <= s < e <= int(self.max_end[s])

    def span_cost(self, s: int, e: int) -> tuple[float, float]:
        return float(self.latency[s, e - s - 1]), float(self.energy[s, e - s - 1])

    def group_costs(self, bounds: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-partition (latency, energy) arrays of a group given by its boundaries."""
        b = np.asarray(bounds, dtype=np.int64)
        starts, ends = b[:-1], b[1:]
        k = ends - starts - 1
        return self.latency[starts, k], self.energy[starts, k]

    def check_group(self, bounds: Sequence[int] | np.ndarray) -> None:
        """Raise ValueError unless `bounds` is a legal group covering every unit once."""
        b = list(bounds)
        if not b or b[0] != 0 or b[-1] != self.n_units:
            raise ValueError(f"group must start at 0 and end at {self.n_units}: {b}")
        for s, e in zip(b[:-1], b[1:], strict=True):
            if not self.is_legal(s, e):
                raise ValueError(f"partition [{s}, {e}) is not legal (max end {self.max_end[s]})")


def group_fitness(table: SpanTable, bounds: Sequence[int], objective: Objective) -> float:
    """Scalar fitness of a group, lower is better.

    latency / throughput: total latency of the batch (throughput = batch / latency, so both
    objectives order groups the same way); energy: total energy; edp: energy per inference x
    latency per inference, which is not a sum over partitions.
    """
    lat, en = table.group_costs(bounds)
    total_lat, total_en = float(lat.sum()), float(en.sum())
    if objective in ("latency", "throughput"):
        return total_lat
    if objective == "energy":
        return total_en
    if objective == "edp":
        b = table.batch
        return (total_en / b) * (total_lat / b)
    raise ValueError(f"unknown objective {objective!r}; use one of {', '.join(OBJECTIVES)}")


def partition_fitness(
    lat: np.ndarray, en: np.ndarray, objective: Objective, batch: int
) -> np.ndarray:
    """Per-partition fitness f(P) used by COMPASS's relative score (lower is better)."""
    if objective in ("latency", "throughput"):
        return lat
    if objective == "energy":
        return en
    return (en / batch) * (lat / batch)
