// --chip and --batch attach pim.chip / pim.batch; on IR that has them, the flag wins with a note.
// RUN: pim-opt %s --chip compass-s --batch 4 | filecheck %s
// RUN: pim-opt %s --chip compass-s | pim-opt --chip compass-l --batch 2 2>&1 | filecheck %s --check-prefix=OVERRIDE
// RUN: pim-opt %s --chip compass-s --batch 2 | pim-opt --chip compass-s --batch 2 2>&1 | filecheck %s --check-prefix=SAME
// RUN: echo 'base = "compass-s"' > %t.toml
// RUN: echo 'cores = 4' >> %t.toml
// RUN: pim-opt %s --chip %t.toml | filecheck %s --check-prefix=FILE

func.func @main(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %a = nn.relu %x : tensor<1x4xf32> -> tensor<1x4xf32>
  func.return %a : tensor<1x4xf32>
}

// CHECK:      builtin.module attributes {pim.chip = {name = "compass-s", cores = 16 : i64, crossbars_per_core = 9 : i64, crossbar_rows = 256 : i64, crossbar_cols = 256 : i64
// CHECK-SAME: pim.batch = 4 : i64}
// CHECK:      nn.relu

// OVERRIDE:      pim-opt: note: --chip compass-l replaces the module's chip 'compass-s'.
// OVERRIDE-NOT:  note
// OVERRIDE:      builtin.module attributes {pim.chip = {name = "compass-l", cores = 36 : i64, crossbars_per_core = 16 : i64
// OVERRIDE-SAME: pim.batch = 2 : i64}

// SAME-NOT:   note
// SAME:       name = "compass-s"

// A file without `name` is named after its stem (here %t.toml: chip.mlir.tmp), not its base.
// FILE:       pim.chip = {name = "chip.mlir.tmp", cores = 4 : i64, crossbars_per_core = 9 : i64
// FILE-SAME:  description = "compass-s with the changes of chip.mlir.tmp.toml"
