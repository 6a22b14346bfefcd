"""Line buffers (pimdsl/isa/line_buffer.py): the plan against numbers derived by hand, and the
lowered program's conv input traffic against the cost model's, both against a hand count."""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_units import NetBuilder
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp

from pimdsl.chip import load_chip
from pimdsl.cost.model import _InputLoads
from pimdsl.dialects import nn
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


def test_tile_shape_minimises_the_halo_within_the_budget() -> None:
    # ResNet18's 56x56 3x3 conv, 64 input channels, 16,384 elements of band budget. A tile of
    # G rows x W columns loads (G+2) x (W+2) x 64 elements, so W <= 256 // (G+2) - 2, and costs
    # (G+2)(W+2)/(G W) per window: G=1: W=56, 3*58/56 = 3.11; G=12: W=16, 14*18/192 = 1.3125;
    # G=13: W=15, 15*17/195 = 1.3077; G=14: W=14, 16*16/196 = 1.3061 (the least);
    # G=15: W=13, 17*15/195 = 1.3077.
    win = lb.Window((3, 3), (1, 1), (1, 1), (56, 56))
    assert lb.tile_shape(win, 64, 16384, 56, 56) == (14, 14)
    assert lb.shape(win, 0, 3136, 64, 16384) == (14, 14)
    # 4 row groups x 4 strips of 14 windows, each band 16 x 16 x 64 = 16,384 elements, against
    # 3136 windows x 576 = 1,806,336 for the patches
    assert lb.loaded_elements(win, 0, 3136, 64, 16384) == 16 * 16 * 16 * 64 == 262_144


def test_tiles_of_a_window_range() -> None:
    # windows 5..28 of rows of 8 in groups of 2 rows and strips of 3 windows: row 0 columns
    # 5-7 (one strip, a group of 1), rows 1-2 whole (strips 0-2, 3-5, 6-7), row 3 columns 0-4
    assert lb.tiles(5, 29, 8, 2, 3) == [
        (0, 1, 5, 3, 1),
        (1, 2, 0, 3, 2),
        (1, 2, 3, 3, 2),
        (1, 2, 6, 2, 2),
        (3, 1, 0, 3, 1),
        (3, 1, 3, 2, 1),
    ]
    # 5 rows in groups of 2: two groups, then the last row as a group of its own
    assert lb.split([(0, 5, 0, 4)], 2, 4) == [(0, 4, 0, 4, 2), (4, 1, 0, 4, 1)]


def test_wide_maps_take_the_same_tiles() -> None:
    # VGG16's 224x224 3x3 conv on 64 channels: the same (14, 14) tiles as above, 16 x 16 of
    # them, each band 16 x 16 x 64
    win = lb.Window((3, 3), (1, 1), (1, 1), (224, 224))
    assert lb.shape(win, 0, 224 * 224, 64, 16384) == (14, 14)
    assert lb.loaded_elements(win, 0, 224 * 224, 64, 16384) == 256 * 16 * 16 * 64


def test_no_band_where_it_would_not_save_traffic() -> None:
    one = lb.Window((1, 1), (2, 2), (1, 1), (28, 28))  # a strided 1x1: the band is the patch
    assert lb.shape(one, 0, 784, 64, 16384) is None
    assert lb.loaded_elements(one, 0, 784, 64, 16384) == 784 * 64
    # 2x2 stride 2: a band of 2G rows x 2W columns, the patches 4 per window: no gain
    assert lb.shape(lb.Window((2, 2), (2, 2), (1, 1), (8, 8)), 0, 64, 4, 16384) is None
    # a band that does not fit even for one window: 3 x 3 x 2000 > 16384
    assert lb.shape(lb.Window((3, 3), (1, 1), (1, 1), (7, 7)), 0, 49, 2000, 16384) is None
    # 3x3 stride 2 on a 7x7 output, one channel: one tile of 15 x 15 input elements against
    # 49 windows x 9 for the patches
    s2 = lb.Window((3, 3), (2, 2), (1, 1), (7, 7))
    assert lb.loaded_elements(s2, 0, 49, 1, 16384) == 15 * 15


def test_dilation_widens_the_band() -> None:
    # 3x3 dilation 2: G rows cover G-1 + 5 input rows. On an 8x8 output one tile of 12 x 12 x 2
    # channels = 288 elements, against 64 x 9 x 2 = 1152 for the patches.
    win = lb.Window((3, 3), (1, 1), (2, 2), (8, 8))
    assert win.band_rows(8) == 12 and win.band_cols(8) == 12
    assert lb.loaded_elements(win, 0, 64, 2, 16384) == 12 * 12 * 2
    # a budget of 100 elements: per row group G, W <= (100 // ((G+4) * 2) - 5) + 1 — G=1: W=6,
    # 5*10/6 = 8.33; G=2: W=4, 6*8/8 = 6; G=3: W=3, 7*7/9 = 5.44; G=4: W=2, 8*6/8 = 6
    assert lb.tile_shape(win, 2, 100, 8, 8) == (3, 3)


def conv3x3_reference(x: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """numpy: a 3x3 convolution, stride 1, zero padding 1, of x [N, C, H, W] (float64)."""
    n, _, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = np.zeros((n, weight.shape[0], h, w), np.float64)
    for y in range(h):
        for z in range(w):
            out[:, :, y, z] = np.einsum("ocij,ncij->no", weight, xp[:, :, y : y + 3, z : z + 3])
    return out


ONE_CORE = load_chip("compass-s").replace(name="one-core", cores=1, crossbars_per_core=1)


def lower_on_one_core(module: ModuleOp) -> ModuleOp:
    """`module` partitioned and lowered to pim_isa on one core of one crossbar (replication 1,
    so a layer's windows are not split), at batch 1."""
    from pimdsl.passes.lower_to_isa import LowerToIsaPass
    from pimdsl.passes.partition import PartitionPass

    set_chip(module, ONE_CORE)
    set_batch(module, 1)
    ctx = Context()
    PartitionPass().apply(ctx, module)
    LowerToIsaPass().apply(ctx, module)
    return module


def elements_moved(module: ModuleOp, kind: type[isa.InstrOp], buffer_suffix: str) -> int:
    """Elements the program's `kind` transfers (load, load_block) from DRAM buffers whose name
    ends with `buffer_suffix` move, counted from the loops around them (a static count)."""
    program = isa.find_program(module)
    assert program is not None
    total = 0
    for part in program.body.block.ops:
        if not isinstance(part, isa.PartitionOp):
            continue
        for core in part.cores():
            for op, loops in iter_instructions(core.body.block):
                if isinstance(op, kind) and op.buffer.data.endswith(buffer_suffix):  # type: ignore[attr-defined]
                    size = op.elements if isinstance(op, isa.LoadBlockOp) else op.length.value.data  # type: ignore[attr-defined]
                    total += size * math.prod(loops)
    return total


@pytest.mark.parametrize("stride", [1, 2])
def test_lowered_conv_reads_what_the_cost_model_prices(stride: int) -> None:
    """One 3x3 conv 16 -> 16 on an 8x8 map on one core of one crossbar (replication 1, so the
    windows are not split): the lowered program's loads from the conv's input buffer (the
    relaid network input `tK.input`; the host's `input` and the output relayout are not the
    conv's), counted from its loops, equal the cost model's input loads and a hand count.
    The band budget (65536 / 2 / 2 = 16,384 elements) holds the whole map: one tile.
    Stride 1: 8x8 outputs read 10 x 10 padded input pixels x 16 channels = 1600.
    Stride 2: 4x4 outputs read 9 x 9 x 16 = 1296."""
    b = NetBuilder((1, 16, 8, 8))
    module = b.module(b.conv(b.x, 16, 3, stride=stride))
    net = extract_network(module)
    priced = _InputLoads(net, plan_units(net, ONE_CORE), ONE_CORE).unit(0, 1)
    loaded = elements_moved(lower_on_one_core(module), isa.LoadBlockOp, ".input")
    hand = 10 * 10 * 16 if stride == 1 else 9 * 9 * 16
    assert loaded == hand
    assert priced == hand


def test_replicas_read_what_the_cost_model_prices() -> None:
    """The same 3x3 conv 16 -> 16 on an 8x8 map with 3 replicas on one core (the partition's
    replication set by hand): partition-to-crossbar splits the 64 windows into [0, 21),
    [21, 42), [42, 64) (`placement.window_ranges`), and each replica's range is tiled on its
    own. Budget 16,384 elements: tiles of 2 rows x 8 for a range with full rows, 1 row for a
    partial row. By hand, bands of rows x columns x 16 channels:
    [0, 21): rows 0-1 4 x 10 + row 2 cols 0-4 3 x 7 = 61;
    [21, 42): row 2 cols 5-7 3 x 5 + rows 3-4 4 x 10 + row 5 cols 0-1 3 x 4 = 67;
    [42, 64): row 5 cols 2-7 3 x 8 + rows 6-7 4 x 10 = 64; (61 + 67 + 64) x 16 = 3072,
    against 1600 with one replica: the program and the cost model both load 3072."""
    from xdsl.dialects.builtin import IntegerAttr, i64

    from pimdsl.dialects import partition
    from pimdsl.passes.lower_to_isa import LowerToIsaPass
    from pimdsl.passes.partition import PartitionPass

    chip = ONE_CORE.replace(name="one-core-3", crossbars_per_core=3)
    b = NetBuilder((1, 16, 8, 8))
    module = b.module(b.conv(b.x, 16, 3))
    net = extract_network(module)
    priced = _InputLoads(net, plan_units(net, chip), chip).unit(0, 3)
    set_chip(module, chip)
    set_batch(module, 1)
    PartitionPass().apply(Context(), module)
    (part,) = [op for op in module.walk() if isinstance(op, partition.PartitionOp)]
    part.replication = isa.i64_array([3])
    part.crossbars = IntegerAttr(3, i64)
    part.core_crossbars = isa.i64_array([3])
    LowerToIsaPass().apply(Context(), module)
    loaded = elements_moved(module, isa.LoadBlockOp, ".input")
    assert loaded == (61 + 67 + 64) * 16
    assert priced == loaded


def test_first_band_of_each_replica_by_hand() -> None:
    """The cost model's wait for a layer's first band (`_first_band`): a 3x3 conv 16 -> 16 on an
    8x8 map, windows split over r replicas, each replica's first tile's band averaged.
    r=1: one tile of all 8x8 windows, 10 x 10 padded pixels x 16 channels = 1600.
    r=2: windows 0-31 and 32-63, 4 rows each: tiles of 4 rows x 8, bands 6 x 10 x 16 = 960.
    r=3: the lowering's ranges (`placement.window_ranges`) [0, 21), [21, 42), [42, 64).
    [0, 21) = rows 0-1 + row 2 columns 0-4: tiles of 2 rows x 8, first band 4 x 10 x 16 = 640;
    [21, 42) starts with row 2 columns 5-7: 3 x 5 x 16 = 240; [42, 64) starts with row 5
    columns 2-7: 3 x 8 x 16 = 384; mean 1264 / 3."""
    from pimdsl.cost.model import _first_band

    b = NetBuilder((1, 16, 8, 8))
    module = b.module(b.conv(b.x, 16, 3))
    chip = load_chip("compass-s")
    net = extract_network(module)
    units = plan_units(net, chip)
    budget = lb.band_budget(chip.local_memory_bytes, lb.DEFAULT_ELEM_BYTES)
    layer = net.layers[0]
    assert _first_band(layer, units, 1, budget) == 1600
    assert _first_band(layer, units, 2, budget) == 960
    assert _first_band(layer, units, 3, budget) == pytest.approx((640 + 240 + 384) / 3)


def test_pool_reads_through_bands_what_the_cost_model_prices() -> None:
    """A 3x3 stride-2 max pool (padding 1) of an 8x8 map of 8 channels (a conv's output) on one
    core of compass-s: 4x4 outputs. Without bands every output loads its 9 taps: 16 x 9 x 8 =
    1152 elements. Local memory holds 32,768 elements: all 8 channels at once (the taps and the
    result take 10 x 8), and the band budget the rest, so one tile of all 4x4 windows reads
    (4 - 1) x 2 + 3 = 9 padded rows x 9 columns x 8 channels = 648 elements, each input element
    once plus the halo. The lowered program, the cost model and this count agree."""
    b = NetBuilder((1, 4, 8, 8))
    c = b.conv(b.x, 8, 1)
    module = b.module(
        b.add(
            nn.MaxPoolOp(
                c, kernel=(3, 3), strides=(2, 2), pads=(1, 1, 1, 1), result_shape=(1, 8, 4, 4)
            )
        )
    )
    net = extract_network(module)
    (step,) = net.layers[0].vector.steps
    loaded = elements_moved(lower_on_one_core(module), isa.LoadBlockOp, ".conv")
    assert loaded == 9 * 9 * 8
    assert step.loads(ONE_CORE.local_memory_bytes // 2) == loaded
