"""The model zoo: canonical CNNs and an MLP as ONNX models with seeded weights.

    from pimdsl.models import list_models, build_model, save_model, STYLES
    model = build_model("resnet18", style="dynamo", seed=0, batch=1, image_size=224)

Every model's input is "input" (NCHW float32; the MLP takes [N, 784]) and its output is
"output" (logits). `style` picks how the network is encoded (see `styles.py` and
docs/models.md): "torchscript" (opset 13), "dynamo" (opset 18) or "zoo9" (opset 9).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import onnx

from pimdsl.errors import PimError
from pimdsl.models import (
    alexnet,
    densenet,
    googlenet,
    mlp,
    mobilenet,
    resnet,
    shufflenet,
    squeezenet,
    vgg,
)
from pimdsl.models.builder import GraphBuilder
from pimdsl.models.params import count_parameters
from pimdsl.models.spec import ModelSpec
from pimdsl.models.styles import STYLE_PRESETS, STYLES, Style

__all__ = [
    "STYLES",
    "ModelSpec",
    "Style",
    "build_model",
    "count_parameters",
    "get_spec",
    "list_models",
    "save_model",
    "style_for",
]

DEFAULT_IMAGE_SIZE = 224

_SPECS: dict[str, ModelSpec] = {
    spec.name: spec
    for module in (
        resnet,
        vgg,
        squeezenet,
        alexnet,
        mobilenet,
        googlenet,
        densenet,
        shufflenet,
        mlp,
    )
    for spec in module.SPECS
}


def list_models() -> list[str]:
    """Names accepted by `build_model`, sorted."""
    return sorted(_SPECS)


def get_spec(name: str) -> ModelSpec:
    """The registry entry of one model; unknown names raise PimError listing the valid ones."""
    if name not in _SPECS:
        raise PimError(
            f"unknown model {name!r}.", hint=f"Valid models: {', '.join(list_models())}."
        )
    return _SPECS[name]


def style_for(name: str, style: str) -> Style:
    """The export style preset with the model family's overrides applied."""
    if style not in STYLE_PRESETS:
        raise PimError(
            f"unknown model style {style!r}.", hint=f"Valid styles: {', '.join(STYLES)}."
        )
    overrides = get_spec(name).overrides.get(style, {})
    return dataclasses.replace(STYLE_PRESETS[style], **overrides)  # type: ignore[arg-type]


def build_model(
    name: str,
    *,
    style: str = "torchscript",
    seed: int = 0,
    batch: int = 1,
    image_size: int | None = None,
) -> onnx.ModelProto:
    """Build zoo model `name` as an ONNX model with seeded float32 weights as initializers."""
    spec = get_spec(name)
    st = style_for(name, style)
    if batch < 1:
        raise PimError(f"batch must be >= 1, got {batch}.")
    if spec.image_input:
        size = DEFAULT_IMAGE_SIZE if image_size is None else image_size
        if size < 1:
            raise PimError(f"image_size must be >= 1, got {size}.")
        shape: tuple[int, ...] = (batch, 3, size, size)
    else:
        if image_size is not None:
            raise PimError(
                f"model {name!r} takes flat [N, {spec.features}] inputs; "
                "image_size does not apply.",
                hint="Leave image_size unset.",
            )
        shape = (batch, spec.features)
    gb = GraphBuilder(name, st, seed, shape)
    logits = spec.body(gb)
    doc = f"pimdsl zoo: {spec.description}; style {style}, seed {seed}, input {list(shape)}"
    return gb.build(logits, doc)


def save_model(
    name: str,
    path: str | Path,
    *,
    style: str = "torchscript",
    seed: int = 0,
    batch: int = 1,
    image_size: int | None = None,
) -> Path:
    """Build a zoo model and write it to one .onnx file (weights inside); return the path."""
    model = build_model(name, style=style, seed=seed, batch=batch, image_size=image_size)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx.save_model(model, out)
    return out
