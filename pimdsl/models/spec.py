"""ModelSpec: what the registry knows about one zoo model."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from pimdsl.models.builder import GraphBuilder


@dataclass(frozen=True)
class ModelSpec:
    """A topology (`body` emits it into a GraphBuilder and returns the logits tensor)."""

    name: str
    body: Callable[[GraphBuilder], str]
    description: str
    # Per-style overrides of Style fields, e.g. {"dynamo": {"linear": "matmul"}}.
    overrides: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    image_input: bool = True  # NCHW image input; False: a flat [N, features] input
    features: int = 784  # input width when image_input is False
    min_image_size: int = 32  # smallest image_size the tests use (the topology may allow less)
