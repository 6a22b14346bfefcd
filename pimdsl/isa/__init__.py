"""Lowering `crossbar` IR to `pim_isa` programs (the `crossbar-to-isa` pass, docs/lowering.md).

- `lower.py`: the whole module: buffers, halos, partitions, `pim_isa.execute` in @main;
- `state.py`: one partition being lowered: values and places, tokens, image loops;
- `emitters.py`: the registry op class -> emitter; the emitters by family: `lower_weight.py`
  (crossbar ops -> a weight layer), `lower_pool.py`, `lower_elementwise.py`, `lower_layout.py`;
- the instructions of each step by family: `emit.py` (per-core code, local memory),
  `emit_weight.py` and `weight_inputs.py` (weight layers, line buffers, shared bands),
  `emit_pool.py`, `emit_elementwise.py`, `emit_layout.py`; `codegen.py` names them for callers
  outside the package;
- `linear.py`: a partition's crossbar ops (mvm, accumulate, concat, bias) as output blocks;
- `line_buffer.py`, `element.py`, `pipeline.py`: the line-buffer plan, the element and batch
  schedules; `builder.py`: per-core instruction lists with counted loops and affine addresses;
  `placement.py`: where each activation lives in DRAM (padded NHWC for feature maps).
"""
