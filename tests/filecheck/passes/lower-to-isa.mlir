// lower-to-isa = partition-to-crossbar + crossbar-to-isa in one flag, from partition-level IR.
// The network and chip of partition-to-crossbar.mlir: 2 cores x 2 crossbars of 16x16, batch 2,
// greedy partitioning -> four partitions, each a weight reload; conv1 and conv2 are cut by
// boundaries, so their partial sums travel through DRAM (an nn.add in the next partition).
// The layer schedule (the checks below are its program; tests/filecheck/passes/
// crossbar-to-isa-element-schedule.mlir shows the element schedule's).
// RUN: pim-opt %s --partition='schedule=layer' --lower-to-isa | filecheck %s
// RUN: pim-opt %s --partition='schedule=layer' --lower-to-isa -t pim-asm | filecheck %s --check-prefix=ASM
// RUN: pim-opt %s --partition='schedule=layer' --lower-to-isa -t pim-json | filecheck %s --check-prefix=JSON
// The single passes compose to the same program.
// RUN: pim-opt %s --partition='schedule=layer' --partition-to-crossbar --crossbar-to-isa | filecheck %s
// crossbar-to-isa needs crossbar-level IR.
// RUN: not pim-opt %s --crossbar-to-isa 2>&1 | filecheck %s --check-prefix=NOXB

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

// @main's batch dimension 2 x pim.batch 2 = 4 images in every buffer; the row-major input is
// relaid to NHWC by the first partition.
// CHECK:      pim_isa.program elem_bytes 2 {
// CHECK-NEXT:   pim_isa.buffer "input" {shape = array<i64: 4, 2, 6, 6>, role = #pim_isa.role<input>}
// CHECK-NEXT:   pim_isa.buffer "t1.input" {shape = array<i64: 4, 6, 6, 2>, role = #pim_isa.role<temp>}
// CHECK:        pim_isa.partition 0 {
// CHECK-NEXT:     pim_isa.core 0 {
// CHECK-NEXT:       pim_isa.ld_weight {weight = "conv1.weight", layout = #pim_isa.layout<oihw>, rows = array<i64: 0, 16>, cols = array<i64: 0, 4>, dst = array<i64: 0>}
// CHECK-NEXT:       pim_isa.wr_xbar {xbar = 0 : i64, src = array<i64: 0>, rows = 16 : i64, cols = 4 : i64}
// CHECK:            pim_isa.loop 4 {
// CHECK:        pim_isa.partition 1 {
// CHECK:        pim_isa.partition 2 {
// CHECK:        pim_isa.partition 3 {
// CHECK:            pim_isa.ld_weight {weight = "fc.weight", layout = #pim_isa.layout<oi>
// CHECK-NOT:    pim_isa.partition 4
// CHECK:      func.func @main(%x: tensor<4x2x6x6xf32>) -> tensor<4x4xf32> {
// CHECK-NEXT:   %{{.*}} = pim_isa.execute %x {inputs = ["input"], outputs = ["{{.*}}"]} : (tensor<4x2x6x6xf32>) -> tensor<4x4xf32>

// ASM:      ; batch 2, elem_bytes 2
// ASM:      .partition 0
// ASM:      .partition 3
// ASM-NOT:  .partition 4

// JSON:      "format": "pim-json",
// JSON:      "op": "load_block"
// JSON-SAME: "sizes": [

// NOXB: crossbar-to-isa expects @main to hold only crossbar.partition ops and func.return
