// An unknown op (used by ../errors.mlir).
func.func @main(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %y = nn.bogus %x : tensor<1x4xf32>
  func.return %y : tensor<1x4xf32>
}
