"""Units and the validity map (pimdsl.units): hand-derived unit plans and an exact packing oracle."""

from __future__ import annotations

import numpy as np
import pytest
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block, Region, SSAValue

from pimdsl.chip import Chip, load_chip
from pimdsl.dialects import nn
from pimdsl.errors import PimError
from pimdsl.network import extract_network
from pimdsl.shapes import conv2d_out_hw
from pimdsl.units import ffd_pack, packs_counts, plan_units, validity_map


class NetBuilder:
    """Shape-only nn networks for tests (weights are named, never loaded)."""

    def __init__(self, shape: tuple[int, ...]):
        self.block = Block(arg_types=[nn.tensor(shape)])
        self.x = self.block.args[0]
        self.count = 0

    def add(self, op) -> SSAValue:
        self.block.add_op(op)
        return op.results[0]

    def conv(
        self,
        x: SSAValue,
        cout: int,
        k: int,
        *,
        stride: int = 1,
        pad: int | None = None,
        groups: int = 1,
        relu: bool = True,
    ) -> SSAValue:
        s = nn.shape_of(x)
        pad = k // 2 if pad is None else pad
        self.count += 1
        w = self.add(nn.WeightOp(f"conv{self.count}.weight", (cout, s[1] // groups, k, k)))
        b = self.add(nn.WeightOp(f"conv{self.count}.bias", (cout,)))
        oh, ow = conv2d_out_hw(s[2:], (k, k), (stride, stride), (pad,) * 4, (1, 1))
        y = self.add(
            nn.Conv2dOp(
                x,
                w,
                b,
                strides=(stride, stride),
                pads=(pad,) * 4,
                dilations=(1, 1),
                groups=groups,
                result_shape=(s[0], cout, oh, ow),
            )
        )
        return self.add(nn.ReluOp(y)) if relu else y

    def linear(self, x: SSAValue, out: int, *, relu: bool = True) -> SSAValue:
        s = nn.shape_of(x)
        self.count += 1
        w = self.add(nn.WeightOp(f"fc{self.count}.weight", (out, s[-1])))
        b = self.add(nn.WeightOp(f"fc{self.count}.bias", (out,)))
        y = self.add(nn.LinearOp(x, w, b, result_shape=(*s[:-1], out)))
        return self.add(nn.ReluOp(y)) if relu else y

    def module(self, y: SSAValue) -> ModuleOp:
        self.block.add_op(func.ReturnOp(y))
        fn = func.FuncOp("main", ([self.x.type], [y.type]), Region(self.block))
        return ModuleOp([fn])


def tiny_chip(**changes: object) -> Chip:
    """compass-s shrunk: 16x16 crossbars (4 four-bit weights per row), 2 per core, 2 cores."""
    base = {
        "name": "tiny",
        "crossbar_rows": 16,
        "crossbar_cols": 16,
        "crossbars_per_core": 2,
        "cores": 2,
    }
    return load_chip("compass-s").replace(**{**base, **changes})


def mlp_48_8_4() -> ModuleOp:
    b = NetBuilder((1, 48))
    return b.module(b.linear(b.linear(b.x, 8), 4, relu=False))


def single_layer(kind: str, **kw: int) -> ModuleOp:
    if kind == "conv":
        b = NetBuilder((1, kw["cin"], 8, 8))
        return b.module(b.conv(b.x, kw["cout"], kw["k"], groups=kw.get("groups", 1)))
    b = NetBuilder((1, kw["cin"]))
    return b.module(b.linear(b.x, kw["cout"]))


def units_of(module: ModuleOp, chip: Chip):
    return plan_units(extract_network(module), chip)


# --- unit plans, derived by hand ---------------------------------------------------------------


def test_conv_units_fit_one_core():
    # 3x3, 64 -> 128 on compass-s: rows 576 = 3 row tiles; 9 // 3 = 3 column tiles of 64
    # channels = 192 channels per unit > 128: one unit, 3 x ceil(128/64) = 6 crossbars.
    u = units_of(single_layer("conv", cin=64, cout=128, k=3), load_chip("compass-s"))
    assert u.crossbars.tolist() == [6]
    assert (u.out_lo.tolist(), u.out_hi.tolist()) == ([0], [128])


def test_conv_split_over_channels():
    # 3x3, 256 -> 256: rows 2304 = 9 tiles = a whole core; one column tile (64 ch) per unit.
    u = units_of(single_layer("conv", cin=256, cout=256, k=3), load_chip("compass-s"))
    assert u.crossbars.tolist() == [9, 9, 9, 9]
    assert u.out_lo.tolist() == [0, 64, 128, 192]
    assert u.row_slice.tolist() == [0, 0, 0, 0]


def test_vgg_fc1_split_along_rows():
    # 25088 rows > 9 x 256: row slices of whole inputs, at most 2304 each, balanced:
    # 11 slices of 2281 (the last 2278) rows = 9 crossbars; 4096 / 64 = 64 column slices.
    u = units_of(single_layer("linear", cin=25088, cout=4096), load_chip("compass-s"))
    assert u.n == 64 * 11
    assert set(u.crossbars.tolist()) == {9}
    assert u.row_slice[:12].tolist() == list(range(11)) + [0]
    assert (u.in_lo[10], u.in_hi[10]) == (22810, 25088)
    assert u.col_slice[-1] == 63


def test_depthwise_groups_packed_block_diagonally():
    # 32 groups of 9 rows x 1 channel: 28 groups share a 256-row crossbar -> 2 crossbars.
    u = units_of(single_layer("conv", cin=32, cout=32, k=3, groups=32), load_chip("compass-s"))
    assert u.crossbars.tolist() == [2]
    assert u.weights.tolist() == [32 * 9]


def test_grouped_conv_too_big_for_sharing_is_dense_per_group():
    # 2 groups of 3x3x128 = 1152 rows (5 tiles) x 64 channels: one unit per group.
    u = units_of(single_layer("conv", cin=256, cout=128, k=3, groups=2), load_chip("compass-s"))
    assert u.crossbars.tolist() == [5, 5]
    assert u.out_lo.tolist() == [0, 64]


def test_chip_too_small_for_one_unit_names_layer_and_chip():
    chip = tiny_chip(crossbar_rows=4, crossbars_per_core=1)
    with pytest.raises(PimError, match=r"layer 'conv1.weight'.*chip 'tiny'"):
        units_of(single_layer("conv", cin=4, cout=4, k=3), chip)


# --- packing and validity ----------------------------------------------------------------------


def exact_packs(sizes: list[int], cores: int, per_core: int) -> bool:
    """Exhaustive bin packing (independent of FFD)."""
    sizes = sorted(sizes, reverse=True)
    free = [per_core] * cores

    def place(i: int) -> bool:
        if i == len(sizes):
            return True
        tried: set[int] = set()
        for c in range(cores):
            if free[c] >= sizes[i] and free[c] not in tried:
                tried.add(free[c])
                free[c] -= sizes[i]
                if place(i + 1):
                    return True
                free[c] += sizes[i]
        return False

    return place(0)


def test_ffd_vectorised_equals_item_by_item():
    rng = np.random.default_rng(7)
    chip = load_chip("compass-s")
    sizes = [1, 2, 3, 5, 9]
    counts = rng.integers(0, 8, size=(300, len(sizes)))
    got = packs_counts(counts, sizes, chip)
    for row, ok in zip(counts, got, strict=True):
        items = [s for s, c in zip(sizes, row, strict=True) for _ in range(c)]
        assert ok == (ffd_pack(items, chip) is not None)


def test_validity_map_against_exact_packing():
    chip = tiny_chip(cores=3, crossbars_per_core=4)
    rng = np.random.default_rng(3)
    for _ in range(20):
        b = NetBuilder((1, int(rng.integers(8, 80))))
        x = b.x
        for _ in range(4):
            x = b.linear(x, int(rng.integers(2, 20)))
        u = units_of(b.module(x), chip)
        max_end = validity_map(u, chip)
        sizes = u.crossbars.tolist()
        assert np.all(np.diff(max_end) >= 0)
        for s in range(u.n):
            assert s < max_end[s] <= u.n
            assert exact_packs(sizes[s : max_end[s]], chip.cores, chip.crossbars_per_core)
            if max_end[s] < u.n:
                assert not exact_packs(
                    sizes[s : max_end[s] + 1], chip.cores, chip.crossbars_per_core
                )


def test_mlp_units_and_validity_by_hand():
    # fc1 48 -> 8: 48 rows > 2 x 16: two row slices of 24 inputs (2 crossbars each) per column
    # slice of 4 channels; fc2 8 -> 4: one unit of one crossbar. Two cores of 2 crossbars.
    chip = tiny_chip()
    u = units_of(mlp_48_8_4(), chip)
    assert u.crossbars.tolist() == [2, 2, 2, 2, 1]
    assert (u.in_lo.tolist(), u.in_hi.tolist()) == ([0, 24, 0, 24, 0], [24, 48, 24, 48, 8])
    assert (u.out_lo.tolist(), u.out_hi.tolist()) == ([0, 0, 4, 4, 0], [4, 4, 8, 8, 4])
    assert validity_map(u, chip).tolist() == [2, 3, 4, 5, 5]
    assert (u.first.tolist(), u.end.tolist()) == ([0, 4], [4, 5])


def test_ffd_vectorised_any_lead_shape_and_sparse_sizes():
    """packs_counts skips the sets without a size and the sets that already failed: results on
    a 3-D batch of mostly-empty count vectors must still equal FFD item by item."""
    rng = np.random.default_rng(11)
    chip = tiny_chip(cores=3, crossbars_per_core=5)
    sizes = [4, 1, 5, 2, 3]  # unsorted on purpose
    counts = rng.integers(0, 4, size=(6, 7, len(sizes))) * (rng.random((6, 7, len(sizes))) < 0.3)
    counts[0, 0] = 0  # the empty set packs
    counts[0, 1] = [0, 0, 4, 0, 0]  # 4 five-crossbar items on 3 cores: fails
    got = packs_counts(counts, sizes, chip)
    assert got.shape == (6, 7)
    assert got[0, 0] and not got[0, 1]
    for idx in np.ndindex(6, 7):
        items = [s for s, c in zip(sizes, counts[idx], strict=True) for _ in range(int(c))]
        assert got[idx] == (ffd_pack(items, chip) is not None), (idx, items)
    assert 0 < got.sum() < got.size  # both outcomes occur, so the check above can fail
