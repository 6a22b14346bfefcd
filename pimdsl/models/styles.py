"""Export styles: how one network topology is encoded as ONNX.

Three real-world exporters encode the same CNN differently. A `Style` lists every choice that
differs, so each model family can start from a preset and override a few fields (for example
the dynamo ResNets use MatMul + Add for the classifier while the dynamo VGGs use Gemm). The
network computed never changes with the style, except that `lrn=True` inserts the LRN layers of
the original Caffe AlexNet/GoogLeNet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FlattenForm = Literal["flatten", "reshape_const", "shape_chain"]
LinearForm = Literal["gemm", "matmul"]
GlobalPoolForm = Literal["global", "reduce_mean", "reduce_mean_flat", "avgpool", "avgpool_padded"]
CeilForm = Literal["attr", "pads"]


@dataclass(frozen=True)
class Style:
    """The encoding choices of one exporter."""

    name: str
    opset: int
    ir_version: int
    fold_bn: bool  # BN folded into the conv's weight and bias (eval-mode TorchScript export)
    clip_inputs: bool  # Clip min/max as inputs (opset >= 11) rather than attributes
    flatten: FlattenForm
    linear: LinearForm  # Gemm(transB=1) or MatMul with a pre-transposed weight + Add
    global_pool: GlobalPoolForm
    residual_add: Literal["add", "sum"]
    dropout: bool  # keep inference no-op Dropout nodes
    lrn: bool  # insert the Caffe topology's LRN layers (AlexNet, GoogLeNet)
    ceil_mode: CeilForm  # MaxPool ceil_mode attribute, or the equivalent asymmetric pads
    pad_node: bool  # stem padding as a separate Pad node
    identity_output: bool  # route the logits through an Identity node
    initializers_as_inputs: bool  # old converters list every initializer as a graph input


STYLE_PRESETS: dict[str, Style] = {
    # torch.onnx.export (TorchScript) in eval mode, opset 13.
    "torchscript": Style(
        name="torchscript",
        opset=13,
        ir_version=7,
        fold_bn=True,
        clip_inputs=True,
        flatten="flatten",
        linear="gemm",
        global_pool="global",
        residual_add="add",
        dropout=False,
        lrn=False,
        ceil_mode="attr",
        pad_node=False,
        identity_output=False,
        initializers_as_inputs=False,
    ),
    # torch.onnx.export(dynamo=True) / torch.export based, opset 18.
    "dynamo": Style(
        name="dynamo",
        opset=18,
        ir_version=8,
        fold_bn=False,
        clip_inputs=True,
        flatten="reshape_const",
        linear="gemm",
        global_pool="global",
        residual_add="add",
        dropout=False,
        lrn=False,
        ceil_mode="attr",
        pad_node=False,
        identity_output=False,
        initializers_as_inputs=False,
    ),
    # The ONNX model zoo's classic CNNs (converted from Caffe/Caffe2/old PyTorch), opset 9.
    # Opset-9 MaxPool has no ceil_mode, so ceil mode is encoded as extra end padding.
    "zoo9": Style(
        name="zoo9",
        opset=9,
        ir_version=4,
        fold_bn=False,
        clip_inputs=False,
        flatten="shape_chain",
        linear="gemm",
        global_pool="global",
        residual_add="add",
        dropout=True,
        lrn=True,
        ceil_mode="pads",
        pad_node=False,
        identity_output=True,
        initializers_as_inputs=True,
    ),
}

STYLES: tuple[str, ...] = tuple(STYLE_PRESETS)
