// Rolling runs of the element schedule (pimdsl/isa/line_buffer.py `runs`, the chip's
// roll_rows = 8; off by default) on the network of crossbar-to-isa-element-schedule.mlir:
// conv0 (1x1, core 1) feeds conv1 (3x3, pad 1, 6x6, core 0), 2 x 2 images. conv1's one-row
// tiles run in rolling runs: a run's first tile loads 3 padded rows of conv0's map t2.conv
// (8x8x2 = 128 elements an image, 16 a row) as its band; each next one moves the band up two
// rows (a gather of 2 x 16 elements from @68 to @36) and loads only its one new row (at @100).
// Before each band it waits for the token core 1 sends after the conv0 row it needs last
// (rows 0-1 for output row 0, ..., row 5 for output rows 4 and 5: no token before row 5). A run
// keeps its first tile's key and takes the next rows while the conv0 tiles they wait for are
// keyed before it (RowTokens.cut_runs): rows 0-2, then rows 3-5, a pipeline stage later: rows
// 3-5 of image t run with rows 0-2 of image t + 1 (offsets 48 and 128 + 0).
// RUN: pim-opt %s --partition='schedule=element' --lower-to-isa -t pim-asm | filecheck %s
// The program simulates without deadlock (numerics: tests/test_rolling_bands.py).
// RUN: pim-opt %s --partition='schedule=element' --lower-to-isa -o %t.isa.mlir
// RUN: pim-run %t.isa.mlir --timing-only | filecheck %s --check-prefix=TIME

builtin.module attributes {pim.chip = {name = "tiny", cores = 2 : i64, crossbars_per_core = 2 : i64, crossbar_rows = 16 : i64, crossbar_cols = 16 : i64, cell_bits = 1 : i64, weight_bits = 4 : i64, act_bits = 4 : i64, dac_bits = 1 : i64, adc_bits = 8 : i64, local_memory_bytes = 65536 : i64, clock_hz = 1.0e+09 : f64, mvm_read_ns = 200.0 : f64, mvm_per_bit_ns = 200.0 : f64, mvm_adc_ns = 200.0 : f64, mvm_shift_add_ns = 200.0 : f64, mvm_write_ns = 200.0 : f64, mvm_interval_ns = 200.0 : f64, vector_bytes = 64 : i64, vector_latency_ns = 10.0 : f64, local_memory_bandwidth = 2.56e+10 : f64, bus_bandwidth = 2.56e+10 : f64, dram_bandwidth = 1.28e+10 : f64, dram_latency_ns = 100.0 : f64, crossbar_write_ns_per_row = 1.0 : f64, crossbar_read_pj = 10.0 : f64, adc_pj = 1.0 : f64, shift_add_pj = 0.05 : f64, crossbar_write_pj_per_bit = 0.1 : f64, dram_pj_per_byte = 40.0 : f64, bus_pj_per_byte = 1.0 : f64, local_memory_pj_per_byte = 0.5 : f64, vector_pj_per_op = 5.0 : f64, vector_power_mw = 22.8 : f64, local_memory_power_mw = 18.0 : f64, control_power_mw = 8.0 : f64, roll_rows = 8 : i64, description = "2 cores x 2 crossbars of 16x16"}, pim.batch = 2 : i64} {
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

// CHECK:      .partition 0
// CHECK-NEXT: .core 0
// CHECK:      loop 1 i0 {
// CHECK:        send       peer=1 src=@0 len=1 tag=-1 buffer=t1.input
// CHECK-NEXT:   recv       peer=1 dst=@0 len=1 tag=-2 buffer=t2.conv
// CHECK-NEXT:   load_block buffer=t2.conv offset=0+128*i0 sizes=3,8 pitches=16,2 len=2 dst=@36
// CHECK:        store      src=@132 buffer=t3.conv offset=0+288*i0+8*i1 len=4
// CHECK:        recv       peer=1 dst=@0 len=1 tag=-3 buffer=t2.conv
// CHECK-NEXT:   gather     dst=@36 src=@68 sizes=2 pitches=16 len=16
// CHECK-NEXT:   load_block buffer=t2.conv offset=48+128*i0 sizes=1,8 pitches=16,2 len=2 dst=@100
// CHECK:        recv       peer=1 dst=@0 len=1 tag=-4 buffer=t2.conv
// CHECK-NEXT:   gather     dst=@36 src=@68 sizes=2 pitches=16 len=16
// CHECK-NEXT:   load_block buffer=t2.conv offset=64+128*i0 sizes=1,8
// CHECK:      loop 3 i0 {
// CHECK:        send       peer=1 src=@0 len=1 tag=-1 buffer=t1.input
// CHECK-NEXT:   recv       peer=1 dst=@0 len=1 tag=-5 buffer=t2.conv
// CHECK-NEXT:   load_block buffer=t2.conv offset=48+128*i0 sizes=3,8
// CHECK:        recv       peer=1 dst=@0 len=1 tag=-6 buffer=t2.conv
// CHECK-NEXT:   gather     dst=@36 src=@68 sizes=2 pitches=16 len=16
// CHECK-NEXT:   load_block buffer=t2.conv offset=96+128*i0 sizes=1,8
// CHECK:        store      src=@132 buffer=t3.conv offset=192+288*i0+8*i1 len=4
// CHECK-NEXT:   }
// CHECK-NEXT:   gather     dst=@36 src=@68 sizes=2 pitches=16 len=16
// CHECK-NEXT:   load_block buffer=t2.conv offset=112+128*i0 sizes=1,8 pitches=16,2 len=2 dst=@100
// CHECK:        recv       peer=1 dst=@0 len=1 tag=-2 buffer=t2.conv
// CHECK-NEXT:   load_block buffer=t2.conv offset=128+128*i0 sizes=3,8

// TIME: pim-run: timing (tiny, batch 2, {{[0-9]+}} partition(s))
