"""The step code generators' public names, in one place for callers outside `pimdsl.isa`
(tests, benchmarks). The code lives by family: `emit.py` (the per-partition emission context,
local memory), `emit_weight.py` and `weight_inputs.py` (weight layers, line buffers, shared
bands), `emit_pool.py`, `emit_elementwise.py`, `emit_layout.py`.

The weight-layer emitter (`lower_weight.py`) reads `shared_bands` from here when it runs, so
a caller may swap the band-sharing rule (tests/test_shared_bands.py compares a program
without it)."""

from __future__ import annotations

from pimdsl.isa.emit import Arena, Emit, Unary
from pimdsl.isa.emit_elementwise import batch_norm, elementwise, lrn, per_channel, softmax_rows
from pimdsl.isa.emit_layout import (
    channel_shuffle,
    channel_slice,
    chw_to_nhwc,
    concat_channels,
    nhwc_to_chw,
    zero_pad,
)
from pimdsl.isa.emit_pool import Pool, global_avgpool, pool
from pimdsl.isa.emit_weight import WeightLayer, weight_layer
from pimdsl.isa.weight_inputs import BandShare, InputPlan, merge_ranges, shared_bands

__all__ = [
    "Arena",
    "BandShare",
    "Emit",
    "InputPlan",
    "Pool",
    "Unary",
    "WeightLayer",
    "batch_norm",
    "channel_shuffle",
    "channel_slice",
    "chw_to_nhwc",
    "concat_channels",
    "elementwise",
    "global_avgpool",
    "lrn",
    "merge_ranges",
    "nhwc_to_chw",
    "per_channel",
    "pool",
    "shared_bands",
    "softmax_rows",
    "weight_layer",
    "zero_pad",
]
