// A channel concat of maps that convolutions of its partition store (pimdsl/network.py
// `concat_in_stores`, lower_weight.materialise): a SqueezeNet fire module on the tiny chip. The
// squeeze (1x1) and expand 1x1 run on core 1, the expand 3x3 on core 0; each expand stores its
// relu'd channels straight into the concat's map t3.concat (5 channels a pixel): the 1x1 at
// channel offset 0 (len 2), the 3x3 at offset 2 (len 3). There is no buffer for the expands'
// own maps and no concat step; the next conv reads t3.concat.
// RUN: pim-opt %s --partition='schedule=layer' --lower-to-isa -t pim-asm | filecheck %s
// With each layer in a partition of its own the expands store their own maps (t3, t4) and a
// step copies them into the concat's (store_block at channel offsets 0 and 2).
// RUN: pim-opt %s --partition='strategy=layerwise schedule=layer' --lower-to-isa -t pim-asm | filecheck %s --check-prefix=STEP
// The programs simulate (values: tests/test_concat_in_stores.py).
// RUN: pim-opt %s --partition='schedule=element' --lower-to-isa -o %t.isa.mlir
// RUN: pim-run %t.isa.mlir --timing-only | filecheck %s --check-prefix=TIME

builtin.module attributes {pim.chip = {name = "tiny", cores = 2 : i64, crossbars_per_core = 2 : i64, crossbar_rows = 16 : i64, crossbar_cols = 16 : i64, cell_bits = 1 : i64, weight_bits = 4 : i64, act_bits = 4 : i64, dac_bits = 1 : i64, adc_bits = 8 : i64, local_memory_bytes = 65536 : i64, clock_hz = 1.0e+09 : f64, mvm_read_ns = 200.0 : f64, mvm_per_bit_ns = 200.0 : f64, mvm_adc_ns = 200.0 : f64, mvm_shift_add_ns = 200.0 : f64, mvm_write_ns = 200.0 : f64, mvm_interval_ns = 200.0 : f64, vector_bytes = 64 : i64, vector_latency_ns = 10.0 : f64, local_memory_bandwidth = 2.56e+10 : f64, bus_bandwidth = 2.56e+10 : f64, dram_bandwidth = 1.28e+10 : f64, dram_latency_ns = 100.0 : f64, crossbar_write_ns_per_row = 1.0 : f64, crossbar_read_pj = 10.0 : f64, adc_pj = 1.0 : f64, shift_add_pj = 0.05 : f64, crossbar_write_pj_per_bit = 0.1 : f64, dram_pj_per_byte = 40.0 : f64, bus_pj_per_byte = 1.0 : f64, local_memory_pj_per_byte = 0.5 : f64, vector_pj_per_op = 5.0 : f64, vector_power_mw = 22.8 : f64, local_memory_power_mw = 18.0 : f64, control_power_mw = 8.0 : f64, description = "2 cores x 2 crossbars of 16x16"}, pim.batch = 2 : i64} {
  func.func @main(%x: tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32> {
    %ws = nn.weight "squeeze.weight" : tensor<2x2x1x1xf32>
    %s = nn.conv2d %x, %ws {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<2x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<2x2x4x4xf32>
    %rs = nn.relu %s : tensor<2x2x4x4xf32> -> tensor<2x2x4x4xf32>
    %w1 = nn.weight "expand1.weight" : tensor<2x2x1x1xf32>
    %e1 = nn.conv2d %rs, %w1 {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<2x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<2x2x4x4xf32>
    %r1 = nn.relu %e1 : tensor<2x2x4x4xf32> -> tensor<2x2x4x4xf32>
    %w3 = nn.weight "expand3.weight" : tensor<3x2x3x3xf32>
    %e3 = nn.conv2d %rs, %w3 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<2x2x4x4xf32>, tensor<3x2x3x3xf32>) -> tensor<2x3x4x4xf32>
    %r3 = nn.relu %e3 : tensor<2x3x4x4xf32> -> tensor<2x3x4x4xf32>
    %c = nn.concat %r1, %r3 {axis = 1 : i64} : (tensor<2x2x4x4xf32>, tensor<2x3x4x4xf32>) -> tensor<2x5x4x4xf32>
    %wo = nn.weight "out.weight" : tensor<2x5x1x1xf32>
    %y = nn.conv2d %c, %wo {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<2x5x4x4xf32>, tensor<2x5x1x1xf32>) -> tensor<2x2x4x4xf32>
    func.return %y : tensor<2x2x4x4xf32>
  }
}

// CHECK:      .buffer t2.conv temp 4x6x6x2
// CHECK-NEXT: .buffer t3.concat temp 4x4x4x5
// CHECK-NEXT: .buffer t4.conv temp 4x4x4x2
// CHECK:      .partition 0
// CHECK-NEXT: .core 0
// CHECK:        mvm        xbar=1 src=@32 rows=2 dst=@180 cols=3 bits=4 accumulate
// CHECK-NEXT:   vrelu      dst=@180 src=@180 len=3
// CHECK-NEXT:   store      src=@180 buffer=t3.concat offset=2+80*i0+20*i1+5*i2 len=3
// CHECK:      .core 1
// CHECK:        store      src=@4 buffer=t2.conv
// CHECK:        load       buffer=t2.conv
// CHECK-NEXT:   mvm        xbar=1 src=@0 rows=2 dst=@4 cols=2 bits=4
// CHECK-NEXT:   vrelu      dst=@4 src=@4 len=2
// CHECK-NEXT:   store      src=@4 buffer=t3.concat offset=0+80*i0+20*i1+5*i2 len=2
// CHECK-NOT:  store_block
// CHECK:      .partition 1
// The last conv reads t3.concat (pixel (y, x) of image i0 at 80*i0 + 20*y + 5*x). Core 0 holds
// two of its replicas, windows [0, 4) and [4, 8) (a row each), interleaved a window at a time
// (docs/lowering.md "A core's replicas, interleaved"): window 0, window 4, window 1, ...
// CHECK:        load       buffer=t3.concat offset=0+80*i0 dst=@0 len=5
// CHECK:        load       buffer=t3.concat offset=20+80*i0 dst=@14 len=5
// CHECK:        load       buffer=t3.concat offset=5+80*i0 dst=@0 len=5

// STEP:      .buffer t3.conv temp 4x4x4x2
// STEP-NEXT: .buffer t4.conv temp 4x4x4x3
// STEP-NEXT: .buffer t5.concat temp 4x4x4x5
// STEP:      store_block src=@0 buffer=t5.concat offset=0+80*i0+20*i1 sizes=4 pitches=5 len=2
// STEP:      store_block src=@0 buffer=t5.concat offset=2+80*i0+20*i1 sizes=4 pitches=5 len=3

// TIME: latency
