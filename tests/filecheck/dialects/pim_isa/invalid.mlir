// Every verifier message of the pim_isa dialect (dialects/pim_isa.py), one case per chunk,
// on compass-s (16 cores x 9 crossbars of 256x256, 4-bit weights on 1-bit cells, 64 kB local memory).
// RUN: pim-opt %s --chip compass-s --split-input-file --verify-diagnostics --parsing-diagnostics | filecheck %s

// --- pim_isa.program ---

pim_isa.program elem_bytes 0 {
  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.vrelu {dst = array<i64: 0>, src = array<i64: 0>, len = 8 : i64}
    }
  }
}
// CHECK: 'pim_isa.program': elem_bytes must be >= 1, got 0

// -----

pim_isa.program elem_bytes 2 {
  pim_isa.buffer "x" {role = #pim_isa.role<temp>, shape = array<i64: 4>}
  pim_isa.buffer "x" {role = #pim_isa.role<temp>, shape = array<i64: 4>}
}
// CHECK: 'pim_isa.program': buffer 'x' is declared twice

// -----

pim_isa.program elem_bytes 2 {
  "test.op"() : () -> ()
}
// CHECK: 'pim_isa.program': may only hold pim_isa.buffer and pim_isa.partition, found 'test.op'

// -----

pim_isa.program elem_bytes 2 {
  pim_isa.partition 1 {
    pim_isa.core 0 {
      pim_isa.vrelu {dst = array<i64: 0>, src = array<i64: 0>, len = 8 : i64}
    }
  }
}
// CHECK: 'pim_isa.program': partitions must be numbered 0, 1, 2, ... in order, got [1]

// -----
// --- pim_isa.buffer ---

pim_isa.program elem_bytes 2 {
  pim_isa.buffer "x" {role = #pim_isa.role<scratch>, shape = array<i64: 4>}
}
// CHECK: unknown pim_isa.role 'scratch': expected one of input, output, temp

// -----

pim_isa.program elem_bytes 2 {
  pim_isa.buffer "x" {role = #pim_isa.role<temp>, shape = array<i64: 4, 0>}
}
// CHECK: 'pim_isa.buffer': shape dimensions must be >= 1, got [4, 0]

// -----
// --- structure ---

pim_isa.core 0 {
      pim_isa.vrelu {dst = array<i64: 0>, src = array<i64: 0>, len = 8 : i64}
}
// CHECK: 'pim_isa.core' expects parent op 'pim_isa.partition'

// -----

pim_isa.vrelu {dst = array<i64: 0>, src = array<i64: 0>, len = 8 : i64}
// CHECK: 'pim_isa.vrelu' expects ancestor op 'pim_isa.core'

// -----
// --- pim_isa.loop ---

pim_isa.program elem_bytes 2 {
  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.loop 0 {
        pim_isa.vrelu {dst = array<i64: 0>, src = array<i64: 0>, len = 8 : i64}
      }
    }
  }
}
// CHECK: 'pim_isa.loop': loop count must be >= 1, got 0

// -----
// --- instructions ---

pim_isa.program elem_bytes 2 {
  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.vrelu {dst = array<i64>, src = array<i64: 0>, len = 8 : i64}
    }
  }
}
// CHECK: 'pim_isa.vrelu': address 'dst' needs at least a base value

// -----

pim_isa.program elem_bytes 2 {
  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.vrelu {dst = array<i64: 0>, src = array<i64: 0>, len = 0 : i64}
    }
  }
}
// CHECK: 'pim_isa.vrelu': len must be >= 1, got 0

// -----

pim_isa.program elem_bytes 2 {
  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.ld_weight {weight = "w", layout = #pim_isa.layout<nchw>, rows = array<i64: 0, 4>, cols = array<i64: 0, 4>, dst = array<i64: 0>}
    }
  }
}
// CHECK: unknown pim_isa.layout 'nchw': expected one of oihw, ohwi, oi, io

// -----

pim_isa.program elem_bytes 2 {
  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.ld_weight {weight = "w", layout = #pim_isa.layout<oi>, rows = array<i64: 4, 4>, cols = array<i64: 0, 4>, dst = array<i64: 0>}
    }
  }
}
// CHECK: 'pim_isa.ld_weight': 'rows' must be [lo, hi) with 0 <= lo < hi, got [4, 4]

// -----

pim_isa.program elem_bytes 2 {
  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.wr_xbar {xbar = 0 : i64, src = array<i64: 0>, rows = 0 : i64, cols = 4 : i64}
    }
  }
}
// CHECK: 'pim_isa.wr_xbar': rows and cols must be >= 1 and xbar >= 0

// -----

pim_isa.program elem_bytes 2 {
  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.mvm {xbar = 0 : i64, src = array<i64: 0>, rows = 4 : i64, dst = array<i64: 64>, cols = 4 : i64, bits = 0 : i64}
    }
  }
}
// CHECK: 'pim_isa.mvm': rows, cols and bits must be >= 1 and xbar >= 0

// -----

pim_isa.program elem_bytes 2 {
  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.vclip {dst = array<i64: 0>, src = array<i64: 0>, len = 8 : i64, min = 6.0 : f64, max = 0.0 : f64}
    }
  }
}
// CHECK: 'pim_isa.vclip': min (6.0) must be <= max (0.0)

// -----

pim_isa.program elem_bytes 2 {
  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.vreduce {kind = #pim_isa.reduce_kind<mean>, dst = array<i64: 0>, src = array<i64: 0>, len = 8 : i64}
    }
  }
}
// CHECK: unknown pim_isa.reduce_kind 'mean': expected one of sum, max

// -----

pim_isa.program elem_bytes 2 {
  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.vpool {kind = #pim_isa.pool_kind<min>, dst = array<i64: 0>, src = array<i64: 64>, len = 8 : i64, count = 4 : i64, step = 8 : i64}
    }
  }
}
// CHECK: unknown pim_isa.pool_kind 'min': expected one of max, avg, sum

// -----

pim_isa.program elem_bytes 2 {
  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.vpool {kind = #pim_isa.pool_kind<max>, dst = array<i64: 0>, src = array<i64: 64>, len = 8 : i64, count = 0 : i64, step = 8 : i64}
    }
  }
}
// CHECK: 'pim_isa.vpool': count must be >= 1 and step >= 0

// -----

pim_isa.program elem_bytes 2 {
  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.barrier {cores = array<i64: 0, 0>}
    }
  }
}
// CHECK: 'pim_isa.barrier': cores must list at least two distinct cores, got [0, 0]

// -----
// --- pim_isa.partition: cores ---

pim_isa.program elem_bytes 2 {
  pim_isa.partition 0 {
    pim_isa.core 16 {
      pim_isa.vrelu {dst = array<i64: 0>, src = array<i64: 0>, len = 8 : i64}
    }
  }
}
// CHECK: 'pim_isa.core' on partition 0: core id 16 is out of range (0..15)

// -----

pim_isa.program elem_bytes 2 {
  pim_isa.partition 0 {
    pim_isa.core 2 {
      pim_isa.vrelu {dst = array<i64: 0>, src = array<i64: 0>, len = 8 : i64}
    }
    pim_isa.core 2 {
      pim_isa.vrelu {dst = array<i64: 0>, src = array<i64: 0>, len = 8 : i64}
    }
  }
}
// CHECK: 'pim_isa.partition' on partition 0: core 2 has two programs

// -----
// --- pim_isa.partition: messages ---

pim_isa.program elem_bytes 2 {
  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.send {peer = 3 : i64, src = array<i64: 0>, len = 8 : i64, tag = 0 : i64}
    }
  }
}
// CHECK: 'pim_isa.send' on core 0 of partition 0: peer core 3 is not another core of this partition

// -----

pim_isa.program elem_bytes 2 {
  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.send {peer = 1 : i64, src = array<i64: 0>, len = 8 : i64, tag = 3 : i64}
    }
    pim_isa.core 1 {
      pim_isa.vrelu {dst = array<i64: 0>, src = array<i64: 0>, len = 8 : i64}
    }
  }
}
// CHECK: 'pim_isa.partition' on partition 0: 1 send(s) from core 0 to core 1 (tag 3, len 8) but 0 matching recv(s) on core 1

// -----

pim_isa.program elem_bytes 2 {
  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.send {peer = 1 : i64, src = array<i64: 0>, len = 8 : i64, tag = 3 : i64}
    }
    pim_isa.core 1 {
      pim_isa.recv {peer = 0 : i64, dst = array<i64: 0>, len = 8 : i64, tag = 4 : i64}
    }
  }
}
// CHECK: 'pim_isa.partition' on partition 0: 1 send(s) from core 0 to core 1 (tag 3, len 8) but 0 matching recv(s) on core 1

// -----

pim_isa.program elem_bytes 2 {
  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.loop 4 {
        pim_isa.send {peer = 1 : i64, src = array<i64: 0>, len = 8 : i64, tag = 3 : i64}
      }
    }
    pim_isa.core 1 {
      pim_isa.recv {peer = 0 : i64, dst = array<i64: 0>, len = 8 : i64, tag = 3 : i64}
    }
  }
}
// CHECK: 'pim_isa.partition' on partition 0: 4 send(s) from core 0 to core 1 (tag 3, len 8) but 1 matching recv(s) on core 1

// -----

pim_isa.program elem_bytes 2 {
  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.barrier {cores = array<i64: 1, 2>}
    }
    pim_isa.core 1 {
      pim_isa.vrelu {dst = array<i64: 0>, src = array<i64: 0>, len = 8 : i64}
    }
  }
}
// CHECK: 'pim_isa.barrier' on core 0 of partition 0: core 0 waits at a barrier of cores [1, 2] that excludes it

// -----

pim_isa.program elem_bytes 2 {
  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.barrier {cores = array<i64: 0, 1>}
    }
    pim_isa.core 1 {
      pim_isa.loop 2 {
        pim_isa.barrier {cores = array<i64: 0, 1>}
      }
    }
  }
}
// CHECK: 'pim_isa.partition' on partition 0: barrier of cores [0, 1] is reached unequally often (core 0: 1, core 1: 2)

// -----
// --- pim_isa.partition: addresses ---

pim_isa.program elem_bytes 2 {
  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.loop 4 {
        pim_isa.vrelu {dst = array<i64: 0, 16, 16>, src = array<i64: 0>, len = 8 : i64}
      }
    }
  }
}
// CHECK: 'pim_isa.vrelu' on core 0 of partition 0: address 'dst' has 2 stride(s) but the instruction is inside 1 loop(s); give [base] or [base, one stride per loop]

// -----

pim_isa.program elem_bytes 2 {
  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.loop 4 {
        pim_isa.vrelu {dst = array<i64: 32, -16>, src = array<i64: 0>, len = 8 : i64}
      }
    }
  }
}
// CHECK: 'pim_isa.vrelu' on core 0 of partition 0: address 'dst' reaches -16, below 0

// -----

pim_isa.program elem_bytes 2 {
  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.vrelu {dst = array<i64: 3>, src = array<i64: 0>, len = 8 : i64}
    }
  }
}
// CHECK: 'pim_isa.vrelu' on core 0 of partition 0: address 'dst' [3] is not aligned to elem_bytes 2

// -----

pim_isa.program elem_bytes 2 {
  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.loop 65 {
        pim_isa.vrelu {dst = array<i64: 0, 1024>, src = array<i64: 0>, len = 8 : i64}
      }
    }
  }
}
// CHECK: 'pim_isa.vrelu' on core 0 of partition 0: local memory range [65536, 65552) of 'dst' exceeds local_memory_bytes 65536 of chip 'compass-s'

// -----

pim_isa.program elem_bytes 2 {
  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.ld_weight {weight = "w", layout = #pim_isa.layout<oi>, rows = array<i64: 0, 256>, cols = array<i64: 0, 64>, dst = array<i64: 60000>}
    }
  }
}
// CHECK: 'pim_isa.ld_weight' on core 0 of partition 0: local memory range [60000, 68192) of 'dst' exceeds local_memory_bytes 65536 of chip 'compass-s'

// -----

pim_isa.program elem_bytes 2 {
  pim_isa.buffer "x" {role = #pim_isa.role<input>, shape = array<i64: 1, 100>}
  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.loop 10 {
        pim_isa.load {buffer = "x", offset = array<i64: 0, 10>, dst = array<i64: 0, 0>, len = 11 : i64}
      }
    }
  }
}
// CHECK: 'pim_isa.load' on core 0 of partition 0: DRAM elements [0, 101) are outside buffer 'x' of 100 elements

// -----
// --- pim_isa.partition: crossbars ---

pim_isa.program elem_bytes 2 {
  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.wr_xbar {xbar = 9 : i64, src = array<i64: 0>, rows = 4 : i64, cols = 4 : i64}
    }
  }
}
// CHECK: 'pim_isa.wr_xbar' on core 0 of partition 0: crossbar 9 is out of range (0..8)

// -----

pim_isa.program elem_bytes 2 {
  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.mvm {xbar = 0 : i64, src = array<i64: 0>, rows = 257 : i64, dst = array<i64: 1024>, cols = 4 : i64, bits = 4 : i64}
    }
  }
}
// CHECK: 'pim_isa.mvm' on core 0 of partition 0: block of 257 rows x 4 weights does not fit a 256x256 crossbar (4 column(s) per weight)

// -----

pim_isa.program elem_bytes 2 {
  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.wr_xbar {xbar = 0 : i64, src = array<i64: 0>, rows = 256 : i64, cols = 65 : i64}
    }
  }
}
// CHECK: 'pim_isa.wr_xbar' on core 0 of partition 0: block of 256 rows x 65 weights does not fit a 256x256 crossbar (4 column(s) per weight)
