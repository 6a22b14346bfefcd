"""ResNet-18/34/50 (He et al. 2016) with torchvision's layout (stride in the 3x3 conv, v1.5)."""

from __future__ import annotations

from pimdsl.models.builder import GraphBuilder
from pimdsl.models.spec import ModelSpec

NUM_CLASSES = 1000
# Weight gain of the last conv of each residual branch. Post-ReLU activations have a positive
# mean the random BN statistics do not remove, so each `relu(branch + x)` adds the branch's
# variance on top of x's; 0.25 keeps ResNet-34's 224x224 logits near std 4 (0.5 gave ~13).
RESIDUAL_GAIN = 0.25


def _basic_block(gb: GraphBuilder, x: str, planes: int, stride: int) -> str:
    cin = gb.shapes[x][1]
    y = gb.relu(gb.conv_bn(x, planes, 3, stride=stride, pad=1, name="conv1", bn_name="bn1"))
    y = gb.conv_bn(y, planes, 3, pad=1, gain=RESIDUAL_GAIN, name="conv2", bn_name="bn2")
    return gb.relu(gb.add(y, _shortcut(gb, x, cin, planes, stride)))


def _bottleneck(gb: GraphBuilder, x: str, planes: int, stride: int) -> str:
    cin, cout = gb.shapes[x][1], planes * 4
    y = gb.relu(gb.conv_bn(x, planes, 1, name="conv1", bn_name="bn1"))
    y = gb.relu(gb.conv_bn(y, planes, 3, stride=stride, pad=1, name="conv2", bn_name="bn2"))
    y = gb.conv_bn(y, cout, 1, gain=RESIDUAL_GAIN, name="conv3", bn_name="bn3")
    return gb.relu(gb.add(y, _shortcut(gb, x, cin, cout, stride)))


def _shortcut(gb: GraphBuilder, x: str, cin: int, cout: int, stride: int) -> str:
    if stride == 1 and cin == cout:
        return x
    with gb.scope("downsample"):
        return gb.conv_bn(x, cout, 1, stride=stride, gain=1.0, name="0", bn_name="1")


def _resnet(gb: GraphBuilder, bottleneck: bool, layers: tuple[int, ...]) -> str:
    x = gb.conv_bn(gb.input, 64, 7, stride=2, pad=3, name="conv1", bn_name="bn1", separate_pad=True)
    x = gb.maxpool(gb.relu(x), 3, 2, 1, name="maxpool")
    block = _bottleneck if bottleneck else _basic_block
    for i, n in enumerate(layers):
        planes = 64 * 2**i
        for j in range(n):
            with gb.scope(f"layer{i + 1}"), gb.scope(str(j)):
                x = block(gb, x, planes, 2 if (j == 0 and i > 0) else 1)
    x = gb.flatten(gb.global_pool(x))
    return gb.linear(x, NUM_CLASSES, name="fc")


_OVERRIDES = {
    "dynamo": {"linear": "matmul", "global_pool": "reduce_mean"},
    "zoo9": {"residual_add": "sum", "pad_node": True},
}

SPECS = [
    ModelSpec(
        "resnet18",
        lambda gb: _resnet(gb, False, (2, 2, 2, 2)),
        "ResNet-18, BasicBlock [2,2,2,2]",
        _OVERRIDES,
    ),
    ModelSpec(
        "resnet34",
        lambda gb: _resnet(gb, False, (3, 4, 6, 3)),
        "ResNet-34, BasicBlock [3,4,6,3]",
        _OVERRIDES,
    ),
    ModelSpec(
        "resnet50",
        lambda gb: _resnet(gb, True, (3, 4, 6, 3)),
        "ResNet-50, Bottleneck [3,4,6,3] (v1.5: stride in the 3x3 conv)",
        _OVERRIDES,
    ),
]
