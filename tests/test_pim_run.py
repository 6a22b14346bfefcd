"""`pim-run` end to end: .mlir and .onnx inputs, zoo models, batches, and user errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pimdsl.tools.pim_run import main
from pimdsl.weights import write_npz

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

MLIR = """builtin.module attributes {pim.weights = "w.npz"} {
  func.func @main(%x: tensor<1x3x10x10xf32>) -> tensor<1x8x5x5xf32> {
    %w = nn.weight "conv.w" : tensor<8x3x3x3xf32>
    %b = nn.weight "conv.b" : tensor<8xf32>
    %c = nn.conv2d %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x3x10x10xf32>, tensor<8x3x3x3xf32>, tensor<8xf32>) -> tensor<1x8x5x5xf32>
    %r = nn.relu %c : tensor<1x8x5x5xf32> -> tensor<1x8x5x5xf32>
    func.return %r : tensor<1x8x5x5xf32>
  }
}
"""


def weights() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(42)
    return {
        "conv.w": rng.standard_normal((8, 3, 3, 3)).astype(np.float32),
        "conv.b": rng.standard_normal(8).astype(np.float32),
    }


def onnx_twin(batch: int = 1) -> onnx.ModelProto:
    """The network of MLIR as an ONNX graph, for onnxruntime (the oracle)."""
    graph = helper.make_graph(
        [
            helper.make_node(
                "Conv", ["x", "conv.w", "conv.b"], ["c"], strides=[2, 2], pads=[1, 1, 1, 1]
            ),
            helper.make_node("Relu", ["c"], ["y"]),
        ],
        "twin",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 3, 10, 10])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(v, n) for n, v in weights().items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def ort_run(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})[0]


def rel_err(y: np.ndarray, ref: np.ndarray) -> float:
    assert y.shape == ref.shape
    return float(np.abs(y - ref).max() / np.abs(ref).max())


@pytest.fixture
def mlir_file(tmp_path: Path) -> Path:
    write_npz(tmp_path / "w.npz", weights())
    path = tmp_path / "net.mlir"
    path.write_text(MLIR)
    return path


def has_frontend() -> bool:
    try:
        from pimdsl.frontend import import_onnx  # type: ignore[attr-defined]  # noqa: F401
    except ImportError:
        return False
    return True


needs_frontend = pytest.mark.skipif(
    not has_frontend(), reason="pimdsl.frontend.import_onnx is not built yet"
)


# --- running --------------------------------------------------------------------------------------


def test_mlir_with_input_and_output(
    mlir_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    x = np.random.default_rng(7).standard_normal((1, 3, 10, 10)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    out = tmp_path / "y.npy"
    # run from another directory: pim.weights is found next to the .mlir file
    assert main([str(mlir_file), "--input", str(tmp_path / "x.npy"), "--output", str(out)]) == 0
    y = np.load(out)
    assert y.dtype == np.float32
    assert rel_err(y, ort_run(onnx_twin(), x)) <= 1e-4
    text = capsys.readouterr().out
    assert "level nn" in text and "shape [1, 8, 5, 5]" in text


def test_random_input_is_seeded(mlir_file: Path, tmp_path: Path) -> None:
    outs = []
    for seed, name in ((3, "a.npy"), (3, "b.npy"), (4, "c.npy")):
        assert main([str(mlir_file), "--seed", str(seed), "--output", str(tmp_path / name)]) == 0
        outs.append(np.load(tmp_path / name))
    np.testing.assert_array_equal(outs[0], outs[1])
    assert not np.array_equal(outs[0], outs[2])
    x = np.random.default_rng(3).standard_normal((1, 3, 10, 10)).astype(np.float32)
    assert rel_err(outs[0], ort_run(onnx_twin(), x)) <= 1e-4


def test_batch_runs_every_image(mlir_file: Path, tmp_path: Path) -> None:
    x = np.random.default_rng(9).standard_normal((4, 3, 10, 10)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    assert (
        main(
            [
                str(mlir_file),
                "--input",
                str(tmp_path / "x.npy"),
                "--output",
                str(tmp_path / "y.npy"),
            ]
        )
        == 0
    )
    y = np.load(tmp_path / "y.npy")
    assert rel_err(y, ort_run(onnx_twin(batch=4), x)) <= 1e-4
    assert (
        main(
            [
                str(mlir_file),
                "--batch",
                "3",
                "--chip",
                "compass-s",
                "--output",
                str(tmp_path / "z.npy"),
            ]
        )
        == 0
    )
    assert np.load(tmp_path / "z.npy").shape == (3, 8, 5, 5)


def test_mlir_imported_from_onnx_compares_against_it(
    mlir_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """IR whose pim.weights is the .onnx model: --compare-onnxruntime runs that model."""
    onnx.save(onnx_twin(), str(tmp_path / "twin.onnx"))
    mlir_file.write_text(MLIR.replace('"w.npz"', '"twin.onnx"'))
    assert main([str(mlir_file), "--compare-onnxruntime"]) == 0
    assert "matches onnxruntime" in capsys.readouterr().out


def test_compare_reports_a_mismatch(
    mlir_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The comparison can fail: IR computing sigmoid where the ONNX model has Relu."""
    onnx.save(onnx_twin(), str(tmp_path / "twin.onnx"))
    mlir_file.write_text(MLIR.replace('"w.npz"', '"twin.onnx"').replace("nn.relu", "nn.sigmoid"))
    assert main([str(mlir_file), "--compare-onnxruntime"]) == 2
    assert "MISMATCH" in capsys.readouterr().err


@needs_frontend
def test_onnx_input_compare_onnxruntime(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    onnx.save(onnx_twin(), str(tmp_path / "twin.onnx"))
    out = tmp_path / "y.npy"
    assert main([str(tmp_path / "twin.onnx"), "--output", str(out), "--compare-onnxruntime"]) == 0
    x = np.random.default_rng(0).standard_normal((1, 3, 10, 10)).astype(np.float32)
    assert rel_err(np.load(out), ort_run(onnx_twin(), x)) <= 1e-4
    assert "matches onnxruntime" in capsys.readouterr().out


@needs_frontend
def test_zoo_model_by_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "y.npy"
    assert main(["--model", "mlp", "--output", str(out), "--compare-onnxruntime"]) == 0
    assert np.load(out).shape == (1, 10)
    assert "matches onnxruntime" in capsys.readouterr().out


def test_subprocess_run(mlir_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "y.npy"
    proc = subprocess.run(
        [sys.executable, "-m", "pimdsl.tools.pim_run", str(mlir_file), "--output", str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path.parent,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert np.load(out).shape == (1, 8, 5, 5)


# --- user errors ----------------------------------------------------------------------------------


def _fails(argv: list[str], capsys: pytest.CaptureFixture[str], pattern: str) -> None:
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.startswith("pim-run: error:")
    assert pattern in err, err


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fails([str(tmp_path / "nope.mlir")], capsys, "does not exist")


def test_unknown_suffix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "net.txt").write_text("x")
    _fails([str(tmp_path / "net.txt")], capsys, ".onnx or .mlir")


def test_no_input_at_all(capsys: pytest.CaptureFixture[str]) -> None:
    _fails([], capsys, "no input")


def test_bad_mlir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.mlir").write_text("builtin.module {\n  %0 = nn.relu %x\n")
    assert main([str(tmp_path / "bad.mlir")]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "bad.mlir" in err


def test_mlir_that_does_not_verify(mlir_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mlir_file.write_text(MLIR.replace("groups = 1", "groups = 2"))
    _fails([str(mlir_file)], capsys, "groups")


def test_shape_only_module(mlir_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mlir_file.write_text(MLIR.replace(' attributes {pim.weights = "w.npz"}', ""))
    _fails([str(mlir_file)], capsys, "weights are needed")


def test_missing_weight(
    mlir_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_npz(tmp_path / "w.npz", {"conv.w": weights()["conv.w"]})
    _fails([str(mlir_file)], capsys, 'nn.weight "conv.b" in @main')


def test_wrong_input_shape(
    mlir_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    np.save(tmp_path / "x.npy", np.zeros((1, 3, 9, 9), np.float32))
    _fails([str(mlir_file), "--input", str(tmp_path / "x.npy")], capsys, "input 0 has shape")


def test_unreadable_input_tensor(
    mlir_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "x.npy").write_text("not numpy")
    _fails(
        [str(mlir_file), "--input", str(tmp_path / "x.npy")], capsys, "cannot read the input tensor"
    )


def test_never_overwrites_the_inputs(
    mlir_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = mlir_file.read_text()
    _fails([str(mlir_file), "--output", str(mlir_file)], capsys, "refusing to overwrite")
    assert mlir_file.read_text() == before
    x = np.zeros((1, 3, 10, 10), np.float32)
    np.save(tmp_path / "x.npy", x)
    _fails(
        [str(mlir_file), "--input", str(tmp_path / "x.npy"), "--output", str(tmp_path / "x.npy")],
        capsys,
        "refusing to overwrite",
    )
    np.testing.assert_array_equal(np.load(tmp_path / "x.npy"), x)


def test_unknown_chip_and_bad_batch(mlir_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fails([str(mlir_file), "--chip", "no-such-chip"], capsys, "no-such-chip")
    _fails([str(mlir_file), "--batch", "0"], capsys, "--batch")


def test_unknown_zoo_model(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("pimdsl.models")
    _fails(["--model", "resnet9000"], capsys, "resnet9000")


def test_compare_needs_onnx(mlir_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fails([str(mlir_file), "--compare-onnxruntime"], capsys, "needs the ONNX model")


def test_subprocess_error_has_no_traceback(tmp_path: Path) -> None:
    (tmp_path / "bad.mlir").write_text("builtin.module { nn.bogus }\n")
    proc = subprocess.run(
        [sys.executable, "-m", "pimdsl.tools.pim_run", str(tmp_path / "bad.mlir")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "nn.bogus" in proc.stderr


# --- review findings (A3, A6, B2, B7, C4, C5, quantized note) -------------------------------------


def test_nan_in_the_outputs_is_a_mismatch(
    mlir_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A NaN input makes both outputs NaN; nan never compares <= tolerance, so it must fail."""
    onnx.save(onnx_twin(), str(tmp_path / "twin.onnx"))
    mlir_file.write_text(MLIR.replace('"w.npz"', '"twin.onnx"'))
    x = np.zeros((1, 3, 10, 10), np.float32)
    x[0, 0, 0, 0] = np.nan
    np.save(tmp_path / "x.npy", x)
    assert main([str(mlir_file), "--input", str(tmp_path / "x.npy"), "--compare-onnxruntime"]) == 2
    out, err = capsys.readouterr()
    assert "matches onnxruntime" not in out
    assert "MISMATCH" in err and "NaN" in err


def test_negative_seed_is_a_user_error(mlir_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fails([str(mlir_file), "--seed", "-1"], capsys, "--seed must be >= 0")


def test_npz_input_with_one_array(mlir_file: Path, tmp_path: Path) -> None:
    x = np.random.default_rng(5).standard_normal((1, 3, 10, 10)).astype(np.float32)
    np.savez(tmp_path / "x.npz", a=x)
    assert (
        main(
            [
                str(mlir_file),
                "--input",
                str(tmp_path / "x.npz"),
                "--output",
                str(tmp_path / "y.npy"),
            ]
        )
        == 0
    )
    assert rel_err(np.load(tmp_path / "y.npy"), ort_run(onnx_twin(), x)) <= 1e-4


def test_npz_input_with_two_arrays(
    mlir_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    np.savez(tmp_path / "x.npz", a=np.zeros((1, 3, 10, 10)), b=np.zeros(3))
    _fails([str(mlir_file), "--input", str(tmp_path / "x.npz")], capsys, "2 arrays")


def test_verify_error_names_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad1.mlir"
    bad.write_text(
        "builtin.module {\n  func.func @main(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {\n"
        "    %y = nn.relu %x : tensor<1x4xf32> -> tensor<1x3xf32>\n"
        "    func.return %y : tensor<1x3xf32>\n  }\n}\n"
    )
    _fails([str(bad)], capsys, f"{bad}:3: invalid IR: 'nn.relu'")


def test_binary_mlir_and_folder_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "x.mlir").write_bytes(b"\x08\x07\x12\xff\xfe\x00binary")
    _fails([str(tmp_path / "x.mlir")], capsys, "not a text .mlir file")
    _fails([str(tmp_path)], capsys, "is a folder")


def _batch2_twin(tmp_path: Path) -> Path:
    """The conv net with a static batch of 2 in the graph, as an .mlir file over w.npz."""
    text = MLIR.replace("tensor<1x3x10x10xf32>", "tensor<2x3x10x10xf32>").replace(
        "tensor<1x8x5x5xf32>", "tensor<2x8x5x5xf32>"
    )
    path = tmp_path / "b2.mlir"
    path.write_text(text)
    write_npz(tmp_path / "w.npz", weights())
    return path


def test_batch_counts_images_not_calls(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--batch N = N inferences, as in pim-opt: a batch-2 graph runs N / 2 calls."""
    path = _batch2_twin(tmp_path)
    assert main([str(path), "--batch", "4", "--output", str(tmp_path / "y.npy")]) == 0
    y = np.load(tmp_path / "y.npy")
    assert y.shape == (4, 8, 5, 5)
    x = np.random.default_rng(0).standard_normal((4, 3, 10, 10)).astype(np.float32)
    assert rel_err(y, ort_run(onnx_twin(batch=4), x)) <= 1e-4
    capsys.readouterr()
    _fails([str(path), "--batch", "3"], capsys, "not a multiple of 2")


def test_quantized_mode_on_nn_ir_says_it_has_no_effect(
    mlir_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(mlir_file), "--mode", "quantized"]) == 0
    assert "applies from the crossbar level down" in capsys.readouterr().err


# --- pim_isa IR (review ux2: HIGH 1-2, MEDIUM 4 and 6) -------------------------------------------


@pytest.fixture
def lowered_file(mlir_file: Path) -> Path:
    """The conv net lowered to pim_isa for batch 2 on compass-s, next to its w.npz."""
    from pimdsl.tools.pim_opt import main as pim_opt

    out = mlir_file.parent / "net.isa.mlir"
    assert (
        pim_opt(
            [
                str(mlir_file),
                "--chip",
                "compass-s",
                "--batch",
                "2",
                "--partition",
                "--lower-to-isa",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    return out


def test_lowered_program_keeps_its_batch(
    lowered_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--batch may not relabel a program lowered for another batch (timing would divide one
    batch-2 run by N); the same batch is fine and its output equals onnxruntime's."""
    _fails([str(lowered_file), "--batch", "8", "--timing-only"], capsys, "lowered for batch 2")
    assert main([str(lowered_file), "--batch", "2", "--output", str(tmp_path / "y.npy")]) == 0
    y = np.load(tmp_path / "y.npy")
    x = np.random.default_rng(0).standard_normal((2, 3, 10, 10)).astype(np.float32)
    assert rel_err(y, ort_run(onnx_twin(batch=2), x)) <= 1e-4


def test_timing_only_refuses_options_that_need_numerics(
    lowered_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    y = tmp_path / "y.npy"
    _fails(
        [str(lowered_file), "--timing-only", "--output", str(y)],
        capsys,
        "--output needs the numerics",
    )
    assert not y.exists()
    _fails([str(lowered_file), "--timing-only", "--mode", "quantized"], capsys, "--mode quantized")
    assert main([str(lowered_file), "--timing-only"]) == 0


def test_cheap_checks_come_before_the_timing_simulation(
    lowered_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pimdsl.sim.timing as timing

    def no_simulation(*args: object, **kwargs: object) -> None:
        raise AssertionError("the timing simulation ran before the cheap checks")

    monkeypatch.setattr(timing, "simulate_module", no_simulation)
    _fails([str(lowered_file), "--input", str(tmp_path / "missing.npy")], capsys, "missing.npy")
    np.save(tmp_path / "x.npy", np.zeros((2, 3, 9, 9), np.float32))
    _fails([str(lowered_file), "--input", str(tmp_path / "x.npy")], capsys, "has shape")
    _fails(
        [str(lowered_file), "--output", str(tmp_path / "nowhere" / "y.npy")],
        capsys,
        "does not exist",
    )
    _fails([str(lowered_file), "--batch", "3"], capsys, "lowered for batch 2")


def test_an_internal_error_is_short_and_has_no_ir(
    lowered_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """xDSL's interpreter attaches the whole module to an exception; a bug report keeps a
    short traceback and drops that."""
    import pimdsl.sim.isa_interp as isa_interp

    def broken(self: object) -> None:
        raise IndexError("a planted bug")

    monkeypatch.setattr(isa_interp.Machine, "run", broken)
    assert main([str(lowered_file)]) == 3
    err = capsys.readouterr().err
    assert "internal error: IndexError: a planted bug" in err
    assert "pim_isa.program" not in err and "omitted" in err
    assert err.count("\n") < 60
