"""Crossbar MVM numerics: the vectorised model against an independent reference and hand numbers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from pimdsl.chip import load_preset
from pimdsl.errors import PimError
from pimdsl.sim.xbar_numerics import (
    XbarCounts,
    crossbar_matmul,
    crossbar_mvm_int,
    quantize_inputs,
    quantize_weights,
)
from pimdsl.sim.xbar_reference import (
    reference_matmul,
    reference_mvm_int,
    reference_quantize_inputs,
    reference_quantize_weights,
)


def _random_ints(
    rng: np.random.Generator, shape: tuple[int, int], bits: int, signed: bool
) -> np.ndarray:
    if signed:
        return rng.integers(-(1 << (bits - 1)), 1 << (bits - 1), size=shape)
    return rng.integers(0, 1 << bits, size=shape)


# cell_bits x weight_bits x act_bits x dac_bits x adc_bits, with rows < K so row tiles occur.
# adc 3-5 saturates often, adc 20 never does for these sizes.
_GRID = [
    (cb, wb, ab, db, adc)
    for cb, wb, ab, db, adc in itertools.product((1, 2, 4), (4, 8, 16), (4, 8), (1, 2), (3, 5, 20))
    if cb <= wb
]


@pytest.mark.parametrize(("cell_bits", "weight_bits", "act_bits", "dac_bits", "adc_bits"), _GRID)
def test_mvm_int_equals_reference(
    cell_bits: int, weight_bits: int, act_bits: int, dac_bits: int, adc_bits: int
) -> None:
    seed = int(f"{cell_bits}{weight_bits}{act_bits}{dac_bits}{adc_bits}")
    rng = np.random.default_rng(seed)
    for _ in range(2):
        batch, k, n = int(rng.integers(1, 4)), int(rng.integers(1, 14)), int(rng.integers(1, 5))
        rows = int(rng.integers(1, 6))
        signed = bool(rng.integers(0, 2))
        x = _random_ints(rng, (batch, k), act_bits, signed)
        w = _random_ints(rng, (k, n), weight_bits, True)
        kw = dict(
            weight_bits=weight_bits,
            cell_bits=cell_bits,
            act_bits=act_bits,
            dac_bits=dac_bits,
            adc_bits=adc_bits,
            rows=rows,
        )
        got = crossbar_mvm_int(x, w, **kw, signed_inputs=signed)
        want = reference_mvm_int(x.tolist(), w.tolist(), **kw, signed_inputs=signed)
        assert got.dtype == np.int64
        assert got.tolist() == want


@pytest.mark.parametrize("seed", range(12))
def test_mvm_int_equals_reference_random_params(seed: int) -> None:
    # Also odd combinations: weight_bits not a multiple of cell_bits, large act_bits, dac 4.
    rng = np.random.default_rng(1000 + seed)
    weight_bits = int(rng.integers(2, 13))
    cell_bits = int(rng.integers(1, weight_bits + 1))
    dac_bits = int(rng.choice([1, 2, 4]))
    act_bits = dac_bits * int(rng.integers(1, 5))
    signed = act_bits >= 2 and bool(rng.integers(0, 2))
    adc_bits = int(rng.integers(1, 12))
    batch, k, n = int(rng.integers(1, 5)), int(rng.integers(1, 40)), int(rng.integers(1, 6))
    rows = int(rng.integers(1, 2 * k + 1))
    x = _random_ints(rng, (batch, k), act_bits, signed)
    w = _random_ints(rng, (k, n), weight_bits, True)
    kw = dict(
        weight_bits=weight_bits,
        cell_bits=cell_bits,
        act_bits=act_bits,
        dac_bits=dac_bits,
        adc_bits=adc_bits,
        rows=rows,
    )
    got = crossbar_mvm_int(x, w, **kw, signed_inputs=signed)
    assert got.tolist() == reference_mvm_int(x.tolist(), w.tolist(), **kw, signed_inputs=signed)


def test_hand_worked_2x2() -> None:
    # weight_bits 4, cell_bits 2 (two slices), act_bits 4, dac_bits 2 (two steps), signed inputs.
    # x = [3, -2] -> offset +8 -> [11, 6]; 2-bit digits (LSB first): 11 = (3, 2), 6 = (2, 1).
    # w = [[5, -3], [-1, 7]] -> offset +8 -> [[13, 5], [7, 15]];
    # cell slices (LSB first): 13 = (1, 3), 5 = (1, 1), 7 = (3, 1), 15 = (3, 3).
    # Column 0, cells per row: row0 (1, 3), row1 (3, 1).
    #   step 0 (digits 3, 2): slice0 3*1 + 2*3 = 9, slice1 3*3 + 2*1 = 11
    #   step 1 (digits 2, 1): slice0 2*1 + 1*3 = 5, slice1 2*3 + 1*1 = 7
    #   3-bit ADC (max 7): 9 -> 7, 11 -> 7.  A = 7 + 4*7 + 4*(5 + 4*7) = 167
    #   offsets: 8 * (11 + 6) = 136 and 8 * (5 - 1) = 32  ->  y0 = 167 - 136 - 32 = -1
    #   4-bit ADC (max 15), no clipping: A = 9 + 44 + 132 = 185 -> y0 = 17 = 3*5 + (-2)*(-1).
    # Column 1, cells: row0 (1, 1), row1 (3, 3).
    #   step 0: 3 + 6 = 9 (both slices); step 1: 2 + 3 = 5 (both slices).
    #   3-bit ADC: A = 7 + 28 + 4*(5 + 20) = 135; offsets 136 + 8*(-3 + 7) = 168 -> y1 = -33
    #   4-bit ADC: A = 9 + 36 + 100 = 145 -> y1 = -23 = 3*(-3) + (-2)*7.
    x = np.array([[3, -2]])
    w = np.array([[5, -3], [-1, 7]])
    kw = dict(weight_bits=4, cell_bits=2, act_bits=4, dac_bits=2, rows=2)
    counts = XbarCounts()
    assert crossbar_mvm_int(x, w, **kw, adc_bits=3, cols=4, counts=counts).tolist() == [[-1, -33]]
    # Saturated conversions: column 0 step 0 (9, 11), column 1 step 0 (9, 9).
    assert counts == XbarCounts(
        crossbar_mvms=1, crossbar_steps=2, adc_conversions=8, adc_saturations=4, shift_adds=8
    )
    assert crossbar_mvm_int(x, w, **kw, adc_bits=4).tolist() == [[17, -23]]


def test_hand_worked_row_tiles() -> None:
    # Same numbers, one row per crossbar (two row tiles, partial sums added digitally).
    # Column 0, tile 0 (xu 11 = (3, 2), wu 13 = (1, 3)): 3, 9 -> 7, 2, 6 -> A0 = 3 + 28 + 4*(2 + 24) = 135
    #           tile 1 (xu 6 = (2, 1), wu 7 = (3, 1)): 6, 2, 3, 1 -> A1 = 6 + 8 + 4*(3 + 4) = 42
    #   y0 = 135 + 42 - 136 - 32 = 9.  Column 1 never exceeds 7 here -> exact -23.
    x = np.array([[3, -2]])
    w = np.array([[5, -3], [-1, 7]])
    counts = XbarCounts()
    got = crossbar_mvm_int(
        x,
        w,
        weight_bits=4,
        cell_bits=2,
        act_bits=4,
        dac_bits=2,
        adc_bits=3,
        rows=1,
        cols=2,
        counts=counts,
    )
    assert got.tolist() == [[9, -23]]
    # 2 row tiles x 2 column tiles (a 2-column crossbar holds one 4-bit weight of 2-bit cells).
    assert counts == XbarCounts(
        crossbar_mvms=4, crossbar_steps=8, adc_conversions=16, adc_saturations=1, shift_adds=16
    )


@pytest.mark.parametrize("seed", range(6))
def test_no_saturation_is_exact_matmul(seed: int) -> None:
    # Oracle: plain integer matmul. A 1-bit-per-cell, 1-bit-DAC crossbar of 16 rows sums at
    # most 16 per column, which a 5-bit ADC (max 31) holds without clipping.
    rng = np.random.default_rng(seed)
    x = _random_ints(rng, (7, 100), 8, signed=bool(seed % 2))
    w = _random_ints(rng, (100, 9), 8, True)
    got = crossbar_mvm_int(
        x, w, weight_bits=8, cell_bits=1, act_bits=8, dac_bits=1, adc_bits=5, rows=16
    )
    assert np.array_equal(got, x @ w)
    # Bigger cells and DAC steps: max column sum 16 * 3 * 15 = 720 < 2^10.
    counts = XbarCounts()
    got = crossbar_mvm_int(
        x,
        w,
        weight_bits=8,
        cell_bits=4,
        act_bits=8,
        dac_bits=2,
        adc_bits=10,
        rows=16,
        counts=counts,
    )
    assert np.array_equal(got, x @ w)
    assert counts.adc_saturations == 0


def test_saturation_lowers_the_offset_sum() -> None:
    # All-max inputs and weights on a 1-bit ADC: every column sum clips, so the result is far
    # below the exact product (the offsets are removed exactly, clipping only loses charge).
    x = np.full((1, 8), 7)
    w = np.full((8, 2), 7)
    got = crossbar_mvm_int(
        x, w, weight_bits=4, cell_bits=1, act_bits=3, dac_bits=1, adc_bits=1, rows=8
    )
    # Unsigned x (offset 0): every step/slice column current is 8 (rows with digit 1 and cell 1)
    # or 0, clipped to 1. wu = 15 -> all four slices are 1; x = 7 -> all three steps are 1:
    # A = (1 + 2 + 4) * (1 + 2 + 4 + 8) = 105; offset 8 * sum(x) = 8 * 56 = 448 -> -343.
    assert got.tolist() == [[-343, -343]]


def test_row_tiles_add_up() -> None:
    # Splitting K by hand into crossbar-sized pieces and adding the integer results gives the
    # same as one call: what the crossbar/pim_isa interpreters rely on.
    rng = np.random.default_rng(7)
    x = _random_ints(rng, (5, 70), 4, True)
    w = _random_ints(rng, (70, 6), 4, True)
    kw = dict(
        weight_bits=4, cell_bits=1, act_bits=4, dac_bits=1, adc_bits=3, rows=32, signed_inputs=True
    )
    whole = crossbar_mvm_int(x, w, **kw)
    pieces = sum(crossbar_mvm_int(x[:, i : i + 32], w[i : i + 32], **kw) for i in range(0, 70, 32))
    assert np.array_equal(whole, pieces)
    assert not np.array_equal(whole, x @ w)  # a 3-bit ADC on 32 rows must have clipped


@pytest.mark.parametrize("per_channel", [True, False])
@pytest.mark.parametrize("seed", range(4))
def test_quantizers_equal_reference(per_channel: bool, seed: int) -> None:
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(11, 5)).astype(np.float32)
    w[:, 2] *= 10.0  # channels of different ranges make per-channel differ from per-layer
    w[:, 3] = 0.0  # an all-zero channel
    wq, ws = quantize_weights(w, 6, per_channel)
    rq, rs = reference_quantize_weights(w.tolist(), 6, per_channel)
    assert wq.tolist() == rq and ws.tolist() == rs
    for signed in (True, False):
        x = rng.normal(size=(3, 11))
        if not signed:
            x = np.abs(x)
        xq, xs = quantize_inputs(x, 5, signed)
        rxq, rxs = reference_quantize_inputs(x.tolist(), 5, signed)
        assert xq.tolist() == rxq and xs == rxs


def test_quantize_weights_hand() -> None:
    # 4 bits: levels -7..7, rounding half to even.
    # Column 0: peak 7 -> scale 1: 7 -> 7, 2.5 -> 2, -4.5 -> -4.
    # Column 1: peak 0.5 -> scale 0.5/7: 0.5 -> 7, 0.25 -> 3.5 -> 4, 0 -> 0.
    w = np.array([[7.0, 0.5], [2.5, 0.25], [-4.5, 0.0]])
    q, s = quantize_weights(w, 4, per_channel=True)
    assert q.tolist() == [[7, 7], [2, 4], [-4, 0]]
    assert s.tolist() == pytest.approx([1.0, 0.5 / 7])
    # Per layer: one scale 1 -> column 1: 0.5 -> 0 (half to even), 0.25 -> 0.
    q, s = quantize_weights(w, 4, per_channel=False)
    assert q.tolist() == [[7, 0], [2, 0], [-4, 0]]
    assert s.tolist() == [1.0, 1.0]


_CHIPS = [
    ("compass-s", {}),
    ("pimcomp-default", {}),
    ("compass-s", {"crossbar_rows": 16, "adc_bits": 3}),
    (
        "compass-s",
        {"cell_bits": 2, "dac_bits": 2, "weight_bits": 8, "act_bits": 8, "crossbar_rows": 8},
    ),
]


@pytest.mark.parametrize(("preset", "changes"), _CHIPS)
@pytest.mark.parametrize("per_channel", [True, False])
def test_matmul_equals_reference(preset: str, changes: dict[str, int], per_channel: bool) -> None:
    chip = load_preset(preset).replace(**changes)
    rng = np.random.default_rng(42)
    x = rng.normal(size=(2, 40)).astype(np.float32)
    w = rng.normal(size=(40, 3)).astype(np.float32)
    for signed in (True, False):
        xin = x if signed else np.maximum(x, 0)
        got = crossbar_matmul(xin, w, chip, "quantized", per_channel)
        want = reference_matmul(
            xin.tolist(),
            w.tolist(),
            weight_bits=chip.weight_bits,
            cell_bits=chip.cell_bits,
            act_bits=chip.act_bits,
            dac_bits=chip.dac_bits,
            adc_bits=chip.adc_bits,
            rows=chip.crossbar_rows,
            per_channel=per_channel,
            signed_inputs=signed,
        )
        assert got.dtype == np.float32
        assert np.array_equal(got, np.asarray(want, dtype=np.float32))


def test_ideal_is_numpy_matmul() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4, 300)).astype(np.float32)
    w = rng.normal(size=(300, 20)).astype(np.float32)
    got = crossbar_matmul(x, w, load_preset("compass-s"))
    assert got.dtype == np.float32
    assert np.array_equal(got, x @ w)


def test_error_shrinks_with_bits() -> None:
    # ADC wide enough never to clip: only weight/input rounding remains, and it must shrink.
    rng = np.random.default_rng(11)
    x = rng.normal(size=(8, 200))
    w = rng.normal(size=(200, 16))
    exact = x @ w
    base = load_preset("compass-s").replace(crossbar_rows=64, adc_bits=16)
    errors = []
    for bits in (3, 4, 6, 8, 12):
        chip = base.replace(weight_bits=bits, act_bits=bits)
        y = crossbar_matmul(x, w, chip, "quantized")
        errors.append(float(np.linalg.norm(y - exact) / np.linalg.norm(exact)))
    assert all(a > b for a, b in itertools.pairwise(errors)), errors
    assert errors[-1] < 2e-3
    # A narrow ADC on the same 8-bit chip is worse than the wide one: saturation error.
    narrow = crossbar_matmul(x, w, base.replace(weight_bits=8, act_bits=8, adc_bits=4), "quantized")
    assert np.linalg.norm(narrow - exact) / np.linalg.norm(exact) > errors[3] * 10


def test_counts_for_a_chip() -> None:
    chip = load_preset("compass-s")  # 256x256, 4-bit weights on 1-bit cells: 64 channels/crossbar
    counts = XbarCounts()
    rng = np.random.default_rng(0)
    crossbar_matmul(
        rng.normal(size=(3, 600)), rng.normal(size=(600, 100)), chip, "quantized", counts=counts
    )
    # 3 row tiles (600 / 256), 2 column tiles (100 / 64), 4 input steps, 4 slices.
    assert counts.crossbar_mvms == 3 * 3 * 2
    assert counts.crossbar_steps == 3 * 3 * 2 * 4
    assert counts.adc_conversions == 3 * 3 * 4 * 4 * 100 == counts.shift_adds


def test_bad_input_is_pim_error() -> None:
    chip = load_preset("compass-s")
    with pytest.raises(PimError, match="mode"):
        crossbar_matmul(np.ones((1, 2)), np.ones((2, 2)), chip, "analog")
    with pytest.raises(PimError, match="shape"):
        crossbar_matmul(np.ones((1, 3)), np.ones((2, 2)), chip, "quantized")
    with pytest.raises(PimError, match="signed=True"):
        quantize_inputs(np.array([[-1.0, 2.0]]), 4, signed=False)
    with pytest.raises(PimError, match="weight values"):
        crossbar_mvm_int(
            np.ones((1, 2), dtype=int),
            np.full((2, 1), 8),
            weight_bits=4,
            cell_bits=1,
            act_bits=4,
            dac_bits=1,
            adc_bits=8,
            rows=4,
        )
    with pytest.raises(PimError, match="multiple"):
        crossbar_mvm_int(
            np.ones((1, 2), dtype=int),
            np.ones((2, 1), dtype=int),
            weight_bits=4,
            cell_bits=1,
            act_bits=4,
            dac_bits=3,
            adc_bits=8,
            rows=4,
        )


def test_zero_and_empty_batch() -> None:
    chip = load_preset("compass-s")
    w = np.ones((5, 2))
    assert crossbar_matmul(np.zeros((2, 5)), w, chip, "quantized").tolist() == [[0, 0], [0, 0]]
    assert crossbar_matmul(np.zeros((0, 5)), w, chip, "quantized").shape == (0, 2)
