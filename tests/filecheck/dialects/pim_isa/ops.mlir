// Round trip of every pim_isa op (dialects/pim_isa.py): parse -> print -> parse, custom and
// generic forms, on a chip (compass-s) so the chip-dependent verifiers run too.
// RUN: pim-opt %s --chip compass-s | filecheck %s
// RUN: pim-opt %s --chip compass-s | pim-opt | filecheck %s
// RUN: pim-opt %s --chip compass-s --print-op-generic | pim-opt | filecheck %s
// RUN: pim-opt %s --chip compass-s --print-op-generic | filecheck %s --check-prefix=GENERIC

pim_isa.program elem_bytes 2 {
  pim_isa.buffer "input" {role = #pim_isa.role<input>, shape = array<i64: 1, 3, 8, 8>}
  pim_isa.buffer "out" {role = #pim_isa.role<output>, shape = array<i64: 1, 16, 8, 8>}
  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.ld_weight {weight = "conv1.weight", layout = #pim_isa.layout<oihw>, rows = array<i64: 0, 27>, cols = array<i64: 0, 16>, dst = array<i64: 0>}
      pim_isa.wr_xbar {xbar = 0 : i64, src = array<i64: 0>, rows = 27 : i64, cols = 16 : i64}
      pim_isa.load {buffer = "conv1.bias", offset = array<i64: 0>, dst = array<i64: 1024>, len = 16 : i64}
      pim_isa.loop 64 {
        pim_isa.load {buffer = "input", offset = array<i64: 0, 1>, dst = array<i64: 2048, 0>, len = 1 : i64}
        pim_isa.mvm {xbar = 0 : i64, src = array<i64: 2048>, rows = 27 : i64, dst = array<i64: 4096>, cols = 16 : i64, bits = 4 : i64}
        pim_isa.mvm {xbar = 0 : i64, src = array<i64: 2048>, rows = 27 : i64, dst = array<i64: 4096>, cols = 16 : i64, bits = 4 : i64, accumulate}
        pim_isa.vadd {dst = array<i64: 4096>, lhs = array<i64: 4096>, rhs = array<i64: 1024>, len = 16 : i64}
        pim_isa.vsub {dst = array<i64: 4096>, lhs = array<i64: 4096>, rhs = array<i64: 1024>, len = 16 : i64, broadcast}
        pim_isa.vmul {dst = array<i64: 4096>, lhs = array<i64: 4096>, rhs = array<i64: 1024>, len = 16 : i64}
        pim_isa.vdiv {dst = array<i64: 4096>, lhs = array<i64: 4096>, rhs = array<i64: 1024>, len = 16 : i64, broadcast}
        pim_isa.vmax {dst = array<i64: 4096>, lhs = array<i64: 4096>, rhs = array<i64: 1024>, len = 16 : i64}
        pim_isa.vmin {dst = array<i64: 4096>, lhs = array<i64: 4096>, rhs = array<i64: 1024>, len = 16 : i64}
        pim_isa.vrelu {dst = array<i64: 4096>, src = array<i64: 4096>, len = 16 : i64}
        pim_isa.vcopy {dst = array<i64: 6144, 32>, src = array<i64: 4096, 0>, len = 16 : i64}
        pim_isa.vsigmoid {dst = array<i64: 4096>, src = array<i64: 4096>, len = 16 : i64}
        pim_isa.vtanh {dst = array<i64: 4096>, src = array<i64: 4096>, len = 16 : i64}
        pim_isa.vexp {dst = array<i64: 4096>, src = array<i64: 4096>, len = 16 : i64}
        pim_isa.vscale {dst = array<i64: 4096>, src = array<i64: 4096>, len = 16 : i64, factor = 2.500000e-01 : f64}
        pim_isa.vpow {dst = array<i64: 4096>, src = array<i64: 4096>, len = 16 : i64, exponent = 7.500000e-01 : f64}
        pim_isa.vleaky_relu {dst = array<i64: 4096>, src = array<i64: 4096>, len = 16 : i64, alpha = 1.000000e-01 : f64}
        pim_isa.vclip {dst = array<i64: 4096>, src = array<i64: 4096>, len = 16 : i64, min = 0.000000e+00 : f64, max = 6.000000e+00 : f64}
        pim_isa.vfake_quant {dst = array<i64: 4096>, src = array<i64: 4096>, len = 16 : i64, scale = 5.000000e-02 : f64, zero_point = 1.280000e+02 : f64, min = 0.000000e+00 : f64, max = 2.550000e+02 : f64}
        pim_isa.vreduce {kind = #pim_isa.reduce_kind<max>, dst = array<i64: 4096>, src = array<i64: 4096>, len = 16 : i64}
        pim_isa.vpool {kind = #pim_isa.pool_kind<avg>, dst = array<i64: 8192>, src = array<i64: 6144>, len = 16 : i64, count = 4 : i64, step = 16 : i64}
      }
      pim_isa.send {peer = 1 : i64, src = array<i64: 6144>, len = 1024 : i64, tag = 7 : i64}
      pim_isa.barrier {cores = array<i64: 0, 1>}
    }
    pim_isa.core 1 {
      pim_isa.recv {peer = 0 : i64, dst = array<i64: 0>, len = 1024 : i64, tag = 7 : i64}
      pim_isa.loop 8 {
        pim_isa.loop 8 {
          pim_isa.store {src = array<i64: 0, 256, 32>, buffer = "out", offset = array<i64: 0, 8, 1>, len = 1 : i64}
        }
      }
      pim_isa.barrier {cores = array<i64: 0, 1>}
    }
  }
  pim_isa.partition 1 {
    pim_isa.core 5 {
      pim_isa.vrelu {dst = array<i64: 0>, src = array<i64: 0>, len = 8 : i64}
    }
  }
}

// CHECK:      pim_isa.program elem_bytes 2 {
// CHECK-NEXT:   pim_isa.buffer "input" {role = #pim_isa.role<input>, shape = array<i64: 1, 3, 8, 8>}
// CHECK-NEXT:   pim_isa.buffer "out" {role = #pim_isa.role<output>, shape = array<i64: 1, 16, 8, 8>}
// CHECK-NEXT:   pim_isa.partition 0 {
// CHECK-NEXT:     pim_isa.core 0 {
// CHECK-NEXT:       pim_isa.ld_weight {weight = "conv1.weight", layout = #pim_isa.layout<oihw>, rows = array<i64: 0, 27>, cols = array<i64: 0, 16>, dst = array<i64: 0>}
// CHECK-NEXT:       pim_isa.wr_xbar {xbar = 0 : i64, src = array<i64: 0>, rows = 27 : i64, cols = 16 : i64}
// CHECK-NEXT:       pim_isa.load {buffer = "conv1.bias", offset = array<i64: 0>, dst = array<i64: 1024>, len = 16 : i64}
// CHECK-NEXT:       pim_isa.loop 64 {
// CHECK-NEXT:         pim_isa.load {buffer = "input", offset = array<i64: 0, 1>, dst = array<i64: 2048, 0>, len = 1 : i64}
// CHECK-NEXT:         pim_isa.mvm {xbar = 0 : i64, src = array<i64: 2048>, rows = 27 : i64, dst = array<i64: 4096>, cols = 16 : i64, bits = 4 : i64}
// CHECK-NEXT:         pim_isa.mvm {xbar = 0 : i64, src = array<i64: 2048>, rows = 27 : i64, dst = array<i64: 4096>, cols = 16 : i64, bits = 4 : i64, accumulate}
// CHECK-NEXT:         pim_isa.vadd {dst = array<i64: 4096>, lhs = array<i64: 4096>, rhs = array<i64: 1024>, len = 16 : i64}
// CHECK-NEXT:         pim_isa.vsub {dst = array<i64: 4096>, lhs = array<i64: 4096>, rhs = array<i64: 1024>, len = 16 : i64, broadcast}
// CHECK-NEXT:         pim_isa.vmul
// CHECK-NEXT:         pim_isa.vdiv {{.*}} broadcast}
// CHECK-NEXT:         pim_isa.vmax
// CHECK-NEXT:         pim_isa.vmin
// CHECK-NEXT:         pim_isa.vrelu {dst = array<i64: 4096>, src = array<i64: 4096>, len = 16 : i64}
// CHECK-NEXT:         pim_isa.vcopy {dst = array<i64: 6144, 32>, src = array<i64: 4096, 0>, len = 16 : i64}
// CHECK-NEXT:         pim_isa.vsigmoid
// CHECK-NEXT:         pim_isa.vtanh
// CHECK-NEXT:         pim_isa.vexp
// CHECK-NEXT:         pim_isa.vscale {{.*}} factor = 2.500000e-01 : f64}
// CHECK-NEXT:         pim_isa.vpow {{.*}} exponent = 7.500000e-01 : f64}
// CHECK-NEXT:         pim_isa.vleaky_relu {{.*}} alpha = 1.000000e-01 : f64}
// CHECK-NEXT:         pim_isa.vclip {{.*}} min = 0.000000e+00 : f64, max = 6.000000e+00 : f64}
// CHECK-NEXT:         pim_isa.vfake_quant {{.*}} scale = 5.000000e-02 : f64, zero_point = 1.280000e+02 : f64, min = 0.000000e+00 : f64, max = 2.550000e+02 : f64}
// CHECK-NEXT:         pim_isa.vreduce {kind = #pim_isa.reduce_kind<max>, dst = array<i64: 4096>, src = array<i64: 4096>, len = 16 : i64}
// CHECK-NEXT:         pim_isa.vpool {kind = #pim_isa.pool_kind<avg>, dst = array<i64: 8192>, src = array<i64: 6144>, len = 16 : i64, count = 4 : i64, step = 16 : i64}
// CHECK-NEXT:       }
// CHECK-NEXT:       pim_isa.send {peer = 1 : i64, src = array<i64: 6144>, len = 1024 : i64, tag = 7 : i64}
// CHECK-NEXT:       pim_isa.barrier {cores = array<i64: 0, 1>}
// CHECK-NEXT:     }
// CHECK-NEXT:     pim_isa.core 1 {
// CHECK-NEXT:       pim_isa.recv {peer = 0 : i64, dst = array<i64: 0>, len = 1024 : i64, tag = 7 : i64}
// CHECK-NEXT:       pim_isa.loop 8 {
// CHECK-NEXT:         pim_isa.loop 8 {
// CHECK-NEXT:           pim_isa.store {src = array<i64: 0, 256, 32>, buffer = "out", offset = array<i64: 0, 8, 1>, len = 1 : i64}
// CHECK-NEXT:         }
// CHECK-NEXT:       }
// CHECK-NEXT:       pim_isa.barrier {cores = array<i64: 0, 1>}
// CHECK-NEXT:     }
// CHECK-NEXT:   }
// CHECK-NEXT:   pim_isa.partition 1 {
// CHECK-NEXT:     pim_isa.core 5 {
// CHECK-NEXT:       pim_isa.vrelu {dst = array<i64: 0>, src = array<i64: 0>, len = 8 : i64}
// CHECK-NEXT:     }
// CHECK-NEXT:   }
// CHECK-NEXT: }

// GENERIC: "pim_isa.program"() <{elem_bytes = 2 : i64}> ({
// GENERIC: "pim_isa.loop"() <{count = 64 : i64}> ({
// GENERIC: "pim_isa.mvm"() <{
