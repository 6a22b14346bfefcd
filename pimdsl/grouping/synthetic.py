"""Random `SpanTable`s with a COMPASS-like cost shape, for tests and GA benchmarks.

Each unit has a size (crossbars) and a work (MVMs per inference). A partition [s, e) fits when
its sizes sum to at most `capacity`. Its latency trades three effects the real cost model has:
a fixed reload overhead per partition (favours few partitions), a weight load proportional to the
crossbars written, and a pipelined compute time set by the slowest unit, sped up by replication
into the free crossbars (favours small partitions). Energy adds static power over that latency,
and writing each replica costs energy, so the energy- and latency-optimal groups differ and EDP
is not a sum over partitions.
"""

from __future__ import annotations

import numpy as np

from pimdsl.grouping.problem import SpanTable


def random_table(
    n_units: int,
    *,
    seed: int = 0,
    capacity: int = 64,
    batch: int = 4,
    max_unit: int = 12,
    n_layers: int | None = None,
) -> SpanTable:
    """A random table of `n_units` units; every single unit fits (`max_unit <= capacity`)."""
    if max_unit > capacity:
        raise ValueError("max_unit must not exceed capacity: every unit must fit alone")
    rng = np.random.default_rng(seed)
    size = rng.integers(1, max_unit + 1, size=n_units).astype(np.int64)
    work = rng.uniform(1.0, 10.0, size=n_units)
    n_layers = n_layers if n_layers is not None else max(1, n_units // 3)
    cuts = np.sort(
        rng.choice(np.arange(1, n_units), size=min(n_layers, n_units) - 1, replace=False)
    )
    unit_layer = np.zeros(n_units, dtype=np.int64)
    unit_layer[cuts] = 1
    unit_layer = np.cumsum(unit_layer)

    csum = np.concatenate(([0], np.cumsum(size)))
    # max_end[s]: largest e with csum[e] - csum[s] <= capacity.
    max_end = np.searchsorted(csum, csum[:-1] + capacity, side="right") - 1
    width = int((max_end - np.arange(n_units)).max())

    latency = np.full((n_units, width), np.inf)
    energy = np.full((n_units, width), np.inf)
    starts = np.arange(n_units)
    slowest = work.copy()
    for k in range(width):
        e = starts + k + 1
        ok = e <= max_end
        if k > 0:
            slowest[: n_units - k] = np.maximum(slowest[: n_units - k], work[k:])
        s_ok = starts[ok]
        used = csum[e[ok]] - csum[s_ok]
        replication = np.maximum(1, capacity // used)
        lat = 5.0 + 0.5 * used + batch * slowest[s_ok] / replication
        latency[s_ok, k] = lat
        total_work = np.cumsum(work)[e[ok] - 1] - np.concatenate(([0.0], np.cumsum(work)))[s_ok]
        # replicas are written too: replication buys latency with write energy
        energy[s_ok, k] = 2.0 + 1.5 * used * replication + 0.2 * batch * total_work + 0.3 * lat
    return SpanTable(
        latency=latency,
        energy=energy,
        max_end=max_end.astype(np.int64),
        unit_layer=unit_layer,
        batch=batch,
    )
