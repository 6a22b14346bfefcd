// Every verifier message of the nn dialect (dialects/nn.py), one case per chunk.
// RUN: pim-opt %s --split-input-file --verify-diagnostics --parsing-diagnostics | filecheck %s

// --- nn.constant ---

%c = nn.constant {value = dense<1.0> : tensor<2xf32>} : tensor<3xf32>
// CHECK: 'nn.constant': value shape [2] does not match result shape [3]

// -----
// --- nn.conv2d ---

%x, %w = "test.op"() : () -> (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>)
%y = nn.conv2d %x, %w {strides = array<i64: 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
// CHECK: 'nn.conv2d': 'strides' must have 2 values, got 1

// -----

%x, %w = "test.op"() : () -> (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>)
%y = nn.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
// CHECK: 'nn.conv2d': 'pads' must have 4 values, got 2

// -----

%x, %w = "test.op"() : () -> (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>)
%y = nn.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1, 1>, groups = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
// CHECK: 'nn.conv2d': 'dilations' must have 2 values, got 3

// -----

%x, %w = "test.op"() : () -> (tensor<3x8x8xf32>, tensor<4x3x3x3xf32>)
%y = nn.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
// CHECK: 'nn.conv2d': input must be NCHW (rank 4), got shape [3, 8, 8]

// -----

%x, %w = "test.op"() : () -> (tensor<1x3x8x8xf32>, tensor<4x27xf32>)
%y = nn.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x27xf32>) -> tensor<1x4x8x8xf32>
// CHECK: 'nn.conv2d': weight must be [Cout, Cin/groups, kh, kw], got [4, 27]

// -----

%x, %w = "test.op"() : () -> (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>)
%y = nn.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 0 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
// CHECK: 'nn.conv2d': groups must be >= 1, got 0

// -----

%x, %w = "test.op"() : () -> (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>)
%y = nn.conv2d %x, %w {strides = array<i64: 0, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
// CHECK: 'nn.conv2d': strides and dilations must be >= 1, got strides [0, 1] and dilations [1, 1]

// -----

%x, %w = "test.op"() : () -> (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>)
%y = nn.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: -1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
// CHECK: 'nn.conv2d': pads must be >= 0, got [-1, 1, 1, 1]

// -----

%x, %w = "test.op"() : () -> (tensor<1x3x8x8xf32>, tensor<4x2x3x3xf32>)
%y = nn.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x8x8xf32>
// CHECK: 'nn.conv2d': input has 3 channels but weight expects 2 x 1 groups = 2

// -----

%x, %w = "test.op"() : () -> (tensor<1x4x8x8xf32>, tensor<6x1x3x3xf32>)
%y = nn.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 4 : i64} : (tensor<1x4x8x8xf32>, tensor<6x1x3x3xf32>) -> tensor<1x6x8x8xf32>
// CHECK: 'nn.conv2d': Cout 6 is not divisible by groups 4

// -----

%x, %w, %b = "test.op"() : () -> (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<3xf32>)
%y = nn.conv2d %x, %w, %b {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<3xf32>) -> tensor<1x4x8x8xf32>
// CHECK: 'nn.conv2d': bias must have shape [4], got [3]

// -----

%x, %w = "test.op"() : () -> (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>)
%y = nn.conv2d %x, %w {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
// CHECK: 'nn.conv2d': result shape [1, 4, 8, 8] does not match the expected [1, 4, 4, 4]

// -----

%x, %w = "test.op"() : () -> (tensor<1x3x2x2xf32>, tensor<4x3x5x5xf32>)
%y = nn.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x3x2x2xf32>, tensor<4x3x5x5xf32>) -> tensor<1x4x1x1xf32>
// CHECK: 'nn.conv2d': the 5x5 window (dilations [1, 1]) is larger than the padded input 2x2

// -----
// --- nn.linear ---

%x, %w = "test.op"() : () -> (tensor<2x16xf32>, tensor<10x16x1xf32>)
%y = nn.linear %x, %w : (tensor<2x16xf32>, tensor<10x16x1xf32>) -> tensor<2x10xf32>
// CHECK: 'nn.linear': weight must be a matrix, got shape [10, 16, 1]

// -----

%x, %w = "test.op"() : () -> (tensor<16xf32>, tensor<10x16xf32>)
%y = nn.linear %x, %w : (tensor<16xf32>, tensor<10x16xf32>) -> tensor<10xf32>
// CHECK: 'nn.linear': input must have rank >= 2, got shape [16]

// -----

%x, %w = "test.op"() : () -> (tensor<2x16xf32>, tensor<16x10xf32>)
%y = nn.linear %x, %w : (tensor<2x16xf32>, tensor<16x10xf32>) -> tensor<2x10xf32>
// CHECK: 'nn.linear': input has 16 features but the weight expects 10

// -----

%x, %w, %b = "test.op"() : () -> (tensor<2x16xf32>, tensor<10x16xf32>, tensor<16xf32>)
%y = nn.linear %x, %w, %b : (tensor<2x16xf32>, tensor<10x16xf32>, tensor<16xf32>) -> tensor<2x10xf32>
// CHECK: 'nn.linear': bias must have shape [10], got [16]

// -----

%x, %w = "test.op"() : () -> (tensor<2x16xf32>, tensor<16x10xf32>)
%y = nn.linear %x, %w {weight_in_out} : (tensor<2x16xf32>, tensor<16x10xf32>) -> tensor<2x16xf32>
// CHECK: 'nn.linear': result shape [2, 16] does not match the expected [2, 10]

// -----
// --- nn.maxpool / nn.avgpool ---

%x = "test.op"() : () -> tensor<1x4x8x8xf32>
%y = nn.maxpool %x {kernel = array<i64: 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : tensor<1x4x8x8xf32> -> tensor<1x4x4x4xf32>
// CHECK: 'nn.maxpool': 'kernel' must have 2 values, got 1

// -----

%x = "test.op"() : () -> tensor<1x4x8x8xf32>
%y = nn.maxpool %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2, 2>, pads = array<i64: 0, 0, 0, 0>} : tensor<1x4x8x8xf32> -> tensor<1x4x4x4xf32>
// CHECK: 'nn.maxpool': 'strides' must have 2 values, got 3

// -----

%x = "test.op"() : () -> tensor<1x4x8x8xf32>
%y = nn.avgpool %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0>} : tensor<1x4x8x8xf32> -> tensor<1x4x4x4xf32>
// CHECK: 'nn.avgpool': 'pads' must have 4 values, got 2

// -----

%x = "test.op"() : () -> tensor<1x4x8x8xf32>
%y = nn.maxpool %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1>} : tensor<1x4x8x8xf32> -> tensor<1x4x4x4xf32>
// CHECK: 'nn.maxpool': 'dilations' must have 2 values, got 1

// -----

%x = "test.op"() : () -> tensor<4x8x8xf32>
%y = nn.maxpool %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>} : tensor<4x8x8xf32> -> tensor<1x4x4x4xf32>
// CHECK: 'nn.maxpool': input must be NCHW (rank 4), got shape [4, 8, 8]

// -----

%x = "test.op"() : () -> tensor<1x4x8x8xf32>
%y = nn.maxpool %x {kernel = array<i64: 2, 2>, strides = array<i64: 0, 2>, pads = array<i64: 0, 0, 0, 0>} : tensor<1x4x8x8xf32> -> tensor<1x4x4x4xf32>
// CHECK: 'nn.maxpool': kernel, strides and dilations must be >= 1, got kernel [2, 2], strides [0, 2], dilations [1, 1]

// -----

%x = "test.op"() : () -> tensor<1x4x8x8xf32>
%y = nn.avgpool %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, -1, 0, 0>} : tensor<1x4x8x8xf32> -> tensor<1x4x4x4xf32>
// CHECK: 'nn.avgpool': pads must be >= 0, got [0, -1, 0, 0]

// -----

%x = "test.op"() : () -> tensor<1x4x8x8xf32>
%y = nn.maxpool %x {kernel = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 2, 0, 0, 0>} : tensor<1x4x8x8xf32> -> tensor<1x4x5x4xf32>
// CHECK: 'nn.maxpool': pads [2, 0, 0, 0] must be smaller than the kernel [2, 2]

// -----

%x = "test.op"() : () -> tensor<1x4x8x8xf32>
%y = nn.avgpool %x {kernel = array<i64: 3, 3>, strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, ceil_mode} : tensor<1x4x8x8xf32> -> tensor<1x4x4x4xf32>
// CHECK: 'nn.avgpool': result shape [1, 4, 4, 4] does not match the expected [1, 4, 5, 5]

// -----
// --- nn.global_avgpool ---

%x = "test.op"() : () -> tensor<4x8x8xf32>
%y = nn.global_avgpool %x : tensor<4x8x8xf32> -> tensor<4x1x1xf32>
// CHECK: 'nn.global_avgpool': input must be NCHW (rank 4), got shape [4, 8, 8]

// -----

%x = "test.op"() : () -> tensor<1x4x8x8xf32>
%y = nn.global_avgpool %x : tensor<1x4x8x8xf32> -> tensor<1x4xf32>
// CHECK: 'nn.global_avgpool': result shape [1, 4] must be [1, 4, 1, 1]

// -----
// --- element-wise ---

%a, %b = "test.op"() : () -> (tensor<2x3xf32>, tensor<2x4xf32>)
%y = nn.add %a, %b : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
// CHECK: 'nn.add': operand shapes [2, 3] and [2, 4] do not broadcast

// -----

%a, %b = "test.op"() : () -> (tensor<2x3xf32>, tensor<3xf32>)
%y = nn.mul %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<3xf32>
// CHECK: 'nn.mul': result shape [3] must be the broadcast shape [2, 3]

// -----

%x = "test.op"() : () -> tensor<2x3xf32>
%y = nn.sigmoid %x : tensor<2x3xf32> -> tensor<3x2xf32>
// CHECK: 'nn.sigmoid': result shape [3, 2] must equal input shape [2, 3]

// -----

%x = "test.op"() : () -> tensor<2x3xf32>
%y = nn.clip %x {min = 6.0 : f32, max = 0.0 : f32} : tensor<2x3xf32> -> tensor<2x3xf32>
// CHECK: 'nn.clip': min 6.0 is greater than max 0.0

// -----
// --- nn.fake_quant ---

%x = "test.op"() : () -> tensor<2x3xf32>
%y = nn.fake_quant %x {scale = 0.1 : f32, zero_point = 0 : i64, qtype = #nn.qtype<int3>} : tensor<2x3xf32> -> tensor<2x3xf32>
// CHECK: unknown nn.qtype 'int3': expected one of uint8, int8, uint16, int16, uint4, int4

// -----

%x = "test.op"() : () -> tensor<2x3xf32>
%y = nn.fake_quant %x {scale = 0.0 : f32, zero_point = 0 : i64, qtype = #nn.qtype<int8>} : tensor<2x3xf32> -> tensor<2x3xf32>
// CHECK: 'nn.fake_quant': scale must be > 0, got 0.0

// -----

%x = "test.op"() : () -> tensor<2x3xf32>
%y = nn.fake_quant %x {scale = 0.1 : f32, zero_point = 200 : i64, qtype = #nn.qtype<int8>} : tensor<2x3xf32> -> tensor<2x3xf32>
// CHECK: 'nn.fake_quant': zero_point 200 is outside the int8 range [-128, 127]

// -----

%x = "test.op"() : () -> tensor<2x3xf32>
%y = nn.softmax %x {axis = 2 : i64} : tensor<2x3xf32> -> tensor<2x3xf32>
// CHECK: 'nn.softmax': axis 2 is out of range for rank 2

// -----

%x = "test.op"() : () -> tensor<2x3xf32>
%y = nn.lrn %x {size = 5 : i64, alpha = 1.0e-04 : f32, beta = 0.75 : f32, bias = 1.0 : f32} : tensor<2x3xf32> -> tensor<2x3xf32>
// CHECK: 'nn.lrn': input must be NCHW (rank 4), got shape [2, 3]

// -----

%x = "test.op"() : () -> tensor<1x4x8x8xf32>
%y = nn.lrn %x {size = 0 : i64, alpha = 1.0e-04 : f32, beta = 0.75 : f32, bias = 1.0 : f32} : tensor<1x4x8x8xf32> -> tensor<1x4x8x8xf32>
// CHECK: 'nn.lrn': size must be >= 1, got 0

// -----
// --- nn.batch_norm ---

%x, %s = "test.op"() : () -> (tensor<8xf32>, tensor<8xf32>)
%y = nn.batch_norm %x, %s, %s, %s, %s {epsilon = 1.0e-05 : f32} : (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
// CHECK: 'nn.batch_norm': input must have a channel axis, got shape [8]

// -----

%x, %s, %v = "test.op"() : () -> (tensor<1x4x8x8xf32>, tensor<4xf32>, tensor<8xf32>)
%y = nn.batch_norm %x, %s, %s, %s, %v {epsilon = 1.0e-05 : f32} : (tensor<1x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<8xf32>) -> tensor<1x4x8x8xf32>
// CHECK: 'nn.batch_norm': var must have shape [4], got [8]

// -----

%x, %s = "test.op"() : () -> (tensor<1x4x8x8xf32>, tensor<4xf32>)
%y = nn.batch_norm %x, %s, %s, %s, %s {epsilon = 1.0e-05 : f32} : (tensor<1x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x8x4xf32>
// CHECK: 'nn.batch_norm': result shape [1, 4, 8, 4] must equal input shape [1, 4, 8, 8]

// -----
// --- nn.concat ---

%y = nn.concat {axis = 0 : i64} : () -> tensor<2xf32>
// CHECK: 'nn.concat': needs at least one input

// -----

%a, %b = "test.op"() : () -> (tensor<1x4xf32>, tensor<1x4xf32>)
%y = nn.concat %a, %b {axis = 2 : i64} : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x8xf32>
// CHECK: 'nn.concat': axis 2 is out of range for rank 2

// -----

%a, %b = "test.op"() : () -> (tensor<1x4xf32>, tensor<2x4xf32>)
%y = nn.concat %a, %b {axis = 1 : i64} : (tensor<1x4xf32>, tensor<2x4xf32>) -> tensor<1x8xf32>
// CHECK: 'nn.concat': input shapes [[1, 4], [2, 4]] differ outside axis 1

// -----

%a, %b = "test.op"() : () -> (tensor<1x4xf32>, tensor<1x4xf32>)
%y = nn.concat %a, %b {axis = 1 : i64} : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
// CHECK: 'nn.concat': result shape [1, 4] must be [1, 8]

// -----
// --- nn.reshape / nn.flatten / nn.transpose / nn.pad ---

%x = "test.op"() : () -> tensor<2x3xf32>
%y = nn.reshape %x : tensor<2x3xf32> -> tensor<5xf32>
// CHECK: 'nn.reshape': cannot reshape [2, 3] (6 elements) to [5] (5 elements)

// -----

%x = "test.op"() : () -> tensor<2x3xf32>
%y = nn.flatten %x {axis = 3 : i64} : tensor<2x3xf32> -> tensor<6x1xf32>
// CHECK: 'nn.flatten': axis 3 is out of range for rank 2

// -----

%x = "test.op"() : () -> tensor<2x3x4xf32>
%y = nn.flatten %x {axis = 1 : i64} : tensor<2x3x4xf32> -> tensor<24xf32>
// CHECK: 'nn.flatten': result must be 2-D, got shape [24]

// -----

%x = "test.op"() : () -> tensor<2x3x4xf32>
%y = nn.transpose %x {perm = array<i64: 0, 2, 2>} : tensor<2x3x4xf32> -> tensor<2x4x4xf32>
// CHECK: 'nn.transpose': perm [0, 2, 2] is not a permutation of 0..2

// -----

%x = "test.op"() : () -> tensor<2x3x4xf32>
%y = nn.transpose %x {perm = array<i64: 2, 0, 1>} : tensor<2x3x4xf32> -> tensor<2x3x4xf32>
// CHECK: 'nn.transpose': result shape [2, 3, 4] must be [4, 2, 3]

// -----

%x = "test.op"() : () -> tensor<2x3xf32>
%y = nn.pad %x {pads = array<i64: 1, 1>} : tensor<2x3xf32> -> tensor<3x4xf32>
// CHECK: 'nn.pad': 'pads' must have 4 values, got 2

// -----

%x = "test.op"() : () -> tensor<2x3xf32>
%y = nn.pad %x {pads = array<i64: 0, -1, 0, 0>} : tensor<2x3xf32> -> tensor<2x2xf32>
// CHECK: 'nn.pad': negative pads [0, -1, 0, 0] are not supported

// -----

%x = "test.op"() : () -> tensor<2x3xf32>
%y = nn.pad %x {pads = array<i64: 0, 1, 0, 1>, mode = #nn.pad_mode<wrap>} : tensor<2x3xf32> -> tensor<2x5xf32>
// CHECK: unknown nn.pad_mode 'wrap': expected one of constant, reflect, edge

// -----

%x = "test.op"() : () -> tensor<2x3xf32>
%y = nn.pad %x {pads = array<i64: 0, 1, 0, 1>} : tensor<2x3xf32> -> tensor<2x4xf32>
// CHECK: 'nn.pad': result shape [2, 4] must be [2, 5]

// -----

%x = "test.op"() : () -> tensor<1x4x2x2xf32>
%y = nn.maxpool %x {kernel = array<i64: 3, 3>, strides = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 2, 1>} : tensor<1x4x2x2xf32> -> tensor<1x4x1x1xf32>
// CHECK: 'nn.maxpool': the 3x3 window (dilations [2, 1]) is larger than the padded input 2x2

// -----
// --- nn.slice ---

%x = "test.op"() : () -> tensor<2x6xf32>
%y = nn.slice %x {axes = array<i64: 1>, starts = array<i64: 0, 1>, ends = array<i64: 2>} : tensor<2x6xf32> -> tensor<2x2xf32>
// CHECK: 'nn.slice': 'starts' must have 1 values, got 2

// -----

%x = "test.op"() : () -> tensor<2x6xf32>
%y = nn.slice %x {axes = array<i64: 1>, starts = array<i64: 0>, ends = array<i64: 2>, steps = array<i64: 1, 1>} : tensor<2x6xf32> -> tensor<2x2xf32>
// CHECK: 'nn.slice': 'steps' must have 1 values, got 2

// -----

%x = "test.op"() : () -> tensor<2x6xf32>
%y = nn.slice %x {axes = array<i64: 2>, starts = array<i64: 0>, ends = array<i64: 2>} : tensor<2x6xf32> -> tensor<2x2xf32>
// CHECK: 'nn.slice': axes [2] must be strictly increasing and in [0, 2) (rank 2)

// -----

%x = "test.op"() : () -> tensor<2x6xf32>
%y = nn.slice %x {axes = array<i64: 1, 0>, starts = array<i64: 0, 0>, ends = array<i64: 2, 1>} : tensor<2x6xf32> -> tensor<1x2xf32>
// CHECK: 'nn.slice': axes [1, 0] must be strictly increasing and in [0, 2) (rank 2)

// -----

%x = "test.op"() : () -> tensor<2x6xf32>
%y = nn.slice %x {axes = array<i64: 1>, starts = array<i64: 4>, ends = array<i64: 0>, steps = array<i64: -1>} : tensor<2x6xf32> -> tensor<2x4xf32>
// CHECK: 'nn.slice': steps must be >= 1, got [-1]

// -----

%x = "test.op"() : () -> tensor<2x6xf32>
%y = nn.slice %x {axes = array<i64: 1>, starts = array<i64: -2>, ends = array<i64: 6>} : tensor<2x6xf32> -> tensor<2x2xf32>
// CHECK: 'nn.slice': along axis 1 (size 6) the slice [-2, 6) must satisfy 0 <= start < end <= size (canonical, non-empty)

// -----

%x = "test.op"() : () -> tensor<2x6xf32>
%y = nn.slice %x {axes = array<i64: 1>, starts = array<i64: 0>, ends = array<i64: 7>} : tensor<2x6xf32> -> tensor<2x7xf32>
// CHECK: 'nn.slice': along axis 1 (size 6) the slice [0, 7) must satisfy 0 <= start < end <= size (canonical, non-empty)

// -----

%x = "test.op"() : () -> tensor<2x6xf32>
%y = nn.slice %x {axes = array<i64: 1>, starts = array<i64: 3>, ends = array<i64: 3>} : tensor<2x6xf32> -> tensor<2x0xf32>
// CHECK: 'nn.slice': along axis 1 (size 6) the slice [3, 3) must satisfy 0 <= start < end <= size (canonical, non-empty)

// -----

%x = "test.op"() : () -> tensor<2x6xf32>
%y = nn.slice %x {axes = array<i64: 1>, starts = array<i64: 1>, ends = array<i64: 6>, steps = array<i64: 2>} : tensor<2x6xf32> -> tensor<2x2xf32>
// CHECK: 'nn.slice': result shape [2, 2] must be [2, 3]
