"""xDSL interpreter functions for the `crossbar` dialect (level 3), with modelled crossbar state.

- **DRAM image** (`DramImage`): the weight file's tensors as the chip's DRAM holds them, as
  weight matrices (`crossbar.weight_matrix` of the tile's layout); in `quantized` mode the
  image holds each layer quantized offline (symmetric, `weight_bits`, per output channel unless
  `per_channel=False`), since a layer's scale must not depend on which partition holds a block.
- **Crossbars**: one slot per (core, crossbar). `crossbar.write` reads each tile's block from
  the DRAM image and programs it into its slot, overwriting whatever the previous partition left
  there; `crossbar.mvm` computes with the slot's contents and fails if the slot holds another
  tile. So a network that does not fit is really reloaded, partition by partition.
- **MVM numerics**: `ideal` is a float32 matmul; `quantized` quantizes the MVM's whole input
  tensor once (per tensor: the layer's scale, signed when any value is negative), and runs each
  tile through `xbar_numerics.crossbar_mvm_int` (bit slices, bit-serial DAC steps, saturating
  ADC, shift-add) on the chip's widths, then dequantizes with the input and weight scales.
  Partial sums of row tiles are added by `crossbar.accumulate` (digital, float32).
  One MVM op covers all its windows and the batch in one call: no Python loop over windows.

- **Non-idealities** (quantized mode, a chip with any non-ideality field set): each
  `crossbar.write` programs the tile through `xbar_devices` as that crossbar's next write (new
  variation per write; faults and ADC offsets belong to the crossbar), and its MVMs add read and
  ADC noise.

Options (`RunContext.options`): `mode` ("ideal" | "quantized", default ideal), `per_channel`
(bool, default True), `noise_stream` (int, default 0: separates the read noise of separate
runs on the same programmed chip), `stats` (dict, see `pimdsl.sim.run_stats`), `mvm_trace` (a list: every
executed `crossbar.mvm` appends `(op, input, output)`, for tests and for inspecting numerics).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from xdsl.interpreter import (
    Interpreter,
    InterpreterFunctions,
    PythonValues,
    ReturnedValues,
    TerminatorValue,
    impl,
    impl_terminator,
    register_impls,
)

from pimdsl.chip import Chip
from pimdsl.dialects import crossbar as xb
from pimdsl.errors import PimError
from pimdsl.module_attrs import get_chip
from pimdsl.shapes import pair
from pimdsl.sim import run_stats
from pimdsl.sim.xbar_numerics import (
    MODES,
    DeviceState,
    XbarCounts,
    crossbar_mvm_int,
    dequantize,
    quantize_inputs,
    quantize_weights,
)
from pimdsl.weights import WeightStore

if TYPE_CHECKING:
    from pimdsl.sim.runner import RunContext


@dataclass(frozen=True)
class Tile:
    """The value of `crossbar.tile`: which block goes where."""

    weight: str
    layout: str
    rows: tuple[int, int]
    cols: tuple[int, int]
    groups: int
    replica: int
    core: int
    xbar: int

    @property
    def block(self) -> tuple[str, str, tuple[int, int], tuple[int, int], int]:
        return self.weight, self.layout, self.rows, self.cols, self.groups

    @property
    def weights(self) -> int:
        """Weight values the tile holds (block-diagonal zeros not counted)."""
        return (self.rows[1] - self.rows[0]) * (self.cols[1] - self.cols[0])

    def describe(self) -> str:
        return (
            f"{self.weight}[{self.rows[0]}:{self.rows[1]}, {self.cols[0]}:{self.cols[1]}] "
            f"replica {self.replica}"
        )


@dataclass
class Slot:
    """What one crossbar holds: the tile and its physical block (float, or int + scales)."""

    tile: Tile
    matrix: np.ndarray  # [crossbar rows used, cols]: float32 (ideal) or int64 (quantized)
    scale: np.ndarray | None  # quantized: per column weight scale
    device: DeviceState | None = None  # quantized on a chip with non-idealities


def physical(block: np.ndarray, groups: int) -> np.ndarray:
    """A block laid out on a crossbar: block-diagonal when it holds `groups` groups."""
    if groups == 1:
        return block
    r, c = block.shape
    cg = c // groups
    out = np.zeros((r * groups, c), dtype=block.dtype)
    for i in range(groups):
        out[i * r : (i + 1) * r, i * cg : (i + 1) * cg] = block[:, i * cg : (i + 1) * cg]
    return out


class DramImage:
    """The weights in DRAM, as matrices; quantized once per layer in quantized mode."""

    def __init__(
        self, store: WeightStore | None, quantized: bool, weight_bits: int, per_channel: bool
    ):
        self.store = store
        self.quantized = quantized
        self.weight_bits = weight_bits
        self.per_channel = per_channel
        self._matrices: dict[tuple[str, str], tuple[np.ndarray, np.ndarray | None]] = {}

    def tensor(self, name: str) -> np.ndarray:
        if self.store is None:
            raise PimError(
                f"crossbar tile/bias '{name}': the module names no weight file (pim.weights), "
                "so the DRAM image is empty.",
                hint="Import the network from its .onnx file or add pim.weights to the module.",
            )
        if name not in self.store:
            raise PimError(
                f"crossbar tile/bias '{name}': the weight file '{self.store.path}' has no tensor "
                "of that name.",
                hint="Point pim.weights at the file the IR was made from.",
            )
        return self.store[name]

    def matrix(self, name: str, layout: str) -> tuple[np.ndarray, np.ndarray | None]:
        key = (name, layout)
        if key not in self._matrices:
            m = xb.weight_matrix(self.tensor(name), layout)
            if self.quantized:
                w_int, scale = quantize_weights(m, self.weight_bits, self.per_channel)
                self._matrices[key] = (w_int, scale)
            else:
                self._matrices[key] = (np.ascontiguousarray(m, dtype=np.float32), None)
        return self._matrices[key]

    def read(self, tile: Tile) -> Slot:
        m, scale = self.matrix(tile.weight, tile.layout)
        (r0, r1), (c0, c1) = tile.rows, tile.cols
        if r1 > m.shape[0] or c1 > m.shape[1]:
            raise PimError(
                f"crossbar.tile {tile.describe()}: the block is outside weight '{tile.weight}', "
                f"whose {tile.layout} matrix is {m.shape[0]} x {m.shape[1]}."
            )
        block = physical(m[r0:r1, c0:c1], tile.groups)
        return Slot(tile, np.ascontiguousarray(block), None if scale is None else scale[c0:c1])


def im2col(
    x: np.ndarray,
    kernel: tuple[int, ...],
    strides: tuple[int, ...],
    pads: tuple[int, ...],
    dilations: tuple[int, ...],
) -> np.ndarray:
    """[N, C, H, W] -> [N, OH*OW, C*kh*kw]: rows = windows (row-major), columns (c, ky, kx)."""
    n, c = x.shape[:2]
    kh, kw = kernel
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    span = (dilations[0] * (kh - 1) + 1, dilations[1] * (kw - 1) + 1)
    v = sliding_window_view(xp, span, axis=(2, 3))[
        :, :, :: strides[0], :: strides[1], :: dilations[0], :: dilations[1]
    ]
    oh, ow = v.shape[2], v.shape[3]
    return np.ascontiguousarray(v.transpose(0, 2, 3, 1, 4, 5)).reshape(n, oh * ow, c * kh * kw)


@register_impls
@dataclass
class CrossbarFunctions(InterpreterFunctions):
    chip: Chip
    dram: DramImage
    mode: str = "ideal"
    stats: dict[str, float] = field(default_factory=dict)
    crossbars: dict[tuple[int, int], Slot] = field(default_factory=dict)
    counts: XbarCounts = field(default_factory=XbarCounts)
    trace: list[tuple[xb.MvmOp, np.ndarray, np.ndarray]] | None = None
    noise_stream: int = 0
    writes: dict[tuple[int, int], int] = field(default_factory=dict)  # per crossbar, this run
    _inputs: list[tuple[np.ndarray, np.ndarray, float, bool]] = field(default_factory=list)

    @classmethod
    def for_run(cls, context: RunContext) -> CrossbarFunctions:
        """The factory `pimdsl.sim.runner.LEVELS` names for the `crossbar` dialect."""
        chip = get_chip(context.module)
        assert chip is not None
        mode = context.options.get("mode", "ideal")
        if mode not in MODES:
            raise PimError(
                f"unknown numerics mode '{mode}'.", hint=f"Use one of {', '.join(MODES)}."
            )
        per_channel = bool(context.options.get("per_channel", True))
        dram = DramImage(context.weights, mode == "quantized", chip.weight_bits, per_channel)
        trace = context.options.get("mvm_trace")
        return cls(
            chip=chip,
            dram=dram,
            mode=mode,
            stats=run_stats.stats_dict(context.options),
            trace=trace if isinstance(trace, list) else None,
            noise_stream=int(context.options.get("noise_stream", 0)),
        )

    # --- partitions ---------------------------------------------------------------------------

    @impl(xb.PartitionOp)
    def run_partition(
        self, interpreter: Interpreter, op: xb.PartitionOp, args: PythonValues
    ) -> PythonValues:
        run_stats.add(self.stats, "partitions_run", 1)
        run_stats.add_activation_traffic(self.stats, list(args), [], self.chip.act_bits)
        results = interpreter.run_ssacfg_region(op.body, args, f"partition {op.number}")
        run_stats.add_activation_traffic(self.stats, [], list(results), self.chip.act_bits)
        self._inputs.clear()
        if self.mode == "quantized":
            for key, value in self.counts.to_dict().items():
                if key != "crossbar_mvms":  # counted for both modes in run_mvm
                    run_stats.add(self.stats, key, value)
            self.counts = XbarCounts()
        return results

    @impl_terminator(xb.YieldOp)
    def run_yield(
        self, interpreter: Interpreter, op: xb.YieldOp, args: PythonValues
    ) -> tuple[TerminatorValue, PythonValues]:
        return ReturnedValues(args), ()

    # --- weights --------------------------------------------------------------------------------

    @impl(xb.TileOp)
    def run_tile(self, interpreter: Interpreter, op: xb.TileOp, args: PythonValues) -> PythonValues:
        tile = Tile(
            op.weight.data,
            op.layout.data,
            pair(xb.ints(op.rows)),
            pair(xb.ints(op.cols)),
            op.group_count,
            op.replica_index,
            op.core_index,
            op.xbar_index,
        )
        return (tile,)

    @impl(xb.WriteOp)
    def run_write(
        self, interpreter: Interpreter, op: xb.WriteOp, args: PythonValues
    ) -> PythonValues:
        unique: set[tuple[object, ...]] = set()
        for tile in args:
            slot = self.dram.read(tile)
            place = (tile.core, tile.xbar)
            if self.mode == "quantized" and self.chip.non_ideal:  # a new write: new variation
                slot.device = DeviceState(
                    tile.core, tile.xbar, self.writes.get(place, 0), self.noise_stream
                )
                self.writes[place] = self.writes.get(place, 0) + 1
            self.crossbars[place] = slot  # overwrites
            nbytes = tile.weights * self.chip.weight_bits / 8
            run_stats.add(self.stats, "tiles_written", 1)
            run_stats.add(self.stats, "crossbar_bytes_written", nbytes)
            if tile.block not in unique:  # replicas of a block: one DRAM read, broadcast
                unique.add(tile.block)
                run_stats.add_weight_traffic(self.stats, nbytes)
        return ()

    # --- activations ----------------------------------------------------------------------------

    @impl(xb.Im2colOp)
    def run_im2col(
        self, interpreter: Interpreter, op: xb.Im2colOp, args: PythonValues
    ) -> PythonValues:
        y = im2col(
            np.asarray(args[0], dtype=np.float32),
            xb.ints(op.kernel),
            xb.ints(op.strides),
            xb.ints(op.pads),
            xb.ints(op.dilations),
        )
        return (_checked(op, y),)

    @impl(xb.MvmOp)
    def run_mvm(self, interpreter: Interpreter, op: xb.MvmOp, args: PythonValues) -> PythonValues:
        tile, x = args
        slot = self.crossbars.get((tile.core, tile.xbar))
        if slot is None or slot.tile.block != tile.block:
            held = "nothing" if slot is None else f"'{slot.tile.describe()}'"
            raise PimError(
                f"crossbar.mvm on tile '{tile.describe()}', but crossbar {tile.xbar} of core "
                f"{tile.core} holds {held}: the tile was not written in this partition.",
                hint="Every partition must crossbar.write the tiles it uses before its MVMs.",
            )
        i0, i1 = xb.ints(op.in_rows)
        window = slice(None) if op.windows is None else slice(*xb.ints(op.windows))
        lead = tuple(xb.shape_of(op.output)[:-1])
        run_stats.add(self.stats, "mvm_ops", 1)
        run_stats.add(self.stats, "crossbar_mvms", int(np.prod(lead)))
        y = self._mvm(x, slot, window, i0, i1).reshape(*lead, -1)
        if self.trace is not None:
            self.trace.append((op, x, y))
        return (_checked(op, y),)

    def _mvm(self, x: np.ndarray, slot: Slot, window: slice, i0: int, i1: int) -> np.ndarray:
        """[rows, cols] result of the slot's block on x's windows `window`, columns [i0, i1)."""
        if self.mode == "ideal":
            xs = x[:, window, i0:i1] if x.ndim == 3 else x[:, i0:i1]
            return xs.reshape(-1, i1 - i0) @ slot.matrix
        x_int, x_scale, signed = self._quantized_input(x)
        xs = x_int[:, window, i0:i1] if x.ndim == 3 else x_int[:, i0:i1]
        c = self.chip
        vectors = xs.reshape(-1, i1 - i0)
        if slot.device is not None:
            y_int = slot.device.mvm(vectors, slot.matrix, c, signed, self.counts)
        else:
            y_int = crossbar_mvm_int(
                vectors,
                slot.matrix,
                weight_bits=c.weight_bits,
                cell_bits=c.cell_bits,
                act_bits=c.act_bits,
                dac_bits=c.dac_bits,
                adc_bits=c.adc_bits,
                rows=c.crossbar_rows,
                cols=c.crossbar_cols,
                signed_inputs=signed,
                counts=self.counts,
            )
        assert slot.scale is not None
        return dequantize(y_int, x_scale, slot.scale)

    def _quantized_input(self, x: np.ndarray) -> tuple[np.ndarray, float, bool]:
        """x quantized as one tensor (all tiles of a layer share its scale); cached per array."""
        for array, x_int, scale, signed in self._inputs:
            if array is x:
                return x_int, scale, signed
        signed = bool(x.size and float(x.min()) < 0)
        flat, scale = quantize_inputs(x.reshape(-1, x.shape[-1]), self.chip.act_bits, signed)
        x_int = flat.reshape(x.shape)
        self._inputs.append((x, x_int, scale, signed))
        del self._inputs[:-4]
        return x_int, scale, signed

    @impl(xb.AccumulateOp)
    def run_accumulate(
        self, interpreter: Interpreter, op: xb.AccumulateOp, args: PythonValues
    ) -> PythonValues:
        total = np.array(args[0], dtype=np.float32)
        for a in args[1:]:
            total += a
        return (_checked(op, total),)

    @impl(xb.ConcatOp)
    def run_concat(
        self, interpreter: Interpreter, op: xb.ConcatOp, args: PythonValues
    ) -> PythonValues:
        return (_checked(op, np.concatenate(args, axis=op.axis.value.data)),)

    @impl(xb.Col2imOp)
    def run_col2im(
        self, interpreter: Interpreter, op: xb.Col2imOp, args: PythonValues
    ) -> PythonValues:
        x = args[0]
        oh, ow = xb.ints(op.spatial)
        return (
            _checked(
                op, np.ascontiguousarray(x.transpose(0, 2, 1)).reshape(x.shape[0], -1, oh, ow)
            ),
        )

    @impl(xb.BiasOp)
    def run_bias(self, interpreter: Interpreter, op: xb.BiasOp, args: PythonValues) -> PythonValues:
        c0, c1 = xb.ints(op.cols)
        b = self.dram.tensor(op.weight.data).reshape(-1)
        if c1 > b.shape[0]:
            raise PimError(
                f"crossbar.bias '{op.weight.data}': cols [{c0}, {c1}) exceed its "
                f"{b.shape[0]} values."
            )
        return (_checked(op, args[0] + b[c0:c1]),)


def _checked(op: object, y: np.ndarray) -> np.ndarray:
    expected = xb.shape_of(op.results[0])  # type: ignore[attr-defined]
    if y.shape != expected:
        raise RuntimeError(
            f"internal error: '{op.name}' produced shape {list(y.shape)}, the IR says {list(expected)}"  # type: ignore[attr-defined]
        )
    return np.asarray(y, dtype=np.float32)
