// Placement hint set by the user (docs/partitioning.md) on the MLP of partition.mlir: fc1 (48 -> 8)
// is units 0-3 (2 crossbars each on this 2 x 2-crossbar chip), fc2 (8 -> 4) unit 4; layerwise,
// fc1 takes partitions 0 and 1, fc2 partition 2. Hinted on core 1, fc2's tile lands there.
// RUN: pim-opt %s --partition='strategy=layerwise' --set-placement='placement="fc2.weight=1"' | filecheck %s
// CHECK: pim.placement = {fc2.weight = array<i64: 1>}
// CHECK: partition.partition 2({{.*}}) {span = array<i64: 4, 5>, layers = ["fc2.weight"], replication = array<i64: 1>, crossbars = 1 : i64, core_crossbars = array<i64: 0, 1>
// CHECK-SAME: placement = [array<i64: 1>]
// RUN: pim-opt %s --partition='strategy=layerwise placement="y=1"' --partition-to-crossbar | filecheck %s --check-prefix=TILE
// TILE: crossbar.partition 2
// TILE: crossbar.tile {weight = "fc2.weight"{{.*}}core = 1 : i64
// A core the chip lacks, a layer whose replica does not fit its cores, nn-level IR, bad syntax:
// one-paragraph errors naming the layer and what fits.
// RUN: not pim-opt %s --partition='strategy=layerwise placement="fc2.weight=2"' 2>&1 | filecheck %s --check-prefix=RANGE
// RANGE: pim-opt: error: partition 2: the placement hint puts layer 'y' on core 2, but chip 'tiny' has cores 0-1.
// RUN: not pim-opt %s --partition='strategy=layerwise placement="fc1.weight=0"' 2>&1 | filecheck %s --check-prefix=ROOM
// ROOM: pim-opt: error: partition 0: the placement hint puts layer 'fc1.weight' on core 0 of chip 'tiny' (2 cores x 2 crossbars), but its 1 replica needs 4 crossbars (units of up to 2, each within one core) and those cores have 2 free: not even one fits there.
// RUN: not pim-opt %s --set-placement='placement="fc2.weight=1"' 2>&1 | filecheck %s --check-prefix=LEVEL
// LEVEL: pim-opt: error: a placement hint can only be set on partition-level IR
// RUN: not pim-opt %s --partition='placement="fc2.weight=1-"' 2>&1 | filecheck %s --check-prefix=SYNTAX
// SYNTAX: pim-opt: error: --partition='placement=...': bad placement hint 'fc2.weight=1-'

builtin.module attributes {pim.chip = {name = "tiny", cores = 2 : i64, crossbars_per_core = 2 : i64, crossbar_rows = 16 : i64, crossbar_cols = 16 : i64, cell_bits = 1 : i64, weight_bits = 4 : i64, act_bits = 4 : i64, dac_bits = 1 : i64, adc_bits = 8 : i64, local_memory_bytes = 65536 : i64, clock_hz = 1.0e+09 : f64, mvm_read_ns = 200.0 : f64, mvm_per_bit_ns = 200.0 : f64, mvm_adc_ns = 200.0 : f64, mvm_shift_add_ns = 200.0 : f64, mvm_write_ns = 200.0 : f64, mvm_interval_ns = 200.0 : f64, vector_bytes = 64 : i64, vector_latency_ns = 10.0 : f64, local_memory_bandwidth = 2.56e+10 : f64, bus_bandwidth = 2.56e+10 : f64, dram_bandwidth = 1.28e+10 : f64, dram_latency_ns = 100.0 : f64, crossbar_write_ns_per_row = 1.0 : f64, crossbar_read_pj = 10.0 : f64, adc_pj = 1.0 : f64, shift_add_pj = 0.05 : f64, crossbar_write_pj_per_bit = 0.1 : f64, dram_pj_per_byte = 40.0 : f64, bus_pj_per_byte = 1.0 : f64, local_memory_pj_per_byte = 0.5 : f64, vector_pj_per_op = 5.0 : f64, vector_power_mw = 22.8 : f64, local_memory_power_mw = 18.0 : f64, control_power_mw = 8.0 : f64, description = "2 cores x 2 crossbars of 16x16"}, pim.batch = 2 : i64} {
  func.func @main(%x: tensor<1x48xf32>) -> tensor<1x4xf32> {
    %w1 = nn.weight "fc1.weight" : tensor<8x48xf32>
    %b1 = nn.weight "fc1.bias" : tensor<8xf32>
    %h = nn.linear %x, %w1, %b1 : (tensor<1x48xf32>, tensor<8x48xf32>, tensor<8xf32>) -> tensor<1x8xf32>
    %r = nn.relu %h : tensor<1x8xf32> -> tensor<1x8xf32>
    %w2 = nn.weight "fc2.weight" : tensor<4x8xf32>
    %y = nn.linear %r, %w2 : (tensor<1x8xf32>, tensor<4x8xf32>) -> tensor<1x4xf32>
    func.return %y : tensor<1x4xf32>
  }
}
