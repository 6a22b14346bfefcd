// crossbar-to-isa: replicas sharing the windows of a layer, and a block-diagonal (depthwise) tile.
// A 1x1 conv 2->4 on a 4x4 map has two replicas: windows 0-5 on core 0, 6-15 on core 1. A window
// range that does not start or end on a row becomes up to three loop nests (rows of OW = 4):
//   [0, 6)  = row 0 (4 windows) + row 1, columns 0-1
//   [6, 16) = row 1, columns 2-3 + rows 2-3 (a 2 x 4 nest)
// Hand-derived offsets: the input map (no halo, NHWC, 2 channels) has window (oy, ox) at
// (4*oy + ox)*2; the conv output, read by a padded 3x3 depthwise conv, has a halo of 1: pixel
// (y, x) at ((y+1)*6 + x+1)*4 = 28 + 24*y + 4*x. The depthwise conv is one tile of 4 groups
// (groups = 4: 4 x 9 = 36 crossbar rows); its windows read channels (c, ky, kx) at pitches
// [1, 24, 4] from 24*oy + 4*ox. Chip: 2 cores x 2 crossbars of 64x64.
// RUN: pim-opt %s --crossbar-to-isa -t pim-asm | filecheck %s

builtin.module attributes {pim.chip = {name = "tiny", cores = 2 : i64, crossbars_per_core = 2 : i64, crossbar_rows = 64 : i64, crossbar_cols = 64 : i64, cell_bits = 1 : i64, weight_bits = 4 : i64, act_bits = 4 : i64, dac_bits = 1 : i64, adc_bits = 8 : i64, local_memory_bytes = 4096 : i64, clock_hz = 1.0e+09 : f64, mvm_read_ns = 200.0 : f64, mvm_per_bit_ns = 200.0 : f64, mvm_adc_ns = 200.0 : f64, mvm_shift_add_ns = 200.0 : f64, mvm_write_ns = 200.0 : f64, mvm_interval_ns = 200.0 : f64, vector_bytes = 64 : i64, vector_latency_ns = 10.0 : f64, local_memory_bandwidth = 2.56e+10 : f64, bus_bandwidth = 2.56e+10 : f64, dram_bandwidth = 1.28e+10 : f64, dram_latency_ns = 100.0 : f64, crossbar_write_ns_per_row = 1.0 : f64, crossbar_read_pj = 10.0 : f64, adc_pj = 1.0 : f64, shift_add_pj = 0.05 : f64, crossbar_write_pj_per_bit = 0.1 : f64, dram_pj_per_byte = 40.0 : f64, bus_pj_per_byte = 1.0 : f64, local_memory_pj_per_byte = 0.5 : f64, vector_pj_per_op = 5.0 : f64, vector_power_mw = 22.8 : f64, local_memory_power_mw = 18.0 : f64, control_power_mw = 8.0 : f64, description = "2 cores x 2 crossbars of 64x64, 4 kB local memory"}, pim.batch = 1 : i64} {
  func.func @main(%x: tensor<1x2x4x4xf32>) -> tensor<1x4x4x4xf32> {
    %y = crossbar.partition 0 (%x) : (tensor<1x2x4x4xf32>) -> tensor<1x4x4x4xf32> {
    ^bb0(%a: tensor<1x2x4x4xf32>):
      %t0 = crossbar.tile {weight = "pw.weight", layout = #crossbar.layout<oihw>, rows = array<i64: 0, 2>, cols = array<i64: 0, 4>, replica = 0 : i64, core = 0 : i64, xbar = 0 : i64}
      %t1 = crossbar.tile {weight = "pw.weight", layout = #crossbar.layout<oihw>, rows = array<i64: 0, 2>, cols = array<i64: 0, 4>, replica = 1 : i64, core = 1 : i64, xbar = 0 : i64}
      %t2 = crossbar.tile {weight = "dw.weight", layout = #crossbar.layout<oihw>, rows = array<i64: 0, 9>, cols = array<i64: 0, 4>, replica = 0 : i64, core = 1 : i64, xbar = 1 : i64, groups = 4 : i64}
      crossbar.write %t0, %t1, %t2
      %u = crossbar.im2col %a {kernel = array<i64: 1, 1>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>) -> tensor<1x16x2xf32>
      %p0 = crossbar.mvm %t0, %u {in_rows = array<i64: 0, 2>, windows = array<i64: 0, 6>} : (tensor<1x16x2xf32>) -> tensor<1x6x4xf32>
      %p1 = crossbar.mvm %t1, %u {in_rows = array<i64: 0, 2>, windows = array<i64: 6, 16>} : (tensor<1x16x2xf32>) -> tensor<1x10x4xf32>
      %c = crossbar.concat %p0, %p1 {axis = 1 : i64} : (tensor<1x6x4xf32>, tensor<1x10x4xf32>) -> tensor<1x16x4xf32>
      %f = crossbar.col2im %c {spatial = array<i64: 4, 4>} : (tensor<1x16x4xf32>) -> tensor<1x4x4x4xf32>
      %v = crossbar.im2col %f {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x4x4x4xf32>) -> tensor<1x16x36xf32>
      %q = crossbar.mvm %t2, %v {in_rows = array<i64: 0, 36>} : (tensor<1x16x36xf32>) -> tensor<1x16x4xf32>
      %g = crossbar.col2im %q {spatial = array<i64: 4, 4>} : (tensor<1x16x4xf32>) -> tensor<1x4x4x4xf32>
      crossbar.yield %g : tensor<1x4x4x4xf32>
    }
    func.return %y : tensor<1x4x4x4xf32>
  }
}

// CHECK:      .buffer t1.input temp 1x4x4x2
// CHECK-NEXT: .buffer t2.conv temp 1x6x6x4
// CHECK-NEXT: .buffer t3.conv temp 1x4x4x4
// CHECK-NEXT: .buffer output output 1x4x4x4
// CHECK:      .core 0
// CHECK:          send       peer=1 src=@0 len=1 tag=-1
// CHECK-NEXT:     loop 4 i0 {
// CHECK-NEXT:         load       buffer=t1.input offset=0+2*i0 dst=@0 len=2
// CHECK-NEXT:         mvm        xbar=0 src=@0 rows=2 dst=@4 cols=4 bits=4
// CHECK-NEXT:         store      src=@4 buffer=t2.conv offset=28+4*i0 len=4
// CHECK-NEXT:     }
// CHECK-NEXT:     loop 2 i0 {
// CHECK-NEXT:         load       buffer=t1.input offset=8+2*i0 dst=@0 len=2
// CHECK-NEXT:         mvm        xbar=0 src=@0 rows=2 dst=@4 cols=4 bits=4
// CHECK-NEXT:         store      src=@4 buffer=t2.conv offset=52+4*i0 len=4
// CHECK-NEXT:     }
// A token, not a barrier: core 0 tells core 1 its part of t2.conv is stored (tag -2).
// CHECK-NEXT:     send       peer=1 src=@0 len=1 tag=-2
// CHECK:      .core 1
// CHECK:          ld_weight  weight=dw.weight layout=oihw rows=0:9 cols=0:4 dst=@0 groups=4
// CHECK-NEXT:     wr_xbar    xbar=1 src=@0 rows=36 cols=4
// CHECK-NEXT:     recv       peer=0 dst=@0 len=1 tag=-1
// CHECK-NEXT:     loop 2 i0 {
// CHECK-NEXT:         load       buffer=t1.input offset=12+2*i0 dst=@0 len=2
// CHECK-NEXT:         mvm        xbar=0 src=@0 rows=2 dst=@4 cols=4 bits=4
// CHECK-NEXT:         store      src=@4 buffer=t2.conv offset=60+4*i0 len=4
// CHECK-NEXT:     }
// CHECK-NEXT:     loop 2 i0 {
// CHECK-NEXT:         loop 4 i1 {
// CHECK-NEXT:             load       buffer=t1.input offset=16+8*i0+2*i1 dst=@0 len=2
// CHECK-NEXT:             mvm        xbar=0 src=@0 rows=2 dst=@4 cols=4 bits=4
// CHECK-NEXT:             store      src=@4 buffer=t2.conv offset=76+24*i0+4*i1 len=4
// CHECK-NEXT:         }
// CHECK-NEXT:     }
// CHECK-NEXT:     recv       peer=0 dst=@0 len=1 tag=-2
// The depthwise conv reads through a line buffer: its 16 windows are one tile, so core 1 loads
// one band, the whole padded map (6 x 6 pixels x 4 channels from offset 0, pitches [6*4, 4]),
// dense [6][6][4] at byte 72 (after the 36-element window vector at @0), and gathers window
// (i0, i1) from @72 + (i0*6 + i1)*4*2 bytes, channels (c, ky, kx) at pitches [1, 6*4, 4].
// CHECK-NEXT:     load_block buffer=t2.conv offset=0 sizes=6,6 pitches=24,4 len=4 dst=@72
// CHECK-NEXT:     loop 4 i0 {
// CHECK-NEXT:         loop 4 i1 {
// CHECK-NEXT:             gather     dst=@0 src=@72+48*i0+8*i1 sizes=4,3,3 pitches=1,24,4 len=1
// CHECK-NEXT:             mvm        xbar=1 src=@0 rows=36 dst=@{{[0-9]+}} cols=4 bits=4
// CHECK-NEXT:             store      src=@{{[0-9]+}} buffer=t3.conv offset=0+16*i0+4*i1 len=4
// CHECK-NEXT:         }
// CHECK-NEXT:     }
// The network output is relaid from NHWC to row-major NCHW by core 1, which wrote it.
// CHECK-NEXT:     load_block buffer=t3.conv offset=0 sizes=4,4,4 pitches=1,16,4 len=1 dst=@0
// CHECK-NEXT:     store      src=@0 buffer=output offset=0 len=64
// CHECK-NEXT: ; ==== end of partition 0 ====
