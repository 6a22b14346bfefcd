"""An independent roofline of the COMPASS chips, next to the simulated lowered programs (issue 13).

    python benchmarks/roofline.py [--models resnet18,...] [--chips compass-s,...] [--batches 16]
                                  [--strategy greedy,optimal,ga] [-j N] [--quick]
                                  [--roofline-only] [--fresh] [--skip-done] [--timeout S]
                                  [--keep DIR] [--out DIR]

For each case (network x chip x batch B x partition strategy) this script

1. partitions the zoo model with the CLI (`pim-opt --model M --chip C --batch B --partition ...
   -o part.mlir`; strategy `optimal` is `--partition='strategy=optimal'`, `ga` is
   `--partition --ga-group` with the GA's defaults: seed 0, latency, seeded with the optimum),
2. computes a roofline for one batch of B images from first principles (below) using only the
   chip's fields (`pim.chip` of that file), the layer shapes of the nn ops in it and the
   partition boundaries it holds — never pimdsl's cost model, lowering or simulator,
3. lowers it (`pim-opt part.mlir --lower-to-isa -o isa.mlir`) and simulates it
   (`pim-run isa.mlir --timing-only --stats stats.json`), and reads `latency_s`,
   `throughput_ips` and `dram_bytes` of the stats file (schema: pimdsl/sim/stats.py),
4. reports simulated throughput / roofline throughput, DRAM bytes per image / the minimum, and
   which bound binds. Results merge into benchmarks/results/roofline.{json,md} (a case run again
   replaces its row; `--fresh` starts over), each case with the date, machine load and commit.

The roofline (docs/roofline.md has the same text with a worked example)
----------------------------------------------------------------------
Chip fields: X = crossbar_rows, Y = crossbar_cols, N = cores x crossbars_per_core crossbars,
BW = dram_bandwidth. Per weight layer l (conv2d or linear; per group: rows r_l = Cin/g*kh*kw,
columns c_l = Cout/g, g_l groups; w_l = windows per image = Hout*Wout for a conv, 1 for a linear
on a vector):

- a weight spans s = ceil(weight_bits / cell_bits) columns, so one crossbar holds
  P = floor(Y / s) output channels side by side;
- crossbar tiles T_l = g_l * ceil(r_l / X) * ceil(c_l / P) (dense tiling). A grouped layer whose
  group fits one crossbar (r_l <= X and c_l <= P) packs k = min(floor(X / r_l), floor(P / c_l))
  groups block-diagonally on one crossbar: T_l = ceil(g_l / k);
- one MVM occupies its crossbar for t_mvm = max(mvm_interval_ns, (act_bits / dac_bits) *
  mvm_per_bit_ns): the bit-serial input steps each use the array; the read set-up, ADC,
  shift-add and write-back phases pipeline with the next MVM, and the crossbar never accepts
  MVMs faster than mvm_interval_ns (800 ns on the COMPASS presets);
- weight bytes W = sum_l g_l * r_l * c_l * weight_bits / 8 (biases excluded: they are not
  crossbar weights; at most 0.4% of the weights on these networks, SqueezeNet);
- programming a tile writes each of its rows once: t_prog = sum_l g_l * r_l * ceil(c_l / P) *
  crossbar_write_ns_per_row (block-diagonal tiles: the same sum, the stacked groups' rows);
- the network *fits* when sum_l T_l <= N.

Bounds for one batch of B images:

(a) compute: T_compute = (B * sum_l w_l * T_l * t_mvm + R * t_prog) / N — every MVM's crossbar
    occupancy plus the programming of the weights, spread over all N crossbars (all busy). A
    crossbar being programmed cannot compute; programming one crossbar overlaps with the DRAM
    stream of the next and with MVMs on the others. R = 1 when the network does not fit (every
    tile is written at least once per batch), R = 0 when it fits (written once ever, amortised
    over a stream of batches: the steady state).
(b) weight stream: T_weights = R * W / BW — when the network does not fit, every weight crosses
    the DRAM interface at least once per batch (partitions run in order, each batch again); when
    it fits, once ever, amortised to 0 per batch over a stream of batches.
(c) DRAM bytes: D_min = R' * W + B * (I + O + S) with I = network input and O = network output
    elements per image and S = the boundary spill per image, all at act_bits / 8 bytes per
    element (the precision the crossbars consume and the simulator stores; a partial sum may
    really need more bits, so this stays a lower bound). S is read from the partition-level IR
    the compiler picked: every value a partition yields to a later partition is stored once and
    loaded once by each later partition that takes it as an operand; for a layer cut by a
    boundary (a *piece*) only the output channels its units computed count (the union of the
    `out` ranges of its `partition.unit_weights` boxes, carried through `nn.add
    {pim.accumulate}`); an extra load of the network input by a later partition counts as spill.
    R' = 1 unless the compiler picked one partition for a network that fits (then 0, amortised as
    in (b)). As a time: T_dram = D_min / BW.
(d) roofline time T = max(T_compute, T_weights, T_dram); roofline throughput = B / T; the bound
    that gives T *binds*.

For a network that fits, the "cold" roofline of one batch that also loads the weights (R = R' = 1)
is reported too, since one `pim-run` of a batch includes that load.

(e) replication bound (`ReplicationBound`): (a) for weights that stay on their crossbars, each
    layer running on whole copies of its tiles. Per partition p of the grouping, with T_lp the
    tiles of the layer (or piece) it holds, the least period P_p with sum_l ceil(w_l * t_mvm /
    P_p) * T_lp <= N; T_rep = max(B * sum_p P_p + R * t_prog / N, T_weights, T_dram). It counts
    crossbars, not cores, so it stays an upper bound on throughput (docs/roofline.md).
Not modelled (each would only raise T, so the roofline stays an upper bound on throughput): the
vector unit, the on-chip bus between cores, local memory capacity, pipeline fill and drain, layer
dependencies inside a batch, DRAM latency.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MODELS: tuple[str, ...] = ("resnet18", "vgg16", "squeezenet1_0", "squeezenet1_1")
CHIPS: tuple[str, ...] = ("compass-s", "compass-m", "compass-l")
BATCHES: tuple[int, ...] = (1, 16)
# the lowering's schedule (docs/lowering.md): layer and batch for every partition, auto as the
# partition pass picks per partition (`--partition='schedule=auto'`)
SCHEDULES = ("layer", "batch", "element", "auto")
STRATEGIES: dict[str, tuple[str, ...]] = {
    "greedy": ("--partition",),
    "optimal": ("--partition=strategy=optimal",),
    "ga": ("--partition", "--ga-group"),
}


def _partition_flags(strategy: str, schedule: str) -> tuple[str, ...]:
    """pim-opt's partitioning flags: the partition pass costs the partitions for `schedule`
    (auto: per partition the faster) and records it, which the lowering then emits."""
    flags = STRATEGIES[strategy]
    opts = {"greedy": "", "optimal": "strategy=optimal ", "ga": ""}[strategy]
    return (f"--partition={opts}schedule={schedule}", *flags[1:])


QUICK = {
    "models": ("resnet18", "squeezenet1_0"),
    "chips": CHIPS,
    "batches": (16,),
    "strategies": ("greedy", "optimal"),
}
GOAL_THROUGHPUT = 0.7  # issue 13: simulated >= 0.7 of the roofline at batch 16
GOAL_DRAM = 2.0  # issue 13: DRAM bytes per image <= 2x the minimum
ROOT = Path(__file__).resolve().parent.parent
NS = 1e-9


# --------------------------------------------------------------------------------------------
# The roofline: shapes and formulas
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WeightLayer:
    """One conv2d/linear: per group `rows` x `cols` weights, `groups` groups, `windows` per image."""

    name: str
    rows: int
    cols: int
    groups: int
    windows: int

    @property
    def weights(self) -> int:
        return self.groups * self.rows * self.cols


@dataclass(frozen=True)
class ChipFacts:
    """The chip fields the roofline reads (names as in pimdsl/chip.py, docs/chips.md)."""

    cores: int
    crossbars_per_core: int
    crossbar_rows: int
    crossbar_cols: int
    cell_bits: int
    weight_bits: int
    act_bits: int
    dac_bits: int
    mvm_per_bit_ns: float
    mvm_interval_ns: float
    dram_bandwidth: float
    crossbar_write_ns_per_row: float

    @classmethod
    def of(cls, chip: Any) -> ChipFacts:
        """From a `pimdsl.chip.Chip` (or anything with these attributes)."""
        return cls(**{f: getattr(chip, f) for f in cls.__dataclass_fields__})

    @property
    def crossbars(self) -> int:
        return self.cores * self.crossbars_per_core

    @property
    def channels_per_crossbar(self) -> int:
        """P = floor(Y / ceil(weight_bits / cell_bits))."""
        return self.crossbar_cols // -(-self.weight_bits // self.cell_bits)

    @property
    def mvm_occupancy_ns(self) -> float:
        """t_mvm = max(mvm_interval_ns, act_bits / dac_bits * mvm_per_bit_ns)."""
        return max(self.mvm_interval_ns, self.act_bits // self.dac_bits * self.mvm_per_bit_ns)

    @property
    def act_bytes(self) -> float:
        return self.act_bits / 8


def tiles(layer: WeightLayer, chip: ChipFacts) -> int:
    """T_l: crossbars one copy of the layer's weights needs (dense, or block-diagonal groups)."""
    x, p = chip.crossbar_rows, chip.channels_per_crossbar
    if layer.groups > 1 and layer.rows <= x and layer.cols <= p:
        k = min(x // layer.rows, p // layer.cols)
        return -(-layer.groups // k)
    return layer.groups * -(-layer.rows // x) * -(-layer.cols // p)


def programmed_rows(layer: WeightLayer, chip: ChipFacts) -> int:
    """Crossbar rows written to load the layer once: g * r * ceil(c / P)."""
    return layer.groups * layer.rows * -(-layer.cols // chip.channels_per_crossbar)


def weight_bytes(layers: Iterable[WeightLayer], chip: ChipFacts) -> float:
    """W = sum g * r * c * weight_bits / 8."""
    return sum(layer.weights for layer in layers) * chip.weight_bits / 8


@dataclass(frozen=True)
class Traffic:
    """Activation elements per image that must cross the DRAM interface, for one grouping."""

    partitions: int
    input_elems: int  # network input, loaded once
    output_elems: int  # network output, stored once
    spill_elems: float  # boundary values: stores + loads (pieces: their channels only)


@dataclass(frozen=True)
class Roofline:
    batch: int
    fits: bool
    crossbars: int
    tiles: int
    mvms: int  # per batch: B * sum w_l * T_l
    mvm_occupancy_ns: float
    weight_bytes: float
    t_mvm_s: float  # B * sum w_l T_l t_mvm / N
    t_program_s: float  # R * t_prog / N
    t_compute_s: float
    t_weights_s: float
    t_dram_s: float
    dram_min_bytes: float  # per batch
    dram_min_bytes_per_image: float
    spill_bytes_per_image: float
    time_s: float
    throughput_ips: float
    binds: str
    cold_time_s: float  # one batch that also loads the weights (differs only when it fits)
    cold_throughput_ips: float
    cold_dram_min_bytes_per_image: float
    limit_time_s: float  # the same without boundary spill: the chip's limit, any grouping
    limit_throughput_ips: float


def roofline(
    layers: Sequence[WeightLayer], chip: ChipFacts, batch: int, traffic: Traffic
) -> Roofline:
    """Bounds (a)-(d) of the module docstring for one batch of `batch` images."""
    n = chip.crossbars
    t_occ = chip.mvm_occupancy_ns
    total_tiles = sum(tiles(layer, chip) for layer in layers)
    fits = total_tiles <= n
    mvms = batch * sum(layer.windows * tiles(layer, chip) for layer in layers)
    w = weight_bytes(layers, chip)
    t_mvm = mvms * t_occ / n * NS
    t_prog_all = (
        sum(programmed_rows(layer, chip) for layer in layers)
        * chip.crossbar_write_ns_per_row
        / n
        * NS
    )
    io_per_image = (traffic.input_elems + traffic.output_elems) * chip.act_bytes
    per_image = io_per_image + traffic.spill_elems * chip.act_bytes

    def bounds(r: int, r_dram: int) -> tuple[float, float, float, float]:
        t_compute = t_mvm + r * t_prog_all
        t_weights = r * w / chip.dram_bandwidth
        d_min = r_dram * w + batch * per_image
        return t_compute, t_weights, d_min / chip.dram_bandwidth, d_min

    r = 0 if fits else 1
    r_dram = 0 if fits and traffic.partitions == 1 else 1
    t_compute, t_weights, t_dram, d_min = bounds(r, r_dram)
    named = {"compute": t_compute, "weights": t_weights, "dram": t_dram}
    binds = max(named, key=lambda k: named[k])  # ties: compute, then weights, then dram
    time_s = named[binds]
    cold = bounds(1, 1)
    cold_time = max(cold[:3])
    limit = max(t_compute, t_weights, (r * w + batch * io_per_image) / chip.dram_bandwidth)
    return Roofline(
        batch=batch,
        fits=fits,
        crossbars=n,
        tiles=total_tiles,
        mvms=mvms,
        mvm_occupancy_ns=t_occ,
        weight_bytes=w,
        t_mvm_s=t_mvm,
        t_program_s=r * t_prog_all,
        t_compute_s=t_compute,
        t_weights_s=t_weights,
        t_dram_s=t_dram,
        dram_min_bytes=d_min,
        dram_min_bytes_per_image=d_min / batch,
        spill_bytes_per_image=traffic.spill_elems * chip.act_bytes,
        time_s=time_s,
        throughput_ips=batch / time_s,
        binds=binds,
        cold_time_s=cold_time,
        cold_throughput_ips=batch / cold_time,
        cold_dram_min_bytes_per_image=cold[3] / batch,
        limit_time_s=limit,
        limit_throughput_ips=batch / limit,
    )


@dataclass(frozen=True)
class ReplicationBound:
    """Bound (a) for weights that stay on their crossbars: per partition, every layer (or piece)
    runs its windows on whole copies of its tiles, so its period is at least the least P with
    sum_l ceil(w_l * t_mvm / P) * T_l <= N (`replication_bound`); a batch takes B * sum_p P_p
    plus the programming of (a), and at least the weight stream and the DRAM bound."""

    periods_ns: tuple[float, ...]  # per partition: the least period P_p
    crossbars: tuple[int, ...]  # per partition: crossbars its replicas take at P_p
    time_s: float
    throughput_ips: float


def least_period(work: Sequence[tuple[float, int]], crossbars: int) -> tuple[float, int]:
    """(P, crossbars used): the least period P at which layers with (MVM ns per image on one
    copy, tiles of one copy) run, each on ceil(ns / P) copies, on at most `crossbars`; every
    candidate P is some layer's ns / k. One copy each that does not fit: (max ns, its tiles)."""
    work = [(ns, t) for ns, t in work if t > 0]
    if not work:
        return 0.0, 0

    def used(p: float) -> int:
        return sum(math.ceil(ns / p - 1e-9) * t for ns, t in work)

    top = max(ns for ns, _ in work)
    if used(top) > crossbars:
        return top, used(top)
    cands = sorted({ns / k for ns, t in work for k in range(1, crossbars // t + 1)} | {top})
    lo, hi = 0, len(cands) - 1  # cands[hi] fits; find the first that fits
    while lo < hi:
        mid = (lo + hi) // 2
        if used(cands[mid]) <= crossbars:
            hi = mid
        else:
            lo = mid + 1
    return cands[hi], used(cands[hi])


def replication_bound(
    parts: Sequence[Sequence[tuple[WeightLayer, int]]],
    chip: ChipFacts,
    batch: int,
    rl: Roofline,
) -> ReplicationBound:
    """`ReplicationBound` of the grouping `parts` (per partition: its layers and the tiles of
    the part it holds, `partition_layers`), next to the roofline `rl` of the same case."""
    t = chip.mvm_occupancy_ns
    found = [least_period([(L.windows * t, k) for L, k in p], chip.crossbars) for p in parts]
    compute = batch * sum(p for p, _ in found) * NS + rl.t_program_s
    time_s = max(compute, rl.t_weights_s, rl.t_dram_s)
    return ReplicationBound(
        periods_ns=tuple(p for p, _ in found),
        crossbars=tuple(c for _, c in found),
        time_s=time_s,
        throughput_ips=batch / time_s,
    )


# --------------------------------------------------------------------------------------------
# Reading shapes and partition boundaries from IR (nn or partition level)
# --------------------------------------------------------------------------------------------
def parse_module(text: str) -> Any:
    from xdsl.parser import Parser

    from pimdsl.dialects import context

    return Parser(context(), text).parse_module()


def _shape(value: Any) -> tuple[int, ...]:
    return tuple(value.type.get_shape())


def _attr(op: Any, name: str) -> Any:
    return op.attributes.get(name) or op.properties.get(name)


def _ints(attr: Any) -> list[int]:
    return [int(v) for v in attr.get_values()]


def _weight_source(op: Any) -> tuple[Any, Any]:
    """The layer's `nn.weight` op (through `partition.unit_weights`) and that unit_weights op."""
    owner = op.operands[1].owner
    if owner.name == "partition.unit_weights":
        return owner.operands[0].owner, owner
    return owner, None


def weight_layers(module: Any) -> list[WeightLayer]:
    """Every conv2d/linear of the module once (pieces of one layer are the same layer)."""
    seen: dict[str, WeightLayer] = {}
    for op in module.walk():
        if op.name in ("nn.conv2d", "nn.linear"):
            layer = _layer_of(op, str(len(seen)))
            seen.setdefault(layer.name, layer)
    return list(seen.values())


def _layer_of(op: Any, computed_name: str) -> WeightLayer:
    """The `WeightLayer` of one nn.conv2d or nn.linear, named after its `nn.weight` (or
    `computed_name` for a weight computed in the IR)."""
    weight_op, _ = _weight_source(op)
    name = weight_op.properties["name"].data if weight_op.name == "nn.weight" else computed_name
    w = _shape(op.operands[1])
    out = _shape(op.results[0])
    if op.name == "nn.conv2d":
        groups = _attr(op, "groups").value.data
        rows, cols, windows = w[1] * w[2] * w[3], w[0] // groups, out[2] * out[3]
    else:
        groups = 1
        n_out, n_in = (w[1], w[0]) if _attr(op, "weight_in_out") is not None else (w[0], w[1])
        rows, cols = n_in, n_out
        windows = math.prod(out) // (out[0] * n_out)
    return WeightLayer(name, rows, cols, groups, windows)


def _piece_tiles(op: Any, layer: WeightLayer, chip: ChipFacts) -> int:
    """Tiles of the part of `layer` that `op` computes: all of them, or for a piece (its
    `partition.unit_weights` boxes [out_lo, out_hi, in_lo, in_hi]) each box tiled densely (a
    grouped layer: its share of the output channels of the whole layer's tiles)."""
    _, unit_weights = _weight_source(op)
    full = tiles(layer, chip)
    if _attr(op, "pim.piece") is None or unit_weights is None:
        return full
    b = _ints(unit_weights.properties["boxes"])
    boxes = [b[i : i + 4] for i in range(0, len(b), 4)]
    if layer.groups > 1:
        out = sum(hi - lo for lo, hi in _union((x[0], x[1]) for x in boxes))
        return math.ceil(full * out / (layer.groups * layer.cols))
    w = _shape(op.operands[1])
    per_in = w[2] * w[3] if op.name == "nn.conv2d" else 1  # crossbar rows per input channel
    x, p = chip.crossbar_rows, chip.channels_per_crossbar
    return sum(
        math.ceil((i1 - i0) * per_in / x) * math.ceil((o1 - o0) / p) for o0, o1, i0, i1 in boxes
    )


def partition_layers(module: Any, chip: ChipFacts) -> list[list[tuple[WeightLayer, int]]]:
    """Per partition of `@main` (one for nn-level IR), each weight layer it computes and the
    crossbar tiles one copy of its part takes (`_piece_tiles`)."""
    main = next(op for op in module.walk() if op.name == "func.func")
    parts = [op for op in main.body.block.ops if op.name == "partition.partition"] or [main]
    out = []
    for part in parts:
        items = []
        for op in part.walk():
            if op.name in ("nn.conv2d", "nn.linear"):
                layer = _layer_of(op, str(id(op)))
                items.append((layer, _piece_tiles(op, layer, chip)))
        out.append(items)
    return out


def _union(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


Coverage = list[tuple[int, int]] | None  # output channels present; None = all


def _coverage(value: Any, outer: dict[Any, Coverage], arg_map: dict[Any, Any]) -> Coverage:
    op = value.owner
    name = getattr(op, "name", None)
    if name == "partition.load":
        src = arg_map.get(op.operands[0])
        return outer.get(src) if src is not None else None
    if name in ("nn.conv2d", "nn.linear") and _attr(op, "pim.piece") is not None:
        _, unit_weights = _weight_source(op)
        if unit_weights is None:
            return None
        b = _ints(unit_weights.properties["boxes"])
        return _union((b[i], b[i + 1]) for i in range(0, len(b), 4))
    if name == "nn.add" and _attr(op, "pim.accumulate") is not None:
        parts = [_coverage(v, outer, arg_map) for v in op.operands]
        if any(p is None for p in parts):
            return None
        return _union(r for p in parts for r in p or [])
    return None


def _elements(value: Any, coverage: Coverage, images: int) -> float:
    shape = _shape(value)
    total = math.prod(shape) / images
    if coverage is None:
        return total
    return total * sum(hi - lo for lo, hi in coverage) / shape[1]


def boundary_traffic(module: Any) -> Traffic:
    """Input, output and boundary-spill elements per image of a module's `@main`.

    At nn level (no partitions) the spill is 0. At partition level: each partition result
    taken by later partitions is stored once, and loaded once by each partition taking it."""
    main = next(op for op in module.walk() if op.name == "func.func")
    block = main.body.block
    images = _shape(block.args[0])[0]
    input_elems = sum(math.prod(_shape(a)) // images for a in block.args)
    ret = block.last_op
    output_elems = sum(math.prod(_shape(v)) // images for v in ret.operands)
    parts = [op for op in block.ops if op.name == "partition.partition"]
    if not parts:
        return Traffic(1, input_elems, output_elems, 0.0)
    coverage: dict[Any, Coverage] = {}
    spill = 0.0
    input_loads = 0
    outputs = set(ret.operands)
    for part in parts:
        inner = part.regions[0].block
        arg_map = dict(zip(inner.args, part.operands, strict=True))
        for v in dict.fromkeys(part.operands):  # unique, in order
            if v in block.args:
                input_loads += 1
                if input_loads > len(block.args):
                    spill += _elements(v, None, images)
            else:
                spill += _elements(v, coverage.get(v), images)  # its load by this partition
        yield_op = inner.last_op
        for res, y in zip(part.results, yield_op.operands, strict=True):
            stored = y.owner.operands[0] if getattr(y.owner, "name", "") == "partition.store" else y
            coverage[res] = _coverage(stored, coverage, arg_map)
            if res not in outputs and res.uses:
                spill += _elements(res, coverage[res], images)  # its store
    return Traffic(len(parts), input_elems, output_elems, spill)


def replication_of_module(module: Any, rl: Roofline) -> ReplicationBound:
    """The `ReplicationBound` of a module's grouping, next to its roofline `rl`."""
    from pimdsl.chip import from_attr

    chip = ChipFacts.of(from_attr(module.attributes["pim.chip"]))
    return replication_bound(partition_layers(module, chip), chip, rl.batch, rl)


def roofline_of_module(
    module: Any, batch: int | None = None
) -> tuple[Roofline, list[WeightLayer], Traffic]:
    from pimdsl.chip import from_attr

    chip = ChipFacts.of(from_attr(module.attributes["pim.chip"]))
    if batch is None:
        batch = module.attributes["pim.batch"].value.data
    layers = weight_layers(module)
    traffic = boundary_traffic(module)
    return roofline(layers, chip, batch, traffic), layers, traffic


# --------------------------------------------------------------------------------------------
# Measuring: the CLIs
# --------------------------------------------------------------------------------------------
def _bin(tool: str) -> str:
    here = Path(sys.executable).parent / tool
    return str(here) if here.exists() else (shutil.which(tool) or tool)


def _run(cmd: list[str], timeout: float | None) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode:
        raise RuntimeError(
            f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()[-2000:]}"
        )
    return time.perf_counter() - t0


def _shell(cmd: Sequence[str]) -> str:
    return " ".join(f"'{c}'" if "=" in c and c.startswith("--") else c for c in cmd)


def _derive_limit(rec: dict[str, Any]) -> None:
    """Fill in `limit_*` of a record written before they existed, from its own fields.

    BW = dram_min_bytes / t_dram_s; R = 1 iff t_weights_s > 0; R' = 0 iff it fits in one
    partition; act_bytes = (dram_min_bytes - R' W) / (B (I + O + S)); then the limit of
    `roofline()`. Exact: the same numbers `roofline()` computes."""
    rl, t, b = rec["roofline"], rec["traffic"], rec["batch"]
    bw = rl["dram_min_bytes"] / rl["t_dram_s"]
    r = 1 if rl["t_weights_s"] > 0 else 0
    r_dram = 0 if rl["fits"] and t["partitions"] == 1 else 1
    w = rl["weight_bytes"]
    elems = t["input_elems"] + t["output_elems"] + t["spill_elems"]
    act_bytes = (rl["dram_min_bytes"] - r_dram * w) / (b * elems)
    io = (t["input_elems"] + t["output_elems"]) * act_bytes
    limit = max(rl["t_compute_s"], rl["t_weights_s"], (r * w + b * io) / bw)
    rl["limit_time_s"] = limit
    rl["limit_throughput_ips"] = b / limit


def set_ratios(rec: dict[str, Any]) -> None:
    """Simulated / roofline throughput and DRAM bytes / minimum of a record with both."""
    rl, s, b = rec["roofline"], rec["sim"], rec["batch"]
    if "limit_throughput_ips" not in rl:
        _derive_limit(rec)
    rec["throughput_ratio"] = s["throughput_ips"] / rl["throughput_ips"]
    rec["cold_throughput_ratio"] = s["throughput_ips"] / rl["cold_throughput_ips"]
    rec["limit_ratio"] = s["throughput_ips"] / rl["limit_throughput_ips"]
    rec["dram_ratio"] = s["dram_bytes"] / b / rl["dram_min_bytes_per_image"]
    rec["cold_dram_ratio"] = s["dram_bytes"] / b / rl["cold_dram_min_bytes_per_image"]
    if "replication" in rec:
        rec["replication_ratio"] = s["throughput_ips"] / rec["replication"]["throughput_ips"]


def rebound_case(old: dict[str, Any], timeout: float | None) -> dict[str, Any]:
    """Recompute the roofline of a measured case (partition again; the simulation is kept)."""
    new = run_case(
        old["model"],
        old["chip"],
        old["batch"],
        old["strategy"],
        _schedule(old),
        False,
        timeout,
        None,
    )
    if "roofline" not in new:
        return {**old, "rebound_error": new.get("error", "?")}
    rec = {
        **old,
        "roofline": new["roofline"],
        "traffic": new["traffic"],
        "replication": new["replication"],
        "rebound_at": new["measured_at"],
    }
    if "sim" in rec:
        set_ratios(rec)
    return rec


def run_case(
    model: str,
    chip: str,
    batch: int,
    strategy: str,
    schedule: str,
    simulate: bool,
    timeout: float | None,
    keep: str | None,
) -> dict[str, Any]:
    """Partition (CLI), compute the roofline, then lower and simulate (CLI). One case's record."""
    work = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="roofline-"))
    work.mkdir(parents=True, exist_ok=True)
    stem = f"{model}.{chip}.b{batch}.{strategy}.{schedule}"
    part, isa, stats = (
        work / f"{stem}.part.mlir",
        work / f"{stem}.isa.mlir",
        work / f"{stem}.stats.json",
    )
    opt, run = _bin("pim-opt"), _bin("pim-run")
    cmds = [
        [
            opt,
            "--model",
            model,
            "--chip",
            chip,
            "--batch",
            str(batch),
            *_partition_flags(strategy, schedule),
            "-o",
            str(part),
        ],
        [
            opt,
            str(part),
            "--lower-to-isa",
            "-o",
            str(isa),
        ],
        [run, str(isa), "--timing-only", "--stats", str(stats)],
    ]
    rec: dict[str, Any] = {
        "model": model,
        "chip": chip,
        "batch": batch,
        "strategy": strategy,
        "schedule": schedule,
        "commands": [
            _shell(["pim-opt", *c[1:]] if i < 2 else ["pim-run", *c[1:]]).replace(
                str(work) + "/", ""
            )
            for i, c in enumerate(cmds)
        ],
        "load_before": os.getloadavg(),
    }
    try:
        rec["partition_s"] = _run(cmds[0], timeout)
        parsed = parse_module(part.read_text())
        rl, layers, traffic = roofline_of_module(parsed)
        rec["roofline"] = asdict(rl)
        rec["replication"] = asdict(replication_of_module(parsed, rl))
        rec["traffic"] = asdict(traffic)
        rec["weight_layers"] = len(layers)
        if simulate:
            rec["lower_s"] = _run(cmds[1], timeout)
            rec["simulate_s"] = _run(cmds[2], timeout)
            s = json.loads(stats.read_text())
            rec["sim"] = {
                k: s[k]
                for k in (
                    "latency_s",
                    "throughput_ips",
                    "dram_bytes",
                    "weight_bytes_loaded",
                    "mvm_count",
                )
            }
            # the stats file holds no wall time (it is byte-identical across runs): the
            # simulation's wall time is the pim-run command's, `simulate_s`
            rec["sim"]["partitions"] = len(s["partitions"])
            set_ratios(rec)
    except subprocess.TimeoutExpired as e:
        rec["error"] = f"timed out after {e.timeout:.0f} s: {_shell([str(c) for c in e.cmd])}"
    except Exception as e:  # noqa: BLE001 - a failed case is reported, the sweep goes on
        rec["error"] = str(e)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    rec["load_after"] = os.getloadavg()
    rec["measured_at"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return rec


def _schedule(rec: dict[str, Any]) -> str:
    return str(rec.get("schedule", "layer"))  # records from before the option were "layer"


def _key(rec: dict[str, Any]) -> str:
    tail = "" if _schedule(rec) == "layer" else f"/{_schedule(rec)}"
    return f"{rec['model']}/{rec['chip']}/{rec['batch']}/{rec['strategy']}{tail}"


def _case_key(case: tuple[str, str, int, str, str]) -> str:
    m, c, b, s, sched = case
    return _key({"model": m, "chip": c, "batch": b, "strategy": s, "schedule": sched})


def _commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False
        ).stdout.strip()

    head = git("rev-parse", "--short", "HEAD")
    # the results this script writes do not make the code under test dirty
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!benchmarks/results")
    return head + ("+dirty" if dirty else "")


# --------------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------------
def _order(rec: dict[str, Any]) -> tuple[int, int, int, int, int]:
    def idx(seq: Sequence[Any], x: Any) -> int:
        return seq.index(x) if x in seq else len(seq)

    return (
        idx(MODELS, rec["model"]),
        idx(CHIPS, rec["chip"]),
        rec["batch"],
        idx(tuple(STRATEGIES), rec["strategy"]),
        idx(SCHEDULES, _schedule(rec)),
    )


def summary(results: dict[str, Any]) -> list[str]:
    """Bullet lines: what was measured and how far batch 16 is from issue 13's goals."""
    cases = list(results["cases"].values())
    sim = [r for r in cases if "sim" in r]
    b16 = [r for r in sim if r["batch"] == 16]
    lines = [
        f"- {len(cases)} case(s) bounded, {len(sim)} simulated "
        f"({', '.join(sorted({r['strategy'] for r in sim})) or 'none'})."
    ]
    for sched in SCHEDULES:
        lines += _goal_line(
            f"Batch 16, {sched} schedule", [r for r in b16 if _schedule(r) == sched]
        )
    best: dict[str, dict[str, Any]] = {}
    for r in b16:
        k = f"{r['model']}/{r['chip']}/{r['strategy']}"
        if k not in best or r["throughput_ratio"] > best[k]["throughput_ratio"]:
            best[k] = r
    if len({_schedule(r) for r in b16}) > 1:
        lines += _goal_line("Batch 16, the faster schedule per case", list(best.values()))
    binds: dict[str, int] = {}
    for r in cases:
        if "roofline" in r:
            binds[r["roofline"]["binds"]] = binds.get(r["roofline"]["binds"], 0) + 1
    lines.append(
        "- Binding bound: " + ", ".join(f"{k} {v}" for k, v in sorted(binds.items())) + "."
    )
    return lines


def _goal_line(what: str, b16: list[dict[str, Any]]) -> list[str]:
    if b16:
        tp = [r["throughput_ratio"] for r in b16]
        dr = [r["dram_ratio"] for r in b16]
        ok_tp = sum(t >= GOAL_THROUGHPUT for t in tp)
        ok_dr = sum(d <= GOAL_DRAM for d in dr)
        rep = [r["replication_ratio"] for r in b16 if "replication_ratio" in r]
        rep_line = (
            f" Simulated / replication bound {min(rep):.3f}-{max(rep):.3f} ({len(rep)} cases)."
            if rep
            else ""
        )
        return [
            f"- {what}: simulated / roofline {min(tp):.3f}-{max(tp):.3f} "
            f"(goal >= {GOAL_THROUGHPUT}: {ok_tp} of {len(b16)} cases); DRAM bytes per image / "
            f"minimum {min(dr):.1f}-{max(dr):.1f}x (goal <= {GOAL_DRAM}x: {ok_dr} of {len(b16)})."
            + rep_line
        ]
    return []


def markdown(results: dict[str, Any]) -> str:
    """The results table (and a summary) as Markdown."""
    cases = sorted(results["cases"].values(), key=_order)
    for r in cases:
        if "sim" in r and "limit_ratio" not in r:
            set_ratios(r)  # records from before the limit existed
    lines = [
        *summary(results),
        "",
        "| model | chip | B | strategy | schedule | parts | roofline inf/s | binds | simulated inf/s | "
        "sim / roofline | sim / limit | replication bound inf/s (sim / it) | DRAM MB/img | "
        "min MB/img | DRAM / min | pim-run s | measured (UTC), load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in cases:
        rl = r.get("roofline")
        case = f"| {r['model']} | {r['chip']} | {r['batch']} | {r['strategy']} | {_schedule(r)} | "
        when = f"{r['measured_at'][5:16].replace('T', ' ')}, {r['load_before'][0]:.1f}"
        if rl is None:
            err = r.get("error", "?").replace("|", "/")[:80]
            lines.append(case + f" | | | error: {err} | | | | | | | | {when} |")
            continue
        fit = " (fits)" if rl["fits"] else ""
        head = (
            case
            + f"{r['traffic']['partitions']} | {rl['throughput_ips']:.1f}{fit} | {rl['binds']} | "
        )
        min_mb = f"{rl['dram_min_bytes_per_image'] / 1e6:.3f}"
        if "sim" in r:
            s = r["sim"]
            ratio = f"{r['throughput_ratio']:.3f}"
            limit = f"{r['limit_ratio']:.3f}" if "limit_ratio" in r else ""
            dram = f"{r['dram_ratio']:.1f}x"
            if rl["fits"]:  # also against one batch that loads the weights (what pim-run runs)
                ratio += f" (cold {r['cold_throughput_ratio']:.3f})"
                min_mb += f" (cold {rl['cold_dram_min_bytes_per_image'] / 1e6:.3f})"
                dram += f" (cold {r['cold_dram_ratio']:.1f}x)"
            rep = r.get("replication")
            repl = (
                f"{rep['throughput_ips']:.1f} ({r['replication_ratio']:.3f})"
                if rep and "replication_ratio" in r
                else ""
            )
            lines.append(
                head + f"{s['throughput_ips']:.1f} | {ratio} | {limit} | {repl} | "
                f"{s['dram_bytes'] / r['batch'] / 1e6:.3f} | "
                f"{min_mb} | {dram} | {r['simulate_s']:.1f} | {when} |"
            )
        else:
            why = r.get("error", "not simulated").replace("|", "/")[:60]
            lines.append(head + f"{why} | | | | | {min_mb} | | | {when} |")
    return "\n".join(lines) + "\n"


BEGIN, END = (
    "<!-- BEGIN roofline table (benchmarks/roofline.py --update-docs) -->",
    "<!-- END roofline table -->",
)


def update_docs(doc: Path, results: dict[str, Any]) -> None:
    """Replace the table between the BEGIN/END markers of `doc` with the current results."""
    text = doc.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{doc}: no '{BEGIN}' ... '{END}' markers to put the table between.")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    doc.write_text(head + BEGIN + "\n" + markdown(results) + END + tail)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--chips", default=",".join(CHIPS))
    ap.add_argument("--batches", default=",".join(map(str, BATCHES)))
    ap.add_argument("--strategy", default="greedy", help="comma list of greedy, optimal, ga")
    ap.add_argument(
        "--schedule", default="layer", help="comma list of the lowering's schedules: layer, batch"
    )
    ap.add_argument(
        "--quick",
        action="store_true",
        help="resnet18 and squeezenet1_0, batch 16, all chips, greedy and optimal",
    )
    ap.add_argument("-j", "--jobs", type=int, default=1, help="cases run in parallel (processes)")
    ap.add_argument(
        "--roofline-only", action="store_true", help="partition and bound; no lowering/simulation"
    )
    ap.add_argument("--timeout", type=float, default=None, help="seconds per CLI step")
    ap.add_argument("--keep", default=None, help="keep the .mlir and stats files in this folder")
    ap.add_argument(
        "--fresh", action="store_true", help="forget earlier results instead of merging"
    )
    ap.add_argument(
        "--skip-done",
        action="store_true",
        help="skip cases the results file already has simulated (or bounded, with --roofline-only)",
    )
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    ap.add_argument(
        "--rebound",
        action="store_true",
        help="recompute the roofline of measured cases (partitioning again) and keep their simulation",
    )
    ap.add_argument(
        "--report-only", action="store_true", help="rewrite roofline.md from the JSON; run nothing"
    )
    ap.add_argument(
        "--update-docs", action="store_true", help="also put the table into docs/roofline.md"
    )
    args = ap.parse_args(argv)

    if args.quick:
        models, chips, batches, strategies = (
            QUICK["models"],
            QUICK["chips"],
            QUICK["batches"],
            QUICK["strategies"],
        )
    else:
        models = tuple(args.models.split(","))
        chips = tuple(args.chips.split(","))
        batches = tuple(int(b) for b in args.batches.split(","))
        strategies = tuple(args.strategy.split(","))
    schedules = tuple(args.schedule.split(","))
    if any(s not in SCHEDULES for s in schedules):
        ap.error(f"unknown schedule in {args.schedule}; choose from {', '.join(SCHEDULES)}")
    bad = [s for s in strategies if s not in STRATEGIES]
    if bad:
        ap.error(f"unknown strategy {', '.join(bad)}; choose from {', '.join(STRATEGIES)}")
    cases = [
        (m, c, b, s, sched)
        for m in models
        for s in strategies
        for b in sorted(batches, reverse=True)
        for c in chips
        for sched in schedules
    ]

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "roofline.json"
    results: dict[str, Any] = {"cases": {}}
    if path.exists() and not args.fresh:
        results = json.loads(path.read_text())
    results["how"] = (
        "benchmarks/roofline.py: roofline from first principles (docstring, docs/roofline.md); "
        "measured with pim-opt (partition, lower-to-isa) and pim-run --timing-only as subprocesses; "
        "throughput = pim-run's throughput_ips (batch / simulated latency of one batch from cold)"
    )
    results["machine"] = {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    if args.report_only:
        cases = []
    if args.skip_done:
        need = "roofline" if args.roofline_only else "sim"
        done = results["cases"]
        cases = [c for c in cases if need not in done.get(_case_key(c), {})]
    commit = _commit()
    print(
        f"roofline: {len(cases)} case(s), -j {args.jobs}, commit {commit}, "
        f"load {os.getloadavg()[0]:.2f}",
        flush=True,
    )

    def record(rec: dict[str, Any], done: int) -> None:
        rec.setdefault("commit", commit)  # a rebound record keeps its measurement's commit
        if "rebound_at" in rec:
            rec["rebound_commit"] = commit
        results["cases"][_key(rec)] = rec
        rl = rec.get("roofline")
        msg = f"[{done}/{len(cases)}] {_key(rec):42s}"
        if "error" in rec:
            msg += f" ERROR {rec['error'][:200]}"
        if rl:
            msg += f" roofline {rl['throughput_ips']:8.1f} inf/s ({rl['binds']})"
        if "sim" in rec:
            msg += (
                f"  sim {rec['sim']['throughput_ips']:8.1f} inf/s = {rec['throughput_ratio']:.3f}, "
                f"DRAM {rec['dram_ratio']:.1f}x min, simulated in {rec['simulate_s']:.1f} s"
            )
        print(msg, flush=True)
        path.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")  # after every case
        (out / "roofline.md").write_text(markdown(results))

    simulate = not args.roofline_only
    if args.rebound:
        for i, case in enumerate(cases, 1):
            old = results["cases"].get(_case_key(case))
            if old is not None and "sim" in old:
                record(rebound_case(old, args.timeout), i)
    elif args.jobs <= 1:
        for i, case in enumerate(cases, 1):
            record(run_case(*case, simulate, args.timeout, args.keep), i)
    else:
        with ProcessPoolExecutor(args.jobs) as pool:
            futures = [
                pool.submit(run_case, *case, simulate, args.timeout, args.keep) for case in cases
            ]
            for i, fut in enumerate(as_completed(futures), 1):
                record(fut.result(), i)
    (out / "roofline.md").write_text(markdown(results))
    if args.report_only and path.exists():  # keep the limits markdown() derived for old records
        path.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n")
    if args.update_docs:
        update_docs(ROOT / "docs" / "roofline.md", results)
    print(markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
