// -t pim-asm and -t pim-json on a small hand-written program: two cores, a counted loop with
// address strides, a send/recv pair and a barrier (the JSON schema is docs/pim-json.md).
// RUN: pim-opt %s --chip compass-s -t pim-asm | filecheck %s --check-prefix=ASM
// RUN: pim-opt %s --chip compass-s -t pim-json | filecheck %s --check-prefix=JSON
// RUN: pim-opt %s -t pim-json | filecheck %s --check-prefix=NOCHIP

pim_isa.program elem_bytes 2 {
  pim_isa.buffer "x" {role = #pim_isa.role<input>, shape = array<i64: 4, 16>}
  pim_isa.buffer "y" {role = #pim_isa.role<output>, shape = array<i64: 4, 8>}
  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.ld_weight {weight = "fc.weight", layout = #pim_isa.layout<oi>, rows = array<i64: 0, 16>, cols = array<i64: 0, 8>, dst = array<i64: 0>}
      pim_isa.wr_xbar {xbar = 0 : i64, src = array<i64: 0>, rows = 16 : i64, cols = 8 : i64}
      pim_isa.loop 4 {
        pim_isa.load {buffer = "x", offset = array<i64: 0, 16>, dst = array<i64: 1024>, len = 16 : i64}
        pim_isa.mvm {xbar = 0 : i64, src = array<i64: 1024>, rows = 16 : i64, dst = array<i64: 2048, 16>, cols = 8 : i64, bits = 4 : i64}
      }
      pim_isa.send {peer = 1 : i64, src = array<i64: 2048>, len = 32 : i64, tag = 0 : i64}
      pim_isa.barrier {cores = array<i64: 0, 1>}
    }
    pim_isa.core 1 {
      pim_isa.recv {peer = 0 : i64, dst = array<i64: 0>, len = 32 : i64, tag = 0 : i64}
      pim_isa.vrelu {dst = array<i64: 0>, src = array<i64: 0>, len = 32 : i64}
      pim_isa.store {src = array<i64: 0>, buffer = "y", offset = array<i64: 0>, len = 32 : i64}
      pim_isa.barrier {cores = array<i64: 0, 1>}
    }
  }
}

// ASM:      ; pim-asm (pimdsl): local addresses in bytes (@), lengths in elements
// ASM-NEXT: ; chip compass-s: 16 cores x 9 crossbars of 256x256, 65536 B local memory
// ASM-NEXT: ; batch 1, elem_bytes 2
// ASM-NEXT: .buffer x input 4x16
// ASM-NEXT: .buffer y output 4x8
// ASM-EMPTY:
// ASM-NEXT: ; ==== partition 0: cores 0, 1 ====
// ASM-NEXT: .partition 0
// ASM-NEXT: .core 0
// ASM-NEXT:     ld_weight  weight=fc.weight layout=oi rows=0:16 cols=0:8 dst=@0
// ASM-NEXT:     wr_xbar    xbar=0 src=@0 rows=16 cols=8
// ASM-NEXT:     loop 4 i0 {
// ASM-NEXT:         load       buffer=x offset=0+16*i0 dst=@1024 len=16
// ASM-NEXT:         mvm        xbar=0 src=@1024 rows=16 dst=@2048+16*i0 cols=8 bits=4
// ASM-NEXT:     }
// ASM-NEXT:     send       peer=1 src=@2048 len=32 tag=0
// ASM-NEXT:     barrier    cores=0,1
// ASM-NEXT: .core 1
// ASM-NEXT:     recv       peer=0 dst=@0 len=32 tag=0
// ASM-NEXT:     vrelu      dst=@0 src=@0 len=32
// ASM-NEXT:     store      src=@0 buffer=y offset=0 len=32
// ASM-NEXT:     barrier    cores=0,1
// ASM-NEXT: ; ==== end of partition 0 ====

// JSON:      "format": "pim-json",
// JSON-NEXT: "version": 1,
// JSON-NEXT: "chip": {
// JSON-NEXT:   "name": "compass-s",
// JSON:      "batch": 1,
// JSON-NEXT: "elem_bytes": 2,
// JSON-NEXT: "buffers": [
// JSON-NEXT:   {"name": "x", "role": "input", "shape": [4, 16]},
// JSON-NEXT:   {"name": "y", "role": "output", "shape": [4, 8]}
// JSON:          "id": 0,
// JSON-NEXT:     "instructions": [
// JSON-NEXT:       {"op": "ld_weight", "weight": "fc.weight", "layout": "oi", "rows": [0, 16], "cols": [0, 8], "dst": {"base": 0, "strides": []}},
// JSON-NEXT:       {"op": "wr_xbar", "xbar": 0, "src": {"base": 0, "strides": []}, "rows": 16, "cols": 8},
// JSON-NEXT:       {
// JSON-NEXT:        "op": "loop",
// JSON-NEXT:        "count": 4,
// JSON-NEXT:        "body": [
// JSON-NEXT:         {"op": "load", "buffer": "x", "offset": {"base": 0, "strides": [16]}, "dst": {"base": 1024, "strides": [0]}, "len": 16},
// JSON-NEXT:         {"op": "mvm", "xbar": 0, "src": {"base": 1024, "strides": [0]}, "rows": 16, "dst": {"base": 2048, "strides": [16]}, "cols": 8, "bits": 4, "accumulate": false}
// JSON-NEXT:        ]
// JSON-NEXT:       },
// JSON-NEXT:       {"op": "send", "peer": 1, "src": {"base": 2048, "strides": []}, "len": 32, "tag": 0},
// JSON-NEXT:       {"op": "barrier", "cores": [0, 1]}

// NOCHIP: "chip": null,
