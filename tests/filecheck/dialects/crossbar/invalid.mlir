// Every verifier message of the crossbar dialect (dialects/crossbar.py), one case per chunk,
// on compass-s (16 cores x 9 crossbars of 256x256; a 4-bit weight takes 4 one-bit columns).
// RUN: pim-opt %s --chip compass-s --split-input-file --verify-diagnostics --parsing-diagnostics | filecheck %s

// --- crossbar.partition ---

%x = "test.op"() : () -> tensor<1x16xf32>
%r = crossbar.partition 0 (%x) : (tensor<1x16xf32>) -> tensor<1x16xf32> {
^bb0(%a: tensor<1x8xf32>):
    crossbar.yield %x : tensor<1x16xf32>
}
// CHECK: 'crossbar.partition': block argument types must equal the operand types

// -----

%x = "test.op"() : () -> tensor<1x16xf32>
%r = "crossbar.partition"(%x) <{index = 0 : i64}> ({
^bb0(%a: tensor<1x16xf32>):
    "test.termop"() : () -> ()
}) : (tensor<1x16xf32>) -> tensor<1x16xf32>
// CHECK: 'crossbar.partition': body must end with crossbar.yield

// -----

%x = "test.op"() : () -> tensor<1x16xf32>
%r = crossbar.partition 0 (%x) : (tensor<1x16xf32>) -> tensor<1x16xf32> {
^bb0(%a: tensor<1x16xf32>):
    crossbar.yield
}
// CHECK: 'crossbar.partition': crossbar.yield operand types must equal the partition's result types

// -----

%x = "test.op"() : () -> tensor<1x16xf32>
crossbar.yield %x : tensor<1x16xf32>
// CHECK: 'crossbar.yield' expects parent op 'crossbar.partition'

// -----
// --- crossbar.partition: placement ---

%x = "test.op"() : () -> tensor<1x16xf32>
%r = crossbar.partition 0 (%x) : (tensor<1x16xf32>) -> tensor<1x16xf32> {
^bb0(%a: tensor<1x16xf32>):
    %t0 = crossbar.tile {weight = "w", layout = #crossbar.layout<oi>, rows = array<i64: 0, 16>, cols = array<i64: 0, 8>, replica = 0 : i64, core = 0 : i64, xbar = 0 : i64}
    %t1 = crossbar.tile {weight = "w", layout = #crossbar.layout<oi>, rows = array<i64: 16, 32>, cols = array<i64: 0, 8>, replica = 0 : i64, core = 0 : i64, xbar = 1 : i64}
    %t2 = crossbar.tile {weight = "w", layout = #crossbar.layout<oi>, rows = array<i64: 32, 48>, cols = array<i64: 0, 8>, replica = 0 : i64, core = 0 : i64, xbar = 2 : i64}
    %t3 = crossbar.tile {weight = "w", layout = #crossbar.layout<oi>, rows = array<i64: 48, 64>, cols = array<i64: 0, 8>, replica = 0 : i64, core = 0 : i64, xbar = 3 : i64}
    %t4 = crossbar.tile {weight = "w", layout = #crossbar.layout<oi>, rows = array<i64: 64, 80>, cols = array<i64: 0, 8>, replica = 0 : i64, core = 0 : i64, xbar = 4 : i64}
    %t5 = crossbar.tile {weight = "w", layout = #crossbar.layout<oi>, rows = array<i64: 80, 96>, cols = array<i64: 0, 8>, replica = 0 : i64, core = 0 : i64, xbar = 5 : i64}
    %t6 = crossbar.tile {weight = "w", layout = #crossbar.layout<oi>, rows = array<i64: 96, 112>, cols = array<i64: 0, 8>, replica = 0 : i64, core = 0 : i64, xbar = 6 : i64}
    %t7 = crossbar.tile {weight = "w", layout = #crossbar.layout<oi>, rows = array<i64: 112, 128>, cols = array<i64: 0, 8>, replica = 0 : i64, core = 0 : i64, xbar = 7 : i64}
    %t8 = crossbar.tile {weight = "w", layout = #crossbar.layout<oi>, rows = array<i64: 128, 144>, cols = array<i64: 0, 8>, replica = 0 : i64, core = 0 : i64, xbar = 8 : i64}
    %t9 = crossbar.tile {weight = "w", layout = #crossbar.layout<oi>, rows = array<i64: 144, 160>, cols = array<i64: 0, 8>, replica = 0 : i64, core = 0 : i64, xbar = 0 : i64}
    crossbar.yield %a : tensor<1x16xf32>
}
// CHECK: 'crossbar.partition': partition 0: core 0 holds 10 tiles but has only 9 crossbars (chip 'compass-s')

// -----

%x = "test.op"() : () -> tensor<1x16xf32>
%r = crossbar.partition 0 (%x) : (tensor<1x16xf32>) -> tensor<1x16xf32> {
^bb0(%a: tensor<1x16xf32>):
    %t = crossbar.tile {weight = "w", layout = #crossbar.layout<oi>, rows = array<i64: 0, 16>, cols = array<i64: 0, 8>, replica = 0 : i64, core = 16 : i64, xbar = 0 : i64}
    crossbar.yield %a : tensor<1x16xf32>
}
// CHECK: 'crossbar.tile': partition 0: core 16 is out of range (0..15)

// -----

%x = "test.op"() : () -> tensor<1x16xf32>
%r = crossbar.partition 0 (%x) : (tensor<1x16xf32>) -> tensor<1x16xf32> {
^bb0(%a: tensor<1x16xf32>):
    %t = crossbar.tile {weight = "w", layout = #crossbar.layout<oi>, rows = array<i64: 0, 16>, cols = array<i64: 0, 8>, replica = 0 : i64, core = 0 : i64, xbar = 9 : i64}
    crossbar.yield %a : tensor<1x16xf32>
}
// CHECK: 'crossbar.tile': partition 0: crossbar 9 is out of range (0..8)

// -----

%x = "test.op"() : () -> tensor<1x16xf32>
%r = crossbar.partition 0 (%x) : (tensor<1x16xf32>) -> tensor<1x16xf32> {
^bb0(%a: tensor<1x16xf32>):
    %t = crossbar.tile {weight = "w", layout = #crossbar.layout<oi>, rows = array<i64: 0, 257>, cols = array<i64: 0, 8>, replica = 0 : i64, core = 0 : i64, xbar = 0 : i64}
    crossbar.yield %a : tensor<1x16xf32>
}
// CHECK: 'crossbar.tile': partition 0: a block of 257 rows x 8 weights does not fit a 256x256 crossbar (4 column(s) per weight)

// -----

%x = "test.op"() : () -> tensor<1x16xf32>
%r = crossbar.partition 0 (%x) : (tensor<1x16xf32>) -> tensor<1x16xf32> {
^bb0(%a: tensor<1x16xf32>):
    %t = crossbar.tile {weight = "w", layout = #crossbar.layout<oi>, rows = array<i64: 0, 16>, cols = array<i64: 0, 65>, replica = 0 : i64, core = 0 : i64, xbar = 0 : i64}
    crossbar.yield %a : tensor<1x16xf32>
}
// CHECK: 'crossbar.tile': partition 0: a block of 16 rows x 65 weights does not fit a 256x256 crossbar (4 column(s) per weight)

// -----

%x = "test.op"() : () -> tensor<1x16xf32>
%r = crossbar.partition 0 (%x) : (tensor<1x16xf32>) -> tensor<1x16xf32> {
^bb0(%a: tensor<1x16xf32>):
    %t0 = crossbar.tile {weight = "w", layout = #crossbar.layout<oi>, rows = array<i64: 0, 16>, cols = array<i64: 0, 8>, replica = 0 : i64, core = 0 : i64, xbar = 0 : i64}
    %t1 = crossbar.tile {weight = "w", layout = #crossbar.layout<oi>, rows = array<i64: 0, 16>, cols = array<i64: 8, 16>, replica = 0 : i64, core = 0 : i64, xbar = 0 : i64}
    crossbar.yield %a : tensor<1x16xf32>
}
// CHECK: 'crossbar.tile': partition 0: crossbar 0 of core 0 already holds tile 'w[0:16, 0:8] replica 0'

// -----

%x = "test.op"() : () -> tensor<1x16xf32>
%r = crossbar.partition 0 (%x) : (tensor<1x16xf32>) -> tensor<1x16xf32> {
^bb0(%a: tensor<1x16xf32>):
    %t0 = crossbar.tile {weight = "w", layout = #crossbar.layout<oi>, rows = array<i64: 0, 16>, cols = array<i64: 0, 8>, replica = 0 : i64, core = 0 : i64, xbar = 0 : i64}
    %t1 = crossbar.tile {weight = "w", layout = #crossbar.layout<oi>, rows = array<i64: 0, 16>, cols = array<i64: 0, 8>, replica = 0 : i64, core = 0 : i64, xbar = 1 : i64}
    crossbar.yield %a : tensor<1x16xf32>
}
// CHECK: 'crossbar.tile': partition 0: tile 'w[0:16, 0:8] replica 0' is placed twice

// -----
// --- crossbar.partition: writes ---

%x = "test.op"() : () -> tensor<1x16xf32>
%r = crossbar.partition 0 (%x) : (tensor<1x16xf32>) -> tensor<1x16xf32> {
^bb0(%a: tensor<1x16xf32>):
    %t = crossbar.tile {weight = "w", layout = #crossbar.layout<oi>, rows = array<i64: 0, 16>, cols = array<i64: 0, 8>, replica = 0 : i64, core = 0 : i64, xbar = 0 : i64}
    crossbar.write %t
    crossbar.write %t
    crossbar.yield %a : tensor<1x16xf32>
}
// CHECK: 'crossbar.write': partition 0: a tile is written twice

// -----

%x = "test.op"() : () -> tensor<1x16xf32>
%r = crossbar.partition 0 (%x) : (tensor<1x16xf32>) -> tensor<1x16xf32> {
^bb0(%a: tensor<1x16xf32>):
    %t = crossbar.tile {weight = "w", layout = #crossbar.layout<oi>, rows = array<i64: 0, 16>, cols = array<i64: 0, 8>, replica = 0 : i64, core = 0 : i64, xbar = 0 : i64}
    %p = crossbar.mvm %t, %a {in_rows = array<i64: 0, 16>} : (tensor<1x16xf32>) -> tensor<1x8xf32>
    crossbar.write %t
    crossbar.yield %a : tensor<1x16xf32>
}
// CHECK: 'crossbar.mvm': partition 0: MVM on a tile that is not written yet

// -----

%x = "test.op"() : () -> tensor<1x16xf32>
%r = crossbar.partition 0 (%x) : (tensor<1x16xf32>) -> tensor<1x16xf32> {
^bb0(%a: tensor<1x16xf32>):
    %t = crossbar.tile {weight = "w", layout = #crossbar.layout<oi>, rows = array<i64: 0, 16>, cols = array<i64: 0, 8>, replica = 0 : i64, core = 0 : i64, xbar = 0 : i64}
    "crossbar.write"() : () -> ()
    crossbar.yield %a : tensor<1x16xf32>
}
// CHECK: 'crossbar.write': needs at least one tile

// -----
// --- crossbar.tile ---

%x = "test.op"() : () -> tensor<1x16xf32>
%r = crossbar.partition 0 (%x) : (tensor<1x16xf32>) -> tensor<1x16xf32> {
^bb0(%a: tensor<1x16xf32>):
    %t = crossbar.tile {weight = "w", layout = #crossbar.layout<nchw>, rows = array<i64: 0, 16>, cols = array<i64: 0, 8>, replica = 0 : i64, core = 0 : i64, xbar = 0 : i64}
    crossbar.yield %a : tensor<1x16xf32>
}
// CHECK: unknown crossbar.layout 'nchw': expected one of oihw, ohwi, oi, io

// -----

%x = "test.op"() : () -> tensor<1x16xf32>
%r = crossbar.partition 0 (%x) : (tensor<1x16xf32>) -> tensor<1x16xf32> {
^bb0(%a: tensor<1x16xf32>):
    %t = crossbar.tile {weight = "w", layout = #crossbar.layout<oi>, rows = array<i64: 8, 4>, cols = array<i64: 0, 8>, replica = 0 : i64, core = 0 : i64, xbar = 0 : i64}
    crossbar.yield %a : tensor<1x16xf32>
}
// CHECK: 'crossbar.tile': 'rows' must be [lo, hi) with 0 <= lo < hi, got [8, 4]

// -----

%x = "test.op"() : () -> tensor<1x16xf32>
%r = crossbar.partition 0 (%x) : (tensor<1x16xf32>) -> tensor<1x16xf32> {
^bb0(%a: tensor<1x16xf32>):
    %t = crossbar.tile {weight = "w", layout = #crossbar.layout<oi>, rows = array<i64: 0, 16>, cols = array<i64: 0, 8>, replica = -1 : i64, core = 0 : i64, xbar = 0 : i64}
    crossbar.yield %a : tensor<1x16xf32>
}
// CHECK: 'crossbar.tile': 'replica' must be >= 0, got -1

// -----

%t = crossbar.tile {weight = "w", layout = #crossbar.layout<oi>, rows = array<i64: 0, 16>, cols = array<i64: 0, 8>, replica = 0 : i64, core = 0 : i64, xbar = 0 : i64}
// CHECK: 'crossbar.tile' expects parent op 'crossbar.partition'

// -----
// --- crossbar.im2col ---

%x = "test.op"() : () -> tensor<3x8x8xf32>
%u = crossbar.im2col %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<3x8x8xf32>) -> tensor<1x64x27xf32>
// CHECK: 'crossbar.im2col': input must be NCHW (rank 4), got shape [3, 8, 8]

// -----

%x = "test.op"() : () -> tensor<1x3x8x8xf32>
%u = crossbar.im2col %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>) -> tensor<1x64x27xf32>
// CHECK: 'crossbar.im2col': 'pads' must have 4 values, got 2

// -----

%x = "test.op"() : () -> tensor<1x3x8x8xf32>
%u = crossbar.im2col %x {kernel = array<i64: 3, 3>, strides = array<i64: 0, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>) -> tensor<1x64x27xf32>
// CHECK: 'crossbar.im2col': 'strides' values must be >= 1

// -----

%x = "test.op"() : () -> tensor<1x3x8x8xf32>
%u = crossbar.im2col %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>) -> tensor<1x64x9xf32>
// CHECK: 'crossbar.im2col': result shape [1, 64, 9] does not match the expected [1, 64, 27]

// -----
// --- crossbar.mvm ---

%t = "test.op"() : () -> !crossbar.tile
%x = "test.op"() : () -> tensor<1x16xf32>
%p = crossbar.mvm %t, %x {in_rows = array<i64: 0, 16>} : (tensor<1x16xf32>) -> tensor<1x8xf32>
// CHECK: 'crossbar.mvm': the tile operand must be the result of crossbar.tile

// -----

%x = "test.op"() : () -> tensor<1x16xf32>
%r = crossbar.partition 0 (%x) : (tensor<1x16xf32>) -> tensor<1x16xf32> {
^bb0(%a: tensor<1x16xf32>):
    %v = "test.op"() : () -> tensor<16xf32>
    %t = crossbar.tile {weight = "w", layout = #crossbar.layout<oi>, rows = array<i64: 0, 16>, cols = array<i64: 0, 8>, replica = 0 : i64, core = 0 : i64, xbar = 0 : i64}
    crossbar.write %t
    %p = crossbar.mvm %t, %v {in_rows = array<i64: 0, 16>} : (tensor<16xf32>) -> tensor<1x8xf32>
    crossbar.yield %a : tensor<1x16xf32>
}
// CHECK: 'crossbar.mvm': input must be [N, K] or [N, windows, K], got shape [16]

// -----

%x = "test.op"() : () -> tensor<1x16xf32>
%r = crossbar.partition 0 (%x) : (tensor<1x16xf32>) -> tensor<1x16xf32> {
^bb0(%a: tensor<1x16xf32>):
    %v = "test.op"() : () -> tensor<1x16xf32>
    %t = crossbar.tile {weight = "w", layout = #crossbar.layout<oi>, rows = array<i64: 0, 16>, cols = array<i64: 0, 8>, replica = 0 : i64, core = 0 : i64, xbar = 0 : i64}
    crossbar.write %t
    %p = crossbar.mvm %t, %v {in_rows = array<i64: 0, 8>} : (tensor<1x16xf32>) -> tensor<1x8xf32>
    crossbar.yield %a : tensor<1x16xf32>
}
// CHECK: 'crossbar.mvm': in_rows [0, 8) has 8 rows but the tile has 16

// -----

%x = "test.op"() : () -> tensor<1x16xf32>
%r = crossbar.partition 0 (%x) : (tensor<1x16xf32>) -> tensor<1x16xf32> {
^bb0(%a: tensor<1x16xf32>):
    %v = "test.op"() : () -> tensor<1x16xf32>
    %t = crossbar.tile {weight = "w", layout = #crossbar.layout<oi>, rows = array<i64: 0, 16>, cols = array<i64: 0, 8>, replica = 0 : i64, core = 0 : i64, xbar = 0 : i64}
    crossbar.write %t
    %p = crossbar.mvm %t, %v {in_rows = array<i64: 8, 24>} : (tensor<1x16xf32>) -> tensor<1x8xf32>
    crossbar.yield %a : tensor<1x16xf32>
}
// CHECK: 'crossbar.mvm': in_rows [8, 24) exceeds the input's 16 columns

// -----

%x = "test.op"() : () -> tensor<1x16xf32>
%r = crossbar.partition 0 (%x) : (tensor<1x16xf32>) -> tensor<1x16xf32> {
^bb0(%a: tensor<1x16xf32>):
    %v = "test.op"() : () -> tensor<1x16xf32>
    %t = crossbar.tile {weight = "w", layout = #crossbar.layout<oi>, rows = array<i64: 0, 16>, cols = array<i64: 0, 8>, replica = 0 : i64, core = 0 : i64, xbar = 0 : i64}
    crossbar.write %t
    %p = crossbar.mvm %t, %v {in_rows = array<i64: 0, 16>, windows = array<i64: 0, 1>} : (tensor<1x16xf32>) -> tensor<1x8xf32>
    crossbar.yield %a : tensor<1x16xf32>
}
// CHECK: 'crossbar.mvm': 'windows' needs a rank-3 input [N, windows, K]

// -----

%x = "test.op"() : () -> tensor<1x16xf32>
%r = crossbar.partition 0 (%x) : (tensor<1x16xf32>) -> tensor<1x16xf32> {
^bb0(%a: tensor<1x16xf32>):
    %v = "test.op"() : () -> tensor<1x32x16xf32>
    %t = crossbar.tile {weight = "w", layout = #crossbar.layout<oi>, rows = array<i64: 0, 16>, cols = array<i64: 0, 8>, replica = 0 : i64, core = 0 : i64, xbar = 0 : i64}
    crossbar.write %t
    %p = crossbar.mvm %t, %v {in_rows = array<i64: 0, 16>, windows = array<i64: 0, 40>} : (tensor<1x32x16xf32>) -> tensor<1x40x8xf32>
    crossbar.yield %a : tensor<1x16xf32>
}
// CHECK: 'crossbar.mvm': windows [0, 40) exceed the input's 32 windows

// -----

%x = "test.op"() : () -> tensor<1x16xf32>
%r = crossbar.partition 0 (%x) : (tensor<1x16xf32>) -> tensor<1x16xf32> {
^bb0(%a: tensor<1x16xf32>):
    %v = "test.op"() : () -> tensor<1x16xf32>
    %t = crossbar.tile {weight = "w", layout = #crossbar.layout<oi>, rows = array<i64: 0, 16>, cols = array<i64: 0, 8>, replica = 0 : i64, core = 0 : i64, xbar = 0 : i64}
    crossbar.write %t
    %p = crossbar.mvm %t, %v {in_rows = array<i64: 0, 16>} : (tensor<1x16xf32>) -> tensor<1x16xf32>
    crossbar.yield %a : tensor<1x16xf32>
}
// CHECK: 'crossbar.mvm': result shape [1, 16] does not match the expected [1, 8]

// -----
// --- crossbar.accumulate ---

%x = "test.op"() : () -> tensor<1x16xf32>
%s = crossbar.accumulate %x : tensor<1x16xf32>
// CHECK: 'crossbar.accumulate': needs at least two partial results, got 1

// -----
// --- crossbar.concat ---

%x, %y = "test.op"() : () -> (tensor<1x4x8xf32>, tensor<1x4x8xf32>)
%c = crossbar.concat %x, %y {axis = 3 : i64} : (tensor<1x4x8xf32>, tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
// CHECK: 'crossbar.concat': axis 3 is out of range for rank 3

// -----

%x, %y = "test.op"() : () -> (tensor<1x4x8xf32>, tensor<1x5x8xf32>)
%c = crossbar.concat %x, %y {axis = 2 : i64} : (tensor<1x4x8xf32>, tensor<1x5x8xf32>) -> tensor<1x4x16xf32>
// CHECK: 'crossbar.concat': parts [[1, 4, 8], [1, 5, 8]] differ outside axis 2

// -----

%x, %y = "test.op"() : () -> (tensor<1x4x8xf32>, tensor<1x4x8xf32>)
%c = crossbar.concat %x, %y {axis = -1 : i64} : (tensor<1x4x8xf32>, tensor<1x4x8xf32>) -> tensor<1x8x8xf32>
// CHECK: 'crossbar.concat': result shape [1, 8, 8] does not match [1, 4, 16]

// -----
// --- crossbar.col2im ---

%x = "test.op"() : () -> tensor<1x64x16xf32>
%f = crossbar.col2im %x {spatial = array<i64: 8, 4>} : (tensor<1x64x16xf32>) -> tensor<1x16x8x4xf32>
// CHECK: 'crossbar.col2im': input [1, 64, 16] is not [N, OH*OW, C] for spatial [8, 4]

// -----

%x = "test.op"() : () -> tensor<1x64x16xf32>
%f = crossbar.col2im %x {spatial = array<i64: 8, 8>} : (tensor<1x64x16xf32>) -> tensor<1x8x8x16xf32>
// CHECK: 'crossbar.col2im': result shape [1, 8, 8, 16] does not match [1, 16, 8, 8]

// -----
// --- crossbar.bias ---

%x = "test.op"() : () -> tensor<1x16xf32>
%b = crossbar.bias %x {weight = "b", cols = array<i64: 0, 8>} : tensor<1x16xf32>
// CHECK: 'crossbar.bias': cols [0, 8) has 8 values but the input's last dim is 16
