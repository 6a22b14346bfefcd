"""A core's replicas of one layer run interleaved (`emit_weight.interleaved`,
`line_buffer.turns`): each replica's window range is cut into turns of about equal windows,
taken in turn by the ranges, so that every replica's epilogues and stores follow its own MVMs
instead of queueing on the core's vector unit and store DMA behind the first replica's.
Checked: the turns by hand and their cover of a range; a 3x3 conv with three replicas on one
core against numpy in the layer and batch schedules, its program interleaved and every output
stored once; the same where local memory holds only two ranges at once (the third runs after
them); the cost model's count of interleaved replicas against the program's. What it buys in
time is measured by benchmarks/cost_vs_sim.py and benchmarks/roofline.py (docs/lowering.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_line_buffer import ONE_CORE, conv3x3_reference
from test_units import NetBuilder
from xdsl.context import Context
from xdsl.dialects.builtin import IntegerAttr, ModuleOp, i64

from pimdsl.chip import Chip
from pimdsl.dialects import partition
from pimdsl.dialects import pim_isa as isa
from pimdsl.isa import line_buffer as lb
from pimdsl.module_attrs import set_batch, set_chip, set_weights
from pimdsl.sim.isa_interp import iter_instructions, run_program
from pimdsl.weights import WeightStore, write_npz

CHIP = ONE_CORE.replace(name="one-core-3", crossbars_per_core=3)
C, H = 16, 8  # a 3x3 conv C -> C on an H x H map


def _windows(tiles: list[lb.Tile], turn: list[tuple[int, lb.Piece]]) -> list[tuple[int, int]]:
    """The output windows (oy, ox) a turn's pieces cover."""
    out = []
    for t, (g0, gn, x0, xn, _) in turn:
        oy0, _, ox0, _, group = tiles[t]
        for g in range(g0, g0 + gn):
            for oy in range(group):
                out += [(oy0 + g * group + oy, ox0 + x0 + x) for x in range(xn)]
    return out


def test_turns_by_hand() -> None:
    # one tile of 2 band iterations (2 rows each) x 8 columns, 32 windows in 8 turns of 4:
    # 2 rows x 2 columns each, a band iteration's band loaded by its first
    tile = (0, 4, 0, 8, 2)
    assert lb.turns([tile], 8) == [
        [(0, (g, 1, x0, 2, x0 == 0))] for g in range(2) for x0 in range(0, 8, 2)
    ]
    # one turn: the tile whole; never more turns than windows
    assert lb.turns([tile], 1) == [[(0, (0, 2, 0, 8, True))]]
    assert len(lb.turns([(0, 1, 0, 3, 1)], 8)) == 3


@pytest.mark.parametrize(("w0", "w1", "group"), [(5, 93, 1), (21, 42, 2), (0, 300, 3)])
def test_turns_cover_every_window_once_in_equal_shares(w0: int, w1: int, group: int) -> None:
    ow = 20
    tiles = lb.tiles(w0, w1, ow, group, ow)
    n = 8
    turns = lb.turns(tiles, n)
    assert len(turns) == n
    covered = [w for turn in turns for w in _windows(tiles, turn)]
    assert sorted(covered) == [(w // ow, w % ow) for w in range(w0, w1)]
    share = (w1 - w0) / n
    for turn in turns:
        assert abs(len(_windows(tiles, turn)) - share) < group + 1
        # the first piece of a band iteration loads its band, the others gather from it
        for _, (_, _, x0, _, banded) in turn:
            assert banded == (x0 == 0)


def _weights(tmp_path) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(3)
    w = {
        "conv1.weight": rng.standard_normal((C, C, 3, 3)).astype(np.float32),
        "conv1.bias": rng.standard_normal(C).astype(np.float32),
    }
    write_npz(tmp_path / "w.npz", w)
    return w


def _three_replicas(tmp_path, chip: Chip, schedule: str, images: int) -> ModuleOp:
    """The conv with 3 replicas on one core (the replication set by hand, as in
    test_line_buffer): windows [0, 21), [21, 42), [42, 64), one crossbar each."""
    from pimdsl.passes.lower_to_isa import LowerToIsaPass
    from pimdsl.passes.partition import PartitionPass

    b = NetBuilder((1, C, H, H))
    module = b.module(b.conv(b.x, C, 3))
    set_chip(module, chip)
    set_batch(module, images)
    set_weights(module, str(tmp_path / "w.npz"))
    PartitionPass(schedule=schedule).apply(Context(), module)
    (part,) = [op for op in module.walk() if isinstance(op, partition.PartitionOp)]
    part.replication = isa.i64_array([3])
    part.crossbars = IntegerAttr(3, i64)
    part.core_crossbars = isa.i64_array([3])
    LowerToIsaPass(schedule=schedule).apply(Context(), module)
    module.verify()
    return module


def _instructions(module: ModuleOp) -> list[tuple[isa.InstrOp, list[int]]]:
    program = isa.find_program(module)
    assert program is not None
    (core,) = [op for op in program.walk() if isinstance(op, isa.CoreOp)]
    return list(iter_instructions(core.body.block))


def _mvm_crossbars(module: ModuleOp) -> list[int]:
    """The crossbar of each MVM, in program order."""
    return [op.xbar.value.data for op, _ in _instructions(module) if isinstance(op, isa.MvmOp)]  # type: ignore[attr-defined]


def _check_values(tmp_path, module: ModuleOp, w: dict[str, np.ndarray], images: int) -> None:
    x = np.random.default_rng(4).standard_normal((images, C, H, H)).astype(np.float32)
    out, _ = run_program(module, {"input": x}, weights=WeightStore(tmp_path / "w.npz"))
    want = conv3x3_reference(x.astype(np.float64), w["conv1.weight"].astype(np.float64))
    want = np.maximum(want + w["conv1.bias"][None, :, None, None], 0)
    got = next(iter(out.values())).reshape(want.shape)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def _stores_to_output_map(module: ModuleOp) -> int:
    """Elements the conv's stores write per program run (from the loops), its map only (not
    the relayouts of the input and the output)."""
    total = 0
    for op, loops in _instructions(module):
        if isinstance(op, isa.StoreOp) and op.buffer.data.endswith(".conv"):
            total += op.length.value.data * math.prod(loops)
    return total


@pytest.mark.parametrize("schedule", ["layer", "batch"])
def test_three_replicas_interleaved(tmp_path, schedule: str) -> None:
    w = _weights(tmp_path)
    images = 2
    module = _three_replicas(tmp_path, CHIP, schedule, images)
    xbars = _mvm_crossbars(module)
    assert sorted(set(xbars)) == [0, 1, 2]
    # interleaved: the second replica's first MVM comes before the first replica's last
    assert xbars.index(1) < len(xbars) - 1 - xbars[::-1].index(0)
    # every output element stored once per image
    assert _stores_to_output_map(module) == images * C * H * H
    _check_values(tmp_path, module, w, images)


def test_ranges_that_do_not_fit_together_run_after(tmp_path) -> None:
    """With 4 kB of local memory a range takes 1,632 bytes (its band of 2 output rows: 4 x 10
    input pixels x 16 channels = 640 elements, a window vector of 144, the output block and
    the bias of 16 each: 816 elements of 2 bytes), so two fit beside each other (3,264 bytes)
    and the third starts a group of its own: its MVMs all come after the first two ranges'."""
    w = _weights(tmp_path)
    chip = CHIP.replace(name="one-core-3-small", local_memory_bytes=4096)
    module = _three_replicas(tmp_path, chip, "layer", 1)
    xbars = _mvm_crossbars(module)
    assert xbars.index(1) < len(xbars) - 1 - xbars[::-1].index(0)  # 0 and 1 interleaved
    assert xbars.index(2) > len(xbars) - 1 - xbars[::-1].index(1)  # 2 after them
    assert _stores_to_output_map(module) == C * H * H
    _check_values(tmp_path, module, w, 1)


@pytest.mark.parametrize(("local_bytes", "together"), [(65536, 3), (4096, 2)])
def test_cost_model_counts_the_ranges_the_program_interleaves(
    tmp_path, local_bytes: int, together: int
) -> None:
    """The cost model's estimate of how many of a core's replicas run interleaved
    (`cost.model._interleaved`) against the program: the crossbars whose MVMs start before the
    first replica's last MVM (3 with 64 kB of local memory, 2 with 4 kB, see above)."""
    from pimdsl.cost.model import _interleaved
    from pimdsl.network import extract_network
    from pimdsl.units import plan_units

    _weights(tmp_path)
    chip = CHIP.replace(name=f"one-core-3-{local_bytes}", local_memory_bytes=local_bytes)
    xbars = _mvm_crossbars(_three_replicas(tmp_path, chip, "layer", 1))
    last_of_first = len(xbars) - 1 - xbars[::-1].index(0)
    assert len(set(xbars[:last_of_first])) == together
    b = NetBuilder((1, C, H, H))
    net = extract_network(b.module(b.conv(b.x, C, 3)))
    budget = lb.band_budget(local_bytes, lb.DEFAULT_ELEM_BYTES)
    units = plan_units(net, chip)
    assert _interleaved(net.layers[0], units, 3, 3, local_bytes // 2, budget) == together
