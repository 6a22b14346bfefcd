"""Lowering `crossbar` IR to `pim_isa` programs (the `crossbar-to-isa` pass, docs/lowering.md).

- `builder.py`: per-core instruction lists with counted loops and affine addresses;
- `placement.py`: where each activation lives in DRAM (padded NHWC for feature maps);
- `linear.py`: a partition's crossbar ops (mvm, accumulate, concat, bias) as output blocks;
- `steps.py`: a partition as an ordered list of steps (weight layers, vector ops, copies);
- `codegen.py`: the instructions of each step on each core;
- `lower.py`: the whole module: buffers, partitions, `pim_isa.execute` in @main.
"""
