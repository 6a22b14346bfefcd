"""A small MLP for MNIST-sized inputs: 784 -> 256 -> 128 -> 10 with ReLU."""

from __future__ import annotations

from pimdsl.models.builder import GraphBuilder
from pimdsl.models.spec import ModelSpec


def _mlp(gb: GraphBuilder) -> str:
    x = gb.relu(gb.linear(gb.input, 256, gain=2.0, name="fc1"), name="relu1")
    x = gb.relu(gb.linear(x, 128, gain=2.0, name="fc2"), name="relu2")
    return gb.linear(x, 10, name="fc3")


SPECS = [
    ModelSpec(
        "mlp",
        _mlp,
        "MLP 784-256-128-10 (ReLU), input [N, 784]",
        {"dynamo": {"linear": "matmul"}},
        image_input=False,
        features=784,
    ),
]
