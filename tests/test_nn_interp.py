"""The `nn` interpreter against onnxruntime, one single-node network per op and attribute variant.

Each case is built twice, independently: as an ONNX graph (run by onnxruntime, the oracle) and
as hand-written `nn` IR whose weights sit in an `.npz` side-car file (run by
`pimdsl.sim.runner`). When the ONNX frontend is present, the same ONNX graph is also imported
and run, so the frontend + interpreter path is checked against the same oracle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from xdsl.dialects import func
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, ModuleOp
from xdsl.ir import Block, Operation, Region, SSAValue

from pimdsl.dialects import nn
from pimdsl.errors import PimError
from pimdsl.module_attrs import set_weights
from pimdsl.sim.runner import run_module
from pimdsl.weights import WeightStore, write_npz

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

TOL = 1e-4
OPSET = 19


def rel_err(y: np.ndarray, ref: np.ndarray) -> float:
    assert y.shape == ref.shape, (y.shape, ref.shape)
    return float(np.abs(y - ref).max() / max(np.abs(ref).max(), 1e-30))


# --- building the two sides ---------------------------------------------------------------------


class IR:
    """Collects the ops of @main while a case builds its `nn` side."""

    def __init__(self, weights: dict[str, np.ndarray]):
        self.ops: list[Operation] = []
        self.weights = weights

    def w(self, name: str) -> SSAValue:
        op = nn.WeightOp(name, self.weights[name].shape)
        self.ops.append(op)
        return op.result

    def __call__(self, op: Operation) -> SSAValue:
        self.ops.append(op)
        return op.results[0]


@dataclass
class Case:
    id: str
    op_type: str
    x_shapes: list[tuple[int, ...]]
    build: Callable[[IR, list[SSAValue]], SSAValue]
    attrs: dict = field(default_factory=dict)
    inits: dict[str, np.ndarray] = field(default_factory=dict)  # ONNX inputs after the data
    positive: bool = False  # inputs > 0 (for Div)
    # None: onnxruntime. Else a plain-loop numpy transcription of the ONNX spec, for cases
    # onnxruntime refuses (onnx.reference is no help: its LRN loops over the batch axis).
    oracle: Callable[[list[np.ndarray]], np.ndarray] | None = None


def onnx_model(case: Case) -> onnx.ModelProto:
    xs = [f"x{i}" for i in range(len(case.x_shapes))]
    node = helper.make_node(case.op_type, xs + list(case.inits), ["y"], **case.attrs)
    graph = helper.make_graph(
        [node],
        case.id,
        [
            helper.make_tensor_value_info(n, TensorProto.FLOAT, list(s))
            for n, s in zip(xs, case.x_shapes, strict=True)
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(v, n) for n, v in case.inits.items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])


def nn_module(case: Case, weights_file: Path) -> ModuleOp:
    float_inits = {n: v for n, v in case.inits.items() if v.dtype == np.float32}
    ir = IR(float_inits)
    block = Block(arg_types=[nn.tensor(s) for s in case.x_shapes])
    out = case.build(ir, list(block.args))
    block.add_ops([*ir.ops, func.ReturnOp(out)])
    main = func.FuncOp("main", (list(block.arg_types), [out.type]), Region(block))
    module = ModuleOp([main])
    if float_inits:
        write_npz(weights_file, float_inits)
        set_weights(module, weights_file.name)
    module.verify()
    return module


def inputs_for(case: Case, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    xs = [rng.standard_normal(s).astype(np.float32) for s in case.x_shapes]
    return [np.abs(x) + 0.5 for x in xs] if case.positive else xs


def oracle_run(case: Case, model: onnx.ModelProto, xs: list[np.ndarray]) -> np.ndarray:
    if case.oracle is not None:
        return case.oracle(xs)
    return onnxruntime_run(model, xs)


def onnxruntime_run(model: onnx.ModelProto, xs: list[np.ndarray]) -> np.ndarray:
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {f"x{i}": x for i, x in enumerate(xs)})[0]


def rand(*shape: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def i64(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def scalar(v: float) -> np.ndarray:
    return np.array(v, dtype=np.float32)


# --- the cases ------------------------------------------------------------------------------------


def conv_case(
    id: str,
    x: tuple[int, ...],
    w: tuple[int, ...],
    *,
    bias: bool = True,
    strides=(1, 1),
    pads=(0, 0, 0, 0),
    dilations=(1, 1),
    groups: int = 1,
) -> Case:
    from pimdsl.shapes import conv2d_out_hw

    oh, ow = conv2d_out_hw(x[2:], w[2:], strides, pads, dilations)
    inits = {"w": rand(*w, seed=2)}
    if bias:
        inits["b"] = rand(w[0], seed=3)

    def build(ir: IR, a: list[SSAValue]) -> SSAValue:
        return ir(
            nn.Conv2dOp(
                a[0],
                ir.w("w"),
                ir.w("b") if bias else None,
                strides=strides,
                pads=pads,
                dilations=dilations,
                groups=groups,
                result_shape=(x[0], w[0], oh, ow),
            )
        )

    attrs = dict(
        strides=list(strides),
        pads=list(pads),
        dilations=list(dilations),
        group=groups,
        kernel_shape=list(w[2:]),
    )
    return Case(id, "Conv", [x], build, attrs, inits)


def pool_case(
    id: str,
    kind: str,
    x: tuple[int, ...],
    kernel,
    strides,
    pads=(0, 0, 0, 0),
    *,
    dilations=(1, 1),
    ceil_mode: bool = False,
    count_include_pad: bool = False,
) -> Case:
    from pimdsl.shapes import conv2d_out_hw

    oh, ow = conv2d_out_hw(x[2:], kernel, strides, pads, dilations, ceil_mode)
    extra = {"count_include_pad": nn.UnitAttr()} if count_include_pad else {}
    cls = nn.MaxPoolOp if kind == "MaxPool" else nn.AvgPoolOp

    def build(ir: IR, a: list[SSAValue]) -> SSAValue:
        return ir(
            cls(
                a[0],
                kernel=kernel,
                strides=strides,
                pads=pads,
                dilations=dilations,
                ceil_mode=ceil_mode,
                result_shape=(x[0], x[1], oh, ow),
                **extra,
            )
        )

    attrs = dict(
        kernel_shape=list(kernel), strides=list(strides), pads=list(pads), ceil_mode=int(ceil_mode)
    )
    if tuple(dilations) != (1, 1):
        attrs["dilations"] = list(dilations)
    if kind == "AveragePool":
        attrs["count_include_pad"] = int(count_include_pad)
    return Case(id, kind, [x], build, attrs)


def binary_case(
    id: str,
    op_type: str,
    cls: type,
    a: tuple[int, ...],
    b: tuple[int, ...] | None,
    *,
    weight: tuple[int, ...] | None = None,
) -> Case:
    """`b` a second input, or `weight` a stored operand."""

    def build(ir: IR, xs: list[SSAValue]) -> SSAValue:
        rhs = xs[1] if b is not None else ir.w("c")
        return ir(cls(xs[0], rhs))

    shapes = [a] + ([b] if b is not None else [])
    inits = {"c": np.abs(rand(*weight, seed=4)) + 0.5} if weight is not None else {}
    return Case(id, op_type, shapes, build, {}, inits, positive=op_type == "Div")


def unary_case(
    id: str,
    op_type: str,
    x: tuple[int, ...],
    make: Callable[[SSAValue], Operation],
    attrs: dict | None = None,
    inits: dict | None = None,
) -> Case:
    return Case(id, op_type, [x], lambda ir, a: ir(make(a[0])), attrs or {}, inits or {})


X = (2, 4, 9, 11)


def _constant_case() -> Case:
    value = rand(1, 4, 1, 1, seed=7)

    def build(ir: IR, a: list[SSAValue]) -> SSAValue:
        attr = DenseIntOrFPElementsAttr.from_list(nn.tensor(value.shape), value.ravel().tolist())
        c = ir(nn.ConstantOp(properties={"value": attr}, result_types=[nn.tensor(value.shape)]))
        return ir(nn.AddOp(a[0], c))

    # ONNX side: the same constant as an initializer (the nn side does not read it from a file)
    return Case("constant-add", "Add", [X], build, {}, {"c_onnx": value})


def _lrn(size: int) -> Case:
    case = unary_case(
        f"lrn-size{size}",
        "LRN",
        X,
        lambda v: nn.LRNOp(v, size=size, alpha=1e-3, beta=0.75, bias=2.0),
        dict(size=size, alpha=1e-3, beta=0.75, bias=2.0),
    )
    if size % 2 == 0:  # onnxruntime only implements odd sizes
        case.oracle = lambda xs: lrn_by_spec(xs[0], size, 1e-3, 0.75, 2.0)
    return case


def lrn_by_spec(x: np.ndarray, size: int, alpha: float, beta: float, bias: float) -> np.ndarray:
    """ONNX LRN, transcribed loop by loop from the operator spec."""
    x64 = x.astype(np.float64)
    channels = x.shape[1]
    y = np.empty_like(x64)
    for c in range(channels):
        lo = max(0, c - (size - 1) // 2)
        hi = min(channels - 1, c + int(np.ceil((size - 1) / 2)))
        square_sum = (x64[:, lo : hi + 1] ** 2).sum(axis=1)
        y[:, c] = x64[:, c] / (bias + alpha / size * square_sum) ** beta
    return y.astype(np.float32)


def _batch_norm(x: tuple[int, ...]) -> Case:
    c = x[1]
    inits = {
        "scale": rand(c, seed=5),
        "bias": rand(c, seed=6),
        "mean": rand(c, seed=7),
        "var": np.abs(rand(c, seed=8)) + 0.1,
    }

    def build(ir: IR, a: list[SSAValue]) -> SSAValue:
        return ir(
            nn.BatchNormOp(a[0], ir.w("scale"), ir.w("bias"), ir.w("mean"), ir.w("var"), 1e-5)
        )

    return Case(
        f"batch-norm-rank{len(x)}", "BatchNormalization", [x], build, {"epsilon": 1e-5}, inits
    )


def _linear(id: str, x: tuple[int, ...], out: int, *, gemm: bool, bias: bool) -> Case:
    k = x[-1]
    inits = {"w": rand(out, k, seed=2) if gemm else rand(k, out, seed=2)}
    if bias:
        inits["b"] = rand(out, seed=3)

    def build(ir: IR, a: list[SSAValue]) -> SSAValue:
        return ir(
            nn.LinearOp(
                a[0],
                ir.w("w"),
                ir.w("b") if bias else None,
                weight_in_out=not gemm,
                result_shape=(*x[:-1], out),
            )
        )

    if gemm:
        return Case(id, "Gemm", [x], build, {"transB": 1}, inits)
    return Case(id, "MatMul", [x], build, {}, inits)


def _pad(mode: str, value: float = 0.0) -> Case:
    pads = (0, 0, 1, 2, 0, 0, 2, 1)
    inits: dict[str, np.ndarray] = {"pads": i64(*pads)}
    if mode == "constant":
        inits["value"] = scalar(value)
    return unary_case(
        f"pad-{mode}", "Pad", X, lambda v: nn.PadOp(v, pads, mode, value), {"mode": mode}, inits
    )


def _shape_case(
    id: str,
    op_type: str,
    make: Callable[[SSAValue], Operation],
    attrs: dict,
    inits: dict | None = None,
) -> Case:
    return unary_case(id, op_type, X, make, attrs, inits)


CASES: list[Case] = [
    conv_case("conv-3x3-pad1", (1, 3, 10, 10), (8, 3, 3, 3), pads=(1, 1, 1, 1)),
    conv_case("conv-no-bias", (2, 3, 10, 10), (8, 3, 3, 3), bias=False),
    conv_case(
        "conv-stride2-asym-pads", (1, 4, 11, 9), (6, 4, 3, 3), strides=(2, 2), pads=(0, 1, 2, 0)
    ),
    conv_case("conv-dilation2", (1, 3, 12, 12), (5, 3, 3, 3), dilations=(2, 2), pads=(2, 2, 2, 2)),
    conv_case("conv-7x7-stride2", (1, 3, 32, 32), (16, 3, 7, 7), strides=(2, 2), pads=(3, 3, 3, 3)),
    conv_case("conv-1x3-stride-2x1", (1, 4, 9, 9), (6, 4, 1, 3), strides=(2, 1), pads=(0, 1, 0, 1)),
    conv_case("conv-1x1", (2, 8, 5, 5), (16, 8, 1, 1)),
    conv_case("conv-groups2", (1, 8, 9, 9), (6, 4, 3, 3), groups=2, pads=(1, 1, 1, 1)),
    conv_case(
        "conv-depthwise", (2, 8, 9, 9), (8, 1, 3, 3), groups=8, pads=(1, 1, 1, 1), strides=(2, 2)
    ),
    conv_case("conv-depthwise-multiplier2", (1, 4, 8, 8), (8, 1, 3, 3), groups=4, dilations=(2, 1)),
    _linear("linear-gemm-bias", (3, 20), 7, gemm=True, bias=True),
    _linear("linear-gemm-no-bias", (3, 20), 7, gemm=True, bias=False),
    _linear("linear-matmul-rank3", (2, 3, 20), 5, gemm=False, bias=False),
    pool_case("maxpool-2x2", "MaxPool", X, (2, 2), (2, 2)),
    pool_case("maxpool-3x3-s2-pad1", "MaxPool", X, (3, 3), (2, 2), (1, 1, 1, 1)),
    pool_case("maxpool-ceil", "MaxPool", X, (3, 3), (2, 2), ceil_mode=True),
    pool_case("maxpool-asym-pads", "MaxPool", X, (3, 2), (1, 2), (0, 1, 2, 0)),
    pool_case("maxpool-dilation2", "MaxPool", X, (2, 2), (1, 1), dilations=(2, 2)),
    pool_case("avgpool-3x3-pad1", "AveragePool", X, (3, 3), (1, 1), (1, 1, 1, 1)),
    pool_case(
        "avgpool-3x3-pad1-include-pad",
        "AveragePool",
        X,
        (3, 3),
        (1, 1),
        (1, 1, 1, 1),
        count_include_pad=True,
    ),
    pool_case("avgpool-ceil", "AveragePool", X, (3, 3), (2, 2), ceil_mode=True),
    pool_case(
        "avgpool-ceil-pad-include-pad",
        "AveragePool",
        X,
        (3, 3),
        (2, 2),
        (1, 1, 1, 1),
        ceil_mode=True,
        count_include_pad=True,
    ),
    pool_case("avgpool-ceil-pad", "AveragePool", X, (3, 3), (2, 2), (1, 0, 1, 0), ceil_mode=True),
    pool_case("avgpool-asym-pads", "AveragePool", X, (2, 3), (2, 1), (1, 0, 0, 2)),
    pool_case("avgpool-dilation2", "AveragePool", X, (2, 2), (1, 1), dilations=(2, 2)),
    unary_case("global-avgpool", "GlobalAveragePool", X, nn.GlobalAvgPoolOp),
    binary_case("add", "Add", nn.AddOp, X, X),
    binary_case("add-broadcast", "Add", nn.AddOp, X, (4, 1, 11)),
    binary_case("add-weight", "Add", nn.AddOp, X, None, weight=(1, 4, 1, 1)),
    binary_case("sub-broadcast", "Sub", nn.SubOp, (4, 1, 11), X),
    binary_case("mul-broadcast", "Mul", nn.MulOp, X, (11,)),
    binary_case("mul-weight", "Mul", nn.MulOp, X, None, weight=(4, 1, 1)),
    binary_case("div", "Div", nn.DivOp, X, X),
    binary_case("div-weight", "Div", nn.DivOp, X, None, weight=(1, 4, 1, 1)),
    _constant_case(),
    unary_case("relu", "Relu", X, nn.ReluOp),
    unary_case("sigmoid", "Sigmoid", X, nn.SigmoidOp),
    unary_case("tanh", "Tanh", X, nn.TanhOp),
    unary_case(
        "clip-relu6",
        "Clip",
        X,
        lambda v: nn.ClipOp(v, 0.0, 6.0),
        {},
        {"lo": scalar(0.0), "hi": scalar(6.0)},
    ),
    unary_case(
        "clip-narrow",
        "Clip",
        X,
        lambda v: nn.ClipOp(v, -0.5, 0.25),
        {},
        {"lo": scalar(-0.5), "hi": scalar(0.25)},
    ),
    unary_case("leaky-relu", "LeakyRelu", X, lambda v: nn.LeakyReluOp(v, 0.1), {"alpha": 0.1}),
    unary_case("softmax-axis1", "Softmax", X, lambda v: nn.SoftmaxOp(v, 1), {"axis": 1}),
    unary_case("softmax-axis-last", "Softmax", X, lambda v: nn.SoftmaxOp(v, -1), {"axis": -1}),
    _lrn(5),
    _lrn(3),
    _lrn(4),
    _batch_norm(X),
    _batch_norm((3, 6)),
    Case(
        "concat-axis1",
        "Concat",
        [(2, 3, 4, 4), (2, 5, 4, 4), (2, 1, 4, 4)],
        lambda ir, a: ir(nn.ConcatOp(a, 1)),
        {"axis": 1},
    ),
    Case(
        "concat-axis3",
        "Concat",
        [(2, 3, 4, 4), (2, 3, 4, 2)],
        lambda ir, a: ir(nn.ConcatOp(a, 3)),
        {"axis": 3},
    ),
    _shape_case(
        "reshape", "Reshape", lambda v: nn.ReshapeOp(v, (2, 36, 11)), {}, {"shape": i64(2, 36, 11)}
    ),
    _shape_case("flatten-axis1", "Flatten", lambda v: nn.FlattenOp(v, 1), {"axis": 1}),
    _shape_case("flatten-axis0", "Flatten", lambda v: nn.FlattenOp(v, 0), {"axis": 0}),
    _shape_case("flatten-axis2", "Flatten", lambda v: nn.FlattenOp(v, 2), {"axis": 2}),
    _shape_case(
        "transpose", "Transpose", lambda v: nn.TransposeOp(v, (0, 2, 3, 1)), {"perm": [0, 2, 3, 1]}
    ),
    _pad("constant", 1.5),
    _pad("reflect"),
    _pad("edge"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_nn_op_matches_onnxruntime(case: Case, tmp_path: Path) -> None:
    xs = inputs_for(case)
    ref = oracle_run(case, onnx_model(case), xs)
    module = nn_module(case, tmp_path / "weights.npz")
    (y,) = run_module(module, xs, base_dir=tmp_path)
    assert y.dtype == np.float32
    assert rel_err(y, ref) <= TOL


def _frontend_importer() -> Callable[[Path], ModuleOp] | None:
    try:
        from pimdsl.frontend import import_onnx  # type: ignore[attr-defined]
    except ImportError:
        return None
    return import_onnx


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_imported_onnx_node_matches_onnxruntime(case: Case, tmp_path: Path) -> None:
    import_onnx = _frontend_importer()
    if import_onnx is None:
        pytest.skip("pimdsl.frontend.import_onnx is not built yet")
    model = onnx_model(case)
    path = tmp_path / f"{case.id}.onnx"
    onnx.save(model, str(path))
    xs = inputs_for(case)
    module = import_onnx(path)
    (y,) = run_module(module, xs, base_dir=tmp_path)
    assert rel_err(y, oracle_run(case, model, xs)) <= TOL


# --- a hand-derived number, independent of both numpy kernels and onnxruntime -------------------


def test_avgpool_border_divisors_by_hand(tmp_path: Path) -> None:
    """3x3 average over a 3x3 ones input with pad 1: corners see 4 real cells, edges 6, the
    centre 9 -> all outputs 1 without count_include_pad; 4/9, 6/9, 1 with it."""
    from pimdsl.sim import nn_kernels as k

    x = np.ones((1, 1, 3, 3), np.float32)
    y = k.avgpool(x, kernel=(3, 3), strides=(1, 1), pads=(1, 1, 1, 1))
    assert np.allclose(y, 1.0)
    y = k.avgpool(x, kernel=(3, 3), strides=(1, 1), pads=(1, 1, 1, 1), count_include_pad=True)
    expected = np.array([[4, 6, 4], [6, 9, 6], [4, 6, 4]], np.float32) / 9
    assert np.allclose(y[0, 0], expected)


# --- errors -----------------------------------------------------------------------------------------


def _conv_module(tmp_path: Path) -> tuple[ModuleOp, list[np.ndarray]]:
    case = CASES[0]
    return nn_module(case, tmp_path / "weights.npz"), inputs_for(case)


def test_shape_only_module_says_weights_are_needed(tmp_path: Path) -> None:
    module, xs = _conv_module(tmp_path)
    del module.attributes["pim.weights"]
    with pytest.raises(PimError, match="shape-only.*weights are needed"):
        run_module(module, xs)


def test_missing_weight_file_names_the_file(tmp_path: Path) -> None:
    module, xs = _conv_module(tmp_path)
    set_weights(module, "nowhere.npz")
    with pytest.raises(PimError, match="nowhere.npz.*does not exist"):
        run_module(module, xs, base_dir=tmp_path)


def test_missing_weight_name_names_the_op_and_file(tmp_path: Path) -> None:
    module, xs = _conv_module(tmp_path)
    write_npz(tmp_path / "other.npz", {"b": np.zeros(8, np.float32)})
    set_weights(module, str(tmp_path / "other.npz"))
    with pytest.raises(PimError, match=r'nn.weight "w" in @main.*other.npz.*no tensor named'):
        run_module(module, xs)


def test_weight_shape_mismatch_names_the_op(tmp_path: Path) -> None:
    module, xs = _conv_module(tmp_path)
    write_npz(tmp_path / "weights.npz", {"w": np.zeros((8, 3, 5, 5)), "b": np.zeros(8)})
    with pytest.raises(
        PimError, match=r'nn.weight "w".*shape \[8, 3, 5, 5\].*IR says \[8, 3, 3, 3\]'
    ):
        run_module(module, xs, base_dir=tmp_path)


def test_wrong_input_shape(tmp_path: Path) -> None:
    module, _ = _conv_module(tmp_path)
    with pytest.raises(PimError, match="input 0 has shape"):
        run_module(module, [np.zeros((1, 3, 5, 5), np.float32)], base_dir=tmp_path)


# --- weight file formats ----------------------------------------------------------------------------


def test_weight_store_reads_onnx_npz_safetensors_and_external_data(tmp_path: Path) -> None:
    from safetensors.numpy import save_file

    # "fc.weight" is large enough (160 kB) that the ONNX loader leaves it in the file
    tensors = {"conv.weight": rand(4, 3, 3, 3), "fc.bias": rand(7), "fc.weight": rand(200, 200)}
    write_npz(tmp_path / "w.npz", tensors)
    save_file(tensors, str(tmp_path / "w.safetensors"))
    graph = helper.make_graph(
        [helper.make_node("Identity", ["fc.bias"], ["y"])],
        "g",
        [],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(v, n) for n, v in tensors.items()],
    )
    model = helper.make_model(graph)
    onnx.save(model, str(tmp_path / "w.onnx"))
    onnx.save(
        model,
        str(tmp_path / "ext.onnx"),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location="ext.onnx.data",
        size_threshold=0,
    )
    for name in ("w.npz", "w.safetensors", "w.onnx", "ext.onnx"):
        store = WeightStore(name, base_dir=tmp_path)
        assert sorted(store) == sorted(tensors)
        for key, value in tensors.items():
            assert store.shape(key) == value.shape
            got = store[key]
            assert got.dtype == np.float32
            np.testing.assert_array_equal(got, value)


def test_weight_store_reads_onnx_constant_nodes_and_other_dtypes(tmp_path: Path) -> None:
    value = rand(3, 4)
    graph = helper.make_graph(
        [
            helper.make_node("Constant", [], ["k"], value=numpy_helper.from_array(value, "k")),
            helper.make_node("Identity", ["k"], ["y"]),
        ],
        "g",
        [],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.arange(40000, dtype=np.float16).reshape(200, 200), "half")],
    )
    onnx.save(helper.make_model(graph), str(tmp_path / "c.onnx"))
    store = WeightStore(tmp_path / "c.onnx")
    np.testing.assert_array_equal(store["k"], value)
    half = store["half"]
    assert half.dtype == np.float32 and half.shape == (200, 200)
    np.testing.assert_array_equal(half, np.arange(40000, dtype=np.float16).reshape(200, 200))


def test_weight_store_relative_to_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_npz(tmp_path / "w.npz", {"a": np.ones(2)})
    monkeypatch.chdir(tmp_path)
    assert WeightStore("w.npz", base_dir=tmp_path / "elsewhere")["a"].tolist() == [1.0, 1.0]


def test_weight_store_rejects_unknown_format_and_corrupt_files(tmp_path: Path) -> None:
    (tmp_path / "w.bin").write_bytes(b"\0")
    with pytest.raises(PimError, match="unknown format"):
        WeightStore(tmp_path / "w.bin")
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(PimError, match="cannot read the weight file"):
        WeightStore(tmp_path / "bad.npz")


# --- the level registry ---------------------------------------------------------------------------


def _module_with_arith(tmp_path: Path) -> tuple[ModuleOp, list[np.ndarray]]:
    from xdsl.dialects import arith
    from xdsl.dialects.builtin import FloatAttr, f32

    module, xs = _conv_module(tmp_path)
    main = next(iter(module.ops))
    assert isinstance(main, func.FuncOp)
    main.body.block.insert_op_before(
        arith.ConstantOp(FloatAttr(2.0, f32)), main.body.block.first_op
    )
    return module, xs


def test_dialect_without_interpreter_is_a_user_error(tmp_path: Path) -> None:
    module, xs = _module_with_arith(tmp_path)
    with pytest.raises(PimError, match="cannot execute ops of the 'arith' dialect"):
        run_module(module, xs, base_dir=tmp_path)


ARITH_SEEN: list[float] = []


def make_arith_functions(context: object) -> object:
    """A stand-in level: a factory that receives the RunContext."""
    from xdsl.dialects import arith
    from xdsl.interpreter import InterpreterFunctions, impl, register_impls

    @register_impls
    class Consts(InterpreterFunctions):
        @impl(arith.ConstantOp)
        def run_constant(self, interpreter: object, op: arith.ConstantOp, args: tuple) -> tuple:
            ARITH_SEEN.append(op.value.value.data)
            return (op.value.value.data,)

    assert context.weights is not None  # type: ignore[attr-defined]
    return Consts()


def test_a_level_plugs_in_through_the_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pimdsl.sim import runner

    module, xs = _module_with_arith(tmp_path)
    monkeypatch.setitem(runner.LEVELS, "arith", f"{__name__}:make_arith_functions")
    ARITH_SEEN.clear()
    (y,) = run_module(module, xs, base_dir=tmp_path)
    assert ARITH_SEEN == [2.0]
    assert rel_err(y, onnxruntime_run(onnx_model(CASES[0]), xs)) <= TOL


def test_a_level_plugs_in_through_an_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another package's level: an entry point of the `pimdsl.levels` group (docs/extending.md)."""
    import importlib.metadata

    from pimdsl.sim import runner

    module, xs = _module_with_arith(tmp_path)
    found = importlib.metadata.EntryPoint(
        "arith", f"{__name__}:make_arith_functions", runner.LEVEL_ENTRY_POINTS
    )
    real = importlib.metadata.entry_points

    def entry_points(**kw: str) -> object:
        return [found] if kw.get("group") == runner.LEVEL_ENTRY_POINTS else real(**kw)

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    assert "arith" not in runner.LEVELS
    ARITH_SEEN.clear()
    (y,) = run_module(module, xs, base_dir=tmp_path)
    assert ARITH_SEEN == [2.0]
    assert rel_err(y, onnxruntime_run(onnx_model(CASES[0]), xs)) <= TOL


# --- nn.slice -----------------------------------------------------------------------------------

SLICE_CASES = [
    Case(
        "slice-channels",
        "Slice",
        [(2, 6, 3, 3)],
        lambda ir, a: ir(nn.SliceOp(a[0], [1], [2], [5])),
        inits={"starts": i64(2), "ends": i64(5), "axes": i64(1)},
    ),
    Case(
        "slice-strided-two-axes",
        "Slice",
        [(2, 5, 6, 7)],
        lambda ir, a: ir(nn.SliceOp(a[0], [1, 3], [1, 0], [5, 7], [2, 3])),
        inits={"starts": i64(1, 0), "ends": i64(5, 7), "axes": i64(1, 3), "steps": i64(2, 3)},
    ),
    Case(
        "slice-last-axis-step-past-end",
        "Slice",
        [(3, 10)],
        lambda ir, a: ir(nn.SliceOp(a[0], [1], [1], [10], [4])),
        inits={"starts": i64(1), "ends": i64(10), "axes": i64(1), "steps": i64(4)},
    ),
]


@pytest.mark.parametrize("case", SLICE_CASES, ids=[c.id for c in SLICE_CASES])
def test_nn_slice_matches_onnxruntime(case: Case, tmp_path: Path) -> None:
    xs = inputs_for(case)
    ref = onnxruntime_run(onnx_model(case), xs)
    (y,) = run_module(nn_module(case, tmp_path / "weights.npz"), xs, base_dir=tmp_path)
    assert y.dtype == np.float32 and y.flags.c_contiguous
    assert rel_err(y, ref) == 0.0  # a copy: exact


def test_slice_box_by_hand() -> None:
    """Indices 1, 4, 7 of 0..9 (start 1, end 8, step 3) along axis 1; axis 0 whole."""
    from pimdsl.sim import nn_kernels as k

    x = np.arange(20, dtype=np.float32).reshape(2, 10)
    y = k.slice_box(x, [1], [1], [8], [3])
    assert y.tolist() == [[1, 4, 7], [11, 14, 17]]
    assert k.slice_box(x, [0, 1], [1, 9], [2, 10]).tolist() == [[19]]
