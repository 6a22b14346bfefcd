// Typed properties (dialects/common.py): integer arrays must be i64 arrays, string enums must be
// their enum attribute (docs/dialects.md, "Typed properties"). One case per chunk.
// RUN: pim-opt %s --chip compass-s --split-input-file --verify-diagnostics --parsing-diagnostics | filecheck %s

// an i32 array where an i64 one is declared
pim_isa.program elem_bytes 2 {
  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.vrelu {dst = array<i32: 0>, src = array<i64: 0>, len = 8 : i64}
    }
  }
}
// CHECK: expected an i64 array such as array<i64: 0, 4>, got array<i32: 0>

// -----

// a list attribute where an i64 array is declared
%x = "test.op"() : () -> tensor<1x16xf32>
%r = crossbar.partition 0 (%x) : (tensor<1x16xf32>) -> tensor<1x16xf32> {
^bb0(%a: tensor<1x16xf32>):
    %t = crossbar.tile {weight = "w", layout = #crossbar.layout<oi>, rows = [0, 16], cols = array<i64: 0, 8>, replica = 0 : i64, core = 0 : i64, xbar = 0 : i64}
    crossbar.yield %a : tensor<1x16xf32>
}
// CHECK: expected an i64 array such as array<i64: 0, 4>, got [0 : i64, 16 : i64]

// -----

// the string spelling of an enum (the form before typed enums)
pim_isa.program elem_bytes 2 {
  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.vpool {kind = "max", dst = array<i64: 0>, src = array<i64: 64>, len = 8 : i64, count = 4 : i64, step = 8 : i64}
    }
  }
}
// CHECK: expected a pim_isa.pool_kind value such as #pim_isa.pool_kind<max> (one of max, avg, sum), got "max"

// -----

// an optional enum property is checked when the op is verified
%x = "test.op"() : () -> tensor<2x3xf32>
%y = nn.pad %x {pads = array<i64: 0, 1, 0, 1>, mode = "reflect"} : tensor<2x3xf32> -> tensor<2x5xf32>
// CHECK: expected a nn.pad_mode value such as #nn.pad_mode<constant> (one of constant, reflect, edge), got "reflect"

// -----

%x = "test.op"() : () -> tensor<1x16xf32>
%r = crossbar.partition 0 (%x) {schedule = #crossbar.schedule<rows>} : (tensor<1x16xf32>) -> tensor<1x16xf32> {
^bb0(%a: tensor<1x16xf32>):
    crossbar.yield %a : tensor<1x16xf32>
}
// CHECK: unknown crossbar.schedule 'rows': expected one of layer, batch, element

// -----

%x = "test.op"() : () -> tensor<1x16xf32>
%r = partition.partition 0 (%x) {span = array<i64: 0, 1>, layers = [], replication = array<i64>, crossbars = 0 : i64, core_crossbars = array<i64>, weight_bytes = 0 : i64, dram_bytes = 0 : i64, latency_s = 0.0 : f64, energy_j = 0.0 : f64, schedule = #partition.schedule<pipelined>} : (tensor<1x16xf32>) -> tensor<1x16xf32> {
^bb0(%a: tensor<1x16xf32>):
    partition.yield %a : tensor<1x16xf32>
}
// CHECK: unknown partition.schedule 'pipelined': expected one of layer, batch, element
