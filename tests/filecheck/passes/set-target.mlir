// set-target (docs/partitioning.md): a new batch re-costs the same partitions, exactly as
// partitioning at that batch from the start stores them; --batch schedules the same pass.
// RUN: pim-opt %s --batch 4 --partition > %t.b4.mlir
// RUN: pim-opt %s --batch 1 --partition > %t.b1.mlir
// RUN: pim-opt %t.b4.mlir -p 'set-target{batch=1}' 2>&1 > %t.recost.mlir | filecheck %s --check-prefix=NOTE
// RUN: diff %t.b1.mlir %t.recost.mlir
// RUN: pim-opt %t.b4.mlir --batch 1 2>/dev/null | diff %t.b1.mlir -
// NOTE: pim-opt: note: the 3 partitions were costed again for chip 'tiny', batch 1 (same grouping
// The batch-4 costs differ, so the diffs above can fail.
// RUN: not diff %t.b1.mlir %t.b4.mlir
// A chip with one core does not hold the partitions: an error, unless the pipeline partitions again.
// RUN: not pim-opt %t.b4.mlir -p 'set-target{chip="%S/Inputs/one-core.toml"}' 2>&1 | filecheck %s --check-prefix=MISFIT
// MISFIT: pim-opt: error: set-target: the 3 partitions were made for chip 'tiny' and are not legal on chip 'one-core'
// RUN: pim-opt %t.b4.mlir --chip %S/Inputs/one-core.toml --partition | filecheck %s --check-prefix=REGROUP
// REGROUP: name = "one-core"
// REGROUP: partition.partition 0
// Lowered IR is placed for its batch.
// RUN: pim-opt %t.b4.mlir --partition-to-crossbar | not pim-opt -p 'set-target{batch=2}' 2>&1 | filecheck %s --check-prefix=LOWERED
// LOWERED: pim-opt: error: set-target: batch 2 cannot apply to IR lowered below the partition level

builtin.module attributes {pim.chip = {base = "compass-s", name = "tiny", cores = 2 : i64, crossbars_per_core = 2 : i64, crossbar_rows = 16 : i64, crossbar_cols = 16 : i64}} {
  func.func @main(%x: tensor<1x48xf32>) -> tensor<1x4xf32> {
    %w1 = nn.weight "fc1.weight" : tensor<8x48xf32>
    %b1 = nn.weight "fc1.bias" : tensor<8xf32>
    %h = nn.linear %x, %w1, %b1 : (tensor<1x48xf32>, tensor<8x48xf32>, tensor<8xf32>) -> tensor<1x8xf32>
    %r = nn.relu %h : tensor<1x8xf32> -> tensor<1x8xf32>
    %w2 = nn.weight "fc2.weight" : tensor<4x8xf32>
    %y = nn.linear %r, %w2 : (tensor<1x8xf32>, tensor<4x8xf32>) -> tensor<1x4xf32>
    func.return %y : tensor<1x4xf32>
  }
}
