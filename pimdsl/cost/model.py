"""The partition cost model: latency and energy of every legal span of units, vectorised.

Every formula and the source of every parameter are in docs/cost-model.md; all parameters are
fields of `pimdsl.chip.Chip`. Quantities are computed for all legal spans [s, e) at once as
flat numpy arrays over the spans (`SpanCosts`), then looked up: a partition's cost depends only
on its span, so this table is the per-span cache every strategy reads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from pimdsl.chip import Chip
from pimdsl.cost.schedule import (
    LOCAL_ELEM_BYTES,
    _chain_ns,
    _continues,
    _core_layers,
    _element_ns,
    _layer_deps,
    _merged_loops,
    _pipeline_ns,
    _relayout_ns,
    _stages,
    _step_ns,
    _vector_cores,
)
from pimdsl.grouping.problem import SpanTable
from pimdsl.isa import line_buffer as lb
from pimdsl.module_attrs import SCHEDULE_POLICIES, SCHEDULES
from pimdsl.network import Layer, Network, VectorStep
from pimdsl.placement import window_ranges
from pimdsl.units import Units, ffd_pack, packs_counts, validity_map

PJ = 1e-12
NS = 1e-9


@dataclass(frozen=True)
class PartitionCost:
    """The cost of one partition [start, end) of units, running a batch of `batch`."""

    start: int
    end: int
    layers: tuple[int, ...]
    replication: tuple[int, ...]  # per layer in `layers`
    crossbars: int  # crossbars used, replicas included
    core_crossbars: tuple[int, ...]  # crossbars used on each core (FFD placement)
    weight_bytes: int  # unique weight bytes loaded from DRAM
    entry_bytes: float  # activation bytes loaded at the entries, per inference
    exit_bytes: float  # activation bytes stored at the exits, per inference
    dram_bytes: float  # all DRAM traffic of the batch: weights + B x activation traffic
    latency: dict[str, float]  # seconds: weight_load, crossbar_write, boundary, compute, total
    energy: dict[str, float]  # joules for the batch: weight_load, crossbar_write, dram, mvm, ...
    schedule: str = "layer"  # the lowering schedule the latency assumes (SCHEDULES)

    @property
    def latency_s(self) -> float:
        return self.latency["total"]

    @property
    def energy_j(self) -> float:
        return self.energy["total"]


@dataclass
class SpanCosts:
    """Costs of all legal spans of one network on one chip at one batch."""

    chip: Chip
    batch: int
    units: Units
    max_end: np.ndarray
    start: np.ndarray  # flat over legal spans
    end: np.ndarray
    index: np.ndarray  # [n, W]: flat index of span (s, s+k+1), -1 when illegal
    layer0: np.ndarray  # first layer of each span
    replication: np.ndarray  # [S, Lmax], 0 where the layer is not in the span
    crossbars: np.ndarray
    weight_bytes: np.ndarray
    entry_bytes: np.ndarray
    exit_bytes: np.ndarray
    act_dram_bytes: np.ndarray  # activation DRAM bytes per inference (window loads, stores)
    latency: dict[str, np.ndarray]
    energy: dict[str, np.ndarray]
    # per span, the lowering schedule the latency assumes: an index into SCHEDULES
    schedules: np.ndarray
    # the schedule's terms per span, ns (read by benchmarks and tests, not by the strategies):
    # fill (one image), period (each further image), extra (the layer schedule's chain over
    # the batch beyond one image), pipeline (the batch schedule's), layer and batch (the
    # compute time of each); per (span, layer) the layer_* terms
    schedule: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    _table: SpanTable | None = field(default=None, repr=False)

    def flat(self, s: int, e: int) -> int:
        i = int(self.index[s, e - s - 1]) if 0 < e - s <= self.index.shape[1] else -1
        if i < 0:
            raise ValueError(f"partition [{s}, {e}) is not legal (max end {int(self.max_end[s])})")
        return i

    def table(self) -> SpanTable:
        if self._table is None:
            lat = np.full(self.index.shape, np.inf)
            en = np.full(self.index.shape, np.inf)
            ok = self.index >= 0
            lat[ok] = self.latency["total"][self.index[ok]]
            en[ok] = self.energy["total"][self.index[ok]]
            self._table = SpanTable(
                latency=lat,
                energy=en,
                max_end=self.max_end.copy(),
                unit_layer=self.units.layer.copy(),
                batch=self.batch,
            )
        return self._table

    def partition(self, s: int, e: int, schedule: str | None = None) -> PartitionCost:
        """The cost of partition [s, e), running the schedule the span's costs chose, or
        `schedule` (layer or batch) when given: a partition whose IR names its schedule is
        costed for that one."""
        i = self.flat(s, e)
        chosen = SCHEDULES[int(self.schedules[i])]
        latency = {k: float(v[i]) for k, v in self.latency.items()}
        energy = {k: float(v[i]) for k, v in self.energy.items()}
        if schedule is not None and schedule != chosen:
            if schedule not in SCHEDULES:
                raise ValueError(f"unknown schedule '{schedule}'")
            old = latency["total"]
            latency["compute"] = float(self.schedule[schedule][i]) * NS
            latency["total"] = (
                latency["weight_load"] + latency["crossbar_write"] + latency["compute"]
            )
            static = energy["static"] * latency["total"] / old if old > 0 else energy["static"]
            energy["total"] += static - energy["static"]
            energy["static"] = static
            chosen = schedule
        l0 = int(self.layer0[i])
        reps = [int(r) for r in self.replication[i] if r > 0]
        layers = tuple(range(l0, l0 + len(reps)))
        u = self.units
        sizes: list[int] = []
        for j, layer in enumerate(layers):
            lo, hi = max(s, int(u.first[layer])), min(e, int(u.end[layer]))
            sizes += [int(c) for c in u.crossbars[lo:hi]] * reps[j]
        where = ffd_pack(sizes, self.chip)
        per_core = [0] * self.chip.cores
        if where is None:  # legal as a subset of a packed span (see pimdsl.units); place 1 replica
            sizes = [int(c) for c in u.crossbars[s:e]]
            where = ffd_pack(sizes, self.chip) or list(range(len(sizes)))
        for c, w in zip(sizes, where, strict=True):
            per_core[w] += c
        while per_core and per_core[-1] == 0:
            per_core.pop()
        return PartitionCost(
            start=s,
            end=e,
            layers=layers,
            replication=tuple(reps),
            crossbars=int(self.crossbars[i]),
            core_crossbars=tuple(per_core),
            weight_bytes=int(round(float(self.weight_bytes[i]))),
            entry_bytes=float(self.entry_bytes[i]),
            exit_bytes=float(self.exit_bytes[i]),
            dram_bytes=float(self.weight_bytes[i] + self.batch * self.act_dram_bytes[i]),
            latency=latency,
            energy=energy,
            schedule=chosen,
        )


class _InputLoads:
    """Input elements the cores holding a layer's units load per image, as `crossbar-to-isa`
    reads them: a convolution through line buffers where `line_buffer.shape` gives one (the same
    rule the lowering follows), else every window's patch (the unit's rows per window). With r
    replicas each replica's window range (`placement.window_ranges`, as partition-to-crossbar
    splits them) is planned on its own, as the lowering plans each range: short ranges load
    relatively more halo (ResNet18's 56x56 3x3 conv on 64 channels: 1.22 loads per input element
    with one replica, 2.98 with 45)."""

    def __init__(
        self, net: Network, units: Units, chip: Chip, max_rows: int | None = None, roll: int = 0
    ):
        self.net = net
        self.units = units
        self.budget = lb.band_budget(chip.local_memory_bytes, lb.DEFAULT_ELEM_BYTES)
        self.max_rows = (
            max_rows  # the tiles' rows (the element schedule's: `line_buffer.ELEMENT_ROWS`)
        )
        self.roll = roll  # the element schedule's rolling runs (`line_buffer.priced_roll`)
        self.cache: dict[tuple[int, ...], float] = {}

    def unit(self, u: int, r: int) -> int:
        return self.unit_parts(u, r)[0]

    def unit_parts(self, u: int, r: int) -> tuple[int, int]:
        """(elements unit u loads at r replicas, the part of them loaded through line buffers)."""
        L = self.net.layers[int(self.units.layer[u])]
        rows = int(self.units.rows[u])
        if L.window is None:
            return L.windows * rows, 0
        return _replica_loads(
            L.window,
            L.windows,
            _input_channels(L, rows),
            max(1, r),
            self.budget,
            self.max_rows,
            self.roll,
        )

    def share_key(self, u: int) -> tuple[int, int, int]:
        """Units of one layer with the same key read the same input channels: the lowering
        loads their bands once and sends them to the other cores (`codegen.shared_bands`)."""
        L = self.net.layers[int(self.units.layer[u])]
        group = int(self.units.out_lo[u]) // max(1, L.cols_per_group) if L.groups > 1 else 0
        return int(self.units.in_lo[u]), int(self.units.in_hi[u]), group

    def at(
        self,
        lay: np.ndarray,
        lo: np.ndarray,
        hi: np.ndarray,
        rep: np.ndarray,
        present: np.ndarray,
        shared: bool = False,
    ) -> np.ndarray:
        """[span, layer]: the elements units [lo, hi) of layer `lay` load at `rep` replicas (all
        of them); with `shared`, only those read from DRAM: a band several units read (the same
        input channels) counts once, the other units receive it over the bus."""

        def loads(key: tuple[int, ...]) -> float:
            _, a, b, r, sh = key
            total = 0
            seen: set[tuple[int, int, int]] = set()
            for u in range(a, b):
                whole, banded = self.unit_parts(u, r)
                k = self.share_key(u)
                total += whole - banded if sh and k in seen else whole
                seen.add(k)
            return float(total)

        flag = np.full(lay.shape, 1 if shared else 0, dtype=np.int64)
        return _per_key(present, [lay, lo, hi, np.maximum(rep, 1), flag], loads, self.cache)


class _ElementLoads:
    """The element schedule's input loads: `entry` ([span, layer]) picks the run length priced
    for a layer that reads no map of its span (`whole`) or one that does (`waits`)."""

    def __init__(self, whole: _InputLoads, waits: _InputLoads, entry: np.ndarray):
        self.whole, self.waits, self.entry = whole, waits, entry

    def at(
        self,
        lay: np.ndarray,
        lo: np.ndarray,
        hi: np.ndarray,
        rep: np.ndarray,
        present: np.ndarray,
        shared: bool = False,
    ) -> np.ndarray:
        if self.whole.roll == self.waits.roll:
            return self.whole.at(lay, lo, hi, rep, present, shared)
        return np.where(
            self.entry,
            self.whole.at(lay, lo, hi, rep, present & self.entry, shared),
            self.waits.at(lay, lo, hi, rep, present & ~self.entry, shared),
        )


@lru_cache(maxsize=65536)
def _replica_loads(
    win: lb.Window,
    windows: int,
    channels: int,
    r: int,
    budget: int,
    max_rows: int | None = None,
    roll: int = 0,
) -> tuple[int, int]:
    """(input elements loaded for all windows of a layer split over r replicas' ranges, the
    part loaded through line buffers)."""
    ow = win.out_hw[1]
    total = banded = 0
    for a, b in window_ranges(windows, r):
        n, by_band = _range_loads(win, a % ow, b - a, channels, budget, max_rows, roll)
        total += n
        banded += n if by_band else 0
    return total, banded


@lru_cache(maxsize=65536)
def _range_loads(
    win: lb.Window,
    offset: int,
    length: int,
    channels: int,
    budget: int,
    max_rows: int | None = None,
    roll: int = 0,
) -> tuple[int, bool]:
    """(elements, whether through line buffers) a replica's range loads: its plan depends only
    on where in its row it starts and how long it is (bands are cut from the padded map, never
    clipped at its bottom)."""
    return lb.loads(win, offset, offset + length, channels, budget, max_rows, roll)


def _input_channels(L: Layer, rows: int) -> int:
    """Input channels a unit of `rows` crossbar rows reads (rows are (channel, ky, kx); a row
    range cutting a channel reads all of it, as the lowering's input clusters do)."""
    return -(-rows // L.kernel_area)


def _first_bands(
    net: Network,
    units: Units,
    rep: np.ndarray,
    lay: np.ndarray,
    present: np.ndarray,
    chip: Chip,
    cache: dict[tuple[int, ...], float] | None = None,
) -> np.ndarray:
    """[span, layer] input elements of the first band a core loads for layer l with r_l
    replicas: the first tile's band of each replica's window range (`line_buffer`, as the
    lowering plans it), averaged over the replicas; 0 for a layer without line buffers."""
    budget = lb.band_budget(chip.local_memory_bytes, lb.DEFAULT_ELEM_BYTES)
    return _per_key(
        present,
        [lay, np.maximum(rep, 1)],
        lambda key: _first_band(net.layers[key[0]], units, key[1], budget),
        {} if cache is None else cache,
    )


def _per_key(
    present: np.ndarray,
    columns: list[np.ndarray],
    value: Callable[[tuple[int, ...]], float],
    cache: dict[tuple[int, ...], float],
) -> np.ndarray:
    """[span, layer]: `value(key)` at every present place, the key being the integer `columns`
    there; computed once per distinct key (many spans share a layer and a replication) and
    kept in `cache` across calls (the replication ladder asks again)."""
    out = np.zeros(present.shape, dtype=np.float64)
    idx = np.nonzero(present)
    if not idx[0].size:
        return out
    cols = [np.asarray(c)[idx].astype(np.int64) for c in columns]
    code = np.zeros(cols[0].shape, dtype=np.int64)
    for c in cols:  # one int64 per key (mixed radix): a 1-D unique is much faster than rows'
        code = code * (int(c.max()) + 1) + c
    uniq, first, inverse = np.unique(code, return_index=True, return_inverse=True)
    vals = np.empty(uniq.shape[0])
    for k, i in enumerate(first.tolist()):
        key = tuple(int(c[i]) for c in cols)
        if key not in cache:
            cache[key] = value(key)
        vals[k] = cache[key]
    out[idx] = vals[inverse.reshape(-1)]
    return out


def _first_band(L: Layer, units: Units, r: int, budget: int) -> float:
    win = L.window
    if win is None:
        return 0.0
    channels = _input_channels(L, int(units.rows[units.first[L.index]]))
    bands = []
    for w0, w1 in window_ranges(L.windows, r):
        gw = lb.shape(win, w0, w1, channels, budget)
        if gw is None:
            return 0.0
        _, ny, _, nx, g = lb.tiles(w0, w1, win.out_hw[1], *gw)[0]
        bands.append(win.band_elements(nx, channels, g))
    return float(np.mean(bands))


def _interleaved(L: Layer, units: Units, r: int, on_one: int, local: int, budget: int) -> int:
    """How many of a core's `on_one` replicas of layer L (r in all) run interleaved
    (`emit_weight.interleaved`): as many as local memory holds side by side, each range's
    input buffers (`line_buffer.range_elements`, the longest range's) plus its output and bias
    blocks (the unit's columns each). An estimate: the lowering allocates the real buffers."""
    if on_one <= 1:
        return 1
    u = int(units.first[L.index])
    cols = 2 * int(units.channels[u])
    win = L.window
    if win is None:
        need = int(units.rows[u]) + cols
    else:
        channels = _input_channels(L, int(units.rows[u]))
        need = cols + max(
            lb.range_elements(win, a, b, channels, budget) for a, b in window_ranges(L.windows, r)
        )
    return int(np.clip(local // max(need, 1), 1, on_one))


def _prefix(x: np.ndarray) -> np.ndarray:
    out = np.zeros((x.shape[0] + 1, *x.shape[1:]), dtype=np.float64)
    np.cumsum(x, axis=0, out=out[1:])
    return out


def _min_max_replication(
    windows: np.ndarray, present: np.ndarray, counts: np.ndarray, sizes: np.ndarray, chip: Chip
) -> tuple[np.ndarray, np.ndarray]:
    """Replication per (span, layer) minimising the largest windows-per-replica, exactly.

    Bisection on the integer bottleneck tau (windows per replica): a layer needs
    r = ceil(windows / tau) replicas; tau is feasible when all replicated units pack (FFD).
    tau = the largest windows of the span (r = 1 everywhere) is feasible for a legal span.
    """
    w = np.where(present, windows, 0)
    xb = counts @ sizes  # crossbars of one replica per (span, layer)
    capacity = chip.total_crossbars

    def bisect(
        lo: np.ndarray, hi: np.ndarray, feasible: Callable[[np.ndarray, np.ndarray], np.ndarray]
    ) -> np.ndarray:
        """Smallest tau in (lo, hi] with feasible(rows, tau); hi must be feasible."""
        rows = np.arange(lo.shape[0])
        while True:
            active = np.nonzero(hi - lo > 1)[0]
            if active.size == 0:
                return hi
            mid = (lo[active] + hi[active]) // 2
            ok = feasible(rows[active], mid)
            hi[active] = np.where(ok, mid, hi[active])
            lo[active] = np.where(ok, lo[active], mid)

    def reps(rows: np.ndarray, tau: np.ndarray) -> np.ndarray:
        return -(-w[rows] // tau[:, None])

    def fits_capacity(rows: np.ndarray, tau: np.ndarray) -> np.ndarray:
        return (reps(rows, tau) * xb[rows]).sum(axis=1) <= capacity

    def packs(rows: np.ndarray, tau: np.ndarray) -> np.ndarray:
        items = np.einsum("sj,sjc->sc", reps(rows, tau), counts[rows])
        return packs_counts(items, sizes, chip)

    top = np.maximum(w.max(axis=1), 1)
    # The crossbar count alone gives a lower bound cheaply; FFD then checks from there.
    tau = bisect(np.zeros_like(top), top.copy(), fits_capacity)
    all_rows = np.arange(top.shape[0])
    ok = packs(all_rows, tau) | (tau >= top)
    bad = np.nonzero(~ok)[0]
    if bad.size:
        sub = bisect(tau[bad].copy(), top[bad].copy(), lambda r, t: packs(bad[r], t))
        tau[bad] = sub
    return tau, top


def _replication(tau: np.ndarray, windows: np.ndarray, present: np.ndarray) -> np.ndarray:
    w = np.where(present, windows, 0)
    return np.where(present, np.maximum(-(-w // tau[:, None]), 1), 0)


# `auto` picks the element schedule for a span only when the model predicts it this much faster
# than the better of the others
ELEMENT_MARGIN = 0.1


def span_costs(
    net: Network,
    units: Units,
    chip: Chip,
    batch: int,
    schedule: str = "layer",
    replication: Mapping[tuple[int, int], Sequence[int]] | None = None,
    on_core_of: Mapping[tuple[int, int], np.ndarray] | None = None,
) -> SpanCosts:
    """Latency and energy of every legal partition of `units` at batch `batch`, running the
    lowering's `schedule` (`pimdsl.isa.pipeline`): "layer", "batch", or "auto", per span the
    one of the two predicted faster (`SpanCosts.schedules` says which). With `replication`
    ({(start, end): replicas per layer}, pimdsl.replication), only those spans, at those
    replicas instead of the ones the model would choose; `on_core_of` ({(start, end): [layer, core]
    bools}) for those spans, which cores hold each layer, where a placement hint put them
    (pimdsl.placement_hint) rather than first-fit decreasing."""
    if schedule not in SCHEDULE_POLICIES:
        raise ValueError(
            f"unknown schedule '{schedule}'; expected one of {', '.join(SCHEDULE_POLICIES)}"
        )
    n = units.n
    n_layers = len(net.layers)
    B = batch
    max_end = validity_map(units, chip)
    width = int((max_end - np.arange(n)).max())
    ss_grid, kk_grid = np.meshgrid(np.arange(n), np.arange(width), indexing="ij")
    legal = kk_grid < (max_end - np.arange(n))[:, None]
    if replication is not None:  # only the spans asked for (each must be legal)
        wanted = np.zeros_like(legal)
        for s_, e_ in replication:
            wanted[s_, e_ - s_ - 1] = True
        legal &= wanted
    index = np.full((n, width), -1, dtype=np.int64)
    index[legal] = np.arange(int(legal.sum()))
    ss = ss_grid[legal]
    ee = ss + kk_grid[legal] + 1

    act_bytes = chip.act_bits / 8
    w_bytes_per_weight = chip.weight_bits / 8
    windows_l = np.array([L.windows for L in net.layers], dtype=np.int64)
    row_windows_l = np.array([L.row_windows for L in net.layers], dtype=np.float64)
    cols_l = np.array([L.cols for L in net.layers], dtype=np.float64)
    out_bytes_l = np.array([L.out_elements for L in net.layers], dtype=np.float64) * act_bytes
    vec_l = np.array([L.vector_elements for L in net.layers], dtype=np.float64)

    # --- per-unit quantities and their prefix sums ---------------------------------------------
    uw = windows_l[units.layer].astype(np.float64)
    sizes = np.unique(units.crossbars)
    onehot = (units.crossbars[:, None] == sizes[None, :]).astype(np.int64)
    pre_cnt = np.zeros((n + 1, sizes.shape[0]), dtype=np.int64)
    np.cumsum(onehot, axis=0, out=pre_cnt[1:])
    pre_xb = _prefix(units.crossbars.astype(np.float64))
    pre_wb = _prefix(units.weights * w_bytes_per_weight)
    pre_wbits = _prefix(units.weights * float(chip.cols_per_weight * chip.cell_bits))
    steps = chip.input_steps
    mvm_pj = (
        uw
        * steps
        * (
            units.crossbars * chip.crossbar_read_pj
            + units.adc_columns * (chip.adc_conversion_pj + chip.shift_add_pj)
        )
    )
    pre_mvm = _prefix(mvm_pj)
    pre_lm = _prefix(uw * (units.rows + units.channels) * act_bytes)
    pre_padd = _prefix(np.where(units.row_slice > 0, uw * units.channels, 0.0))
    pre_ch = _prefix(np.where(units.row_slice == 0, units.channels, 0).astype(np.float64))
    input_loads = _InputLoads(net, units, chip)
    band_cache: dict[tuple[int, ...], float] = {}

    # --- per (span, layer) ---------------------------------------------------------------------
    l0 = units.layer[ss]
    l1 = units.layer[ee - 1]
    lmax = int((l1 - l0).max()) + 1
    lay = l0[:, None] + np.arange(lmax)[None, :]
    present = lay <= l1[:, None]
    lay = np.minimum(lay, n_layers - 1)
    # the element schedule's tiles, in rolling runs: a layer whose windows read no map of an
    # earlier layer of its span (a partition entry) never waits for a producer, so its runs
    # are whole (`line_buffer.priced_roll`)
    deps = _layer_deps(net)  # (also the schedule terms' layer dependences, below)
    reads = deps[0]
    latest = np.where(reads.any(axis=1), reads.shape[1] - 1 - np.argmax(reads[:, ::-1], axis=1), -1)
    element_loads = _ElementLoads(
        _InputLoads(net, units, chip, lb.ELEMENT_ROWS, lb.priced_roll(chip.roll_rows, entry=True)),
        _InputLoads(net, units, chip, lb.ELEMENT_ROWS, lb.priced_roll(chip.roll_rows, entry=False)),
        latest[lay] < l0[:, None],
    )
    lo = np.where(present, np.maximum(ss[:, None], units.first[lay]), 0)
    hi = np.where(present, np.minimum(ee[:, None], units.end[lay]), 0)
    counts = pre_cnt[hi] - pre_cnt[lo]
    win = windows_l[lay]
    tau_min, top = _min_max_replication(win, present, counts, sizes, chip)
    xb_layer = pre_xb[hi] - pre_xb[lo]
    wb_layer = pre_wb[hi] - pre_wb[lo]
    weight_bytes = pre_wb[ee] - pre_wb[ss]

    # --- the schedule the lowering emits (crossbar-to-isa, docs/lowering.md) -----------------
    # Per image a layer's MVM cores read every window's input patch from DRAM and store its
    # output; a core's MVMs and its loads overlap (the loads run ahead; the shared channel serves
    # every core's transfers in its idle gaps), so an MVM core's time per image is the longer of
    # its windows x issue interval and the layer's window traffic, plus the element-wise work
    # fused into its stores. The layer's other vector ops are steps of their own on one core
    # (the *vector core*), each loading its operands from DRAM, computing and storing: a chain
    # that waits for the layer's results and that the next image's work on that core waits for.
    dram_bw = min(chip.dram_bandwidth, chip.bus_bandwidth)
    interval = max(chip.mvm_interval_ns, chip.input_steps * chip.mvm_per_bit_ns)
    owns = present & (units.end[lay] <= ee[:, None])
    first_l = units.first[lay]
    # A later piece of a layer cut by a partition boundary adds the earlier pieces' partial sums
    # (one full-size add); the last piece adds the bias, so it stores its piece full size: the
    # columns the earlier pieces computed hold the bias it copies in.
    later = present & (lo > first_l)
    covered = (pre_ch[hi] - pre_ch[lo]) + np.where(
        present & (units.row_slice[np.minimum(lo, n - 1)] > 0),
        units.channels[np.minimum(lo, n - 1)],
        0,
    )
    biased = np.array([len(L.op.operands) > 2 for L in net.layers])
    fill = np.where(later & owns & biased[lay], win * np.maximum(cols_l[lay] - covered, 0.0), 0.0)
    # per layer: its own vector steps' time per image, their count and traffic (elements)
    local = chip.local_memory_bytes // LOCAL_ELEM_BYTES
    # (a pool of a conv's map runs split over the cores that stored it: priced on the layer's
    # MVM cores below, not in the vector core's chain)
    steps_l = [tuple(st for st in L.vector.steps if not st.split) for L in net.layers]
    split_l = [tuple(st for st in L.vector.steps if st.split) for L in net.layers]

    def chunks(st: VectorStep) -> int:
        return st.pieces * -(-st.span // local)

    # per layer: the split pools' work, loads, stores, chunks and output rows
    split_wl = np.array(
        [
            [
                sum(st.work for st in sts),
                sum(st.loads(local) for st in sts),
                sum(st.stored for st in sts),
                sum(chunks(st) for st in sts),
                min((st.pool[0].out_hw[0] for st in sts if st.pool), default=1),
            ]
            for sts in split_l
        ],
        dtype=np.float64,
    ).reshape(n_layers, 5)
    split_vw = np.where(owns[:, :, None], split_wl[lay], 0.0)

    def own_of(per_layer: list[tuple[VectorStep, ...]]) -> tuple[np.ndarray, np.ndarray]:
        """Per layer: its own steps' time per image, and their count, work, loads, stores."""
        ns = np.array(
            [
                sum(
                    float(_step_ns(st.work, st.loads(local), st.stored, chunks(st), chip))
                    for st in sts
                )
                for sts in per_layer
            ]
        )
        terms = np.array(
            [
                [
                    len(sts),
                    sum(st.work for st in sts),
                    sum(st.loads(local) for st in sts),
                    sum(st.stored for st in sts),
                ]
                for sts in per_layer
            ],
            dtype=np.float64,
        ).reshape(n_layers, 4)
        return ns, terms

    # A concat that its producers store (`network.concat_in_stores`) has no step of its own in
    # a span that holds its earliest producer too (the lowering's `materialise`): per (span,
    # layer) the layer's steps without it (`kept`) where `in_stores`
    kept_l = [tuple(st for st in sts if st.in_stores_from < 0) for sts in steps_l]
    from_l = np.array([max((st.in_stores_from for st in sts), default=-1) for sts in steps_l])
    cat_l = np.array(
        [sum(st.stored for st in sts if st.in_stores_from >= 0) for sts in steps_l],
        dtype=np.float64,
    )
    in_stores = (
        present & (from_l[lay] >= 0) & (units.first[np.maximum(from_l[lay], 0)] >= ss[:, None])
    )
    own_ns_all, own_all = own_of(steps_l)
    own_ns_kept, own_kept = own_of(kept_l)
    fused_l = np.array([L.vector.fused for L in net.layers], dtype=np.float64)
    fused_ops_l = np.array([L.vector.fused_ops for L in net.layers], dtype=np.float64)
    # a residual add fused into a conv's stores loads its other operand, a window at a time
    fused_loads_l = np.array([L.vector.fused_loads for L in net.layers], dtype=np.float64)

    # the compute-and-store part of each layer's last own step (see `last_ns` below)
    def last_chunk(
        work: np.ndarray | float, stored: np.ndarray | float, chunks: np.ndarray | float
    ) -> np.ndarray:
        k = np.maximum(np.asarray(chunks, dtype=np.float64), 1.0)
        return _step_ns(np.asarray(work) / k, 0.0, np.asarray(stored) / k, 1, chip)

    def last_of(per_layer: list[tuple[VectorStep, ...]]) -> np.ndarray:
        return np.array(
            [
                float(last_chunk(sts[-1].work, sts[-1].stored, chunks(sts[-1]))) if sts else 0.0
                for sts in per_layer
            ]
        )

    own_last = np.where(in_stores, last_of(kept_l)[lay], last_of(steps_l)[lay])
    own_ns = np.where(in_stores, own_ns_kept[lay], own_ns_all[lay])
    own_vw = np.where(
        owns[:, :, None], np.where(in_stores[:, :, None], own_kept[lay], own_all[lay]), 0.0
    )
    out_l = out_bytes_l[lay] / act_bytes
    # the element-wise op fused into a whole layer's stores reads the sum of a cut layer's pieces
    unfused = np.where(later & owns, fused_l[lay], 0.0)
    fused = np.where(owns, fused_l[lay], 0.0) - unfused
    chain_steps = own_vw[:, :, 0] + later + (unfused > 0)
    vec_ns_per_byte = chip.vector_latency_ns / chip.vector_bytes
    chain_work = own_vw[:, :, 1] + np.where(later, out_l, 0.0) + fill + unfused
    chain_in = own_vw[:, :, 2] + np.where(later, 2 * out_l, 0.0) + unfused
    chain_out = own_vw[:, :, 3] + np.where(later, out_l, 0.0) + fill + unfused
    chain_io = chain_in + chain_out
    # The steps run one after another (each reads what the one before stored); a later piece
    # adds its partial-sum add (two operands), its bias copies (a window at a time) and the
    # unfused element-wise op; the chain starts after the layer's last MVM result is stored.
    add_chunks = -(-3 * out_l // local)  # two operands and the sum share local memory
    unfused_chunks = -(-2 * unfused // local)
    add_ns = np.where(later, _step_ns(out_l, 2 * out_l, out_l, add_chunks, chip), 0.0)
    fill_ns_ = np.where(fill > 0, _step_ns(fill, 0.0, fill, win, chip), 0.0)
    unfused_ns = np.where(
        unfused > 0, _step_ns(unfused, unfused, unfused, unfused_chunks, chip), 0.0
    )
    # (the bias copies need no MVM result: they run beside the layer's MVMs; the chain's wait
    # for the last MVM result overlaps the next image's MVMs, so only one image sees it)
    chain_ns = np.where(
        chain_steps > 0,
        np.where(owns, own_ns, 0.0) + add_ns + unfused_ns + chip.dram_latency_ns,
        0.0,
    )
    # The vector core issues its loads in order, so the next image's window loads (and its
    # MVMs) wait behind this image's chain loads, which wait for this image's last MVM result:
    # per image the core sees its MVMs, their result latency and the chain, less the compute
    # and store of the last step's last chunk, which overlap the next image's MVMs.
    chain_wait = np.where(chain_steps > 0, chip.mvm_latency_ns - interval, 0.0)
    last_ns = np.where(
        owns & (own_vw[:, :, 0] > 0),
        own_last,
        np.where(
            unfused > 0,
            last_chunk(unfused, unfused, unfused_chunks),
            np.where(later, last_chunk(out_l, out_l, add_chunks), 0.0),
        ),
    )
    chain_first = chain_ns + chain_wait  # one image alone: nothing to overlap with
    chain_ns = chain_first - np.minimum(last_ns, chain_ns)
    chain_dram_ns = chain_io * act_bytes / dram_bw / NS
    fused_ns = (fused + (pre_padd[hi] - pre_padd[lo])) * act_bytes * vec_ns_per_byte
    # a window's epilogue on its core: per crossbar column block, the bias add and the fused op,
    # each a vector op of at least one vector-unit step
    blocks = -(-covered // chip.weights_per_crossbar_row)
    fused_ops = np.where(fused > 0, fused_ops_l[lay], 0.0)
    epilogue_ns = blocks * (biased[lay].astype(np.float64) + fused_ops) * chip.vector_latency_ns
    # the energy terms keep counting the ops' result elements (docs/cost-model.md)
    vec_elems = np.where(owns, vec_l[lay] - np.where(in_stores, cat_l[lay], 0.0), 0.0) + (
        pre_padd[hi] - pre_padd[lo]
    )
    vec_bytes = vec_elems * act_bytes
    vec_ns = chain_work * act_bytes * vec_ns_per_byte + fused_ns
    # per image: the input elements the layer's cores load (with r replicas), its stores and
    # the fused residual adds' loads
    stored_dram = np.where(
        present, win * covered + np.where(fused > 0, fused_loads_l[lay], 0.0), 0.0
    )
    split_dram = np.where(present, split_vw[:, :, 1] + split_vw[:, :, 2], 0.0)

    def split_ns_of(r: np.ndarray) -> np.ndarray:
        """Per (span, layer): a split pool's phase per image. The k cores that hold the layer's
        replicas (FFD fills a core before the next; k at most the pool's output rows) each
        pool their rows right after their MVMs of the image, once their neighbours' tokens
        arrived (a fence): the phase follows the layer's own, its vector work split k ways and
        its traffic on the one channel they share."""
        homes = np.clip(-(-(r * xb_layer) // chip.crossbars_per_core), 1, chip.cores)
        k = np.maximum(np.minimum(homes, split_vw[:, :, 4]), 1.0)
        ns = _step_ns(
            split_vw[:, :, 0] / k,
            split_vw[:, :, 1],
            split_vw[:, :, 2],
            np.maximum(split_vw[:, :, 3] / k, 1.0),
            chip,
        )
        return np.where(split_vw[:, :, 0] > 0, ns, 0.0)

    def window_dram_of(loads: np.ndarray) -> np.ndarray:
        """Bytes per image of the layer's window traffic when its cores load `loads` elements."""
        return (loads + stored_dram) * act_bytes

    def window_ns_of(
        r: np.ndarray,
        loads: _InputLoads | _ElementLoads = input_loads,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per (span, layer) at replication r: the window traffic's time per image on the
        channel (DRAM reads and stores at the DRAM's rate, every transfer, the shared bands'
        sends included, at the bus's), its DRAM bytes, its bytes on the bus only, and the time
        of its input loads alone."""
        every = loads.at(lay, lo, hi, r, present)
        dram = loads.at(lay, lo, hi, r, present, shared=True)
        bus_only = (every - dram) * act_bytes
        dram_bytes = window_dram_of(dram)
        ns = np.maximum(dram_bytes / dram_bw, (dram_bytes + bus_only) / chip.bus_bandwidth) / NS
        loads_ns = (
            np.maximum(dram * act_bytes / dram_bw, every * act_bytes / chip.bus_bandwidth) / NS
        )
        return ns, dram_bytes, bus_only, loads_ns

    # a layer's last MVM result lands mvm_latency_ns after its issue, one interval before
    # the w intervals its replica's MVMs take end; then its store's DRAM latency
    per_layer_fixed = chip.mvm_latency_ns - interval + chip.dram_latency_ns
    group_cache: dict[tuple[int, ...], float] = {}

    def group_of(key: tuple[int, ...]) -> float:
        return _interleaved(net.layers[key[0]], units, key[1], key[2], local, input_loads.budget)

    def on_one_of(r: np.ndarray) -> np.ndarray:
        """Per (span, layer): replicas of the layer on one core (at most)."""
        return np.minimum(r, np.maximum(1, chip.crossbars_per_core // np.maximum(xb_layer, 1)))

    def interleaved_of(r: np.ndarray) -> np.ndarray:
        """Per (span, layer): how many of a core's replicas run interleaved (`_interleaved`)."""
        r = np.maximum(r, 1)
        on_one = on_one_of(r)
        return np.minimum(_per_key(present, [lay, r, on_one], group_of, group_cache), on_one)

    def mvm_stages(
        r: np.ndarray,
        chain_ns: np.ndarray = chain_ns,
        loads: _InputLoads | _ElementLoads = input_loads,
        by_rows: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per (span, layer): an MVM core's time per image, and the vector core's (its MVMs,
        then the chain; the channel carries the layer's window and chain traffic meanwhile).
        `by_rows`: the element schedule, whose one-row tiles interleave a core's replicas."""
        r = np.maximum(r, 1)
        dram_ns, _, _, loads_ns = window_ns_of(r, loads)
        w = -(-win // r)  # windows per replica
        on_one = on_one_of(r)
        # A core's vector unit takes its replicas' epilogues (bias add, fused op: a few short
        # ops per window and crossbar column block) in program order. In the layer and batch
        # schedules the g replicas that local memory holds side by side run interleaved, in
        # turns (`emit_weight.interleaved`): each turn's epilogues follow its MVMs, so only
        # the last turn's of the other g - 1 show, unless the vector unit is the slower; the
        # replicas beyond g run after them, their epilogues behind the others' (g = 1: the
        # first replica's epilogues overlap its MVMs, the others' run back to back after it).
        # In the element schedule every tile is a chunk of the image loop, the chunks of all
        # of a core's replicas in the order of their keys: all of them interleave, a turn a row.
        if by_rows:
            g = on_one
            turns = np.maximum(1.0, np.floor(w / np.maximum(row_windows_l[lay], 1.0)))
        else:
            g = interleaved_of(r)
            turns = np.full(w.shape, float(lb.INTERLEAVE_TURNS))
        piece = np.ceil(w / turns)
        # A core's DMA queue takes its replicas' bands in program order and does not run a
        # whole image ahead of its MVMs: each image its last replica starts once the bands of
        # the others have crossed the channel (interleaved: their first turns' bands), which
        # every core's replicas share. Its last epilogue ends after its own MVMs, or after the
        # earlier replicas' epilogues on the vector unit, whichever is later.
        ahead = (g - 1) * np.where(g > 1, 1.0 / turns, 1.0) + (on_one - g)
        stagger = ahead / on_one * loads_ns
        deferred = (np.where(g > 1, (g - 1) * piece, 0) + (on_one - g) * w) * epilogue_ns
        mvm_ns = (
            np.maximum(w * interval + np.maximum(deferred, stagger), g * w * epilogue_ns)
            + fused_ns / r
        )
        split_ns = split_ns_of(r)
        mvm_core = np.where(present, np.maximum(mvm_ns, dram_ns + chain_dram_ns) + split_ns, 0.0)
        alone = np.maximum(mvm_ns, fill_ns_) + chain_ns + split_ns
        # The chain's transfers share the channel with the layer's window loads, which the
        # other cores issue ahead of their MVMs: of the window traffic, the part that falls in
        # the chain's DRAM-bound share of the vector core's time delays it.
        waits = dram_ns * np.minimum(chain_dram_ns / np.maximum(alone, 1e-9), 1.0)
        vec_core = np.where(
            present, np.maximum(alone + waits, dram_ns + chain_dram_ns + split_ns), 0.0
        )
        return mvm_core, np.maximum(mvm_core, vec_core)

    def stages(r: np.ndarray) -> np.ndarray:
        return mvm_stages(r)[1]

    def load_write_ns(r: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        replicated = (r * wb_layer).sum(axis=1)
        load = (
            np.maximum(weight_bytes / dram_bw, replicated / chip.bus_bandwidth) / NS
            + chip.dram_latency_ns
        )
        # A core writes crossbar k while it loads crossbar k+1 (ld_weight and wr_xbar use
        # different units), so only the writes that outlast the loads show: the last crossbar's
        # write after the last load, or a core's whole write queue after its first load.
        xbars = (r * xb_layer).sum(axis=1)
        one = chip.crossbar_rows * chip.crossbar_write_ns_per_row
        queue = np.minimum(xbars, chip.crossbars_per_core) * one
        first_load = load * np.minimum(1.0, 1.0 / np.maximum(xbars, 1))
        write = np.maximum(one, queue + first_load - load)
        return load, write, replicated

    # Replication (A7): the bottleneck-minimal tau first, then fewer replicas (larger tau, a
    # geometric ladder up to one replica) when loading and writing the extra copies costs more
    # than they save over the batch; the estimate uses the slowest layer as the period.
    best_tau = tau_min.copy()
    best = np.full(tau_min.shape, np.inf)
    tau = tau_min.astype(np.float64)
    for _ in range(64):
        t = np.minimum(np.ceil(tau), top).astype(np.int64)
        r = _replication(t, win, present)
        items = np.einsum("sj,sjc->sc", r, counts)
        ok = packs_counts(items, sizes, chip) | (t >= top)
        st = stages(r)
        load, write, _ = load_write_ns(r)
        est = load + write + st.sum(axis=1) + (B - 1) * st.max(axis=1)
        better = ok & (est < best)
        best = np.where(better, est, best)
        best_tau = np.where(better, t, best_tau)
        if (t >= top).all():
            break
        tau = tau * 1.25
    rep = _replication(best_tau, win, present)
    for (s_, e_), reps in (replication or {}).items():  # the replicas the IR records
        rep[index[s_, e_ - s_ - 1], : len(reps)] = reps
    crossbars = (rep * xb_layer).sum(axis=1)
    written_bits = (rep * (pre_wbits[hi] - pre_wbits[lo])).sum(axis=1)
    load_ns, write_ns, replicated_bytes = load_write_ns(rep)
    dram_ns, window_dram, bus_only, _ = window_ns_of(rep)
    layer_dram = window_dram + (chain_io + split_dram) * act_bytes

    # Image pipeline: the cores of a partition each run their steps in program order, a step
    # over all images unless it continues the step before's image loop, and wait for a
    # producer's token per image; so one image takes the layer DAG's critical path (each layer's
    # time plus its MVM and DRAM latency), and each further image the busiest core's sum over
    # the layers it holds, or the DRAM channel's time per image.
    mvm_ns, stage_ns = mvm_stages(rep)
    on_core = _core_layers(rep, counts, sizes, chip)
    for (s_, e_), held in (on_core_of or {}).items():  # a placement hint's cores
        on_core[index[s_, e_ - s_ - 1], : held.shape[0]] = held
    vcore = _vector_cores(on_core, chain_steps > 0, chain_work)
    cont = _continues(on_core, vcore, present)

    def core_stages(mvm_ns: np.ndarray, stage_ns: np.ndarray) -> np.ndarray:
        """[S, L, C]: each layer's time per image on each core holding it (its vector core:
        MVMs and chain), a core's independent layers of one image loop merged."""
        per_core = np.where(vcore, stage_ns[:, :, None], on_core * mvm_ns[:, :, None])
        return _merged_loops(per_core, on_core, cont, lay, deps[0])

    def channel_ns_of(layer_dram: np.ndarray, bus_only: np.ndarray) -> np.ndarray:
        """Per span: the shared channel's time per image (DRAM at its rate, all on the bus)."""
        return (
            np.maximum(
                layer_dram.sum(axis=1) / dram_bw,
                (layer_dram + bus_only).sum(axis=1) / chip.bus_bandwidth,
            )
            / NS
        )

    core_stage = core_stages(mvm_ns, stage_ns)
    core_ns = core_stage.sum(axis=1).max(axis=1)
    channel_ns = channel_ns_of(layer_dram, bus_only)
    period_ns = np.maximum(core_ns, channel_ns)
    # One image's path: the layer DAG's critical path (parallel branches on distinct cores
    # overlap; on a shared core they queue), each layer its overlapped time plus its latencies;
    # floored so that weight load + write + fill >= period: then the latency per inference
    # falls as the batch grows, as it must when a batch only adds images to a pipeline.
    first_ns = np.where(present, mvm_stages(rep, chain_first)[1] + per_layer_fixed, 0.0)
    # (one image: a core's crossbars run its independent layers side by side; a layer holds the
    # core for its share of the window loads, which queue in order, and on its vector core for
    # its chain)
    share = dram_ns / np.maximum(on_core.sum(axis=2), 1)
    busy = (
        np.where(vcore, (first_ns - mvm_ns - per_layer_fixed)[:, :, None], 0.0) + share[:, :, None]
    )
    # A layer's first MVMs wait for their line buffer's first band, which every core holding
    # the layer loads at once when the layer starts (after its input's token): the channel
    # serves them together, so the last core's band lands after all of them (a core's
    # interleaved replicas each load theirs before their first turn).
    first_ns = first_ns + np.where(
        present,
        on_core.sum(axis=2)
        * interleaved_of(rep)
        * _first_bands(net, units, rep, lay, present, chip, band_cache)
        * act_bytes
        / dram_bw
        / NS,
        0.0,
    )
    fill_ns = np.maximum(
        _chain_ns(on_core, first_ns, present, 1, lay, deps, busy),
        np.maximum(dram_ns.sum(axis=1), period_ns - load_ns - write_ns),
    )
    fill_ns = fill_ns + _relayout_ns(net, units, ss, ee, chip)
    # The further images also cannot outrun the chain of steps: a core runs its layers in order,
    # each over all images, and image i of a layer waits for image i of the layer before it
    # (on whichever cores hold it); so a core's later layer can idle behind a slow producer.
    extra_ns = 0.0
    pipe_ns = 0.0
    if B > 1:
        # The layer before as the only producer here, not the DAG: over the batch the branches
        # do not overlap as freely as one image's do (measured against the simulator: with the
        # DAG, ResNet18 batch 16 partition 0 was 21-28% optimistic on compass-m/l, and 5 of the
        # 272 partitions of docs/simulator.md fell outside 10%).
        line = (np.eye(n_layers, k=-1, dtype=bool), np.zeros((n_layers, n_layers), dtype=bool))
        extra_ns = _chain_ns(on_core, core_stage, present, B, lay, line, cont=cont) - _chain_ns(
            on_core, core_stage, present, 1, lay, line, cont=cont
        )
        # The batch schedule: a core's layers as stages of a pipeline over the images, each
        # iteration one image of each (`_pipeline_ns`); what it adds to one image's fill.
        stage = _stages(present, lay, deps, cont)
        # (the layer before as the only producer, as for `extra_ns`: against the simulator's
        # batch-schedule runs of ResNet18 and SqueezeNet 1.1 this was closer than the DAG)
        pipe_ns = _pipeline_ns(on_core, core_stage, present, B, lay, line, stage) - _pipeline_ns(
            on_core, core_stage, present, 1, lay, line, stage
        )
    layer_ns = fill_ns + np.maximum((B - 1) * period_ns, extra_ns)
    batch_ns = fill_ns + np.maximum((B - 1) * period_ns, pipe_ns)
    # The element schedule (`pimdsl.isa.element`): tiles of ELEMENT_ROWS rows (their own line
    # buffer traffic), one image's layers pipelined by rows (no image-granular chain), then per
    # further image the busiest layer on one core, or the channel: a core's layers interleave
    # their tiles, each on its own crossbars (against the simulator: SqueezeNet 1.1 in one
    # partition on compass-s, 0.77 ms predicted, 0.98 simulated; ResNet18's first greedy
    # partition 1.62 and 1.38; docs/cost-model.md).
    e_dram_ns, e_window_dram, e_bus_only, _ = window_ns_of(rep, element_loads)
    e_mvm_ns, e_stage_ns = mvm_stages(rep, loads=element_loads, by_rows=True)
    e_layer_dram = e_window_dram + (chain_io + split_dram) * act_bytes
    e_period = np.maximum(
        core_stages(e_mvm_ns, e_stage_ns).max(axis=(1, 2)), channel_ns_of(e_layer_dram, e_bus_only)
    )
    e_first = np.where(
        present,
        mvm_stages(rep, chain_first, element_loads, by_rows=True)[1] + per_layer_fixed,
        0.0,
    )
    rows = np.where(present, win / np.maximum(rep, 1) / np.maximum(row_windows_l[lay], 1), 1.0)
    element_fill = np.maximum(
        _element_ns(e_first, present, lay, deps, rows),
        np.maximum(e_dram_ns.sum(axis=1), e_period - load_ns - write_ns),
    )
    element_ns = element_fill + _relayout_ns(net, units, ss, ee, chip) + (B - 1) * e_period
    # per span: the index in SCHEDULES of the schedule it runs
    by_schedule = np.stack([layer_ns, batch_ns, element_ns])
    chosen = np.full(
        ss.shape[0], SCHEDULES.index(schedule) if schedule in SCHEDULES else 0, dtype=np.int8
    )
    if schedule == "auto":
        chosen = np.argmin(by_schedule[:2], axis=0).astype(np.int8)
        # element only where the model predicts it clearly faster: its tiles cost DRAM traffic
        # and its timing is the least certain (docs/cost-model.md "The element schedule")
        better = by_schedule[2] < (1 - ELEMENT_MARGIN) * by_schedule[:2].min(axis=0)
        chosen = np.where(better, SCHEDULES.index("element"), chosen).astype(np.int8)
    compute_ns = by_schedule[chosen, np.arange(ss.shape[0])]
    # the traffic of the schedule each span runs (the element schedule's tiles load more)
    is_element = (chosen == SCHEDULES.index("element"))[:, None]
    layer_dram = np.where(is_element, e_layer_dram, layer_dram)
    bus_only = np.where(is_element, e_bus_only, bus_only)

    # --- boundary traffic per inference ----------------------------------------------------------
    entry = np.zeros(ss.shape[0])
    exit_ = np.zeros(ss.shape[0])
    last_unit = units.end - 1
    for v in net.values:
        if v.elements == 0:
            continue
        nbytes = v.elements * act_bytes
        pos = -1 if v.owner == -2 else (0 if v.owner == -1 else int(last_unit[v.owner]))
        intervals = [(int(units.first[c]), int(last_unit[c])) for c in v.consumer_layers]
        intervals += [
            (p, p) for p in (0 if o == -1 else int(last_unit[o]) for o in v.consumer_owners)
        ]
        if v.returned:
            intervals.append((n, n))
        if not intervals:
            continue
        used = np.zeros(ss.shape[0], dtype=bool)
        for a, b in intervals:
            used |= (a <= ee - 1) & (b >= ss)
        entry += np.where((pos < ss) & used, nbytes, 0.0)
        furthest = max(b for _, b in intervals)
        exit_ += np.where((ss <= pos) & (pos < ee) & (furthest >= ee), nbytes, 0.0)
    # a layer cut by a boundary: the running partial sum goes through DRAM (chained)
    first_l = units.first[lay]
    frac_in = (pre_ch[lo] - pre_ch[first_l]) / cols_l[lay]
    frac_out = (pre_ch[hi] - pre_ch[first_l]) / cols_l[lay]
    entry += np.where(present & (lo > first_l), out_bytes_l[lay] * frac_in, 0.0).sum(axis=1)
    exit_ += np.where(present & (hi < units.end[lay]), out_bytes_l[lay] * frac_out, 0.0).sum(axis=1)

    # --- latency (ns) ----------------------------------------------------------------------------
    # Entries and exits are read and written by the layers' own window loads and stores, which
    # the compute term holds: no separate boundary transfer (kept as a key, always 0).
    boundary_ns = np.zeros_like(compute_ns)
    total_ns = load_ns + write_ns + compute_ns
    latency_s = total_ns * NS

    # --- energy (J, whole batch) -----------------------------------------------------------------
    e_load = (weight_bytes * chip.dram_pj_per_byte + replicated_bytes * chip.bus_pj_per_byte) * PJ
    e_write = written_bits * chip.crossbar_write_pj_per_bit * PJ
    # the activation traffic the latency counts (every window's patch, every store), which
    # includes the entries and exits
    act_dram = layer_dram.sum(axis=1)
    e_dram = (
        (
            act_dram * (chip.dram_pj_per_byte + chip.bus_pj_per_byte)
            + bus_only.sum(axis=1) * chip.bus_pj_per_byte
        )
        * B
        * PJ
    )
    e_mvm = (pre_mvm[ee] - pre_mvm[ss]) * B * PJ
    vec_total_bytes = vec_bytes.sum(axis=1)
    e_vector = vec_total_bytes / chip.vector_bytes * chip.vector_pj_per_op * B * PJ
    e_local = (
        ((pre_lm[ee] - pre_lm[ss]) + 2 * vec_total_bytes) * chip.local_memory_pj_per_byte * B * PJ
    )
    e_static = chip.cores * chip.static_power_mw_per_core * 1e-3 * latency_s
    e_total = e_load + e_write + e_dram + e_mvm + e_vector + e_local + e_static

    return SpanCosts(
        chip=chip,
        batch=B,
        units=units,
        max_end=max_end,
        start=ss,
        end=ee,
        index=index,
        layer0=l0,
        replication=rep,
        crossbars=crossbars.astype(np.int64),
        weight_bytes=weight_bytes,
        entry_bytes=entry,
        exit_bytes=exit_,
        act_dram_bytes=act_dram,
        latency={
            "weight_load": load_ns * NS,
            "crossbar_write": write_ns * NS,
            "boundary": boundary_ns * NS,
            "compute": compute_ns * NS,
            "total": latency_s,
        },
        energy={
            "weight_load": e_load,
            "crossbar_write": e_write,
            "dram": e_dram,
            "mvm": e_mvm,
            "vector": e_vector,
            "local_memory": e_local,
            "static": e_static,
            "total": e_total,
        },
        schedules=chosen,
        schedule={
            "fill": fill_ns,
            "period": np.broadcast_to(period_ns, fill_ns.shape),
            "extra": np.broadcast_to(extra_ns, fill_ns.shape),
            "pipeline": np.broadcast_to(pipe_ns, fill_ns.shape),
            "layer": layer_ns,
            "batch": batch_ns,
            "element": element_ns,
            "element_period": e_period,
            "element_fill": element_fill,
            "dram": layer_dram.sum(axis=1) / dram_bw / NS,
            "core": core_ns,
            "layer_first": first_ns,
            "layer_stage": stage_ns,
            "layer_dram": dram_ns,
            "layer_vec": vec_ns,
        },
    )
