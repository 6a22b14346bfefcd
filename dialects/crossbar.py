"""The `crossbar` dialect: weight tiles placed on crossbars, per partition (level 3).

A `crossbar.partition` runs one partition of the network: its operands are the partition's
entry values (loaded from DRAM), its results the exit values (stored to DRAM). Inside it:

    %t = crossbar.tile {weight = "conv1.weight", layout = #crossbar.layout<oihw>, rows = array<i64: 0, 27>,
                        cols = array<i64: 0, 16>, replica = 0 : i64, core = 0 : i64,
                        xbar = 0 : i64}
    crossbar.write %t                                   // DRAM -> crossbar, at partition start
    %u = crossbar.im2col %x {kernel = ..., strides = ..., pads = ..., dilations = ...}
         : (tensor<1x3x8x8xf32>) -> tensor<1x64x27xf32>   // [N, windows, C*kh*kw]
    %p = crossbar.mvm %t, %u {in_rows = array<i64: 0, 27>}
         : (tensor<1x64x27xf32>) -> tensor<1x64x16xf32>   // one MVM per window, implicit

A *tile* is the block rows [r0, r1) x cols [c0, c1) of a layer's weight matrix (`layout` says
how the weight tensor becomes that matrix, see `weight_matrix`), one replica of it, on crossbar
`xbar` of core `core`. With `groups = k` (grouped/depthwise convs) the tile is block-diagonal:
cols [c0, c1) are k groups of (c1-c0)/k channels, group i's block rows [r0, r1) sits on crossbar
rows [i*(r1-r0), (i+1)*(r1-r0)) and its own columns, zeros elsewhere; it takes k*(r1-r0) input
rows. An MVM applies its tile to every window (row of the unfolded matrix),
or to the window range `windows` when replicas share the work: repetition is never unrolled.
Partial sums of row tiles are added by `crossbar.accumulate`; column blocks and window ranges
are joined by `crossbar.concat`; `crossbar.col2im` folds [N, OH*OW, C] back to NCHW.
Non-weight layers stay `nn` ops (relu, pools, add, ...) inside the partition.

Verifiers (in `crossbar.partition`, with the chip of the enclosing module's `pim.chip` when it
has one): a crossbar holds at most one tile, a core no more tiles than it has crossbars, core
and crossbar indices in range, tile blocks within a crossbar's rows and columns (a weight takes
`cols_per_weight` columns), every tile written once before an MVM uses it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from xdsl.dialects.builtin import (
    I64,
    DenseArrayBase,
    IntegerAttr,
    ModuleOp,
    StringAttr,
    TensorType,
    i64,
)
from xdsl.dialects.utils import EnumAttribute
from xdsl.ir import (
    Attribute,
    Block,
    Dialect,
    Operation,
    ParametrizedAttribute,
    Region,
    SSAValue,
    TypeAttribute,
)
from xdsl.irdl import (
    IRDLOperation,
    ParsePropInAttrDict,
    VarConstraint,
    base,
    irdl_attr_definition,
    irdl_op_definition,
    lazy_traits_def,
    operand_def,
    opt_prop_def,
    prop_def,
    region_def,
    result_def,
    traits_def,
    var_operand_def,
    var_result_def,
)
from xdsl.traits import HasParent, IsTerminator, Pure
from xdsl.utils.exceptions import VerifyException
from xdsl.utils.str_enum import StrEnum

from pimdsl.chip import Chip, from_attr
from pimdsl.dialects.common import I64_ARRAY, BracketedEnum, Schedule, enum_constr
from pimdsl.dialects.common import i64_array as i64_array
from pimdsl.dialects.common import ints as ints
from pimdsl.dialects.common import shape_of as shape_of
from pimdsl.dialects.common import tensor as tensor
from pimdsl.module_attrs import CHIP
from pimdsl.shapes import conv2d_out_hw

if TYPE_CHECKING:
    import numpy as np

AnyTensor = TensorType[Attribute]


class WeightLayout(StrEnum):
    """How a weight tensor becomes the matrix [rows, cols] that tiles cut (cols = output
    channels)."""

    OIHW = "oihw"  # conv [O, I, kh, kw]: rows ordered (i, ky, kx), as crossbar.im2col's columns
    OHWI = "ohwi"  # conv [O, I, kh, kw]: rows ordered (ky, kx, i), for channel-last activations
    OI = "oi"  # linear [out, in] (PyTorch / ONNX Gemm transB=1)
    IO = "io"  # linear [in, out] (ONNX MatMul)


@irdl_attr_definition
class LayoutAttr(BracketedEnum, EnumAttribute[WeightLayout]):
    """`#crossbar.layout<oihw>`: a tile's weight layout."""

    name = "crossbar.layout"


@irdl_attr_definition
class ScheduleAttr(BracketedEnum, EnumAttribute[Schedule]):
    """`#crossbar.schedule<batch>`: the lowering schedule of a partition."""

    name = "crossbar.schedule"


def weight_matrix(weight: np.ndarray, layout: str) -> np.ndarray:
    """The [rows, cols] matrix of a weight tensor in `layout` (numeric meaning of tiles)."""
    if layout == "oihw":
        return weight.reshape(weight.shape[0], -1).T
    if layout == "ohwi":
        return weight.transpose(0, 2, 3, 1).reshape(weight.shape[0], -1).T
    if layout == "oi":
        return weight.T
    if layout == "io":
        return weight
    raise ValueError(f"unknown weight layout '{layout}'")


# --- helpers -----------------------------------------------------------------------------------


_CHIP_CACHE: dict[int, tuple[Attribute, Chip]] = {}


def enclosing_chip(op: Operation) -> Chip | None:
    """The chip of the nearest enclosing module with a `pim.chip` attribute, else None."""
    current: Operation | None = op
    while current is not None:
        if isinstance(current, ModuleOp) and CHIP in current.attributes:
            attr = current.attributes[CHIP]
            cached = _CHIP_CACHE.get(id(attr))
            if cached is None or cached[0] is not attr:
                cached = (attr, from_attr(attr))
                _CHIP_CACHE[id(attr)] = cached
            return cached[1]
        current = current.parent_op()
    return None


def _fail(op: Operation, message: str) -> None:
    raise VerifyException(f"'{op.name}': {message}")


def _pair(op: Operation, name: str, attr: DenseArrayBase) -> tuple[int, int]:
    values = ints(attr)
    if len(values) != 2 or not 0 <= values[0] < values[1]:
        _fail(op, f"'{name}' must be [lo, hi) with 0 <= lo < hi, got {list(values)}")
    return values[0], values[1]


def _int(value: int) -> IntegerAttr:
    return IntegerAttr(value, i64)


# --- types -------------------------------------------------------------------------------------


@irdl_attr_definition
class TileType(ParametrizedAttribute, TypeAttribute):
    """A weight tile resident on one crossbar (the result of `crossbar.tile`)."""

    name = "crossbar.tile"


# --- partition structure -----------------------------------------------------------------------


@irdl_op_definition
class PartitionOp(IRDLOperation):
    """One partition: block arguments = entry values, `crossbar.yield` = exit values."""

    name = "crossbar.partition"
    index = prop_def(IntegerAttr[I64])
    # the lowering schedule the partition pass costed (a `Schedule`; absent: layer),
    # which crossbar-to-isa's default `schedule=auto` emits
    schedule = opt_prop_def(enum_constr(ScheduleAttr))
    inputs = var_operand_def(AnyTensor)
    outputs = var_result_def(AnyTensor)
    body = region_def("single_block")
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = (
        "$index ` ` `(` $inputs `)` attr-dict `:` functional-type($inputs, $outputs) $body"
    )

    def __init__(
        self,
        index: int,
        inputs: Sequence[SSAValue],
        output_types: Sequence[Attribute],
        body: Region,
        schedule: str | None = None,
    ):
        props: dict[str, Attribute] = {"index": _int(index)}
        if schedule is not None:
            props["schedule"] = ScheduleAttr(Schedule(schedule))
        super().__init__(
            operands=[inputs], result_types=[output_types], properties=props, regions=[body]
        )

    @property
    def number(self) -> int:
        return self.index.value.data

    @property
    def schedule_name(self) -> str:
        return self.schedule.data.value if self.schedule is not None else "layer"

    def tiles(self) -> list[TileOp]:
        return [op for op in self.body.block.ops if isinstance(op, TileOp)]

    def verify_(self) -> None:
        block = self.body.block
        arg_types = [a.type for a in block.args]
        if arg_types != list(self.inputs.types):
            _fail(self, "block argument types must equal the operand types")
        last = block.last_op
        if not isinstance(last, YieldOp):
            _fail(self, "body must end with crossbar.yield")
        assert isinstance(last, YieldOp)
        if list(last.values.types) != list(self.outputs.types):
            _fail(self, "crossbar.yield operand types must equal the partition's result types")
        self._verify_placement(enclosing_chip(self))
        self._verify_writes()

    def _verify_placement(self, chip: Chip | None) -> None:
        tiles = self.tiles()
        where = f"partition {self.number}"
        if chip is not None:
            per_core = Counter(t.core_index for t in tiles)
            for core, n in sorted(per_core.items()):
                if n > chip.crossbars_per_core:
                    _fail(
                        self,
                        f"{where}: core {core} holds {n} tiles but has only "
                        f"{chip.crossbars_per_core} crossbars (chip '{chip.name}')",
                    )
        seen: dict[tuple[int, int], TileOp] = {}
        blocks: set[tuple[str, tuple[int, ...], tuple[int, ...], int]] = set()
        for tile in tiles:
            core, xbar = tile.core_index, tile.xbar_index
            if chip is not None:
                if core >= chip.cores:
                    _fail(tile, f"{where}: core {core} is out of range (0..{chip.cores - 1})")
                if xbar >= chip.crossbars_per_core:
                    _fail(
                        tile,
                        f"{where}: crossbar {xbar} is out of range "
                        f"(0..{chip.crossbars_per_core - 1})",
                    )
                rows, cols = tile.block_shape
                if rows > chip.crossbar_rows or cols * chip.cols_per_weight > chip.crossbar_cols:
                    _fail(
                        tile,
                        f"{where}: a block of {rows} rows x {cols} weights does not fit a "
                        f"{chip.crossbar_rows}x{chip.crossbar_cols} crossbar "
                        f"({chip.cols_per_weight} column(s) per weight)",
                    )
            if (core, xbar) in seen:
                _fail(
                    tile,
                    f"{where}: crossbar {xbar} of core {core} already holds tile "
                    f"'{seen[(core, xbar)].describe()}'",
                )
            seen[(core, xbar)] = tile
            key = (tile.weight.data, ints(tile.rows), ints(tile.cols), tile.replica_index)
            if key in blocks:
                _fail(tile, f"{where}: tile '{tile.describe()}' is placed twice")
            blocks.add(key)

    def _verify_writes(self) -> None:
        written: set[SSAValue] = set()
        for op in self.body.block.ops:
            if isinstance(op, WriteOp):
                for t in op.tiles:
                    if t in written:
                        _fail(op, f"partition {self.number}: a tile is written twice")
                    written.add(t)
            elif isinstance(op, MvmOp) and op.tile not in written:
                _fail(op, f"partition {self.number}: MVM on a tile that is not written yet")


@irdl_op_definition
class YieldOp(IRDLOperation):
    """The exit values of a partition (stored to DRAM)."""

    name = "crossbar.yield"
    values = var_operand_def(AnyTensor)
    traits = lazy_traits_def(lambda: (IsTerminator(), HasParent(PartitionOp)))
    assembly_format = "($values^ `:` type($values))? attr-dict"

    def __init__(self, values: Sequence[SSAValue]):
        super().__init__(operands=[values])


# --- tiles and weight writes -------------------------------------------------------------------


@irdl_op_definition
class TileOp(IRDLOperation):
    """Place block rows x cols of `weight`'s matrix (replica `replica`) on (core, xbar)."""

    name = "crossbar.tile"
    weight = prop_def(StringAttr)
    layout = prop_def(enum_constr(LayoutAttr))
    rows = prop_def(I64_ARRAY)
    cols = prop_def(I64_ARRAY)
    replica = prop_def(IntegerAttr[I64])
    core = prop_def(IntegerAttr[I64])
    xbar = prop_def(IntegerAttr[I64])
    groups = opt_prop_def(IntegerAttr[I64])
    result = result_def(TileType)
    traits = lazy_traits_def(lambda: (HasParent(PartitionOp), Pure()))
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "attr-dict"

    def __init__(
        self,
        weight: str,
        layout: str,
        rows: tuple[int, int],
        cols: tuple[int, int],
        *,
        replica: int,
        core: int,
        xbar: int,
        groups: int = 1,
    ):
        props: dict[str, Attribute] = {
            "weight": StringAttr(weight),
            "layout": LayoutAttr(WeightLayout(layout)),
            "rows": i64_array(rows),
            "cols": i64_array(cols),
            "replica": _int(replica),
            "core": _int(core),
            "xbar": _int(xbar),
        }
        if groups != 1:
            props["groups"] = _int(groups)
        super().__init__(properties=props, result_types=[TileType()])

    @property
    def group_count(self) -> int:
        """Groups held block-diagonally (1: a plain block)."""
        return 1 if self.groups is None else self.groups.value.data

    @property
    def core_index(self) -> int:
        return self.core.value.data

    @property
    def xbar_index(self) -> int:
        return self.xbar.value.data

    @property
    def replica_index(self) -> int:
        return self.replica.value.data

    @property
    def block_shape(self) -> tuple[int, int]:
        """Crossbar rows x weights used (block-diagonal: the groups' rows stacked)."""
        r0, r1 = ints(self.rows)
        c0, c1 = ints(self.cols)
        return (r1 - r0) * self.group_count, c1 - c0

    def describe(self) -> str:
        r0, r1 = ints(self.rows)
        c0, c1 = ints(self.cols)
        g = f" x {self.group_count} groups" if self.group_count != 1 else ""
        return f"{self.weight.data}[{r0}:{r1}, {c0}:{c1}]{g} replica {self.replica_index}"

    def verify_(self) -> None:
        _pair(self, "rows", self.rows)
        _pair(self, "cols", self.cols)
        for name in ("replica", "core", "xbar"):
            attr = self.properties[name]
            assert isinstance(attr, IntegerAttr)
            if attr.value.data < 0:
                _fail(self, f"'{name}' must be >= 0, got {attr.value.data}")
        if self.groups is not None:
            g = self.groups.value.data
            c0, c1 = ints(self.cols)
            if g < 1 or (c1 - c0) % g:
                _fail(self, f"'groups' must be >= 1 and divide the {c1 - c0} columns, got {g}")


@irdl_op_definition
class WriteOp(IRDLOperation):
    """Read the tiles' weight blocks from DRAM and program them into their crossbars."""

    name = "crossbar.write"
    tiles = var_operand_def(TileType)
    traits = lazy_traits_def(lambda: (HasParent(PartitionOp),))
    assembly_format = "$tiles attr-dict"

    def __init__(self, tiles: Sequence[SSAValue]):
        super().__init__(operands=[tiles])

    def verify_(self) -> None:
        if not self.tiles:
            _fail(self, "needs at least one tile")


# --- activations -------------------------------------------------------------------------------


def _tile_op(op: Operation, value: SSAValue) -> TileOp:
    owner = value.owner
    if not isinstance(owner, TileOp):
        _fail(op, "the tile operand must be the result of crossbar.tile")
    assert isinstance(owner, TileOp)
    return owner


@irdl_op_definition
class Im2colOp(IRDLOperation):
    """Unfold NCHW input to [N, OH*OW, C*kh*kw]: row = window (oy, ox) row-major, column =
    (c, ky, kx) row-major; zero padding `pads` = [top, left, bottom, right]."""

    name = "crossbar.im2col"
    input = operand_def(AnyTensor)
    kernel = prop_def(I64_ARRAY)
    strides = prop_def(I64_ARRAY)
    pads = prop_def(I64_ARRAY)
    dilations = prop_def(I64_ARRAY)
    output = result_def(AnyTensor)
    traits = traits_def(Pure())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$input attr-dict `:` functional-type(operands, results)"

    def __init__(
        self,
        input: SSAValue,
        *,
        kernel: Sequence[int],
        strides: Sequence[int],
        pads: Sequence[int],
        dilations: Sequence[int] = (1, 1),
    ):
        n, c, h, w = shape_of(input)
        oh, ow = conv2d_out_hw((h, w), tuple(kernel), tuple(strides), tuple(pads), tuple(dilations))
        super().__init__(
            operands=[input],
            properties={
                "kernel": i64_array(kernel),
                "strides": i64_array(strides),
                "pads": i64_array(pads),
                "dilations": i64_array(dilations),
            },
            result_types=[tensor((n, oh * ow, c * kernel[0] * kernel[1]))],
        )

    def out_hw(self) -> tuple[int, int]:
        _, _, h, w = shape_of(self.input)
        return conv2d_out_hw(
            (h, w), ints(self.kernel), ints(self.strides), ints(self.pads), ints(self.dilations)
        )

    def verify_(self) -> None:
        x = shape_of(self.input)
        if len(x) != 4:
            _fail(self, f"input must be NCHW (rank 4), got shape {list(x)}")
        for name, n in (("kernel", 2), ("strides", 2), ("pads", 4), ("dilations", 2)):
            attr = self.properties[name]
            assert isinstance(attr, DenseArrayBase)
            values = ints(attr)
            if len(values) != n:
                _fail(self, f"'{name}' must have {n} values, got {len(values)}")
            if min(values) < (0 if name == "pads" else 1):
                _fail(self, f"'{name}' values must be {'>= 0' if name == 'pads' else '>= 1'}")
        oh, ow = self.out_hw()
        kh, kw = ints(self.kernel)
        expected = (x[0], oh * ow, x[1] * kh * kw)
        y = shape_of(self.output)
        if y != expected:
            _fail(self, f"result shape {list(y)} does not match the expected {list(expected)}")


@irdl_op_definition
class MvmOp(IRDLOperation):
    """y = x[..., in_rows] @ tile for every window (rank 3: [N, W, K]; rank 2: [N, K]).

    `windows` = [w0, w1) restricts a rank-3 input to windows w0..w1-1 (replicas share them)."""

    name = "crossbar.mvm"
    tile = operand_def(TileType)
    input = operand_def(AnyTensor)
    in_rows = prop_def(I64_ARRAY)
    windows = opt_prop_def(I64_ARRAY)
    output = result_def(AnyTensor)
    traits = traits_def(Pure())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$tile `,` $input attr-dict `:` functional-type($input, $output)"

    def __init__(
        self,
        tile: SSAValue,
        input: SSAValue,
        in_rows: tuple[int, int],
        windows: tuple[int, int] | None = None,
    ):
        owner = tile.owner
        assert isinstance(owner, TileOp)
        shape = list(shape_of(input))
        shape[-1] = owner.block_shape[1]
        props: dict[str, Attribute] = {"in_rows": i64_array(in_rows)}
        if windows is not None:
            shape[1] = windows[1] - windows[0]
            props["windows"] = i64_array(windows)
        super().__init__(operands=[tile, input], properties=props, result_types=[tensor(shape)])

    def verify_(self) -> None:
        tile = _tile_op(self, self.tile)
        x, y = shape_of(self.input), shape_of(self.output)
        if len(x) not in (2, 3):
            _fail(self, f"input must be [N, K] or [N, windows, K], got shape {list(x)}")
        lo, hi = _pair(self, "in_rows", self.in_rows)
        rows, cols = tile.block_shape
        if hi - lo != rows:
            _fail(self, f"in_rows [{lo}, {hi}) has {hi - lo} rows but the tile has {rows}")
        if hi > x[-1]:
            _fail(self, f"in_rows [{lo}, {hi}) exceeds the input's {x[-1]} columns")
        expected = [*x[:-1], cols]
        if self.windows is not None:
            if len(x) != 3:
                _fail(self, "'windows' needs a rank-3 input [N, windows, K]")
            w0, w1 = _pair(self, "windows", self.windows)
            if w1 > x[1]:
                _fail(self, f"windows [{w0}, {w1}) exceed the input's {x[1]} windows")
            expected[1] = w1 - w0
        if list(y) != expected:
            _fail(self, f"result shape {list(y)} does not match the expected {expected}")


@irdl_op_definition
class AccumulateOp(IRDLOperation):
    """Sum of partial results (the row tiles of one column block), all of one type."""

    name = "crossbar.accumulate"
    T: ClassVar = VarConstraint("T", base(TensorType))
    parts = var_operand_def(T)
    output = result_def(T)
    traits = traits_def(Pure())
    assembly_format = "$parts attr-dict `:` type($output)"

    def __init__(self, parts: Sequence[SSAValue]):
        super().__init__(operands=[parts], result_types=[parts[0].type])

    def verify_(self) -> None:
        if len(self.parts) < 2:
            _fail(self, f"needs at least two partial results, got {len(self.parts)}")
        if any(p.type != self.output.type for p in self.parts):
            _fail(self, "all partial results must have the result type")


@irdl_op_definition
class ConcatOp(IRDLOperation):
    """Join column blocks (axis -1) or window ranges (axis 1) of MVM results."""

    name = "crossbar.concat"
    parts = var_operand_def(AnyTensor)
    axis = prop_def(IntegerAttr[I64])
    output = result_def(AnyTensor)
    traits = traits_def(Pure())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$parts attr-dict `:` functional-type($parts, $output)"

    def __init__(self, parts: Sequence[SSAValue], axis: int):
        shapes = [shape_of(p) for p in parts]
        out = list(shapes[0])
        out[axis] = sum(s[axis] for s in shapes)
        super().__init__(
            operands=[parts], properties={"axis": _int(axis)}, result_types=[tensor(out)]
        )

    def verify_(self) -> None:
        shapes = [shape_of(p) for p in self.parts]
        if not shapes:
            _fail(self, "needs at least one part")
        rank = len(shapes[0])
        axis = self.axis.value.data
        if not -rank <= axis < rank:
            _fail(self, f"axis {axis} is out of range for rank {rank}")
        axis %= rank
        for s in shapes:
            if len(s) != rank or any(
                a != b for i, (a, b) in enumerate(zip(s, shapes[0], strict=True)) if i != axis
            ):
                _fail(self, f"parts {[list(s) for s in shapes]} differ outside axis {axis}")
        expected = list(shapes[0])
        expected[axis] = sum(s[axis] for s in shapes)
        if list(shape_of(self.output)) != expected:
            _fail(self, f"result shape {list(shape_of(self.output))} does not match {expected}")


@irdl_op_definition
class Col2imOp(IRDLOperation):
    """Fold [N, OH*OW, C] MVM results back to NCHW [N, C, OH, OW]; `spatial` = [OH, OW]."""

    name = "crossbar.col2im"
    input = operand_def(AnyTensor)
    spatial = prop_def(I64_ARRAY)
    output = result_def(AnyTensor)
    traits = traits_def(Pure())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$input attr-dict `:` functional-type(operands, results)"

    def __init__(self, input: SSAValue, spatial: tuple[int, int]):
        n, _, c = shape_of(input)
        super().__init__(
            operands=[input],
            properties={"spatial": i64_array(spatial)},
            result_types=[tensor((n, c, *spatial))],
        )

    def verify_(self) -> None:
        x = shape_of(self.input)
        hw = ints(self.spatial)
        if len(x) != 3 or len(hw) != 2 or x[1] != math.prod(hw):
            _fail(self, f"input {list(x)} is not [N, OH*OW, C] for spatial {list(hw)}")
        expected = [x[0], x[2], *hw]
        if list(shape_of(self.output)) != expected:
            _fail(self, f"result shape {list(shape_of(self.output))} does not match {expected}")


@irdl_op_definition
class BiasOp(IRDLOperation):
    """y = x + bias[cols] along the last dimension; `weight` names the bias in DRAM."""

    name = "crossbar.bias"
    T: ClassVar = VarConstraint("T", base(TensorType))
    input = operand_def(T)
    weight = prop_def(StringAttr)
    cols = prop_def(I64_ARRAY)
    output = result_def(T)
    traits = traits_def(Pure())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$input attr-dict `:` type($output)"

    def __init__(self, input: SSAValue, weight: str, cols: tuple[int, int]):
        super().__init__(
            operands=[input],
            properties={"weight": StringAttr(weight), "cols": i64_array(cols)},
            result_types=[input.type],
        )

    def verify_(self) -> None:
        lo, hi = _pair(self, "cols", self.cols)
        last = shape_of(self.input)[-1]
        if hi - lo != last:
            _fail(
                self, f"cols [{lo}, {hi}) has {hi - lo} values but the input's last dim is {last}"
            )


def tile_summary(partition: PartitionOp) -> dict[str, Any]:
    """Counts for reports: tiles, cores used and crossbars used of one partition."""
    tiles = partition.tiles()
    return {
        "tiles": len(tiles),
        "cores": len({t.core_index for t in tiles}),
        "crossbars": len({(t.core_index, t.xbar_index) for t in tiles}),
    }


Crossbar = Dialect(
    "crossbar",
    [
        PartitionOp,
        YieldOp,
        TileOp,
        WriteOp,
        Im2colOp,
        MvmOp,
        AccumulateOp,
        ConcatOp,
        Col2imOp,
        BiasOp,
    ],
    [TileType, LayoutAttr, ScheduleAttr],
)

# Re-exported so users building IR need one import.
__all__ = [
    "AccumulateOp",
    "LayoutAttr",
    "ScheduleAttr",
    "WeightLayout",
    "BiasOp",
    "Block",
    "Col2imOp",
    "ConcatOp",
    "Crossbar",
    "Im2colOp",
    "MvmOp",
    "PartitionOp",
    "Region",
    "TileOp",
    "TileType",
    "WriteOp",
    "YieldOp",
    "enclosing_chip",
    "tile_summary",
    "weight_matrix",
]
