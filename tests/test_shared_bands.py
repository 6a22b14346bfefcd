"""Shared bands (`pimdsl.isa.codegen.shared_bands`): cores of one window range that read the
same input channels (a layer's output channels split over cores) load each band once, from
the lowest of them, which sends it to the others. The program's DRAM and bus traffic against a
hand count and the cost model (`_InputLoads.at(shared=True)`), the values against numpy."""

from __future__ import annotations

import math

import numpy as np
from test_line_buffer import ONE_CORE, conv3x3_reference, elements_moved
from test_units import NetBuilder
from xdsl.context import Context

from pimdsl.cost.model import _InputLoads
from pimdsl.dialects import pim_isa as isa
from pimdsl.module_attrs import set_batch, set_chip, set_weights
from pimdsl.network import extract_network
from pimdsl.sim.isa_interp import iter_instructions, run_program
from pimdsl.units import plan_units
from pimdsl.weights import WeightStore, write_npz

# two cores of one crossbar each: a conv 16 -> 128 (144 rows, 128 x 4 columns of 4-bit weights)
# is two units of 64 output channels, one per core, both reading all 16 input channels
TWO_CORES = ONE_CORE.replace(name="two-cores", cores=2)


def _program(tmp_path):
    rng = np.random.default_rng(1)
    w = {
        "conv1.weight": rng.standard_normal((128, 16, 3, 3)).astype(np.float32),
        "conv1.bias": rng.standard_normal(128).astype(np.float32),
    }
    write_npz(tmp_path / "w.npz", w)
    b = NetBuilder((1, 16, 8, 8))
    module = b.module(b.conv(b.x, 128, 3))
    net = extract_network(module)
    units = plan_units(net, TWO_CORES)
    loads = _InputLoads(net, units, TWO_CORES)
    set_chip(module, TWO_CORES)
    set_batch(module, 2)
    set_weights(module, str(tmp_path / "w.npz"))
    from pimdsl.passes.lower_to_isa import LowerToIsaPass
    from pimdsl.passes.partition import PartitionPass

    PartitionPass().apply(Context(), module)
    LowerToIsaPass().apply(Context(), module)
    return module, w, net, units, loads, rng


def _received(module) -> dict[int, int]:
    """Elements each core receives by data recv (positive tags), from the loops around them."""
    program = isa.find_program(module)
    assert program is not None
    out: dict[int, int] = {}
    for core in program.walk():
        if isinstance(core, isa.CoreOp):
            for op, loops in iter_instructions(core.body.block):
                if isinstance(op, isa.RecvOp) and op.tag.value.data > 0:
                    n = op.length.value.data * math.prod(loops)
                    out[core.number] = out.get(core.number, 0) + n
    return out


def test_a_band_read_by_two_cores_is_loaded_once(tmp_path) -> None:
    """By hand: 8x8 outputs of a 3x3 conv (pad 1) read 10 x 10 padded pixels x 16 channels =
    1600 elements per image, 2 images: 3200 loaded from DRAM by core 0, which sends them to
    core 1 (3200 received), instead of 6400 loaded by the two cores."""
    module, w, net, units, loads, rng = _program(tmp_path)
    assert units.n == 2 and units.in_lo.tolist() == [0, 0] and units.out_lo.tolist() == [0, 64]
    assert elements_moved(module, isa.LoadBlockOp, ".input") == 2 * 1600
    assert _received(module) == {1: 2 * 1600}
    # the cost model: per image 1600 from DRAM, 3200 loaded by the cores in all
    at = (np.array([[0]]), np.array([[0]]), np.array([[2]]), np.array([[1]]), np.array([[True]]))
    assert loads.at(*at, shared=True)[0, 0] == 1600
    assert loads.at(*at)[0, 0] == 3200
    # the values
    x = rng.standard_normal((2, 16, 8, 8)).astype(np.float32)
    out, _ = run_program(module, {"input": x}, weights=WeightStore(tmp_path / "w.npz"))
    want = np.maximum(
        conv3x3_reference(x, w["conv1.weight"]) + w["conv1.bias"][None, :, None, None], 0
    )
    got = next(iter(out.values())).reshape(want.shape)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_the_simulator_moves_the_shared_band_once_over_dram(tmp_path) -> None:
    """Timing: against the same program without sharing, the DRAM carries the band's bytes
    once less (2 images x 1600 elements x 4-bit activations = 1600 bytes); the bus carries the
    same bytes (one load and one send instead of two loads)."""
    from pimdsl.sim.timing import simulate_module

    module, *_ = _program(tmp_path)
    stats = simulate_module(module).to_json()
    import pimdsl.isa.codegen as cg

    keep = cg.shared_bands
    try:
        cg.shared_bands = lambda e, plans: {}  # type: ignore[assignment]
        plain, *_ = _program(tmp_path)
    finally:
        cg.shared_bands = keep  # type: ignore[assignment]
    assert _received(plain) == {}
    unshared = simulate_module(plain).to_json()
    band_bytes = 2 * 1600 * TWO_CORES.act_bits // 8
    assert unshared["dram_bytes"] - stats["dram_bytes"] == band_bytes
    assert unshared["bus_bytes"] == stats["bus_bytes"]
