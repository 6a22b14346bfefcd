"""The model zoo: valid ONNX in every style, runs in onnxruntime, canonical sizes, seeded.

Oracles: onnx.checker (full shape inference), onnxruntime (executes each encoding
independently, so styles must agree numerically), and torchvision's published parameter counts.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from pimdsl.errors import PimError
from pimdsl.models import (
    STYLES,
    build_model,
    count_parameters,
    get_spec,
    list_models,
    save_model,
)
from pimdsl.models.__main__ import main as models_cli

ALL = list_models()
# Styles compute the same function for a seed, except where zoo9 adds Caffe's LRN layers.
LRN_MODELS = {"alexnet", "googlenet"}


def small_size(name: str) -> int | None:
    spec = get_spec(name)
    return spec.min_image_size if spec.image_input else None


def run(
    model: onnx.ModelProto, seed: int = 1, serialized: bytes | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(input, output) of onnxruntime on a seeded standard-normal input."""
    opts = ort.SessionOptions()
    opts.log_severity_level = 3  # zoo9 lists initializers as inputs; ORT warns about each
    opts.intra_op_num_threads = 2
    data = model.SerializeToString() if serialized is None else serialized
    sess = ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])
    dims = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    x = np.random.default_rng(seed).standard_normal(dims).astype(np.float32)
    (y,) = sess.run(["output"], {"input": x})
    return x, y


def assert_sane_logits(y: np.ndarray, batch: int, classes: int) -> None:
    assert y.shape == (batch, classes)
    assert y.dtype == np.float32
    assert np.isfinite(y).all()
    peak = float(np.abs(y).max())
    assert 0.05 < peak < 100.0, f"logits not O(1): max |y| = {peak}"
    assert float(y.std(axis=1).min()) > 1e-3 * peak, "logits constant across classes"
    assert float(np.abs(y[0] - y[1]).max()) > 1e-3 * peak, "output ignores the input"


def rel_err(a: np.ndarray, ref: np.ndarray) -> float:
    return float(np.abs(a - ref).max() / np.abs(ref).max())


def op_counts(model: onnx.ModelProto) -> Counter[str]:
    return Counter(n.op_type for n in model.graph.node)


def nodes_of(model: onnx.ModelProto, op: str) -> list[onnx.NodeProto]:
    return [n for n in model.graph.node if n.op_type == op]


def attr(node: onnx.NodeProto, name: str) -> object:
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return None


# ---- every model, every style ------------------------------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_model_valid_and_runs_in_every_style(name: str) -> None:
    classes = 10 if name == "mlp" else 1000
    outputs: dict[str, np.ndarray] = {}
    for style in STYLES:
        model = build_model(name, style=style, batch=2, image_size=small_size(name))
        data = model.SerializeToString()  # once: VGG at 32x32 still has 37M weights
        onnx.checker.check_model(data, full_check=True)
        assert [i.name for i in model.graph.input][0] == "input"
        assert [o.name for o in model.graph.output] == ["output"]
        assert model.opset_import[0].version == {"torchscript": 13, "dynamo": 18, "zoo9": 9}[style]
        assert all(
            t.data_type == onnx.TensorProto.FLOAT
            for t in model.graph.initializer
            if len(t.dims) > 1
        ), "weights must be float32"
        _, outputs[style] = run(model, serialized=data)
        del model, data
        assert_sane_logits(outputs[style], 2, classes)
    # One seed is one network: each encoding, run independently by onnxruntime, agrees.
    assert rel_err(outputs["dynamo"], outputs["torchscript"]) < 1e-4
    if name not in LRN_MODELS:
        assert rel_err(outputs["zoo9"], outputs["torchscript"]) < 1e-4
    else:  # LRN (alpha 1e-4) changes the numbers a little, not the scale
        assert 0 < rel_err(outputs["zoo9"], outputs["dynamo"]) < 0.5


def test_resnet18_at_224() -> None:
    model = build_model("resnet18", batch=2)
    onnx.checker.check_model(model, full_check=True)
    assert (
        list(model.graph.input[0].type.tensor_type.shape.dim[2:])
        == [onnx.TensorShapeProto.Dimension(dim_value=224)] * 2
    )
    _, y = run(model)
    assert_sane_logits(y, 2, 1000)


def test_mlp_shapes() -> None:
    model = build_model("mlp", batch=3)
    x, y = run(model)
    assert x.shape == (3, 784) and y.shape == (3, 10)
    # The three Gemm weights are 256x784, 128x256, 10x128 (torch's [out, in] with transB=1).
    gemms = nodes_of(model, "Gemm")
    inits = {t.name: tuple(t.dims) for t in model.graph.initializer}
    assert [inits[g.input[1]] for g in gemms] == [(256, 784), (128, 256), (10, 128)]
    assert all(attr(g, "transB") == 1 for g in gemms)


# ---- canonical parameter counts (torchvision's model.parameters()) -----------------------


@pytest.mark.parametrize(
    ("name", "count"),
    [
        ("resnet18", 11_689_512),
        ("resnet34", 21_797_672),
        ("resnet50", 25_557_032),
        ("squeezenet1_0", 1_248_424),
        ("squeezenet1_1", 1_235_496),
        ("mobilenetv2", 3_504_872),
        ("googlenet", 6_624_904),
        ("alexnet", 61_100_840),
        ("vgg16", 138_357_544),
        ("densenet121", 7_978_856),
        ("shufflenet_v2_x1_0", 2_278_604),
    ],
)
def test_parameter_count_matches_torchvision(name: str, count: int) -> None:
    # dynamo keeps BatchNorm as nodes, so scale + bias per BN channel are counted like torch;
    # VGG/AlexNet need 224x224 for their 7x7x512 / 6x6x256 classifier inputs.
    assert count_parameters(build_model(name, style="dynamo")) == count


def test_parameter_count_with_folded_batchnorm() -> None:
    # Folding replaces BN's scale + bias (2 per channel) by one conv bias per channel.
    # ResNet-18's BN channels: 64 + 4*64 + (4*128 + 128) + (4*256 + 256) + (4*512 + 512) = 4800.
    assert count_parameters(build_model("resnet18", style="torchscript")) == 11_689_512 - 4_800
    assert count_parameters(build_model("mlp")) == 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10
    # DenseNet-121 folds only the BN after a conv: norm0 (64) and each layer's norm2 (128 x 58
    # layers); norm1, the transitions' norm and norm5 follow a concat and stay BN nodes.
    assert count_parameters(build_model("densenet121", style="torchscript")) == (
        7_978_856 - 64 - 58 * 128
    )
    # ShuffleNet V2 folds all its BNs: conv1 24; per stage (input c, branch width b, n units)
    # c + b (branch1) + 3b (branch2) + (n - 1) * 3b; conv5 1024.
    stages = [(24, 58, 4), (116, 116, 8), (232, 232, 4)]
    bn = 24 + sum(c + b + 3 * b * n for c, b, n in stages) + 1024
    assert bn == 8_090
    assert count_parameters(build_model("shufflenet_v2_x1_0")) == 2_278_604 - bn


# ---- seeds ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [n for n in ALL if not n.startswith("vgg")])  # big, no new paths
def test_seed_determinism(name: str) -> None:
    size = small_size(name)
    a = build_model(name, style="zoo9", seed=3, image_size=size).SerializeToString()
    b = build_model(name, style="zoo9", seed=3, image_size=size).SerializeToString()
    assert a == b
    c = build_model(name, style="zoo9", seed=4, image_size=size)
    d = onnx.load_from_string(a)
    assert [t.name for t in c.graph.initializer] == [t.name for t in d.graph.initializer]
    weights = [
        (t.raw_data, u.raw_data)
        for t, u in zip(c.graph.initializer, d.graph.initializer, strict=True)
        if len(t.dims) > 1
    ]
    assert all(p != q for p, q in weights)


# ---- what each style promises to emit ----------------------------------------------------


def test_torchscript_encoding() -> None:
    r18 = build_model("resnet18", image_size=32)
    ops = op_counts(r18)
    assert ops["BatchNormalization"] == 0 and ops["Conv"] == 20
    assert ops["Add"] == 8 and ops["Flatten"] == 1 and ops["GlobalAveragePool"] == 1
    assert all(attr(g, "transB") == 1 for g in nodes_of(r18, "Gemm"))
    assert all(len(c.input) == 3 for c in nodes_of(r18, "Conv")), "BN folded into conv bias"
    mb = build_model("mobilenetv2", image_size=32)
    clips = nodes_of(mb, "Clip")
    assert len(clips) == 35 and all(len(c.input) == 3 and not c.attribute for c in clips)
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in mb.graph.initializer}
    assert (float(inits[clips[0].input[1]]), float(inits[clips[0].input[2]])) == (0.0, 6.0)
    sq = build_model("squeezenet1_0", image_size=32)
    assert [attr(p, "ceil_mode") for p in nodes_of(sq, "MaxPool")] == [1, 1, 1]


def test_dynamo_encoding() -> None:
    r18 = build_model("resnet18", style="dynamo", image_size=32)
    ops = op_counts(r18)
    assert ops["BatchNormalization"] == 20 and ops["Flatten"] == 0 and ops["Gemm"] == 0
    inits = {t.name for t in r18.graph.initializer}
    (mean,) = nodes_of(r18, "ReduceMean")
    assert len(mean.input) == 2 and mean.input[1] in inits and attr(mean, "keepdims") == 1
    (reshape,) = nodes_of(r18, "Reshape")
    assert reshape.input[1] in inits
    (matmul,) = nodes_of(r18, "MatMul")
    w = next(t for t in r18.graph.initializer if t.name == matmul.input[1])
    assert tuple(w.dims) == (512, 1000), "MatMul takes the transposed [in, out] weight"
    assert ops["Add"] == 8 + 1  # residual adds + the FC bias
    mb = build_model("mobilenetv2", style="dynamo", image_size=32)
    (mean,) = nodes_of(mb, "ReduceMean")
    assert attr(mean, "keepdims") == 0 and op_counts(mb)["Gemm"] == 1
    assert op_counts(build_model("vgg11", style="dynamo", image_size=32))["Gemm"] == 3
    assert op_counts(build_model("mlp", style="dynamo"))["MatMul"] == 3


def test_zoo9_encoding() -> None:
    r18 = build_model("resnet18", style="zoo9", image_size=32)
    ops = op_counts(r18)
    assert ops["Sum"] == 8 and ops["Add"] == 0 and ops["BatchNormalization"] == 20
    (pad,) = nodes_of(r18, "Pad")
    assert attr(pad, "pads") == [0, 0, 3, 3, 0, 0, 3, 3]
    assert ops["Identity"] == 1 and ops["Constant"] >= 2
    # x.view(x.size(0), -1): Shape -> Gather -> Unsqueeze -> Concat(-1) -> Reshape
    by_output = {o: n for n in r18.graph.node for o in n.output}
    (reshape,) = nodes_of(r18, "Reshape")
    concat = by_output[reshape.input[1]]
    unsq = by_output[concat.input[0]]
    gather = by_output[unsq.input[0]]
    assert [concat.op_type, unsq.op_type, gather.op_type] == ["Concat", "Unsqueeze", "Gather"]
    assert by_output[gather.input[0]].op_type == "Shape"
    assert by_output[concat.input[1]].op_type == "Constant"
    # Old converters list every initializer as a graph input too.
    assert {t.name for t in r18.graph.initializer} <= {i.name for i in r18.graph.input}

    alex = build_model("alexnet", style="zoo9", image_size=63)
    assert op_counts(alex)["LRN"] == 2 and op_counts(alex)["Dropout"] == 2
    goog = build_model("googlenet", style="zoo9", image_size=32)
    assert op_counts(goog)["LRN"] == 2
    (avg,) = nodes_of(goog, "AveragePool")
    assert attr(avg, "pads") == [1, 1, 1, 1] and attr(avg, "count_include_pad") == 0
    mb = build_model("mobilenetv2", style="zoo9", image_size=32)
    clip = nodes_of(mb, "Clip")[0]
    assert len(clip.input) == 1 and (attr(clip, "min"), attr(clip, "max")) == (0.0, 6.0)
    # Opset-9 MaxPool has no ceil_mode: ceil mode becomes extra end padding.
    sq = build_model("squeezenet1_0", style="zoo9", image_size=224)
    pools = nodes_of(sq, "MaxPool")
    assert all(attr(p, "ceil_mode") is None for p in pools)
    assert [attr(p, "pads") for p in pools] == [[0, 0, 0, 0], [0, 0, 1, 1], [0, 0, 0, 0]]
    for style in ("torchscript", "dynamo"):
        assert not {"LRN", "Dropout", "Identity", "Sum"} & set(
            op_counts(build_model("googlenet", style=style, image_size=32))
        )


def inferred_dims(model: onnx.ModelProto) -> dict[str, list[int]]:
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    return {
        v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
        for v in inferred.graph.value_info
    }


def test_densenet121_encoding() -> None:
    blocks, layers = (6, 12, 24, 16), 58
    counts = {
        style: op_counts(build_model("densenet121", style=style, image_size=32)) for style in STYLES
    }
    for style, ops in counts.items():
        # 120 convs = stem + 2 per dense layer + 3 transitions; one FC.
        assert ops["Conv"] == 1 + 2 * layers + 3, style
        assert ops["Gemm"] + ops["MatMul"] == 1 and ops["MaxPool"] == 1
    # BN nodes: all 121 kept, or (torchscript) only the 62 that follow a concat, not a conv.
    assert counts["dynamo"]["BatchNormalization"] == counts["zoo9"]["BatchNormalization"] == 121
    assert counts["torchscript"]["BatchNormalization"] == layers + 3 + 1
    # Relu: 2 per layer + 3 transitions + stem + final.
    assert {ops["Relu"] for ops in counts.values()} == {2 * layers + 5}
    # Concats: torchvision re-concatenates per layer (+1 per block output); the dynamo export
    # drops the one-input concat of each block's first layer; Caffe appends once per layer.
    assert counts["torchscript"]["Concat"] == layers + 4
    assert counts["dynamo"]["Concat"] == layers
    assert counts["zoo9"]["Concat"] == layers + 1  # + the shape Concat of x.view(N, -1)
    # Transitions: AvgPool 2x2/2; zoo9's global pool is one more AveragePool.
    assert counts["torchscript"]["AveragePool"] == counts["dynamo"]["AveragePool"] == 3
    assert counts["zoo9"]["AveragePool"] == 4
    assert counts["dynamo"]["ReduceMean"] == 1 and counts["torchscript"]["GlobalAveragePool"] == 1
    # At 224: blocks end with 64 + 6*32 = 256 channels at 56x56, 128 + 12*32 = 512 at 28,
    # 256 + 24*32 = 1024 at 14 and 512 + 16*32 = 1024 at 7; transitions halve the channels.
    assert sum(blocks) == layers
    model = build_model("densenet121", style="dynamo")
    dims = inferred_dims(model)
    pools = nodes_of(model, "AveragePool")
    assert all(attr(p, "kernel_shape") == [2, 2] and attr(p, "strides") == [2, 2] for p in pools)
    assert [dims[p.input[0]][1:] for p in pools] == [[128, 56, 56], [256, 28, 28], [512, 14, 14]]
    assert [dims[p.output[0]][1:] for p in pools] == [[128, 28, 28], [256, 14, 14], [512, 7, 7]]
    (mean,) = nodes_of(model, "ReduceMean")
    assert dims[mean.input[0]][1:] == [1024, 7, 7]


def test_shufflenet_v2_encoding() -> None:
    units = 4 + 8 + 4
    for style in STYLES:
        model = build_model("shufflenet_v2_x1_0", style=style, image_size=32)
        ops = op_counts(model)
        splits = nodes_of(model, "Split")
        assert len(splits) == units - 3, style  # every stride-1 unit
        assert ops["Transpose"] == units and ops["Reshape"] == 2 * units, style
        assert all(attr(t, "perm") == [0, 2, 1, 3, 4] for t in nodes_of(model, "Transpose"))
        depthwise = [c for c in nodes_of(model, "Conv") if attr(c, "group") != 1]
        assert len(depthwise) == units + 3  # branch2 of every unit, branch1 of the first ones
        assert all(len(s.output) == 2 for s in splits)
        # Split's encoding per opset: attribute, input, num_outputs.
        first = splits[0]
        if style == "zoo9":
            assert attr(first, "split") == [58, 58] and len(first.input) == 1
        elif style == "torchscript":
            assert len(first.input) == 2 and attr(first, "split") is None
        else:
            assert attr(first, "num_outputs") == 2 and len(first.input) == 1
        (mean,) = nodes_of(model, "ReduceMean")
        assert attr(mean, "keepdims") == 0
    assert op_counts(model)["Constant"] >= 2 * units  # zoo9: shapes as Constant nodes
    # At 224: stem 112, pool 56, stages 28 / 14 / 7 with 116 / 232 / 464 channels.
    model = build_model("shufflenet_v2_x1_0", style="dynamo")
    dims = inferred_dims(model)
    shuffled = [dims[n.output[0]][1:] for n in nodes_of(model, "Reshape")[1::2]]
    assert shuffled == [[116, 28, 28]] * 4 + [[232, 14, 14]] * 8 + [[464, 7, 7]] * 4


@pytest.mark.parametrize("style", STYLES)
def test_split_and_channel_shuffle_semantics(style: str) -> None:
    # Oracle: onnxruntime runs the emitted nodes; numpy states what torchvision computes:
    # x.chunk(2, 1) takes the first and second halves, and channel_shuffle(x, g) sends input
    # channel i * (C / g) + j to output channel j * g + i.
    from pimdsl.models import style_for
    from pimdsl.models.builder import GraphBuilder

    n, c, h, w, g = 2, 12, 3, 5, 3
    gb = GraphBuilder("t", style_for("shufflenet_v2_x1_0", style), 0, (n, c, h, w))
    a, b = gb.split(gb.input, 2)
    y = gb.channel_shuffle(gb.concat([b, a]), g)
    model = gb.build(gb.relu(y))
    onnx.checker.check_model(model, full_check=True)
    x, out = run(model)
    swapped = np.concatenate([x[:, c // 2 :], x[:, : c // 2]], axis=1)
    k = np.arange(c)
    expected = np.maximum(swapped[:, (k % g) * (c // g) + k // g], 0)
    np.testing.assert_array_equal(out, expected)


def test_squeezenet_ceil_mode_shapes_at_224() -> None:
    # torchvision SqueezeNet 1.0 at 224: 109 -> pool 54 -> pool 27 -> pool 13 (ceil mode;
    # floor mode would give 54, 26, 12).
    for style in ("torchscript", "zoo9"):
        model = build_model("squeezenet1_0", style=style)
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
        dims = {
            v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
            for v in inferred.graph.value_info
        }
        pools = nodes_of(model, "MaxPool")
        assert [dims[p.output[0]][2] for p in pools] == [54, 27, 13]


# ---- API, errors, files ------------------------------------------------------------------


def test_list_models() -> None:
    assert ALL == sorted(ALL)
    assert set(ALL) == {
        "resnet18",
        "resnet34",
        "resnet50",
        "vgg11",
        "vgg16",
        "squeezenet1_0",
        "squeezenet1_1",
        "alexnet",
        "mobilenetv2",
        "googlenet",
        "mlp",
        "densenet121",
        "shufflenet_v2_x1_0",
    }
    assert STYLES == ("torchscript", "dynamo", "zoo9")


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"name": "resnet19"}, "Valid models: alexnet, densenet121, googlenet"),
        ({"name": "resnet18", "style": "caffe"}, "Valid styles: torchscript, dynamo, zoo9"),
        ({"name": "mlp", "image_size": 32}, "image_size does not apply"),
        ({"name": "alexnet", "image_size": 32}, "image_size 32 is too small"),
        ({"name": "vgg11", "batch": 0}, "batch must be >= 1"),
    ],
)
def test_bad_arguments_raise_pim_error(kwargs: dict[str, object], needle: str) -> None:
    name = kwargs.pop("name")
    with pytest.raises(PimError, match=needle):
        build_model(name, **kwargs)  # type: ignore[arg-type]


def test_save_model_and_cli(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = save_model("mlp", tmp_path / "sub" / "mlp.onnx", style="dynamo", seed=5)
    assert path.read_bytes() == build_model("mlp", style="dynamo", seed=5).SerializeToString()
    out = tmp_path / "sq.onnx"
    assert models_cli(["squeezenet1_1", "-o", str(out), "--image-size", "32"]) == 0
    assert "1,235,496 parameters" in capsys.readouterr().out
    onnx.checker.check_model(onnx.load(out), full_check=True)
    assert models_cli(["nope", "-o", str(out)]) == 1
    assert "unknown model 'nope'" in capsys.readouterr().err
