"""Stable layer names (issue 14): every weight layer carries its ONNX node name (`pim.node`) from
import on, and reports name layers by it, whatever the SSA names become (a printer that
renumbers values, as mlir-opt does, or a cut into partition pieces)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from mlir_opt import mlir_opt_generic, needs_mlir_opt
from xdsl.context import Context
from xdsl.parser import Parser
from xdsl.printer import Printer

from pimdsl.chip import load_preset
from pimdsl.dialects import context, nn
from pimdsl.module_attrs import set_batch, set_chip
from pimdsl.report import report_data

onnx = pytest.importorskip("onnx")
models = pytest.importorskip("pimdsl.models")
frontend = pytest.importorskip("pimdsl.frontend")


def parse(text: str):
    return Parser(context(allow_unregistered=True), text).parse_module()


def generic(module) -> str:
    out = io.StringIO()
    Printer(stream=out, print_generic_format=True).print_op(module)
    return out.getvalue()


@pytest.fixture(scope="module")
def resnet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    size = models.get_spec("resnet18").min_image_size
    return models.save_model(
        "resnet18", tmp_path_factory.mktemp("names") / "r18.onnx", seed=0, image_size=size
    )


def onnx_layer_names(path: Path) -> list[str]:
    g = onnx.load(str(path)).graph
    inits = {t.name for t in g.initializer}
    return [
        n.name for n in g.node if n.op_type in ("Conv", "Gemm", "MatMul") and n.input[1] in inits
    ]


def partitioned(path: Path):
    from pimdsl.passes.partition import PartitionPass

    module = frontend.import_onnx(path)
    set_chip(module, load_preset("compass-s").replace(cores=3))  # several partitions, cut layers
    set_batch(module, 2)
    PartitionPass().apply(Context(), module)
    return module


def report_names(module) -> list[str]:
    return [n for p in report_data(module)["partitions"] for n in p["layer_names"]]


def test_weight_layers_carry_their_onnx_node_names(resnet: Path) -> None:
    module = frontend.import_onnx(resnet)
    layers = [op for op in module.walk() if isinstance(op, nn.WEIGHT_LAYERS)]
    want = onnx_layer_names(resnet)
    assert len(want) == 21 and all(want)
    assert [nn.layer_label(op) for op in layers] == want


def test_report_names_survive_renumbered_values(resnet: Path) -> None:
    """The generic form with every SSA name replaced by a number (what mlir-opt prints), parsed
    again: the report names the same layers, which are the ONNX model's (a cut layer appears in
    every partition holding a piece of it)."""
    module = partitioned(resnet)
    before = report_names(module)
    assert set(before) == set(onnx_layer_names(resnet))
    assert len(before) > len(set(before))  # some layer is cut into pieces
    numbers: dict[str, str] = {}
    renamed = re.sub(
        r"%[A-Za-z_][\w.$-]*",
        lambda m: numbers.setdefault(m.group(0), f"%n{len(numbers)}"),
        generic(module),
    )
    assert numbers and not (set(re.findall(r"%[A-Za-z_][\w.$-]*", renamed)) - set(numbers.values()))
    assert report_names(parse(renamed)) == before


@needs_mlir_opt
def test_report_names_survive_an_mlir_opt_round_trip(resnet: Path, tmp_path: Path) -> None:
    module = partitioned(resnet)
    before = report_names(module)
    src = tmp_path / "p.mlir"
    src.write_text(generic(module))
    assert report_names(parse(mlir_opt_generic(src))) == before
