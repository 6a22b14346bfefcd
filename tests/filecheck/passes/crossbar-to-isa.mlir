// crossbar-to-isa on a hand-written crossbar partition (independent of partition-to-crossbar):
// a 3x3 conv 2->4 whose 18 rows are cut into two row tiles on two cores (rows 0-16 = input
// channels 0-1 on core 0, rows 16-18 = channel 1 on core 1), bias, relu (fused into the
// conv's store), a 2x2 max pool and flatten (on core 0, the conv's home core) and a linear
// layer 16->3 on core 1. Chip: 2 cores x
// 2 crossbars of 16x16, 4 kB local memory, elem_bytes 2.
//
// Hand-derived addresses: the input is relaid to padded NHWC [1, 6, 6, 2] (halo 1): pixel (y, x)
// at ((y+1)*6 + x+1)*2 elements, so row y of the interior starts at 14 + 12*y. Window (oy, ox)
// of the conv starts at pixel (oy-1, ox-1): 12*oy + 2*ox, and channel c of it at +c (core 1
// needs channel 1 only: +1). The rows of the window are (c, ky, kx): sizes [c, 3, 3], pitches
// [1, 12 (a row), 2 (a pixel)]. Core 1's tile starts at row 16 = channel 1 (9 rows per channel)
// + 7, so its MVM reads local byte 7*2 = 14. The conv output [1, 4, 4, 4] has no halo (the pool
// has no padding): window (oy, ox) stores 4 channels at 16*oy + 4*ox.
// Line buffer: all 16 windows are one tile, so each core loads one band, the whole padded map
// (6 x 6 pixels from offset 0, + channel lo) x its channels, [6][6][C'] dense after the window
// vector (core 0: C' = 2 at byte 18*2 = 36; core 1: C' = 1 at 9*2 = 18), and gathers window
// (oy, ox) from the band at + (oy*6 + ox)*C'*2 bytes: sizes [C', 3, 3], pitches [1, 6*C' (a
// band row), C' (a pixel)].
// RUN: pim-opt %s --crossbar-to-isa | filecheck %s
// RUN: pim-opt %s --crossbar-to-isa | pim-opt | filecheck %s
// RUN: pim-opt %s --crossbar-to-isa -t pim-asm | filecheck %s --check-prefix=ASM

builtin.module attributes {pim.chip = {name = "tiny", cores = 2 : i64, crossbars_per_core = 2 : i64, crossbar_rows = 16 : i64, crossbar_cols = 16 : i64, cell_bits = 1 : i64, weight_bits = 4 : i64, act_bits = 4 : i64, dac_bits = 1 : i64, adc_bits = 8 : i64, local_memory_bytes = 4096 : i64, clock_hz = 1.0e+09 : f64, mvm_read_ns = 200.0 : f64, mvm_per_bit_ns = 200.0 : f64, mvm_adc_ns = 200.0 : f64, mvm_shift_add_ns = 200.0 : f64, mvm_write_ns = 200.0 : f64, mvm_interval_ns = 200.0 : f64, vector_bytes = 64 : i64, vector_latency_ns = 10.0 : f64, local_memory_bandwidth = 2.56e+10 : f64, bus_bandwidth = 2.56e+10 : f64, dram_bandwidth = 1.28e+10 : f64, dram_latency_ns = 100.0 : f64, crossbar_write_ns_per_row = 1.0 : f64, crossbar_read_pj = 10.0 : f64, adc_pj = 1.0 : f64, shift_add_pj = 0.05 : f64, crossbar_write_pj_per_bit = 0.1 : f64, dram_pj_per_byte = 40.0 : f64, bus_pj_per_byte = 1.0 : f64, local_memory_pj_per_byte = 0.5 : f64, vector_pj_per_op = 5.0 : f64, vector_power_mw = 22.8 : f64, local_memory_power_mw = 18.0 : f64, control_power_mw = 8.0 : f64, description = "2 cores x 2 crossbars of 16x16, 4 kB local memory"}, pim.batch = 1 : i64} {
  func.func @main(%x: tensor<1x2x4x4xf32>) -> tensor<1x3xf32> {
    %y = crossbar.partition 0 (%x) : (tensor<1x2x4x4xf32>) -> tensor<1x3xf32> {
    ^bb0(%a: tensor<1x2x4x4xf32>):
      %t0 = crossbar.tile {weight = "c.weight", layout = #crossbar.layout<oihw>, rows = array<i64: 0, 16>, cols = array<i64: 0, 4>, replica = 0 : i64, core = 0 : i64, xbar = 0 : i64}
      %t1 = crossbar.tile {weight = "c.weight", layout = #crossbar.layout<oihw>, rows = array<i64: 16, 18>, cols = array<i64: 0, 4>, replica = 0 : i64, core = 1 : i64, xbar = 0 : i64}
      %t2 = crossbar.tile {weight = "fc.weight", layout = #crossbar.layout<oi>, rows = array<i64: 0, 16>, cols = array<i64: 0, 3>, replica = 0 : i64, core = 1 : i64, xbar = 1 : i64}
      crossbar.write %t0, %t1, %t2
      %u = crossbar.im2col %a {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>) -> tensor<1x16x18xf32>
      %p0 = crossbar.mvm %t0, %u {in_rows = array<i64: 0, 16>} : (tensor<1x16x18xf32>) -> tensor<1x16x4xf32>
      %p1 = crossbar.mvm %t1, %u {in_rows = array<i64: 16, 18>} : (tensor<1x16x18xf32>) -> tensor<1x16x4xf32>
      %s = crossbar.accumulate %p0, %p1 : tensor<1x16x4xf32>
      %b = crossbar.bias %s {weight = "c.bias", cols = array<i64: 0, 4>} : tensor<1x16x4xf32>
      %f = crossbar.col2im %b {spatial = array<i64: 4, 4>} : (tensor<1x16x4xf32>) -> tensor<1x4x4x4xf32>
      %r = nn.relu %f : tensor<1x4x4x4xf32> -> tensor<1x4x4x4xf32>
      %m = nn.maxpool %r {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : tensor<1x4x4x4xf32> -> tensor<1x4x2x2xf32>
      %fl = nn.flatten %m {axis = 1 : i64} : tensor<1x4x2x2xf32> -> tensor<1x16xf32>
      %q = crossbar.mvm %t2, %fl {in_rows = array<i64: 0, 16>} : (tensor<1x16xf32>) -> tensor<1x3xf32>
      crossbar.yield %q : tensor<1x3xf32>
    }
    func.return %y : tensor<1x3xf32>
  }
}

// CHECK:      pim_isa.program elem_bytes 2 {
// CHECK-NEXT:   pim_isa.buffer "input" {shape = array<i64: 1, 2, 4, 4>, role = #pim_isa.role<input>}
// CHECK-NEXT:   pim_isa.buffer "t1.input" {shape = array<i64: 1, 6, 6, 2>, role = #pim_isa.role<temp>}
// CHECK-NEXT:   pim_isa.buffer "t2.conv" {shape = array<i64: 1, 4, 4, 4>, role = #pim_isa.role<temp>}
// CHECK-NEXT:   pim_isa.buffer "t3.maxpool" {shape = array<i64: 1, 2, 2, 4>, role = #pim_isa.role<temp>}
// CHECK-NEXT:   pim_isa.buffer "t4.flatten" {shape = array<i64: 1, 16>, role = #pim_isa.role<temp>}
// CHECK-NEXT:   pim_isa.buffer "t5.exit" {shape = array<i64: 1, 3>, role = #pim_isa.role<output>}
// CHECK-NEXT:   pim_isa.partition 0 {
// CHECK-NEXT:     pim_isa.core 0 {
// CHECK-NEXT:       pim_isa.ld_weight {weight = "c.weight", layout = #pim_isa.layout<oihw>, rows = array<i64: 0, 16>, cols = array<i64: 0, 4>, dst = array<i64: 0>}
// CHECK-NEXT:       pim_isa.wr_xbar {xbar = 0 : i64, src = array<i64: 0>, rows = 16 : i64, cols = 4 : i64}
// The network input, NCHW -> padded NHWC, one input row a loop iteration.
// CHECK-NEXT:       pim_isa.loop 4 {
// CHECK-NEXT:         pim_isa.load_block {buffer = "input", offset = array<i64: 0, 4>, sizes = array<i64: 4, 2>, pitches = array<i64: 1, 16>, len = 1 : i64, dst = array<i64: 0>}
// CHECK-NEXT:         pim_isa.store {src = array<i64: 0>, buffer = "t1.input", offset = array<i64: 14, 12>, len = 8 : i64}
// CHECK-NEXT:       }
// A token (1 element, negative tag) tells core 1 the relaid input is stored: no barrier.
// CHECK-NEXT:       pim_isa.send {peer = 1 : i64, src = array<i64: 0>, len = 1 : i64, tag = -1 : i64}
// CHECK-NEXT:       pim_isa.load {buffer = "c.bias", offset = array<i64: 0>, dst = array<i64: [[BIAS:[0-9]+]]>, len = 4 : i64}
// The conv on its home core 0: one iteration per output window, never unrolled.
// CHECK-NEXT:       pim_isa.load_block {buffer = "t1.input", offset = array<i64: 0>, sizes = array<i64: 6, 6>, pitches = array<i64: 12, 2>, len = 2 : i64, dst = array<i64: 36>}
// CHECK-NEXT:       pim_isa.loop 4 {
// CHECK-NEXT:         pim_isa.loop 4 {
// CHECK-NEXT:           pim_isa.gather {dst = array<i64: 0>, src = array<i64: 36, 24, 4>, sizes = array<i64: 2, 3, 3>, pitches = array<i64: 1, 12, 2>, len = 1 : i64}
// CHECK-NEXT:           pim_isa.mvm {xbar = 0 : i64, src = array<i64: 0>, rows = 16 : i64, dst = array<i64: [[OUT:[0-9]+]]>, cols = 4 : i64, bits = 4 : i64}
// CHECK-NEXT:           pim_isa.recv {peer = 1 : i64, dst = array<i64: [[RECV:[0-9]+]]>, len = 4 : i64, tag = [[TAG:[0-9]+]] : i64}
// CHECK-NEXT:           pim_isa.vadd {dst = array<i64: [[OUT]]>, lhs = array<i64: [[OUT]]>, rhs = array<i64: [[RECV]]>, len = 4 : i64}
// CHECK-NEXT:           pim_isa.vadd {dst = array<i64: [[OUT]]>, lhs = array<i64: [[OUT]]>, rhs = array<i64: [[BIAS]]>, len = 4 : i64}
// CHECK-NEXT:           pim_isa.vrelu {dst = array<i64: [[OUT]]>, src = array<i64: [[OUT]]>, len = 4 : i64}
// CHECK-NEXT:           pim_isa.store {src = array<i64: [[OUT]]>, buffer = "t2.conv", offset = array<i64: 0, 16, 4>, len = 4 : i64}
// CHECK-NEXT:         }
// CHECK-NEXT:       }
// The max pool: a 2x2 window of 4 channels is one strided load, then one vpool over 4 taps.
// CHECK-NEXT:       pim_isa.loop 2 {
// CHECK-NEXT:         pim_isa.loop 2 {
// CHECK-NEXT:           pim_isa.load_block {buffer = "t2.conv", offset = array<i64: 0, 32, 8>, sizes = array<i64: 2, 2>, pitches = array<i64: 16, 4>, len = 4 : i64, dst = array<i64: 0>}
// CHECK-NEXT:           pim_isa.vpool {kind = #pim_isa.pool_kind<max>, dst = array<i64: [[P:[0-9]+]]>, src = array<i64: 0>, len = 4 : i64, count = 4 : i64, step = 4 : i64}
// CHECK-NEXT:           pim_isa.store {src = array<i64: [[P]]>, buffer = "t3.maxpool", offset = array<i64: 0, 8, 4>, len = 4 : i64}
// CHECK-NEXT:         }
// CHECK-NEXT:       }
// Flatten = NHWC -> (c, h, w) order, on core 0 too: a vector step runs on the core that wrote
// its input, in that core's image loop, so no token is needed between the pool and it.
// CHECK-NEXT:       pim_isa.load_block {buffer = "t3.maxpool", offset = array<i64: 0>, sizes = array<i64: 4, 2, 2>, pitches = array<i64: 1, 8, 4>, len = 1 : i64, dst = array<i64: 0>}
// CHECK-NEXT:       pim_isa.store {src = array<i64: 0>, buffer = "t4.flatten", offset = array<i64: 0>, len = 16 : i64}
// CHECK-NEXT:       pim_isa.send {peer = 1 : i64, src = array<i64: 0>, len = 1 : i64, tag = -3 : i64}
// CHECK-NEXT:     }
// CHECK-NEXT:     pim_isa.core 1 {
// CHECK-NEXT:       pim_isa.ld_weight {weight = "c.weight", layout = #pim_isa.layout<oihw>, rows = array<i64: 16, 18>, cols = array<i64: 0, 4>, dst = array<i64: 0>}
// CHECK-NEXT:       pim_isa.wr_xbar {xbar = 0 : i64, src = array<i64: 0>, rows = 2 : i64, cols = 4 : i64}
// CHECK-NEXT:       pim_isa.ld_weight {weight = "fc.weight", layout = #pim_isa.layout<oi>, rows = array<i64: 0, 16>, cols = array<i64: 0, 3>, dst = array<i64: 0>}
// CHECK-NEXT:       pim_isa.wr_xbar {xbar = 1 : i64, src = array<i64: 0>, rows = 16 : i64, cols = 3 : i64}
// CHECK-NEXT:       pim_isa.recv {peer = 0 : i64, dst = array<i64: 0>, len = 1 : i64, tag = -1 : i64}
// Core 1's partial sums (channel 1's last 2 rows) go to the home core, one message a window.
// CHECK-NEXT:       pim_isa.load_block {buffer = "t1.input", offset = array<i64: 1>, sizes = array<i64: 6, 6>, pitches = array<i64: 12, 2>, len = 1 : i64, dst = array<i64: 18>}
// CHECK-NEXT:       pim_isa.loop 4 {
// CHECK-NEXT:         pim_isa.loop 4 {
// CHECK-NEXT:           pim_isa.gather {dst = array<i64: 0>, src = array<i64: 18, 12, 2>, sizes = array<i64: 1, 3, 3>, pitches = array<i64: 1, 6, 1>, len = 1 : i64}
// CHECK-NEXT:           pim_isa.mvm {xbar = 0 : i64, src = array<i64: 14>, rows = 2 : i64, dst = array<i64: [[SEND:[0-9]+]]>, cols = 4 : i64, bits = 4 : i64}
// CHECK-NEXT:           pim_isa.send {peer = 0 : i64, src = array<i64: [[SEND]]>, len = 4 : i64, tag = [[TAG]] : i64}
// CHECK-NEXT:         }
// CHECK-NEXT:       }
// CHECK-NEXT:       pim_isa.recv {peer = 0 : i64, dst = array<i64: 0>, len = 1 : i64, tag = -3 : i64}
// The linear layer on its one tile.
// CHECK-NEXT:       pim_isa.load {buffer = "t4.flatten", offset = array<i64: 0>, dst = array<i64: 0>, len = 16 : i64}
// CHECK-NEXT:       pim_isa.mvm {xbar = 1 : i64, src = array<i64: 0>, rows = 16 : i64, dst = array<i64: [[Y:[0-9]+]]>, cols = 3 : i64, bits = 4 : i64}
// CHECK-NEXT:       pim_isa.store {src = array<i64: [[Y]]>, buffer = "t5.exit", offset = array<i64: 0>, len = 3 : i64}
// CHECK-NEXT:     }
// CHECK-NEXT:   }
// CHECK-NEXT: }
// CHECK:      func.func @main(%x: tensor<1x2x4x4xf32>) -> tensor<1x3xf32> {
// CHECK-NEXT:   %{{.*}} = pim_isa.execute %x {inputs = ["input"], outputs = ["t5.exit"]} : (tensor<1x2x4x4xf32>) -> tensor<1x3xf32>
// CHECK-NEXT:   func.return

// ASM:      .partition 0
// ASM-NEXT: .core 0
// ASM:          load_block buffer=t1.input offset=0 sizes=6,6 pitches=12,2 len=2 dst=@36
// ASM-NEXT:     loop 4 i0 {
// ASM-NEXT:         loop 4 i1 {
// ASM-NEXT:             gather     dst=@0 src=@36+24*i0+4*i1 sizes=2,3,3 pitches=1,12,2 len=1
// ASM-NEXT:             mvm        xbar=0 src=@0 rows=16 dst=@{{[0-9]+}} cols=4 bits=4
