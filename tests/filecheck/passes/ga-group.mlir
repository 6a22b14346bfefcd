// ga-group on a 3-layer MLP (one unit per layer) with a fixed seed, on three chips whose optimum
// is derived by hand:
// - compass-s holds all 3 units. At batch 1 each linear layer does one MVM, so replication cannot
//   speed anything up, and every cut adds a DRAM store + load of the boundary activations and a
//   second weight-write phase: the optimum is one partition [0, 3).
// - 1 core x 1 crossbar holds one unit: the only legal group is [0,1), [1,2), [2,3).
// - 1 core x 2 crossbars holds two units: a legal group has 2 or 3 partitions, and by the
//   argument above 2 are better.
// RUN: pim-opt %s --chip compass-s --batch 1 --ga-group='seed=7' | filecheck %s --check-prefix=FIT
// RUN: pim-opt %s --chip compass-s --batch 1 --ga-group='objective=edp seed=7 trace="%t.json"' | filecheck %s --check-prefix=FIT
// RUN: filecheck %s --check-prefix=TRACE < %t.json
// RUN: echo 'base = "compass-s"' > %t1.toml && echo 'cores = 1' >> %t1.toml && echo 'crossbars_per_core = 1' >> %t1.toml
// RUN: pim-opt %s --chip %t1.toml --batch 1 --ga-group='seed=7' | filecheck %s --check-prefix=ONE
// RUN: echo 'base = "compass-s"' > %t2.toml && echo 'cores = 1' >> %t2.toml && echo 'crossbars_per_core = 2' >> %t2.toml
// RUN: pim-opt %s --chip %t2.toml --batch 1 --ga-group='seed=7' | filecheck %s --check-prefix=TWO

func.func @main(%x: tensor<1x16xf32>) -> tensor<1x16xf32> {
  %w0 = nn.weight "fc0.weight" : tensor<16x16xf32>
  %w1 = nn.weight "fc1.weight" : tensor<16x16xf32>
  %w2 = nn.weight "fc2.weight" : tensor<16x16xf32>
  %a = nn.linear %x, %w0 : (tensor<1x16xf32>, tensor<16x16xf32>) -> tensor<1x16xf32>
  %r = nn.relu %a : tensor<1x16xf32> -> tensor<1x16xf32>
  %b = nn.linear %r, %w1 : (tensor<1x16xf32>, tensor<16x16xf32>) -> tensor<1x16xf32>
  %s = nn.relu %b : tensor<1x16xf32> -> tensor<1x16xf32>
  %c = nn.linear %s, %w2 : (tensor<1x16xf32>, tensor<16x16xf32>) -> tensor<1x16xf32>
  func.return %c : tensor<1x16xf32>
}

// FIT:      pim.n_units = 3 : i64, pim.strategy = "ga"
// FIT:      partition.partition 0(%x) {span = array<i64: 0, 3>
// FIT-NOT:  partition.partition 1

// TRACE:      "best_bounds": [
// TRACE-NEXT:   0,
// TRACE-NEXT:   3
// TRACE-NEXT: ],
// TRACE:      "trace": [
// TRACE:      "generation": 0,

// ONE:      partition.partition 0(%x) {span = array<i64: 0, 1>
// ONE:      partition.partition 1({{.*}}) {span = array<i64: 1, 2>
// ONE:      partition.partition 2({{.*}}) {span = array<i64: 2, 3>

// TWO:      partition.partition 0
// TWO:      partition.partition 1
// TWO-NOT:  partition.partition 2
