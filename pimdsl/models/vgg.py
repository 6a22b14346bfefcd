"""VGG-11 / VGG-16 (Simonyan & Zisserman 2015), configurations A and D, without BatchNorm.

torchvision puts an adaptive 7x7 average pool before the classifier; here the first FC layer
takes the final feature map as it is (25088 inputs at 224x224, the canonical size), so small
images give a smaller, still valid network.
"""

from __future__ import annotations

from pimdsl.models.builder import GraphBuilder
from pimdsl.models.spec import ModelSpec

NUM_CLASSES = 1000
_CFG: dict[str, list[int | str]] = {
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg16": [
        64,
        64,
        "M",
        128,
        128,
        "M",
        256,
        256,
        256,
        "M",
        512,
        512,
        512,
        "M",
        512,
        512,
        512,
        "M",
    ],
}


def _vgg(gb: GraphBuilder, cfg: list[int | str]) -> str:
    x = gb.input
    with gb.scope("features"):
        for i, v in enumerate(cfg):
            if v == "M":
                x = gb.maxpool(x, 2, 2, name=str(i))
            else:
                assert isinstance(v, int)
                x = gb.relu(gb.conv(x, v, 3, pad=1, name=str(i)), name=f"{i}_relu")
    x = gb.flatten(x)
    with gb.scope("classifier"):
        x = gb.relu(gb.linear(x, 4096, gain=2.0, name="0"), name="1")
        x = gb.dropout(x, name="2")
        x = gb.relu(gb.linear(x, 4096, gain=2.0, name="3"), name="4")
        x = gb.dropout(x, name="5")
        return gb.linear(x, NUM_CLASSES, name="6")


SPECS = [
    ModelSpec("vgg11", lambda gb: _vgg(gb, _CFG["vgg11"]), "VGG-11 (configuration A)"),
    ModelSpec("vgg16", lambda gb: _vgg(gb, _CFG["vgg16"]), "VGG-16 (configuration D)"),
]
