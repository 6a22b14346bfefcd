"""A slow, independent reference of the quantized crossbar MVM, for tests only.

Same scheme as `xbar_numerics` (docs/numerics.md), written the other way round: plain Python
ints, explicit loops over output columns, row tiles, input steps and cell slices, digits taken
with // and %, and the offsets removed with the expanded product. It shares no code with
`xbar_numerics`; the tests require the two to agree bit for bit. Use small sizes only.
"""

from __future__ import annotations

from collections.abc import Sequence

Matrix = list[list[int]]


def _digits(value: int, base: int, count: int) -> list[int]:
    """`count` base-`base` digits of a non-negative int, least significant first."""
    out = []
    for _ in range(count):
        value, d = divmod(value, base)
        out.append(d)
    assert value == 0, "value does not fit its digits"
    return out


def reference_mvm_int(
    x_int: Sequence[Sequence[int]],
    w_int: Sequence[Sequence[int]],
    *,
    weight_bits: int,
    cell_bits: int,
    act_bits: int,
    dac_bits: int,
    adc_bits: int,
    rows: int,
    signed_inputs: bool,
) -> Matrix:
    """x_int [B][K] times w_int [K][N] through bit-sliced crossbars with clipping ADCs."""
    x = [[int(v) for v in row] for row in x_int]
    w = [[int(v) for v in row] for row in w_int]
    batch, k = len(x), len(w)
    n = len(w[0]) if w else 0
    n_slices = -(-weight_bits // cell_bits)
    n_steps = act_bits // dac_bits
    cell_base = 2**cell_bits
    dac_base = 2**dac_bits
    adc_top = 2**adc_bits - 1
    w_bias = 2 ** (weight_bits - 1)
    x_bias = 2 ** (act_bits - 1) if signed_inputs else 0

    # What the crossbar cells hold: per row, per column, the cell digits of the biased weight.
    cells = [[_digits(w[r][c] + w_bias, cell_base, n_slices) for c in range(n)] for r in range(k)]
    # What the DACs drive: per batch row, per input row, the digits of the biased input.
    levels = [
        [_digits(x[b][r] + x_bias, dac_base, n_steps) for r in range(k)] for b in range(batch)
    ]

    out: Matrix = [[0] * n for _ in range(batch)]
    for b in range(batch):
        for c in range(n):
            total = 0
            for first in range(0, k, rows):
                tile = range(first, min(first + rows, k))
                analog_total = 0
                for step in range(n_steps):
                    for sl in range(n_slices):
                        column_current = sum(levels[b][r][step] * cells[r][c][sl] for r in tile)
                        converted = column_current if column_current <= adc_top else adc_top
                        analog_total += converted * dac_base**step * cell_base**sl
                # sum (xb - x_bias)(wb - w_bias) over the tile, expanded.
                sum_xb = sum(x[b][r] + x_bias for r in tile)
                sum_wb = sum(w[r][c] + w_bias for r in tile)
                total += (
                    analog_total - w_bias * sum_xb - x_bias * sum_wb + len(tile) * x_bias * w_bias
                )
            out[b][c] = total
    return out


def reference_quantize_weights(
    w: Sequence[Sequence[float]], bits: int, per_channel: bool
) -> tuple[Matrix, list[float]]:
    """Symmetric, round half to even (Python's round), one scale per column or per matrix."""
    k = len(w)
    n = len(w[0]) if w else 0
    top = 2 ** (bits - 1) - 1
    if per_channel:
        peaks = [max((abs(float(w[r][c])) for r in range(k)), default=0.0) for c in range(n)]
    else:
        peak = max((abs(float(v)) for row in w for v in row), default=0.0)
        peaks = [peak] * n
    scales = [p / top if p > 0 else 1.0 for p in peaks]
    q = [
        [max(-top, min(top, round(float(w[r][c]) / scales[c]))) for c in range(n)] for r in range(k)
    ]
    return q, scales


def reference_quantize_inputs(
    x: Sequence[Sequence[float]], bits: int, signed: bool
) -> tuple[Matrix, float]:
    values = [float(v) for row in x for v in row]
    if signed:
        lo, hi = -(2 ** (bits - 1) - 1), 2 ** (bits - 1) - 1
        peak = max((abs(v) for v in values), default=0.0)
    else:
        lo, hi = 0, 2**bits - 1
        peak = max(values, default=0.0)
    scale = peak / hi if peak > 0 else 1.0
    q = [[max(lo, min(hi, round(float(v) / scale))) for v in row] for row in x]
    return q, scale


def reference_matmul(
    x: Sequence[Sequence[float]],
    w: Sequence[Sequence[float]],
    *,
    weight_bits: int,
    cell_bits: int,
    act_bits: int,
    dac_bits: int,
    adc_bits: int,
    rows: int,
    per_channel: bool,
    signed_inputs: bool,
) -> list[list[float]]:
    """Float result (Python floats, i.e. float64) of the whole quantized path."""
    xq, x_scale = reference_quantize_inputs(x, act_bits, signed_inputs)
    wq, w_scales = reference_quantize_weights(w, weight_bits, per_channel)
    y = reference_mvm_int(
        xq,
        wq,
        weight_bits=weight_bits,
        cell_bits=cell_bits,
        act_bits=act_bits,
        dac_bits=dac_bits,
        adc_bits=adc_bits,
        rows=rows,
        signed_inputs=signed_inputs,
    )
    return [[float(v) * (x_scale * s) for v, s in zip(row, w_scales, strict=True)] for row in y]


def reference_device_mvm_int(
    x_int: Sequence[Sequence[int]],
    w_int: Sequence[Sequence[int]],
    *,
    weight_bits: int,
    cell_bits: int,
    act_bits: int,
    dac_bits: int,
    adc_bits: int,
    crossbar_rows: int,
    crossbar_cols: int,
    signed_inputs: bool,
    noise: dict[str, float],
    seed: int,
    core: int,
    xbar: int,
    write: int,
    read: int,
    stream: int = 0,
) -> tuple[Matrix, int]:
    """One crossbar (K <= crossbar_rows) with device non-idealities, cell by cell.

    `noise` holds the chip's non-ideality fields (variation_sigma, read_noise_sigma,
    adc_offset_sigma, adc_noise_sigma, stuck_at_0_rate, stuck_at_1_rate, ir_drop). The random
    numbers follow the documented draw protocol (docs/numerics.md): numpy generators keyed by
    [seed, kind, ...] over the physical crossbar; everything else is Python floats and ints.
    Returns the integer result and the number of clipped conversions."""
    import math

    import numpy as np

    x = [[int(v) for v in row] for row in x_int]
    w = [[int(v) for v in row] for row in w_int]
    batch, k = len(x), len(w)
    n = len(w[0]) if w else 0
    n_slices = -(-weight_bits // cell_bits)
    n_steps = act_bits // dac_bits
    top_level = 2**cell_bits - 1
    adc_top = 2**adc_bits - 1
    w_bias = 2 ** (weight_bits - 1)
    x_bias = 2 ** (act_bits - 1) if signed_inputs else 0
    grid = 2.0**20

    def column(c: int, sl: int) -> int:  # physical column of slice sl of output channel c
        return c * n_slices + sl

    shape = (crossbar_rows, crossbar_cols)
    var_z = np.random.default_rng([seed, 1, core, xbar, write]).standard_normal(shape).tolist()
    fault_u = np.random.default_rng([seed, 2, core, xbar]).random(shape).tolist()
    offset_z = np.random.default_rng([seed, 3, core, xbar]).standard_normal(crossbar_cols).tolist()
    p0, p1 = noise["stuck_at_0_rate"], noise["stuck_at_1_rate"]

    # g[r][c][sl]: the conductance the cell ended up with, in levels, on the 2^-20 grid
    g = [[[0.0] * n_slices for _ in range(n)] for _ in range(k)]
    for r in range(k):
        reach = r / (crossbar_rows - 1) if crossbar_rows > 1 else 0.0
        for c in range(n):
            levels = _digits(w[r][c] + w_bias, 2**cell_bits, n_slices)
            for sl in range(n_slices):
                value = float(levels[sl])
                if noise["variation_sigma"]:
                    value = value * math.exp(noise["variation_sigma"] * var_z[r][column(c, sl)])
                if p0 or p1:
                    u = fault_u[r][column(c, sl)]
                    if u < p0:
                        value = 0.0
                    elif u < p0 + p1:
                        value = float(top_level)
                if noise["ir_drop"]:
                    value = value * (1.0 - noise["ir_drop"] * reach)
                g[r][c][sl] = round(value * grid) / grid

    read_rng = np.random.default_rng([seed, 4, stream, core, xbar, write, read])
    draw_shape = (n_steps, n_slices, batch, n)
    read_z = read_rng.standard_normal(draw_shape).tolist() if noise["read_noise_sigma"] else None
    adc_z = read_rng.standard_normal(draw_shape).tolist() if noise["adc_noise_sigma"] else None
    read_scale = noise["read_noise_sigma"] * float(top_level)

    out: Matrix = [[0] * n for _ in range(batch)]
    clipped = 0
    for b in range(batch):
        levels_in = [_digits(x[b][r] + x_bias, 2**dac_bits, n_steps) for r in range(k)]
        for c in range(n):
            total = 0
            for step in range(n_steps):
                squares = sum(levels_in[r][step] ** 2 for r in range(k))
                for sl in range(n_slices):
                    current = sum(levels_in[r][step] * g[r][c][sl] for r in range(k))
                    if read_z is not None:
                        current = current + read_scale * math.sqrt(squares) * read_z[step][sl][b][c]
                    if noise["adc_offset_sigma"]:
                        current = current + noise["adc_offset_sigma"] * offset_z[column(c, sl)]
                    else:
                        current = current + 0.0
                    if adc_z is not None:
                        current = current + noise["adc_noise_sigma"] * adc_z[step][sl][b][c]
                    code = round(current)
                    if code > adc_top or code < 0:
                        clipped += 1
                    total += min(max(code, 0), adc_top) * 2 ** (step * dac_bits + sl * cell_bits)
            total -= w_bias * sum(x[b][r] + x_bias for r in range(k))
            total -= x_bias * sum(w[r][c] for r in range(k))
            out[b][c] = total
    return out, clipped
