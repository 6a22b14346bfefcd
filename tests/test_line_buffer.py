"""Line buffers (pimdsl/isa/line_buffer.py): the plan against numbers derived by hand, and the
lowered program's conv input traffic against the cost model's, both against a hand count."""

from __future__ import annotations

import pytest
from test_units import NetBuilder
from xdsl.context import Context

from pimdsl.chip import load_chip
from pimdsl.cost.model import _input_loads
from pimdsl.dialects import pim_isa as isa
from pimdsl.isa import line_buffer as lb
from pimdsl.module_attrs import set_batch, set_chip
from pimdsl.network import extract_network
from pimdsl.sim.isa_interp import iter_instructions
from pimdsl.units import plan_units


def test_rectangles_of_a_window_range() -> None:
    # windows 5..19 of rows of 8: row 0 columns 5-7, row 1 whole, row 2 columns 0-3
    assert lb.rectangles(5, 20, 8) == [(0, 1, 5, 3), (1, 1, 0, 8), (2, 1, 0, 4)]
    assert lb.rectangles(0, 16, 8) == [(0, 2, 0, 8)]


def test_3x3_conv_loads_each_band_once_per_output_row() -> None:
    # ResNet18's 56x56 3x3 conv, 64 input channels, 16,384 elements of band budget: a band of
    # one output row is 3 rows x 58 columns x 64 channels = 11,136 elements (fits), so each
    # of the 56 output rows loads one: 56 x 11,136 = 623,616 elements, against 3136 windows x
    # 576 = 1,806,336 for the patches.
    win = lb.Window((3, 3), (1, 1), (1, 1), (56, 56))
    assert lb.strip_width(win, 64, 16384) == 83  # (16384 // 192 - 3) // 1 + 1
    assert lb.plan(win, 0, 3136, 64, 16384) == [(0, 56, 0, 56)]
    assert lb.loaded_elements(win, 0, 3136, 64, 16384) == 56 * 3 * 58 * 64 == 623_616


def test_wide_rows_are_cut_into_strips() -> None:
    # VGG16's 224x224 3x3 conv on 64 channels: at most 83 windows a strip (as above), so each
    # row is 83 + 83 + 58 windows with bands of 85, 85 and 60 columns.
    win = lb.Window((3, 3), (1, 1), (1, 1), (224, 224))
    assert lb.plan(win, 0, 224 * 224, 64, 16384) == [(0, 224, 0, 83), (0, 224, 83, 83), (0, 224, 166, 58)]
    assert lb.loaded_elements(win, 0, 224 * 224, 64, 16384) == 224 * 3 * (85 + 85 + 60) * 64


def test_no_band_where_it_would_not_save_traffic() -> None:
    one = lb.Window((1, 1), (2, 2), (1, 1), (28, 28))  # a strided 1x1: the band is the patch
    assert lb.plan(one, 0, 784, 64, 16384) is None
    assert lb.loaded_elements(one, 0, 784, 64, 16384) == 784 * 64
    # 2x2 stride 2: a band of 2 rows x 2*nx columns = 4*nx, the patches 4 per window: no gain
    assert lb.plan(lb.Window((2, 2), (2, 2), (1, 1), (8, 8)), 0, 64, 4, 16384) is None
    # a band that does not fit even for one window: 3 x 3 x 2000 > 16384
    assert lb.plan(lb.Window((3, 3), (1, 1), (1, 1), (7, 7)), 0, 49, 2000, 16384) is None
    # 3x3 stride 2: 3 rows x (2*7+1) columns = 45 per row and channel, patches 7 x 9 = 63
    s2 = lb.Window((3, 3), (2, 2), (1, 1), (7, 7))
    assert lb.loaded_elements(s2, 0, 49, 1, 16384) == 7 * 45


def test_dilation_widens_the_band() -> None:
    # 3x3 dilation 2: the band covers 5 rows and (nx-1) + 5 columns. On an 8x8 output the
    # bands (8 x 5 x 12 x 2 = 960) beat the patches (64 x 9 x 2 = 1152); on 4x4 they do not
    # (4 x 5 x 8 x 2 = 320 against 16 x 18 = 288), so the patches stay.
    win = lb.Window((3, 3), (1, 1), (2, 2), (8, 8))
    assert win.band_rows == 5 and win.band_cols(8) == 12
    assert lb.loaded_elements(win, 0, 64, 2, 16384) == 8 * 5 * 12 * 2
    small = lb.Window((3, 3), (1, 1), (2, 2), (4, 4))
    assert lb.loaded_elements(small, 0, 16, 2, 16384) == 16 * 9 * 2


@pytest.mark.parametrize("stride", [1, 2])
def test_lowered_conv_reads_what_the_cost_model_prices(stride: int) -> None:
    """One 3x3 conv 16 -> 16 on an 8x8 map on one core of one crossbar (replication 1, so the
    windows are not split): the lowered program's loads from the conv's input buffer (the
    relaid network input `tK.input`; the host's `input` and the output relayout are not the
    conv's), counted from its loops, equal the cost model's input loads and a hand count.
    Stride 1: 8 output rows x (3 rows x 10 columns x 16 channels) = 3840.
    Stride 2: 4 output rows x (3 rows x 9 columns x 16 channels) = 1728."""
    from pimdsl.passes.lower_to_isa import LowerToIsaPass
    from pimdsl.passes.partition import PartitionPass

    b = NetBuilder((1, 16, 8, 8))
    module = b.module(b.conv(b.x, 16, 3, stride=stride))
    chip = load_chip("compass-s").replace(name="one-core", cores=1, crossbars_per_core=1)
    set_chip(module, chip)
    set_batch(module, 1)
    net = extract_network(module)
    priced = _input_loads(net, plan_units(net, chip), chip)
    ctx = Context()
    PartitionPass().apply(ctx, module)
    LowerToIsaPass().apply(ctx, module)
    program = isa.find_program(module)
    assert program is not None
    loaded = 0
    for part in program.body.block.ops:
        if not isinstance(part, isa.PartitionOp):
            continue
        for core in part.cores():
            for op, loops in iter_instructions(core.body.block):
                if isinstance(op, isa.LoadBlockOp) and op.buffer.data.endswith(".input"):
                    trips = 1
                    for n in loops:
                        trips *= n
                    loaded += op.elements * trips
    hand = 8 * 3 * 10 * 16 if stride == 1 else 4 * 3 * 9 * 16
    assert loaded == hand
    assert priced.tolist() == [hand]
