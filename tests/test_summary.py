"""`-t summary` at every level (`pimdsl.summary`): the weight layers and their parameters, counted
from what each level holds, equal the ONNX model's (counted here with onnx, independently), also
when layers are cut by partition boundaries and replicated."""

from __future__ import annotations

import io
import math
import re
from pathlib import Path

import pytest
from xdsl.context import Context

from pimdsl.chip import load_preset
from pimdsl.module_attrs import set_batch, set_chip
from pimdsl.summary import emit_summary

onnx = pytest.importorskip("onnx")
models = pytest.importorskip("pimdsl.models")
frontend = pytest.importorskip("pimdsl.frontend")


def onnx_weight_layers(path: Path) -> tuple[int, int]:
    """(conv and gemm/matmul nodes with an initializer weight, elements of those weights)."""
    g = onnx.load(str(path)).graph
    inits = {t.name: math.prod(t.dims) for t in g.initializer}
    layers = [n for n in g.node if n.op_type in ("Conv", "Gemm", "MatMul") and n.input[1] in inits]
    return len(layers), sum(inits[n.input[1]] for n in layers)


def summary(module) -> dict[str, str]:
    out = io.StringIO()
    emit_summary(module, out)
    return {line[:12].strip(): line[12:] for line in out.getvalue().splitlines()}


def counts(s: dict[str, str]) -> tuple[int, int]:
    layers = int(re.match(r"(\d+) weight layers", s["layers"]).group(1))  # type: ignore[union-attr]
    m = re.search(r"([\d,]+) in weight layers", s["parameters"])
    assert m is not None
    return layers, int(m.group(1).replace(",", ""))


@pytest.mark.parametrize("name", ["resnet18", "squeezenet1_1", "mobilenetv2"])
def test_every_level_reports_the_onnx_models_layers_and_parameters(
    name: str, tmp_path: Path
) -> None:
    from pimdsl.passes.crossbar_to_isa import CrossbarToIsaPass
    from pimdsl.passes.partition import PartitionPass
    from pimdsl.passes.partition_to_crossbar import PartitionToCrossbarPass

    size = models.get_spec(name).min_image_size
    path = models.save_model(name, tmp_path / f"{name}.onnx", seed=0, image_size=size)
    want = onnx_weight_layers(path)
    module = frontend.import_onnx(path)
    set_chip(module, load_preset("compass-s").replace(cores=3))  # layers cut over partitions
    set_batch(module, 2)
    got = {"nn": counts(summary(module))}
    PartitionPass().apply(Context(), module)
    s = summary(module)
    pieces = int(re.search(r"(\d+) layer pieces", s["partitions"]).group(1))  # type: ignore[union-attr]
    assert pieces > want[0]  # some layer is cut: the pieces are not counted as layers
    got["partition"] = counts(s)
    PartitionToCrossbarPass().apply(Context(), module)
    s = summary(module)
    assert s["level"] == "crossbar"
    got["crossbar"] = counts(s)
    CrossbarToIsaPass().apply(Context(), module)
    s = summary(module)
    assert s["level"] == "pim_isa"
    got["pim_isa"] = counts(s)
    assert got == {level: want for level in got}
