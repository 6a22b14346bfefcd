"""The `nn` dialect: a network as tensor operations (level 1).

Tensors are statically shaped, NCHW, `f32`. Weights are never inlined: `nn.weight "name"` refers
to a tensor in the module's weight file (module attribute `pim.weights`, see
`pimdsl.module_attrs`); a module with no weight file is shape-only and still valid.
Small constants that are not in the weight file (folded at import) may be inlined with
`nn.constant`.

Every op's parameters are properties printed in the attribute dictionary, MLIR-style:

    %y = nn.conv2d %x, %w, %b {strides = array<i64: 2, 2>, pads = array<i64: 3, 3, 3, 3>,
                               dilations = array<i64: 1, 1>, groups = 1 : i64}
         : (tensor<1x3x224x224xf32>, tensor<64x3x7x7xf32>, tensor<64xf32>) -> tensor<1x64x112x112xf32>
"""

from __future__ import annotations

import math
from abc import ABC
from collections.abc import Sequence
from typing import ClassVar

from xdsl.dialects.builtin import (
    I64,
    ArrayAttr,
    BoolAttr,
    DenseIntOrFPElementsAttr,
    FloatAttr,
    IntegerAttr,
    StringAttr,
    TensorType,
    UnitAttr,
    f32,
    i64,
)
from xdsl.dialects.utils import EnumAttribute
from xdsl.ir import Attribute, Dialect, Operation, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    ParsePropInAttrDict,
    irdl_attr_definition,
    irdl_op_definition,
    operand_def,
    opt_operand_def,
    opt_prop_def,
    prop_def,
    result_def,
    traits_def,
    var_operand_def,
)
from xdsl.traits import Pure
from xdsl.utils.exceptions import VerifyException
from xdsl.utils.str_enum import StrEnum

from pimdsl.dialects.common import I64_ARRAY, BracketedEnum, enum_constr
from pimdsl.dialects.common import i64_array as i64_array
from pimdsl.dialects.common import ints as ints
from pimdsl.dialects.common import shape_of as shape_of
from pimdsl.dialects.common import tensor as tensor
from pimdsl.shapes import broadcast_shapes, conv2d_out_hw

AnyTensor = TensorType[Attribute]


# --- helpers -----------------------------------------------------------------------------------


def _expect(cond: bool, op: IRDLOperation, message: str) -> None:
    if not cond:
        raise VerifyException(f"'{op.name}': {message}")


def _check_len(op: IRDLOperation, name: str, values: Sequence[int], n: int) -> None:
    _expect(len(values) == n, op, f"'{name}' must have {n} values, got {len(values)}")


def _check_window(
    op: IRDLOperation,
    kernel: Sequence[int],
    dilations: Sequence[int],
    hw: Sequence[int],
    pads: Sequence[int],
) -> None:
    """A sliding window (conv or pool) must fit the padded input, else the output is empty."""
    span = [dilations[i] * (kernel[i] - 1) + 1 for i in range(2)]
    padded = [hw[0] + pads[0] + pads[2], hw[1] + pads[1] + pads[3]]
    _expect(
        span[0] <= padded[0] and span[1] <= padded[1],
        op,
        f"the {kernel[0]}x{kernel[1]} window (dilations {list(dilations)}) is larger than the "
        f"padded input {padded[0]}x{padded[1]}",
    )


class NNOp(IRDLOperation, ABC):
    irdl_options = (ParsePropInAttrDict(),)
    traits = traits_def(Pure())
    assembly_format = "operands attr-dict `:` functional-type(operands, results)"


# --- weights and constants --------------------------------------------------------------------


@irdl_op_definition
class WeightOp(IRDLOperation):
    """A tensor of the module's weight file, by name (an ONNX initializer or an npz key)."""

    name = "nn.weight"
    weight_name = prop_def(StringAttr, prop_name="name")
    result = result_def(AnyTensor)
    traits = traits_def(Pure())
    assembly_format = "$name attr-dict `:` type($result)"

    def __init__(self, name: str, shape: Sequence[int]):
        super().__init__(properties={"name": StringAttr(name)}, result_types=[tensor(shape)])

    @property
    def key(self) -> str:
        return self.weight_name.data


@irdl_op_definition
class ConstantOp(IRDLOperation):
    """A small inline constant (for values folded at import that the weight file lacks)."""

    name = "nn.constant"
    value = prop_def(DenseIntOrFPElementsAttr)
    result = result_def(AnyTensor)
    irdl_options = (ParsePropInAttrDict(),)
    traits = traits_def(Pure())
    assembly_format = "attr-dict `:` type($result)"

    def verify_(self) -> None:
        _expect(
            shape_of(self.value.get_type()) == shape_of(self.result),
            self,
            f"value shape {list(shape_of(self.value.get_type()))} does not match result "
            f"shape {list(shape_of(self.result))}",
        )


# --- weight layers ----------------------------------------------------------------------------


@irdl_op_definition
class Conv2dOp(NNOp):
    """2-D convolution, NCHW input, weight [Cout, Cin/groups, kh, kw], optional bias [Cout].

    `pads` is [top, left, bottom, right] (ONNX order)."""

    name = "nn.conv2d"
    input = operand_def(AnyTensor)
    weight = operand_def(AnyTensor)
    bias = opt_operand_def(AnyTensor)
    strides = prop_def(I64_ARRAY)
    pads = prop_def(I64_ARRAY)
    dilations = prop_def(I64_ARRAY)
    groups = prop_def(IntegerAttr[I64])
    output = result_def(AnyTensor)
    assembly_format = (
        "$input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)"
    )

    def __init__(
        self,
        input: SSAValue,
        weight: SSAValue,
        bias: SSAValue | None,
        *,
        strides: Sequence[int],
        pads: Sequence[int],
        dilations: Sequence[int],
        groups: int,
        result_shape: Sequence[int],
    ):
        super().__init__(
            operands=[input, weight, [bias] if bias is not None else []],
            properties={
                "strides": i64_array(strides),
                "pads": i64_array(pads),
                "dilations": i64_array(dilations),
                "groups": IntegerAttr(groups, i64),
            },
            result_types=[tensor(result_shape)],
        )

    def verify_(self) -> None:
        x, w, y = shape_of(self.input), shape_of(self.weight), shape_of(self.output)
        strides, pads, dil = ints(self.strides), ints(self.pads), ints(self.dilations)
        groups = self.groups.value.data
        _check_len(self, "strides", strides, 2)
        _check_len(self, "pads", pads, 4)
        _check_len(self, "dilations", dil, 2)
        _expect(len(x) == 4, self, f"input must be NCHW (rank 4), got shape {list(x)}")
        _expect(len(w) == 4, self, f"weight must be [Cout, Cin/groups, kh, kw], got {list(w)}")
        _expect(groups >= 1, self, f"groups must be >= 1, got {groups}")
        _expect(
            min(strides) >= 1 and min(dil) >= 1,
            self,
            f"strides and dilations must be >= 1, got strides {list(strides)} and dilations {list(dil)}",
        )
        _expect(min(pads) >= 0, self, f"pads must be >= 0, got {list(pads)}")
        _expect(
            x[1] == w[1] * groups,
            self,
            f"input has {x[1]} channels but weight expects {w[1]} x {groups} groups = {w[1] * groups}",
        )
        _expect(w[0] % groups == 0, self, f"Cout {w[0]} is not divisible by groups {groups}")
        if self.bias is not None:
            b = shape_of(self.bias)
            _expect(b == (w[0],), self, f"bias must have shape [{w[0]}], got {list(b)}")
        _check_window(self, w[2:], dil, x[2:], pads)
        oh, ow = conv2d_out_hw(x[2:], w[2:], strides, pads, dil)
        expected = (x[0], w[0], oh, ow)
        _expect(
            y == expected,
            self,
            f"result shape {list(y)} does not match the expected {list(expected)}",
        )

    @property
    def kernel(self) -> tuple[int, int]:
        w = shape_of(self.weight)
        return w[2], w[3]


@irdl_op_definition
class LinearOp(NNOp):
    """Fully connected layer: y = x @ W^T + b with W [out, in] (PyTorch layout), or
    y = x @ W + b when `weight_in_out` is set (W [in, out], ONNX MatMul layout)."""

    name = "nn.linear"
    input = operand_def(AnyTensor)
    weight = operand_def(AnyTensor)
    bias = opt_operand_def(AnyTensor)
    weight_in_out = opt_prop_def(UnitAttr)
    output = result_def(AnyTensor)
    assembly_format = (
        "$input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)"
    )

    def __init__(
        self,
        input: SSAValue,
        weight: SSAValue,
        bias: SSAValue | None,
        *,
        weight_in_out: bool = False,
        result_shape: Sequence[int],
    ):
        super().__init__(
            operands=[input, weight, [bias] if bias is not None else []],
            properties={"weight_in_out": UnitAttr()} if weight_in_out else {},
            result_types=[tensor(result_shape)],
        )

    @property
    def in_out(self) -> tuple[int, int]:
        """(in features, out features)."""
        w = shape_of(self.weight)
        return (w[0], w[1]) if self.weight_in_out is not None else (w[1], w[0])

    def verify_(self) -> None:
        x, w, y = shape_of(self.input), shape_of(self.weight), shape_of(self.output)
        _expect(len(w) == 2, self, f"weight must be a matrix, got shape {list(w)}")
        _expect(len(x) >= 2, self, f"input must have rank >= 2, got shape {list(x)}")
        k, m = self.in_out
        _expect(x[-1] == k, self, f"input has {x[-1]} features but the weight expects {k}")
        if self.bias is not None:
            b = shape_of(self.bias)
            _expect(b == (m,), self, f"bias must have shape [{m}], got {list(b)}")
        expected = (*x[:-1], m)
        _expect(
            y == expected,
            self,
            f"result shape {list(y)} does not match the expected {list(expected)}",
        )


# --- pooling ----------------------------------------------------------------------------------


class PoolOp(NNOp, ABC):
    input = operand_def(AnyTensor)
    kernel = prop_def(I64_ARRAY)
    strides = prop_def(I64_ARRAY)
    pads = prop_def(I64_ARRAY)
    dilations = opt_prop_def(I64_ARRAY)
    ceil_mode = opt_prop_def(UnitAttr)
    output = result_def(AnyTensor)
    assembly_format = "$input attr-dict `:` type($input) `->` type($output)"

    def __init__(
        self,
        input: SSAValue,
        *,
        kernel: Sequence[int],
        strides: Sequence[int],
        pads: Sequence[int],
        result_shape: Sequence[int],
        dilations: Sequence[int] | None = None,
        ceil_mode: bool = False,
        **extra: Attribute,
    ):
        props: dict[str, Attribute] = {
            "kernel": i64_array(kernel),
            "strides": i64_array(strides),
            "pads": i64_array(pads),
        }
        if dilations is not None and tuple(dilations) != (1, 1):
            props["dilations"] = i64_array(dilations)
        if ceil_mode:
            props["ceil_mode"] = UnitAttr()
        props.update(extra)
        super().__init__(operands=[input], properties=props, result_types=[tensor(result_shape)])

    def dilation_values(self) -> tuple[int, int]:
        return ints(self.dilations) if self.dilations is not None else (1, 1)  # type: ignore[return-value]

    def verify_(self) -> None:
        x, y = shape_of(self.input), shape_of(self.output)
        k, s, p = ints(self.kernel), ints(self.strides), ints(self.pads)
        d = self.dilation_values()
        _check_len(self, "kernel", k, 2)
        _check_len(self, "strides", s, 2)
        _check_len(self, "pads", p, 4)
        _check_len(self, "dilations", d, 2)
        _expect(len(x) == 4, self, f"input must be NCHW (rank 4), got shape {list(x)}")
        _expect(
            min(k) >= 1 and min(s) >= 1 and min(d) >= 1,
            self,
            f"kernel, strides and dilations must be >= 1, got kernel {list(k)}, strides {list(s)}, "
            f"dilations {list(d)}",
        )
        _expect(min(p) >= 0, self, f"pads must be >= 0, got {list(p)}")
        _expect(
            p[0] < k[0] and p[2] < k[0] and p[1] < k[1] and p[3] < k[1],
            self,
            f"pads {list(p)} must be smaller than the kernel {list(k)}",
        )
        _check_window(self, k, d, x[2:], p)
        oh, ow = conv2d_out_hw(x[2:], k, s, p, d, self.ceil_mode is not None)
        expected = (x[0], x[1], oh, ow)
        _expect(
            y == expected,
            self,
            f"result shape {list(y)} does not match the expected {list(expected)}",
        )


@irdl_op_definition
class MaxPoolOp(PoolOp):
    name = "nn.maxpool"


@irdl_op_definition
class AvgPoolOp(PoolOp):
    """Average pooling; `count_include_pad` divides by the full kernel size at the borders."""

    name = "nn.avgpool"
    count_include_pad = opt_prop_def(UnitAttr)


@irdl_op_definition
class GlobalAvgPoolOp(NNOp):
    """Mean over H and W, keeping them as 1x1."""

    name = "nn.global_avgpool"
    input = operand_def(AnyTensor)
    output = result_def(AnyTensor)
    assembly_format = "$input attr-dict `:` type($input) `->` type($output)"

    def __init__(self, input: SSAValue):
        x = shape_of(input)
        super().__init__(operands=[input], result_types=[tensor((x[0], x[1], 1, 1))])

    def verify_(self) -> None:
        x, y = shape_of(self.input), shape_of(self.output)
        _expect(len(x) == 4, self, f"input must be NCHW (rank 4), got shape {list(x)}")
        _expect(
            y == (x[0], x[1], 1, 1), self, f"result shape {list(y)} must be {[x[0], x[1], 1, 1]}"
        )


# --- element-wise -----------------------------------------------------------------------------


class BinaryOp(NNOp, ABC):
    """Element-wise with numpy broadcasting."""

    lhs = operand_def(AnyTensor)
    rhs = operand_def(AnyTensor)
    output = result_def(AnyTensor)

    def __init__(self, lhs: SSAValue, rhs: SSAValue):
        shape = broadcast_shapes(shape_of(lhs), shape_of(rhs))
        assert shape is not None, "operands do not broadcast"
        super().__init__(operands=[lhs, rhs], result_types=[tensor(shape)])

    def verify_(self) -> None:
        a, b, y = shape_of(self.lhs), shape_of(self.rhs), shape_of(self.output)
        shape = broadcast_shapes(a, b)
        _expect(shape is not None, self, f"operand shapes {list(a)} and {list(b)} do not broadcast")
        _expect(
            y == shape,
            self,
            f"result shape {list(y)} must be the broadcast shape {list(shape or ())}",
        )


@irdl_op_definition
class AddOp(BinaryOp):
    name = "nn.add"


@irdl_op_definition
class SubOp(BinaryOp):
    name = "nn.sub"


@irdl_op_definition
class MulOp(BinaryOp):
    name = "nn.mul"


@irdl_op_definition
class DivOp(BinaryOp):
    name = "nn.div"


class UnaryOp(NNOp, ABC):
    input = operand_def(AnyTensor)
    output = result_def(AnyTensor)
    assembly_format = "$input attr-dict `:` type($input) `->` type($output)"

    def __init__(self, input: SSAValue, **props: Attribute):
        super().__init__(operands=[input], properties=props, result_types=[input.type])

    def verify_(self) -> None:
        _expect(
            shape_of(self.input) == shape_of(self.output),
            self,
            f"result shape {list(shape_of(self.output))} must equal input shape {list(shape_of(self.input))}",
        )


@irdl_op_definition
class ReluOp(UnaryOp):
    name = "nn.relu"


@irdl_op_definition
class SigmoidOp(UnaryOp):
    name = "nn.sigmoid"


@irdl_op_definition
class TanhOp(UnaryOp):
    name = "nn.tanh"


@irdl_op_definition
class ClipOp(UnaryOp):
    """clip(x, min, max); ReLU6 is clip 0..6."""

    name = "nn.clip"
    min = prop_def(FloatAttr)
    max = prop_def(FloatAttr)

    def __init__(self, input: SSAValue, lo: float, hi: float):
        super().__init__(input, min=FloatAttr(lo, f32), max=FloatAttr(hi, f32))

    def verify_(self) -> None:
        super().verify_()
        _expect(
            self.min.value.data <= self.max.value.data,
            self,
            f"min {self.min.value.data} is greater than max {self.max.value.data}",
        )


@irdl_op_definition
class LeakyReluOp(UnaryOp):
    name = "nn.leaky_relu"
    alpha = prop_def(FloatAttr)

    def __init__(self, input: SSAValue, alpha: float):
        super().__init__(input, alpha=FloatAttr(alpha, f32))


class QuantType(StrEnum):
    """The integer types of ONNX QuantizeLinear."""

    UINT8 = "uint8"
    INT8 = "int8"
    UINT16 = "uint16"
    INT16 = "int16"
    UINT4 = "uint4"
    INT4 = "int4"


# (bits, lowest, highest) of each QuantType
QUANT_TYPES: dict[str, tuple[int, int, int]] = {
    QuantType.UINT8: (8, 0, 255),
    QuantType.INT8: (8, -128, 127),
    QuantType.UINT16: (16, 0, 65535),
    QuantType.INT16: (16, -32768, 32767),
    QuantType.UINT4: (4, 0, 15),
    QuantType.INT4: (4, -8, 7),
}


@irdl_attr_definition
class QuantTypeAttr(BracketedEnum, EnumAttribute[QuantType]):
    """`#nn.qtype<int8>`"""

    name = "nn.qtype"


@irdl_op_definition
class FakeQuantOp(UnaryOp):
    """A quantize-dequantize pair of a quantized (QDQ) model, in float: `(clip(rint(x / scale)
    + zero_point, lo, hi) - zero_point) * scale`, where [lo, hi] is the range of `qtype`
    (ties round to even, as ONNX QuantizeLinear). Keeps the model's own bit width and scale."""

    name = "nn.fake_quant"
    scale = prop_def(FloatAttr)
    zero_point = prop_def(IntegerAttr[I64])
    qtype = prop_def(enum_constr(QuantTypeAttr))

    def __init__(self, input: SSAValue, scale: float, zero_point: int, qtype: str):
        super().__init__(
            input,
            scale=FloatAttr(scale, f32),
            zero_point=IntegerAttr(zero_point, i64),
            qtype=QuantTypeAttr(QuantType(qtype)),
        )

    def bounds(self) -> tuple[int, int]:
        _, lo, hi = QUANT_TYPES[self.qtype.data]
        return lo, hi

    def bits(self) -> int:
        return QUANT_TYPES[self.qtype.data][0]

    def verify_(self) -> None:
        super().verify_()
        _expect(self.scale.value.data > 0, self, f"scale must be > 0, got {self.scale.value.data}")
        lo, hi = self.bounds()
        zp = self.zero_point.value.data
        _expect(
            lo <= zp <= hi,
            self,
            f"zero_point {zp} is outside the {self.qtype.data} range [{lo}, {hi}]",
        )


@irdl_op_definition
class SoftmaxOp(UnaryOp):
    name = "nn.softmax"
    axis = prop_def(IntegerAttr[I64])

    def __init__(self, input: SSAValue, axis: int):
        super().__init__(input, axis=IntegerAttr(axis, i64))

    def verify_(self) -> None:
        super().verify_()
        rank = len(shape_of(self.input))
        axis = self.axis.value.data
        _expect(-rank <= axis < rank, self, f"axis {axis} is out of range for rank {rank}")


@irdl_op_definition
class LRNOp(UnaryOp):
    """Local response normalisation across channels (ONNX LRN)."""

    name = "nn.lrn"
    size = prop_def(IntegerAttr[I64])
    alpha = prop_def(FloatAttr)
    beta = prop_def(FloatAttr)
    bias = prop_def(FloatAttr)

    def __init__(self, input: SSAValue, *, size: int, alpha: float, beta: float, bias: float):
        super().__init__(
            input,
            size=IntegerAttr(size, i64),
            alpha=FloatAttr(alpha, f32),
            beta=FloatAttr(beta, f32),
            bias=FloatAttr(bias, f32),
        )

    def verify_(self) -> None:
        super().verify_()
        _expect(
            len(shape_of(self.input)) == 4,
            self,
            f"input must be NCHW (rank 4), got shape {list(shape_of(self.input))}",
        )
        _expect(self.size.value.data >= 1, self, f"size must be >= 1, got {self.size.value.data}")


@irdl_op_definition
class BatchNormOp(NNOp):
    """Inference batch normalisation over channel axis 1: scale, bias, mean, var are [C]."""

    name = "nn.batch_norm"
    input = operand_def(AnyTensor)
    scale = operand_def(AnyTensor)
    bias = operand_def(AnyTensor)
    mean = operand_def(AnyTensor)
    var = operand_def(AnyTensor)
    epsilon = prop_def(FloatAttr)
    output = result_def(AnyTensor)

    def __init__(
        self,
        input: SSAValue,
        scale: SSAValue,
        bias: SSAValue,
        mean: SSAValue,
        var: SSAValue,
        epsilon: float,
    ):
        super().__init__(
            operands=[input, scale, bias, mean, var],
            properties={"epsilon": FloatAttr(epsilon, f32)},
            result_types=[input.type],
        )

    def verify_(self) -> None:
        x = shape_of(self.input)
        _expect(len(x) >= 2, self, f"input must have a channel axis, got shape {list(x)}")
        for name in ("scale", "bias", "mean", "var"):
            s = shape_of(getattr(self, name))
            _expect(s == (x[1],), self, f"{name} must have shape [{x[1]}], got {list(s)}")
        _expect(
            shape_of(self.output) == x,
            self,
            f"result shape {list(shape_of(self.output))} must equal input shape {list(x)}",
        )


# --- data movement ----------------------------------------------------------------------------


@irdl_op_definition
class ConcatOp(NNOp):
    name = "nn.concat"
    inputs = var_operand_def(AnyTensor)
    axis = prop_def(IntegerAttr[I64])
    output = result_def(AnyTensor)

    def __init__(self, inputs: Sequence[SSAValue], axis: int):
        shapes = [shape_of(v) for v in inputs]
        out = list(shapes[0])
        out[axis] = sum(s[axis] for s in shapes)
        super().__init__(
            operands=[list(inputs)],
            properties={"axis": IntegerAttr(axis, i64)},
            result_types=[tensor(out)],
        )

    def verify_(self) -> None:
        shapes = [shape_of(v) for v in self.inputs]
        _expect(len(shapes) >= 1, self, "needs at least one input")
        rank = len(shapes[0])
        axis = self.axis.value.data
        _expect(0 <= axis < rank, self, f"axis {axis} is out of range for rank {rank}")
        for s in shapes:
            _expect(
                len(s) == rank and all(s[i] == shapes[0][i] for i in range(rank) if i != axis),
                self,
                f"input shapes {[list(t) for t in shapes]} differ outside axis {axis}",
            )
        expected = list(shapes[0])
        expected[axis] = sum(s[axis] for s in shapes)
        _expect(
            list(shape_of(self.output)) == expected,
            self,
            f"result shape {list(shape_of(self.output))} must be {expected}",
        )


class _ReshapeLike(NNOp, ABC):
    input = operand_def(AnyTensor)
    output = result_def(AnyTensor)
    assembly_format = "$input attr-dict `:` type($input) `->` type($output)"

    def verify_(self) -> None:
        x, y = shape_of(self.input), shape_of(self.output)
        nx = 1
        for d in x:
            nx *= d
        ny = 1
        for d in y:
            ny *= d
        _expect(
            nx == ny, self, f"cannot reshape {list(x)} ({nx} elements) to {list(y)} ({ny} elements)"
        )


@irdl_op_definition
class ReshapeOp(_ReshapeLike):
    """Row-major reshape; the target shape is the result type."""

    name = "nn.reshape"

    def __init__(self, input: SSAValue, shape: Sequence[int]):
        super().__init__(operands=[input], result_types=[tensor(shape)])


@irdl_op_definition
class FlattenOp(_ReshapeLike):
    """ONNX Flatten: dims before `axis` become the first dim, the rest the second."""

    name = "nn.flatten"
    axis = prop_def(IntegerAttr[I64])

    def __init__(self, input: SSAValue, axis: int = 1):
        x = shape_of(input)
        a = 1
        for d in x[:axis]:
            a *= d
        b = 1
        for d in x[axis:]:
            b *= d
        super().__init__(
            operands=[input],
            properties={"axis": IntegerAttr(axis, i64)},
            result_types=[tensor((a, b))],
        )

    def verify_(self) -> None:
        super().verify_()
        x = shape_of(self.input)
        axis = self.axis.value.data
        _expect(0 <= axis <= len(x), self, f"axis {axis} is out of range for rank {len(x)}")
        _expect(
            len(shape_of(self.output)) == 2,
            self,
            f"result must be 2-D, got shape {list(shape_of(self.output))}",
        )


@irdl_op_definition
class TransposeOp(NNOp):
    name = "nn.transpose"
    input = operand_def(AnyTensor)
    perm = prop_def(I64_ARRAY)
    output = result_def(AnyTensor)
    assembly_format = "$input attr-dict `:` type($input) `->` type($output)"

    def __init__(self, input: SSAValue, perm: Sequence[int]):
        x = shape_of(input)
        super().__init__(
            operands=[input],
            properties={"perm": i64_array(perm)},
            result_types=[tensor([x[p] for p in perm])],
        )

    def verify_(self) -> None:
        x, y, perm = shape_of(self.input), shape_of(self.output), ints(self.perm)
        _expect(
            sorted(perm) == list(range(len(x))),
            self,
            f"perm {list(perm)} is not a permutation of 0..{len(x) - 1}",
        )
        expected = [x[p] for p in perm]
        _expect(list(y) == expected, self, f"result shape {list(y)} must be {expected}")


class PadMode(StrEnum):
    CONSTANT = "constant"
    REFLECT = "reflect"
    EDGE = "edge"


@irdl_attr_definition
class PadModeAttr(BracketedEnum, EnumAttribute[PadMode]):
    """`#nn.pad_mode<reflect>`"""

    name = "nn.pad_mode"


@irdl_op_definition
class PadOp(NNOp):
    """ONNX Pad: `pads` = [begin_0, ..., begin_n, end_0, ..., end_n]; mode constant|reflect|edge."""

    name = "nn.pad"
    input = operand_def(AnyTensor)
    pads = prop_def(I64_ARRAY)
    mode = opt_prop_def(enum_constr(PadModeAttr))
    value = opt_prop_def(FloatAttr)
    output = result_def(AnyTensor)
    assembly_format = "$input attr-dict `:` type($input) `->` type($output)"

    MODES: ClassVar[tuple[str, ...]] = tuple(m.value for m in PadMode)

    def __init__(
        self, input: SSAValue, pads: Sequence[int], mode: str = "constant", value: float = 0.0
    ):
        x = shape_of(input)
        n = len(x)
        out = [x[i] + pads[i] + pads[i + n] for i in range(n)]
        props: dict[str, Attribute] = {"pads": i64_array(pads)}
        if mode != "constant":
            props["mode"] = PadModeAttr(PadMode(mode))
        if value != 0.0:
            props["value"] = FloatAttr(value, f32)
        super().__init__(operands=[input], properties=props, result_types=[tensor(out)])

    @property
    def mode_name(self) -> str:
        return self.mode.data.value if self.mode is not None else "constant"

    def verify_(self) -> None:
        x, y, pads = shape_of(self.input), shape_of(self.output), ints(self.pads)
        n = len(x)
        _check_len(self, "pads", pads, 2 * n)
        _expect(min(pads) >= 0, self, f"negative pads {list(pads)} are not supported")
        expected = [x[i] + pads[i] + pads[i + n] for i in range(n)]
        _expect(list(y) == expected, self, f"result shape {list(y)} must be {expected}")


@irdl_op_definition
class SliceOp(NNOp):
    """A strided box of the input (ONNX Slice/Split with positive steps), in canonical form.

    Along each axis `axes[k]` the result's index i reads the input's index
    `starts[k] + i * steps[k]`, for i < ceil((ends[k] - starts[k]) / steps[k]); the other axes
    are copied whole. Canonical means: axes strictly increasing in [0, rank), steps >= 1 and
    0 <= start < end <= dim (never empty). The frontend resolves ONNX's negative and
    out-of-range indices before building the op. `steps` is omitted when all are 1:

        %a = nn.slice %x {axes = array<i64: 1>, starts = array<i64: 0>, ends = array<i64: 58>}
             : tensor<1x116x28x28xf32> -> tensor<1x58x28x28xf32>
    """

    name = "nn.slice"
    input = operand_def(AnyTensor)
    axes = prop_def(I64_ARRAY)
    starts = prop_def(I64_ARRAY)
    ends = prop_def(I64_ARRAY)
    steps = opt_prop_def(I64_ARRAY)
    output = result_def(AnyTensor)
    assembly_format = "$input attr-dict `:` type($input) `->` type($output)"

    def __init__(
        self,
        input: SSAValue,
        axes: Sequence[int],
        starts: Sequence[int],
        ends: Sequence[int],
        steps: Sequence[int] | None = None,
    ):
        steps = [1] * len(axes) if steps is None else list(steps)
        out = list(shape_of(input))
        for a, s, e, st in zip(axes, starts, ends, steps, strict=True):
            out[a] = -(-(e - s) // st)
        props: dict[str, Attribute] = {
            "axes": i64_array(axes),
            "starts": i64_array(starts),
            "ends": i64_array(ends),
        }
        if any(st != 1 for st in steps):
            props["steps"] = i64_array(steps)
        super().__init__(operands=[input], properties=props, result_types=[tensor(out)])

    def step_values(self) -> tuple[int, ...]:
        return ints(self.steps) if self.steps is not None else (1,) * len(ints(self.axes))

    def box(self) -> tuple[tuple[int, int, int], ...]:
        """(start, end, step) for every input axis, the unsliced ones as (0, dim, 1)."""
        out = [(0, d, 1) for d in shape_of(self.input)]
        for a, s, e, st in zip(
            ints(self.axes), ints(self.starts), ints(self.ends), self.step_values(), strict=True
        ):
            out[a] = (s, e, st)
        return tuple(out)

    def verify_(self) -> None:
        x, y = shape_of(self.input), shape_of(self.output)
        axes, starts, ends = ints(self.axes), ints(self.starts), ints(self.ends)
        steps = self.step_values()
        n = len(axes)
        _check_len(self, "starts", starts, n)
        _check_len(self, "ends", ends, n)
        _check_len(self, "steps", steps, n)
        _expect(
            all(0 <= a < len(x) for a in axes)
            and all(p < q for p, q in zip(axes, axes[1:], strict=False)),
            self,
            f"axes {list(axes)} must be strictly increasing and in [0, {len(x)}) (rank {len(x)})",
        )
        _expect(min(steps, default=1) >= 1, self, f"steps must be >= 1, got {list(steps)}")
        for a, s, e in zip(axes, starts, ends, strict=True):
            _expect(
                0 <= s < e <= x[a],
                self,
                f"along axis {a} (size {x[a]}) the slice [{s}, {e}) must satisfy 0 <= start < "
                "end <= size (canonical, non-empty)",
            )
        expected = [-(-(e - s) // st) for s, e, st in self.box()]
        _expect(list(y) == expected, self, f"result shape {list(y)} must be {expected}")


NN = Dialect(
    "nn",
    [
        WeightOp,
        ConstantOp,
        Conv2dOp,
        LinearOp,
        MaxPoolOp,
        AvgPoolOp,
        GlobalAvgPoolOp,
        AddOp,
        SubOp,
        MulOp,
        DivOp,
        ReluOp,
        SigmoidOp,
        TanhOp,
        ClipOp,
        LeakyReluOp,
        FakeQuantOp,
        SoftmaxOp,
        LRNOp,
        BatchNormOp,
        ConcatOp,
        ReshapeOp,
        FlattenOp,
        TransposeOp,
        PadOp,
        SliceOp,
    ],
    [QuantTypeAttr, PadModeAttr],
)

# Weight layers: the ops a crossbar executes. Everything else runs on the vector unit.
WEIGHT_LAYERS = (Conv2dOp, LinearOp)

# A weight layer's name in reports, summaries and errors: the ONNX node it was imported from
# (set by the frontend), which survives any renaming of SSA values.
NODE = "pim.node"


def layer_windows(op: Operation) -> int:
    """MVMs per inference of weight layer `op` (the windows its replicas share): a conv's output
    pixels, a linear layer's input rows per image."""
    if isinstance(op, Conv2dOp):
        y = shape_of(op.output)
        return y[2] * y[3]
    x = shape_of(op.operands[0])
    return max(math.prod(x[:-1]) // max(x[0], 1), 1)


def layer_label(op: Operation) -> str:
    """The name of weight layer `op`: its `pim.node`, else its result's SSA name, else its
    weight's name."""
    node = op.attributes.get(NODE)
    if isinstance(node, StringAttr):
        return node.data
    if op.results and op.results[0].name_hint:
        return op.results[0].name_hint
    owner = op.operands[1].owner if len(op.operands) > 1 else None
    return owner.key if isinstance(owner, WeightOp) else op.name


__all__ = [
    "NN",
    "NODE",
    "WEIGHT_LAYERS",
    "ArrayAttr",
    "BoolAttr",
    "layer_label",
    "layer_windows",
    "shape_of",
    "tensor",
]
