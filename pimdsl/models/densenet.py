"""DenseNet-121 (Huang et al. 2017) with torchvision's layout.

Growth rate 32, bottleneck width 4 * 32, dense blocks of 6/12/24/16 layers, each layer
BN-ReLU-Conv1x1-BN-ReLU-Conv3x3; transitions BN-ReLU-Conv1x1 halving the channels, then
AvgPool 2x2; after the last block BN, ReLU, global average pool and the 1024 -> 1000 FC layer.

The BN that opens each layer and transition follows a concat, not a conv, so it stays a
BatchNormalization node even in the BN-folding torchscript style (only norm0 and each layer's
norm2 fold into the conv before them). How the growing feature map is concatenated depends on
the style, as in the real exports: torchvision concatenates all earlier features afresh in
every layer (torchscript: including a one-input Concat in each block's first layer; dynamo
drops that one), while the Caffe original of the ONNX model zoo appends each layer's 32
channels to a running concat (zoo9). All forms compute the same function.
"""

from __future__ import annotations

from pimdsl.models.builder import GraphBuilder
from pimdsl.models.spec import ModelSpec

NUM_CLASSES = 1000
GROWTH = 32
BN_SIZE = 4  # bottleneck width = BN_SIZE * GROWTH
STEM = 64


def _dense_layer(gb: GraphBuilder, features: list[str]) -> str:
    """One layer: its input is the concat of all earlier features of the block."""
    if len(features) > 1 or gb.style.name == "torchscript":
        x = gb.concat(features)
    else:
        x = features[0]
    y = gb.relu(gb.batch_norm(x, name="norm1"), name="relu1")
    # Every conv input is a ReLU output, so gain 2 throughout keeps activations O(1).
    y = gb.relu(gb.conv_bn(y, BN_SIZE * GROWTH, 1, name="conv1", bn_name="norm2"), name="relu2")
    return gb.conv(y, GROWTH, 3, pad=1, bias=False, name="conv2")


def _dense_block(gb: GraphBuilder, x: str, layers: int) -> str:
    running = gb.style.name == "zoo9"  # Caffe: append to a running concat
    features = [x]
    for i in range(layers):
        with gb.scope(f"denselayer{i + 1}"):
            new = _dense_layer(gb, features)
        features = [gb.concat([features[0], new])] if running else [*features, new]
    return features[0] if running else gb.concat(features)


def _transition(gb: GraphBuilder, x: str) -> str:
    y = gb.relu(gb.batch_norm(x, name="norm"))
    y = gb.conv(y, gb.shapes[x][1] // 2, 1, bias=False, name="conv")
    return gb.avgpool(y, 2, 2, name="pool")


def _densenet(gb: GraphBuilder, blocks: tuple[int, ...]) -> str:
    with gb.scope("features"):
        x = gb.conv_bn(gb.input, STEM, 7, stride=2, pad=3, name="conv0", bn_name="norm0")
        x = gb.maxpool(gb.relu(x, name="relu0"), 3, 2, 1, name="pool0")
        for i, layers in enumerate(blocks):
            with gb.scope(f"denseblock{i + 1}"):
                x = _dense_block(gb, x, layers)
            if i != len(blocks) - 1:
                with gb.scope(f"transition{i + 1}"):
                    x = _transition(gb, x)
        x = gb.batch_norm(x, name="norm5")
    x = gb.flatten(gb.global_pool(gb.relu(x)))
    return gb.linear(x, NUM_CLASSES, name="classifier")


SPECS = [
    ModelSpec(
        "densenet121",
        lambda gb: _densenet(gb, (6, 12, 24, 16)),
        "DenseNet-121, growth 32, blocks [6,12,24,16] (BN-ReLU-Conv)",
        {
            "dynamo": {"global_pool": "reduce_mean", "linear": "matmul"},
            "zoo9": {"global_pool": "avgpool"},
        },
    ),
]
