// crossbar-to-isa with schedule=batch (pimdsl/isa/pipeline.py) on the partition of
// crossbar-to-isa.mlir at batch 3. Stages: the input relayout (core 0) 0; the conv (cores 0
// and 1) reads it: 1; the pool and flatten continue the conv's image loop on core 0: 1; the
// linear layer (core 1) reads the flatten: 2. Iteration t runs image t - stage of each step,
// highest stage first, so
//   core 0: t = 0: relayout(0); t = 1, 2: conv/pool/flatten(t - 1), relayout(t);
//           t = 3: conv/pool/flatten(2)
//   core 1: t = 1: conv(0); t = 2, 3: linear(t - 2), conv(t - 1); t = 4: linear(2)
// A step's DRAM offsets start at its first image: image strides t1.input 6*6*2 = 72,
// t2.conv 4*4*4 = 64, t4.flatten 16, t5.exit 3 elements; the network input 2*4*4 = 32.
// RUN: pim-opt %s --crossbar-to-isa=schedule=batch -t pim-asm | filecheck %s
// RUN: pim-opt %s --crossbar-to-isa=schedule=batch | pim-opt | filecheck %s --check-prefix=IR
// RUN: pim-opt %s --crossbar-to-isa=schedule=layer -t pim-asm | filecheck %s --check-prefix=LAYER

// CHECK:      .core 0
// CHECK:      loop 1 i0 {
// CHECK-NEXT:   loop 4 i1 {
// CHECK-NEXT:     load_block buffer=input offset=0+32*i0+4*i1
// CHECK:        send       peer=1 src=@0 len=1 tag=-1
// CHECK-NEXT: }
// CHECK-NEXT: loop 2 i0 {
// CHECK:        load_block buffer=t1.input offset=0+72*i0
// CHECK:        store      src=@180 buffer=t2.conv offset=0+64*i0+16*i1+4*i2 len=4
// CHECK:        store      src=@0 buffer=t4.flatten offset=0+16*i0 len=16
// CHECK-NEXT:   send       peer=1 src=@0 len=1 tag=-3
// CHECK-NEXT:   loop 4 i1 {
// CHECK-NEXT:     load_block buffer=input offset=32+32*i0+4*i1
// CHECK:      loop 1 i0 {
// CHECK:        load_block buffer=t1.input offset=144+72*i0
// CHECK:        store      src=@0 buffer=t4.flatten offset=32+16*i0 len=16
// CHECK:      .core 1
// CHECK:      loop 1 i0 {
// CHECK-NEXT:   recv       peer=0 dst=@0 len=1 tag=-1
// CHECK-NEXT:   load_block buffer=t1.input offset=1+72*i0
// CHECK:      loop 2 i0 {
// CHECK-NEXT:   recv       peer=0 dst=@0 len=1 tag=-3
// CHECK-NEXT:   load       buffer=t4.flatten offset=0+16*i0 dst=@0 len=16
// CHECK-NEXT:   mvm        xbar=1
// CHECK-NEXT:   store      src=@32 buffer=t5.exit offset=0+3*i0 len=3
// CHECK-NEXT:   recv       peer=0 dst=@0 len=1 tag=-1
// CHECK-NEXT:   load_block buffer=t1.input offset=73+72*i0
// CHECK:      loop 1 i0 {
// CHECK-NEXT:   recv       peer=0 dst=@0 len=1 tag=-3
// CHECK-NEXT:   load       buffer=t4.flatten offset=32+16*i0 dst=@0 len=16
// CHECK-NEXT:   mvm        xbar=1
// CHECK-NEXT:   store      src=@32 buffer=t5.exit offset=6+3*i0 len=3
// CHECK-NEXT: }
// CHECK-NEXT: ; ==== end of partition 0 ====

// IR: pim_isa.loop 1 {
// IR: pim_isa.loop 2 {
// IR: pim_isa.loop 1 {

// The layer schedule: each step over the whole batch (3 images), then the next.
// LAYER:      .core 1
// LAYER:      loop 3 i0 {
// LAYER-NEXT:   recv       peer=0 dst=@0 len=1 tag=-1
// LAYER:      loop 3 i0 {
// LAYER-NEXT:   recv       peer=0 dst=@0 len=1 tag=-3
// LAYER-NEXT:   load       buffer=t4.flatten offset=0+16*i0 dst=@0 len=16


builtin.module attributes {pim.chip = {name = "tiny", cores = 2 : i64, crossbars_per_core = 2 : i64, crossbar_rows = 16 : i64, crossbar_cols = 16 : i64, cell_bits = 1 : i64, weight_bits = 4 : i64, act_bits = 4 : i64, dac_bits = 1 : i64, adc_bits = 8 : i64, local_memory_bytes = 4096 : i64, clock_hz = 1.0e+09 : f64, mvm_read_ns = 200.0 : f64, mvm_per_bit_ns = 200.0 : f64, mvm_adc_ns = 200.0 : f64, mvm_shift_add_ns = 200.0 : f64, mvm_write_ns = 200.0 : f64, mvm_interval_ns = 200.0 : f64, vector_bytes = 64 : i64, vector_latency_ns = 10.0 : f64, local_memory_bandwidth = 2.56e+10 : f64, bus_bandwidth = 2.56e+10 : f64, dram_bandwidth = 1.28e+10 : f64, dram_latency_ns = 100.0 : f64, crossbar_write_ns_per_row = 1.0 : f64, crossbar_read_pj = 10.0 : f64, adc_pj = 1.0 : f64, shift_add_pj = 0.05 : f64, crossbar_write_pj_per_bit = 0.1 : f64, dram_pj_per_byte = 40.0 : f64, bus_pj_per_byte = 1.0 : f64, local_memory_pj_per_byte = 0.5 : f64, vector_pj_per_op = 5.0 : f64, vector_power_mw = 22.8 : f64, local_memory_power_mw = 18.0 : f64, control_power_mw = 8.0 : f64, description = "2 cores x 2 crossbars of 16x16, 4 kB local memory"}, pim.batch = 3 : i64} {
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


