"""The `element` schedule (`pimdsl.isa.element`): row-granular tokens between the layers of one
image, chunks of every core's image loop ordered by key, and a software pipeline of chunks.

Oracles: onnxruntime on zoo models (several partitions, cores holding many layers, pools,
concats, residual adds); geometry and token counts by hand."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp

from pimdsl.chip import load_preset
from pimdsl.dialects import pim_isa as isa
from pimdsl.module_attrs import set_batch, set_chip
from pimdsl.sim.isa_interp import iter_instructions
from pimdsl.sim.runner import main_input_shapes, run_module

ort = pytest.importorskip("onnxruntime")
models = pytest.importorskip("pimdsl.models")
frontend = pytest.importorskip("pimdsl.frontend")


def _lowered(path: Path, batch: int, cores: int, schedule: str) -> ModuleOp:
    from pimdsl.passes.lower_to_isa import LowerToIsaPass
    from pimdsl.passes.partition import PartitionPass

    module = frontend.import_onnx(path)
    set_chip(module, load_preset("compass-s").replace(cores=cores))
    set_batch(module, batch)
    PartitionPass().apply(Context(), module)
    LowerToIsaPass(schedule=schedule).apply(Context(), module)
    module.verify()
    return module


@pytest.fixture(scope="module")
def zoo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("zoo_element_schedule")
    files = {}
    for name in ("resnet18", "squeezenet1_1", "googlenet", "mobilenetv2", "vgg11"):
        size = models.get_spec(name).min_image_size
        files[name] = models.save_model(name, d / f"{name}.onnx", seed=0, image_size=size)
    return files


@pytest.mark.parametrize("cores", [2, 5])
@pytest.mark.parametrize("name", ["resnet18", "squeezenet1_1", "googlenet", "mobilenetv2", "vgg11"])
def test_element_schedule_matches_onnxruntime(name: str, cores: int, zoo: dict[str, Path]) -> None:
    path = zoo[name]
    module = _lowered(path, 3, cores, "element")
    program = isa.find_program(module)
    assert program is not None
    assert any(isinstance(op, isa.RecvOp) and op.tag.value.data < 0 for op in program.walk())
    (shape,) = main_input_shapes(module)
    x = np.random.default_rng(5).standard_normal(shape).astype(np.float32)
    (y,) = run_module(module, [x], base_dir=path.parent)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    n = sess.get_inputs()[0].shape[0]
    ref = np.concatenate(
        [sess.run(None, {sess.get_inputs()[0].name: x[i : i + n]})[0] for i in range(0, shape[0], n)]
    )
    rel = float(np.abs(y - ref).max() / np.abs(ref).max())
    assert rel <= 1e-4, f"{name}: max abs error / max abs reference = {rel:.3g}"
