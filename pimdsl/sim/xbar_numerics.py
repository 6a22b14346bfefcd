"""Numerics of a crossbar matrix-vector multiply (MVM): `ideal` float and `quantized` bit-sliced.

Quantized model (docs/numerics.md has the equations and a worked example):

- weights: symmetric to `weight_bits` (per output channel by default, or per layer), stored with
  an offset (bias) of 2^(weight_bits-1) so every stored value is non-negative, as ISAAC does;
  the unsigned value is cut into `cell_bits` slices over ceil(weight_bits / cell_bits) adjacent
  columns;
- inputs: symmetric signed or unsigned to `act_bits`; signed inputs get the same offset trick
  (+2^(act_bits-1)); fed bit-serially, `dac_bits` per step;
- every (row tile, input step, cell slice, column) analog sum is non-negative and goes through an
  ADC that clips it to [0, 2^adc_bits - 1];
- shift-add over slices and steps, accumulation over row tiles and the offset corrections are
  exact integer arithmetic; the result is dequantised with the input and weight scales.

Because the offsets make every analog quantity non-negative, the ADC only saturates at the top;
the digital corrections are exact, so saturation always lowers the offset-encoded sum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from pimdsl.chip import Chip
from pimdsl.errors import PimError
from pimdsl.sim.xbar_devices import ProgrammedXbar, device_mvm_int, program

MODES = ("ideal", "quantized")

# Keep one step's analog partial sums (row tiles x batch x slice columns) below this many
# float32 values (~64 MB); larger batches are processed in chunks.
_CHUNK_ELEMENTS = 1 << 24


@dataclass
class XbarCounts:
    """Event counts of quantized crossbar MVMs, for the energy model.

    crossbar_mvms: one input vector through one crossbar (row tile x column tile);
    crossbar_steps: one DAC step of one crossbar MVM (chip.crossbar_read_pj is per step);
    adc_conversions: one column sum digitised (only columns that hold weights);
    adc_saturations: conversions whose analog sum fell outside the ADC range (only above it
    without non-idealities; noise can also push a sum below 0);
    shift_adds: one column result shifted and added (one per conversion);
    stuck_cells: weight-holding cells written while stuck at 0 or 1 (non-idealities, per write).
    """

    crossbar_mvms: int = 0
    crossbar_steps: int = 0
    adc_conversions: int = 0
    adc_saturations: int = 0
    shift_adds: int = 0
    stuck_cells: int = 0

    def __iadd__(self, other: XbarCounts) -> XbarCounts:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        return self

    def to_dict(self) -> dict[str, int]:
        return {f.name: int(getattr(self, f.name)) for f in fields(self)}


# --- quantization ------------------------------------------------------------------------------


def _check_bits(name: str, bits: int, minimum: int) -> None:
    if not isinstance(bits, int | np.integer) or bits < minimum:
        raise PimError(f"crossbar numerics: {name} must be an integer >= {minimum}, got {bits!r}.")


def quantize_weights(
    w: np.ndarray, bits: int, per_channel: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric quantization of a [K, N] weight matrix to `bits` bits.

    Returns (w_int int64 [K, N] in [-(2^(bits-1)-1), 2^(bits-1)-1], scale float64 [N]) with
    w ~= w_int * scale. Per channel: one scale per output column (max |w| of the column);
    per layer: one scale for the matrix, repeated N times so callers always broadcast the same way.
    An all-zero column (or matrix) gets scale 1.
    """
    _check_bits("weight bits", bits, 2)
    w = np.asarray(w, dtype=np.float64)
    if w.ndim != 2:
        raise PimError(f"crossbar numerics: weights must be a [K, N] matrix, got shape {w.shape}.")
    qmax = (1 << (bits - 1)) - 1
    if per_channel:
        peak = np.abs(w).max(axis=0) if w.shape[0] else np.zeros(w.shape[1])
    else:
        peak = np.full(w.shape[1], np.abs(w).max() if w.size else 0.0)
    scale = np.where(peak > 0, peak / qmax, 1.0)
    w_int = np.clip(np.rint(w / scale), -qmax, qmax).astype(np.int64)
    return w_int, scale


def quantize_inputs(x: np.ndarray, bits: int, signed: bool) -> tuple[np.ndarray, float]:
    """Per-tensor quantization of inputs [B, K] to `bits` bits, scale taken from this tensor.

    signed: symmetric, x_int in [-(2^(bits-1)-1), 2^(bits-1)-1], scale = max|x| / (2^(bits-1)-1).
    unsigned (e.g. after ReLU): x_int in [0, 2^bits-1], scale = max(x) / (2^bits-1); a negative
    input is an error rather than being clipped silently.
    """
    _check_bits("activation bits", bits, 2 if signed else 1)
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise PimError(f"crossbar numerics: inputs must be a [B, K] matrix, got shape {x.shape}.")
    if signed:
        qmin, qmax = -((1 << (bits - 1)) - 1), (1 << (bits - 1)) - 1
        peak = float(np.abs(x).max()) if x.size else 0.0
    else:
        if x.size and float(x.min()) < 0:
            raise PimError(
                f"crossbar numerics: unsigned input quantization got a negative value "
                f"({float(x.min())!r}); quantize this layer's inputs with signed=True."
            )
        qmin, qmax = 0, (1 << bits) - 1
        peak = float(x.max()) if x.size else 0.0
    scale = peak / qmax if peak > 0 else 1.0
    x_int = np.clip(np.rint(x / scale), qmin, qmax).astype(np.int64)
    return x_int, scale


def dequantize(y_int: np.ndarray, x_scale: float, w_scale: np.ndarray) -> np.ndarray:
    """Integer MVM result [B, N] back to float32: y_int * (x_scale * w_scale[n])."""
    factor = float(x_scale) * np.asarray(w_scale, dtype=np.float64)
    return (np.asarray(y_int, dtype=np.float64) * factor).astype(np.float32)


# --- the bit-sliced, bit-serial crossbar -----------------------------------------------------------


def _check_int_range(name: str, a: np.ndarray, lo: int, hi: int, fix: str) -> None:
    if a.size and (int(a.min()) < lo or int(a.max()) > hi):
        raise PimError(
            f"crossbar numerics: {name} values must lie in [{lo}, {hi}], got "
            f"[{int(a.min())}, {int(a.max())}]; {fix}"
        )


def crossbar_mvm_int(
    x_int: np.ndarray,
    w_int: np.ndarray,
    *,
    weight_bits: int,
    cell_bits: int,
    act_bits: int,
    dac_bits: int,
    adc_bits: int,
    rows: int,
    cols: int | None = None,
    signed_inputs: bool | None = None,
    counts: XbarCounts | None = None,
) -> np.ndarray:
    """Integer result [B, N] (int64) of x_int [B, K] @ w_int [K, N] through bit-sliced crossbars.

    K is split into row tiles of `rows` rows (one crossbar each); partial sums are added
    digitally. `signed_inputs` says whether x_int uses the signed (offset) encoding; None infers
    it from the data (any negative value), but callers that split one layer into several calls
    must pass the layer's choice, since the encoding changes what saturates. `cols` (crossbar
    columns) only matters for `counts`; without it one column tile is assumed. When no ADC
    saturates the result equals x_int @ w_int exactly.
    """
    for name, bits, minimum in (
        ("weight_bits", weight_bits, 2),
        ("cell_bits", cell_bits, 1),
        ("act_bits", act_bits, 1),
        ("dac_bits", dac_bits, 1),
        ("adc_bits", adc_bits, 1),
        ("rows", rows, 1),
    ):
        _check_bits(name, bits, minimum)
    if act_bits % dac_bits:
        raise PimError(
            f"crossbar numerics: act_bits ({act_bits}) must be a multiple of dac_bits ({dac_bits})."
        )
    x = np.asarray(x_int)
    w = np.asarray(w_int)
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[0]:
        raise PimError(
            f"crossbar numerics: cannot multiply inputs of shape {x.shape} by weights of shape "
            f"{w.shape}; expected [B, K] and [K, N]."
        )
    if not (np.issubdtype(x.dtype, np.integer) and np.issubdtype(w.dtype, np.integer)):
        raise PimError("crossbar numerics: crossbar_mvm_int takes integer arrays; quantize first.")
    x = x.astype(np.int64)
    w = w.astype(np.int64)
    signed = bool(x.size and x.min() < 0) if signed_inputs is None else bool(signed_inputs)
    if signed:
        _check_int_range(
            "signed input",
            x,
            -(1 << (act_bits - 1)),
            (1 << (act_bits - 1)) - 1,
            "requantize the inputs to act_bits.",
        )
    else:
        _check_int_range(
            "unsigned input",
            x,
            0,
            (1 << act_bits) - 1,
            "requantize the inputs to act_bits or pass signed_inputs=True.",
        )
    _check_int_range(
        "weight",
        w,
        -(1 << (weight_bits - 1)),
        (1 << (weight_bits - 1)) - 1,
        "requantize the weights to weight_bits.",
    )

    batch, k = x.shape
    n = w.shape[1]
    slices = math.ceil(weight_bits / cell_bits)
    steps = act_bits // dac_bits
    tiles = max(1, math.ceil(k / rows))
    adc_max = (1 << adc_bits) - 1
    w_offset = 1 << (weight_bits - 1)
    x_offset = (1 << (act_bits - 1)) if signed else 0

    # Offset encoding: every stored cell and every DAC level is non-negative.
    wu = w + w_offset
    xu = x + x_offset
    pad = tiles * rows - k  # padded rows hold zeros on both sides: they add nothing
    wu = np.pad(wu, ((0, pad), (0, 0)))
    xu = np.pad(xu, ((0, 0), (0, pad)))

    max_analog = rows * ((1 << dac_bits) - 1) * ((1 << cell_bits) - 1)  # one column, one step
    if tiles * max(adc_max, max_analog) >= (1 << 53) or (
        tiles * adc_max << (cell_bits * slices + act_bits)
    ) >= (1 << 62):
        raise PimError(
            f"crossbar numerics: {tiles} row tiles with {adc_bits}-bit ADCs, {weight_bits}-bit "
            f"weights and {act_bits}-bit inputs overflow exact 64-bit simulation; use fewer bits."
        )

    # Digit planes: what the DACs drive at each step, what the cells of each slice hold.
    dac_mask = (1 << dac_bits) - 1
    cell_mask = (1 << cell_bits) - 1
    digits = [(xu >> (j * dac_bits)) & dac_mask for j in range(steps)]  # [B, K'] each
    cells = [(wu >> (s * cell_bits)) & cell_mask for s in range(slices)]  # [K', N] each

    # A (step, slice) pair whose worst column sum over every tile and batch row fits the ADC
    # can never clip, so its conversions add up to a plain product: skip the per-tile model.
    # Bound: (sum of the step's digits over the tile's rows) x (largest cell of the slice there).
    acc = np.zeros((batch, n), dtype=np.int64)
    saturations = 0
    if batch:
        digit_sums = np.stack(
            [d.reshape(batch, tiles, rows).sum(axis=2).max(axis=0) for d in digits]
        )
        cell_max = np.stack([c.reshape(tiles, rows * n).max(axis=1) for c in cells])
        safe = (digit_sums[:, None, :] * cell_max[None, :, :]).max(axis=2) <= adc_max  # [J, S]
        groups: dict[tuple[bool, ...], list[int]] = {}
        for j in range(steps):  # steps with the same safe slices share one product
            groups.setdefault(tuple(bool(v) for v in safe[j]), []).append(j)
        for key, group in groups.items():
            safe_slices = [s for s in range(slices) if key[s]]
            clip_slices = [s for s in range(slices) if not key[s]]
            if safe_slices:
                x_part = sum(digits[j] << (j * dac_bits) for j in group)
                w_part = sum(cells[s] << (s * cell_bits) for s in safe_slices)
                assert isinstance(x_part, np.ndarray) and isinstance(
                    w_part, np.ndarray
                )  # non-empty sums
                acc += _exact_matmul(x_part, w_part)
            if clip_slices:
                part, sat = _clipped_steps(
                    [digits[j] for j in group],
                    [cells[s] for s in clip_slices],
                    step_shifts=[j * dac_bits for j in group],
                    slice_shifts=[s * cell_bits for s in clip_slices],
                    tiles=tiles,
                    rows=rows,
                    adc_max=adc_max,
                    max_analog=max_analog,
                )
                acc += part
                saturations += sat

    # Remove the offsets digitally: sum(x*w) = sum(xu*wu) - w_off*sum(xu) - x_off*sum(w).
    acc -= w_offset * xu.sum(axis=1, keepdims=True)
    acc -= x_offset * w.sum(axis=0, keepdims=True)

    if counts is not None:
        col_tiles = 1 if cols is None else math.ceil(n / max(1, cols // slices))
        if cols is not None and cols < slices:
            raise PimError(
                f"crossbar numerics: a {weight_bits}-bit weight needs {slices} columns of "
                f"{cell_bits}-bit cells but a crossbar has only {cols}."
            )
        counts += mvm_counts(batch, tiles, col_tiles, steps, slices, n)
        counts.adc_saturations += saturations
    return acc


@dataclass
class DeviceState:
    """Where a crossbar's weights were written (for the keyed draws of `xbar_devices`) and, once
    programmed, the ProgrammedXbar; `stream` separates read noise of separate runs."""

    core: int
    xbar: int
    write: int
    stream: int = 0
    programmed: ProgrammedXbar | None = None

    def mvm(
        self,
        x_int: np.ndarray,
        w_int: np.ndarray,
        chip: Chip,
        signed: bool,
        counts: XbarCounts | None,
    ) -> np.ndarray:
        """x_int @ w_int through this crossbar, programming it on first use (or when the
        block differs, e.g. a smaller slice of what was written)."""
        p = self.programmed
        if p is None or p.w_int.shape != w_int.shape or not np.array_equal(p.w_int, w_int):
            p = self.programmed = program(
                w_int, chip, core=self.core, xbar=self.xbar, write=self.write
            )
            if counts is not None:
                counts.stuck_cells += p.stuck
        y, clipped = device_mvm_int(x_int, p, chip, signed_inputs=signed, stream=self.stream)
        if counts is not None:
            n = w_int.shape[1]
            col_tiles = math.ceil(n / max(1, chip.weights_per_crossbar_row))
            counts += mvm_counts(
                len(x_int), 1, col_tiles, chip.input_steps, chip.cols_per_weight, n
            )
            counts.adc_saturations += clipped
        return y


def mvm_counts(
    batch: int, tiles: int, col_tiles: int, steps: int, slices: int, n: int
) -> XbarCounts:
    """Events of `batch` input vectors through `tiles` x `col_tiles` crossbars holding N output
    channels of `slices` columns each, fed in `steps` DAC steps (saturations not included)."""
    mvms = batch * tiles * col_tiles
    conversions = batch * tiles * steps * slices * n
    return XbarCounts(
        crossbar_mvms=mvms,
        crossbar_steps=mvms * steps,
        adc_conversions=conversions,
        shift_adds=conversions,
    )


def _exact_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b for non-negative int64 matrices, exactly; BLAS floats when the sums fit."""
    bound = int(a.max(initial=0)) * int(b.max(initial=0)) * a.shape[1]
    if bound < (1 << 24):
        return np.matmul(a.astype(np.float32), b.astype(np.float32)).astype(np.int64)
    if bound < (1 << 53):
        return np.matmul(a.astype(np.float64), b.astype(np.float64)).astype(np.int64)
    return np.matmul(a, b)


def _clipped_steps(
    digits: list[np.ndarray],
    cells: list[np.ndarray],
    *,
    step_shifts: list[int],
    slice_shifts: list[int],
    tiles: int,
    rows: int,
    adc_max: int,
    max_analog: int,
) -> tuple[np.ndarray, int]:
    """Shift-added ADC outputs of the given input steps x cell slices, tile by tile.

    digits: per step [B, tiles*rows]; cells: per slice [tiles*rows, N]. Returns the int64
    [B, N] sum over tiles, steps and slices of clip(column sum) << (step shift + slice shift),
    and how many conversions clipped.
    """
    batch = digits[0].shape[0]
    n = cells[0].shape[1]
    n_slices = len(cells)
    # Small integers in float: BLAS speed without rounding (max_analog < 2^24 for float32).
    ftype = np.float32 if max_analog < (1 << 24) else np.float64
    stacked = np.stack(cells, axis=1).reshape(tiles, rows, n_slices * n).astype(ftype)
    slice_weight = np.array([1 << sh for sh in slice_shifts], dtype=np.int64)
    out = np.zeros((batch, n), dtype=np.int64)
    saturations = 0
    chunk = max(1, _CHUNK_ELEMENTS // max(1, tiles * n_slices * n))
    for b0 in range(0, batch, chunk):
        bc = min(chunk, batch - b0)
        for d, shift in zip(digits, step_shifts, strict=True):
            drive = d[b0 : b0 + bc].astype(ftype).reshape(bc, tiles, rows).transpose(1, 0, 2)
            analog = np.matmul(drive, stacked)  # [tile, batch, slice * N], every sum >= 0
            saturations += int(np.count_nonzero(analog > adc_max))
            np.minimum(analog, adc_max, out=analog)  # the ADC
            # Row-tile accumulation (exact below 2^53), then shift-add over slices in int64.
            per_slice = analog.sum(axis=0, dtype=np.float64).astype(np.int64)
            shifted = per_slice.reshape(bc, n_slices, n).transpose(0, 2, 1) @ slice_weight
            out[b0 : b0 + bc] += shifted << shift
    return out, saturations


# --- float front door ------------------------------------------------------------------------------


def crossbar_matmul(
    x: np.ndarray,
    w: np.ndarray,
    chip: Chip,
    mode: str = "ideal",
    per_channel: bool = True,
    *,
    signed_inputs: bool | None = None,
    counts: XbarCounts | None = None,
    device: DeviceState | None = None,
) -> np.ndarray:
    """x [B, K] @ w [K, N] as the chip computes it; float32 [B, N].

    ideal: float32 matmul. quantized: quantize weights (per channel or per layer) and inputs
    (per tensor; signed if `signed_inputs`, or if None, if any input is negative), run the
    bit-sliced crossbar model on the chip's bit widths and crossbar size, dequantise.
    `device` (quantized mode, a chip with non-idealities): w is one crossbar's block and is
    programmed through it (`xbar_devices`), its ProgrammedXbar cached for the next MVMs.
    """
    if mode not in MODES:
        raise PimError(
            f"unknown crossbar numerics mode '{mode}'.", hint=f"Use one of {', '.join(MODES)}."
        )
    x = np.asarray(x)
    w = np.asarray(w)
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[0]:
        raise PimError(
            f"crossbar numerics: cannot multiply inputs of shape {x.shape} by weights of shape "
            f"{w.shape}; expected [B, K] and [K, N]."
        )
    if mode == "ideal":
        return np.matmul(x.astype(np.float32), w.astype(np.float32))
    signed = bool(x.size and x.min() < 0) if signed_inputs is None else bool(signed_inputs)
    x_int, x_scale = quantize_inputs(x, chip.act_bits, signed)
    w_int, w_scale = quantize_weights(w, chip.weight_bits, per_channel)
    if device is not None:
        return dequantize(device.mvm(x_int, w_int, chip, signed, counts), x_scale, w_scale)
    y_int = crossbar_mvm_int(
        x_int,
        w_int,
        weight_bits=chip.weight_bits,
        cell_bits=chip.cell_bits,
        act_bits=chip.act_bits,
        dac_bits=chip.dac_bits,
        adc_bits=chip.adc_bits,
        rows=chip.crossbar_rows,
        cols=chip.crossbar_cols,
        signed_inputs=signed,
        counts=counts,
    )
    return dequantize(y_int, x_scale, w_scale)
