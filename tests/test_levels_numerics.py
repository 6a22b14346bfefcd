"""Differential tests across levels: nn, partition and crossbar IR compute the same network.

- Every zoo model (smallest image size) runs at the nn, partition and crossbar levels in ideal
  mode on compass-s cut down to about a quarter of the model's weights (`_chip_for`, at most
  the full 16 cores), so every model is cut into several partitions and its crossbars are
  rewritten partition after partition; each level must equal onnxruntime within 1e-4 (max abs
  error / max abs reference).
- Quantized mode at the crossbar level: every MVM output equals, bit for bit, an independent
  computation with `pimdsl.sim.xbar_reference` (Python ints, its own quantization) of the same
  tile on the same input, on a chip whose narrow ADC saturates.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from xdsl.dialects.builtin import ModuleOp
from xdsl.parser import Parser

from pimdsl.chip import Chip, load_chip
from pimdsl.dialects import context
from pimdsl.dialects import crossbar as xb
from pimdsl.dialects import partition as part
from pimdsl.errors import PimError
from pimdsl.module_attrs import set_chip, set_weights
from pimdsl.partitioning import apply_grouping, span_table_for_module
from pimdsl.passes.partition import choose_grouping
from pimdsl.passes.partition_to_crossbar import lower_to_crossbar
from pimdsl.sim import xbar_reference as ref
from pimdsl.sim.runner import main_input_shapes, run_module
from pimdsl.weights import write_npz

ort = pytest.importorskip("onnxruntime")
models = pytest.importorskip("pimdsl.models")
frontend = pytest.importorskip("pimdsl.frontend")

TOL = 1e-4


def _chip_for(module: ModuleOp) -> Chip:
    """compass-s with as many cores as hold about a quarter of the module's weights (1..16)."""
    from pimdsl.dialects import nn

    s = load_chip("compass-s")
    weights = sum(
        int(np.prod(nn.shape_of(op.operands[1])))
        for op in module.walk()
        if isinstance(op, nn.WEIGHT_LAYERS)
    )
    per_core = s.crossbars_per_core * s.crossbar_rows * s.weights_per_crossbar_row
    cores = int(min(s.cores, max(1, weights // (4 * per_core))))
    return dataclasses.replace(s, name=f"compass-s-{cores}", cores=cores)


def _partitioned(module: ModuleOp) -> ModuleOp:
    p = module.clone()
    table = span_table_for_module(p)
    apply_grouping(
        p, choose_grouping(table, "greedy", "latency"), strategy="greedy", objective="latency"
    )
    p.verify()
    return p


def _crossbar(partitioned: ModuleOp) -> ModuleOp:
    c = partitioned.clone()
    lower_to_crossbar(c)
    c.verify()
    return c


def _rel(y: np.ndarray, r: np.ndarray) -> float:
    return float(np.abs(y - r).max() / np.abs(r).max())


@pytest.mark.parametrize("name", models.list_models())
def test_zoo_levels_match_onnxruntime(name: str, tmp_path: Path) -> None:
    spec = models.get_spec(name)
    size = spec.min_image_size if spec.image_input else None
    path = models.save_model(name, tmp_path / f"{name}.onnx", seed=0, image_size=size)
    try:
        nn_module = frontend.import_onnx(path)
    except PimError as e:  # the frontend's own tests (test_zoo_numerics) report this
        pytest.skip(f"the ONNX frontend cannot import {name} yet: {str(e)[:200]}")
    chip = _chip_for(nn_module)
    set_chip(nn_module, chip)
    (shape,) = main_input_shapes(nn_module)
    x = np.random.default_rng(1234).standard_normal(shape).astype(np.float32)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (expected,) = sess.run(None, {sess.get_inputs()[0].name: x})
    assert np.isfinite(expected).all() and np.abs(expected).max() > 0

    partitioned = _partitioned(nn_module)
    crossbar = _crossbar(partitioned)
    stats: dict[str, dict[str, float]] = {}
    for level, module in (("nn", nn_module), ("partition", partitioned), ("crossbar", crossbar)):
        stats[level] = {}
        (y,) = run_module(module, [x], base_dir=tmp_path, options={"stats": stats[level]})
        assert y.shape == expected.shape
        rel = _rel(y, expected)
        assert rel <= TOL, (
            f"{name} at the {level} level: max abs error / max abs reference = {rel:.3g}"
        )

    # The network does not fit: several partitions, crossbars written more often than they exist.
    parts = [op for op in partitioned.walk() if isinstance(op, part.PartitionOp)]
    assert len(parts) > 1
    assert stats["crossbar"]["partitions_run"] == stats["partition"]["partitions_run"] == len(parts)
    assert stats["crossbar"]["tiles_written"] > chip.cores * chip.crossbars_per_core
    # Weight bytes read from DRAM: the cost model's per-partition figure, the weight blocks the
    # partition IR keeps, and the tiles the crossbar interpreter wrote all agree.
    recorded = sum(p.weight_bytes.value.data for p in parts)
    assert stats["partition"]["weight_bytes_loaded"] == pytest.approx(recorded, abs=len(parts))
    assert stats["crossbar"]["weight_bytes_loaded"] == stats["partition"]["weight_bytes_loaded"]
    assert stats["crossbar"]["crossbar_bytes_written"] >= stats["crossbar"]["weight_bytes_loaded"]


# --- quantized crossbar MVMs against the independent reference ------------------------------------

# A narrow ADC (4 bits: 0..15) on 16-row crossbars of 2-bit cells fed 2 bits per step: column
# sums reach 16 x 3 x 3 = 144, so many conversions saturate.
QCHIP = dataclasses.replace(
    load_chip("compass-s"),
    name="q-tiny",
    cores=2,
    crossbars_per_core=2,
    crossbar_rows=16,
    crossbar_cols=16,
    cell_bits=2,
    weight_bits=4,
    act_bits=4,
    dac_bits=2,
    adc_bits=4,
)

NET = """
builtin.module {
  func.func @main(%x: tensor<2x2x6x6xf32>) -> tensor<2x4xf32> {
    %w1 = nn.weight "conv1.weight" : tensor<8x2x3x3xf32>
    %b1 = nn.weight "conv1.bias" : tensor<8xf32>
    %a1 = nn.conv2d %x, %w1, %b1 {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<2x2x6x6xf32>, tensor<8x2x3x3xf32>, tensor<8xf32>) -> tensor<2x8x6x6xf32>
    %r1 = nn.relu %a1 : tensor<2x8x6x6xf32> -> tensor<2x8x6x6xf32>
    %w2 = nn.weight "conv2.weight" : tensor<4x8x3x3xf32>
    %a2 = nn.conv2d %r1, %w2 {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<2x8x6x6xf32>, tensor<4x8x3x3xf32>) -> tensor<2x4x3x3xf32>
    %r2 = nn.relu %a2 : tensor<2x4x3x3xf32> -> tensor<2x4x3x3xf32>
    %f = nn.flatten %r2 {axis = 1 : i64} : tensor<2x4x3x3xf32> -> tensor<2x36xf32>
    %w3 = nn.weight "fc.weight" : tensor<4x36xf32>
    %b3 = nn.weight "fc.bias" : tensor<4xf32>
    %y = nn.linear %f, %w3, %b3 : (tensor<2x36xf32>, tensor<4x36xf32>, tensor<4xf32>) -> tensor<2x4xf32>
    func.return %y : tensor<2x4xf32>
  }
}
"""


def _parse(text: str) -> ModuleOp:
    module = Parser(context(), text).parse_module()
    assert isinstance(module, ModuleOp)
    return module


def _small_network(tmp_path: Path, chip: Chip) -> tuple[ModuleOp, dict[str, np.ndarray]]:
    rng = np.random.default_rng(7)
    weights = {
        "conv1.weight": rng.standard_normal((8, 2, 3, 3)),
        "conv1.bias": rng.standard_normal(8),
        "conv2.weight": rng.standard_normal((4, 8, 3, 3)),
        "fc.weight": rng.standard_normal((4, 36)),
        "fc.bias": rng.standard_normal(4),
    }
    weights = {k: v.astype(np.float32) for k, v in weights.items()}
    write_npz(tmp_path / "w.npz", weights)
    module = _parse(NET)
    set_chip(module, chip)
    set_weights(module, str(tmp_path / "w.npz"))
    return module, weights


def _matrix(w: np.ndarray, layout: str) -> np.ndarray:
    """The test's own weight -> matrix convention (rows = (cin, ky, kx) or input features)."""
    if layout == "oihw":
        o = w.shape[0]
        return np.stack([w[i].reshape(-1) for i in range(o)], axis=1)
    assert layout == "oi"
    return w.T.copy()


def reference_operands(
    op: xb.MvmOp,
    inp: np.ndarray,
    weights: dict[str, np.ndarray],
    c: Chip,
) -> tuple[np.ndarray, bool, float, list[list[int]], list[float]]:
    """A traced MVM's operands quantized by the reference: (its input rows xs, signed, input
    scale, the tile's integer weight block, the block's column scales)."""
    tile = op.tile.owner
    assert isinstance(tile, xb.TileOp)
    (r0, r1), (c0, c1) = xb.ints(tile.rows), xb.ints(tile.cols)
    i0, i1 = xb.ints(op.in_rows)
    # Inputs: the whole MVM input tensor is one quantization (the layer's scale).
    flat = inp.reshape(-1, inp.shape[-1]).astype(np.float64)
    signed = bool((flat < 0).any())
    xq, x_scale = ref.reference_quantize_inputs(flat.tolist(), c.act_bits, signed)
    xq_arr = np.array(xq, dtype=np.int64).reshape(inp.shape)
    if op.windows is not None:
        w0, w1 = xb.ints(op.windows)
        xq_arr = xq_arr[:, w0:w1]
    xs = xq_arr[..., i0:i1].reshape(-1, i1 - i0)
    # Weights: the whole layer quantized per output channel, then the tile's block.
    m = _matrix(weights[tile.weight.data].astype(np.float64), tile.layout.data)
    wq, w_scales = ref.reference_quantize_weights(m.tolist(), c.weight_bits, per_channel=True)
    return xs, signed, x_scale, [row[c0:c1] for row in wq[r0:r1]], w_scales[c0:c1]


def test_quantized_mvms_match_reference_bit_for_bit(tmp_path: Path) -> None:
    module, weights = _small_network(tmp_path, QCHIP)
    crossbar = _crossbar(_partitioned(module))
    x = np.random.default_rng(3).standard_normal((2, 2, 6, 6)).astype(np.float32)
    trace: list[tuple[xb.MvmOp, np.ndarray, np.ndarray]] = []
    stats: dict[str, float] = {}
    (y_q,) = run_module(
        crossbar, [x], options={"mode": "quantized", "mvm_trace": trace, "stats": stats}
    )
    (y_ideal,) = run_module(crossbar, [x], options={"mode": "ideal"})

    assert len(trace) == stats["mvm_ops"] and len(trace) >= 10
    assert stats["adc_saturations"] > 0  # the ADC's clipping is exercised
    row_split = 0
    c = QCHIP
    for op, inp, out in trace:
        tile = op.tile.owner
        assert isinstance(tile, xb.TileOp)
        r0, r1 = xb.ints(tile.rows)
        c0, c1 = xb.ints(tile.cols)
        row_split += r0 > 0
        xs, signed, x_scale, block, w_scales = reference_operands(op, inp, weights, c)
        y_int = ref.reference_mvm_int(
            xs.tolist(),
            block,
            weight_bits=c.weight_bits,
            cell_bits=c.cell_bits,
            act_bits=c.act_bits,
            dac_bits=c.dac_bits,
            adc_bits=c.adc_bits,
            rows=c.crossbar_rows,
            signed_inputs=signed,
        )
        expected = np.array(
            [
                [float(v) * (x_scale * s) for v, s in zip(row, w_scales, strict=True)]
                for row in y_int
            ],
            dtype=np.float64,
        ).astype(np.float32)
        got = out.reshape(-1, c1 - c0)
        assert np.array_equal(got, expected), (
            f"MVM on {tile.weight.data}[{r0}:{r1}, {c0}:{c1}] differs"
        )
    assert row_split > 0  # row tiles whose partial sums are accumulated digitally
    # Quantization changes the numbers, but not beyond recognition.
    assert not np.array_equal(y_q, y_ideal)
    assert _rel(y_q, y_ideal) < 1.0


def test_ideal_small_network_matches_numpy(tmp_path: Path) -> None:
    """The same small network (pieces, row splits) in ideal mode against plain numpy."""
    module, w = _small_network(tmp_path, dataclasses.replace(QCHIP, adc_bits=8))
    partitioned = _partitioned(module)
    crossbar = _crossbar(partitioned)
    x = np.random.default_rng(5).standard_normal((2, 2, 6, 6)).astype(np.float32)

    def conv(a: np.ndarray, k: np.ndarray, stride: int) -> np.ndarray:
        n, _, h, wd = a.shape
        p = np.pad(a.astype(np.float64), ((0, 0), (0, 0), (1, 1), (1, 1)))
        oh, ow = (h - 1) // stride + 1, (wd - 1) // stride + 1
        out = np.zeros((n, k.shape[0], oh, ow))
        for i in range(oh):
            for j in range(ow):
                patch = p[:, :, i * stride : i * stride + 3, j * stride : j * stride + 3]
                out[:, :, i, j] = np.einsum("nchw,ochw->no", patch, k)
        return out

    h = np.maximum(conv(x, w["conv1.weight"], 1) + w["conv1.bias"][None, :, None, None], 0)
    h = np.maximum(conv(h, w["conv2.weight"], 2), 0).reshape(2, -1)
    expected = h @ w["fc.weight"].T.astype(np.float64) + w["fc.bias"]
    assert len([op for op in partitioned.walk() if isinstance(op, part.PartitionOp)]) > 1
    for module_at_level in (partitioned, crossbar):
        (y,) = run_module(module_at_level, [x])
        assert _rel(y, expected) <= TOL


def test_pim_run_mode_and_reload_statistics(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`pim-run --mode quantized` on crossbar-level IR: same output as run_module, stats printed."""
    from xdsl.printer import Printer

    from pimdsl.tools.pim_run import main

    module, _ = _small_network(tmp_path, QCHIP)
    crossbar = _crossbar(_partitioned(module))
    ir = tmp_path / "net.mlir"
    with open(ir, "w") as f:
        Printer(stream=f).print_op(crossbar)
    x = np.random.default_rng(9).standard_normal((2, 2, 6, 6)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    stats: dict[str, float] = {}
    (expected,) = run_module(crossbar, [x], options={"mode": "quantized", "stats": stats})

    code = main(
        [
            str(ir),
            "--input",
            str(tmp_path / "x.npy"),
            "--output",
            str(tmp_path / "y.npy"),
            "--mode",
            "quantized",
        ]
    )
    assert code == 0
    assert np.array_equal(np.load(tmp_path / "y.npy"), expected)
    out = capsys.readouterr().out
    assert "level crossbar" in out
    assert f"weight_bytes_loaded: {stats['weight_bytes_loaded']:.0f}" in out
    assert f"partitions_run: {stats['partitions_run']:.0f}" in out
    assert stats["partitions_run"] > 1
