// Round trip of the pim_isa pieces crossbar-to-isa added: load_block/store_block (strided DMA),
// gather (a window formed from a line buffer in local memory), ld_weight with groups, buffer fill, and pim_isa.execute in @main.
// RUN: pim-opt %s --chip compass-s | filecheck %s
// RUN: pim-opt %s --chip compass-s | pim-opt | filecheck %s
// RUN: pim-opt %s --chip compass-s --print-op-generic | pim-opt | filecheck %s

builtin.module {
  pim_isa.program elem_bytes 2 {
    pim_isa.buffer "x" {role = #pim_isa.role<input>, shape = array<i64: 1, 6, 6, 4>, fill = 0xFFF0000000000000 : f64}
    pim_isa.buffer "y" {role = #pim_isa.role<output>, shape = array<i64: 1, 16>}
    pim_isa.partition 0 {
      pim_isa.core 0 {
        pim_isa.ld_weight {weight = "dw.weight", layout = #pim_isa.layout<oihw>, rows = array<i64: 0, 9>, cols = array<i64: 0, 4>, dst = array<i64: 0>, groups = 4 : i64}
        pim_isa.loop 4 {
          pim_isa.load_block {buffer = "x", offset = array<i64: 0, 24>, sizes = array<i64: 4, 3, 3>, pitches = array<i64: 1, 24, 4>, len = 1 : i64, dst = array<i64: 1024>}
          pim_isa.store_block {src = array<i64: 1024>, buffer = "y", offset = array<i64: 0, 2>, sizes = array<i64: 2>, pitches = array<i64: 8>, len = 2 : i64}
          pim_isa.gather {dst = array<i64: 0>, src = array<i64: 1024, 8>, sizes = array<i64: 4, 3, 3>, pitches = array<i64: 1, 24, 4>, len = 1 : i64}
        }
      }
    }
  }
  func.func @main(%a: tensor<1x6x6x4xf32>) -> tensor<1x16xf32> {
    %b = pim_isa.execute %a {inputs = ["x"], outputs = ["y"]} : (tensor<1x6x6x4xf32>) -> tensor<1x16xf32>
    func.return %b : tensor<1x16xf32>
  }
}

// CHECK:      pim_isa.buffer "x" {role = #pim_isa.role<input>, shape = array<i64: 1, 6, 6, 4>, fill = 0x{{[fF]+}}0000000000000 : f64}
// CHECK:      pim_isa.ld_weight {weight = "dw.weight", layout = #pim_isa.layout<oihw>, rows = array<i64: 0, 9>, cols = array<i64: 0, 4>, dst = array<i64: 0>, groups = 4 : i64}
// CHECK:      pim_isa.load_block {buffer = "x", offset = array<i64: 0, 24>, sizes = array<i64: 4, 3, 3>, pitches = array<i64: 1, 24, 4>, len = 1 : i64, dst = array<i64: 1024>}
// CHECK-NEXT: pim_isa.store_block {src = array<i64: 1024>, buffer = "y", offset = array<i64: 0, 2>, sizes = array<i64: 2>, pitches = array<i64: 8>, len = 2 : i64}
// CHECK-NEXT: pim_isa.gather {dst = array<i64: 0>, src = array<i64: 1024, 8>, sizes = array<i64: 4, 3, 3>, pitches = array<i64: 1, 24, 4>, len = 1 : i64}
// CHECK:      %{{.*}} = pim_isa.execute %{{.*}} {inputs = ["x"], outputs = ["y"]} : (tensor<1x6x6x4xf32>) -> tensor<1x16xf32>
