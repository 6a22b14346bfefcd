// The partition pass's strategies on the MLP of pim-units.mlir (units [2, 2, 2, 2, 1]
// crossbars, validity [2, 3, 4, 5, 5]) with an inline chip.
// greedy packs as many units as fit: [0, 2) [2, 4) [4, 5): fc1 is cut between its column slices.
// RUN: pim-opt %s --partition | filecheck %s --check-prefix=GREEDY
// layerwise: one layer per partition; fc1 does not fit and takes two.
// RUN: pim-opt %s --partition='strategy=layerwise' | filecheck %s --check-prefix=LAYER
// optimal: the exact minimum latency; never slower than the others (checked in pytest).
// RUN: pim-opt %s --partition='strategy=optimal' | filecheck %s --check-prefix=OPT
// The report's JSON.
// RUN: pim-opt %s --partition --report %t.json -o /dev/null && filecheck %s --check-prefix=JSON < %t.json

builtin.module attributes {pim.chip = {name = "tiny", cores = 2 : i64, crossbars_per_core = 2 : i64, crossbar_rows = 16 : i64, crossbar_cols = 16 : i64, cell_bits = 1 : i64, weight_bits = 4 : i64, act_bits = 4 : i64, dac_bits = 1 : i64, adc_bits = 8 : i64, local_memory_bytes = 65536 : i64, clock_hz = 1.0e+09 : f64, mvm_read_ns = 200.0 : f64, mvm_per_bit_ns = 200.0 : f64, mvm_adc_ns = 200.0 : f64, mvm_shift_add_ns = 200.0 : f64, mvm_write_ns = 200.0 : f64, mvm_interval_ns = 200.0 : f64, vector_bytes = 64 : i64, vector_latency_ns = 10.0 : f64, local_memory_bandwidth = 2.56e+10 : f64, bus_bandwidth = 2.56e+10 : f64, dram_bandwidth = 1.28e+10 : f64, dram_latency_ns = 100.0 : f64, crossbar_write_ns_per_row = 1.0 : f64, crossbar_read_pj = 10.0 : f64, adc_pj = 1.0 : f64, shift_add_pj = 0.05 : f64, crossbar_write_pj_per_bit = 0.1 : f64, dram_pj_per_byte = 40.0 : f64, bus_pj_per_byte = 1.0 : f64, local_memory_pj_per_byte = 0.5 : f64, vector_pj_per_op = 5.0 : f64, vector_power_mw = 22.8 : f64, local_memory_power_mw = 18.0 : f64, control_power_mw = 8.0 : f64, description = "2 cores x 2 crossbars of 16x16"}, pim.batch = 2 : i64} {
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

// GREEDY:      pim.n_units = 5 : i64, pim.strategy = "greedy", pim.objective = "latency"
// GREEDY:      %[[P0:.*]] = partition.partition 0(%x) {span = array<i64: 0, 2>, layers = ["fc1.weight"], replication = array<i64: 1>, crossbars = 4 : i64, core_crossbars = array<i64: 2, 2>
// GREEDY-NEXT: ^{{.*}}(%[[A:.*]]: tensor<1x48xf32>):
// GREEDY-NEXT:   %[[X:.*]] = partition.load %[[A]] : tensor<1x48xf32>
// GREEDY-NEXT:   %[[W:.*]] = nn.weight "fc1.weight"
// GREEDY-NEXT:   %[[M:.*]] = partition.unit_weights %[[W]] {units = array<i64: 0, 2>, boxes = array<i64: 0, 4, 0, 48>, out_axis = 0 : i64}
// GREEDY-NEXT:   %[[H:.*]] = nn.linear %[[X]], %[[M]] {pim.piece = array<i64: 0, 2>, pim.units = array<i64: 0, 4>}
// GREEDY-NEXT:   %[[S:.*]] = partition.store %[[H]] : tensor<1x8xf32>
// GREEDY-NEXT:   partition.yield %[[S]]
// GREEDY:      %[[P1:.*]] = partition.partition 1(%x, %[[P0]]) {span = array<i64: 2, 4>
// GREEDY:        partition.unit_weights {{.*}} {units = array<i64: 2, 4>, boxes = array<i64: 4, 8, 0, 48>
// GREEDY:        nn.linear {{.*}} {pim.piece = array<i64: 2, 4>, pim.units = array<i64: 0, 4>}
// GREEDY:        nn.add {{.*}} {pim.accumulate = array<i64: 0, 4>}
// GREEDY:        nn.relu
// GREEDY:      partition.partition 2(%[[P1]]) {span = array<i64: 4, 5>, layers = ["fc2.weight"]
// GREEDY:      func.return

// LAYER:       pim.strategy = "layerwise"
// LAYER:       span = array<i64: 0, 2>
// LAYER:       span = array<i64: 2, 4>
// LAYER:       span = array<i64: 4, 5>

// OPT:         pim.strategy = "optimal"
// OPT-COUNT-3: partition.partition

// JSON:      "chip": "tiny",
// JSON-NEXT: "batch": 2,
// JSON-NEXT: "strategy": "greedy",
// JSON-NEXT: "objective": "latency",
// JSON-NEXT: "partitions": [
// JSON:      "span": [
// JSON-NEXT:   0,
// JSON-NEXT:   2
// JSON:      "totals": {
// JSON-NEXT: "latency_s":
// JSON-NEXT: "throughput_ips":
// JSON-NEXT: "energy_j":
// JSON-NEXT: "edp":
