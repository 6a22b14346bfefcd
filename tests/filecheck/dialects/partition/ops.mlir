// Round trip of the partition dialect: custom form prints back as written, generic form parses.
// RUN: pim-opt %s | pim-opt | filecheck %s
// RUN: pim-opt %s --print-op-generic | pim-opt | filecheck %s

builtin.module attributes {pim.n_units = 2 : i64} {
  func.func @main(%x: tensor<1x8xf32>) -> tensor<1x4xf32> {
    %p = partition.partition 0(%x) {span = array<i64: 0, 1>, layers = ["fc.weight"], replication = array<i64: 1>, crossbars = 2 : i64, core_crossbars = array<i64: 1, 1>, weight_bytes = 8 : i64, dram_bytes = 40 : i64, latency_s = 1.0e-06 : f64, energy_j = 2.0e-09 : f64} : (tensor<1x8xf32>) -> tensor<1x4xf32> {
    ^bb0(%a: tensor<1x8xf32>):
      %l = partition.load %a : tensor<1x8xf32>
      %w = nn.weight "fc.weight" : tensor<4x8xf32>
      %m = partition.unit_weights %w {units = array<i64: 0, 1>, boxes = array<i64: 0, 2, 0, 8>, out_axis = 0 : i64} : tensor<4x8xf32>
      %y = nn.linear %l, %m {pim.piece = array<i64: 0, 1>, pim.units = array<i64: 0, 2>} : (tensor<1x8xf32>, tensor<4x8xf32>) -> tensor<1x4xf32>
      %s = partition.store %y : tensor<1x4xf32>
      partition.yield %s : tensor<1x4xf32>
    }
    %q = partition.partition 1(%x, %p) {span = array<i64: 1, 2>, layers = ["fc.weight"], replication = array<i64: 1>, crossbars = 1 : i64, core_crossbars = array<i64: 1>, weight_bytes = 8 : i64, dram_bytes = 24 : i64, latency_s = 1.0e-06 : f64, energy_j = 2.0e-09 : f64} : (tensor<1x8xf32>, tensor<1x4xf32>) -> tensor<1x4xf32> {
    ^bb0(%a: tensor<1x8xf32>, %b: tensor<1x4xf32>):
      %l = partition.load %a : tensor<1x8xf32>
      %part = partition.load %b : tensor<1x4xf32>
      %w = nn.weight "fc.weight" : tensor<4x8xf32>
      %m = partition.unit_weights %w {units = array<i64: 1, 2>, boxes = array<i64: 2, 4, 0, 8>, out_axis = 0 : i64} : tensor<4x8xf32>
      %y = nn.linear %l, %m {pim.piece = array<i64: 1, 2>, pim.units = array<i64: 0, 2>} : (tensor<1x8xf32>, tensor<4x8xf32>) -> tensor<1x4xf32>
      %acc = nn.add %part, %y {pim.accumulate = array<i64: 0, 2>} : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
      %s = partition.store %acc : tensor<1x4xf32>
      partition.yield %s : tensor<1x4xf32>
    }
    func.return %q : tensor<1x4xf32>
  }
}

// CHECK:      builtin.module attributes {pim.n_units = 2 : i64} {
// CHECK-NEXT:   func.func @main(%x: tensor<1x8xf32>) -> tensor<1x4xf32> {
// CHECK-NEXT:     %p = partition.partition 0(%x) {span = array<i64: 0, 1>, layers = ["fc.weight"], replication = array<i64: 1>, crossbars = 2 : i64, core_crossbars = array<i64: 1, 1>, weight_bytes = 8 : i64, dram_bytes = 40 : i64, latency_s = 1.000000e-06 : f64, energy_j = 2.000000e-09 : f64} : (tensor<1x8xf32>) -> tensor<1x4xf32> {
// CHECK-NEXT:     ^bb0(%a: tensor<1x8xf32>):
// CHECK-NEXT:       %l = partition.load %a : tensor<1x8xf32>
// CHECK-NEXT:       %w = nn.weight "fc.weight" : tensor<4x8xf32>
// CHECK-NEXT:       %m = partition.unit_weights %w {units = array<i64: 0, 1>, boxes = array<i64: 0, 2, 0, 8>, out_axis = 0 : i64} : tensor<4x8xf32>
// CHECK-NEXT:       %y = nn.linear %l, %m {pim.piece = array<i64: 0, 1>, pim.units = array<i64: 0, 2>} : (tensor<1x8xf32>, tensor<4x8xf32>) -> tensor<1x4xf32>
// CHECK-NEXT:       %s = partition.store %y : tensor<1x4xf32>
// CHECK-NEXT:       partition.yield %s : tensor<1x4xf32>
// CHECK-NEXT:     }
// CHECK-NEXT:     %q = partition.partition 1(%x, %p) {span = array<i64: 1, 2>
// CHECK:            %part = partition.load %b : tensor<1x4xf32>
// CHECK:            %acc = nn.add %part, %{{.*}} {pim.accumulate = array<i64: 0, 2>}
// CHECK:          func.return %q : tensor<1x4xf32>
