"""The `light` model-zoo graphs bundled with the onnx package (weights made by ConstantOfShape,
so they all go to the side-car file): import with pim-opt, run with pim-run against
onnxruntime, lower to pim_isa on compass-s. The files are discovered, not listed.

Models with more than HEAVY_PARAMS parameters (AlexNet, VGG19, ZFNet512: each writes 240-550
MB of side-car weights and takes 30-65 s) run only with PIMDSL_HEAVY_TESTS=1.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper as h
from onnx import numpy_helper as nh

from pimdsl.tools.pim_opt import main as pim_opt
from pimdsl.tools.pim_run import main as pim_run

LIGHT = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"
MODELS = sorted(LIGHT.glob("light_*.onnx"))
HEAVY_PARAMS = 30_000_000
COMPASS_S_WEIGHTS = 16 * 9 * 256 * 256 // 4  # 4-bit weights that fit chip compass-s at once


def params(m: onnx.ModelProto) -> int:
    """Weights of the model: initializers plus the ConstantOfShape tensors it computes."""
    inits = {t.name: nh.to_array(t) for t in m.graph.initializer}
    total = sum(a.size for a in inits.values() if a.dtype == np.float32)
    for n in m.graph.node:
        if n.op_type == "ConstantOfShape" and n.input[0] in inits:
            total += math.prod(int(d) for d in inits[n.input[0]].reshape(-1))
    return total


def logits_model(m: onnx.ModelProto) -> onnx.ModelProto:
    """The model without its final Softmax. These graphs' weights are all 0.02, so every class
    gets the same logit (about 1e9, where a float32 step is ~100): the softmax of such logits
    depends on the last bit of each, and no two correct implementations agree on it. The
    logits themselves are well conditioned."""
    out = m.graph.output[0].name
    last = next(n for n in m.graph.node if out in n.output)
    if last.op_type != "Softmax":
        return m
    cut = onnx.ModelProto()
    cut.CopyFrom(m)
    cut.graph.node.remove(next(n for n in cut.graph.node if out in n.output))
    del cut.graph.output[:]
    cut.graph.output.append(h.make_empty_tensor_value_info(last.input[0]))
    return cut


def cli(tool: object, argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = tool(argv)  # type: ignore[operator]
    out, err = capsys.readouterr()
    return code, out, err


def test_the_light_models_are_found() -> None:
    assert len(MODELS) >= 5, f"no light_*.onnx models in {LIGHT}"


@pytest.mark.parametrize("path", MODELS, ids=[p.stem for p in MODELS])
def test_light_model_imports_runs_and_lowers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], path: Path
) -> None:
    m = onnx.load(path)
    n_params = params(m)
    if n_params > HEAVY_PARAMS and not os.environ.get("PIMDSL_HEAVY_TESTS"):
        pytest.skip(f"{n_params:,} parameters: set PIMDSL_HEAVY_TESTS=1 to run")
    # numerics: the logits against onnxruntime, through pim-opt and pim-run
    cut = tmp_path / "logits.onnx"
    onnx.save(logits_model(m), cut)
    code, _, err = cli(pim_opt, [str(cut), "-o", str(tmp_path / "logits.mlir")], capsys)
    assert code == 0, err
    code, out, err = cli(pim_run, [str(tmp_path / "logits.mlir"), "--compare-onnxruntime"], capsys)
    assert code == 0 and "matches onnxruntime within 0.0001" in out, out + err
    (tmp_path / "logits.mlir.weights.npz").unlink()
    # the whole model: import (weights to the side-car), lower to pim_isa with weight reloads
    mlir = tmp_path / "model.mlir"
    code, _, err = cli(pim_opt, [str(path), "-o", str(mlir)], capsys)
    assert code == 0, err
    text = mlir.read_text()
    assert "dense<" not in text and (tmp_path / "model.mlir.weights.npz").is_file()
    assert '"model.mlir.weights.npz"]' in text
    isa = tmp_path / "model.isa.mlir"
    code, _, err = cli(
        pim_opt,
        [
            str(mlir),
            "--chip",
            "compass-s",
            "--batch",
            "2",
            "--partition",
            "--lower-to-isa",
            "-o",
            str(isa),
        ],
        capsys,
    )
    assert code == 0, err
    lowered = isa.read_text()
    partitions = lowered.count("pim_isa.partition")
    assert "pim_isa.ld_weight" in lowered and partitions >= 1
    if n_params > COMPASS_S_WEIGHTS:  # too big for the chip: weights are reloaded
        assert partitions > 1


def test_what_the_light_models_need_runs_right_at_the_isa_level(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A batch norm written as Mul and Add of per-channel constants (one an initializer, one
    folded), an average pool excluding padding, and an opset-9 softmax of an [N, C, 1, 1]
    tensor, lowered to pim_isa and run against onnxruntime."""
    rng = np.random.default_rng(3)
    f32 = np.float32
    inits = {
        "w": rng.standard_normal((8, 3, 3, 3)).astype(f32),
        "s": rng.random(8).astype(f32) + 0.5,
        "bshape": np.array([8], np.int64),
        "fc": rng.standard_normal((8, 8, 1, 1)).astype(f32),
    }
    nodes = [
        h.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
        h.make_node("Unsqueeze", ["s"], ["s3"], axes=[1, 2]),
        h.make_node("Mul", ["c", "s3"], ["cs"]),
        h.make_node(
            "ConstantOfShape", ["bshape"], ["b"], value=nh.from_array(np.array([0.25], f32))
        ),
        h.make_node("Unsqueeze", ["b"], ["b3"], axes=[1, 2]),
        h.make_node("Add", ["cs", "b3"], ["cb"]),
        h.make_node(
            "AveragePool", ["cb"], ["p"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]
        ),
        h.make_node("Conv", ["p", "fc"], ["q"]),
        h.make_node("GlobalAveragePool", ["q"], ["g"]),
        h.make_node("Softmax", ["g"], ["y"], axis=1),
    ]
    graph = h.make_graph(
        nodes,
        "g",
        [h.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1, 3, 9, 9])],
        [h.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 8, 1, 1])],
        [nh.from_array(a, n) for n, a in inits.items()],
    )
    m = h.make_model(graph, opset_imports=[h.make_opsetid("", 9)])
    m.ir_version = 4
    onnx.checker.check_model(m, full_check=True)
    path = tmp_path / "bn.onnx"
    onnx.save(m, path)
    isa = tmp_path / "bn.isa.mlir"
    code, _, err = cli(
        pim_opt,
        [str(path), "--chip", "compass-s", "--partition", "--lower-to-isa", "-o", str(isa)],
        capsys,
    )
    assert code == 0, err
    code, out, err = cli(pim_run, [str(isa), "--compare-onnxruntime"], capsys)
    assert code == 0 and "matches onnxruntime within 0.0001" in out, out + err
