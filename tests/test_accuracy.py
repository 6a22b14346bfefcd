"""Accuracy on real data (`pimdsl.accuracy`, `pim-run --accuracy`) with the digits models.

The two networks are trained by `pimdsl.digits` once per session into a temporary folder. The
float reference is onnxruntime on the ONNX file; the labels are scikit-learn's.

- ideal numerics at every level give exactly the float model's accuracy (top-1 and top-5), and
  the same class for every image;
- quantized mode with non-idealities: same seed, byte-identical logits; heavy faults lower the
  accuracy; stats report stuck cells and saturations at the crossbar and pim_isa levels;
- top-k against hand-counted examples; bad data sets are one-paragraph errors.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pimdsl import accuracy, digits
from pimdsl.chip import load_chip
from pimdsl.errors import PimError
from pimdsl.sim.runner import main_input_shapes

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("sklearn")


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("digits")
    return {k: digits.save_model(k, folder / f"digits-{k}.onnx", seed=0) for k in digits.MODELS}


def _float_logits(path: Path, x: np.ndarray) -> np.ndarray:
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    shape = [d if isinstance(d, int) else len(x) for d in sess.get_inputs()[0].shape]
    return sess.run(None, {"input": x.reshape(shape)})[0]


def test_digits_split_and_training_are_deterministic(models: dict[str, Path]) -> None:
    x, labels = digits.load("test")
    train_x, train_labels = digits.load("train")
    assert x.shape == (360, 1, 8, 8) and len(train_x) == 1437
    assert 0.0 <= x.min() and x.max() <= 1.0 and set(labels.tolist()) == set(range(10))
    again, _ = digits.load("test")
    assert again.tobytes() == x.tobytes()
    import onnx

    for kind, path in models.items():
        logits = _float_logits(path, x)
        assert (logits.argmax(1) == labels).mean() > 0.93, kind  # it learned the task
        retrained = digits.to_onnx(kind, digits.train(kind, seed=0))
        assert retrained.SerializeToString() == onnx.load(str(path)).SerializeToString()


@pytest.mark.parametrize("kind", digits.MODELS)
@pytest.mark.parametrize("level", ["nn", "crossbar", "pim_isa"])
def test_ideal_accuracy_equals_the_float_model(
    models: dict[str, Path], kind: str, level: str
) -> None:
    x, labels, _ = accuracy.load_dataset("digits")
    if level == "pim_isa":  # the pim_isa interpreter is slow: 40 images, 8 per call
        x, labels, batch = x[:40], labels[:40], 8
    else:
        batch = 60
    module = accuracy.compile_network(models[kind], load_chip("compass-s"), level, batch)
    xs = accuracy.fit_images(x, main_input_shapes(module))
    logits = accuracy.run(module, xs, options={"mode": "ideal"}, show_progress=False)
    reference = _float_logits(models[kind], xs)
    result = accuracy.evaluate("digits", logits, labels, reference)
    assert result.top1 == result.reference_top1 and result.top5 == result.reference_top5
    assert result.agreement == 1.0


def test_non_ideal_runs_are_seeded(models: dict[str, Path]) -> None:
    x, labels, _ = accuracy.load_dataset("digits")
    base = load_chip("compass-s")
    noisy = base.replace(
        variation_sigma=0.2,
        read_noise_sigma=0.02,
        adc_noise_sigma=0.3,
        adc_offset_sigma=0.2,
        stuck_at_0_rate=0.002,
        stuck_at_1_rate=0.002,
        ir_drop=0.05,
        noise_seed=4,
    )

    def run(
        chip: object, level: str = "crossbar", n: int = 360, batch: int = 60
    ) -> tuple[np.ndarray, dict[str, float]]:
        module = accuracy.compile_network(models["cnn"], chip, level, batch)
        stats: dict[str, float] = {}
        xs = accuracy.fit_images(x[:n], main_input_shapes(module))
        return accuracy.run(
            module, xs, options={"mode": "quantized", "stats": stats}, show_progress=False
        ), stats

    clean, clean_stats = run(base)
    first, stats = run(noisy)
    second, _ = run(noisy)
    assert first.tobytes() == second.tobytes()
    assert not np.array_equal(first, clean)
    assert not np.array_equal(run(noisy.replace(noise_seed=5))[0], first)
    assert stats["stuck_cells"] > 0 == clean_stats["stuck_cells"]
    assert stats["adc_saturations"] > clean_stats["adc_saturations"]
    broken, _ = run(base.replace(stuck_at_1_rate=0.2))
    assert accuracy.top_k(broken, labels, 1) < accuracy.top_k(clean, labels, 1) - 0.2
    isa_logits, isa_stats = run(noisy, "pim_isa", 16, 8)
    assert isa_stats["stuck_cells"] > 0 and isa_stats["adc_conversions"] > 0
    assert isa_logits.tobytes() == run(noisy, "pim_isa", 16, 8)[0].tobytes()


def test_top_k_by_hand() -> None:
    logits = np.array([[0.1, 0.9, 0.0], [0.5, 0.2, 0.3], [0.2, 0.2, 0.6]])
    labels = np.array([1, 2, 1])  # row 2: a tie of 0.2, the lower index (0) ranks first
    assert accuracy.top_k(logits, labels, 1) == pytest.approx(1 / 3)
    assert accuracy.top_k(logits, labels, 2) == pytest.approx(
        2 / 3
    )  # row 1: 0.5, 0.3; row 2: 0.6, 0.2 (index 0)
    assert accuracy.top_k(logits, labels, 3) == 1.0
    r = accuracy.evaluate("toy", logits, labels)
    assert r.top5 is None and r.reference_top1 is None  # 3 classes: no top-5


def test_dataset_errors(tmp_path: Path) -> None:
    with pytest.raises(PimError, match="unknown data set"):
        accuracy.load_dataset("cifar10")
    bad = tmp_path / "bad.npz"
    np.savez(bad, images=np.zeros((2, 4)))
    with pytest.raises(PimError, match="'x' \\(images\\) and 'labels'"):
        accuracy.load_dataset(str(bad))
    mismatch = tmp_path / "m.npz"
    np.savez(mismatch, x=np.zeros((3, 4)), labels=np.zeros(2, dtype=np.int64))
    with pytest.raises(PimError, match="one integer class index per image"):
        accuracy.load_dataset(str(mismatch))
    with pytest.raises(PimError, match="sizes differ"):
        accuracy.fit_images(np.zeros((2, 1, 8, 8), np.float32), [(1, 3, 4, 4)])
    with pytest.raises(PimError, match="labels run from"):
        accuracy.evaluate("toy", np.zeros((2, 3)), np.array([0, 7]))


def test_pim_run_accuracy(
    models: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pimdsl.tools.pim_run import main

    npz = tmp_path / "few.npz"
    x, labels = digits.load("test")
    np.savez(npz, x=x[:30], labels=labels[:30])
    assert (
        main([str(models["mlp"]), "--accuracy", str(npz), "--output", str(tmp_path / "y.npy")]) == 0
    )
    out = capsys.readouterr().out
    ref = _float_logits(models["mlp"], x[:30])
    top1 = 100 * float((ref.argmax(1) == labels[:30]).mean())
    assert f"top-1 {top1:.2f}%" in out and "float model (onnxruntime)" in out
    assert "same top-1 class as the float model: 100.00%" in out
    assert np.load(tmp_path / "y.npy").shape == (30, 10)
    assert main([str(models["mlp"]), "--accuracy", "digits", "--batch", "2"]) == 1
    assert "drop --batch" in capsys.readouterr().err


def test_pim_run_swaps_only_non_idealities(
    models: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A compiled program runs on a noisier copy of its chip; another design is refused."""
    from pimdsl.tools.pim_run import main

    module = accuracy.compile_network(models["mlp"], load_chip("compass-s"), "crossbar", 30)
    program = tmp_path / "mlp.xb.mlir"
    program.write_text(str(module))
    noisy = tmp_path / "noisy.toml"
    noisy.write_text('base = "compass-s"\nstuck_at_1_rate = 0.05\nnoise_seed = 2\n')
    npz = tmp_path / "few.npz"
    x, labels = digits.load("test")
    np.savez(npz, x=x[:30], labels=labels[:30])
    args = [str(program), "--accuracy", str(npz), "--mode", "quantized"]
    assert main([*args, "--chip", str(noisy)]) == 0
    out = capsys.readouterr().out
    assert "stuck_cells: 0" not in out and "stuck_cells:" in out
    other = tmp_path / "other.toml"
    other.write_text('base = "compass-s"\ncores = 8\n')
    assert main([*args, "--chip", str(other)]) == 1
    assert "compiled for chip" in capsys.readouterr().err
