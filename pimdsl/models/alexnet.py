"""AlexNet with torchvision's channel counts (64-192-384-256-256).

The zoo9 style adds the LRN layers of the original Caffe AlexNet after the first two ReLUs;
that is the one place where styles compute different functions. The first FC layer takes the
final feature map as it is (256*6*6 = 9216 inputs at 224x224; torchvision pools adaptively).
"""

from __future__ import annotations

from pimdsl.models.builder import GraphBuilder
from pimdsl.models.spec import ModelSpec

NUM_CLASSES = 1000


def _alexnet(gb: GraphBuilder) -> str:
    with gb.scope("features"):
        x = gb.relu(gb.conv(gb.input, 64, 11, stride=4, pad=2, name="0"), name="1")
        x = gb.maxpool(gb.lrn(x, name="norm1"), 3, 2, name="2")
        x = gb.relu(gb.conv(x, 192, 5, pad=2, name="3"), name="4")
        x = gb.maxpool(gb.lrn(x, name="norm2"), 3, 2, name="5")
        x = gb.relu(gb.conv(x, 384, 3, pad=1, name="6"), name="7")
        x = gb.relu(gb.conv(x, 256, 3, pad=1, name="8"), name="9")
        x = gb.relu(gb.conv(x, 256, 3, pad=1, name="10"), name="11")
        x = gb.maxpool(x, 3, 2, name="12")
    x = gb.flatten(x)
    with gb.scope("classifier"):
        x = gb.dropout(x, name="0")
        x = gb.relu(gb.linear(x, 4096, gain=2.0, name="1"), name="2")
        x = gb.dropout(x, name="3")
        x = gb.relu(gb.linear(x, 4096, gain=2.0, name="4"), name="5")
        return gb.linear(x, NUM_CLASSES, name="6")


SPECS = [
    ModelSpec(
        "alexnet",
        _alexnet,
        "AlexNet (torchvision channels; LRN in the zoo9 style)",
        min_image_size=63,
    ),
]
