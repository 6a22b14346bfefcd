// Verifier messages of the pim_isa pieces crossbar-to-isa added (strided DMA, grouped weight
// staging, pim_isa.execute), one case per chunk, on compass-s.
// RUN: pim-opt %s --chip compass-s --split-input-file --verify-diagnostics | filecheck %s

pim_isa.program elem_bytes 2 {
  pim_isa.buffer "x" {role = #pim_isa.role<input>, shape = array<i64: 64>}
  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.load_block {buffer = "x", offset = array<i64: 0>, sizes = array<i64: 4, 2>, pitches = array<i64: 8>, len = 2 : i64, dst = array<i64: 0>}
    }
  }
}
// CHECK: 'pim_isa.load_block': sizes [4, 2] and pitches [8] must be non-empty and of equal length

// -----

pim_isa.program elem_bytes 2 {
  pim_isa.buffer "x" {role = #pim_isa.role<input>, shape = array<i64: 64>}
  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.load_block {buffer = "x", offset = array<i64: 0>, sizes = array<i64: 0>, pitches = array<i64: 8>, len = 2 : i64, dst = array<i64: 0>}
    }
  }
}
// CHECK: 'pim_isa.load_block': sizes must be >= 1 and pitches >= 0, got [0] and [8]

// -----

pim_isa.program elem_bytes 2 {
  pim_isa.buffer "y" {role = #pim_isa.role<output>, shape = array<i64: 64>}
  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.loop 3 {
        pim_isa.store_block {src = array<i64: 0>, buffer = "y", offset = array<i64: 0, 16>, sizes = array<i64: 5>, pitches = array<i64: 8>, len = 2 : i64}
      }
    }
  }
}
// Three rows of a 5-row block at 16*i: the last starts at 32 and reaches 32 + 4*8 + 2 = 66.
// CHECK: 'pim_isa.store_block' on core 0 of partition 0: DRAM elements [0, 66) are outside buffer 'y' of 64 elements

// -----

pim_isa.program elem_bytes 2 {
  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.load_block {buffer = "x", offset = array<i64: 0>, sizes = array<i64: 2>, pitches = array<i64: 8>, len = 32768 : i64, dst = array<i64: 0>}
    }
  }
}
// CHECK: 'pim_isa.load_block' on core 0 of partition 0: local memory range [0, 131072) of 'dst' exceeds local_memory_bytes 65536 of chip 'compass-s'

// -----

pim_isa.program elem_bytes 2 {
  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.ld_weight {weight = "dw.weight", layout = #pim_isa.layout<oihw>, rows = array<i64: 0, 9>, cols = array<i64: 0, 6>, dst = array<i64: 0>, groups = 4 : i64}
    }
  }
}
// CHECK: 'pim_isa.ld_weight': 'groups' must be >= 1 and divide the 6 columns, got 4

// -----

builtin.module {
  pim_isa.program elem_bytes 2 {
    pim_isa.buffer "x" {role = #pim_isa.role<input>, shape = array<i64: 1, 16>}
  }
  func.func @main(%a: tensor<1x16xf32>) -> tensor<1x16xf32> {
    %b = pim_isa.execute %a {inputs = ["x"], outputs = ["y"]} : (tensor<1x16xf32>) -> tensor<1x16xf32>
    func.return %b : tensor<1x16xf32>
  }
}
// CHECK: 'pim_isa.execute': names buffer 'y', which the program does not declare

// -----

builtin.module {
  pim_isa.program elem_bytes 2 {
    pim_isa.buffer "x" {role = #pim_isa.role<input>, shape = array<i64: 1, 16>}
  }
  func.func @main(%a: tensor<1x8xf32>) -> tensor<1x16xf32> {
    %b = pim_isa.execute %a {inputs = ["x"], outputs = ["x"]} : (tensor<1x8xf32>) -> tensor<1x16xf32>
    func.return %b : tensor<1x16xf32>
  }
}
// CHECK: 'pim_isa.execute': buffer 'x' holds 16 elements but the value tensor<1x8xf32> has 8

// -----

builtin.module {
  func.func @main(%a: tensor<1x8xf32>) -> tensor<1x8xf32> {
    %b = pim_isa.execute %a {inputs = ["x"], outputs = ["x"]} : (tensor<1x8xf32>) -> tensor<1x8xf32>
    func.return %b : tensor<1x8xf32>
  }
}
// CHECK: 'pim_isa.execute': the module holds no pim_isa.program to execute

// -----

pim_isa.program elem_bytes 2 {
  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.gather {dst = array<i64: 0>, src = array<i64: 0>, sizes = array<i64: 4, 3>, pitches = array<i64: 1>, len = 1 : i64}
    }
  }
}
// CHECK: 'pim_isa.gather': sizes [4, 3] and pitches [1] must be non-empty and of equal length

// -----

pim_isa.program elem_bytes 2 {
  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.loop 4 {
        pim_isa.gather {dst = array<i64: 0>, src = array<i64: 65000, 128>, sizes = array<i64: 8, 3>, pitches = array<i64: 1, 40>, len = 1 : i64}
      }
    }
  }
}
// The source moves 128 bytes a window: the last window starts at 65000 + 3*128 = 65384 and
// reads 1 + 7*1 + 2*40 = 88 elements (176 bytes), past the 65536 bytes of compass-s.
// CHECK: 'pim_isa.gather' on core 0 of partition 0: local memory range [65384, 65560) of 'src' exceeds local_memory_bytes 65536 of chip 'compass-s'
