"""ShuffleNet V2 1.0x (Ma et al. 2018) with torchvision's layout.

Stem conv 3x3/2 (24 channels) + max pool 3x3/2, then stages of 4/8/4 units with 116/232/464
output channels, a 1x1 conv to 1024, the spatial mean and the FC layer. A stride-1 unit splits
the channels in two (`x.chunk(2, dim=1)`: an ONNX Split), transforms one half with
1x1 conv-BN-ReLU, depthwise 3x3 conv-BN, 1x1 conv-BN-ReLU and concatenates it with the other;
the first unit of a stage (stride 2) feeds the whole input to both branches (branch 1:
depthwise 3x3/2 conv-BN, 1x1 conv-BN-ReLU). Every unit ends with a channel shuffle of 2
groups (Reshape -> Transpose -> Reshape).
"""

from __future__ import annotations

from pimdsl.models.builder import GraphBuilder
from pimdsl.models.spec import ModelSpec

NUM_CLASSES = 1000


def _branch(gb: GraphBuilder, x: str, cout: int, stride: int, *, depthwise_first: bool) -> str:
    """torchvision's branch1 (depthwise first) or branch2 (1x1 first), in nn.Sequential indices."""
    i = 0
    y = x
    if not depthwise_first:
        y = gb.relu(gb.conv_bn(y, cout, 1, name="0", bn_name="1"), name="2")
        i = 3
    # The depthwise conv has no ReLU after it: gain 1.
    c = gb.shapes[y][1]
    y = gb.conv_bn(
        y, c, 3, stride=stride, pad=1, groups=c, gain=1.0, name=str(i), bn_name=str(i + 1)
    )
    return gb.relu(gb.conv_bn(y, cout, 1, name=str(i + 2), bn_name=str(i + 3)), name=str(i + 4))


def _unit(gb: GraphBuilder, x: str, cout: int, stride: int) -> str:
    half = cout // 2
    if stride == 1:
        x1, x2 = gb.split(x, 2)
        with gb.scope("branch2"):
            b2 = _branch(gb, x2, half, 1, depthwise_first=False)
        y = gb.concat([x1, b2])
    else:
        with gb.scope("branch1"):
            b1 = _branch(gb, x, half, stride, depthwise_first=True)
        with gb.scope("branch2"):
            b2 = _branch(gb, x, half, stride, depthwise_first=False)
        y = gb.concat([b1, b2])
    return gb.channel_shuffle(y, 2)


def _shufflenet_v2(gb: GraphBuilder, repeats: tuple[int, ...], channels: tuple[int, ...]) -> str:
    with gb.scope("conv1"):
        x = gb.relu(
            gb.conv_bn(gb.input, channels[0], 3, stride=2, pad=1, name="0", bn_name="1"), name="2"
        )
    x = gb.maxpool(x, 3, 2, 1, name="maxpool")
    for stage, (n, cout) in enumerate(zip(repeats, channels[1:-1], strict=True), start=2):
        for j in range(n):
            with gb.scope(f"stage{stage}"), gb.scope(str(j)):
                x = _unit(gb, x, cout, 2 if j == 0 else 1)
    with gb.scope("conv5"):
        x = gb.relu(gb.conv_bn(x, channels[-1], 1, name="0", bn_name="1"), name="2")
    x = gb.flatten(gb.global_pool(x, name="mean"))  # x.mean([2, 3])
    return gb.linear(x, NUM_CLASSES, name="fc")


_ALL_MEAN = {"global_pool": "reduce_mean_flat"}

SPECS = [
    ModelSpec(
        "shufflenet_v2_x1_0",
        lambda gb: _shufflenet_v2(gb, (4, 8, 4), (24, 116, 232, 464, 1024)),
        "ShuffleNet V2 1.0x, stages [4,8,4], channels 24/116/232/464/1024",
        {"torchscript": _ALL_MEAN, "dynamo": _ALL_MEAN, "zoo9": _ALL_MEAN},
    ),
]
