"""GoogLeNet / Inception v1 (Szegedy et al. 2015) with torchvision's layout.

As in torchvision: BatchNorm after every conv (eps 1e-3), ceil-mode max pools, no auxiliary
classifiers (inference), and 3x3 convs in the "5x5" branch (torchvision's known deviation,
kept so the parameter count matches its 6,624,904). The zoo9 style adds the LRN layers of the
Caffe original (after the first pool and after conv3).
"""

from __future__ import annotations

from pimdsl.models.builder import GraphBuilder
from pimdsl.models.spec import ModelSpec

NUM_CLASSES = 1000
# name: (1x1, 3x3 reduce, 3x3, "5x5" reduce, "5x5", pool proj), or a max pool (k, stride)
_PLAN: list[tuple[str, tuple[int, ...]]] = [
    ("inception3a", (64, 96, 128, 16, 32, 32)),
    ("inception3b", (128, 128, 192, 32, 96, 64)),
    ("maxpool3", (3, 2)),
    ("inception4a", (192, 96, 208, 16, 48, 64)),
    ("inception4b", (160, 112, 224, 24, 64, 64)),
    ("inception4c", (128, 128, 256, 24, 64, 64)),
    ("inception4d", (112, 144, 288, 32, 64, 64)),
    ("inception4e", (256, 160, 320, 32, 128, 128)),
    ("maxpool4", (2, 2)),
    ("inception5a", (256, 160, 320, 32, 128, 128)),
    ("inception5b", (384, 192, 384, 48, 128, 128)),
]


def _basic_conv(
    gb: GraphBuilder, x: str, cout: int, k: int, stride: int = 1, pad: int = 0, *, scope: str
) -> str:
    with gb.scope(scope):
        return gb.relu(gb.conv_bn(x, cout, k, stride=stride, pad=pad, eps=1e-3))


def _inception(
    gb: GraphBuilder, x: str, c1: int, r3: int, c3: int, r5: int, c5: int, pp: int
) -> str:
    b1 = _basic_conv(gb, x, c1, 1, scope="branch1")
    with gb.scope("branch2"):
        b2 = _basic_conv(gb, _basic_conv(gb, x, r3, 1, scope="0"), c3, 3, pad=1, scope="1")
    with gb.scope("branch3"):
        b3 = _basic_conv(gb, _basic_conv(gb, x, r5, 1, scope="0"), c5, 3, pad=1, scope="1")
    with gb.scope("branch4"):
        p = gb.maxpool(x, 3, 1, 1, ceil=True, name="0")
        b4 = _basic_conv(gb, p, pp, 1, scope="1")
    return gb.concat([b1, b2, b3, b4])


def _googlenet(gb: GraphBuilder) -> str:
    x = _basic_conv(gb, gb.input, 64, 7, stride=2, pad=3, scope="conv1")
    x = gb.lrn(gb.maxpool(x, 3, 2, ceil=True, name="maxpool1"), name="norm1")
    x = _basic_conv(gb, x, 64, 1, scope="conv2")
    x = _basic_conv(gb, x, 192, 3, pad=1, scope="conv3")
    x = gb.maxpool(gb.lrn(x, name="norm2"), 3, 2, ceil=True, name="maxpool2")
    for name, args in _PLAN:
        if name.startswith("maxpool"):
            x = gb.maxpool(x, args[0], args[1], ceil=True, name=name)
        else:
            with gb.scope(name):
                x = _inception(gb, x, *args)
    x = gb.flatten(gb.global_pool(x))
    x = gb.dropout(x, 0.2)
    return gb.linear(x, NUM_CLASSES, name="fc")


SPECS = [
    ModelSpec(
        "googlenet",
        _googlenet,
        "GoogLeNet / Inception v1 (torchvision layout)",
        {"zoo9": {"global_pool": "avgpool_padded"}},
    ),
]
