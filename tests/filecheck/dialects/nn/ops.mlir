// Round trip of every nn op and every property variant: the custom form prints back exactly as
// written (CHECK lines are the input), and the generic form parses back to the same IR.
// RUN: pim-opt %s | pim-opt | filecheck %s
// RUN: pim-opt %s --print-op-generic | pim-opt | filecheck %s
// RUN: pim-opt %s --print-op-generic | filecheck %s --check-prefix=GENERIC

func.func @main(%x: tensor<1x4x8x8xf32>, %v: tensor<2x16xf32>, %s: tensor<2x3x16xf32>) -> tensor<1x4x8x8xf32> {
  %w = nn.weight "conv1.weight" : tensor<8x4x3x3xf32>
  %b = nn.weight "conv1.bias" : tensor<8xf32>
  %c = nn.constant {value = dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>} : tensor<2xf32>
  %c0 = nn.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<8x4x3x3xf32>) -> tensor<1x8x8x8xf32>
  %c1 = nn.conv2d %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 0, 1, 1, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<8x4x3x3xf32>, tensor<8xf32>) -> tensor<1x8x4x4xf32>
  %dw = nn.weight "dw.weight" : tensor<4x1x3x3xf32>
  %c2 = nn.conv2d %x, %dw {strides = array<i64: 1, 1>, pads = array<i64: 2, 2, 2, 2>, dilations = array<i64: 2, 2>, groups = 4 : i64} : (tensor<1x4x8x8xf32>, tensor<4x1x3x3xf32>) -> tensor<1x4x8x8xf32>
  %fw = nn.weight "fc.weight" : tensor<10x16xf32>
  %fb = nn.weight "fc.bias" : tensor<10xf32>
  %l0 = nn.linear %v, %fw : (tensor<2x16xf32>, tensor<10x16xf32>) -> tensor<2x10xf32>
  %l1 = nn.linear %v, %fw, %fb : (tensor<2x16xf32>, tensor<10x16xf32>, tensor<10xf32>) -> tensor<2x10xf32>
  %mw = nn.weight "matmul.weight" : tensor<16x10xf32>
  %l2 = nn.linear %s, %mw, %fb {weight_in_out} : (tensor<2x3x16xf32>, tensor<16x10xf32>, tensor<10xf32>) -> tensor<2x3x10xf32>
  %p0 = nn.maxpool %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : tensor<1x4x8x8xf32> -> tensor<1x4x4x4xf32>
  %p1 = nn.maxpool %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, ceil_mode} : tensor<1x4x8x8xf32> -> tensor<1x4x4x4xf32>
  %p2 = nn.maxpool %x {kernel = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 2, 2>} : tensor<1x4x8x8xf32> -> tensor<1x4x8x8xf32>
  %p3 = nn.avgpool %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : tensor<1x4x8x8xf32> -> tensor<1x4x8x8xf32>
  %p4 = nn.avgpool %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, ceil_mode, count_include_pad} : tensor<1x4x8x8xf32> -> tensor<1x4x5x5xf32>
  %g = nn.global_avgpool %x : tensor<1x4x8x8xf32> -> tensor<1x4x1x1xf32>
  %e0 = nn.add %x, %x : (tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %e1 = nn.sub %x, %g : (tensor<1x4x8x8xf32>, tensor<1x4x1x1xf32>) -> tensor<1x4x8x8xf32>
  %e2 = nn.mul %g, %x : (tensor<1x4x1x1xf32>, tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %c16 = nn.weight "scale" : tensor<16xf32>
  %e3 = nn.div %v, %c16 : (tensor<2x16xf32>, tensor<16xf32>) -> tensor<2x16xf32>
  %a0 = nn.relu %x : tensor<1x4x8x8xf32> -> tensor<1x4x8x8xf32>
  %a1 = nn.sigmoid %x : tensor<1x4x8x8xf32> -> tensor<1x4x8x8xf32>
  %a2 = nn.tanh %x : tensor<1x4x8x8xf32> -> tensor<1x4x8x8xf32>
  %a3 = nn.clip %x {min = 0.000000e+00 : f32, max = 6.000000e+00 : f32} : tensor<1x4x8x8xf32> -> tensor<1x4x8x8xf32>
  %a4 = nn.leaky_relu %x {alpha = 1.000000e-01 : f32} : tensor<1x4x8x8xf32> -> tensor<1x4x8x8xf32>
  %fq = nn.fake_quant %x {scale = 5.000000e-02 : f32, zero_point = 128 : i64, qtype = #nn.qtype<uint8>} : tensor<1x4x8x8xf32> -> tensor<1x4x8x8xf32>
  %a5 = nn.softmax %v {axis = 1 : i64} : tensor<2x16xf32> -> tensor<2x16xf32>
  %a6 = nn.softmax %v {axis = -1 : i64} : tensor<2x16xf32> -> tensor<2x16xf32>
  %a7 = nn.lrn %x {size = 5 : i64, alpha = 1.250000e-01 : f32, beta = 7.500000e-01 : f32, bias = 1.000000e+00 : f32} : tensor<1x4x8x8xf32> -> tensor<1x4x8x8xf32>
  %s4 = nn.weight "bn" : tensor<4xf32>
  %bn = nn.batch_norm %x, %s4, %s4, %s4, %s4 {epsilon = 0.0009765625 : f32} : (tensor<1x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
  %k0 = nn.concat %x, %x {axis = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>) -> tensor<1x8x8x8xf32>
  %k1 = nn.concat %x, %c0, %x {axis = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<1x8x8x8xf32>, tensor<1x4x8x8xf32>) -> tensor<1x16x8x8xf32>
  %k2 = nn.concat %x {axis = 3 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %r0 = nn.reshape %x : tensor<1x4x8x8xf32> -> tensor<1x256xf32>
  %r1 = nn.flatten %x {axis = 1 : i64} : tensor<1x4x8x8xf32> -> tensor<1x256xf32>
  %r2 = nn.flatten %x {axis = 0 : i64} : tensor<1x4x8x8xf32> -> tensor<1x256xf32>
  %t = nn.transpose %x {perm = array<i64: 0, 2, 3, 1>} : tensor<1x4x8x8xf32> -> tensor<1x8x8x4xf32>
  %d0 = nn.pad %x {pads = array<i64: 0, 0, 1, 1, 0, 0, 1, 1>} : tensor<1x4x8x8xf32> -> tensor<1x4x10x10xf32>
  %d1 = nn.pad %x {pads = array<i64: 0, 0, 2, 0, 0, 0, 0, 2>, mode = #nn.pad_mode<reflect>} : tensor<1x4x8x8xf32> -> tensor<1x4x10x10xf32>
  %d2 = nn.pad %x {pads = array<i64: 0, 0, 1, 1, 0, 0, 1, 1>, mode = #nn.pad_mode<edge>} : tensor<1x4x8x8xf32> -> tensor<1x4x10x10xf32>
  %d3 = nn.pad %x {pads = array<i64: 0, 0, 1, 1, 0, 0, 1, 1>, value = -1.000000e+00 : f32} : tensor<1x4x8x8xf32> -> tensor<1x4x10x10xf32>
  %sl0 = nn.slice %x {axes = array<i64: 1>, starts = array<i64: 0>, ends = array<i64: 2>} : tensor<1x4x8x8xf32> -> tensor<1x2x8x8xf32>
  %sl1 = nn.slice %x {axes = array<i64: 1, 3>, starts = array<i64: 1, 0>, ends = array<i64: 4, 7>, steps = array<i64: 2, 3>} : tensor<1x4x8x8xf32> -> tensor<1x2x8x3xf32>
  %sl2 = nn.slice %x {axes = array<i64>, starts = array<i64>, ends = array<i64>} : tensor<1x4x8x8xf32> -> tensor<1x4x8x8xf32>
  func.return %a0 : tensor<1x4x8x8xf32>
}

// CHECK:      builtin.module {
// CHECK-NEXT:   func.func @main(%x: tensor<1x4x8x8xf32>, %v: tensor<2x16xf32>, %s: tensor<2x3x16xf32>) -> tensor<1x4x8x8xf32> {
// CHECK-NEXT:     %w = nn.weight "conv1.weight" : tensor<8x4x3x3xf32>
// CHECK-NEXT:     %b = nn.weight "conv1.bias" : tensor<8xf32>
// CHECK-NEXT:     %c = nn.constant {value = dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>} : tensor<2xf32>
// CHECK-NEXT:     %c0 = nn.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<8x4x3x3xf32>) -> tensor<1x8x8x8xf32>
// CHECK-NEXT:     %c1 = nn.conv2d %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 0, 1, 1, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<8x4x3x3xf32>, tensor<8xf32>) -> tensor<1x8x4x4xf32>
// CHECK-NEXT:     %dw = nn.weight "dw.weight" : tensor<4x1x3x3xf32>
// CHECK-NEXT:     %c2 = nn.conv2d %x, %dw {strides = array<i64: 1, 1>, pads = array<i64: 2, 2, 2, 2>, dilations = array<i64: 2, 2>, groups = 4 : i64} : (tensor<1x4x8x8xf32>, tensor<4x1x3x3xf32>) -> tensor<1x4x8x8xf32>
// CHECK-NEXT:     %fw = nn.weight "fc.weight" : tensor<10x16xf32>
// CHECK-NEXT:     %fb = nn.weight "fc.bias" : tensor<10xf32>
// CHECK-NEXT:     %l0 = nn.linear %v, %fw : (tensor<2x16xf32>, tensor<10x16xf32>) -> tensor<2x10xf32>
// CHECK-NEXT:     %l1 = nn.linear %v, %fw, %fb : (tensor<2x16xf32>, tensor<10x16xf32>, tensor<10xf32>) -> tensor<2x10xf32>
// CHECK-NEXT:     %mw = nn.weight "matmul.weight" : tensor<16x10xf32>
// CHECK-NEXT:     %l2 = nn.linear %s, %mw, %fb {weight_in_out} : (tensor<2x3x16xf32>, tensor<16x10xf32>, tensor<10xf32>) -> tensor<2x3x10xf32>
// CHECK-NEXT:     %p0 = nn.maxpool %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : tensor<1x4x8x8xf32> -> tensor<1x4x4x4xf32>
// CHECK-NEXT:     %p1 = nn.maxpool %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, ceil_mode} : tensor<1x4x8x8xf32> -> tensor<1x4x4x4xf32>
// CHECK-NEXT:     %p2 = nn.maxpool %x {kernel = array<i64: 2, 2>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 2, 2>} : tensor<1x4x8x8xf32> -> tensor<1x4x8x8xf32>
// CHECK-NEXT:     %p3 = nn.avgpool %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>} : tensor<1x4x8x8xf32> -> tensor<1x4x8x8xf32>
// CHECK-NEXT:     %p4 = nn.avgpool %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, ceil_mode, count_include_pad} : tensor<1x4x8x8xf32> -> tensor<1x4x5x5xf32>
// CHECK-NEXT:     %g = nn.global_avgpool %x : tensor<1x4x8x8xf32> -> tensor<1x4x1x1xf32>
// CHECK-NEXT:     %e0 = nn.add %x, %x : (tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
// CHECK-NEXT:     %e1 = nn.sub %x, %g : (tensor<1x4x8x8xf32>, tensor<1x4x1x1xf32>) -> tensor<1x4x8x8xf32>
// CHECK-NEXT:     %e2 = nn.mul %g, %x : (tensor<1x4x1x1xf32>, tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
// CHECK-NEXT:     %c16 = nn.weight "scale" : tensor<16xf32>
// CHECK-NEXT:     %e3 = nn.div %v, %c16 : (tensor<2x16xf32>, tensor<16xf32>) -> tensor<2x16xf32>
// CHECK-NEXT:     %a0 = nn.relu %x : tensor<1x4x8x8xf32> -> tensor<1x4x8x8xf32>
// CHECK-NEXT:     %a1 = nn.sigmoid %x : tensor<1x4x8x8xf32> -> tensor<1x4x8x8xf32>
// CHECK-NEXT:     %a2 = nn.tanh %x : tensor<1x4x8x8xf32> -> tensor<1x4x8x8xf32>
// CHECK-NEXT:     %a3 = nn.clip %x {min = 0.000000e+00 : f32, max = 6.000000e+00 : f32} : tensor<1x4x8x8xf32> -> tensor<1x4x8x8xf32>
// CHECK-NEXT:     %a4 = nn.leaky_relu %x {alpha = 1.000000e-01 : f32} : tensor<1x4x8x8xf32> -> tensor<1x4x8x8xf32>
// CHECK-NEXT:     %fq = nn.fake_quant %x {scale = 5.000000e-02 : f32, zero_point = 128 : i64, qtype = #nn.qtype<uint8>} : tensor<1x4x8x8xf32> -> tensor<1x4x8x8xf32>
// CHECK-NEXT:     %a5 = nn.softmax %v {axis = 1 : i64} : tensor<2x16xf32> -> tensor<2x16xf32>
// CHECK-NEXT:     %a6 = nn.softmax %v {axis = -1 : i64} : tensor<2x16xf32> -> tensor<2x16xf32>
// CHECK-NEXT:     %a7 = nn.lrn %x {size = 5 : i64, alpha = 1.250000e-01 : f32, beta = 7.500000e-01 : f32, bias = 1.000000e+00 : f32} : tensor<1x4x8x8xf32> -> tensor<1x4x8x8xf32>
// CHECK-NEXT:     %s4 = nn.weight "bn" : tensor<4xf32>
// CHECK-NEXT:     %bn = nn.batch_norm %x, %s4, %s4, %s4, %s4 {epsilon = 0.0009765625 : f32} : (tensor<1x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
// CHECK-NEXT:     %k0 = nn.concat %x, %x {axis = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>) -> tensor<1x8x8x8xf32>
// CHECK-NEXT:     %k1 = nn.concat %x, %c0, %x {axis = 1 : i64} : (tensor<1x4x8x8xf32>, tensor<1x8x8x8xf32>, tensor<1x4x8x8xf32>) -> tensor<1x16x8x8xf32>
// CHECK-NEXT:     %k2 = nn.concat %x {axis = 3 : i64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
// CHECK-NEXT:     %r0 = nn.reshape %x : tensor<1x4x8x8xf32> -> tensor<1x256xf32>
// CHECK-NEXT:     %r1 = nn.flatten %x {axis = 1 : i64} : tensor<1x4x8x8xf32> -> tensor<1x256xf32>
// CHECK-NEXT:     %r2 = nn.flatten %x {axis = 0 : i64} : tensor<1x4x8x8xf32> -> tensor<1x256xf32>
// CHECK-NEXT:     %t = nn.transpose %x {perm = array<i64: 0, 2, 3, 1>} : tensor<1x4x8x8xf32> -> tensor<1x8x8x4xf32>
// CHECK-NEXT:     %d0 = nn.pad %x {pads = array<i64: 0, 0, 1, 1, 0, 0, 1, 1>} : tensor<1x4x8x8xf32> -> tensor<1x4x10x10xf32>
// CHECK-NEXT:     %d1 = nn.pad %x {pads = array<i64: 0, 0, 2, 0, 0, 0, 0, 2>, mode = #nn.pad_mode<reflect>} : tensor<1x4x8x8xf32> -> tensor<1x4x10x10xf32>
// CHECK-NEXT:     %d2 = nn.pad %x {pads = array<i64: 0, 0, 1, 1, 0, 0, 1, 1>, mode = #nn.pad_mode<edge>} : tensor<1x4x8x8xf32> -> tensor<1x4x10x10xf32>
// CHECK-NEXT:     %d3 = nn.pad %x {pads = array<i64: 0, 0, 1, 1, 0, 0, 1, 1>, value = -1.000000e+00 : f32} : tensor<1x4x8x8xf32> -> tensor<1x4x10x10xf32>
// CHECK-NEXT:     %sl0 = nn.slice %x {axes = array<i64: 1>, starts = array<i64: 0>, ends = array<i64: 2>} : tensor<1x4x8x8xf32> -> tensor<1x2x8x8xf32>
// CHECK-NEXT:     %sl1 = nn.slice %x {axes = array<i64: 1, 3>, starts = array<i64: 1, 0>, ends = array<i64: 4, 7>, steps = array<i64: 2, 3>} : tensor<1x4x8x8xf32> -> tensor<1x2x8x3xf32>
// CHECK-NEXT:     %sl2 = nn.slice %x {axes = array<i64>, starts = array<i64>, ends = array<i64>} : tensor<1x4x8x8xf32> -> tensor<1x4x8x8xf32>
// CHECK-NEXT:     func.return %a0 : tensor<1x4x8x8xf32>
// CHECK-NEXT:   }
// CHECK-NEXT: }

// The generic form keeps properties in <{...}>, optional operands and unit properties included.
// GENERIC:      "nn.weight"() <{name = "conv1.weight"}> : () -> tensor<8x4x3x3xf32>
// GENERIC:      "nn.constant"() <{value = dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>}> : () -> tensor<2xf32>
// GENERIC:      %c1 = "nn.conv2d"(%x, %w, %b) <{strides = array<i64: 2, 2>, pads = array<i64: 0, 1, 1, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64}>
// GENERIC:      %l2 = "nn.linear"(%s, %mw, %fb) <{weight_in_out}>
// GENERIC:      %p4 = "nn.avgpool"(%x) <{kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, ceil_mode, count_include_pad}>
// GENERIC:      %fq = "nn.fake_quant"(%x) <{scale = 5.000000e-02 : f32, zero_point = 128 : i64, qtype = #nn.qtype<uint8>}>
// GENERIC:      %d1 = "nn.pad"(%x) <{pads = array<i64: 0, 0, 2, 0, 0, 0, 0, 2>, mode = #nn.pad_mode<reflect>}>
// GENERIC:      %sl1 = "nn.slice"(%x) <{axes = array<i64: 1, 3>, starts = array<i64: 1, 0>, ends = array<i64: 4, 7>, steps = array<i64: 2, 3>}>
