"""SqueezeNet 1.0 and 1.1 (Iandola et al. 2016) with torchvision's layout.

The max pools use ceil mode (from the Caffe original); opset-9 MaxPool has no ceil_mode, so
the zoo9 style writes the same windows as extra end padding. The classifier is a 1x1 conv to
1000 channels, ReLU and a global average pool.
"""

from __future__ import annotations

from pimdsl.models.builder import GraphBuilder
from pimdsl.models.spec import ModelSpec

NUM_CLASSES = 1000


def _fire(gb: GraphBuilder, x: str, squeeze: int, e1: int, e3: int) -> str:
    s = gb.relu(gb.conv(x, squeeze, 1, name="squeeze"), name="squeeze_activation")
    a = gb.relu(gb.conv(s, e1, 1, name="expand1x1"), name="expand1x1_activation")
    b = gb.relu(gb.conv(s, e3, 3, pad=1, name="expand3x3"), name="expand3x3_activation")
    return gb.concat([a, b])


def _squeezenet(gb: GraphBuilder, version: str) -> str:
    # (index in torchvision's `features`, squeeze, expand1x1, expand3x3) or "M" for a pool
    if version == "1_0":
        stem_c, stem_k = 96, 7
        plan: list[tuple[int, int, int] | str] = [
            "M",
            (16, 64, 64),
            (16, 64, 64),
            (32, 128, 128),
            "M",
            (32, 128, 128),
            (48, 192, 192),
            (48, 192, 192),
            (64, 256, 256),
            "M",
            (64, 256, 256),
        ]
    else:
        stem_c, stem_k = 64, 3
        plan = [
            "M",
            (16, 64, 64),
            (16, 64, 64),
            "M",
            (32, 128, 128),
            (32, 128, 128),
            "M",
            (48, 192, 192),
            (48, 192, 192),
            (64, 256, 256),
            (64, 256, 256),
        ]
    with gb.scope("features"):
        x = gb.relu(gb.conv(gb.input, stem_c, stem_k, stride=2, name="0"), name="1")
        for i, item in enumerate(plan, start=2):
            if item == "M":
                x = gb.maxpool(x, 3, 2, ceil=True, name=str(i))
            else:
                assert isinstance(item, tuple)
                with gb.scope(str(i)):
                    x = _fire(gb, x, *item)
    with gb.scope("classifier"):
        x = gb.dropout(x, name="0")
        x = gb.relu(gb.conv(x, NUM_CLASSES, 1, name="1"), name="2")
        x = gb.global_pool(x, name="3")
    return gb.flatten(x)


_OVERRIDES = {"zoo9": {"global_pool": "avgpool", "flatten": "flatten"}}

SPECS = [
    ModelSpec("squeezenet1_0", lambda gb: _squeezenet(gb, "1_0"), "SqueezeNet 1.0", _OVERRIDES),
    ModelSpec("squeezenet1_1", lambda gb: _squeezenet(gb, "1_1"), "SqueezeNet 1.1", _OVERRIDES),
]
