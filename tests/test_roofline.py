"""The roofline of benchmarks/roofline.py against numbers derived by hand (no timing asserts).

The tiny chip: 1 core x 4 crossbars of 16 rows x 8 columns, 1-bit cells, 2-bit weights (a weight
spans 2 columns, so P = 8 // 2 = 4 output channels per crossbar), 4-bit activations fed 2 bits
per step (2 steps of 100 ns; a new MVM at most every 150 ns -> occupancy max(150, 2 x 100) =
200 ns), DRAM 1 GB/s = 1 byte/ns, programming 2 ns per crossbar row.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("roofline", ROOT / "benchmarks" / "roofline.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["roofline"] = module
    spec.loader.exec_module(module)
    return module


rf = _load()

TINY = rf.ChipFacts(
    cores=1,
    crossbars_per_core=4,
    crossbar_rows=16,
    crossbar_cols=8,
    cell_bits=1,
    weight_bits=2,
    act_bits=4,
    dac_bits=2,
    mvm_per_bit_ns=100.0,
    mvm_interval_ns=150.0,
    dram_bandwidth=1e9,
    crossbar_write_ns_per_row=2.0,
)

# One conv: input 1x2x6x6, weight 6x2x3x3 (Cout 6, Cin 2), stride 1, no padding -> 1x6x4x4.
CONV_NN = """
builtin.module {
  func.func @main(%x: tensor<1x2x6x6xf32>) -> tensor<1x6x4x4xf32> {
    %w = nn.weight "conv.weight" : tensor<6x2x3x3xf32>
    %y = nn.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x2x6x6xf32>, tensor<6x2x3x3xf32>) -> tensor<1x6x4x4xf32>
    func.return %y : tensor<1x6x4x4xf32>
  }
}
"""


def test_chip_derived_quantities() -> None:
    assert TINY.crossbars == 4
    assert TINY.channels_per_crossbar == 4  # 8 columns / 2 columns per weight
    assert TINY.mvm_occupancy_ns == 200.0  # max(150, 4/2 steps x 100 ns)
    assert TINY.act_bytes == 0.5


def test_compass_presets() -> None:
    from pimdsl.chip import load_chip

    s = rf.ChipFacts.of(load_chip("compass-s"))
    # 16 x 9 crossbars; 256 columns / 4 one-bit columns per 4-bit weight; 4 steps x 200 ns > 200
    assert (s.crossbars, s.channels_per_crossbar, s.mvm_occupancy_ns) == (144, 64, 800.0)
    assert rf.ChipFacts.of(load_chip("compass-l")).crossbars == 36 * 16


def test_conv_shapes_from_nn_ir() -> None:
    module = rf.parse_module(CONV_NN)
    [layer] = rf.weight_layers(module)
    # rows = Cin x kh x kw = 2 x 3 x 3 = 18; cols = Cout = 6; windows = 4 x 4 = 16
    assert layer == rf.WeightLayer("conv.weight", rows=18, cols=6, groups=1, windows=16)
    # tiles = ceil(18 / 16) x ceil(6 / 4) = 2 x 2 = 4; programmed rows = 18 x ceil(6 / 4) = 36
    assert rf.tiles(layer, TINY) == 4
    assert rf.programmed_rows(layer, TINY) == 36
    # W = 6 x 18 = 108 weights x 2 bits / 8 = 27 bytes
    assert rf.weight_bytes([layer], TINY) == 27.0
    traffic = rf.boundary_traffic(module)
    # input 2 x 6 x 6 = 72, output 6 x 4 x 4 = 96 elements per image, no partitions -> no spill
    assert traffic == rf.Traffic(partitions=1, input_elems=72, output_elems=96, spill_elems=0.0)


def test_roofline_fits_steady_state() -> None:
    layer = rf.WeightLayer("conv", rows=18, cols=6, groups=1, windows=16)
    traffic = rf.Traffic(partitions=1, input_elems=72, output_elems=96, spill_elems=0.0)
    r = rf.roofline([layer], TINY, 2, traffic)
    # 4 tiles <= 4 crossbars: fits, weights resident (R = R' = 0)
    assert r.fits and r.tiles == 4
    # MVMs = B x windows x tiles = 2 x 16 x 4 = 128; 128 x 200 ns / 4 crossbars = 6400 ns
    assert r.mvms == 128
    assert r.t_compute_s == pytest.approx(6400e-9)
    assert r.t_weights_s == 0.0
    # D_min = B x (72 + 96) x 0.5 bytes = 168 bytes -> 168 ns at 1 byte/ns
    assert r.dram_min_bytes == 168.0
    assert r.dram_min_bytes_per_image == 84.0
    assert r.t_dram_s == pytest.approx(168e-9)
    assert r.binds == "compute"
    assert r.time_s == pytest.approx(6400e-9)
    assert r.throughput_ips == pytest.approx(2 / 6400e-9)  # 312,500 inf/s
    # cold (weights loaded in this batch): compute + 36 rows x 2 ns / 4 = 6418 ns;
    # DRAM minimum 27 + 168 = 195 bytes = 97.5 per image
    assert r.cold_time_s == pytest.approx(6418e-9)
    assert r.cold_dram_min_bytes_per_image == 97.5
    assert r.limit_time_s == r.time_s  # one partition, no spill


def test_roofline_does_not_fit() -> None:
    chip = rf.ChipFacts(**{**TINY.__dict__, "crossbars_per_core": 3})  # 3 crossbars < 4 tiles
    layer = rf.WeightLayer("conv", rows=18, cols=6, groups=1, windows=16)
    traffic = rf.Traffic(partitions=2, input_elems=72, output_elems=96, spill_elems=10.0)
    r = rf.roofline([layer], chip, 2, traffic)
    assert not r.fits
    # compute: (128 x 200 + 36 rows x 2 ns) / 3 = (25600 + 72) / 3 = 8557.33 ns
    assert r.t_compute_s == pytest.approx(25672e-9 / 3)
    assert r.t_program_s == pytest.approx(24e-9)
    # weight stream: 27 bytes at 1 byte/ns
    assert r.t_weights_s == pytest.approx(27e-9)
    # D_min = 27 + 2 x (72 + 96 + 10) x 0.5 = 27 + 178 = 205 bytes
    assert r.dram_min_bytes == 205.0
    assert r.spill_bytes_per_image == 5.0
    assert r.binds == "compute"
    assert r.time_s == r.cold_time_s


def test_roofline_dram_bound() -> None:
    chip = rf.ChipFacts(**{**TINY.__dict__, "crossbars_per_core": 3, "dram_bandwidth": 1e6})
    layer = rf.WeightLayer("conv", rows=18, cols=6, groups=1, windows=16)
    traffic = rf.Traffic(partitions=2, input_elems=72, output_elems=96, spill_elems=0.0)
    r = rf.roofline([layer], chip, 2, traffic)
    # D_min = 27 + 168 = 195 bytes at 1 byte/us = 195 us > weights 27 us > compute 8.56 us
    assert r.t_dram_s == pytest.approx(195e-6)
    assert r.t_weights_s == pytest.approx(27e-6)
    assert r.binds == "dram"
    assert r.throughput_ips == pytest.approx(2 / 195e-6)
    assert r.limit_time_s == r.time_s  # no spill: the grouping-free limit is the same


def test_limit_ignores_spill() -> None:
    chip = rf.ChipFacts(**{**TINY.__dict__, "crossbars_per_core": 3, "dram_bandwidth": 1e6})
    layer = rf.WeightLayer("conv", rows=18, cols=6, groups=1, windows=16)
    traffic = rf.Traffic(partitions=2, input_elems=72, output_elems=96, spill_elems=10.0)
    r = rf.roofline([layer], chip, 2, traffic)
    # with spill: 27 + 2 x (72 + 96 + 10) x 0.5 = 205 bytes -> 205 us; without: 195 us
    assert r.time_s == pytest.approx(205e-6)
    assert r.limit_time_s == pytest.approx(195e-6)
    assert r.limit_throughput_ips == pytest.approx(2 / 195e-6)


def test_grouped_tiles_block_diagonal() -> None:
    # depthwise 3x3 on 8 channels: 8 groups of 9 rows x 1 column
    dw = rf.WeightLayer("dw", rows=9, cols=1, groups=8, windows=1)
    # 16 rows hold one 9-row group: k = min(16 // 9, 4 // 1) = 1 -> 8 tiles
    assert rf.tiles(dw, TINY) == 8
    # 32 rows: k = min(3, 4) = 3 groups per crossbar -> ceil(8 / 3) = 3 tiles
    assert rf.tiles(dw, rf.ChipFacts(**{**TINY.__dict__, "crossbar_rows": 32})) == 3
    # dense grouped: 2 groups of 20 rows x 5 cols: 2 x ceil(20/16) x ceil(5/4) = 8
    assert rf.tiles(rf.WeightLayer("g", rows=20, cols=5, groups=2, windows=1), TINY) == 8


# A linear 8 -> 4 cut into two pieces of 2 output channels (tests/filecheck/dialects/partition).
PIECES = """
builtin.module {
  func.func @main(%x: tensor<1x8xf32>) -> tensor<1x4xf32> {
    %p = partition.partition 0(%x) {span = array<i64: 0, 1>, layers = ["fc.weight"], replication = array<i64: 1>, crossbars = 1 : i64, core_crossbars = array<i64: 1>, weight_bytes = 8 : i64, dram_bytes = 40 : i64, latency_s = 1.0e-06 : f64, energy_j = 2.0e-09 : f64} : (tensor<1x8xf32>) -> tensor<1x4xf32> {
    ^bb0(%a: tensor<1x8xf32>):
      %l = partition.load %a : tensor<1x8xf32>
      %w = nn.weight "fc.weight" : tensor<4x8xf32>
      %m = partition.unit_weights %w {units = array<i64: 0, 1>, boxes = array<i64: 0, 2, 0, 8>, out_axis = 0 : i64} : tensor<4x8xf32>
      %y = nn.linear %l, %m {pim.piece = array<i64: 0, 1>, pim.units = array<i64: 0, 2>} : (tensor<1x8xf32>, tensor<4x8xf32>) -> tensor<1x4xf32>
      %s = partition.store %y : tensor<1x4xf32>
      partition.yield %s : tensor<1x4xf32>
    }
    %q = partition.partition 1(%x, %p) {span = array<i64: 1, 2>, layers = ["fc.weight"], replication = array<i64: 1>, crossbars = 1 : i64, core_crossbars = array<i64: 1>, weight_bytes = 8 : i64, dram_bytes = 24 : i64, latency_s = 1.0e-06 : f64, energy_j = 2.0e-09 : f64} : (tensor<1x8xf32>, tensor<1x4xf32>) -> tensor<1x4xf32> {
    ^bb0(%a: tensor<1x8xf32>, %b: tensor<1x4xf32>):
      %l = partition.load %a : tensor<1x8xf32>
      %part = partition.load %b : tensor<1x4xf32>
      %w = nn.weight "fc.weight" : tensor<4x8xf32>
      %m = partition.unit_weights %w {units = array<i64: 1, 2>, boxes = array<i64: 2, 4, 0, 8>, out_axis = 0 : i64} : tensor<4x8xf32>
      %y = nn.linear %l, %m {pim.piece = array<i64: 1, 2>, pim.units = array<i64: 0, 2>} : (tensor<1x8xf32>, tensor<4x8xf32>) -> tensor<1x4xf32>
      %acc = nn.add %part, %y {pim.accumulate = array<i64: 0, 2>} : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
      %s = partition.store %acc : tensor<1x4xf32>
      partition.yield %s : tensor<1x4xf32>
    }
    func.return %q : tensor<1x4xf32>
  }
}
"""


def test_boundary_spill_of_pieces() -> None:
    module = rf.parse_module(PIECES)
    # both pieces are one layer: rows = 8 inputs, cols = 4 outputs, one window
    assert rf.weight_layers(module) == [
        rf.WeightLayer("fc.weight", rows=8, cols=4, groups=1, windows=1)
    ]
    t = rf.boundary_traffic(module)
    # partition 0 stores its piece: channels 0-2 of 4 -> 2 elements (not the full 4);
    # partition 1 loads the input again (8, spill) and the piece (2); its result is the output.
    assert t == rf.Traffic(partitions=2, input_elems=8, output_elems=4, spill_elems=2 + 8 + 2)


def test_least_period_by_hand() -> None:
    # A: 100 ns of MVMs on 1 tile, B: 10 ns on 2 tiles, 4 crossbars. P = 25: 4 + 2 = 6 copies'
    # tiles > 4; 33.3: 3 + 2 = 5 > 4; 50: 2 + 2 = 4 fits. Bound (a) would say (100 + 20) / 4 = 30.
    assert rf.least_period([(100.0, 1), (10.0, 2)], 4) == (50.0, 4)
    # one copy of each does not fit: the slowest layer on one copy, and what it would take
    assert rf.least_period([(10.0, 3), (10.0, 3)], 4) == (10.0, 6)
    assert rf.least_period([], 4) == (0.0, 0)


def test_replication_bound_of_one_layer_filling_the_chip_is_bound_a() -> None:
    """The conv of CONV_NN takes all 4 crossbars of TINY with one copy: 16 windows x 200 ns =
    3200 ns a image, B = 2: 6400 ns, what bound (a) says too."""
    module = rf.parse_module(CONV_NN)
    parts = rf.partition_layers(module, TINY)
    layer = rf.WeightLayer("conv.weight", rows=18, cols=6, groups=1, windows=16)
    assert parts == [[(layer, 4)]]
    traffic = rf.Traffic(partitions=1, input_elems=72, output_elems=96, spill_elems=0.0)
    r = rf.roofline([layer], TINY, 2, traffic)
    b = rf.replication_bound(parts, TINY, 2, r)
    assert b.periods_ns == (3200.0,) and b.crossbars == (4,)
    assert b.time_s == pytest.approx(r.time_s) and b.time_s == pytest.approx(6400e-9)


def test_replication_bound_counts_pieces_and_partitions() -> None:
    """PIECES: each partition holds half the output channels of fc (8 x 4 on TINY: 8 rows, 2
    of the 4 channels a crossbar holds): one tile each, one window (200 ns). Each partition runs
    its piece on 4 copies at most: P = 200 / 4 = 50 ns; two partitions at B = 1: 100 ns, against
    bound (a)'s 1 window x 1 tile x 200 ns / 4 = 50 ns."""
    module = rf.parse_module(PIECES)
    parts = rf.partition_layers(module, TINY)
    fc = rf.WeightLayer("fc.weight", rows=8, cols=4, groups=1, windows=1)
    assert parts == [[(fc, 1)], [(fc, 1)]]
    traffic = rf.boundary_traffic(module)
    r = rf.roofline([fc], TINY, 1, traffic)
    b = rf.replication_bound(parts, TINY, 1, r)
    assert b.periods_ns == (50.0, 50.0) and b.crossbars == (4, 4)
    assert b.time_s == pytest.approx(max(100e-9 + r.t_program_s, r.t_weights_s, r.t_dram_s))
