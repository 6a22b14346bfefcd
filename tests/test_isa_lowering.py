"""crossbar-to-isa / lower-to-isa and the pim_isa interpreter.

Oracles: a hand-written crossbar partition checked against a numpy transcription of the layer
maths (written here, not by the code under test); every zoo model against onnxruntime on a
2-core chip that must reload weights; quantized MVMs against the independent bit-level
reference `pimdsl.sim.xbar_reference`; the vectorised interpreter against the stepped one;
trace counts against numbers derived by hand from the program's loops.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp, StringAttr
from xdsl.parser import Parser

from pimdsl.chip import load_preset
from pimdsl.dialects import context
from pimdsl.dialects import pim_isa as isa
from pimdsl.errors import PimError
from pimdsl.module_attrs import set_batch, set_chip
from pimdsl.sim.isa_interp import run_program
from pimdsl.sim.runner import main_input_shapes, run_module
from pimdsl.weights import write_npz

ort = pytest.importorskip("onnxruntime")
models = pytest.importorskip("pimdsl.models")
frontend = pytest.importorskip("pimdsl.frontend")

HERE = Path(__file__).parent
HAND = HERE / "filecheck" / "passes" / "crossbar-to-isa.mlir"
TOL = 1e-4


def parse(text: str) -> ModuleOp:
    return Parser(context(), text).parse_module()


def lower_crossbar(module: ModuleOp) -> ModuleOp:
    from pimdsl.passes.crossbar_to_isa import CrossbarToIsaPass

    CrossbarToIsaPass().apply(Context(), module)
    module.verify()
    return module


# --- a hand-written partition against numpy ---------------------------------------------------


def hand_module(tmp_path: Path, seed: int = 0) -> tuple[ModuleOp, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    w = {
        "c.weight": rng.standard_normal((4, 2, 3, 3)).astype(np.float32),
        "c.bias": rng.standard_normal(4).astype(np.float32),
        "fc.weight": rng.standard_normal((3, 16)).astype(np.float32),
    }
    write_npz(tmp_path / "w.npz", w)
    module = parse(HAND.read_text())
    module.attributes["pim.weights"] = StringAttr(str(tmp_path / "w.npz"))
    return lower_crossbar(module), w


def numpy_reference(x: np.ndarray, w: dict[str, np.ndarray]) -> np.ndarray:
    """conv 3x3 pad 1 + bias, relu, 2x2 max pool, flatten (c, h, w), x @ fc.T: loops."""
    n, c, h, wd = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    conv = np.zeros((n, 4, h, wd), np.float64)
    for o in range(4):
        for y in range(h):
            for z in range(wd):
                conv[:, o, y, z] = (xp[:, :, y : y + 3, z : z + 3] * w["c.weight"][o]).sum(
                    axis=(1, 2, 3)
                )
        conv[:, o] += w["c.bias"][o]
    r = np.maximum(conv, 0)
    pooled = r.reshape(n, 4, 2, 2, 2, 2).max(axis=(3, 5))
    return pooled.reshape(n, 16) @ w["fc.weight"].T.astype(np.float64)


def test_hand_written_partition_matches_numpy(tmp_path: Path) -> None:
    module, w = hand_module(tmp_path)
    x = np.random.default_rng(1).standard_normal((1, 2, 4, 4)).astype(np.float32)
    (y,) = run_module(module, [x], base_dir=tmp_path)
    ref = numpy_reference(x, w)
    assert y.shape == (1, 3)
    assert np.abs(y - ref).max() <= TOL * np.abs(ref).max()


def test_vectorised_equals_stepped(tmp_path: Path) -> None:
    module, w = hand_module(tmp_path, seed=3)
    from pimdsl.weights import WeightStore

    store = WeightStore(tmp_path / "w.npz")
    x = np.random.default_rng(4).standard_normal((1, 2, 4, 4)).astype(np.float32)
    fast, _ = run_program(module, {"input": x}, weights=store)
    slow, _ = run_program(module, {"input": x}, weights=store, vectorise=False)
    np.testing.assert_array_equal(fast["t5.exit"], slow["t5.exit"])


def test_trace_counts_match_the_program(tmp_path: Path) -> None:
    """Hand count: the conv runs 16 windows on both cores (core 0: 1 mvm + 1 recv, core 1:
    1 mvm + 1 send per window), the linear layer 1 mvm; 4 pool windows; 3 tiles written.
    The pool and the flatten run on core 0, the conv's home core, in its image loop (a vector
    step joins the core that wrote its input). Tokens (1-element send/recv, negative tag):
    core 0 writes the relaid input, read by the conv on core 1, and the flattened map, read
    by the linear layer on core 1: 2 each way."""
    module, _ = hand_module(tmp_path)
    from pimdsl.weights import WeightStore

    x = np.ones((1, 2, 4, 4), np.float32)
    _, trace = run_program(module, {"input": x}, weights=WeightStore(tmp_path / "w.npz"))
    core0, core1 = trace.cores[(0, 0)], trace.cores[(0, 1)]
    assert core0.counts["mvm"] == 16 and core1.counts["mvm"] == 17
    assert core0.counts["recv"] == 16 and core1.counts["send"] == 16
    assert core0.counts["vpool"] == 4 and core0.counts["send"] == 2 and core1.counts["recv"] == 2
    assert core0.counts["barrier"] == core1.counts["barrier"] == 0
    assert core0.counts["wr_xbar"] + core1.counts["wr_xbar"] == 3
    # bytes at elem_bytes 2. The conv (3x3, pad 1, 4x4 output) reads through a line buffer:
    # the tile of all 16 windows fits (4 kB local memory: a budget of 1024 elements), so each
    # core loads one band of 6 x 6 padded pixels x its input channels, core 0 holding 2
    # channels' rows (18 of the 27): 72 elements, core 1 one (9 rows): 36 (the patches alone
    # would be 16 windows x 18 and 16 x 9). Each of the 16 windows is gathered locally.
    # Core 0 also reads the 2x4x4 input to relay it, 4 pool windows x 16 taps and the 16
    # pooled elements it flattens.
    assert core0.bytes["load_block"] == 4 * 8 * 2 + 6 * 6 * 2 * 2 + 4 * 16 * 2 + 16 * 2
    assert core1.bytes["load_block"] == 6 * 6 * 1 * 2
    assert core0.counts["gather"] == core1.counts["gather"] == 16
    assert core1.counts["load_block"] == 1  # one band
    assert core1.bytes["send"] == 16 * 4 * 2
    # ld_weight of a 16x4 block of 4-bit weights = 32 bytes
    assert core0.bytes["ld_weight"] == 32


def test_quantized_mvm_matches_the_bit_level_reference(tmp_path: Path) -> None:
    from pimdsl.sim.xbar_reference import reference_matmul
    from pimdsl.weights import WeightStore

    chip = load_preset("compass-s")
    rng = np.random.default_rng(7)
    w = rng.standard_normal((5, 40)).astype(np.float32)  # linear [out, in]: layout "oi"
    write_npz(tmp_path / "q.npz", {"fc.weight": w})
    x = rng.standard_normal((1, 40)).astype(np.float32)
    text = f"""
    pim_isa.program elem_bytes 2 {{
      pim_isa.buffer "x" {{role = #pim_isa.role<input>, shape = array<i64: 1, 40>}}
      pim_isa.buffer "y" {{role = #pim_isa.role<output>, shape = array<i64: 1, 5>}}
      pim_isa.partition 0 {{
        pim_isa.core 0 {{
          pim_isa.ld_weight {{weight = "fc.weight", layout = #pim_isa.layout<oi>, rows = array<i64: 0, 40>, cols = array<i64: 0, 5>, dst = array<i64: 0>}}
          pim_isa.wr_xbar {{xbar = 3 : i64, src = array<i64: 0>, rows = 40 : i64, cols = 5 : i64}}
          pim_isa.load {{buffer = "x", offset = array<i64: 0>, dst = array<i64: 1024>, len = 40 : i64}}
          pim_isa.mvm {{xbar = 3 : i64, src = array<i64: 1024>, rows = 40 : i64, dst = array<i64: 2048>, cols = 5 : i64, bits = {chip.act_bits} : i64}}
          pim_isa.store {{src = array<i64: 2048>, buffer = "y", offset = array<i64: 0>, len = 5 : i64}}
        }}
      }}
    }}
    """
    module = parse(text)
    set_chip(module, chip)
    module.verify()
    out, trace = run_program(
        module, {"x": x}, weights=WeightStore(tmp_path / "q.npz"), mode="quantized"
    )
    ref = reference_matmul(
        x.tolist(),
        w.T.tolist(),
        weight_bits=chip.weight_bits,
        cell_bits=chip.cell_bits,
        act_bits=chip.act_bits,
        dac_bits=chip.dac_bits,
        adc_bits=chip.adc_bits,
        rows=chip.crossbar_rows,
        per_channel=True,
        signed_inputs=True,
    )
    np.testing.assert_allclose(
        out["y"], np.asarray(ref, np.float32).reshape(-1), rtol=1e-6, atol=1e-6
    )
    assert trace.xbar.crossbar_mvms == 1
    ideal, _ = run_program(module, {"x": x}, weights=WeightStore(tmp_path / "q.npz"))
    assert not np.allclose(ideal["y"], out["y"])  # 4-bit quantization does change the result


def test_interpreter_errors_are_pim_errors(tmp_path: Path) -> None:
    text = """
    pim_isa.program elem_bytes 2 {
      pim_isa.partition 0 {
        pim_isa.core 0 {
          pim_isa.recv {peer = 1 : i64, dst = array<i64: 0>, len = 4 : i64, tag = 1 : i64}
          pim_isa.send {peer = 1 : i64, src = array<i64: 0>, len = 4 : i64, tag = 2 : i64}
        }
        pim_isa.core 1 {
          pim_isa.recv {peer = 0 : i64, dst = array<i64: 0>, len = 4 : i64, tag = 2 : i64}
          pim_isa.send {peer = 0 : i64, src = array<i64: 0>, len = 4 : i64, tag = 1 : i64}
        }
      }
    }
    """
    module = parse(text)
    set_chip(module, load_preset("compass-s"))
    with pytest.raises(PimError, match="deadlocks"):
        run_program(module, {})
    mvm_first = """
    pim_isa.program elem_bytes 2 {
      pim_isa.partition 0 {
        pim_isa.core 0 {
          pim_isa.mvm {xbar = 0 : i64, src = array<i64: 0>, rows = 4 : i64, dst = array<i64: 64>, cols = 4 : i64, bits = 4 : i64}
        }
      }
    }
    """
    module = parse(mvm_first)
    set_chip(module, load_preset("compass-s"))
    with pytest.raises(PimError, match="wr_xbar first"):
        run_program(module, {})


def test_crossbar_to_isa_needs_crossbar_ir() -> None:
    from pimdsl.passes.crossbar_to_isa import CrossbarToIsaPass

    nn_level = parse("""
    builtin.module attributes {pim.batch = 1 : i64} {
      func.func @main(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
        %y = nn.relu %x : tensor<1x4xf32> -> tensor<1x4xf32>
        func.return %y : tensor<1x4xf32>
      }
    }
    """)
    set_chip(nn_level, load_preset("compass-s"))
    with pytest.raises(PimError, match="only crossbar.partition"):
        CrossbarToIsaPass().apply(Context(), nn_level)


# --- the zoo, end to end -----------------------------------------------------------------------


def _zoo() -> list[str]:
    return models.list_models()


@pytest.fixture(scope="session")
def zoo_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("zoo_isa")
    files = {}
    for name in _zoo():
        spec = models.get_spec(name)
        size = spec.min_image_size if spec.image_input else None
        files[name] = models.save_model(name, d / f"{name}.onnx", seed=0, image_size=size)
    return files


def lowered(path: Path, chip_name: str, batch: int, cores: int | None = None) -> ModuleOp:
    from pimdsl.passes.lower_to_isa import LowerToIsaPass
    from pimdsl.passes.partition import PartitionPass

    module = frontend.import_onnx(path)
    chip = load_preset(chip_name)
    if cores is not None:
        chip = chip.replace(cores=cores)
    set_chip(module, chip)
    set_batch(module, batch)
    ctx = Context()
    PartitionPass().apply(ctx, module)
    LowerToIsaPass().apply(ctx, module)
    module.verify()
    return module


@pytest.mark.parametrize("name", _zoo())
def test_zoo_model_at_pim_isa_matches_onnxruntime(name: str, zoo_files: dict[str, Path]) -> None:
    """A 2-core compass-s (18 crossbars): every model but the MLP needs several partitions,
    i.e. weight reloads; the program's output equals onnxruntime's."""
    path = zoo_files[name]
    batch = 2 if name in ("resnet18", "mlp") else 1  # the image loop with count > 1
    module = lowered(path, "compass-s", batch, cores=2)
    program = isa.find_program(module)
    assert program is not None
    if name != "mlp":
        assert len(program.partitions()) > 1
    (shape,) = main_input_shapes(module)
    x = np.random.default_rng(11).standard_normal(shape).astype(np.float32)
    (y,) = run_module(module, [x], base_dir=path.parent)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    n = sess.get_inputs()[0].shape[0]
    ref = np.concatenate(
        [
            sess.run(None, {sess.get_inputs()[0].name: x[i : i + n]})[0]
            for i in range(0, shape[0], n)
        ]
    )
    assert y.shape == ref.shape
    rel = float(np.abs(y - ref).max() / np.abs(ref).max())
    assert rel <= TOL, f"{name}: max abs error / max abs reference = {rel:.3g}"


# Issue 5's acceptance: every zoo model lowers end to end from ONNX on compass-s and compass-m
# (at the zoo's small test image size; at 224x224 see benchmarks/bench_flow.py).
@pytest.mark.parametrize("chip", ["compass-s", "compass-m"])
@pytest.mark.parametrize("name", _zoo())
def test_zoo_model_lowers_and_emits(name: str, chip: str, zoo_files: dict[str, Path]) -> None:
    import io

    from pimdsl.emit.asm import emit_asm
    from pimdsl.emit.json import program_to_json

    module = lowered(zoo_files[name], chip, 16)
    out = io.StringIO()
    emit_asm(module, out)
    doc = program_to_json(module)
    assert doc["partitions"] and out.getvalue().count(".partition") == len(doc["partitions"])


def test_resnet18_224_on_compass_s_stays_compact(tmp_path: Path) -> None:
    """The invariant: IR size follows the network's structure (layers, and rows where the
    element schedule unrolls its tiles), not its MVM count. ResNet18 at 224x224, batch 16,
    compass-s: 3,498 pim_isa ops when written with the layer and batch schedules; 36,530 since
    `auto` runs the first greedy partition (23 units, 112x112 and 56x56 maps) in the element
    schedule (limit 50,000), against millions of MVMs."""
    path = models.save_model("resnet18", tmp_path / "r18.onnx", seed=0)
    module = lowered(path, "compass-s", 16)
    program = isa.find_program(module)
    assert program is not None
    n_ops = sum(1 for _ in program.walk())
    assert n_ops < 50_000, n_ops
    # the MVMs it stands for: every mvm instruction times its loop trip counts
    from pimdsl.sim.isa_interp import iter_instructions

    mvms = 0
    for part in program.partitions():
        for core in part.cores():
            for op, loops in iter_instructions(core.body.block):
                if isinstance(op, isa.MvmOp):
                    mvms += int(np.prod(loops))
    assert mvms > 40 * n_ops  # 57x with the element partition (600x without)


def test_pim_opt_whole_flow(tmp_path: Path) -> None:
    """The one-flag flow from the command line, and both emitters on its output."""
    import subprocess
    import sys

    path = models.save_model("mlp", tmp_path / "mlp.onnx", seed=0)
    opt = [sys.executable, "-m", "pimdsl.tools.pim_opt"]
    out = tmp_path / "out.mlir"
    subprocess.run(
        [
            *opt,
            str(path),
            "--chip",
            "compass-s",
            "--batch",
            "4",
            "--partition",
            "--ga-group",
            "--lower-to-isa",
            "-o",
            str(out),
        ],
        check=True,
    )
    text = out.read_text()
    assert "pim_isa.execute" in text and "pim_isa.mvm" in text
    asm = subprocess.run(
        [*opt, str(out), "-t", "pim-asm"], check=True, capture_output=True, text=True
    ).stdout
    assert re.search(r"^\s+loop 4 i0 \{", asm, re.M)  # the image loop of batch 4
    js = subprocess.run(
        [*opt, str(out), "-t", "pim-json"], check=True, capture_output=True, text=True
    ).stdout
    assert '"op": "mvm"' in js


def test_squeezenet_at_batch_2_vectorised_equals_stepped_and_onnxruntime(
    zoo_files: dict[str, Path],
) -> None:
    """Regression (review ux2 HIGH 1): inside the per-image loop, a fire module reads in one
    window loop what a sibling window loop wrote; the vectorised path indexed that write as if
    it enclosed the read (IndexError). Oracles: onnxruntime, and the stepped interpreter."""
    from pimdsl.weights import WeightStore

    path = zoo_files["squeezenet1_1"]
    module = lowered(path, "compass-m", 2)
    program = isa.find_program(module)
    assert program is not None
    (shape,) = main_input_shapes(module)
    assert shape[0] == 2
    x = np.random.default_rng(5).standard_normal(shape).astype(np.float32)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    ref = np.concatenate([sess.run(None, {name: x[i : i + 1]})[0] for i in range(2)])
    (inp,) = [b.buffer_name for b in program.buffers() if b.role.data == "input"]
    store = WeightStore.for_module(module, base_dir=path.parent)
    fast, trace = run_program(module, {inp: x}, weights=store)
    slow, _ = run_program(module, {inp: x}, weights=store, vectorise=False)
    assert trace.totals().vectorised_iterations > 0
    (out,) = fast
    y = fast[out].reshape(ref.shape)
    assert float(np.abs(y - ref).max()) <= TOL * float(np.abs(ref).max())
    # the same arithmetic in the same order except for matmul batching (BLAS may sum a
    # batch of rows in another order): equal to float32 rounding
    np.testing.assert_allclose(fast[out], slow[out], rtol=0, atol=1e-5 * float(np.abs(ref).max()))


# The ONNX-zoo (opset 9) exports: AlexNet and GoogLeNet normalise with LRN; GoogLeNet writes its
# global pool as a padded average pool that excludes the padding (one window over the map);
# ResNet18 pads its input with an explicit zero Pad before conv1.
@pytest.mark.parametrize("name", ["alexnet", "googlenet", "resnet18"])
def test_zoo9_models_at_pim_isa_match_onnxruntime(name: str, tmp_path: Path) -> None:
    spec = models.get_spec(name)
    path = models.save_model(
        name, tmp_path / f"{name}.onnx", style="zoo9", seed=0, image_size=spec.min_image_size
    )
    module = lowered(path, "compass-s", 1, cores=2)
    program = isa.find_program(module)
    assert program is not None and len(program.partitions()) > 1  # weights are reloaded
    text = str(program)
    if name != "resnet18":
        assert "pim_isa.vpow" in text  # the LRN, lowered (not skipped)
    (shape,) = main_input_shapes(module)
    x = np.random.default_rng(5).standard_normal(shape).astype(np.float32)
    (y,) = run_module(module, [x], base_dir=path.parent)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (ref,) = sess.run(None, {sess.get_inputs()[0].name: x})
    assert y.shape == ref.shape
    rel = float(np.abs(y - ref).max() / np.abs(ref).max())
    assert rel <= TOL, f"{name} (zoo9): max abs error / max abs reference = {rel:.3g}"
