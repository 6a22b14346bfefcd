// partition-to-crossbar on a conv-conv-conv-linear network with an inline chip of 2 cores x 2
// crossbars of 16x16 (4-bit weights, 1-bit cells: 4 output channels per crossbar), so the
// network needs four partitions and several layers are row-split units:
//   conv0 2->2 1x1 (rows 2):          1 unit, 1 crossbar
//   conv1 2->8 3x3 (rows 18):         2 units of 4 channels, 2 row tiles each (0-16, 16-18)
//   conv2 8->4 3x3 s2 (rows 72):      3 row-split units (input channels 0-3, 3-6, 6-8 = rows
//                                     0-27, 27-54, 54-72), 2 row tiles each
//   fc 36->4 (rows 36):               2 row-split units (rows 0-18, 18-36), 2 row tiles each
// Greedy: [0,2) [2,4) [4,6) [6,8): conv1 and conv2 are cut by boundaries (pieces). The layer
// schedule is named so that the schedule property below does not follow the cost model's pick.
// RUN: pim-opt %s --partition='schedule=layer' --partition-to-crossbar | filecheck %s
// Layer-wise: conv0 alone gets 4 replicas that share its 36 windows.
// RUN: pim-opt %s --partition='strategy=layerwise' --partition-to-crossbar | filecheck %s --check-prefix=LAYER
// The output parses back and verifies (placement verifiers of the crossbar dialect).
// RUN: pim-opt %s --partition='schedule=layer' --partition-to-crossbar | pim-opt | filecheck %s --check-prefix=ROUND
// Partition-level IR is required.
// RUN: not pim-opt %s --partition-to-crossbar 2>&1 | filecheck %s --check-prefix=NOPART

builtin.module attributes {pim.chip = {name = "tiny", cores = 2 : i64, crossbars_per_core = 2 : i64, crossbar_rows = 16 : i64, crossbar_cols = 16 : i64, cell_bits = 1 : i64, weight_bits = 4 : i64, act_bits = 4 : i64, dac_bits = 1 : i64, adc_bits = 8 : i64, local_memory_bytes = 65536 : i64, clock_hz = 1.0e+09 : f64, mvm_read_ns = 200.0 : f64, mvm_per_bit_ns = 200.0 : f64, mvm_adc_ns = 200.0 : f64, mvm_shift_add_ns = 200.0 : f64, mvm_write_ns = 200.0 : f64, mvm_interval_ns = 200.0 : f64, vector_bytes = 64 : i64, vector_latency_ns = 10.0 : f64, local_memory_bandwidth = 2.56e+10 : f64, bus_bandwidth = 2.56e+10 : f64, dram_bandwidth = 1.28e+10 : f64, dram_latency_ns = 100.0 : f64, crossbar_write_ns_per_row = 1.0 : f64, crossbar_read_pj = 10.0 : f64, adc_pj = 1.0 : f64, shift_add_pj = 0.05 : f64, crossbar_write_pj_per_bit = 0.1 : f64, dram_pj_per_byte = 40.0 : f64, bus_pj_per_byte = 1.0 : f64, local_memory_pj_per_byte = 0.5 : f64, vector_pj_per_op = 5.0 : f64, vector_power_mw = 22.8 : f64, local_memory_power_mw = 18.0 : f64, control_power_mw = 8.0 : f64, description = "2 cores x 2 crossbars of 16x16"}, pim.batch = 2 : i64} {
  func.func @main(%x: tensor<2x2x6x6xf32>) -> tensor<2x4xf32> {
    %w0 = nn.weight "conv0.weight" : tensor<2x2x1x1xf32>
    %a0 = nn.conv2d %x, %w0 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<2x2x6x6xf32>, tensor<2x2x1x1xf32>) -> tensor<2x2x6x6xf32>
    %w1 = nn.weight "conv1.weight" : tensor<8x2x3x3xf32>
    %b1 = nn.weight "conv1.bias" : tensor<8xf32>
    %a1 = nn.conv2d %a0, %w1, %b1 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<2x2x6x6xf32>, tensor<8x2x3x3xf32>, tensor<8xf32>) -> tensor<2x8x6x6xf32>
    %r1 = nn.relu %a1 : tensor<2x8x6x6xf32> -> tensor<2x8x6x6xf32>
    %w2 = nn.weight "conv2.weight" : tensor<4x8x3x3xf32>
    %a2 = nn.conv2d %r1, %w2 {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<2x8x6x6xf32>, tensor<4x8x3x3xf32>) -> tensor<2x4x3x3xf32>
    %r2 = nn.relu %a2 : tensor<2x4x3x3xf32> -> tensor<2x4x3x3xf32>
    %f = nn.flatten %r2 {axis = 1 : i64} : tensor<2x4x3x3xf32> -> tensor<2x36xf32>
    %w3 = nn.weight "fc.weight" : tensor<4x36xf32>
    %b3 = nn.weight "fc.bias" : tensor<4xf32>
    %y = nn.linear %f, %w3, %b3 : (tensor<2x36xf32>, tensor<4x36xf32>, tensor<4xf32>) -> tensor<2x4xf32>
    func.return %y : tensor<2x4xf32>
  }
}

// Partition 0: conv0 (core 1) and conv1's first unit (channels 0-3, two row tiles on core 0).
// CHECK:      %[[P0:.*]], %[[P0B:.*]] = crossbar.partition 0 (%x) {pim.span = array<i64: 0, 2>, schedule = #crossbar.schedule<layer>} : (tensor<2x2x6x6xf32>) -> (tensor<2x2x6x6xf32>, tensor<2x8x6x6xf32>) {
// CHECK-NEXT: ^{{.*}}(%[[A:.*]]: tensor<2x2x6x6xf32>):
// CHECK-NEXT:   %[[T0:.*]] = crossbar.tile {weight = "conv0.weight", layout = #crossbar.layout<oihw>, rows = array<i64: 0, 2>, cols = array<i64: 0, 2>, replica = 0 : i64, core = 1 : i64, xbar = 0 : i64}
// CHECK-NEXT:   %[[T1:.*]] = crossbar.tile {weight = "conv1.weight", layout = #crossbar.layout<oihw>, rows = array<i64: 0, 16>, cols = array<i64: 0, 4>, replica = 0 : i64, core = 0 : i64, xbar = 0 : i64}
// CHECK-NEXT:   %[[T2:.*]] = crossbar.tile {weight = "conv1.weight", layout = #crossbar.layout<oihw>, rows = array<i64: 16, 18>, cols = array<i64: 0, 4>, replica = 0 : i64, core = 0 : i64, xbar = 1 : i64}
// CHECK-NEXT:   crossbar.write %[[T0]], %[[T1]], %[[T2]]
// CHECK-NEXT:   %[[U0:.*]] = crossbar.im2col %[[A]] {kernel = array<i64: 1, 1>, {{.*}}} : (tensor<2x2x6x6xf32>) -> tensor<2x36x2xf32>
// CHECK-NEXT:   %[[M0:.*]] = crossbar.mvm %[[T0]], %[[U0]] {in_rows = array<i64: 0, 2>} : (tensor<2x36x2xf32>) -> tensor<2x36x2xf32>
// CHECK-NEXT:   %[[Y0:.*]] = crossbar.col2im %[[M0]] {spatial = array<i64: 6, 6>} : (tensor<2x36x2xf32>) -> tensor<2x2x6x6xf32>
// CHECK-NEXT:   %[[U1:.*]] = crossbar.im2col %[[Y0]] {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, {{.*}}} : (tensor<2x2x6x6xf32>) -> tensor<2x36x18xf32>
// CHECK-NEXT:   %[[M1:.*]] = crossbar.mvm %[[T1]], %[[U1]] {in_rows = array<i64: 0, 16>} : (tensor<2x36x18xf32>) -> tensor<2x36x4xf32>
// CHECK-NEXT:   %[[M2:.*]] = crossbar.mvm %[[T2]], %[[U1]] {in_rows = array<i64: 16, 18>} : (tensor<2x36x18xf32>) -> tensor<2x36x4xf32>
// CHECK-NEXT:   %[[S1:.*]] = crossbar.accumulate %[[M1]], %[[M2]] : tensor<2x36x4xf32>
// A piece: channels 4-7 are computed in partition 1, zeros here.
// CHECK-NEXT:   %[[Z:.*]] = nn.constant {value = dense<0.000000e+00> : tensor<2x36x4xf32>} : tensor<2x36x4xf32>
// CHECK-NEXT:   %[[C:.*]] = crossbar.concat %[[S1]], %[[Z]] {axis = 2 : i64} : (tensor<2x36x4xf32>, tensor<2x36x4xf32>) -> tensor<2x36x8xf32>
// CHECK-NEXT:   %[[F:.*]] = crossbar.col2im %[[C]] {spatial = array<i64: 6, 6>} : (tensor<2x36x8xf32>) -> tensor<2x8x6x6xf32>
// CHECK-NEXT:   crossbar.yield %[[Y0]], %[[F]] : tensor<2x2x6x6xf32>, tensor<2x8x6x6xf32>
// CHECK-NEXT: }

// Partition 1: conv1's channels 4-7 (the last piece: bias, then the loaded partial sum is
// added) and conv2's first row-split unit (input rows 0-27 as row tiles 0-16 and 16-27).
// The crossbars of core 0 are reloaded: other blocks of conv1.weight.
// CHECK:      crossbar.partition 1 (%[[P0]], %[[P0B]]) {pim.span = array<i64: 2, 4>, schedule = #crossbar.schedule<layer>}
// CHECK-NEXT: ^{{.*}}(%[[E0:.*]]: tensor<2x2x6x6xf32>, %[[E1:.*]]: tensor<2x8x6x6xf32>):
// CHECK-NEXT:   crossbar.tile {weight = "conv1.weight", layout = #crossbar.layout<oihw>, rows = array<i64: 0, 16>, cols = array<i64: 4, 8>, replica = 0 : i64, core = 0 : i64, xbar = 0 : i64}
// CHECK-NEXT:   crossbar.tile {weight = "conv1.weight", layout = #crossbar.layout<oihw>, rows = array<i64: 16, 18>, cols = array<i64: 4, 8>, replica = 0 : i64, core = 0 : i64, xbar = 1 : i64}
// CHECK-NEXT:   %[[T22:.*]] = crossbar.tile {weight = "conv2.weight", layout = #crossbar.layout<oihw>, rows = array<i64: 0, 16>, cols = array<i64: 0, 4>, replica = 0 : i64, core = 1 : i64, xbar = 0 : i64}
// CHECK-NEXT:   %[[T23:.*]] = crossbar.tile {weight = "conv2.weight", layout = #crossbar.layout<oihw>, rows = array<i64: 16, 27>, cols = array<i64: 0, 4>, replica = 0 : i64, core = 1 : i64, xbar = 1 : i64}
// CHECK-NEXT:   crossbar.write
// CHECK:        crossbar.concat %{{.*}}, %{{.*}} {axis = 2 : i64}
// CHECK-NEXT:   %[[B:.*]] = crossbar.bias %{{.*}} {weight = "conv1.bias", cols = array<i64: 0, 8>} : tensor<2x36x8xf32>
// CHECK-NEXT:   %[[F1:.*]] = crossbar.col2im %[[B]]
// CHECK-NEXT:   %[[ACC:.*]] = nn.add %[[E1]], %[[F1]] {pim.accumulate = array<i64: 1, 3>}
// CHECK-NEXT:   %[[R1:.*]] = nn.relu %[[ACC]]
// CHECK-NEXT:   %[[U2:.*]] = crossbar.im2col %[[R1]] {{.*}} : (tensor<2x8x6x6xf32>) -> tensor<2x9x72xf32>
// CHECK-NEXT:   crossbar.mvm %[[T22]], %[[U2]] {in_rows = array<i64: 0, 16>} : (tensor<2x9x72xf32>) -> tensor<2x9x4xf32>
// CHECK-NEXT:   crossbar.mvm %[[T23]], %[[U2]] {in_rows = array<i64: 16, 27>} : (tensor<2x9x72xf32>) -> tensor<2x9x4xf32>
// CHECK-NEXT:   crossbar.accumulate
// CHECK-NEXT:   crossbar.col2im

// Partition 2: conv2's other two row-split units (rows 27-54, 54-72): four MVMs, one sum.
// CHECK:      crossbar.partition 2
// CHECK:        crossbar.mvm {{.*}} {in_rows = array<i64: 27, 43>} : (tensor<2x9x72xf32>) -> tensor<2x9x4xf32>
// CHECK-NEXT:   crossbar.mvm {{.*}} {in_rows = array<i64: 43, 54>}
// CHECK-NEXT:   crossbar.mvm {{.*}} {in_rows = array<i64: 54, 70>}
// CHECK-NEXT:   crossbar.mvm {{.*}} {in_rows = array<i64: 70, 72>}
// CHECK-NEXT:   crossbar.accumulate %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x9x4xf32>
// CHECK-NEXT:   crossbar.col2im
// CHECK-NEXT:   nn.add {{.*}} {pim.accumulate = array<i64: 3, 6>}
// CHECK-NEXT:   nn.relu
// CHECK-NEXT:   nn.flatten

// Partition 3: the linear layer, rank-2 MVMs over the batch, two row-split units.
// CHECK:      crossbar.partition 3
// CHECK-COUNT-4: crossbar.tile {weight = "fc.weight", layout = #crossbar.layout<oi>
// CHECK:        crossbar.mvm {{.*}} {in_rows = array<i64: 0, 16>} : (tensor<2x36xf32>) -> tensor<2x4xf32>
// CHECK:        crossbar.accumulate %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x4xf32>
// CHECK-NEXT:   crossbar.bias %{{.*}} {weight = "fc.bias", cols = array<i64: 0, 4>} : tensor<2x4xf32>
// CHECK-NEXT:   crossbar.yield
// CHECK-NOT:  partition.
// CHECK-NOT:  nn.conv2d
// CHECK-NOT:  nn.linear

// LAYER:      crossbar.partition 0 (%x) {pim.span = array<i64: 0, 1>, schedule = #crossbar.schedule<layer>}
// LAYER:        crossbar.tile {weight = "conv0.weight", {{.*}} replica = 0 : i64, core = 0 : i64, xbar = 0 : i64}
// LAYER-NEXT:   crossbar.tile {weight = "conv0.weight", {{.*}} replica = 1 : i64, core = 0 : i64, xbar = 1 : i64}
// LAYER-NEXT:   crossbar.tile {weight = "conv0.weight", {{.*}} replica = 2 : i64, core = 1 : i64, xbar = 0 : i64}
// LAYER-NEXT:   crossbar.tile {weight = "conv0.weight", {{.*}} replica = 3 : i64, core = 1 : i64, xbar = 1 : i64}
// LAYER:        crossbar.mvm {{.*}} {in_rows = array<i64: 0, 2>, windows = array<i64: 0, 9>} : (tensor<2x36x2xf32>) -> tensor<2x9x2xf32>
// LAYER-NEXT:   crossbar.mvm {{.*}} {in_rows = array<i64: 0, 2>, windows = array<i64: 9, 18>}
// LAYER-NEXT:   crossbar.mvm {{.*}} {in_rows = array<i64: 0, 2>, windows = array<i64: 18, 27>}
// LAYER-NEXT:   crossbar.mvm {{.*}} {in_rows = array<i64: 0, 2>, windows = array<i64: 27, 36>}
// LAYER-NEXT:   crossbar.concat {{.*}} {axis = 1 : i64} : ({{.*}}) -> tensor<2x36x2xf32>

// ROUND-COUNT-4: crossbar.partition

// NOPART: partition-to-crossbar needs partition-level IR
