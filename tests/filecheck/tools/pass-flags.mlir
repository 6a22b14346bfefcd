// Passes as flags run in command-line order, mixed with -p pieces, options in the xDSL way.
// RUN: pim-opt %s --cse --dce | filecheck %s
// RUN: pim-opt %s -p cse,dce | filecheck %s
// RUN: pim-opt %s -p cse --dce | filecheck %s
// RUN: pim-opt %s --cse --dce --print-ir-after-all 2>&1 >/dev/null | filecheck %s --check-prefix=ORDER
// RUN: pim-opt %s --dce --cse --print-ir-after-all 2>&1 >/dev/null | filecheck %s --check-prefix=REVERSED
// RUN: pim-opt %s --arith-add-fastmath='flags=fast' --cse --no-verify-each | filecheck %s
// RUN: pim-opt %s --arith-add-fastmath={flags=fast} | filecheck %s --check-prefix=NOOP

func.func @main(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %a = nn.relu %x : tensor<1x4xf32> -> tensor<1x4xf32>
  %b = nn.relu %x : tensor<1x4xf32> -> tensor<1x4xf32>
  %unused = nn.sigmoid %x : tensor<1x4xf32> -> tensor<1x4xf32>
  %y = nn.add %a, %b : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
  func.return %y : tensor<1x4xf32>
}

// cse merges the two relus, dce drops the unused sigmoid.
// CHECK:      func.func @main(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
// CHECK-NEXT:   %a = nn.relu %x : tensor<1x4xf32> -> tensor<1x4xf32>
// CHECK-NEXT:   %y = nn.add %a, %a : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<1x4xf32>
// CHECK-NEXT:   func.return %y : tensor<1x4xf32>
// CHECK-NEXT: }

// ORDER:      IR Dump After cse
// ORDER:      IR Dump After dce
// REVERSED:   IR Dump After dce
// REVERSED:   IR Dump After cse

// NOOP:       %b = nn.relu %x
