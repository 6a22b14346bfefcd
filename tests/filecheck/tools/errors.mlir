// User errors: one message naming the place, exit code 1, never a traceback.
// RUN: not pim-opt %s --cse --no-such-pass 2>&1 | filecheck %s --check-prefix=FLAG
// RUN: not pim-opt %s -p 'cse,no-such-pass' 2>&1 | filecheck %s --check-prefix=PASS
// RUN: not pim-opt %s -p 'cse{no-such-option=1}' 2>&1 | filecheck %s --check-prefix=OPTION
// RUN: not pim-opt %s -p 'cse{' 2>&1 | filecheck %s --check-prefix=PIPELINE
// RUN: not pim-opt %s --chip compass-xl 2>&1 | filecheck %s --check-prefix=CHIP
// RUN: not pim-opt %s --batch 0 2>&1 | filecheck %s --check-prefix=BATCH
// RUN: not pim-opt %s -o %s 2>&1 | filecheck %s --check-prefix=OVERWRITE
// RUN: not pim-opt %S/Inputs/bad-conv.mlir 2>&1 | filecheck %s --check-prefix=VERIFY
// RUN: not pim-opt %S/Inputs/parse-error.mlir 2>&1 | filecheck %s --check-prefix=PARSE
// RUN: not pim-opt %t.does-not-exist.mlir 2>&1 | filecheck %s --check-prefix=MISSING
// RUN: not pim-opt %s -t no-such-target 2>&1 | filecheck %s --check-prefix=TARGET
// RUN: not pim-opt %s -t llvm 2>&1 | filecheck %s --check-prefix=UPSTREAM-TARGET
// RUN: not pim-opt %s -p mlir-opt 2>&1 | filecheck %s --check-prefix=UPSTREAM-PASS
// RUN: not pim-opt %S 2>&1 | filecheck %s --check-prefix=FOLDER
// RUN: not pim-opt %s -o %S 2>&1 | filecheck %s --check-prefix=OUT-FOLDER
// RUN: not pim-run %S/Inputs/bad-conv.mlir 2>&1 | filecheck %s --check-prefix=RUN-VERIFY

func.func @main(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  func.return %x : tensor<1x4xf32>
}

// FLAG:      pim-opt: error: unknown option or pass '--no-such-pass'.
// FLAG-NOT:  Traceback
// PASS:      pim-opt: error: unknown pass 'no-such-pass'.
// PASS-NOT:  Traceback
// OPTION:    pim-opt: error: bad pass options in 'cse{no-such-option=1}':
// OPTION-NOT: Traceback
// PIPELINE:  pim-opt: error: bad pass pipeline 'cse{':
// PIPELINE-NOT: Traceback
// CHIP:      pim-opt: error: unknown chip preset 'compass-xl'. Use one of compass-l, compass-m, compass-s, pimcomp-default
// CHIP-NOT:  Traceback
// BATCH:     pim-opt: error: --batch must be a positive integer, got 0.
// OVERWRITE: pim-opt: error: refusing to overwrite the input file '{{.*}}errors.mlir' with -o
// VERIFY:    pim-opt: error: {{.*}}bad-conv.mlir:4: invalid IR: 'nn.conv2d': input has 3 channels but weight expects 2 x 1 groups = 2
// VERIFY-NOT: Traceback
// PARSE:     pim-opt: error: parse error: {{.*}}parse-error.mlir:3:
// PARSE:     Operation nn.bogus is not registered
// PARSE-NOT: Traceback
// MISSING:   pim-opt: error: input file '{{.*}}does-not-exist.mlir' does not exist.
// TARGET:    argument -t/--target: invalid choice: 'no-such-target'
// UPSTREAM-TARGET: argument -t/--target: invalid choice: 'llvm' (choose from mlir, summary
// UPSTREAM-PASS: pim-opt: error: the xDSL pass 'mlir-opt' failed on this IR
// UPSTREAM-PASS-NOT: Traceback
// FOLDER:    pim-opt: error: input '{{.*}}tools' is a folder; give an .mlir or .onnx file.
// OUT-FOLDER: pim-opt: error: -o '{{.*}}tools' is a folder; give a file name
// RUN-VERIFY: pim-run: error: {{.*}}bad-conv.mlir:4: invalid IR: 'nn.conv2d': input has 3 channels
// RUN-VERIFY-NOT: Traceback
