"""Every zoo model: ONNX file -> frontend -> `nn` interpreter, against onnxruntime on the same
seeded input (max abs error / max abs reference <= 1e-4).

Models are built at their smallest test image size (ModelSpec.min_image_size) to keep the suite
fast; resnet18 also runs at the full 224. Each model runs in the default (TorchScript-like,
opset 13) style; the small models also run in the other export styles (dynamo opset 18,
ONNX-zoo opset 9), which encode the same network with different ops. AlexNet runs in the zoo9
style, the one with LRN. The big ones stay at one style to keep this file near 30 s.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pimdsl.sim.runner import main_input_shapes, run_module

ort = pytest.importorskip("onnxruntime")
models = pytest.importorskip("pimdsl.models")
frontend = pytest.importorskip("pimdsl.frontend")

TOL = 1e-4


# Models too big to run in every style here (seconds each on 2 cores), with the style to use.
ONE_STYLE = {
    "alexnet": "zoo9",
    "vgg11": "torchscript",
    "vgg16": "torchscript",
    "resnet34": "torchscript",
    "resnet50": "torchscript",
}


def _cases() -> list[tuple[str, str, int | None]]:
    cases: list[tuple[str, str, int | None]] = []
    for name in models.list_models():
        spec = models.get_spec(name)
        size = spec.min_image_size if spec.image_input else None
        for style in [ONE_STYLE[name]] if name in ONE_STYLE else models.STYLES:
            cases.append((name, style, size))
    cases.append(("resnet18", "torchscript", 224))
    return cases


CASES = _cases()


def _id(case: tuple[str, str, int | None]) -> str:
    name, style, size = case
    return f"{name}-{style}" + (f"-{size}" if size else "")


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_zoo_model_matches_onnxruntime(case: tuple[str, str, int | None], tmp_path: Path) -> None:
    name, style, size = case
    path = models.save_model(name, tmp_path / f"{name}.onnx", style=style, seed=0, image_size=size)
    module = frontend.import_onnx(path)
    (shape,) = main_input_shapes(module)
    x = np.random.default_rng(1234).standard_normal(shape).astype(np.float32)

    (y,) = run_module(module, [x], base_dir=tmp_path)

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (ref,) = sess.run(None, {sess.get_inputs()[0].name: x})
    assert y.shape == ref.shape
    assert np.isfinite(ref).all() and np.abs(ref).max() > 0
    rel = float(np.abs(y - ref).max() / np.abs(ref).max())
    assert rel <= TOL, f"{_id(case)}: max abs error / max abs reference = {rel:.3g}"
