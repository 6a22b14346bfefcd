"""Units: the pieces of weight layers that one core holds, and the validity map over them.

A weight layer's matrix (per group: rows = Cin/groups*kh*kw, cols = Cout/groups; one weight
takes `chip.cols_per_weight` crossbar columns, so a crossbar holds `P = weights_per_crossbar_row`
output channels side by side) is cut into units, in this order: group, column slice, row slice.

- *Dense* (groups == 1, or a group too big to share a crossbar): with `rt = ceil(rows / X)` row
  tiles (X = crossbar rows) and K crossbars per core,
  - if rt <= K a unit is a column slice of `(U // rt) * P` output channels over all rows, on
    `rt * ceil(channels / P)` crossbars, with U = `chip.unit_limit` (K unless the chip's
    `unit_crossbars` asks for smaller units; at least one column chunk of P channels);
  - else the rows do not fit one core: a column slice is P channels wide and is split along
    rows into row slices of whole input channels (at most `K*X // (kh*kw)` channels each, balanced);
    the row slices' partial sums are added by the vector unit (`row_slice > 0` marks them).
- *Packed groups* (grouped/depthwise conv whose group matrix fits one crossbar): `k =
  min(X // rows, P // cols)` groups share a crossbar block-diagonally (group i on rows
  [i*rows, (i+1)*rows) and its own columns), so a depthwise 3x3 layer uses 28 groups per
  256-row crossbar instead of one crossbar per group. A unit is `U*k` whole groups.

Validity (COMPASS): a span of units is a legal partition iff its units, one replica each, pack
onto the chip's cores, each unit inside one core. Packing is first-fit decreasing (FFD) on the
units' crossbar counts. Removing a unit from a packed set keeps it packed, so if FFD packs
[s-1, e) then [s, e) is legal even in the rare case where FFD alone would not find it; the
validity map uses this to stay monotone: `max_end[s] = max(max_end[s-1], FFD's furthest end)`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pimdsl import limits
from pimdsl.chip import Chip
from pimdsl.errors import PimError
from pimdsl.network import Layer, Network


@dataclass(frozen=True)
class Units:
    """All units of a network in topological order, as parallel arrays of length n."""

    layer: np.ndarray  # weight layer index
    crossbars: np.ndarray  # crossbars of one replica
    rows: np.ndarray  # crossbar rows used (per crossbar column; block-diagonal: summed over groups)
    channels: np.ndarray  # output channels computed
    weights: np.ndarray  # weight values held
    adc_columns: np.ndarray  # columns converted per input step, all its crossbars together
    out_lo: np.ndarray  # output-channel range [out_lo, out_hi) (absolute)
    out_hi: np.ndarray
    in_lo: np.ndarray  # input-channel range (on the weight's per-group input axis)
    in_hi: np.ndarray
    col_slice: np.ndarray  # global id of the column slice (row slices of one slice share it)
    row_slice: np.ndarray  # index of the row slice within its column slice
    first: np.ndarray  # per layer: its first unit
    end: np.ndarray  # per layer: one past its last unit

    @property
    def n(self) -> int:
        return int(self.layer.shape[0])


def _column_slice(rt: int, chip: Chip) -> int:
    """Output channels of a dense unit whose `rt` row tiles fit one core: as many crossbar
    columns as `chip.unit_limit` crossbars hold (at least one column chunk)."""
    return max(chip.unit_limit // rt, 1) * chip.weights_per_crossbar_row


def _dense_units(L: Layer, chip: Chip, g: int) -> list[tuple[int, ...]]:
    """Units of group g of a dense layer: (crossbars, rows, channels, weights, adc, o0, o1, i0, i1, rs)."""
    X, P, K = chip.crossbar_rows, chip.weights_per_crossbar_row, chip.crossbars_per_core
    cpw = chip.cols_per_weight
    rows, cout, base = L.rows, L.cols_per_group, g * L.cols_per_group
    rt = math.ceil(rows / X)
    out: list[tuple[int, ...]] = []
    if rt <= K:
        width = _column_slice(rt, chip)
        for o0 in range(0, cout, width):
            ch = min(width, cout - o0)
            out.append(
                (
                    rt * math.ceil(ch / P),
                    rows,
                    ch,
                    rows * ch,
                    rt * ch * cpw,
                    base + o0,
                    base + o0 + ch,
                    0,
                    L.in_channels,
                    0,
                )
            )
        return out
    per_max = (K * X) // L.kernel_area
    n_rs = math.ceil(L.in_channels / per_max)
    per = math.ceil(L.in_channels / n_rs)
    for o0 in range(0, cout, P):
        ch = min(P, cout - o0)
        for r, i0 in enumerate(range(0, L.in_channels, per)):
            i1 = min(i0 + per, L.in_channels)
            r_rows = (i1 - i0) * L.kernel_area
            rtile = math.ceil(r_rows / X)
            out.append(
                (
                    rtile * math.ceil(ch / P),
                    r_rows,
                    ch,
                    r_rows * ch,
                    rtile * ch * cpw,
                    base + o0,
                    base + o0 + ch,
                    i0,
                    i1,
                    r,
                )
            )
    return out


def _layer_units(L: Layer, chip: Chip) -> list[tuple[int, ...]]:
    X, P, K = chip.crossbar_rows, chip.weights_per_crossbar_row, chip.crossbars_per_core
    if L.kernel_area > K * X:
        raise PimError(
            f"layer '{L.name}' ({L.op.name}) cannot be placed on chip '{chip.name}': one input "
            f"channel of its kernel needs {L.kernel_area} crossbar rows but a core has only "
            f"{K} crossbars x {X} rows = {K * X}.",
            hint="Use a chip with more or taller crossbars per core.",
        )
    rows, cpg = L.rows, L.cols_per_group
    if L.groups > 1 and rows <= X and cpg <= P:
        k = min(X // rows, P // cpg)  # groups per crossbar, block-diagonal
        per_unit = chip.unit_limit * k
        out: list[tuple[int, ...]] = []
        for g0 in range(0, L.groups, per_unit):
            ng = min(per_unit, L.groups - g0)
            out.append(
                (
                    math.ceil(ng / k),
                    ng * rows,
                    ng * cpg,
                    ng * rows * cpg,
                    ng * cpg * chip.cols_per_weight,
                    g0 * cpg,
                    (g0 + ng) * cpg,
                    0,
                    L.in_channels,
                    0,
                )
            )
        return out
    return [u for g in range(L.groups) for u in _dense_units(L, chip, g)]


def count_layer_units(L: Layer, chip: Chip) -> int:
    """How many units `_layer_units` makes of `L`, by arithmetic (no allocation)."""
    X, P, K = chip.crossbar_rows, chip.weights_per_crossbar_row, chip.crossbars_per_core
    rows, cpg = L.rows, L.cols_per_group
    if L.groups > 1 and rows <= X and cpg <= P:
        return math.ceil(L.groups / (chip.unit_limit * min(X // rows, P // cpg)))
    rt = math.ceil(rows / X)
    if rt <= K:
        return L.groups * math.ceil(cpg / _column_slice(rt, chip))
    per_max = (K * X) // L.kernel_area
    if per_max < 1:
        return 0  # _layer_units reports that the kernel does not fit
    per = math.ceil(L.in_channels / math.ceil(L.in_channels / per_max))
    return L.groups * math.ceil(cpg / P) * math.ceil(L.in_channels / per)


def plan_units(net: Network, chip: Chip) -> Units:
    """Cut every weight layer of `net` into units for `chip` (at most limits.UNITS of them)."""
    counts = [(L.name, count_layer_units(L, chip)) for L in net.layers]
    limits.check_units(sum(n for _, n in counts), chip.name, counts)
    rows: list[tuple[int, ...]] = []
    layer: list[int] = []
    col_slice: list[int] = []
    first: list[int] = []
    end: list[int] = []
    next_slice = -1
    for L in net.layers:
        first.append(len(rows))
        for u in _layer_units(L, chip):
            if u[9] == 0:
                next_slice += 1
            rows.append(u)
            layer.append(L.index)
            col_slice.append(next_slice)
        end.append(len(rows))
    a = np.asarray(rows, dtype=np.int64).reshape(-1, 10)
    return Units(
        layer=np.asarray(layer, dtype=np.int64),
        crossbars=a[:, 0],
        rows=a[:, 1],
        channels=a[:, 2],
        weights=a[:, 3],
        adc_columns=a[:, 4],
        out_lo=a[:, 5],
        out_hi=a[:, 6],
        in_lo=a[:, 7],
        in_hi=a[:, 8],
        col_slice=np.asarray(col_slice, dtype=np.int64),
        row_slice=a[:, 9],
        first=np.asarray(first, dtype=np.int64),
        end=np.asarray(end, dtype=np.int64),
    )


# --- packing ----------------------------------------------------------------------------------


def ffd_pack(
    sizes: Sequence[int], chip: Chip, free: Sequence[int] | None = None
) -> list[int] | None:
    """First-fit decreasing: the core of each item (crossbar count), or None if they do not fit.
    `free`: the crossbars still free on each core (default: all; a placement hint's packing)."""
    order = sorted(range(len(sizes)), key=lambda i: -sizes[i])
    free = list(free) if free is not None else [chip.crossbars_per_core] * chip.cores
    where = [0] * len(sizes)
    for i in order:
        for c, f in enumerate(free):
            if f >= sizes[i]:
                free[c] = f - sizes[i]
                where[i] = c
                break
        else:
            return None
    return where


def packs_counts(counts: np.ndarray, sizes: Sequence[int] | np.ndarray, chip: Chip) -> np.ndarray:
    """FFD feasibility for many item sets at once.

    `counts[..., i]` is the number of items of `sizes[i]` crossbars (sizes in any order). Equal
    items placed one after another by first fit fill the cores in order as far as each has
    room, so each size is one cumulative sum over the cores: exact FFD, vectorised over the
    leading axes. Each size only touches the sets that hold it and still fit (the cost model
    asks for ~10^6 sets on large networks).
    """
    lead = counts.shape[:-1]
    flat = np.asarray(counts).reshape(-1, counts.shape[-1])
    # Free crossbars per core never exceed crossbars_per_core: int32 halves the memory traffic.
    free = np.full((flat.shape[0], chip.cores), chip.crossbars_per_core, dtype=np.int32)
    ok = np.ones(flat.shape[0], dtype=bool)
    for i in sorted(range(len(sizes)), key=lambda i: -sizes[i]):
        c = int(sizes[i])
        if c <= 0:
            continue
        m = flat[:, i]  # may exceed int32 (replicas x units): keep it wide
        need = (m > 0) & ok
        n_need = int(np.count_nonzero(need))
        if n_need == 0:
            continue
        if 2 * n_need >= len(m):  # dense: the whole array beats a gather and a scatter
            cap = free // c
            cum = np.cumsum(cap, axis=-1, dtype=np.int32)
            free -= np.clip(m[:, None] - (cum - cap), 0, cap) * c
            ok &= cum[:, -1] >= m
            continue
        rows = np.flatnonzero(need)
        mr = m[rows]
        f = free[rows]
        cap = f // c
        cum = np.cumsum(cap, axis=-1, dtype=np.int32)
        free[rows] = f - np.clip(mr[:, None] - (cum - cap), 0, cap) * c
        ok[rows] = cum[:, -1] >= mr
    return ok.reshape(lead)


def validity_map(units: Units, chip: Chip) -> np.ndarray:
    """max_end[s]: the furthest exclusive end of a legal partition starting at unit s."""
    n, K = units.n, chip.crossbars_per_core
    sizes = units.crossbars.tolist()
    counts = [0] * (K + 1)

    def packs() -> bool:
        free = [K] * chip.cores
        for c in range(K, 0, -1):
            m = counts[c]
            for i in range(chip.cores):
                if m == 0:
                    break
                put = min(m, free[i] // c)
                free[i] -= put * c
                m -= put
            if m:
                return False
        return True

    max_end = np.zeros(n, dtype=np.int64)
    e = 0  # counts holds units [s, e)
    for s in range(n):
        if e <= s:
            counts[sizes[s]] += 1
            e = s + 1
        while e < n:
            counts[sizes[e]] += 1
            if not packs():
                counts[sizes[e]] -= 1
                break
            e += 1
        max_end[s] = e
        counts[sizes[s]] -= 1
    return max_end
