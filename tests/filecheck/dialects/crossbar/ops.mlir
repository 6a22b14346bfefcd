// Round trip of every crossbar op and type (dialects/crossbar.py): parse -> print -> parse, custom
// and generic forms, on compass-s so the placement verifiers run. A conv layer (3->16 channels,
// 3x3, 8x8 input) as two column tiles x two replicas sharing the windows, then a linear layer
// 1024->10 as four row tiles whose partial sums are accumulated.
// RUN: pim-opt %s --chip compass-s | filecheck %s
// RUN: pim-opt %s --chip compass-s | pim-opt | filecheck %s
// RUN: pim-opt %s --chip compass-s --print-op-generic | pim-opt | filecheck %s
// RUN: pim-opt %s --chip compass-s --print-op-generic | filecheck %s --check-prefix=GENERIC

func.func @main(%x: tensor<1x3x8x8xf32>) -> tensor<1x10xf32> {
  %h = crossbar.partition 0 (%x) : (tensor<1x3x8x8xf32>) -> tensor<1x16x8x8xf32> {
  ^bb0(%a: tensor<1x3x8x8xf32>):
    %t0 = crossbar.tile {weight = "conv1.weight", layout = #crossbar.layout<oihw>, rows = array<i64: 0, 27>, cols = array<i64: 0, 8>, replica = 0 : i64, core = 0 : i64, xbar = 0 : i64}
    %t1 = crossbar.tile {weight = "conv1.weight", layout = #crossbar.layout<oihw>, rows = array<i64: 0, 27>, cols = array<i64: 8, 16>, replica = 0 : i64, core = 0 : i64, xbar = 1 : i64}
    %t2 = crossbar.tile {weight = "conv1.weight", layout = #crossbar.layout<oihw>, rows = array<i64: 0, 27>, cols = array<i64: 0, 8>, replica = 1 : i64, core = 1 : i64, xbar = 0 : i64}
    %t3 = crossbar.tile {weight = "conv1.weight", layout = #crossbar.layout<oihw>, rows = array<i64: 0, 27>, cols = array<i64: 8, 16>, replica = 1 : i64, core = 1 : i64, xbar = 1 : i64}
    crossbar.write %t0, %t1, %t2, %t3
    %u = crossbar.im2col %a {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>) -> tensor<1x64x27xf32>
    %p0 = crossbar.mvm %t0, %u {in_rows = array<i64: 0, 27>, windows = array<i64: 0, 32>} : (tensor<1x64x27xf32>) -> tensor<1x32x8xf32>
    %p1 = crossbar.mvm %t1, %u {in_rows = array<i64: 0, 27>, windows = array<i64: 0, 32>} : (tensor<1x64x27xf32>) -> tensor<1x32x8xf32>
    %p2 = crossbar.mvm %t2, %u {in_rows = array<i64: 0, 27>, windows = array<i64: 32, 64>} : (tensor<1x64x27xf32>) -> tensor<1x32x8xf32>
    %p3 = crossbar.mvm %t3, %u {in_rows = array<i64: 0, 27>, windows = array<i64: 32, 64>} : (tensor<1x64x27xf32>) -> tensor<1x32x8xf32>
    %r0 = crossbar.concat %p0, %p1 {axis = 2 : i64} : (tensor<1x32x8xf32>, tensor<1x32x8xf32>) -> tensor<1x32x16xf32>
    %r1 = crossbar.concat %p2, %p3 {axis = 2 : i64} : (tensor<1x32x8xf32>, tensor<1x32x8xf32>) -> tensor<1x32x16xf32>
    %y = crossbar.concat %r0, %r1 {axis = 1 : i64} : (tensor<1x32x16xf32>, tensor<1x32x16xf32>) -> tensor<1x64x16xf32>
    %yb = crossbar.bias %y {weight = "conv1.bias", cols = array<i64: 0, 16>} : tensor<1x64x16xf32>
    %f = crossbar.col2im %yb {spatial = array<i64: 8, 8>} : (tensor<1x64x16xf32>) -> tensor<1x16x8x8xf32>
    %g = nn.relu %f : tensor<1x16x8x8xf32> -> tensor<1x16x8x8xf32>
    crossbar.yield %g : tensor<1x16x8x8xf32>
  }
  %z = crossbar.partition 1 (%h) : (tensor<1x16x8x8xf32>) -> tensor<1x10xf32> {
  ^bb0(%b: tensor<1x16x8x8xf32>):
    %v = nn.flatten %b {axis = 1 : i64} : tensor<1x16x8x8xf32> -> tensor<1x1024xf32>
    %s0 = crossbar.tile {weight = "fc.weight", layout = #crossbar.layout<oi>, rows = array<i64: 0, 256>, cols = array<i64: 0, 10>, replica = 0 : i64, core = 0 : i64, xbar = 0 : i64}
    %s1 = crossbar.tile {weight = "fc.weight", layout = #crossbar.layout<oi>, rows = array<i64: 256, 512>, cols = array<i64: 0, 10>, replica = 0 : i64, core = 0 : i64, xbar = 1 : i64}
    %s2 = crossbar.tile {weight = "fc.weight", layout = #crossbar.layout<oi>, rows = array<i64: 512, 768>, cols = array<i64: 0, 10>, replica = 0 : i64, core = 0 : i64, xbar = 2 : i64}
    %s3 = crossbar.tile {weight = "fc.weight", layout = #crossbar.layout<oi>, rows = array<i64: 768, 1024>, cols = array<i64: 0, 10>, replica = 0 : i64, core = 0 : i64, xbar = 3 : i64}
    crossbar.write %s0, %s1, %s2, %s3
    %q0 = crossbar.mvm %s0, %v {in_rows = array<i64: 0, 256>} : (tensor<1x1024xf32>) -> tensor<1x10xf32>
    %q1 = crossbar.mvm %s1, %v {in_rows = array<i64: 256, 512>} : (tensor<1x1024xf32>) -> tensor<1x10xf32>
    %q2 = crossbar.mvm %s2, %v {in_rows = array<i64: 512, 768>} : (tensor<1x1024xf32>) -> tensor<1x10xf32>
    %q3 = crossbar.mvm %s3, %v {in_rows = array<i64: 768, 1024>} : (tensor<1x1024xf32>) -> tensor<1x10xf32>
    %sum = crossbar.accumulate %q0, %q1, %q2, %q3 : tensor<1x10xf32>
    crossbar.yield %sum : tensor<1x10xf32>
  }
  func.return %z : tensor<1x10xf32>
}

// CHECK:      %h = crossbar.partition 0 (%x) : (tensor<1x3x8x8xf32>) -> tensor<1x16x8x8xf32> {
// CHECK-NEXT: ^bb0(%a: tensor<1x3x8x8xf32>):
// CHECK-NEXT:   %t0 = crossbar.tile {weight = "conv1.weight", layout = #crossbar.layout<oihw>, rows = array<i64: 0, 27>, cols = array<i64: 0, 8>, replica = 0 : i64, core = 0 : i64, xbar = 0 : i64}
// CHECK-NEXT:   %t1 = crossbar.tile {{.*}} cols = array<i64: 8, 16>, replica = 0 : i64, core = 0 : i64, xbar = 1 : i64}
// CHECK-NEXT:   %t2 = crossbar.tile {{.*}} replica = 1 : i64, core = 1 : i64, xbar = 0 : i64}
// CHECK-NEXT:   %t3 = crossbar.tile
// CHECK-NEXT:   crossbar.write %t0, %t1, %t2, %t3
// CHECK-NEXT:   %u = crossbar.im2col %a {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>) -> tensor<1x64x27xf32>
// CHECK-NEXT:   %p0 = crossbar.mvm %t0, %u {in_rows = array<i64: 0, 27>, windows = array<i64: 0, 32>} : (tensor<1x64x27xf32>) -> tensor<1x32x8xf32>
// CHECK-NEXT:   %p1 = crossbar.mvm %t1, %u
// CHECK-NEXT:   %p2 = crossbar.mvm %t2, %u {in_rows = array<i64: 0, 27>, windows = array<i64: 32, 64>}
// CHECK-NEXT:   %p3 = crossbar.mvm %t3, %u
// CHECK-NEXT:   %r0 = crossbar.concat %p0, %p1 {axis = 2 : i64} : (tensor<1x32x8xf32>, tensor<1x32x8xf32>) -> tensor<1x32x16xf32>
// CHECK-NEXT:   %r1 = crossbar.concat %p2, %p3
// CHECK-NEXT:   %y = crossbar.concat %r0, %r1 {axis = 1 : i64} : (tensor<1x32x16xf32>, tensor<1x32x16xf32>) -> tensor<1x64x16xf32>
// CHECK-NEXT:   %yb = crossbar.bias %y {weight = "conv1.bias", cols = array<i64: 0, 16>} : tensor<1x64x16xf32>
// CHECK-NEXT:   %f = crossbar.col2im %yb {spatial = array<i64: 8, 8>} : (tensor<1x64x16xf32>) -> tensor<1x16x8x8xf32>
// CHECK-NEXT:   %g = nn.relu %f
// CHECK-NEXT:   crossbar.yield %g : tensor<1x16x8x8xf32>
// CHECK-NEXT: }
// CHECK-NEXT: %z = crossbar.partition 1 (%h) : (tensor<1x16x8x8xf32>) -> tensor<1x10xf32> {
// CHECK:        %q0 = crossbar.mvm %s0, %v {in_rows = array<i64: 0, 256>} : (tensor<1x1024xf32>) -> tensor<1x10xf32>
// CHECK:        %sum = crossbar.accumulate %q0, %q1, %q2, %q3 : tensor<1x10xf32>
// CHECK-NEXT:   crossbar.yield %sum : tensor<1x10xf32>
// CHECK-NEXT: }
// CHECK-NEXT: func.return %z : tensor<1x10xf32>

// GENERIC: "crossbar.partition"(%{{.*}}) <{index = 0 : i64}> ({
// GENERIC: "crossbar.tile"() <{{{.*}}}> : () -> !crossbar.tile
// GENERIC: "crossbar.write"(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}) : (!crossbar.tile, !crossbar.tile, !crossbar.tile, !crossbar.tile) -> ()
// GENERIC: "crossbar.yield"(%{{.*}}) : (tensor<1x16x8x8xf32>) -> ()
