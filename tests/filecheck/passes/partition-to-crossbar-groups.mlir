// partition-to-crossbar on grouped convolutions, with an inline chip of 2 cores x 2 crossbars of
// 64 rows x 16 columns (4 output channels per crossbar).
// Depthwise 8 channels 3x3 (9 rows per group, 1 channel per group): k = min(64 // 9, 4) = 4
// groups share a crossbar block-diagonally; one unit of 8 groups on 2 crossbars, each tile
// "groups = 4", reading 36 input rows (4 channels x 9 taps).
// Grouped 8->8, 2 groups of 4->4 3x3 (36 rows, 4 channels per group): k = min(1, 1) = 1, so
// each group is a dense tile whose input rows are offset by the group: 0-36 and 36-72.
// RUN: pim-opt %s --partition --partition-to-crossbar | filecheck %s
// RUN: pim-opt %s --partition --partition-to-crossbar | pim-opt | filecheck %s

builtin.module attributes {pim.chip = {name = "tiny64", cores = 2 : i64, crossbars_per_core = 2 : i64, crossbar_rows = 64 : i64, crossbar_cols = 16 : i64, cell_bits = 1 : i64, weight_bits = 4 : i64, act_bits = 4 : i64, dac_bits = 1 : i64, adc_bits = 8 : i64, local_memory_bytes = 65536 : i64, clock_hz = 1.0e+09 : f64, mvm_read_ns = 200.0 : f64, mvm_per_bit_ns = 200.0 : f64, mvm_adc_ns = 200.0 : f64, mvm_shift_add_ns = 200.0 : f64, mvm_write_ns = 200.0 : f64, mvm_interval_ns = 200.0 : f64, vector_bytes = 64 : i64, vector_latency_ns = 10.0 : f64, local_memory_bandwidth = 2.56e+10 : f64, bus_bandwidth = 2.56e+10 : f64, dram_bandwidth = 1.28e+10 : f64, dram_latency_ns = 100.0 : f64, crossbar_write_ns_per_row = 1.0 : f64, crossbar_read_pj = 10.0 : f64, adc_pj = 1.0 : f64, shift_add_pj = 0.05 : f64, crossbar_write_pj_per_bit = 0.1 : f64, dram_pj_per_byte = 40.0 : f64, bus_pj_per_byte = 1.0 : f64, local_memory_pj_per_byte = 0.5 : f64, vector_pj_per_op = 5.0 : f64, vector_power_mw = 22.8 : f64, local_memory_power_mw = 18.0 : f64, control_power_mw = 8.0 : f64, description = "2 cores x 2 crossbars of 64x16"}, pim.batch = 1 : i64} {
  func.func @main(%x: tensor<1x8x5x5xf32>) -> tensor<1x8x5x5xf32> {
    %w0 = nn.weight "dw.weight" : tensor<8x1x3x3xf32>
    %a0 = nn.conv2d %x, %w0 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 8 : i64} : (tensor<1x8x5x5xf32>, tensor<8x1x3x3xf32>) -> tensor<1x8x5x5xf32>
    %w1 = nn.weight "g.weight" : tensor<8x4x3x3xf32>
    %a1 = nn.conv2d %a0, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 2 : i64} : (tensor<1x8x5x5xf32>, tensor<8x4x3x3xf32>) -> tensor<1x8x5x5xf32>
    func.return %a1 : tensor<1x8x5x5xf32>
  }
}

// CHECK:      crossbar.partition 0
// CHECK:        %[[D0:.*]] = crossbar.tile {weight = "dw.weight", layout = #crossbar.layout<oihw>, rows = array<i64: 0, 9>, cols = array<i64: 0, 4>, replica = 0 : i64, core = {{.*}}, groups = 4 : i64}
// CHECK-NEXT:   %[[D1:.*]] = crossbar.tile {weight = "dw.weight", layout = #crossbar.layout<oihw>, rows = array<i64: 0, 9>, cols = array<i64: 4, 8>, replica = 0 : i64, core = {{.*}}, groups = 4 : i64}
// CHECK-NEXT:   %[[G0:.*]] = crossbar.tile {weight = "g.weight", layout = #crossbar.layout<oihw>, rows = array<i64: 0, 36>, cols = array<i64: 0, 4>, replica = 0 : i64, core = {{[0-9]}} : i64, xbar = {{[0-9]}} : i64}
// CHECK-NEXT:   %[[G1:.*]] = crossbar.tile {weight = "g.weight", layout = #crossbar.layout<oihw>, rows = array<i64: 0, 36>, cols = array<i64: 4, 8>, replica = 0 : i64, core = {{[0-9]}} : i64, xbar = {{[0-9]}} : i64}
// CHECK-NEXT:   crossbar.write %[[D0]], %[[D1]], %[[G0]], %[[G1]]
// CHECK-NEXT:   %[[U:.*]] = crossbar.im2col %{{.*}} : (tensor<1x8x5x5xf32>) -> tensor<1x25x72xf32>
// CHECK-NEXT:   %[[M0:.*]] = crossbar.mvm %[[D0]], %[[U]] {in_rows = array<i64: 0, 36>} : (tensor<1x25x72xf32>) -> tensor<1x25x4xf32>
// CHECK-NEXT:   %[[M1:.*]] = crossbar.mvm %[[D1]], %[[U]] {in_rows = array<i64: 36, 72>} : (tensor<1x25x72xf32>) -> tensor<1x25x4xf32>
// CHECK-NEXT:   crossbar.concat %[[M0]], %[[M1]] {axis = 2 : i64} : (tensor<1x25x4xf32>, tensor<1x25x4xf32>) -> tensor<1x25x8xf32>
// CHECK-NEXT:   crossbar.col2im
// CHECK-NEXT:   %[[V:.*]] = crossbar.im2col
// CHECK-NEXT:   crossbar.mvm %[[G0]], %[[V]] {in_rows = array<i64: 0, 36>} : (tensor<1x25x72xf32>) -> tensor<1x25x4xf32>
// CHECK-NEXT:   crossbar.mvm %[[G1]], %[[V]] {in_rows = array<i64: 36, 72>} : (tensor<1x25x72xf32>) -> tensor<1x25x4xf32>
