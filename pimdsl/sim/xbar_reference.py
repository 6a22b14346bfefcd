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
    levels = [[_digits(x[b][r] + x_bias, dac_base, n_steps) for r in range(k)] for b in range(batch)]

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
                    analog_total
                    - w_bias * sum_xb
                    - x_bias * sum_wb
                    + len(tile) * x_bias * w_bias
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
    q = [[max(-top, min(top, round(float(w[r][c]) / scales[c]))) for c in range(n)] for r in range(k)]
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
