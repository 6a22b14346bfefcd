"""Rolling bands of the element schedule (`line_buffer.runs`): consecutive one-row tiles of the
same columns run as one chunk; the first loads its whole band, each next one keeps the rows it
shares with the one before (a local gather) and loads only its new rows. The runs and their
loads by hand; the lowered program's input traffic against the cost model's and the hand count;
the values against numpy, on one core and with a band shared by two cores."""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_line_buffer import ONE_CORE, conv3x3_reference, elements_moved
from test_shared_bands import TWO_CORES, _received
from test_units import NetBuilder
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp

from pimdsl.chip import Chip
from pimdsl.cost.model import _InputLoads
from pimdsl.dialects import pim_isa as isa
from pimdsl.isa import element
from pimdsl.isa import line_buffer as lb
from pimdsl.isa.builder import CoreCode
from pimdsl.module_attrs import set_batch, set_chip, set_weights
from pimdsl.network import extract_network
from pimdsl.sim.isa_interp import iter_instructions, run_program
from pimdsl.units import plan_units
from pimdsl.weights import WeightStore, write_npz

WIN = lb.Window((3, 3), (1, 1), (1, 1), (8, 8))


def test_runs_follow_consecutive_rows_of_the_same_columns() -> None:
    # key order of a replica range whose first row (its top halo) runs last: rows 1-5 whole,
    # then row 0; runs of at most 4
    tiles = [(y, 1, 0, 8, 1) for y in (1, 2, 3, 4, 5, 0)]
    assert lb.runs(tiles, 4) == [[0, 1, 2, 3], [4], [5]]
    # a partial row (other columns) starts a run of its own; so does a gap
    tiles = [(0, 1, 5, 3, 1), (1, 1, 0, 8, 1), (2, 1, 0, 8, 1), (4, 1, 0, 8, 1)]
    assert lb.runs(tiles, 4) == [[0], [1, 2], [3]]
    assert lb.runs(tiles, 1) == [[0], [1], [2], [3]]


def test_a_run_loads_its_first_band_then_the_new_rows() -> None:
    # 3x3 stride 1: a band is 3 rows x 10 columns; a continuing row keeps 2 rows, loads 1.
    # 8 rows of 8 windows in runs of 4: 2 x (3 + 1 + 1 + 1) rows x 10 columns x 16 channels
    rows = [(y, 1, 0, 8, 1) for y in range(8)]
    assert lb.new_rows(WIN) == (2, 1)
    assert lb.run_loads(WIN, rows, 16, 4) == 2 * 6 * 10 * 16 == 1920
    assert lb.run_loads(WIN, rows, 16, 1) == 8 * 3 * 10 * 16  # no rolling: every band whole
    # stride 2: a band of 3 rows keeps 1 and loads 2; a 1x1 window does not roll
    s2 = lb.Window((3, 3), (2, 2), (1, 1), (4, 4))
    assert lb.new_rows(s2) == (1, 2)
    assert lb.rolls(s2) and not lb.rolls(lb.Window((1, 1), (1, 1), (1, 1), (8, 8)))
    # the cost model's rule: one-row element tiles of a whole 8x8 map, rows in order
    assert lb.loads(WIN, 0, 64, 16, 16384, max_rows=1, roll=4) == (1920, True)
    assert lb.loads(WIN, 0, 64, 16, 16384, max_rows=1) == (3840, True)


def test_one_image_runs_end_before_a_tile_that_waits_for_a_later_producer_tile() -> None:
    """`RowTokens.cut_runs`. A producer on core 1 writes rows 0-7 of an 8x8 map, row y as a
    tile keyed (10y, step 1, ...); output row y of the consumer (3x3, pad 1, step 3) reads input
    rows up to y + 1, so it waits for the producer tile keyed 10(y + 1). A run keeps its first
    tile's key and a tile joins only while the producer tile it waits for has a smaller key
    (ties: the producer's smaller step). Consumer one producer tile behind (row y keyed
    10(y + 2)): row 0 (key 20) takes row 1 (waits for key 20 of step 1), not row 2 (key 30):
    runs of 2, what the cost model prices (`LATENCY_ROLL`). Two tiles behind (row y keyed
    10(y + 3)): row 0 (30) takes rows 1 and 2 (20, 30); row 3 ends the run of 4 rows; row 4
    (70) takes rows 5-7 (60, 70, and 70 again: row 7 reads no row 8)."""
    produced = {
        1: [
            element.Produced(y, 1, 0, 8, [], (10.0 * y, 1.0, 0.0, float(y)), 10.0 * (y + 1))
            for y in range(8)
        ]
    }
    geo = element.Geometry((3, 3), (1, 1), (1, 1, 1, 1), (1, 1), (8, 8))
    rt = element.RowTokens(lambda: 1, lambda c: CoreCode(c), [("x", geo, produced)], {}, step=3)
    tiles = [(y, 1, 0, 8, 1) for y in range(8)]
    behind_one = [(10.0 * (y + 2), 3.0, 0.0, float(y)) for y in range(8)]
    assert rt.cut_runs(tiles, behind_one, 4) == [
        ([0, 1], 0),
        ([2, 3], 2),
        ([4, 5], 4),
        ([6, 7], 6),
    ]
    assert lb.LATENCY_ROLL == 2
    behind_two = [(10.0 * (y + 3), 3.0, 0.0, float(y)) for y in range(8)]
    assert rt.cut_runs(tiles, behind_two, 4) == [
        ([0, 1, 2], 0),
        ([3], 3),
        ([4, 5, 6, 7], 4),
    ]
    # no producer (a partition entry): whole runs
    entry = element.RowTokens(lambda: 1, lambda c: CoreCode(c), [], {}, step=3)
    assert entry.cut_runs(tiles, behind_one, 4) == [([0, 1, 2, 3], 0), ([4, 5, 6, 7], 4)]


def _conv_program(tmp_path, chip: Chip, images: int) -> tuple[ModuleOp, dict, object]:
    """A 3x3 conv 16 -> 16 (or 128 on two cores) on a 16x16 map, lowered in the element
    schedule."""
    from pimdsl.passes.lower_to_isa import LowerToIsaPass
    from pimdsl.passes.partition import PartitionPass

    out_channels = 16 if chip.cores == 1 else 128
    rng = np.random.default_rng(3)
    w = {
        "conv1.weight": rng.standard_normal((out_channels, 16, 3, 3)).astype(np.float32),
        "conv1.bias": rng.standard_normal(out_channels).astype(np.float32),
    }
    write_npz(tmp_path / "w.npz", w)
    b = NetBuilder((1, 16, 16, 16))
    module = b.module(b.conv(b.x, out_channels, 3))
    net = extract_network(module)
    set_chip(module, chip)
    set_batch(module, images)
    set_weights(module, str(tmp_path / "w.npz"))
    PartitionPass().apply(Context(), module)
    LowerToIsaPass(schedule="element").apply(Context(), module)
    module.verify()
    return module, w, net


def _check_values(module: ModuleOp, w: dict, tmp_path, images: int) -> None:
    x = np.random.default_rng(4).standard_normal((images, 16, 16, 16)).astype(np.float32)
    out, _ = run_program(module, {"input": x}, weights=WeightStore(tmp_path / "w.npz"))
    want = np.maximum(
        conv3x3_reference(x, w["conv1.weight"]) + w["conv1.bias"][None, :, None, None], 0
    )
    got = next(iter(out.values())).reshape(want.shape)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


# 16 output rows of 16 windows in runs of 8 (`roll_rows` = 8; a partition entry: every row is ready at once, so
# in row order, whole runs with one image too): a band is 3 rows x 18 columns x 16 channels;
# each run loads 3 + 7 = 10 rows, two runs 20 x 18 x 16 = 5760 elements per image, against
# 16 x 3 x 18 x 16 = 13,824 for whole bands
PER_IMAGE = 2 * 10 * 18 * 16


@pytest.mark.parametrize("images", [1, 3])
def test_lowered_runs_load_what_the_cost_model_prices(tmp_path, images: int) -> None:
    """One core, one replica: the program's loads from the relaid input (counted from its
    loops) against the hand count above and the cost model's element-schedule loads; its band
    shifts (7 continuing rows of each of the 2 runs per image); the values against numpy."""
    chip = ONE_CORE.replace(roll_rows=8)  # the hand count's run length
    module, w, net = _conv_program(tmp_path, chip, images)
    loaded = elements_moved(module, isa.LoadBlockOp, ".input")
    assert loaded == images * PER_IMAGE
    units = plan_units(net, chip)
    roll = lb.priced_roll(chip.roll_rows, entry=True)
    assert _InputLoads(net, units, chip, lb.ELEMENT_ROWS, roll).unit(0, 1) == PER_IMAGE
    program = isa.find_program(module)
    assert program is not None
    shifts = sum(
        math.prod(loops)
        for core in program.walk()
        if isinstance(core, isa.CoreOp)
        for op, loops in iter_instructions(core.body.block)
        if isinstance(op, isa.GatherOp) and len(isa.ints(op.sizes)) == 1
    )
    assert shifts == images * 2 * 7
    _check_values(module, w, tmp_path, images)


def test_a_shared_rolling_band_sends_only_the_new_rows(tmp_path) -> None:
    """Two cores read the same 16 input channels (two units of 64 output channels): core 0
    loads the rolling band and sends what it loads to core 1, which shifts its own copy."""
    module, w, _ = _conv_program(tmp_path, TWO_CORES.replace(roll_rows=8), 2)
    assert elements_moved(module, isa.LoadBlockOp, ".input") == 2 * PER_IMAGE
    assert _received(module) == {1: 2 * PER_IMAGE}
    _check_values(module, w, tmp_path, 2)


def test_runs_are_off_by_default(tmp_path) -> None:
    """`roll_rows` = 1 (the presets): every one-row tile loads its whole band (16 rows x 3 x 18
    x 16 = 13,824 elements an image), no band shifts, and the cost model prices the same."""
    assert ONE_CORE.roll_rows == 1 and lb.priced_roll(1, entry=True) == 1
    module, _, net = _conv_program(tmp_path, ONE_CORE, 1)
    assert elements_moved(module, isa.LoadBlockOp, ".input") == 16 * 3 * 18 * 16
    units = plan_units(net, ONE_CORE)
    assert _InputLoads(net, units, ONE_CORE, lb.ELEMENT_ROWS, 1).unit(0, 1) == 16 * 3 * 18 * 16
    program = isa.find_program(module)
    assert program is not None
    assert not any(
        isinstance(op, isa.GatherOp) and len(isa.ints(op.sizes)) == 1 for op in program.walk()
    )
