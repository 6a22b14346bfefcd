"""MobileNetV2 (Sandler et al. 2018), width 1.0, torchvision's layout: ReLU6, linear bottlenecks."""

from __future__ import annotations

from pimdsl.models.builder import GraphBuilder
from pimdsl.models.spec import ModelSpec

NUM_CLASSES = 1000
# expansion t, output channels c, repeats n, first stride s
_SETTINGS = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
]


def _conv_bn_relu6(
    gb: GraphBuilder, x: str, cout: int, k: int, stride: int = 1, groups: int = 1
) -> str:
    y = gb.conv_bn(
        x, cout, k, stride=stride, pad=(k - 1) // 2, groups=groups, name="0", bn_name="1"
    )
    return gb.relu6(y, name="2")


def _inverted_residual(gb: GraphBuilder, x: str, cout: int, stride: int, t: int) -> str:
    cin = gb.shapes[x][1]
    hidden = cin * t
    y, i = x, 0
    with gb.scope("conv"):
        if t != 1:
            with gb.scope(str(i)):
                y = _conv_bn_relu6(gb, y, hidden, 1)
            i += 1
        with gb.scope(str(i)):
            y = _conv_bn_relu6(gb, y, hidden, 3, stride, groups=hidden)  # depthwise
        # Linear bottleneck: no activation, so gain 1.
        y = gb.conv_bn(y, cout, 1, gain=1.0, name=str(i + 1), bn_name=str(i + 2))
    if stride == 1 and cin == cout:
        return gb.add(x, y)
    return y


def _mobilenetv2(gb: GraphBuilder) -> str:
    with gb.scope("features"):
        with gb.scope("0"):
            x = _conv_bn_relu6(gb, gb.input, 32, 3, 2)
        idx = 1
        for t, c, n, s in _SETTINGS:
            for j in range(n):
                with gb.scope(str(idx)):
                    x = _inverted_residual(gb, x, c, s if j == 0 else 1, t)
                idx += 1
        with gb.scope(str(idx)):
            x = _conv_bn_relu6(gb, x, 1280, 1)
    x = gb.flatten(gb.global_pool(x))
    with gb.scope("classifier"):
        x = gb.dropout(x, 0.2, name="0")
        return gb.linear(x, NUM_CLASSES, name="1")


SPECS = [
    ModelSpec(
        "mobilenetv2",
        _mobilenetv2,
        "MobileNetV2 1.0 (ReLU6, inverted residuals)",
        {"dynamo": {"global_pool": "reduce_mean_flat"}},
    ),
]
