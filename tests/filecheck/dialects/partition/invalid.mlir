// Every verifier message of the partition dialect (dialects/partition.py), one case per chunk.
// RUN: pim-opt %s --split-input-file --verify-diagnostics | filecheck %s

// a core over capacity
builtin.module attributes {pim.chip = {name = "two", cores = 2 : i64, crossbars_per_core = 2 : i64, crossbar_rows = 16 : i64, crossbar_cols = 16 : i64, cell_bits = 1 : i64, weight_bits = 4 : i64, act_bits = 4 : i64, dac_bits = 1 : i64, adc_bits = 8 : i64, local_memory_bytes = 65536 : i64, clock_hz = 1.0e+09 : f64, mvm_read_ns = 200.0 : f64, mvm_per_bit_ns = 200.0 : f64, mvm_adc_ns = 200.0 : f64, mvm_shift_add_ns = 200.0 : f64, mvm_write_ns = 200.0 : f64, mvm_interval_ns = 200.0 : f64, vector_bytes = 64 : i64, vector_latency_ns = 10.0 : f64, local_memory_bandwidth = 2.56e+10 : f64, bus_bandwidth = 2.56e+10 : f64, dram_bandwidth = 1.28e+10 : f64, dram_latency_ns = 100.0 : f64, crossbar_write_ns_per_row = 1.0 : f64, crossbar_read_pj = 10.0 : f64, adc_pj = 1.0 : f64, shift_add_pj = 0.05 : f64, crossbar_write_pj_per_bit = 0.1 : f64, dram_pj_per_byte = 40.0 : f64, bus_pj_per_byte = 1.0 : f64, local_memory_pj_per_byte = 0.5 : f64, vector_pj_per_op = 5.0 : f64, vector_power_mw = 22.8 : f64, local_memory_power_mw = 18.0 : f64, control_power_mw = 8.0 : f64}} {
func.func @main(%x: tensor<1x8xf32>) -> tensor<1x8xf32> {
  %p0 = partition.partition 0(%x) {span = array<i64: 0, 1>, layers = ["fc.weight"], replication = array<i64: 1>, crossbars = 3 : i64, core_crossbars = array<i64: 3>, weight_bytes = 8 : i64, dram_bytes = 8 : i64, latency_s = 1.0 : f64, energy_j = 1.0 : f64} : (tensor<1x8xf32>) -> tensor<1x8xf32> {
  ^bb0(%a: tensor<1x8xf32>):
    %l = partition.load %a : tensor<1x8xf32>
    %s = partition.store %l : tensor<1x8xf32>
    partition.yield %s : tensor<1x8xf32>
  }
  func.return %x : tensor<1x8xf32>
}
}
// CHECK: 'partition.partition': partition 0: core 0 holds 3 crossbars but chip 'two' has 2 per core; the partition does not fit

// -----
// more cores than the chip has
builtin.module attributes {pim.chip = {name = "two", cores = 2 : i64, crossbars_per_core = 2 : i64, crossbar_rows = 16 : i64, crossbar_cols = 16 : i64, cell_bits = 1 : i64, weight_bits = 4 : i64, act_bits = 4 : i64, dac_bits = 1 : i64, adc_bits = 8 : i64, local_memory_bytes = 65536 : i64, clock_hz = 1.0e+09 : f64, mvm_read_ns = 200.0 : f64, mvm_per_bit_ns = 200.0 : f64, mvm_adc_ns = 200.0 : f64, mvm_shift_add_ns = 200.0 : f64, mvm_write_ns = 200.0 : f64, mvm_interval_ns = 200.0 : f64, vector_bytes = 64 : i64, vector_latency_ns = 10.0 : f64, local_memory_bandwidth = 2.56e+10 : f64, bus_bandwidth = 2.56e+10 : f64, dram_bandwidth = 1.28e+10 : f64, dram_latency_ns = 100.0 : f64, crossbar_write_ns_per_row = 1.0 : f64, crossbar_read_pj = 10.0 : f64, adc_pj = 1.0 : f64, shift_add_pj = 0.05 : f64, crossbar_write_pj_per_bit = 0.1 : f64, dram_pj_per_byte = 40.0 : f64, bus_pj_per_byte = 1.0 : f64, local_memory_pj_per_byte = 0.5 : f64, vector_pj_per_op = 5.0 : f64, vector_power_mw = 22.8 : f64, local_memory_power_mw = 18.0 : f64, control_power_mw = 8.0 : f64}} {
func.func @main(%x: tensor<1x8xf32>) -> tensor<1x8xf32> {
  %p0 = partition.partition 0(%x) {span = array<i64: 0, 1>, layers = ["fc.weight"], replication = array<i64: 1>, crossbars = 3 : i64, core_crossbars = array<i64: 1, 1, 1>, weight_bytes = 8 : i64, dram_bytes = 8 : i64, latency_s = 1.0 : f64, energy_j = 1.0 : f64} : (tensor<1x8xf32>) -> tensor<1x8xf32> {
  ^bb0(%a: tensor<1x8xf32>):
    %l = partition.load %a : tensor<1x8xf32>
    %s = partition.store %l : tensor<1x8xf32>
    partition.yield %s : tensor<1x8xf32>
  }
  func.return %x : tensor<1x8xf32>
}
}
// CHECK: 'partition.partition': partition 0: uses 3 cores but chip 'two' has 2

// -----
// inconsistent crossbar counts
builtin.module attributes {} {
func.func @main(%x: tensor<1x8xf32>) -> tensor<1x8xf32> {
  %p0 = partition.partition 0(%x) {span = array<i64: 0, 1>, layers = ["fc.weight"], replication = array<i64: 1>, crossbars = 2 : i64, core_crossbars = array<i64: 1>, weight_bytes = 8 : i64, dram_bytes = 8 : i64, latency_s = 1.0 : f64, energy_j = 1.0 : f64} : (tensor<1x8xf32>) -> tensor<1x8xf32> {
  ^bb0(%a: tensor<1x8xf32>):
    %l = partition.load %a : tensor<1x8xf32>
    %s = partition.store %l : tensor<1x8xf32>
    partition.yield %s : tensor<1x8xf32>
  }
  func.return %x : tensor<1x8xf32>
}
}
// CHECK: 'partition.partition': partition 0: crossbars = 2 but core_crossbars sum to 1

// -----
// the first partition must start at unit 0
builtin.module attributes {} {
func.func @main(%x: tensor<1x8xf32>) -> tensor<1x8xf32> {
  %p0 = partition.partition 0(%x) {span = array<i64: 1, 2>, layers = ["fc.weight"], replication = array<i64: 1>, crossbars = 1 : i64, core_crossbars = array<i64: 1>, weight_bytes = 8 : i64, dram_bytes = 8 : i64, latency_s = 1.0 : f64, energy_j = 1.0 : f64} : (tensor<1x8xf32>) -> tensor<1x8xf32> {
  ^bb0(%a: tensor<1x8xf32>):
    %l = partition.load %a : tensor<1x8xf32>
    %s = partition.store %l : tensor<1x8xf32>
    partition.yield %s : tensor<1x8xf32>
  }
  func.return %x : tensor<1x8xf32>
}
}
// CHECK: 'partition.partition': partition 0: the first partition must be number 0 and start at unit 0, got number 0 starting at unit 1

// -----
// a gap between partitions
builtin.module attributes {} {
func.func @main(%x: tensor<1x8xf32>) -> tensor<1x8xf32> {
  %p0 = partition.partition 0(%x) {span = array<i64: 0, 1>, layers = ["fc.weight"], replication = array<i64: 1>, crossbars = 1 : i64, core_crossbars = array<i64: 1>, weight_bytes = 8 : i64, dram_bytes = 8 : i64, latency_s = 1.0 : f64, energy_j = 1.0 : f64} : (tensor<1x8xf32>) -> tensor<1x8xf32> {
  ^bb0(%a: tensor<1x8xf32>):
    %l = partition.load %a : tensor<1x8xf32>
    %s = partition.store %l : tensor<1x8xf32>
    partition.yield %s : tensor<1x8xf32>
  }
  %p1 = partition.partition 1(%x) {span = array<i64: 2, 3>, layers = ["fc.weight"], replication = array<i64: 1>, crossbars = 1 : i64, core_crossbars = array<i64: 1>, weight_bytes = 8 : i64, dram_bytes = 8 : i64, latency_s = 1.0 : f64, energy_j = 1.0 : f64} : (tensor<1x8xf32>) -> tensor<1x8xf32> {
  ^bb0(%a: tensor<1x8xf32>):
    %l = partition.load %a : tensor<1x8xf32>
    %s = partition.store %l : tensor<1x8xf32>
    partition.yield %s : tensor<1x8xf32>
  }
  func.return %x : tensor<1x8xf32>
}
}
// CHECK: 'partition.partition': partition 1: starts at unit 2 but partition 0 ends at unit 1; partitions must cover the units in order, each exactly once

// -----
// a unit in two partitions
builtin.module attributes {} {
func.func @main(%x: tensor<1x8xf32>) -> tensor<1x8xf32> {
  %p0 = partition.partition 0(%x) {span = array<i64: 0, 1>, layers = ["fc.weight"], replication = array<i64: 1>, crossbars = 1 : i64, core_crossbars = array<i64: 1>, weight_bytes = 8 : i64, dram_bytes = 8 : i64, latency_s = 1.0 : f64, energy_j = 1.0 : f64} : (tensor<1x8xf32>) -> tensor<1x8xf32> {
  ^bb0(%a: tensor<1x8xf32>):
    %l = partition.load %a : tensor<1x8xf32>
    %s = partition.store %l : tensor<1x8xf32>
    partition.yield %s : tensor<1x8xf32>
  }
  %p1 = partition.partition 1(%x) {span = array<i64: 0, 1>, layers = ["fc.weight"], replication = array<i64: 1>, crossbars = 1 : i64, core_crossbars = array<i64: 1>, weight_bytes = 8 : i64, dram_bytes = 8 : i64, latency_s = 1.0 : f64, energy_j = 1.0 : f64} : (tensor<1x8xf32>) -> tensor<1x8xf32> {
  ^bb0(%a: tensor<1x8xf32>):
    %l = partition.load %a : tensor<1x8xf32>
    %s = partition.store %l : tensor<1x8xf32>
    partition.yield %s : tensor<1x8xf32>
  }
  func.return %x : tensor<1x8xf32>
}
}
// CHECK: 'partition.partition': partition 1: starts at unit 0 but partition 0 ends at unit 1

// -----
// numbering
builtin.module attributes {} {
func.func @main(%x: tensor<1x8xf32>) -> tensor<1x8xf32> {
  %p0 = partition.partition 0(%x) {span = array<i64: 0, 1>, layers = ["fc.weight"], replication = array<i64: 1>, crossbars = 1 : i64, core_crossbars = array<i64: 1>, weight_bytes = 8 : i64, dram_bytes = 8 : i64, latency_s = 1.0 : f64, energy_j = 1.0 : f64} : (tensor<1x8xf32>) -> tensor<1x8xf32> {
  ^bb0(%a: tensor<1x8xf32>):
    %l = partition.load %a : tensor<1x8xf32>
    %s = partition.store %l : tensor<1x8xf32>
    partition.yield %s : tensor<1x8xf32>
  }
  %p1 = partition.partition 2(%x) {span = array<i64: 1, 2>, layers = ["fc.weight"], replication = array<i64: 1>, crossbars = 1 : i64, core_crossbars = array<i64: 1>, weight_bytes = 8 : i64, dram_bytes = 8 : i64, latency_s = 1.0 : f64, energy_j = 1.0 : f64} : (tensor<1x8xf32>) -> tensor<1x8xf32> {
  ^bb0(%a: tensor<1x8xf32>):
    %l = partition.load %a : tensor<1x8xf32>
    %s = partition.store %l : tensor<1x8xf32>
    partition.yield %s : tensor<1x8xf32>
  }
  func.return %x : tensor<1x8xf32>
}
}
// CHECK: 'partition.partition': partition 2: follows partition 0; partitions are numbered in order

// -----
// units left out
builtin.module attributes {pim.n_units = 3 : i64} {
func.func @main(%x: tensor<1x8xf32>) -> tensor<1x8xf32> {
  %p0 = partition.partition 0(%x) {span = array<i64: 0, 1>, layers = ["fc.weight"], replication = array<i64: 1>, crossbars = 1 : i64, core_crossbars = array<i64: 1>, weight_bytes = 8 : i64, dram_bytes = 8 : i64, latency_s = 1.0 : f64, energy_j = 1.0 : f64} : (tensor<1x8xf32>) -> tensor<1x8xf32> {
  ^bb0(%a: tensor<1x8xf32>):
    %l = partition.load %a : tensor<1x8xf32>
    %s = partition.store %l : tensor<1x8xf32>
    partition.yield %s : tensor<1x8xf32>
  }
  func.return %x : tensor<1x8xf32>
}
}
// CHECK: 'partition.partition': partition 0: the last partition ends at unit 1 but the network has 3 units; every unit must be in a partition

// -----
// one replication count per layer
builtin.module attributes {} {
func.func @main(%x: tensor<1x8xf32>) -> tensor<1x8xf32> {
  %p0 = partition.partition 0(%x) {span = array<i64: 0, 1>, layers = ["fc.weight"], replication = array<i64: 1, 1>, crossbars = 1 : i64, core_crossbars = array<i64: 1>, weight_bytes = 8 : i64, dram_bytes = 8 : i64, latency_s = 1.0 : f64, energy_j = 1.0 : f64} : (tensor<1x8xf32>) -> tensor<1x8xf32> {
  ^bb0(%a: tensor<1x8xf32>):
    %l = partition.load %a : tensor<1x8xf32>
    %s = partition.store %l : tensor<1x8xf32>
    partition.yield %s : tensor<1x8xf32>
  }
  func.return %x : tensor<1x8xf32>
}
}
// CHECK: 'partition.partition': partition 0: 1 layers but 2 replication counts

// -----
// an empty span
builtin.module attributes {} {
func.func @main(%x: tensor<1x8xf32>) -> tensor<1x8xf32> {
  %p0 = partition.partition 0(%x) {span = array<i64: 0, 0>, layers = ["fc.weight"], replication = array<i64: 1>, crossbars = 1 : i64, core_crossbars = array<i64: 1>, weight_bytes = 8 : i64, dram_bytes = 8 : i64, latency_s = 1.0 : f64, energy_j = 1.0 : f64} : (tensor<1x8xf32>) -> tensor<1x8xf32> {
  ^bb0(%a: tensor<1x8xf32>):
    %l = partition.load %a : tensor<1x8xf32>
    %s = partition.store %l : tensor<1x8xf32>
    partition.yield %s : tensor<1x8xf32>
  }
  func.return %x : tensor<1x8xf32>
}
}
// CHECK: 'partition.partition': partition 0: span must be [start, end) with 0 <= start < end, got [0, 0]

// -----
// unit_weights: a box outside the weight
%w = "test.op"() : () -> tensor<4x8xf32>
%m = partition.unit_weights %w {units = array<i64: 0, 1>, boxes = array<i64: 0, 5, 0, 8>, out_axis = 0 : i64} : tensor<4x8xf32>
// CHECK: 'partition.unit_weights': box [0, 5) x [0, 8) is outside the weight's 4 outputs x 8 inputs

// -----
// unit_weights: boxes come in fours
%w = "test.op"() : () -> tensor<4x8xf32>
%m = partition.unit_weights %w {units = array<i64: 0, 1>, boxes = array<i64: 0, 4, 0>, out_axis = 0 : i64} : tensor<4x8xf32>
// CHECK: 'partition.unit_weights': boxes must be a non-empty list of [out_lo, out_hi, in_lo, in_hi], got 3 values

// -----
// a negative latency (hand-edited IR)
builtin.module attributes {} {
func.func @main(%x: tensor<1x8xf32>) -> tensor<1x8xf32> {
  %p0 = partition.partition 0(%x) {span = array<i64: 0, 1>, layers = ["fc.weight"], replication = array<i64: 1>, crossbars = 1 : i64, core_crossbars = array<i64: 1>, weight_bytes = 8 : i64, dram_bytes = 8 : i64, latency_s = -1.0 : f64, energy_j = 1.0 : f64} : (tensor<1x8xf32>) -> tensor<1x8xf32> {
  ^bb0(%a: tensor<1x8xf32>):
    %l = partition.load %a : tensor<1x8xf32>
    %s = partition.store %l : tensor<1x8xf32>
    partition.yield %s : tensor<1x8xf32>
  }
  func.return %x : tensor<1x8xf32>
}
}
// CHECK: 'partition.partition': partition 0: latency_s must be a finite number >= 0, got -1.0; re-run --partition to recompute the costs

// -----
// an infinite latency
builtin.module attributes {} {
func.func @main(%x: tensor<1x8xf32>) -> tensor<1x8xf32> {
  %p0 = partition.partition 0(%x) {span = array<i64: 0, 1>, layers = ["fc.weight"], replication = array<i64: 1>, crossbars = 1 : i64, core_crossbars = array<i64: 1>, weight_bytes = 8 : i64, dram_bytes = 8 : i64, latency_s = 0x7FF0000000000000 : f64, energy_j = 1.0 : f64} : (tensor<1x8xf32>) -> tensor<1x8xf32> {
  ^bb0(%a: tensor<1x8xf32>):
    %l = partition.load %a : tensor<1x8xf32>
    %s = partition.store %l : tensor<1x8xf32>
    partition.yield %s : tensor<1x8xf32>
  }
  func.return %x : tensor<1x8xf32>
}
}
// CHECK: 'partition.partition': partition 0: latency_s must be a finite number >= 0, got inf

// -----
// a NaN energy
builtin.module attributes {} {
func.func @main(%x: tensor<1x8xf32>) -> tensor<1x8xf32> {
  %p0 = partition.partition 0(%x) {span = array<i64: 0, 1>, layers = ["fc.weight"], replication = array<i64: 1>, crossbars = 1 : i64, core_crossbars = array<i64: 1>, weight_bytes = 8 : i64, dram_bytes = 8 : i64, latency_s = 1.0 : f64, energy_j = 0x7FF8000000000000 : f64} : (tensor<1x8xf32>) -> tensor<1x8xf32> {
  ^bb0(%a: tensor<1x8xf32>):
    %l = partition.load %a : tensor<1x8xf32>
    %s = partition.store %l : tensor<1x8xf32>
    partition.yield %s : tensor<1x8xf32>
  }
  func.return %x : tensor<1x8xf32>
}
}
// CHECK: 'partition.partition': partition 0: energy_j must be a finite number >= 0, got nan

// -----
// a negative energy
builtin.module attributes {} {
func.func @main(%x: tensor<1x8xf32>) -> tensor<1x8xf32> {
  %p0 = partition.partition 0(%x) {span = array<i64: 0, 1>, layers = ["fc.weight"], replication = array<i64: 1>, crossbars = 1 : i64, core_crossbars = array<i64: 1>, weight_bytes = 8 : i64, dram_bytes = 8 : i64, latency_s = 1.0 : f64, energy_j = -2.5e-3 : f64} : (tensor<1x8xf32>) -> tensor<1x8xf32> {
  ^bb0(%a: tensor<1x8xf32>):
    %l = partition.load %a : tensor<1x8xf32>
    %s = partition.store %l : tensor<1x8xf32>
    partition.yield %s : tensor<1x8xf32>
  }
  func.return %x : tensor<1x8xf32>
}
}
// CHECK: 'partition.partition': partition 0: energy_j must be a finite number >= 0, got -0.0025

// -----
// negative weight bytes
builtin.module attributes {} {
func.func @main(%x: tensor<1x8xf32>) -> tensor<1x8xf32> {
  %p0 = partition.partition 0(%x) {span = array<i64: 0, 1>, layers = ["fc.weight"], replication = array<i64: 1>, crossbars = 1 : i64, core_crossbars = array<i64: 1>, weight_bytes = -8 : i64, dram_bytes = 8 : i64, latency_s = 1.0 : f64, energy_j = 1.0 : f64} : (tensor<1x8xf32>) -> tensor<1x8xf32> {
  ^bb0(%a: tensor<1x8xf32>):
    %l = partition.load %a : tensor<1x8xf32>
    %s = partition.store %l : tensor<1x8xf32>
    partition.yield %s : tensor<1x8xf32>
  }
  func.return %x : tensor<1x8xf32>
}
}
// CHECK: 'partition.partition': partition 0: weight_bytes must be >= 0, got -8

// -----
// negative DRAM bytes
builtin.module attributes {} {
func.func @main(%x: tensor<1x8xf32>) -> tensor<1x8xf32> {
  %p0 = partition.partition 0(%x) {span = array<i64: 0, 1>, layers = ["fc.weight"], replication = array<i64: 1>, crossbars = 1 : i64, core_crossbars = array<i64: 1>, weight_bytes = 8 : i64, dram_bytes = -8 : i64, latency_s = 1.0 : f64, energy_j = 1.0 : f64} : (tensor<1x8xf32>) -> tensor<1x8xf32> {
  ^bb0(%a: tensor<1x8xf32>):
    %l = partition.load %a : tensor<1x8xf32>
    %s = partition.store %l : tensor<1x8xf32>
    partition.yield %s : tensor<1x8xf32>
  }
  func.return %x : tensor<1x8xf32>
}
}
// CHECK: 'partition.partition': partition 0: dram_bytes must be >= 0, got -8

// -----
// a replication count below 1
builtin.module attributes {} {
func.func @main(%x: tensor<1x8xf32>) -> tensor<1x8xf32> {
  %p0 = partition.partition 0(%x) {span = array<i64: 0, 1>, layers = ["fc.weight"], replication = array<i64: 0>, crossbars = 1 : i64, core_crossbars = array<i64: 1>, weight_bytes = 8 : i64, dram_bytes = 8 : i64, latency_s = 1.0 : f64, energy_j = 1.0 : f64} : (tensor<1x8xf32>) -> tensor<1x8xf32> {
  ^bb0(%a: tensor<1x8xf32>):
    %l = partition.load %a : tensor<1x8xf32>
    %s = partition.store %l : tensor<1x8xf32>
    partition.yield %s : tensor<1x8xf32>
  }
  func.return %x : tensor<1x8xf32>
}
}
// CHECK: 'partition.partition': partition 0: replication counts must be >= 1 (one replica is the layer itself), got [0]

// -----
// more replicas than the layer has windows: a linear layer on one row has one
builtin.module attributes {} {
func.func @main(%x: tensor<1x8xf32>) -> tensor<1x4xf32> {
  %p0 = partition.partition 0(%x) {span = array<i64: 0, 1>, layers = ["fc.weight"], replication = array<i64: 2>, crossbars = 2 : i64, core_crossbars = array<i64: 2>, weight_bytes = 8 : i64, dram_bytes = 8 : i64, latency_s = 1.0 : f64, energy_j = 1.0 : f64} : (tensor<1x8xf32>) -> tensor<1x4xf32> {
  ^bb0(%a: tensor<1x8xf32>):
    %l = partition.load %a : tensor<1x8xf32>
    %w = nn.weight "fc.weight" : tensor<4x8xf32>
    %y = nn.linear %l, %w : (tensor<1x8xf32>, tensor<4x8xf32>) -> tensor<1x4xf32>
    %s = partition.store %y : tensor<1x4xf32>
    partition.yield %s : tensor<1x4xf32>
  }
  func.return %p0 : tensor<1x4xf32>
}
}
// CHECK: 'partition.partition': partition 0: layer 'y' has replication 2 but only 1 window (MVMs per inference); each replica computes at least one, so give it at most 1

// -----
// a placement hint on a core the chip lacks
builtin.module attributes {pim.chip = {name = "two", cores = 2 : i64, crossbars_per_core = 2 : i64, crossbar_rows = 16 : i64, crossbar_cols = 16 : i64, cell_bits = 1 : i64, weight_bits = 4 : i64, act_bits = 4 : i64, dac_bits = 1 : i64, adc_bits = 8 : i64, local_memory_bytes = 65536 : i64, clock_hz = 1.0e+09 : f64, mvm_read_ns = 200.0 : f64, mvm_per_bit_ns = 200.0 : f64, mvm_adc_ns = 200.0 : f64, mvm_shift_add_ns = 200.0 : f64, mvm_write_ns = 200.0 : f64, mvm_interval_ns = 200.0 : f64, vector_bytes = 64 : i64, vector_latency_ns = 10.0 : f64, local_memory_bandwidth = 2.56e+10 : f64, bus_bandwidth = 2.56e+10 : f64, dram_bandwidth = 1.28e+10 : f64, dram_latency_ns = 100.0 : f64, crossbar_write_ns_per_row = 1.0 : f64, crossbar_read_pj = 10.0 : f64, adc_pj = 1.0 : f64, shift_add_pj = 0.05 : f64, crossbar_write_pj_per_bit = 0.1 : f64, dram_pj_per_byte = 40.0 : f64, bus_pj_per_byte = 1.0 : f64, local_memory_pj_per_byte = 0.5 : f64, vector_pj_per_op = 5.0 : f64, vector_power_mw = 22.8 : f64, local_memory_power_mw = 18.0 : f64, control_power_mw = 8.0 : f64}} {
func.func @main(%x: tensor<1x8xf32>) -> tensor<1x8xf32> {
  %p0 = partition.partition 0(%x) {span = array<i64: 0, 1>, layers = ["fc.weight"], replication = array<i64: 1>, crossbars = 1 : i64, core_crossbars = array<i64: 1>, weight_bytes = 8 : i64, dram_bytes = 8 : i64, latency_s = 1.0 : f64, energy_j = 1.0 : f64, placement = [array<i64: 2>]} : (tensor<1x8xf32>) -> tensor<1x8xf32> {
  ^bb0(%a: tensor<1x8xf32>):
    %l = partition.load %a : tensor<1x8xf32>
    %s = partition.store %l : tensor<1x8xf32>
    partition.yield %s : tensor<1x8xf32>
  }
  func.return %x : tensor<1x8xf32>
}
}
// CHECK: 'partition.partition': partition 0: the placement hint of layer 'fc.weight' must name distinct cores of the chip, got [2]; chip 'two' has cores 0-1
