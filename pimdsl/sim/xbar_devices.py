"""Device non-idealities of a crossbar in the quantized (bit-sliced) model.

A written crossbar becomes a `ProgrammedXbar`: the analog conductance of every cell that holds a
weight slice, after programming variation, stuck-at faults and IR drop, and the static offset of
every column's ADC. Each MVM on it adds read noise and ADC noise, rounds and clips in the ADC,
and shift-adds exactly as the ideal model does (docs/numerics.md "Non-idealities" has the
equations, the draw protocol and the sources).

Draws are keyed, not sequential: every array comes from its own generator
`default_rng([noise_seed, KIND, ...])`, so a result depends on the seed and on which crossbar
was written how many times, never on the order in which cores or layers ran:

- variation: `[seed, 1, core, xbar, write]`, standard normals over the whole physical
  crossbar `(crossbar_rows, crossbar_cols)` -- a new write (weight reload) draws anew;
- faults: `[seed, 2, core, xbar]`, uniforms over the physical crossbar -- a defect stays;
- ADC offsets: `[seed, 3, core, xbar]`, standard normals, one per physical column;
- read: `[seed, 4, stream, core, xbar, write, read]`, for the read'th MVM on that write: the read
  noise normals `(steps, slices, B, N)`, then the ADC noise normals of the same shape.

Slice `s` of output channel `n` sits in physical column `n * slices + s`, row `k` in row `k`.
Conductances are kept on a grid of 2^-GRID_BITS levels so every column sum is an exact float64
whatever order BLAS adds in; that is what lets the independent reference (`xbar_reference`)
agree bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pimdsl.chip import Chip
from pimdsl.errors import PimError

GRID_BITS = 20  # conductances are multiples of 2^-20 of one level
_VARIATION, _FAULTS, _ADC_OFFSET, _READ = 1, 2, 3, 4


@dataclass
class ProgrammedXbar:
    """One written crossbar: weights as programmed, for MVMs with non-idealities.

    conductance: float64 [K, slices, N], in units of one cell level, on the 2^-GRID_BITS grid;
    adc_offset: float64 [slices, N], in LSB; stuck: how many of the cells hold a stuck value.
    """

    w_int: np.ndarray  # int64 [K, N], what was meant to be written
    conductance: np.ndarray
    adc_offset: np.ndarray
    stuck: int
    key: tuple[int, int, int]  # (core, xbar, write)
    reads: int = 0


def program(w_int: np.ndarray, chip: Chip, *, core: int, xbar: int, write: int) -> ProgrammedXbar:
    """Write the integer weights w_int [K, N] (offset-encoded, bit-sliced) into crossbar `xbar`
    of core `core`, its `write`th write in this run, with the chip's non-idealities."""
    w = np.asarray(w_int, dtype=np.int64)
    k, n = w.shape
    slices = chip.cols_per_weight
    rows, cols = chip.crossbar_rows, chip.crossbar_cols
    if k > rows or n * slices > cols:
        raise PimError(
            f"crossbar numerics: a {k} x {n} weight block ({n * slices} columns of "
            f"{chip.cell_bits}-bit cells) does not fit one {rows} x {cols} crossbar."
        )
    top = (1 << chip.cell_bits) - 1
    wu = w + (1 << (chip.weight_bits - 1))
    levels = np.stack([(wu >> (s * chip.cell_bits)) & top for s in range(slices)], axis=1)
    g = levels.astype(np.float64)  # [K, S, N]
    seed = chip.noise_seed
    if chip.variation_sigma:
        z = np.random.default_rng([seed, _VARIATION, core, xbar, write]).standard_normal(
            (rows, cols)
        )
        g = g * np.exp(chip.variation_sigma * _physical(z, k, slices, n))
    stuck = 0
    if chip.stuck_at_0_rate or chip.stuck_at_1_rate:
        u = _physical(
            np.random.default_rng([seed, _FAULTS, core, xbar]).random((rows, cols)), k, slices, n
        )
        low = u < chip.stuck_at_0_rate
        high = ~low & (u < chip.stuck_at_0_rate + chip.stuck_at_1_rate)
        g = np.where(low, 0.0, np.where(high, float(top), g))
        stuck = int(np.count_nonzero(low | high))
    if chip.ir_drop:
        reach = np.arange(k, dtype=np.float64) / (rows - 1) if rows > 1 else np.zeros(k)
        g = g * (1.0 - chip.ir_drop * reach)[:, None, None]
    g = np.rint(g * 2.0**GRID_BITS) / 2.0**GRID_BITS
    offset = np.zeros((slices, n))
    if chip.adc_offset_sigma:
        z = np.random.default_rng([seed, _ADC_OFFSET, core, xbar]).standard_normal(cols)
        offset = chip.adc_offset_sigma * z[: n * slices].reshape(n, slices).T
    return ProgrammedXbar(w, g, offset, stuck, (core, xbar, write))


def _physical(a: np.ndarray, k: int, slices: int, n: int) -> np.ndarray:
    """The [K, S, N] view of a physical-crossbar array: column n * slices + s of row k."""
    return a[:k, : n * slices].reshape(k, n, slices).transpose(0, 2, 1)


def device_mvm_int(
    x_int: np.ndarray,
    xbar: ProgrammedXbar,
    chip: Chip,
    *,
    signed_inputs: bool,
    stream: int = 0,
) -> tuple[np.ndarray, int]:
    """The integer result [B, N] of x_int [B, K] through the programmed crossbar, and how many
    conversions clipped (above the ADC's top, or below 0 when noise pushes a sum negative).

    The digital parts (offset removal, shift-add) use the weights as meant (`xbar.w_int`): the
    controller knows what it wrote, not what the cells hold."""
    x = np.asarray(x_int, dtype=np.int64)
    k, n = xbar.w_int.shape
    if x.ndim != 2 or x.shape[1] != k:
        raise PimError(
            f"crossbar numerics: inputs of shape {x.shape} do not fit a crossbar holding {k} rows."
        )
    batch = x.shape[0]
    slices = chip.cols_per_weight
    steps = chip.input_steps
    adc_max = (1 << chip.adc_bits) - 1
    if adc_max << (chip.cell_bits * slices + chip.act_bits) >= 1 << 62:
        raise PimError(
            f"crossbar numerics: {chip.adc_bits}-bit ADCs with {chip.weight_bits}-bit weights and "
            f"{chip.act_bits}-bit inputs overflow exact 64-bit simulation; use fewer bits."
        )
    x_offset = (1 << (chip.act_bits - 1)) if signed_inputs else 0
    xu = x + x_offset
    dac_mask = (1 << chip.dac_bits) - 1
    bound = k * dac_mask * float(xbar.conductance.max(initial=0.0))
    if bound * 2.0**GRID_BITS >= 2.0**53:
        raise PimError(
            f"crossbar numerics: column sums up to {bound:.3g} levels are too wide for exact "
            "simulation with non-idealities; use fewer rows, cell bits or DAC bits, or a smaller "
            "variation_sigma."
        )
    core, xb, write = xbar.key
    rng = np.random.default_rng([chip.noise_seed, _READ, stream, core, xb, write, xbar.reads])
    xbar.reads += 1
    shape = (steps, slices, batch, n)
    read_z = rng.standard_normal(shape) if chip.read_noise_sigma else None
    adc_z = rng.standard_normal(shape) if chip.adc_noise_sigma else None
    read_scale = chip.read_noise_sigma * float((1 << chip.cell_bits) - 1)
    g = xbar.conductance.reshape(k, slices * n)
    acc = np.zeros((batch, n), dtype=np.int64)
    clipped = 0
    for j in range(steps):
        d = (xu >> (j * chip.dac_bits)) & dac_mask  # [B, K]
        analog = (d.astype(np.float64) @ g).reshape(batch, slices, n).transpose(1, 0, 2)
        if read_z is not None:  # sum of independent per-cell noise: sigma * sqrt(sum d^2)
            spread = read_scale * np.sqrt((d * d).sum(axis=1).astype(np.float64))  # [B]
            analog = analog + spread[None, :, None] * read_z[j]
        analog = analog + xbar.adc_offset[:, None, :]
        if adc_z is not None:
            analog = analog + chip.adc_noise_sigma * adc_z[j]
        codes = np.rint(analog)
        clipped += int(np.count_nonzero((codes > adc_max) | (codes < 0)))
        q = np.clip(codes, 0, adc_max).astype(np.int64)  # [S, B, N]
        for s in range(slices):
            acc += q[s] << (j * chip.dac_bits + s * chip.cell_bits)
    acc -= (1 << (chip.weight_bits - 1)) * xu.sum(axis=1, keepdims=True)
    acc -= x_offset * xbar.w_int.sum(axis=0, keepdims=True)
    return acc, clipped
