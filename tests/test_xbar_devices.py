"""Device non-idealities of the quantized crossbar (`pimdsl.sim.xbar_devices`).

- bit for bit against the independent cell-by-cell reference (`xbar_reference`), for each
  non-ideality alone and all together, over several chip shapes and seeds;
- all non-idealities off: the exact ideal bit-sliced result, and chips read and print as before;
- the seed and write index decide the draws: same key, same bytes; a rewrite draws new variation,
  while stuck cells and ADC offsets stay with the crossbar;
- the measured effects have the sizes the parameters ask for (fault rate, log-normal spread);
- both the crossbar and the pim_isa interpreter apply them (stats count faults and clipping).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from pimdsl.chip import NON_IDEALITY_FIELDS, Chip, load_chip
from pimdsl.errors import PimError
from pimdsl.sim import xbar_reference as ref
from pimdsl.sim.xbar_devices import GRID_BITS, device_mvm_int, program
from pimdsl.sim.xbar_numerics import crossbar_mvm_int

NOISE_FLOATS = [f for f in NON_IDEALITY_FIELDS if f != "noise_seed"]
STRONG = {
    "variation_sigma": 0.3,
    "read_noise_sigma": 0.05,
    "adc_offset_sigma": 0.4,
    "adc_noise_sigma": 0.5,
    "stuck_at_0_rate": 0.05,
    "stuck_at_1_rate": 0.03,
    "ir_drop": 0.2,
}


def _chip(**changes: object) -> Chip:
    base = dict(
        name="tiny",
        crossbar_rows=8,
        crossbar_cols=16,
        cell_bits=2,
        weight_bits=4,
        act_bits=4,
        dac_bits=2,
        adc_bits=5,
    )
    return load_chip("compass-s").replace(**{**base, **changes})


def _reference(
    chip: Chip, x: np.ndarray, w: np.ndarray, signed: bool, key: tuple[int, ...], read: int = 0
) -> tuple[np.ndarray, int]:
    core, xbar, write = key
    y, clipped = ref.reference_device_mvm_int(
        x.tolist(),
        w.tolist(),
        weight_bits=chip.weight_bits,
        cell_bits=chip.cell_bits,
        act_bits=chip.act_bits,
        dac_bits=chip.dac_bits,
        adc_bits=chip.adc_bits,
        crossbar_rows=chip.crossbar_rows,
        crossbar_cols=chip.crossbar_cols,
        signed_inputs=signed,
        noise={f: getattr(chip, f) for f in NOISE_FLOATS},
        seed=chip.noise_seed,
        core=core,
        xbar=xbar,
        write=write,
        read=read,
    )
    return np.array(y, dtype=np.int64).reshape(len(x), w.shape[1]), clipped


def _operands(
    chip: Chip, seed: int, k: int, n: int, batch: int, signed: bool
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    qw = (1 << (chip.weight_bits - 1)) - 1
    w = rng.integers(-qw, qw + 1, (k, n))
    if signed:
        qx = (1 << (chip.act_bits - 1)) - 1
        x = rng.integers(-qx, qx + 1, (batch, k))
    else:
        x = rng.integers(0, 1 << chip.act_bits, (batch, k))
    return x, w


@pytest.mark.parametrize("which", [*NOISE_FLOATS, "all"])
@pytest.mark.parametrize(
    "shape",
    [
        dict(),  # 2-bit cells and DAC, 5-bit ADC
        dict(cell_bits=1, dac_bits=1, adc_bits=3, crossbar_rows=6, crossbar_cols=12),
        dict(cell_bits=3, weight_bits=6, act_bits=6, dac_bits=3, adc_bits=7, crossbar_cols=9),
    ],
)
def test_bit_for_bit_with_the_reference(which: str, shape: dict[str, int]) -> None:
    noise = STRONG if which == "all" else {which: STRONG[which]}
    for seed in range(3):
        chip = _chip(**shape, **noise, noise_seed=seed * 7 + 1)
        k = chip.crossbar_rows - seed % 2  # full and partial crossbars
        n = chip.weights_per_crossbar_row - seed % 2
        signed = seed != 1
        x, w = _operands(chip, seed, k, n, 5, signed)
        key = (seed, 1 + seed, 2 * seed)
        xbar = program(w, chip, core=key[0], xbar=key[1], write=key[2])
        for read in range(2):  # the read'th MVM draws its own noise
            got, clipped = device_mvm_int(x, xbar, chip, signed_inputs=signed)
            want, want_clipped = _reference(chip, x, w, signed, key, read)
            assert np.array_equal(got, want), f"{which} seed {seed} read {read}"
            assert clipped == want_clipped


def test_all_off_is_the_ideal_bit_sliced_model() -> None:
    chip = _chip(adc_bits=4)  # narrow: the ideal model saturates, the device path must too
    assert not chip.non_ideal
    x, w = _operands(chip, 0, 8, 8, 6, True)
    got, clipped = device_mvm_int(
        x, program(w, chip, core=0, xbar=0, write=0), chip, signed_inputs=True
    )
    ideal = crossbar_mvm_int(
        x,
        w,
        weight_bits=4,
        cell_bits=2,
        act_bits=4,
        dac_bits=2,
        adc_bits=4,
        rows=8,
        signed_inputs=True,
    )
    assert np.array_equal(got, ideal)
    assert clipped > 0


def test_presets_unchanged_by_the_new_fields() -> None:
    for name in ("compass-s", "compass-m", "compass-l", "pimcomp-default"):
        chip = load_chip(name)
        assert not chip.non_ideal
        assert not set(NON_IDEALITY_FIELDS) & set(chip.to_dict())  # not printed, not in IR
        assert not set(NON_IDEALITY_FIELDS) & set(chip.to_attr().data)
    noisy = load_chip("compass-s").replace(ir_drop=0.1, noise_seed=3)
    assert noisy.to_dict()["ir_drop"] == 0.1 and noisy.to_dict()["noise_seed"] == 3
    from pimdsl.chip import from_attr

    assert from_attr(noisy.to_attr()) == noisy


def test_seeded_and_keyed_draws() -> None:
    chip = _chip(**STRONG, noise_seed=11)
    x, w = _operands(chip, 4, 8, 8, 4, False)

    def run(c: Chip, key: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        p = program(w, c, core=key[0], xbar=key[1], write=key[2])
        y, _ = device_mvm_int(x, p, c, signed_inputs=False)
        return p.conductance, p.adc_offset, y

    g1, o1, y1 = run(chip, (0, 1, 0))
    g2, o2, y2 = run(chip, (0, 1, 0))
    assert g1.tobytes() == g2.tobytes() and y1.tobytes() == y2.tobytes()
    g3, _, y3 = run(chip.replace(noise_seed=12), (0, 1, 0))
    assert not np.array_equal(g1, g3) and not np.array_equal(y1, y3)
    # a rewrite of the same crossbar: new variation, the same faults and ADC offsets
    faulty = chip.replace(
        variation_sigma=0.3, read_noise_sigma=0.0, adc_noise_sigma=0.0, ir_drop=0.0
    )
    a = program(w, faulty, core=0, xbar=1, write=0)
    b = program(w, faulty, core=0, xbar=1, write=1)
    assert not np.array_equal(a.conductance, b.conductance)
    assert np.array_equal(a.conductance == 0, b.conductance == 0)  # stuck-at-0 (and zero levels)
    assert a.stuck == b.stuck > 0
    assert np.array_equal(a.adc_offset, b.adc_offset)


def test_effect_sizes() -> None:
    rows, cols = 256, 256
    chip = load_chip("compass-s").replace(stuck_at_0_rate=0.02, stuck_at_1_rate=0.05)
    w = np.zeros((rows, cols // chip.cols_per_weight), dtype=np.int64)
    p = program(w, chip, core=0, xbar=0, write=0)
    cells = rows * cols
    assert abs(p.stuck - 0.07 * cells) < 4 * np.sqrt(0.07 * 0.93 * cells)
    # log-normal: log(g) of cells at level 1 has the asked sigma; the grid is 2^-20
    chip = load_chip("compass-s").replace(variation_sigma=0.25)
    w = np.full((rows, cols // chip.cols_per_weight), -1, dtype=np.int64)  # 7 = 0111 biased
    p = program(w, chip, core=0, xbar=0, write=0)
    ones = p.conductance[:, :3, :]
    assert abs(float(np.log(ones).std()) - 0.25) < 0.01
    assert np.all(p.conductance * 2**GRID_BITS == np.rint(p.conductance * 2**GRID_BITS))
    # IR drop: the farthest row keeps 1 - ir_drop of its current
    chip = load_chip("compass-s").replace(ir_drop=0.1)
    p = program(w, chip, core=0, xbar=0, write=0)
    assert p.conductance[0, 0, 0] == 1.0
    assert abs(p.conductance[-1, 0, 0] - 0.9) < 2**-GRID_BITS


def test_chip_fields_validated(tmp_path: Path) -> None:
    with pytest.raises(PimError, match="stuck_at_0_rate"):
        load_chip("compass-s").replace(stuck_at_0_rate=1.5)
    with pytest.raises(PimError, match="more than every cell"):
        load_chip("compass-s").replace(stuck_at_0_rate=0.6, stuck_at_1_rate=0.6)
    with pytest.raises(PimError, match="variation_sigma"):
        load_chip("compass-s").replace(variation_sigma=-0.1)
    f = tmp_path / "noisy.toml"
    f.write_text('base = "compass-s"\nvariation_sigma = 0.1\nnoise_seed = 0\n')
    assert load_chip(str(f)).variation_sigma == 0.1


# --- through the interpreters ----------------------------------------------------------------------


def test_levels_apply_non_idealities(tmp_path: Path) -> None:
    from test_levels_numerics import QCHIP, _crossbar, _partitioned, _small_network
    from xdsl.context import Context

    from pimdsl.passes.crossbar_to_isa import CrossbarToIsaPass
    from pimdsl.sim.runner import run_module

    x = np.random.default_rng(3).standard_normal((2, 2, 6, 6)).astype(np.float32)
    results = {}
    for label, chip in (
        ("off", QCHIP),
        ("on", dataclasses.replace(QCHIP, **STRONG)),
        ("on-again", dataclasses.replace(QCHIP, **STRONG)),
        ("seed", dataclasses.replace(QCHIP, **STRONG, noise_seed=9)),
    ):
        module, _ = _small_network(tmp_path, chip)
        crossbar = _crossbar(_partitioned(module))
        isa = crossbar.clone()
        CrossbarToIsaPass().apply(Context(), isa)
        for level, m in (("crossbar", crossbar), ("pim_isa", isa)):
            stats: dict[str, float] = {}
            (y,) = run_module(m, [x], options={"mode": "quantized", "stats": stats})
            results[label, level] = (y, stats)
    for level in ("crossbar", "pim_isa"):
        y_off, s_off = results["off", level]
        y_on, s_on = results["on", level]
        assert results["on-again", level][0].tobytes() == y_on.tobytes()
        assert not np.array_equal(y_on, y_off)
        assert not np.array_equal(results["seed", level][0], y_on)
        assert s_on["stuck_cells"] > 0 and s_off["stuck_cells"] == 0
        assert s_on["adc_conversions"] == s_off["adc_conversions"] > 0
        assert s_on["adc_saturations"] > 0


def test_crossbar_level_mvms_match_the_reference(tmp_path: Path) -> None:
    """Every crossbar.mvm of a small network on a noisy chip equals the cell-by-cell reference
    for its tile, keyed by the crossbar's write count and the MVM's read count on that write
    (replayed here from the IR in program order)."""
    from test_levels_numerics import (
        QCHIP,
        _crossbar,
        _partitioned,
        _small_network,
        reference_operands,
    )

    from pimdsl.dialects import crossbar as xb
    from pimdsl.sim.runner import run_module

    chip = dataclasses.replace(QCHIP, **STRONG, noise_seed=3)
    module, weights = _small_network(tmp_path, chip)
    crossbar = _crossbar(_partitioned(module))
    keys = []
    writes: dict[tuple[int, int], int] = {}
    reads: dict[tuple[int, int, int], int] = {}
    for op in crossbar.walk():
        if isinstance(op, xb.WriteOp):
            for t in op.operands:
                place = (t.owner.core_index, t.owner.xbar_index)  # type: ignore[union-attr]
                writes[place] = writes.get(place, -1) + 1
        elif isinstance(op, xb.MvmOp):
            tile = op.tile.owner
            key = (tile.core_index, tile.xbar_index, writes[(tile.core_index, tile.xbar_index)])  # type: ignore[union-attr]
            keys.append((*key, reads.get(key, 0)))
            reads[key] = reads.get(key, 0) + 1
    trace: list[tuple[xb.MvmOp, np.ndarray, np.ndarray]] = []
    x = np.random.default_rng(3).standard_normal((2, 2, 6, 6)).astype(np.float32)
    run_module(crossbar, [x], options={"mode": "quantized", "mvm_trace": trace})
    assert len(trace) == len(keys) >= 10 and max(writes.values()) >= 1  # reloads happen
    for (op, inp, out), (core, xbar, write, read) in zip(trace, keys, strict=True):
        tile = op.tile.owner
        (r0, r1), (c0, c1) = xb.ints(tile.rows), xb.ints(tile.cols)
        xs, signed, x_scale, rows, w_scales = reference_operands(op, inp, weights, chip)
        block = np.array(rows, dtype=np.int64)
        y_int, _ = _reference(chip, xs, block, signed, (core, xbar, write), read)
        expected = (y_int.astype(np.float64) * (x_scale * np.array(w_scales))).astype(np.float32)
        assert np.array_equal(out.reshape(-1, c1 - c0), expected), (
            f"tile {tile.weight.data}[{r0}:{r1}]"
        )
