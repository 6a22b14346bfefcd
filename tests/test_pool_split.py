"""A pool of a convolution's map runs on the cores that stored it (crossbar-to-isa's
`_pool_rows`; the cost model's side is `pimdsl.network.VectorStep.split`).

Oracles: the rows, instruction counts and tokens of a two-core program derived by hand; numpy
for the values.
"""

from __future__ import annotations

import math

import numpy as np
from test_units import NetBuilder
from xdsl.context import Context
from xdsl.dialects.builtin import IntegerAttr, ModuleOp, i64

from pimdsl.chip import load_chip
from pimdsl.dialects import nn, partition
from pimdsl.dialects import pim_isa as isa
from pimdsl.module_attrs import set_batch, set_chip, set_weights
from pimdsl.network import extract_network
from pimdsl.sim.isa_interp import iter_instructions, run_program
from pimdsl.weights import WeightStore, write_npz

TWO_CORES = load_chip("compass-s").replace(name="two-cores", cores=2, crossbars_per_core=1)


def _conv_pool() -> ModuleOp:
    """conv 16 -> 16, 3x3, padding 1, on an 8x8 map, then a 3x3 stride-2 max pool, padding 1."""
    b = NetBuilder((1, 16, 8, 8))
    c = b.conv(b.x, 16, 3)
    pool = nn.MaxPoolOp(
        c, kernel=(3, 3), strides=(2, 2), pads=(1, 1, 1, 1), result_shape=(1, 16, 4, 4)
    )
    return b.module(b.add(pool))


def _lowered(module: ModuleOp, batch: int) -> ModuleOp:
    """Partitioned and lowered with the conv's two replicas on the two cores (set by hand)."""
    from pimdsl.passes.lower_to_isa import LowerToIsaPass
    from pimdsl.passes.partition import PartitionPass

    set_chip(module, TWO_CORES)
    set_batch(module, batch)
    PartitionPass().apply(Context(), module)
    (part,) = [op for op in module.walk() if isinstance(op, partition.PartitionOp)]
    part.replication = isa.i64_array([2])
    part.crossbars = IntegerAttr(2, i64)
    part.core_crossbars = isa.i64_array([1, 1])
    LowerToIsaPass().apply(Context(), module)
    module.verify()
    return module


def _counts(module: ModuleOp) -> dict[int, dict[str, int]]:
    program = isa.find_program(module)
    assert program is not None
    out: dict[int, dict[str, int]] = {}
    for part in program.partitions():
        for core in part.cores():
            counts = out.setdefault(core.number, {})
            for op, loops in iter_instructions(core.body.block):
                key = op.name + (
                    "/token" if isinstance(op, isa.RecvOp) and op.tag.value.data < 0 else ""
                )
                counts[key] = counts.get(key, 0) + math.prod(loops)
    return out


def test_pool_runs_on_the_cores_that_stored_its_rows() -> None:
    """Windows 0-31 (conv rows 0-3) on core 0, 32-63 (rows 4-7) on core 1. Pool row oy is
    centred on conv row 2 oy: rows 0 and 1 (centres 0, 2) on core 0, rows 2 and 3 (centres 4,
    6) on core 1: 2 rows x 4 columns = 8 vpools each. Core 0's windows read conv rows -1..3
    (its own); core 1's read rows 3..7, row 3 from core 0: one token per image from core 0 to
    core 1 for the pool, none the other way. (The relayouts of the network's input and output
    run on core 0, the least loaded on a tie: core 1 waits for the input's, core 0 for core 1's
    pooled rows before the output's.)"""
    batch = 2
    counts = _counts(_lowered(_conv_pool(), batch))
    assert counts[0]["pim_isa.vpool"] == 8 * batch
    assert counts[1]["pim_isa.vpool"] == 8 * batch
    # core 1's tokens: the network input's relayout (on core 0) and the pool's rows of core 0
    assert counts[1]["pim_isa.recv/token"] == 2 * batch
    assert counts[0]["pim_isa.recv/token"] == 1 * batch


def test_pool_split_matches_numpy(tmp_path) -> None:
    """The two-core program's values: conv + bias + relu, then the 3x3 stride-2 max pool with
    padding 1, in numpy."""
    rng = np.random.default_rng(3)
    w = {
        "conv1.weight": rng.standard_normal((16, 16, 3, 3)).astype(np.float32),
        "conv1.bias": rng.standard_normal(16).astype(np.float32),
    }
    write_npz(tmp_path / "w.npz", w)
    module = _conv_pool()
    assert extract_network(module).layers[0].vector.steps[0].split
    set_weights(module, str(tmp_path / "w.npz"))
    batch = 2
    module = _lowered(module, batch)
    x = rng.standard_normal((batch, 16, 8, 8)).astype(np.float32)
    out, _ = run_program(module, {"input": x}, weights=WeightStore(tmp_path / "w.npz"))
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    conv = np.einsum(
        "ocij,nchwij->nohw",
        w["conv1.weight"],
        np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(2, 3)),
    )
    act = np.maximum(conv + w["conv1.bias"][None, :, None, None], 0)
    ap = np.pad(act, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    want = np.lib.stride_tricks.sliding_window_view(ap, (3, 3), axis=(2, 3))[:, :, ::2, ::2].max(
        axis=(4, 5)
    )
    got = next(iter(out.values())).reshape(want.shape)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
