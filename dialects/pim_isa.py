"""The `pim_isa` dialect: per-core instruction programs (level 4).

(The design card calls the level pim-isa; MLIR namespaces cannot hold '-'.)

Structure, outermost first:

    pim_isa.program elem_bytes 2 {            // one per module
      pim_isa.buffer "input" {role = #pim_isa.role<input>, shape = array<i64: 1, 3, 32, 32>}
      pim_isa.partition 0 {                  // partitions run one after another
        pim_isa.core 0 {                     // the instruction stream of core 0
          pim_isa.ld_weight {...}
          pim_isa.loop 1024 {                // a counted loop, never unrolled
            pim_isa.mvm {...}
          }
        }
      }
    }

Memory model (docs/dialects.md has the full reference):

- *Local memory* of a core is byte-addressed. Every local address is an `array<i64: base,
  s1, ..., sd>`: the byte address in iteration (i1, ..., id) of the d `pim_isa.loop`s around
  the instruction (outermost first, inside its core) is `base + s1*i1 + ... + sd*id`. A
  one-value array `array<i64: base>` means all strides are zero.
- Activations, partial sums and vector data are *elements* of `elem_bytes` bytes each (a
  property of the program); lengths count elements. Weight blocks staged by `ld_weight` for
  `wr_xbar` are packed at the chip's `weight_bits`.
- *DRAM* holds the program's declared buffers (`pim_isa.buffer`, flat, row-major) and the
  tensors of the module's weight file (`pim.weights`), addressed by name and an element
  offset with the same stride convention.

Verifiers (in `pim_isa.partition`, which sees a whole partition at once): core ids unique and
in range, local addresses + lengths within `local_memory_bytes` and aligned to `elem_bytes`,
address arrays that fit their loop nest, DRAM offsets within declared buffers, crossbar
indices and block shapes within the chip, every send matched by a recv (peer, tag, length,
number of executions), barrier groups that every member reaches equally often. Checks that
need the chip are skipped when the module has no `pim.chip`.
"""

from __future__ import annotations

import math
from abc import ABC
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

from xdsl.dialects.builtin import (
    I64,
    ArrayAttr,
    DenseArrayBase,
    FloatAttr,
    IntegerAttr,
    ModuleOp,
    StringAttr,
    TensorType,
    UnitAttr,
    f64,
    i64,
)
from xdsl.dialects.utils import EnumAttribute
from xdsl.ir import Attribute, Block, Dialect, Operation, Region, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    ParsePropInAttrDict,
    irdl_attr_definition,
    irdl_op_definition,
    lazy_traits_def,
    opt_prop_def,
    prop_def,
    region_def,
    traits_def,
    var_operand_def,
    var_result_def,
)
from xdsl.traits import HasAncestor, HasParent, NoTerminator
from xdsl.utils.exceptions import VerifyException
from xdsl.utils.str_enum import StrEnum

from pimdsl.chip import Chip
from pimdsl.dialects.common import I64_ARRAY, BracketedEnum, enum_constr
from pimdsl.dialects.common import i64_array as i64_array
from pimdsl.dialects.common import ints as ints
from pimdsl.dialects.crossbar import WeightLayout, enclosing_chip


class BufferRole(StrEnum):
    """What a DRAM buffer holds: a network input, a network output, or a partition exit."""

    INPUT = "input"
    OUTPUT = "output"
    TEMP = "temp"


class ReduceKind(StrEnum):
    SUM = "sum"
    MAX = "max"


class PoolKind(StrEnum):
    MAX = "max"
    AVG = "avg"  # sum / count
    SUM = "sum"


@irdl_attr_definition
class BufferRoleAttr(BracketedEnum, EnumAttribute[BufferRole]):
    """`#pim_isa.role<input>`"""

    name = "pim_isa.role"


@irdl_attr_definition
class LayoutAttr(BracketedEnum, EnumAttribute[WeightLayout]):
    """`#pim_isa.layout<oihw>`: the weight layout of an ld_weight (as crossbar.tile's)."""

    name = "pim_isa.layout"


@irdl_attr_definition
class ReduceKindAttr(BracketedEnum, EnumAttribute[ReduceKind]):
    """`#pim_isa.reduce_kind<sum>`"""

    name = "pim_isa.reduce_kind"


@irdl_attr_definition
class PoolKindAttr(BracketedEnum, EnumAttribute[PoolKind]):
    """`#pim_isa.pool_kind<max>`"""

    name = "pim_isa.pool_kind"


# --- helpers -----------------------------------------------------------------------------------


def addr(base: int, *strides: int) -> DenseArrayBase:
    """An address property: `base` plus one stride per enclosing loop (outermost first)."""
    return i64_array([base, *strides])


@lru_cache(maxsize=65536)
def _int(value: int) -> IntegerAttr:
    return IntegerAttr(value, i64)


def _val(attr: IntegerAttr) -> int:
    return attr.value.data


def _fail(op: Operation, message: str) -> None:
    raise VerifyException(f"'{op.name}': {message}")


# --- program structure -------------------------------------------------------------------------


@irdl_op_definition
class ProgramOp(IRDLOperation):
    """The whole chip program: DRAM buffers, then partitions in execution order."""

    name = "pim_isa.program"
    elem_bytes = prop_def(IntegerAttr[I64])
    body = region_def("single_block")
    traits = traits_def(NoTerminator())
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "`elem_bytes` $elem_bytes attr-dict-with-keyword $body"

    def __init__(self, elem_bytes: int, ops: Sequence[Operation] = ()):
        super().__init__(properties={"elem_bytes": _int(elem_bytes)}, regions=[Region(Block(ops))])

    @property
    def element_bytes(self) -> int:
        return _val(self.elem_bytes)

    def buffers(self) -> list[BufferOp]:
        return [op for op in self.body.block.ops if isinstance(op, BufferOp)]

    def partitions(self) -> list[PartitionOp]:
        return [op for op in self.body.block.ops if isinstance(op, PartitionOp)]

    def verify_(self) -> None:
        if self.element_bytes < 1:
            _fail(self, f"elem_bytes must be >= 1, got {self.element_bytes}")
        names: set[str] = set()
        indices: list[int] = []
        for op in self.body.block.ops:
            if isinstance(op, BufferOp):
                if op.buffer_name in names:
                    _fail(self, f"buffer '{op.buffer_name}' is declared twice")
                names.add(op.buffer_name)
            elif isinstance(op, PartitionOp):
                indices.append(op.number)
            else:
                _fail(
                    self, f"may only hold pim_isa.buffer and pim_isa.partition, found '{op.name}'"
                )
        if indices != list(range(len(indices))):
            _fail(self, f"partitions must be numbered 0, 1, 2, ... in order, got {indices}")


@irdl_op_definition
class BufferOp(IRDLOperation):
    """A DRAM buffer (a flat, row-major tensor): a network input/output or a partition exit."""

    name = "pim_isa.buffer"
    sym = prop_def(StringAttr, prop_name="name")
    shape = prop_def(I64_ARRAY)
    role = prop_def(enum_constr(BufferRoleAttr))
    # The value every element holds before the program runs (default 0): the halo of a padded
    # activation layout, e.g. -inf around a max pool's input.
    fill = opt_prop_def(FloatAttr)
    traits = lazy_traits_def(lambda: (HasParent(ProgramOp),))
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$name attr-dict"

    def __init__(
        self, name: str, shape: Sequence[int], role: str = "temp", fill: float | None = None
    ):
        props: dict[str, Attribute] = {
            "name": StringAttr(name),
            "shape": i64_array(shape),
            "role": BufferRoleAttr(BufferRole(role)),
        }
        if fill is not None and fill != 0.0:
            props["fill"] = FloatAttr(float(fill), f64)
        super().__init__(properties=props)

    @property
    def fill_value(self) -> float:
        return 0.0 if self.fill is None else float(self.fill.value.data)

    @property
    def buffer_name(self) -> str:
        return self.sym.data

    @property
    def elements(self) -> int:
        return math.prod(ints(self.shape))

    def verify_(self) -> None:
        if any(d < 1 for d in ints(self.shape)):
            _fail(self, f"shape dimensions must be >= 1, got {list(ints(self.shape))}")


@irdl_op_definition
class PartitionOp(IRDLOperation):
    """One partition: the per-core programs that run together between two weight reloads.

    A partition starts when every core has finished the previous one (an implicit barrier)."""

    name = "pim_isa.partition"
    index = prop_def(IntegerAttr[I64])
    body = region_def("single_block")
    traits = lazy_traits_def(lambda: (HasParent(ProgramOp), NoTerminator()))
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$index attr-dict-with-keyword $body"

    def __init__(self, index: int, cores: Sequence[CoreOp] = ()):
        super().__init__(properties={"index": _int(index)}, regions=[Region(Block(cores))])

    @property
    def number(self) -> int:
        return _val(self.index)

    def cores(self) -> list[CoreOp]:
        return [op for op in self.body.block.ops if isinstance(op, CoreOp)]

    def verify_(self) -> None:
        _PartitionChecker(self).run()


@irdl_op_definition
class CoreOp(IRDLOperation):
    """The instruction stream of one core within a partition (executed in order)."""

    name = "pim_isa.core"
    core_id = prop_def(IntegerAttr[I64], prop_name="id")
    body = region_def("single_block")
    traits = lazy_traits_def(lambda: (HasParent(PartitionOp), NoTerminator()))
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$id attr-dict-with-keyword $body"

    def __init__(self, core_id: int, ops: Sequence[Operation] = ()):
        super().__init__(properties={"id": _int(core_id)}, regions=[Region(Block(ops))])

    @property
    def number(self) -> int:
        return _val(self.core_id)


@irdl_op_definition
class LoopOp(IRDLOperation):
    """Run the body `count` times; addresses advance by their per-loop strides."""

    name = "pim_isa.loop"
    count = prop_def(IntegerAttr[I64])
    body = region_def("single_block")
    traits = lazy_traits_def(lambda: (HasAncestor(CoreOp), NoTerminator()))
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$count attr-dict-with-keyword $body"

    def __init__(self, count: int, ops: Sequence[Operation] = ()):
        super().__init__(properties={"count": _int(count)}, regions=[Region(Block(ops))])

    @property
    def trip_count(self) -> int:
        return _val(self.count)

    def verify_(self) -> None:
        if self.trip_count < 1:
            _fail(self, f"loop count must be >= 1, got {self.trip_count}")


# --- instructions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LocalAccess:
    """A local-memory access of an instruction: `count` units at address `prop`."""

    prop: str
    count: int
    packed_weights: bool = False  # units are weights at weight_bits, else elements


class InstrOp(IRDLOperation, ABC):
    """A pim_isa instruction: properties only, printed as an attribute dictionary.

    `FIELDS` orders the properties for the assembly and JSON emitters; `ADDRESSES` names the
    properties that are (base, strides...) address arrays."""

    irdl_options = (ParsePropInAttrDict(),)
    traits = lazy_traits_def(lambda: (HasAncestor(CoreOp),))
    assembly_format = "attr-dict"
    FIELDS: ClassVar[tuple[str, ...]] = ()
    ADDRESSES: ClassVar[tuple[str, ...]] = ()
    # Non-flag optional fields: emitted only when the property is set.
    OPTIONAL_FIELDS: ClassVar[tuple[str, ...]] = ()

    @property
    def mnemonic(self) -> str:
        return self.name.removeprefix("pim_isa.")

    def local_accesses(self) -> list[LocalAccess]:
        return []

    def verify_(self) -> None:
        for name in self.ADDRESSES:
            attr = self.properties.get(name)
            if isinstance(attr, DenseArrayBase) and len(ints(attr)) < 1:
                _fail(self, f"address '{name}' needs at least a base value")
        length = self.properties.get("len")
        if isinstance(length, IntegerAttr) and _val(length) < 1:
            _fail(self, f"len must be >= 1, got {_val(length)}")


def _range_prop(op: Operation, name: str) -> tuple[int, int]:
    attr = op.properties[name]
    assert isinstance(attr, DenseArrayBase)
    values = ints(attr)
    if len(values) != 2 or not 0 <= values[0] < values[1]:
        _fail(op, f"'{name}' must be [lo, hi) with 0 <= lo < hi, got {list(values)}")
    return values[0], values[1]


@irdl_op_definition
class LdWeightOp(InstrOp):
    """Load the block [rows) x [cols) of a weight tensor's matrix (see `layout`) from DRAM into
    local memory at `dst`, packed at the chip's weight_bits, row-major."""

    name = "pim_isa.ld_weight"
    weight = prop_def(StringAttr)
    layout = prop_def(enum_constr(LayoutAttr))
    rows = prop_def(I64_ARRAY)
    cols = prop_def(I64_ARRAY)
    dst = prop_def(I64_ARRAY)
    # groups = k: cols are k groups staged block-diagonally (as crossbar.tile's groups): group
    # i's rows block sits on rows [i*R, (i+1)*R) and its own columns, zeros elsewhere.
    groups = opt_prop_def(IntegerAttr[I64])
    FIELDS: ClassVar[tuple[str, ...]] = ("weight", "layout", "rows", "cols", "dst", "groups")
    ADDRESSES: ClassVar[tuple[str, ...]] = ("dst",)
    OPTIONAL_FIELDS: ClassVar[tuple[str, ...]] = ("groups",)

    def __init__(
        self,
        weight: str,
        layout: str,
        rows: tuple[int, int],
        cols: tuple[int, int],
        dst: DenseArrayBase,
        groups: int = 1,
    ):
        props: dict[str, Attribute] = {
            "weight": StringAttr(weight),
            "layout": LayoutAttr(WeightLayout(layout)),
            "rows": i64_array(rows),
            "cols": i64_array(cols),
            "dst": dst,
        }
        if groups != 1:
            props["groups"] = _int(groups)
        super().__init__(properties=props)

    @property
    def group_count(self) -> int:
        return 1 if self.groups is None else _val(self.groups)

    @property
    def block_shape(self) -> tuple[int, int]:
        """Staged rows x cols (block-diagonal: the groups' rows stacked)."""
        r0, r1 = ints(self.rows)
        c0, c1 = ints(self.cols)
        return (r1 - r0) * self.group_count, c1 - c0

    def local_accesses(self) -> list[LocalAccess]:
        r, c = self.block_shape
        return [LocalAccess("dst", r * c, packed_weights=True)]

    def verify_(self) -> None:
        super().verify_()
        _range_prop(self, "rows")
        c0, c1 = _range_prop(self, "cols")
        if self.group_count < 1 or (c1 - c0) % self.group_count:
            _fail(
                self,
                f"'groups' must be >= 1 and divide the {c1 - c0} columns, got {self.group_count}",
            )


@irdl_op_definition
class WrXbarOp(InstrOp):
    """Program crossbar `xbar` of this core with the rows x cols weight block at `src`
    (staged there by ld_weight); the block occupies the crossbar's top-left corner."""

    name = "pim_isa.wr_xbar"
    xbar = prop_def(IntegerAttr[I64])
    src = prop_def(I64_ARRAY)
    rows = prop_def(IntegerAttr[I64])
    cols = prop_def(IntegerAttr[I64])
    FIELDS: ClassVar[tuple[str, ...]] = ("xbar", "src", "rows", "cols")
    ADDRESSES: ClassVar[tuple[str, ...]] = ("src",)

    def __init__(self, xbar: int, src: DenseArrayBase, rows: int, cols: int):
        super().__init__(
            properties={
                "xbar": _int(xbar),
                "src": src,
                "rows": _int(rows),
                "cols": _int(cols),
            }
        )

    def local_accesses(self) -> list[LocalAccess]:
        return [LocalAccess("src", _val(self.rows) * _val(self.cols), packed_weights=True)]

    def verify_(self) -> None:
        super().verify_()
        if _val(self.rows) < 1 or _val(self.cols) < 1 or _val(self.xbar) < 0:
            _fail(self, "rows and cols must be >= 1 and xbar >= 0")


@irdl_op_definition
class LoadOp(InstrOp):
    """Copy `len` elements from DRAM (`buffer` at element `offset`) to local memory at `dst`.

    `buffer` names a `pim_isa.buffer` or, failing that, a tensor of the weight file."""

    name = "pim_isa.load"
    buffer = prop_def(StringAttr)
    offset = prop_def(I64_ARRAY)
    dst = prop_def(I64_ARRAY)
    length = prop_def(IntegerAttr[I64], prop_name="len")
    FIELDS: ClassVar[tuple[str, ...]] = ("buffer", "offset", "dst", "len")
    ADDRESSES: ClassVar[tuple[str, ...]] = ("offset", "dst")

    def __init__(self, buffer: str, offset: DenseArrayBase, dst: DenseArrayBase, length: int):
        super().__init__(
            properties={
                "buffer": StringAttr(buffer),
                "offset": offset,
                "dst": dst,
                "len": _int(length),
            }
        )

    def local_accesses(self) -> list[LocalAccess]:
        return [LocalAccess("dst", _val(self.length))]

    def dram_extent(self) -> int:
        """Elements from the first to one past the last DRAM element of one execution."""
        return _val(self.length)


@irdl_op_definition
class StoreOp(InstrOp):
    """Copy `len` elements from local memory at `src` to DRAM (`buffer` at element `offset`)."""

    name = "pim_isa.store"
    src = prop_def(I64_ARRAY)
    buffer = prop_def(StringAttr)
    offset = prop_def(I64_ARRAY)
    length = prop_def(IntegerAttr[I64], prop_name="len")
    FIELDS: ClassVar[tuple[str, ...]] = ("src", "buffer", "offset", "len")
    ADDRESSES: ClassVar[tuple[str, ...]] = ("src", "offset")

    def __init__(self, src: DenseArrayBase, buffer: str, offset: DenseArrayBase, length: int):
        super().__init__(
            properties={
                "src": src,
                "buffer": StringAttr(buffer),
                "offset": offset,
                "len": _int(length),
            }
        )

    def local_accesses(self) -> list[LocalAccess]:
        return [LocalAccess("src", _val(self.length))]

    def dram_extent(self) -> int:
        return _val(self.length)


class _BlockTransfer(InstrOp, ABC):
    """A strided DMA: the DRAM block `sizes` x len (element (a1..ak, i) at `offset` + sum of
    a_j * pitches[j] + i) <-> a dense row-major block of prod(sizes) * len elements in local
    memory. `sizes` and `pitches` (DRAM elements) list the outer dimensions, outermost first."""

    buffer = prop_def(StringAttr)
    offset = prop_def(I64_ARRAY)
    length = prop_def(IntegerAttr[I64], prop_name="len")
    sizes = prop_def(I64_ARRAY)
    pitches = prop_def(I64_ARRAY)

    @property
    def elements(self) -> int:
        return math.prod(ints(self.sizes)) * _val(self.length)

    def dram_extent(self) -> int:
        return _block_extent(self)

    def verify_(self) -> None:
        super().verify_()
        _verify_block_shape(self)


def _block_extent(op: InstrOp) -> int:
    """Elements from the first to one past the last element of a strided block (`sizes`,
    `pitches`, `len` properties): the span one execution touches on its strided side."""
    sizes, pitches = ints(op.sizes), ints(op.pitches)  # type: ignore[attr-defined]
    return _val(op.length) + sum((n - 1) * p for n, p in zip(sizes, pitches, strict=True))  # type: ignore[attr-defined]


def _verify_block_shape(op: InstrOp) -> None:
    sizes, pitches = ints(op.sizes), ints(op.pitches)  # type: ignore[attr-defined]
    if len(sizes) != len(pitches) or not sizes:
        _fail(
            op,
            f"sizes {list(sizes)} and pitches {list(pitches)} must be non-empty and of equal length",
        )
    if min(sizes) < 1 or min(pitches) < 0:
        _fail(op, f"sizes must be >= 1 and pitches >= 0, got {list(sizes)} and {list(pitches)}")


@irdl_op_definition
class LoadBlockOp(_BlockTransfer):
    """Gather the strided DRAM block into `dst` (dense, row-major over sizes x len)."""

    name = "pim_isa.load_block"
    dst = prop_def(I64_ARRAY)
    FIELDS: ClassVar[tuple[str, ...]] = ("buffer", "offset", "sizes", "pitches", "len", "dst")
    ADDRESSES: ClassVar[tuple[str, ...]] = ("offset", "dst")

    def __init__(
        self,
        buffer: str,
        offset: DenseArrayBase,
        sizes: Sequence[int],
        pitches: Sequence[int],
        length: int,
        dst: DenseArrayBase,
    ):
        super().__init__(
            properties={
                "buffer": StringAttr(buffer),
                "offset": offset,
                "sizes": i64_array(sizes),
                "pitches": i64_array(pitches),
                "len": _int(length),
                "dst": dst,
            }
        )

    def local_accesses(self) -> list[LocalAccess]:
        return [LocalAccess("dst", self.elements)]


@irdl_op_definition
class StoreBlockOp(_BlockTransfer):
    """Scatter the dense local block at `src` to the strided DRAM block."""

    name = "pim_isa.store_block"
    src = prop_def(I64_ARRAY)
    FIELDS: ClassVar[tuple[str, ...]] = ("src", "buffer", "offset", "sizes", "pitches", "len")
    ADDRESSES: ClassVar[tuple[str, ...]] = ("src", "offset")

    def __init__(
        self,
        src: DenseArrayBase,
        buffer: str,
        offset: DenseArrayBase,
        sizes: Sequence[int],
        pitches: Sequence[int],
        length: int,
    ):
        super().__init__(
            properties={
                "src": src,
                "buffer": StringAttr(buffer),
                "offset": offset,
                "sizes": i64_array(sizes),
                "pitches": i64_array(pitches),
                "len": _int(length),
            }
        )

    def local_accesses(self) -> list[LocalAccess]:
        return [LocalAccess("src", self.elements)]


@irdl_op_definition
class GatherOp(InstrOp):
    """Local strided gather: the block `sizes` x len of local memory (element (a1..ak, i) at
    `src` + (sum of a_j * pitches[j] + i) * elem_bytes) -> a dense row-major block at `dst`.

    How a convolution forms each window's input vector, rows ordered (channel, ky, kx), from a
    line buffer of input rows held in local memory (docs/lowering.md, "Line buffers"). `src`
    may move with the loops (the window's position in the band); `pitches` count elements."""

    name = "pim_isa.gather"
    dst = prop_def(I64_ARRAY)
    src = prop_def(I64_ARRAY)
    length = prop_def(IntegerAttr[I64], prop_name="len")
    sizes = prop_def(I64_ARRAY)
    pitches = prop_def(I64_ARRAY)
    FIELDS: ClassVar[tuple[str, ...]] = ("dst", "src", "sizes", "pitches", "len")
    ADDRESSES: ClassVar[tuple[str, ...]] = ("dst", "src")

    def __init__(
        self,
        dst: DenseArrayBase,
        src: DenseArrayBase,
        sizes: Sequence[int],
        pitches: Sequence[int],
        length: int,
    ):
        super().__init__(
            properties={
                "dst": dst,
                "src": src,
                "sizes": i64_array(sizes),
                "pitches": i64_array(pitches),
                "len": _int(length),
            }
        )

    @property
    def elements(self) -> int:
        return math.prod(ints(self.sizes)) * _val(self.length)

    def src_extent(self) -> int:
        return _block_extent(self)

    def local_accesses(self) -> list[LocalAccess]:
        return [LocalAccess("dst", self.elements), LocalAccess("src", self.src_extent())]

    def verify_(self) -> None:
        super().verify_()
        _verify_block_shape(self)


@irdl_op_definition
class MvmOp(InstrOp):
    """dst[0:cols] = src[0:rows] @ W[0:rows, 0:cols] on crossbar `xbar` (dst += with
    `accumulate`); the input is fed bit-serially with `bits` bits."""

    name = "pim_isa.mvm"
    xbar = prop_def(IntegerAttr[I64])
    src = prop_def(I64_ARRAY)
    rows = prop_def(IntegerAttr[I64])
    dst = prop_def(I64_ARRAY)
    cols = prop_def(IntegerAttr[I64])
    bits = prop_def(IntegerAttr[I64])
    accumulate = opt_prop_def(UnitAttr)
    FIELDS: ClassVar[tuple[str, ...]] = ("xbar", "src", "rows", "dst", "cols", "bits", "accumulate")
    ADDRESSES: ClassVar[tuple[str, ...]] = ("src", "dst")

    def __init__(
        self,
        xbar: int,
        src: DenseArrayBase,
        rows: int,
        dst: DenseArrayBase,
        cols: int,
        bits: int,
        accumulate: bool = False,
    ):
        props: dict[str, Attribute] = {
            "xbar": _int(xbar),
            "src": src,
            "rows": _int(rows),
            "dst": dst,
            "cols": _int(cols),
            "bits": _int(bits),
        }
        if accumulate:
            props["accumulate"] = UnitAttr()
        super().__init__(properties=props)

    def local_accesses(self) -> list[LocalAccess]:
        return [LocalAccess("src", _val(self.rows)), LocalAccess("dst", _val(self.cols))]

    def verify_(self) -> None:
        super().verify_()
        if _val(self.rows) < 1 or _val(self.cols) < 1 or _val(self.bits) < 1 or _val(self.xbar) < 0:
            _fail(self, "rows, cols and bits must be >= 1 and xbar >= 0")


class VectorBinaryOp(InstrOp, ABC):
    """dst[i] = lhs[i] (op) rhs[i] for i < len; with `broadcast`, rhs is one element."""

    dst = prop_def(I64_ARRAY)
    lhs = prop_def(I64_ARRAY)
    rhs = prop_def(I64_ARRAY)
    length = prop_def(IntegerAttr[I64], prop_name="len")
    broadcast = opt_prop_def(UnitAttr)
    FIELDS: ClassVar[tuple[str, ...]] = ("dst", "lhs", "rhs", "len", "broadcast")
    ADDRESSES: ClassVar[tuple[str, ...]] = ("dst", "lhs", "rhs")

    def __init__(
        self,
        dst: DenseArrayBase,
        lhs: DenseArrayBase,
        rhs: DenseArrayBase,
        length: int,
        broadcast: bool = False,
    ):
        props: dict[str, Attribute] = {"dst": dst, "lhs": lhs, "rhs": rhs, "len": _int(length)}
        if broadcast:
            props["broadcast"] = UnitAttr()
        super().__init__(properties=props)

    def local_accesses(self) -> list[LocalAccess]:
        n = _val(self.length)
        return [
            LocalAccess("dst", n),
            LocalAccess("lhs", n),
            LocalAccess("rhs", 1 if self.broadcast is not None else n),
        ]


@irdl_op_definition
class VAddOp(VectorBinaryOp):
    name = "pim_isa.vadd"


@irdl_op_definition
class VSubOp(VectorBinaryOp):
    name = "pim_isa.vsub"


@irdl_op_definition
class VMulOp(VectorBinaryOp):
    name = "pim_isa.vmul"


@irdl_op_definition
class VDivOp(VectorBinaryOp):
    name = "pim_isa.vdiv"


@irdl_op_definition
class VMaxOp(VectorBinaryOp):
    name = "pim_isa.vmax"


@irdl_op_definition
class VMinOp(VectorBinaryOp):
    name = "pim_isa.vmin"


class VectorUnaryOp(InstrOp, ABC):
    """dst[i] = f(src[i]) for i < len."""

    dst = prop_def(I64_ARRAY)
    src = prop_def(I64_ARRAY)
    length = prop_def(IntegerAttr[I64], prop_name="len")
    FIELDS: ClassVar[tuple[str, ...]] = ("dst", "src", "len")
    ADDRESSES: ClassVar[tuple[str, ...]] = ("dst", "src")

    def __init__(self, dst: DenseArrayBase, src: DenseArrayBase, length: int, **params: float):
        props: dict[str, Attribute] = {"dst": dst, "src": src, "len": _int(length)}
        props.update({k: FloatAttr(float(v), f64) for k, v in params.items()})
        super().__init__(properties=props)

    def local_accesses(self) -> list[LocalAccess]:
        n = _val(self.length)
        return [LocalAccess("dst", n), LocalAccess("src", n)]


@irdl_op_definition
class VCopyOp(VectorUnaryOp):
    name = "pim_isa.vcopy"


@irdl_op_definition
class VReluOp(VectorUnaryOp):
    name = "pim_isa.vrelu"


@irdl_op_definition
class VSigmoidOp(VectorUnaryOp):
    name = "pim_isa.vsigmoid"


@irdl_op_definition
class VTanhOp(VectorUnaryOp):
    name = "pim_isa.vtanh"


@irdl_op_definition
class VExpOp(VectorUnaryOp):
    name = "pim_isa.vexp"


@irdl_op_definition
class VScaleOp(VectorUnaryOp):
    """dst[i] = factor * src[i] (e.g. the 1/k of an average pool)."""

    name = "pim_isa.vscale"
    factor = prop_def(FloatAttr)
    FIELDS: ClassVar[tuple[str, ...]] = ("dst", "src", "len", "factor")


@irdl_op_definition
class VPowOp(VectorUnaryOp):
    """dst[i] = src[i] ** exponent."""

    name = "pim_isa.vpow"
    exponent = prop_def(FloatAttr)
    FIELDS: ClassVar[tuple[str, ...]] = ("dst", "src", "len", "exponent")


@irdl_op_definition
class VLeakyReluOp(VectorUnaryOp):
    """dst[i] = src[i] if src[i] >= 0 else alpha * src[i]."""

    name = "pim_isa.vleaky_relu"
    alpha = prop_def(FloatAttr)
    FIELDS: ClassVar[tuple[str, ...]] = ("dst", "src", "len", "alpha")


@irdl_op_definition
class VFakeQuantOp(VectorUnaryOp):
    """dst[i] = (min(max(rint(src[i] / scale) + zero_point, min), max) - zero_point) * scale:
    a quantize-dequantize pair of a QDQ model (nn.fake_quant)."""

    name = "pim_isa.vfake_quant"
    scale = prop_def(FloatAttr)
    zero_point = prop_def(FloatAttr)
    lo = prop_def(FloatAttr, prop_name="min")
    hi = prop_def(FloatAttr, prop_name="max")
    FIELDS: ClassVar[tuple[str, ...]] = ("dst", "src", "len", "scale", "zero_point", "min", "max")


@irdl_op_definition
class VClipOp(VectorUnaryOp):
    """dst[i] = min(max(src[i], min), max)."""

    name = "pim_isa.vclip"
    lo = prop_def(FloatAttr, prop_name="min")
    hi = prop_def(FloatAttr, prop_name="max")
    FIELDS: ClassVar[tuple[str, ...]] = ("dst", "src", "len", "min", "max")

    def verify_(self) -> None:
        super().verify_()
        if self.lo.value.data > self.hi.value.data:
            _fail(self, f"min ({self.lo.value.data}) must be <= max ({self.hi.value.data})")


@irdl_op_definition
class VReduceOp(InstrOp):
    """dst[0] = sum or max of src[0:len]."""

    name = "pim_isa.vreduce"
    kind = prop_def(enum_constr(ReduceKindAttr))
    dst = prop_def(I64_ARRAY)
    src = prop_def(I64_ARRAY)
    length = prop_def(IntegerAttr[I64], prop_name="len")
    FIELDS: ClassVar[tuple[str, ...]] = ("kind", "dst", "src", "len")
    ADDRESSES: ClassVar[tuple[str, ...]] = ("dst", "src")

    def __init__(self, kind: str, dst: DenseArrayBase, src: DenseArrayBase, length: int):
        super().__init__(
            properties={
                "kind": ReduceKindAttr(ReduceKind(kind)),
                "dst": dst,
                "src": src,
                "len": _int(length),
            }
        )

    def local_accesses(self) -> list[LocalAccess]:
        return [LocalAccess("dst", 1), LocalAccess("src", _val(self.length))]

    def verify_(self) -> None:
        super().verify_()


@irdl_op_definition
class VPoolOp(InstrOp):
    """Pooling over `count` vectors `step` elements apart:
    dst[j] = reduce_{k < count} src[j + k*step] for j < len; kind max, avg (sum / count) or sum."""

    name = "pim_isa.vpool"
    kind = prop_def(enum_constr(PoolKindAttr))
    dst = prop_def(I64_ARRAY)
    src = prop_def(I64_ARRAY)
    length = prop_def(IntegerAttr[I64], prop_name="len")
    count = prop_def(IntegerAttr[I64])
    step = prop_def(IntegerAttr[I64])
    FIELDS: ClassVar[tuple[str, ...]] = ("kind", "dst", "src", "len", "count", "step")
    ADDRESSES: ClassVar[tuple[str, ...]] = ("dst", "src")

    def __init__(
        self,
        kind: str,
        dst: DenseArrayBase,
        src: DenseArrayBase,
        length: int,
        count: int,
        step: int,
    ):
        super().__init__(
            properties={
                "kind": PoolKindAttr(PoolKind(kind)),
                "dst": dst,
                "src": src,
                "len": _int(length),
                "count": _int(count),
                "step": _int(step),
            }
        )

    def local_accesses(self) -> list[LocalAccess]:
        n = _val(self.length)
        return [
            LocalAccess("dst", n),
            LocalAccess("src", (_val(self.count) - 1) * _val(self.step) + n),
        ]

    def verify_(self) -> None:
        super().verify_()
        if _val(self.count) < 1 or _val(self.step) < 0:
            _fail(self, "count must be >= 1 and step >= 0")


class _CommOp(InstrOp, ABC):
    peer = prop_def(IntegerAttr[I64])
    length = prop_def(IntegerAttr[I64], prop_name="len")
    tag = prop_def(IntegerAttr[I64])
    # a token (negative tag) may name the DRAM buffer whose stores it announces: the send then
    # waits only for its core's stores to that buffer to land, and after the recv only loads
    # of that buffer wait for it (without: all stores before it / all loads after it)
    buffer = opt_prop_def(StringAttr)
    OPTIONAL_FIELDS: ClassVar[tuple[str, ...]] = ("buffer",)

    @staticmethod
    def _props(
        peer: int, addr_name: str, addr: DenseArrayBase, length: int, tag: int, buffer: str | None
    ) -> dict[str, Attribute]:
        props: dict[str, Attribute] = {
            "peer": _int(peer),
            addr_name: addr,
            "len": _int(length),
            "tag": _int(tag),
        }
        if buffer is not None:
            props["buffer"] = StringAttr(buffer)
        return props

    @property
    def token_buffer(self) -> str | None:
        return None if self.buffer is None else self.buffer.data

    def verify_(self) -> None:
        super().verify_()
        if self.buffer is not None and _val(self.tag) >= 0:
            _fail(self, "only a token (a negative tag) names a buffer")


@irdl_op_definition
class SendOp(_CommOp):
    """Send `len` elements at `src` to core `peer` (rendezvous with its recv of the same tag)."""

    name = "pim_isa.send"
    src = prop_def(I64_ARRAY)
    FIELDS: ClassVar[tuple[str, ...]] = ("peer", "src", "len", "tag", "buffer")
    ADDRESSES: ClassVar[tuple[str, ...]] = ("src",)

    def __init__(
        self, peer: int, src: DenseArrayBase, length: int, tag: int, buffer: str | None = None
    ):
        super().__init__(properties=_CommOp._props(peer, "src", src, length, tag, buffer))

    def local_accesses(self) -> list[LocalAccess]:
        return [LocalAccess("src", _val(self.length))]


@irdl_op_definition
class RecvOp(_CommOp):
    """Receive `len` elements from core `peer` into `dst`."""

    name = "pim_isa.recv"
    dst = prop_def(I64_ARRAY)
    FIELDS: ClassVar[tuple[str, ...]] = ("peer", "dst", "len", "tag", "buffer")
    ADDRESSES: ClassVar[tuple[str, ...]] = ("dst",)

    def __init__(
        self, peer: int, dst: DenseArrayBase, length: int, tag: int, buffer: str | None = None
    ):
        super().__init__(properties=_CommOp._props(peer, "dst", dst, length, tag, buffer))

    def local_accesses(self) -> list[LocalAccess]:
        return [LocalAccess("dst", _val(self.length))]


@irdl_op_definition
class BarrierOp(InstrOp):
    """Wait until every core of `cores` has reached this barrier (the same number of times)."""

    name = "pim_isa.barrier"
    cores = prop_def(I64_ARRAY)
    FIELDS: ClassVar[tuple[str, ...]] = ("cores",)

    def __init__(self, cores: Sequence[int]):
        super().__init__(properties={"cores": i64_array(cores)})

    def verify_(self) -> None:
        group = ints(self.cores)
        if len(group) < 2 or len(set(group)) != len(group):
            _fail(self, f"cores must list at least two distinct cores, got {list(group)}")


# --- partition-wide checks ---------------------------------------------------------------------


def _nest(block: Block, loops: tuple[int, ...] = ()) -> Iterator[tuple[InstrOp, tuple[int, ...]]]:
    """Every instruction of `block` with the trip counts of its enclosing loops."""
    for op in block.ops:
        if isinstance(op, LoopOp):
            yield from _nest(op.body.block, (*loops, op.trip_count))
        elif isinstance(op, InstrOp):
            yield op, loops


def address_span(values: Sequence[int], loops: Sequence[int]) -> tuple[int, int]:
    """(lowest, highest) start address an address array takes over its loop nest."""
    base, strides = values[0], values[1:] or (0,) * len(loops)
    extents = [s * (n - 1) for s, n in zip(strides, loops, strict=True)]
    return base + sum(min(0, e) for e in extents), base + sum(max(0, e) for e in extents)


class _PartitionChecker:
    """The verifier of one `pim_isa.partition`; see the module docstring for the rules."""

    def __init__(self, partition: PartitionOp):
        self.partition = partition
        program = partition.parent_op()
        self.program = program if isinstance(program, ProgramOp) else None
        self.chip: Chip | None = enclosing_chip(partition)
        self.buffers = (
            {b.buffer_name: b.elements for b in self.program.buffers()} if self.program else {}
        )

    def fail(self, op: Operation, core: int | None, message: str) -> None:
        where = f"partition {self.partition.number}"
        if core is not None:
            where = f"core {core} of {where}"
        raise VerifyException(f"'{op.name}' on {where}: {message}")

    def run(self) -> None:
        cores = self.partition.cores()
        ids = [c.number for c in cores]
        for core in cores:
            if core.number < 0 or (self.chip and core.number >= self.chip.cores):
                limit = f"0..{self.chip.cores - 1}" if self.chip else ">= 0"
                self.fail(core, None, f"core id {core.number} is out of range ({limit})")
        duplicates = sorted(i for i, n in Counter(ids).items() if n > 1)
        if duplicates:
            self.fail(self.partition, None, f"core {duplicates[0]} has two programs")
        sends: Counter[tuple[int, int, int, int]] = Counter()
        recvs: Counter[tuple[int, int, int, int]] = Counter()
        barriers: dict[tuple[int, ...], Counter[int]] = {}
        for core in cores:
            me = core.number
            for op, loops in _nest(core.body.block):
                self.check_instruction(op, me, loops)
                times = math.prod(loops)
                if isinstance(op, SendOp | RecvOp):
                    peer = _val(op.peer)
                    if peer == me or peer not in ids:
                        self.fail(op, me, f"peer core {peer} is not another core of this partition")
                    key = (me, peer) if isinstance(op, SendOp) else (peer, me)
                    target = sends if isinstance(op, SendOp) else recvs
                    target[(*key, _val(op.tag), _val(op.length))] += times
                elif isinstance(op, BarrierOp):
                    group = ints(op.cores)
                    if me not in group:
                        self.fail(
                            op,
                            me,
                            f"core {me} waits at a barrier of cores {list(group)} that excludes it",
                        )
                    barriers.setdefault(group, Counter())[me] += times
        self.check_messages(sends, recvs)
        for group, reached in barriers.items():
            counts = {c: reached.get(c, 0) for c in group}
            if len(set(counts.values())) > 1:
                detail = ", ".join(f"core {c}: {n}" for c, n in counts.items())
                self.fail(
                    self.partition,
                    None,
                    f"barrier of cores {list(group)} is reached unequally often ({detail})",
                )

    def check_messages(
        self, sends: Counter[tuple[int, int, int, int]], recvs: Counter[tuple[int, int, int, int]]
    ) -> None:
        for key in sorted(set(sends) | set(recvs)):
            if sends[key] != recvs[key]:
                src, dst, tag, length = key
                self.fail(
                    self.partition,
                    None,
                    f"{sends[key]} send(s) from core {src} to core {dst} (tag {tag}, len {length}) "
                    f"but {recvs[key]} matching recv(s) on core {dst}",
                )

    def check_instruction(self, op: InstrOp, core: int, loops: tuple[int, ...]) -> None:
        for name in op.ADDRESSES:
            if not isinstance(op.properties.get(name), DenseArrayBase):
                continue  # missing or mistyped: the instruction's own verifier names it
            values = ints(op.properties[name])  # type: ignore[arg-type]
            if len(values) not in (1, 1 + len(loops)):
                self.fail(
                    op,
                    core,
                    f"address '{name}' has {len(values) - 1} stride(s) but the instruction is "
                    f"inside {len(loops)} loop(s); give [base] or [base, one stride per loop]",
                )
        elem = self.program.element_bytes if self.program else None
        elem = elem if elem and elem >= 1 else None  # the program reports a bad elem_bytes
        chip = self.chip
        for access in op.local_accesses():
            values = ints(op.properties[access.prop])  # type: ignore[arg-type]
            lo, hi = address_span(values, loops)
            if lo < 0:
                self.fail(op, core, f"address '{access.prop}' reaches {lo}, below 0")
            if not access.packed_weights and elem is not None and any(v % elem for v in values):
                self.fail(
                    op,
                    core,
                    f"address '{access.prop}' {list(values)} is not aligned to elem_bytes {elem}",
                )
            if chip is None or (elem is None and not access.packed_weights):
                continue
            size = (
                math.ceil(access.count * chip.weight_bits / 8)
                if access.packed_weights
                else access.count * (elem or 1)
            )
            if hi + size > chip.local_memory_bytes:
                self.fail(
                    op,
                    core,
                    f"local memory range [{hi}, {hi + size}) of '{access.prop}' exceeds "
                    f"local_memory_bytes {chip.local_memory_bytes} of chip '{chip.name}'",
                )
        if isinstance(op, LoadOp | StoreOp | _BlockTransfer) and op.buffer.data in self.buffers:
            lo, hi = address_span(ints(op.offset), loops)
            size = self.buffers[op.buffer.data]
            end = hi + op.dram_extent()
            if lo < 0 or end > size:
                self.fail(
                    op,
                    core,
                    f"DRAM elements [{lo}, {end}) are outside buffer '{op.buffer.data}' of "
                    f"{size} elements",
                )
        if chip is not None and isinstance(op, WrXbarOp | MvmOp):
            xbar, rows, cols = _val(op.xbar), _val(op.rows), _val(op.cols)
            if xbar >= chip.crossbars_per_core:
                self.fail(
                    op, core, f"crossbar {xbar} is out of range (0..{chip.crossbars_per_core - 1})"
                )
            if rows > chip.crossbar_rows or cols * chip.cols_per_weight > chip.crossbar_cols:
                self.fail(
                    op,
                    core,
                    f"block of {rows} rows x {cols} weights does not fit a {chip.crossbar_rows}x"
                    f"{chip.crossbar_cols} crossbar ({chip.cols_per_weight} column(s) per weight)",
                )


# --- running a program from @main ----------------------------------------------------------------


@irdl_op_definition
class ExecuteOp(IRDLOperation):
    """Run the module's `pim_isa.program` on @main's values: the host writes each operand into
    the DRAM buffer named in `inputs` (row-major), every partition runs, and each result is read
    back from the buffer named in `outputs`. It makes a lowered module executable by pim-run."""

    name = "pim_isa.execute"
    args = var_operand_def(TensorType[Attribute])
    inputs = prop_def(ArrayAttr[StringAttr])
    outputs = prop_def(ArrayAttr[StringAttr])
    results_ = var_result_def(TensorType[Attribute])
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = "$args attr-dict `:` functional-type($args, $results_)"

    def __init__(
        self,
        args: Sequence[Operation | SSAValue],
        inputs: Sequence[str],
        outputs: Sequence[str],
        result_types: Sequence[Attribute],
    ):
        super().__init__(
            operands=[list(args)],
            result_types=[list(result_types)],
            properties={
                "inputs": ArrayAttr([StringAttr(n) for n in inputs]),
                "outputs": ArrayAttr([StringAttr(n) for n in outputs]),
            },
        )

    @property
    def input_names(self) -> list[str]:
        return [a.data for a in self.inputs.data]

    @property
    def output_names(self) -> list[str]:
        return [a.data for a in self.outputs.data]

    def verify_(self) -> None:
        if len(self.input_names) != len(self.args) or len(self.output_names) != len(self.results_):
            _fail(self, "needs one buffer name per operand in 'inputs' and per result in 'outputs'")
        module = self.parent_op()
        while module is not None and not isinstance(module, ModuleOp):
            module = module.parent_op()
        program = find_program(module) if module is not None else None
        if program is None:
            _fail(self, "the module holds no pim_isa.program to execute")
        assert program is not None
        buffers = {b.buffer_name: b for b in program.buffers()}
        pairs = [
            *zip(self.input_names, self.args.types, strict=True),
            *zip(self.output_names, self.results_.types, strict=True),
        ]
        for name, t in pairs:
            if name not in buffers:
                _fail(self, f"names buffer '{name}', which the program does not declare")
            assert isinstance(t, TensorType)
            if math.prod(t.get_shape()) != buffers[name].elements:
                _fail(
                    self,
                    f"buffer '{name}' holds {buffers[name].elements} elements but the "
                    f"value {t} has {math.prod(t.get_shape())}",
                )


# --- lookup for emitters and interpreters ------------------------------------------------------


def find_program(module: ModuleOp) -> ProgramOp | None:
    """The module's pim_isa.program (at top level or inside a func), if any."""
    for op in module.walk():
        if isinstance(op, ProgramOp):
            return op
    return None


PimIsa = Dialect(
    "pim_isa",
    [
        ProgramOp,
        BufferOp,
        PartitionOp,
        CoreOp,
        LoopOp,
        ExecuteOp,
        LdWeightOp,
        WrXbarOp,
        LoadOp,
        StoreOp,
        LoadBlockOp,
        StoreBlockOp,
        GatherOp,
        MvmOp,
        VAddOp,
        VSubOp,
        VMulOp,
        VDivOp,
        VMaxOp,
        VMinOp,
        VCopyOp,
        VReluOp,
        VSigmoidOp,
        VTanhOp,
        VExpOp,
        VScaleOp,
        VPowOp,
        VLeakyReluOp,
        VClipOp,
        VFakeQuantOp,
        VReduceOp,
        VPoolOp,
        SendOp,
        RecvOp,
        BarrierOp,
    ],
    [BufferRoleAttr, LayoutAttr, ReduceKindAttr, PoolKindAttr],
)
