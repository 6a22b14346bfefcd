"""The unit size (`Chip.unit_crossbars`, `--partition='unit_crossbars=...'`): unit plans derived
by hand, the checks on the field and the option, `auto`, and a program with smaller units
against numpy."""

from __future__ import annotations

import numpy as np
import pytest
from test_line_buffer import ONE_CORE, conv3x3_reference
from test_units import NetBuilder, single_layer, units_of
from xdsl.context import Context

from pimdsl.chip import load_chip
from pimdsl.errors import PimError
from pimdsl.grouping.problem import group_fitness
from pimdsl.module_attrs import get_chip, set_batch, set_chip, set_weights
from pimdsl.network import extract_network
from pimdsl.partitioning import span_table_for_module
from pimdsl.passes.partition import PartitionPass, choose_grouping
from pimdsl.units import count_layer_units
from pimdsl.weights import WeightStore, write_npz

S = load_chip("compass-s")  # 9 crossbars of 256 x 256 per core, 64 four-bit weights per row


def test_dense_units_of_at_most_unit_crossbars() -> None:
    # 3x3, 64 -> 128: 576 rows = 3 row tiles. A whole core (9): 9 // 3 = 3 column chunks of 64
    # channels >= 128, one unit of 3 x 2 = 6 crossbars. At most 3: one chunk per unit, two
    # units of 3 crossbars. At most 2 (< 3 row tiles): still one chunk, 3 crossbars each.
    layer = single_layer("conv", cin=64, cout=128, k=3)
    for size, crossbars in ((0, [6]), (9, [6]), (3, [3, 3]), (2, [3, 3])):
        chip = S.replace(unit_crossbars=size)
        u = units_of(layer, chip)
        assert u.crossbars.tolist() == crossbars, size
        assert u.out_hi.tolist()[-1] == 128
        (L,) = extract_network(layer).layers
        assert count_layer_units(L, chip) == u.n


def test_packed_groups_of_at_most_unit_crossbars() -> None:
    # depthwise 3x3 on 32 channels: 28 groups of 9 rows share a 256-row crossbar. A whole core
    # holds 9 x 28 groups: one unit of 2 crossbars; units of one crossbar: 28 + 4 groups.
    layer = single_layer("conv", cin=32, cout=32, k=3, groups=32)
    assert units_of(layer, S).crossbars.tolist() == [2]
    u = units_of(layer, S.replace(unit_crossbars=1))
    assert u.crossbars.tolist() == [1, 1]
    assert (u.out_lo.tolist(), u.out_hi.tolist()) == ([0, 28], [28, 32])


def test_the_field_is_checked() -> None:
    with pytest.raises(PimError, match="unit_crossbars \\(10\\) exceeds crossbars_per_core"):
        S.replace(unit_crossbars=10)
    with pytest.raises(PimError, match="'unit_crossbars' must be"):
        S.replace(unit_crossbars=-1)
    assert "unit_crossbars" not in S.to_dict()  # at its default: the presets' IR is unchanged
    assert S.replace(unit_crossbars=4).to_dict()["unit_crossbars"] == 4


def _module():
    b = NetBuilder((1, 64, 8, 8))
    module = b.module(b.conv(b.conv(b.x, 128, 3), 64, 3))
    set_chip(module, S)
    set_batch(module, 2)
    return module


def test_the_option_is_kept_in_the_chip_and_checked() -> None:
    module = _module()
    PartitionPass(unit_crossbars=3).apply(Context(), module)
    chip = get_chip(module)
    assert chip is not None and chip.unit_crossbars == 3
    for bad in (10, -1, "half"):
        with pytest.raises(PimError, match="unit_crossbars must be auto or a whole number"):
            PartitionPass(unit_crossbars=bad).apply(Context(), _module())


def test_auto_keeps_the_better_of_a_core_and_half_a_core() -> None:
    def fitness(size: int) -> float:
        module = _module()
        set_chip(module, S.replace(unit_crossbars=size))
        table = span_table_for_module(module)
        return group_fitness(table, choose_grouping(table, "optimal", "latency"), "latency")

    module = _module()
    PartitionPass(strategy="optimal", unit_crossbars="auto").apply(Context(), module)
    chip = get_chip(module)
    assert chip is not None
    costs = {0: fitness(0), 4: fitness(4)}  # compass-s: 9 crossbars a core, half = 4
    assert chip.unit_crossbars == min(costs, key=lambda k: (costs[k], k))


def test_a_program_with_smaller_units_computes_the_conv(tmp_path) -> None:
    """conv 16 -> 128 (144 rows, two column chunks of 64) on 2 cores x 2 crossbars: with units
    of one crossbar the layer is two units, lowered, simulated and compared with numpy."""
    chip = ONE_CORE.replace(name="two-by-two", cores=2, crossbars_per_core=2)
    rng = np.random.default_rng(3)
    w = {
        "conv1.weight": rng.standard_normal((128, 16, 3, 3)).astype(np.float32),
        "conv1.bias": rng.standard_normal(128).astype(np.float32),
    }
    write_npz(tmp_path / "w.npz", w)
    b = NetBuilder((1, 16, 8, 8))
    module = b.module(b.conv(b.x, 128, 3))
    assert units_of(module, chip).crossbars.tolist() == [2]
    assert units_of(module, chip.replace(unit_crossbars=1)).crossbars.tolist() == [1, 1]
    set_chip(module, chip)
    set_batch(module, 2)
    set_weights(module, str(tmp_path / "w.npz"))
    from pimdsl.passes.lower_to_isa import LowerToIsaPass
    from pimdsl.sim.isa_interp import run_program

    PartitionPass(unit_crossbars=1).apply(Context(), module)
    LowerToIsaPass().apply(Context(), module)
    x = rng.standard_normal((2, 16, 8, 8)).astype(np.float32)
    out, _ = run_program(module, {"input": x}, weights=WeightStore(tmp_path / "w.npz"))
    want = np.maximum(
        conv3x3_reference(x, w["conv1.weight"]) + w["conv1.bias"][None, :, None, None], 0
    )
    got = next(iter(out.values())).reshape(want.shape)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_the_summary_names_the_unit_size() -> None:
    import io

    from pimdsl.summary import emit_summary

    def summary(module: object) -> str:
        out = io.StringIO()
        emit_summary(module, out)
        return out.getvalue()

    module = _module()
    assert "units of at most" not in summary(module)
    PartitionPass(unit_crossbars=3).apply(Context(), module)
    assert "units of at most 3 crossbars" in summary(module)
