"""The ONNX frontend: every supported op and encoding variant, on tiny hand-built graphs.

Each graph is first validated by ONNX itself (strict shape inference + full checker), so the
tests exercise real ONNX semantics. Structure is checked against what the op must become;
numerics are checked against onnxruntime (an independent oracle) through the nn interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto as TP
from onnx import helper as h
from onnx import numpy_helper as nh
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation

from pimdsl.dialects import nn
from pimdsl.dialects.nn import shape_of
from pimdsl.errors import PimError
from pimdsl.frontend import import_onnx
from pimdsl.module_attrs import get_weights

RNG = np.random.default_rng(1234)


def rand(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape).astype(np.float32)


def make(
    nodes: Sequence[onnx.NodeProto],
    inputs: dict[str, Sequence[int | str]],
    outputs: Sequence[str] | dict[str, Sequence[int]],
    inits: dict[str, np.ndarray] | None = None,
    opset: int = 13,
    ir_version: int | None = None,
    inits_as_inputs: bool = False,
) -> onnx.ModelProto:
    """A checked ONNX model; output types come from ONNX's own (strict) shape inference, or
    from `outputs` when it maps names to (hand-derived) shapes."""
    inits = inits or {}
    vis = [h.make_tensor_value_info(n, TP.FLOAT, list(s)) for n, s in inputs.items()]
    if inits_as_inputs:  # old exporters (IR version 3) list every initializer as an input
        vis += [
            h.make_tensor_value_info(n, h.np_dtype_to_tensor_dtype(a.dtype), a.shape)
            for n, a in inits.items()
        ]
    graph = h.make_graph(
        list(nodes),
        "g",
        vis,
        [
            h.make_tensor_value_info(o, TP.FLOAT, list(outputs[o]))
            if isinstance(outputs, dict)
            else h.make_empty_tensor_value_info(o)
            for o in outputs
        ],
        [nh.from_array(np.asarray(a), n) for n, a in inits.items()],
    )
    m = h.make_model(graph, opset_imports=[h.make_opsetid("", opset)])
    m.ir_version = ir_version or min(m.ir_version, 8)
    m = onnx.shape_inference.infer_shapes(m, strict_mode=True, data_prop=True)
    onnx.checker.check_model(m, full_check=True)
    return m


def body(module: ModuleOp) -> list[Operation]:
    main = module.body.block.first_op
    assert main is not None
    return [op for op in main.body.block.ops if op.name != "func.return"]


def op_names(module: ModuleOp) -> list[str]:
    return [op.name for op in body(module) if op.name not in ("nn.weight", "nn.constant")]


def only(module: ModuleOp, cls: type[Operation]) -> Operation:
    ops = [op for op in body(module) if isinstance(op, cls)]
    assert len(ops) == 1, [op.name for op in body(module)]
    return ops[0]


def ints(attr: object) -> list[int]:
    return list(nn.ints(attr))  # type: ignore[arg-type]


def output_shapes(module: ModuleOp) -> list[tuple[int, ...]]:
    main = module.body.block.first_op
    return [tuple(t.get_shape()) for t in main.function_type.outputs.data]  # type: ignore[union-attr]


def ort_run(m: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    import onnxruntime as ort

    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


def check_numerics(tmp_path: Path, m: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> ModuleOp:
    """Import from a file and compare the nn interpreter with onnxruntime (max abs err / max abs ref)."""
    path = tmp_path / "model.onnx"
    onnx.save(m, path)
    module = import_onnx(path)
    runner = pytest.importorskip("pimdsl.sim.runner")
    got = runner.run_module(module, list(feeds.values()))
    want = ort_run(m, feeds)
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g.shape == w.shape
        assert np.abs(g - w).max() <= 1e-4 * max(np.abs(w).max(), 1e-6)
    return module


def imp(m: onnx.ModelProto) -> ModuleOp:
    module = import_onnx("model.onnx", model=m)
    module.verify()
    return module


# --- Conv ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attrs", "k", "pads", "out_hw"),
    [
        ({"pads": [1, 2, 1, 0]}, 3, [1, 2, 1, 0], (9, 9)),
        # 9 wide, stride 2, kernel 4: out = ceil(9/2) = 5, total pad = 4*2 + 4 - 9 = 3 (odd).
        ({"auto_pad": "SAME_UPPER", "strides": [2, 2]}, 4, [1, 1, 2, 2], (5, 5)),
        ({"auto_pad": "SAME_LOWER", "strides": [2, 2]}, 4, [2, 2, 1, 1], (5, 5)),
        ({"auto_pad": "VALID"}, 3, [0, 0, 0, 0], (7, 7)),
        ({"dilations": [2, 2], "pads": [2, 2, 2, 2]}, 3, [2, 2, 2, 2], (9, 9)),
    ],
)
def test_conv_padding_variants(
    tmp_path: Path, attrs: dict, k: int, pads: list[int], out_hw: tuple[int, int]
) -> None:
    m = make(
        [h.make_node("Conv", ["x", "w", "b"], ["y"], name="conv", **attrs)],
        {"x": [1, 3, 9, 9]},
        ["y"],
        {"w": rand(4, 3, k, k), "b": rand(4)},
    )
    module = check_numerics(tmp_path, m, {"x": rand(1, 3, 9, 9)})
    conv = only(module, nn.Conv2dOp)
    assert ints(conv.pads) == pads
    assert output_shapes(module) == [(1, 4, *out_hw)]


def test_conv_groups_and_no_bias(tmp_path: Path) -> None:
    m = make(
        [
            h.make_node(
                "Conv",
                ["x", "w"],
                ["y"],
                group=4,
                strides=[2, 1],
                kernel_shape=[3, 3],
                pads=[1, 1, 1, 1],
            )
        ],
        {"x": [2, 8, 6, 6]},
        ["y"],
        {"w": rand(8, 2, 3, 3)},
    )
    module = check_numerics(tmp_path, m, {"x": rand(2, 8, 6, 6)})
    conv = only(module, nn.Conv2dOp)
    assert conv.groups.value.data == 4 and conv.bias is None
    assert ints(conv.strides) == [2, 1]
    assert output_shapes(module) == [(2, 8, 3, 6)]


# --- Gemm / MatMul ------------------------------------------------------------------------------


@pytest.mark.parametrize("trans_b", [0, 1])
def test_gemm_trans_b(tmp_path: Path, trans_b: int) -> None:
    w = rand(10, 6) if trans_b else rand(6, 10)
    m = make(
        [h.make_node("Gemm", ["x", "w", "b"], ["y"], transB=trans_b)],
        {"x": [2, 6]},
        ["y"],
        {"w": w, "b": rand(10)},
    )
    module = check_numerics(tmp_path, m, {"x": rand(2, 6)})
    assert op_names(module) == ["nn.linear"]
    lin = only(module, nn.LinearOp)
    assert (lin.weight_in_out is not None) == (trans_b == 0)
    assert lin.bias is not None


def test_gemm_trans_a_alpha_beta(tmp_path: Path) -> None:
    m = make(
        [h.make_node("Gemm", ["x", "w", "c"], ["y"], transA=1, transB=1, alpha=0.5, beta=2.0)],
        {"x": [6, 3]},
        ["y"],
        {"w": rand(4, 6), "c": rand(1, 4)},
    )
    module = check_numerics(tmp_path, m, {"x": rand(6, 3)})
    assert op_names(module) == ["nn.transpose", "nn.linear", "nn.mul", "nn.mul", "nn.add"]


def test_gemm_runtime_b_is_an_error() -> None:
    m = make([h.make_node("Gemm", ["x", "z"], ["y"], name="g0")], {"x": [2, 3], "z": [3, 4]}, ["y"])
    with pytest.raises(PimError, match=r"node 'g0' \(op Gemm, opset 13\).*run time"):
        imp(m)


def test_matmul_add_fuses_to_linear_with_bias(tmp_path: Path) -> None:
    m = make(
        [h.make_node("MatMul", ["x", "w"], ["mm"]), h.make_node("Add", ["mm", "b"], ["y"])],
        {"x": [2, 5, 8]},
        ["y"],
        {"w": rand(8, 3), "b": rand(3)},
    )
    module = check_numerics(tmp_path, m, {"x": rand(2, 5, 8)})
    assert op_names(module) == ["nn.linear"]
    lin = only(module, nn.LinearOp)
    assert lin.weight_in_out is not None and lin.bias is not None
    assert shape_of(lin.output) == (2, 5, 3)


def test_matmul_used_twice_is_not_fused(tmp_path: Path) -> None:
    m = make(
        [
            h.make_node("MatMul", ["x", "w"], ["mm"]),
            h.make_node("Add", ["mm", "b"], ["y"]),
            h.make_node("Relu", ["mm"], ["z"]),
        ],
        {"x": [2, 8]},
        ["y", "z"],
        {"w": rand(8, 3), "b": rand(3)},
    )
    module = check_numerics(tmp_path, m, {"x": rand(2, 8)})
    assert op_names(module) == ["nn.linear", "nn.add", "nn.relu"]


def test_matmul_with_transposed_weight_references_the_initializer(tmp_path: Path) -> None:
    # Dynamo style: Transpose(fc.weight [out, in]) -> MatMul.
    m = make(
        [
            h.make_node("Transpose", ["fc.weight"], ["wt"], perm=[1, 0]),
            h.make_node("MatMul", ["x", "wt"], ["y"]),
        ],
        {"x": [2, 8]},
        ["y"],
        {"fc.weight": rand(3, 8)},
    )
    module = check_numerics(tmp_path, m, {"x": rand(2, 8)})
    assert op_names(module) == ["nn.linear"]
    lin = only(module, nn.LinearOp)
    assert lin.weight_in_out is None
    assert only(module, nn.WeightOp).key == "fc.weight"


def test_matmul_of_two_activations_is_an_error() -> None:
    m = make(
        [h.make_node("MatMul", ["x", "z"], ["y"], name="mm")], {"x": [2, 3], "z": [3, 4]}, ["y"]
    )
    with pytest.raises(PimError, match="MatMul only as a fully connected layer"):
        imp(m)


# --- activations --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "attrs", "nn_op"),
    [
        ("Relu", {}, nn.ReluOp),
        ("Sigmoid", {}, nn.SigmoidOp),
        ("Tanh", {}, nn.TanhOp),
        ("LeakyRelu", {"alpha": 0.2}, nn.LeakyReluOp),
    ],
)
def test_activations(tmp_path: Path, op: str, attrs: dict, nn_op: type[Operation]) -> None:
    m = make([h.make_node(op, ["x"], ["y"], **attrs)], {"x": [2, 3, 4]}, ["y"])
    module = check_numerics(tmp_path, m, {"x": rand(2, 3, 4)})
    o = only(module, nn_op)
    if attrs:
        assert o.alpha.value.data == pytest.approx(0.2)  # type: ignore[attr-defined]


F32_MAX = float(np.finfo(np.float32).max)


@pytest.mark.parametrize(
    ("opset", "attrs", "inputs", "inits", "bounds"),
    [
        (9, {"min": 0.0, "max": 6.0}, ["x"], {}, (0.0, 6.0)),
        (9, {"max": 1.0}, ["x"], {}, (-F32_MAX, 1.0)),
        (13, {}, ["x", "lo", "hi"], {"lo": np.float32(-1.0), "hi": np.float32(2.0)}, (-1.0, 2.0)),
        (11, {}, ["x", "lo"], {"lo": np.float32(0.5)}, (0.5, F32_MAX)),
        (13, {}, ["x", "", "hi"], {"hi": np.float32(0.25)}, (-F32_MAX, 0.25)),
    ],
)
def test_clip_forms(
    tmp_path: Path, opset: int, attrs: dict, inputs: list[str], inits: dict, bounds: tuple
) -> None:
    m = make(
        [h.make_node("Clip", inputs, ["y"], **attrs)], {"x": [2, 8]}, ["y"], inits, opset=opset
    )
    module = check_numerics(tmp_path, m, {"x": 3 * rand(2, 8)})
    clip = only(module, nn.ClipOp)
    assert (clip.min.value.data, clip.max.value.data) == pytest.approx(bounds)


def test_softmax_opset13_is_one_op(tmp_path: Path) -> None:
    m = make([h.make_node("Softmax", ["x"], ["y"], axis=1)], {"x": [2, 3, 4]}, ["y"])
    module = check_numerics(tmp_path, m, {"x": rand(2, 3, 4)})
    assert op_names(module) == ["nn.softmax"]
    assert only(module, nn.SoftmaxOp).axis.value.data == 1


def test_softmax_opset11_coerces_to_2d(tmp_path: Path) -> None:
    # Before opset 13, axis=1 on [2,3,4] normalises over 3*4 = 12 values at once.
    m = make([h.make_node("Softmax", ["x"], ["y"])], {"x": [2, 3, 4]}, ["y"], opset=11)
    module = check_numerics(tmp_path, m, {"x": rand(2, 3, 4)})
    assert op_names(module) == ["nn.reshape", "nn.softmax", "nn.reshape"]
    assert shape_of(only(module, nn.SoftmaxOp).input) == (2, 12)


def test_softmax_opset9_last_axis_is_one_op(tmp_path: Path) -> None:
    m = make([h.make_node("Softmax", ["x"], ["y"], axis=1)], {"x": [2, 10]}, ["y"], opset=9)
    module = check_numerics(tmp_path, m, {"x": rand(2, 10)})
    assert op_names(module) == ["nn.softmax"]


# --- pooling ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "attrs", "opset", "out_hw"),
    [
        ("MaxPool", {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}, 13, (4, 4)),
        ("MaxPool", {"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1}, 13, (4, 4)),
        ("MaxPool", {"kernel_shape": [2, 2], "strides": [2, 2]}, 9, (3, 3)),
        (
            "MaxPool",
            {"kernel_shape": [3, 3], "strides": [2, 2], "auto_pad": "SAME_UPPER"},
            13,
            (4, 4),
        ),
        (
            "AveragePool",
            {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]},
            13,
            (4, 4),
        ),
        (
            "AveragePool",
            {
                "kernel_shape": [3, 3],
                "strides": [2, 2],
                "pads": [1, 1, 1, 1],
                "count_include_pad": 1,
            },
            13,
            (4, 4),
        ),
        ("AveragePool", {"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1}, 18, (4, 4)),
        ("AveragePool", {"kernel_shape": [2, 2], "auto_pad": "VALID"}, 9, (6, 6)),
    ],
)
def test_pools(tmp_path: Path, op: str, attrs: dict, opset: int, out_hw: tuple[int, int]) -> None:
    m = make([h.make_node(op, ["x"], ["y"], **attrs)], {"x": [1, 2, 7, 7]}, ["y"], opset=opset)
    module = check_numerics(tmp_path, m, {"x": rand(1, 2, 7, 7)})
    assert output_shapes(module) == [(1, 2, *out_hw)]
    pool = only(module, nn.MaxPoolOp if op == "MaxPool" else nn.AvgPoolOp)
    assert (pool.ceil_mode is not None) == bool(attrs.get("ceil_mode"))
    if op == "AveragePool":
        assert (pool.count_include_pad is not None) == bool(attrs.get("count_include_pad"))  # type: ignore[attr-defined]


def test_global_pools(tmp_path: Path) -> None:
    m = make(
        [
            h.make_node("GlobalAveragePool", ["x"], ["a"]),
            h.make_node("GlobalMaxPool", ["x"], ["b"]),
        ],
        {"x": [2, 3, 5, 4]},
        ["a", "b"],
    )
    module = check_numerics(tmp_path, m, {"x": rand(2, 3, 5, 4)})
    assert op_names(module) == ["nn.global_avgpool", "nn.maxpool"]
    assert output_shapes(module) == [(2, 3, 1, 1), (2, 3, 1, 1)]


@pytest.mark.parametrize(
    ("opset", "keepdims", "axes_as_input", "expected"),
    [
        (13, 1, False, ["nn.global_avgpool"]),
        (13, 0, False, ["nn.global_avgpool", "nn.reshape"]),
        (18, 1, True, ["nn.global_avgpool"]),
        (18, 0, True, ["nn.global_avgpool", "nn.reshape"]),
    ],
)
def test_reduce_mean_spatial(
    tmp_path: Path, opset: int, keepdims: int, axes_as_input: bool, expected: list[str]
) -> None:
    if axes_as_input:
        node = h.make_node("ReduceMean", ["x", "axes"], ["y"], keepdims=keepdims)
        inits = {"axes": np.array([-1, -2], dtype=np.int64)}
    else:
        node = h.make_node("ReduceMean", ["x"], ["y"], axes=[2, 3], keepdims=keepdims)
        inits = {}
    m = make([node], {"x": [2, 3, 4, 5]}, ["y"], inits, opset=opset)
    module = check_numerics(tmp_path, m, {"x": rand(2, 3, 4, 5)})
    assert op_names(module) == expected
    assert output_shapes(module) == [(2, 3, 1, 1) if keepdims else (2, 3)]


def test_reduce_mean_over_channels_is_an_error() -> None:
    m = make(
        [h.make_node("ReduceMean", ["x"], ["y"], axes=[1], name="rm")], {"x": [2, 3, 4, 5]}, ["y"]
    )
    with pytest.raises(PimError, match=r"node 'rm' \(op ReduceMean, opset 13\).*spatial axes"):
        imp(m)


# --- element-wise -------------------------------------------------------------------------------


@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div"])
def test_binary_broadcasting(tmp_path: Path, op: str) -> None:
    m = make(
        [
            h.make_node(op, ["x", "bias"], ["t"]),
            h.make_node("Constant", [], ["k"], value=nh.from_array(np.float32(2.5))),
            h.make_node(op, ["k", "t"], ["u"]),
            h.make_node(op, ["u", "z"], ["y"]),
        ],
        {"x": [2, 3, 4, 4], "z": [4]},
        ["y"],
        {"bias": rand(3, 1, 1) + 4},
    )
    module = check_numerics(tmp_path, m, {"x": rand(2, 3, 4, 4), "z": rand(4) + 4})
    ops = [op.name for op in body(module)]
    # The [3,1,1] initializer stays a weight; the scalar Constant becomes an inline nn.constant.
    assert ops.count("nn.weight") == 1 and ops.count("nn.constant") == 1
    assert output_shapes(module) == [(2, 3, 4, 4)]


def test_div_by_constant_node_is_inline(tmp_path: Path) -> None:
    m = make(
        [
            h.make_node("Constant", [], ["c"], value=nh.from_array(np.float32(4.0))),
            h.make_node("Div", ["x", "c"], ["y"]),
        ],
        {"x": [2, 3]},
        ["y"],
    )
    module = check_numerics(tmp_path, m, {"x": rand(2, 3)})
    assert op_names(module) == ["nn.div"]
    cst = only(module, nn.ConstantOp)
    assert list(cst.value.get_values()) == [4.0]  # type: ignore[attr-defined]


def test_sum_of_three_is_an_add_chain(tmp_path: Path) -> None:
    m = make(
        [h.make_node("Sum", ["a", "b", "c"], ["y"])], {"a": [2, 3], "b": [3], "c": [2, 1]}, ["y"]
    )
    module = check_numerics(tmp_path, m, {"a": rand(2, 3), "b": rand(3), "c": rand(2, 1)})
    assert op_names(module) == ["nn.add", "nn.add"]


# --- data movement ------------------------------------------------------------------------------


def test_concat_flatten_transpose(tmp_path: Path) -> None:
    m = make(
        [
            h.make_node("Concat", ["a", "b"], ["c"], axis=-3),
            h.make_node("Transpose", ["c"], ["t"], perm=[0, 2, 3, 1]),
            h.make_node("Flatten", ["t"], ["y"], axis=-1),
        ],
        {"a": [1, 2, 3, 4], "b": [1, 5, 3, 4]},
        ["y"],
    )
    module = check_numerics(tmp_path, m, {"a": rand(1, 2, 3, 4), "b": rand(1, 5, 3, 4)})
    assert op_names(module) == ["nn.concat", "nn.transpose", "nn.flatten"]
    assert only(module, nn.ConcatOp).axis.value.data == 1
    assert output_shapes(module) == [(12, 7)]


def test_reshape_zero_and_minus_one(tmp_path: Path) -> None:
    m = make(
        [h.make_node("Reshape", ["x", "s"], ["y"])],
        {"x": [2, 3, 4, 5]},
        ["y"],
        {"s": np.array([0, -1, 5], dtype=np.int64)},
    )
    module = check_numerics(tmp_path, m, {"x": rand(2, 3, 4, 5)})
    assert output_shapes(module) == [(2, 12, 5)]


@pytest.mark.parametrize("opset", [11, 13])
def test_squeeze_unsqueeze_forms(tmp_path: Path, opset: int) -> None:
    if opset < 13:
        nodes = [
            h.make_node("Squeeze", ["x"], ["s"], axes=[2, 3]),
            h.make_node("Unsqueeze", ["s"], ["y"], axes=[0, -1]),
        ]
        inits: dict[str, np.ndarray] = {}
    else:
        nodes = [
            h.make_node("Squeeze", ["x", "ax"], ["s"]),
            h.make_node("Unsqueeze", ["s", "ax2"], ["y"]),
        ]
        inits = {"ax": np.array([2, 3], dtype=np.int64), "ax2": np.array([0, -1], dtype=np.int64)}
    m = make(nodes, {"x": [2, 3, 1, 1]}, ["y"], inits, opset=opset)
    module = check_numerics(tmp_path, m, {"x": rand(2, 3, 1, 1)})
    assert op_names(module) == ["nn.reshape", "nn.reshape"]
    assert output_shapes(module) == [(1, 2, 3, 1)]


def test_squeeze_without_axes(tmp_path: Path) -> None:
    m = make([h.make_node("Squeeze", ["x"], ["y"])], {"x": [1, 3, 1, 2]}, ["y"])
    module = check_numerics(tmp_path, m, {"x": rand(1, 3, 1, 2)})
    assert output_shapes(module) == [(3, 2)]


@pytest.mark.parametrize(
    ("opset", "mode"),
    [(9, "constant"), (9, "reflect"), (11, "edge"), (13, "constant"), (18, "reflect")],
)
def test_pad_forms(tmp_path: Path, opset: int, mode: str) -> None:
    full = [0, 0, 1, 2, 0, 0, 2, 1]
    if opset < 11:
        node = h.make_node(
            "Pad", ["x"], ["y"], pads=full, mode=mode, value=1.5 if mode == "constant" else 0.0
        )
        inits: dict[str, np.ndarray] = {}
    elif opset < 18:
        node = h.make_node("Pad", ["x", "p", "v"], ["y"], mode=mode)
        inits = {"p": np.array(full, dtype=np.int64), "v": np.float32(1.5)}
    else:  # opset 18: pads for the listed axes only
        node = h.make_node("Pad", ["x", "p", "", "axes"], ["y"], mode=mode)
        inits = {
            "p": np.array([1, 2, 2, 1], dtype=np.int64),
            "axes": np.array([2, 3], dtype=np.int64),
        }
    m = make([node], {"x": [1, 2, 4, 4]}, ["y"], inits, opset=opset)
    module = check_numerics(tmp_path, m, {"x": rand(1, 2, 4, 4)})
    pad = only(module, nn.PadOp)
    assert ints(pad.pads) == full and pad.mode_name == mode
    assert output_shapes(module) == [(1, 2, 7, 7)]


# --- normalisation and dropped ops --------------------------------------------------------------


def test_batchnorm_lrn_dropout_identity(tmp_path: Path) -> None:
    c = 4
    m = make(
        [
            h.make_node("BatchNormalization", ["x", "s", "b", "mu", "var"], ["bn"], epsilon=1e-3),
            h.make_node("Dropout", ["bn"], ["d"]),
            h.make_node("LRN", ["d"], ["l"], size=3, alpha=1e-3, beta=0.75, bias=2.0),
            h.make_node("Identity", ["l"], ["y"]),
        ],
        {"x": [2, c, 3, 3]},
        ["y"],
        {"s": rand(c), "b": rand(c), "mu": rand(c), "var": np.abs(rand(c)) + 0.5},
        opset=9,
    )
    module = check_numerics(tmp_path, m, {"x": rand(2, c, 3, 3)})
    assert op_names(module) == ["nn.batch_norm", "nn.lrn"]
    assert only(module, nn.LRNOp).size.value.data == 3


def test_dropout_opset13_with_ratio_input(tmp_path: Path) -> None:
    m = make(
        [h.make_node("Dropout", ["x", "r"], ["y"])], {"x": [2, 3]}, ["y"], {"r": np.float32(0.5)}
    )
    module = check_numerics(tmp_path, m, {"x": rand(2, 3)})
    assert op_names(module) == []


# --- constant folding ---------------------------------------------------------------------------


def test_shape_gather_unsqueeze_concat_chain_folds(tmp_path: Path) -> None:
    # The TorchScript flatten idiom: Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])).
    m = make(
        [
            h.make_node("Shape", ["x"], ["sh"]),
            h.make_node("Gather", ["sh", "zero"], ["n"], axis=0),
            h.make_node("Unsqueeze", ["n", "ax0"], ["n1"]),
            h.make_node("Concat", ["n1", "m1"], ["target"], axis=0),
            h.make_node("Reshape", ["x", "target"], ["y"]),
        ],
        {"x": [2, 3, 4, 4]},
        {"y": [2, 48]},
        {
            "zero": np.array(0, dtype=np.int64),
            "ax0": np.array([0], dtype=np.int64),
            "m1": np.array([-1], dtype=np.int64),
        },
    )
    module = check_numerics(tmp_path, m, {"x": rand(2, 3, 4, 4)})
    assert op_names(module) == ["nn.reshape"]
    assert output_shapes(module) == [(2, 48)]


def test_opset9_constant_shape_chain(tmp_path: Path) -> None:
    m = make(
        [
            h.make_node("Shape", ["x"], ["sh"]),
            h.make_node("Slice", ["sh"], ["nc"], starts=[0], ends=[2]),
            h.make_node(
                "Constant", [], ["tail"], value=nh.from_array(np.array([-1], dtype=np.int64))
            ),
            h.make_node("Concat", ["nc", "tail"], ["target"], axis=0),
            h.make_node("Reshape", ["x", "target"], ["y"]),
        ],
        {"x": [2, 3, 4, 4]},
        {"y": [2, 3, 16]},
        opset=9,
    )
    module = check_numerics(tmp_path, m, {"x": rand(2, 3, 4, 4)})
    assert output_shapes(module) == [(2, 3, 16)]


def test_folding_slice_cast_range_arith_constantofshape(tmp_path: Path) -> None:
    # target = Concat(Slice(Shape(x), 0, 1), Cast(Div(Mul(2, 6), 4)))  -> [2, 3]
    # scale  = ConstantOfShape([3]) filled with 0.5, plus Range(0, 3, 1) cast to float
    m = make(
        [
            h.make_node("Shape", ["x"], ["sh"]),
            h.make_node("Slice", ["sh", "s0", "s1"], ["n"]),
            h.make_node("Mul", ["two", "six"], ["p"]),
            h.make_node("Div", ["p", "four"], ["q"]),
            h.make_node("Cast", ["q"], ["qi"], to=TP.INT64),
            h.make_node("Concat", ["n", "qi"], ["target"], axis=0),
            h.make_node("Reshape", ["x", "target"], ["r"]),
            h.make_node(
                "ConstantOfShape",
                ["three"],
                ["half"],
                value=nh.from_array(np.array([0.5], dtype=np.float32)),
            ),
            h.make_node("Range", ["r0", "r3", "r1"], ["ramp"]),
            h.make_node("Cast", ["ramp"], ["rampf"], to=TP.FLOAT),
            h.make_node("Add", ["half", "rampf"], ["scale"]),
            h.make_node("Mul", ["r", "scale"], ["y"]),
        ],
        {"x": [2, 3]},
        {"y": [2, 3]},
        {
            "s0": np.array([0], dtype=np.int64),
            "s1": np.array([1], dtype=np.int64),
            "two": np.array([2.0], dtype=np.float32),
            "six": np.array([6.0], dtype=np.float32),
            "four": np.array([4.0], dtype=np.float32),
            "three": np.array([3], dtype=np.int64),
            "r0": np.array(0, dtype=np.int64),
            "r3": np.array(3, dtype=np.int64),
            "r1": np.array(1, dtype=np.int64),
        },
    )
    module = check_numerics(tmp_path, m, {"x": rand(2, 3)})
    assert op_names(module) == ["nn.reshape", "nn.mul"]
    assert list(only(module, nn.ConstantOp).value.get_values()) == [0.5, 1.5, 2.5]  # type: ignore[attr-defined]


I64 = np.int64
FOLD_CASES = [
    ("Div", [np.array([-7, 7, 9], I64), np.array([2, 2, -4], I64)], {}, [3], 13),
    ("Mod", [np.array([-7, 7, 9], I64), np.array([3, -3, 4], I64)], {}, [3], 13),
    (
        "Mod",
        [np.array([-7.0, 7.0], np.float32), np.array([3.0, -3.0], np.float32)],
        {"fmod": 1},
        [2],
        13,
    ),
    (
        "Slice",
        [
            np.arange(6, dtype=I64),
            np.array([-1], I64),
            np.array([-(2**63) + 1], I64),
            np.array([0], I64),
            np.array([-2], I64),
        ],
        {},
        [3],
        13,
    ),
    (
        "Gather",
        [np.arange(6, dtype=I64).reshape(2, 3), np.array([[2, 0]], I64)],
        {"axis": 1},
        [2, 1, 2],
        13,
    ),
    ("Where", [np.array([True, False]), np.array([1, 2], I64), np.array([3, 4], I64)], {}, [2], 13),
    ("Expand", [np.array([[1], [2]], I64), np.array([2, 3], I64)], {}, [2, 3], 13),
    ("Tile", [np.array([1, 2], I64), np.array([3], I64)], {}, [6], 13),
    (
        "ReduceProd",
        [np.arange(1, 7, dtype=I64).reshape(2, 3)],
        {"axes": [1], "keepdims": 0},
        [2],
        13,
    ),
    ("ReduceSum", [np.arange(6, dtype=I64).reshape(2, 3), np.array([0], I64)], {}, [1, 3], 13),
    ("Range", [np.array(5, I64), np.array(-1, I64), np.array(-2, I64)], {}, [3], 13),
    ("Min", [np.array([1, 5], I64), np.array([3], I64), np.array([4, 0], I64)], {}, [2], 13),
    ("Slice", [np.arange(6, dtype=I64)], {"starts": [1], "ends": [100], "axes": [0]}, [5], 9),
]


@pytest.mark.parametrize(("op", "args", "attrs", "shape", "opset"), FOLD_CASES)
def test_folders_agree_with_onnxruntime(
    tmp_path: Path, op: str, args: list[np.ndarray], attrs: dict, shape: list[int], opset: int
) -> None:
    # y = x + Cast<float>(op(constants)): the folded result reaches IR as an nn.constant.
    names = [f"c{i}" for i in range(len(args))]
    m = make(
        [
            h.make_node(op, names, ["r"], **attrs),
            h.make_node("Cast", ["r"], ["rf"], to=TP.FLOAT),
            h.make_node("Add", ["x", "rf"], ["y"]),
        ],
        {"x": shape},
        ["y"],
        dict(zip(names, args, strict=True)),
        opset=opset,
    )
    module = check_numerics(tmp_path, m, {"x": np.zeros(shape, dtype=np.float32)})
    assert op_names(module) == ["nn.add"]


def test_reshaped_weight_keeps_its_name(tmp_path: Path) -> None:
    # A bias reshaped to [1, C, 1, 1] by a folded Reshape stays a reference to the initializer.
    m = make(
        [h.make_node("Reshape", ["bias", "s"], ["b4"]), h.make_node("Add", ["x", "b4"], ["y"])],
        {"x": [1, 4, 2, 2]},
        ["y"],
        {"bias": rand(4), "s": np.array([1, 4, 1, 1], dtype=np.int64)},
    )
    module = check_numerics(tmp_path, m, {"x": rand(1, 4, 2, 2)})
    assert op_names(module) == ["nn.reshape", "nn.add"]
    assert only(module, nn.WeightOp).key == "bias"
    assert not [op for op in body(module) if isinstance(op, nn.ConstantOp)]


# --- weights, files, opset 9 --------------------------------------------------------------------


def test_weights_are_referenced_not_copied(tmp_path: Path) -> None:
    w = np.full((8, 4, 3, 3), 0.123456, dtype=np.float32)
    m = make(
        [h.make_node("Conv", ["x", "conv.w"], ["y"])], {"x": [1, 4, 5, 5]}, ["y"], {"conv.w": w}
    )
    path = tmp_path / "net.onnx"
    onnx.save(m, path)
    module = import_onnx(path)
    text = str(module)
    assert get_weights(module) == [str(path)]
    assert 'nn.weight "conv.w" : tensor<8x4x3x3xf32>' in text
    assert "0.123" not in text and "dense" not in text


def test_file_and_model_imports_agree(tmp_path: Path) -> None:
    m = make(
        [
            h.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
            h.make_node("Relu", ["c"], ["y"]),
        ],
        {"x": [1, 3, 8, 8]},
        ["y"],
        {"w": rand(16, 3, 3, 3), "b": rand(16)},
    )
    path = tmp_path / "a.onnx"
    onnx.save(m, path)
    assert str(import_onnx(path)) == str(import_onnx(str(path), model=m))


def test_opset9_initializers_listed_as_inputs(tmp_path: Path) -> None:
    # Caffe2-era zoo models (IR version 3) list every initializer among the graph inputs.
    m = make(
        [
            h.make_node("Conv", ["data", "w", "b"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
            h.make_node("Relu", ["c"], ["r"]),
            h.make_node("Flatten", ["r"], ["f"]),
            h.make_node("Gemm", ["f", "fc_w", "fc_b"], ["g"], transB=1),
            h.make_node("Softmax", ["g"], ["y"]),
        ],
        {"data": [1, 3, 4, 4]},
        ["y"],
        {"w": rand(2, 3, 3, 3), "b": rand(2), "fc_w": rand(5, 32), "fc_b": rand(5)},
        opset=9,
        ir_version=3,
        inits_as_inputs=True,
    )
    module = check_numerics(tmp_path, m, {"data": rand(1, 3, 4, 4)})
    main = module.body.block.first_op
    assert len(main.body.block.args) == 1  # type: ignore[union-attr]
    assert op_names(module) == ["nn.conv2d", "nn.relu", "nn.flatten", "nn.linear", "nn.softmax"]


def test_large_initializers_are_read_lazily_from_the_file(tmp_path: Path) -> None:
    # A weight above the wire reader's keep threshold, and a small int64 shape tensor whose
    # bytes must still be read (folding needs them).
    m = make(
        [h.make_node("Reshape", ["x", "s"], ["f"]), h.make_node("MatMul", ["f", "w"], ["y"])],
        {"x": [2, 4, 64]},
        ["y"],
        {"w": rand(256, 200), "s": np.array([2, 256], dtype=np.int64)},
    )
    module = check_numerics(tmp_path, m, {"x": rand(2, 4, 64)})
    assert output_shapes(module) == [(2, 200)]


def test_external_data_is_not_loaded(tmp_path: Path) -> None:
    m = make(
        [h.make_node("MatMul", ["x", "w"], ["y"])], {"x": [2, 300]}, ["y"], {"w": rand(300, 100)}
    )
    path = tmp_path / "ext.onnx"
    onnx.save(m, path, save_as_external_data=True, location="ext.data", size_threshold=1024)
    assert os.path.getsize(path) < 10_000
    module = import_onnx(path)
    assert op_names(module) == ["nn.linear"] and only(module, nn.WeightOp).key == "w"


# --- inputs -------------------------------------------------------------------------------------


def test_symbolic_batch_dimension_takes_the_batch_argument() -> None:
    m = make([h.make_node("Relu", ["x"], ["y"])], {"x": ["N", 3]}, ["y"])
    assert output_shapes(import_onnx("m.onnx", model=m)) == [(1, 3)]
    assert output_shapes(import_onnx("m.onnx", model=m, batch=4)) == [(4, 3)]


def test_symbolic_inner_dimension_is_an_error() -> None:
    m = make([h.make_node("Relu", ["x"], ["y"])], {"x": [1, "C"]}, ["y"])
    with pytest.raises(
        PimError,
        match=r"graph input 'x'.*symbolic dimension 'C' at axis 1.*make_dynamic_shape_fixed",
    ):
        imp(m)


def test_non_float_input_is_an_error() -> None:
    graph = h.make_graph(
        [h.make_node("Cast", ["x"], ["y"], to=TP.FLOAT)],
        "g",
        [h.make_tensor_value_info("x", TP.INT64, [2])],
        [h.make_tensor_value_info("y", TP.FLOAT, [2])],
    )
    m = h.make_model(graph, opset_imports=[h.make_opsetid("", 13)])
    with pytest.raises(PimError, match="graph input 'x'.*INT64.*float32"):
        imp(m)


# --- errors -------------------------------------------------------------------------------------


def test_unsupported_op_gives_one_clear_error() -> None:
    m = make(
        [
            h.make_node("Relu", ["x"], ["r"]),
            h.make_node("Resize", ["r", "", "scales"], ["u"], name="Resize_12"),
            h.make_node("Erf", ["u"], ["y"], name="erf"),
        ],
        {"x": [1, 1, 2, 2]},
        ["y"],
        {"scales": np.array([1, 1, 2, 2], dtype=np.float32)},
    )
    with pytest.raises(PimError) as info:
        imp(m)
    msg = str(info.value)
    assert msg.startswith("model.onnx: node 'Resize_12' (op Resize, opset 13) is not supported")
    assert "1 more unsupported node(s), ops Erf" in msg
    assert "Supported ops: " in msg and "Conv" in msg and "Replace it" in msg


def test_unsupported_op_in_dead_code_is_ignored() -> None:
    m = make(
        [h.make_node("Relu", ["x"], ["y"]), h.make_node("Erf", ["x"], ["unused"])],
        {"x": [2, 2]},
        ["y", "unused"],
    )
    m.graph.output.pop()  # the Erf result feeds nothing now
    assert op_names(imp(m)) == ["nn.relu"]


def test_fold_only_op_on_runtime_tensor_is_an_error() -> None:
    m = make(
        [h.make_node("Gather", ["x", "i"], ["y"], axis=1, name="gather")],
        {"x": [2, 3]},
        ["y"],
        {"i": np.array([0, 2], dtype=np.int64)},
    )
    with pytest.raises(PimError, match=r"node 'gather' \(op Gather, opset 13\).*only on constants"):
        imp(m)


def test_missing_file() -> None:
    with pytest.raises(PimError, match="nope.onnx: no such file"):
        import_onnx("nope.onnx")


@pytest.mark.parametrize("content", [b"", b"this is not an onnx model\n", b"\xff\xff\xff\xff\xff"])
def test_not_an_onnx_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.onnx"
    path.write_bytes(content)
    with pytest.raises(PimError, match="bad.onnx: is not an ONNX"):
        import_onnx(path)


def test_errors_have_no_traceback_chain(tmp_path: Path) -> None:
    path = tmp_path / "bad.onnx"
    path.write_bytes(b"garbage")
    with pytest.raises(PimError) as info:
        import_onnx(path)
    assert info.value.__cause__ is None and info.value.__suppress_context__


# --- memory -------------------------------------------------------------------------------------

_MEMORY_PROBE = r"""
import json, sys
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
from pimdsl.frontend.importer import import_onnx
base = hwm()
module = import_onnx(sys.argv[1])
print(json.dumps({"base": base, "peak": hwm(), "text": len(str(module))}))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_import_memory_does_not_grow_with_the_weights(tmp_path: Path) -> None:
    # 96 MB of weights: onnx.load alone would need ~2x that; the wire reader never reads them.
    # (Built without `make`: checking it would serialise the 96 MB several times.)
    graph = h.make_graph(
        [h.make_node("MatMul", ["x", "w"], ["y"])],
        "big",
        [h.make_tensor_value_info("x", TP.FLOAT, [1, 3072])],
        [h.make_tensor_value_info("y", TP.FLOAT, [1, 8192])],
        [nh.from_array(np.ones((3072, 8192), dtype=np.float32), "w")],
    )
    path = tmp_path / "big.onnx"
    onnx.save(h.make_model(graph, opset_imports=[h.make_opsetid("", 13)]), path)
    del graph
    size_mb = os.path.getsize(path) / 2**20
    done = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, str(path)], capture_output=True, text=True, check=True
    )
    r = json.loads(done.stdout.strip().splitlines()[-1])
    growth = r["peak"] - r["base"]
    assert size_mb > 90
    assert growth < 0.25 * size_mb, (
        f"import grew peak RSS by {growth:.0f} MB for a {size_mb:.0f} MB model"
    )
    assert r["text"] < 2000


# --- the model zoo ------------------------------------------------------------------------------


def _zoo() -> list[tuple[str, str]]:
    models = pytest.importorskip("pimdsl.models")
    return [(name, style) for name in models.list_models() for style in models.STYLES]


@pytest.mark.parametrize(("name", "style"), _zoo())
def test_zoo_model_imports(name: str, style: str) -> None:
    from pimdsl.models import build_model, get_spec

    kw = (
        {"image_size": 32 if name not in ("alexnet", "googlenet") else 64}
        if get_spec(name).image_input
        else {}
    )
    module = imp(build_model(name, style=style, **kw))
    names = op_names(module)
    assert any(n in ("nn.conv2d", "nn.linear") for n in names)
    assert len(output_shapes(module)) == 1 and output_shapes(module)[0][0] == 1


@pytest.mark.parametrize("style", ["torchscript", "dynamo", "zoo9"])
@pytest.mark.parametrize("name", ["mlp", "squeezenet1_1"])
def test_zoo_model_numerics(tmp_path: Path, name: str, style: str) -> None:
    models = pytest.importorskip("pimdsl.models")
    kw = {"image_size": 32} if models.get_spec(name).image_input else {}
    m = models.build_model(name, style=style, **kw)
    shape = [d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim]
    check_numerics(tmp_path, m, {m.graph.input[0].name: rand(*shape)})


def test_unsorted_graph_and_readable_names() -> None:
    # Nodes in reverse order (invalid for the checker, seen in hand-edited models) and
    # TorchScript-style value names, which become readable SSA names.
    conv_out = "/layer1/layer1.0/conv1/Conv_output_0"
    graph = h.make_graph(
        [
            h.make_node("Relu", [conv_out], ["y"]),
            h.make_node("Conv", ["x", "layer1.0.conv1.weight"], [conv_out]),
        ],
        "g",
        [h.make_tensor_value_info("x", TP.FLOAT, [1, 2, 4, 4])],
        [h.make_tensor_value_info("y", TP.FLOAT, [1, 3, 2, 2])],
        [nh.from_array(rand(3, 2, 3, 3), "layer1.0.conv1.weight")],
    )
    module = imp(h.make_model(graph, opset_imports=[h.make_opsetid("", 13)]))
    assert op_names(module) == ["nn.conv2d", "nn.relu"]
    text = str(module)
    assert "%layer1.0.conv1.weight = nn.weight" in text
    assert "%layer1.0.conv1.Conv = nn.conv2d %x, %layer1.0.conv1.weight" in text


def test_bad_batch_argument() -> None:
    m = make([h.make_node("Relu", ["x"], ["y"])], {"x": ["N", 3]}, ["y"])
    with pytest.raises(PimError, match="batch must be >= 1"):
        import_onnx("m.onnx", model=m, batch=0)


# --- Split and Slice on run-time tensors (nn.slice) ----------------------------------------------


def slices(module: ModuleOp) -> list[tuple[list[int], list[int], list[int], list[int]]]:
    """(axes, starts, ends, steps) of every nn.slice, in program order."""
    return [
        (ints(op.axes), ints(op.starts), ints(op.ends), list(op.step_values()))
        for op in body(module)
        if isinstance(op, nn.SliceOp)
    ]


@pytest.mark.parametrize(
    ("opset", "encoding", "sizes"),
    [
        (9, "attribute", [1, 4, 2]),
        (11, "attribute", [1, 4, 2]),
        (13, "input", [1, 4, 2]),
        (18, "input", [1, 4, 2]),
        # num_outputs=3 on 7 channels: chunks of ceil(7/3) = 3, the last one 7 - 6 = 1
        (18, "num_outputs", [3, 3, 1]),
        (11, "equal", [7]),  # one output: the whole tensor, no op at all
    ],
)
def test_split_encodings(tmp_path: Path, opset: int, encoding: str, sizes: list[int]) -> None:
    outs = [f"y{i}" for i in range(len(sizes))]
    inits: dict[str, np.ndarray] = {}
    if encoding == "attribute":
        node = h.make_node("Split", ["x"], outs, axis=1, split=sizes, name="split")
    elif encoding == "input":
        node = h.make_node("Split", ["x", "s"], outs, axis=-3, name="split")
        inits = {"s": np.array(sizes, dtype=np.int64)}
    elif encoding == "num_outputs":
        node = h.make_node("Split", ["x"], outs, axis=1, num_outputs=len(sizes), name="split")
    else:
        node = h.make_node("Split", ["x"], outs, axis=1, name="split")
    # Each part goes through a Relu so every output is a computed value.
    relus = [h.make_node("Relu", [o], [f"r{i}"]) for i, o in enumerate(outs)]
    m = make(
        [node, *relus],
        {"x": [2, 7, 3, 3]},
        [f"r{i}" for i in range(len(sizes))],
        inits,
        opset=opset,
    )
    module = check_numerics(tmp_path, m, {"x": rand(2, 7, 3, 3)})
    bounds = np.cumsum([0, *sizes])
    expected = [([1], [int(s)], [int(e)], [1]) for s, e in zip(bounds, bounds[1:], strict=False)]
    assert slices(module) == (expected if len(sizes) > 1 else [])
    assert output_shapes(module) == [(2, s, 3, 3) for s in sizes]


def test_split_equal_parts_without_sizes(tmp_path: Path) -> None:
    m = make(
        [h.make_node("Split", ["x"], ["a", "b"], axis=-1)], {"x": [2, 3, 8]}, ["a", "b"], opset=13
    )
    module = check_numerics(tmp_path, m, {"x": rand(2, 3, 8)})
    assert slices(module) == [([2], [0], [4], [1]), ([2], [4], [8], [1])]


def test_split_uneven_without_sizes_is_an_error() -> None:
    # ONNX's own checker rejects this graph too, so it is built without `make`.
    graph = h.make_graph(
        [h.make_node("Split", ["x"], ["a", "b"], axis=1, name="sp")],
        "g",
        [h.make_tensor_value_info("x", TP.FLOAT, [2, 5])],
        [h.make_empty_tensor_value_info("a"), h.make_empty_tensor_value_info("b")],
    )
    m = h.make_model(graph, opset_imports=[h.make_opsetid("", 13)])
    with pytest.raises(
        PimError, match=r"node 'sp' \(op Split, opset 13\).*size 5 into 2 equal parts"
    ):
        import_onnx("model.onnx", model=m)


def test_split_of_a_weight_references_the_initializer(tmp_path: Path) -> None:
    m = make(
        [
            h.make_node("Split", ["w"], ["w0", "w1"], axis=1, split=[2, 4]),
            h.make_node("Add", ["x", "w1"], ["y"]),
        ],
        {"x": [4, 4]},
        ["y"],
        {"w": rand(4, 6)},
        opset=11,
    )
    module = check_numerics(tmp_path, m, {"x": rand(4, 4)})
    sl = only(module, nn.SliceOp)
    assert isinstance(sl.operands[0].owner, nn.WeightOp) and sl.operands[0].owner.key == "w"
    assert slices(module) == [([1], [2], [6], [1])]


@pytest.mark.parametrize(
    ("opset", "starts", "ends", "axes", "steps", "expected"),
    [
        # attributes (< 10); axes default to 0..n-1; ends past the size clamp
        (9, [0, 1], [1, 100], None, None, [([0, 1], [0, 1], [1, 3], [1, 1])]),
        # inputs (>= 10): negative start/end count from the end, negative axis
        (10, [-3], [-1], [-1], None, [([3], [3], [5], [1])]),
        # steps > 1, INT64_MAX end, several axes given out of order
        (13, [1, 0], [2**63 - 1, 3], [3, 2], [2, 2], [([2, 3], [0, 1], [3, 6], [2, 2])]),
        # a start before the beginning clamps to 0; whole axis 0 is dropped from the box
        (18, [-100, 0], [100, 2], [2, 0], None, []),
    ],
)
def test_slice_forms(
    tmp_path: Path,
    opset: int,
    starts: list[int],
    ends: list[int],
    axes: list[int] | None,
    steps: list[int] | None,
    expected: list,
) -> None:
    shape = [2, 3, 4, 6]
    if opset < 10:
        attrs = {"starts": starts, "ends": ends} | ({"axes": axes} if axes is not None else {})
        node = h.make_node("Slice", ["x"], ["s"], name="slice", **attrs)
        inits: dict[str, np.ndarray] = {}
    else:
        names = [
            "x",
            "st",
            "en",
            "ax" if axes is not None else "",
            "sp" if steps is not None else "",
        ]
        node = h.make_node("Slice", names, ["s"], name="slice")
        inits = {"st": np.array(starts, np.int64), "en": np.array(ends, np.int64)}
        if axes is not None:
            inits["ax"] = np.array(axes, np.int64)
        if steps is not None:
            inits["sp"] = np.array(steps, np.int64)
    m = make([node, h.make_node("Relu", ["s"], ["y"])], {"x": shape}, ["y"], inits, opset=opset)
    module = check_numerics(tmp_path, m, {"x": rand(*shape)})
    assert slices(module) == expected


def test_slice_with_negative_step_on_a_runtime_tensor_is_an_error() -> None:
    m = make(
        [h.make_node("Slice", ["x", "st", "en", "ax", "sp"], ["y"], name="flip")],
        {"x": [2, 5]},
        ["y"],
        {
            "st": np.array([-1], np.int64),
            "en": np.array([-(2**63)], np.int64),
            "ax": np.array([1], np.int64),
            "sp": np.array([-1], np.int64),
        },
    )
    with pytest.raises(
        PimError, match=r"node 'flip' \(op Slice, opset 13\).*steps \[-1\].*only positive steps"
    ):
        imp(m)


def test_empty_slice_that_is_used_is_an_error() -> None:
    m = make(
        [h.make_node("Slice", ["x", "st", "en"], ["y"], name="empty")],
        {"x": [2, 5]},
        ["y"],
        {"st": np.array([4], np.int64), "en": np.array([2], np.int64)},
    )
    with pytest.raises(PimError, match=r"node 'empty' \(op Slice, opset 13\).*is empty"):
        imp(m)


def test_slice_of_a_constant_with_negative_step_folds(tmp_path: Path) -> None:
    # y = x + reversed(c): a constant reversal folds at import and inlines.
    m = make(
        [
            h.make_node("Slice", ["c", "st", "en", "ax", "sp"], ["r"]),
            h.make_node("Add", ["x", "r"], ["y"]),
        ],
        {"x": [2, 4]},
        ["y"],
        {
            "c": np.array([1, 2, 3, 4], np.float32),
            "st": np.array([-1], np.int64),
            "en": np.array([-(2**63)], np.int64),
            "ax": np.array([0], np.int64),
            "sp": np.array([-1], np.int64),
        },
    )
    module = check_numerics(tmp_path, m, {"x": rand(2, 4)})
    assert op_names(module) == ["nn.add"]
    assert list(only(module, nn.ConstantOp).value.get_values()) == [4.0, 3.0, 2.0, 1.0]  # type: ignore[attr-defined]
