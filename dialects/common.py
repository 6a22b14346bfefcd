"""Helpers every pimdsl dialect shares: typed property constraints (i64 arrays, string enums)
and tensor types.

The dialects re-export them (`nn.ints`, `crossbar.ints`, ...), so callers keep writing the
dialect they work with; this module is the one definition. docs/dialects.md, "Typed
properties", says which properties are typed how and why."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeAlias, TypeVar, cast

from xdsl.dialects.builtin import (
    I64,
    DenseArrayBase,
    Float32Type,
    TensorType,
    f32,
    i64,
)
from xdsl.ir import Attribute, SSAValue
from xdsl.irdl.constraints import (
    AttrConstraint,
    BaseAttr,
    ParamAttrConstraint,
    VerificationContext,
)
from xdsl.parser import AttrParser
from xdsl.printer import Printer
from xdsl.utils.exceptions import VerifyException
from xdsl.utils.str_enum import StrEnum

I64Array: TypeAlias = DenseArrayBase[I64]


@dataclass(frozen=True)
class _I64ArrayConstraint(ParamAttrConstraint[I64Array]):
    """`DenseArrayBase.constr(i64)` with a fast accept path and a message naming the expected
    form. xDSL checks property constraints while parsing custom syntax and again when
    verifying; the generic check cost 6 us per array (a lowered ResNet18 holds 43,000)."""

    def verify(self, attr: Attribute, constraint_context: VerificationContext) -> None:
        if isinstance(attr, DenseArrayBase) and attr.elt_type == i64:
            return
        raise VerifyException(f"expected an i64 array such as array<i64: 0, 4>, got {attr}")


_generic = DenseArrayBase.constr(i64)
assert isinstance(_generic, ParamAttrConstraint)
I64_ARRAY: AttrConstraint[I64Array] = _I64ArrayConstraint(
    cast(type[I64Array], DenseArrayBase), _generic.param_constrs
)
"""The constraint of every integer-array property: `prop_def(I64_ARRAY)`."""


class BracketedEnum:
    """Mixin for an `EnumAttribute`: MLIR's enum spelling `#dialect.name<value>` (a plain
    dotted-name `EnumAttribute` prints `#dialect.namevalue`, which no parser reads back), and an
    unknown value named in the parse error. List it before `EnumAttribute[...]` in the bases."""

    @classmethod
    def parse_parameter(cls, parser: AttrParser) -> Any:
        enum = cast(type[StrEnum], cls.enum_type)  # pyright: ignore[reportAttributeAccessIssue]
        with parser.in_angle_brackets():
            start = parser.pos
            value = parser.parse_optional_identifier_or_str_literal()
            if value not in enum.__members__.values():
                name = cast(str, cls.name)  # pyright: ignore[reportAttributeAccessIssue]
                parser.raise_error(
                    f"unknown {name} '{value or ''}': expected one of "
                    f"{', '.join(e.value for e in enum)}",
                    start,
                    parser.pos,
                )
            return enum(value)

    def print_parameter(self, printer: Printer) -> None:
        with printer.in_angle_brackets():
            super().print_parameter(printer)  # type: ignore[misc]


@dataclass(frozen=True)
class _EnumConstraint(BaseAttr[Attribute]):
    """`BaseAttr(SomeEnumAttr)` whose message shows the spelling (a string such as
    `kind = "max"`, the form before typed enums, is the likely mistake)."""

    def verify(self, attr: Attribute, constraint_context: VerificationContext) -> None:
        if isinstance(attr, self.attr):
            return
        enum = cast(type[StrEnum], self.attr.enum_type)  # pyright: ignore[reportAttributeAccessIssue]
        values = ", ".join(e.value for e in enum)
        example = f"#{self.attr.name}<{next(iter(enum)).value}>"
        raise VerifyException(
            f"expected a {self.attr.name} value such as {example} (one of {values}), got {attr}"
        )


_EnumAttrT = TypeVar("_EnumAttrT", bound=Attribute)


def enum_constr(attr_type: type[_EnumAttrT]) -> AttrConstraint[_EnumAttrT]:
    """The constraint of a string-enum property: `prop_def(enum_constr(PoolKindAttr))` types
    the property as `PoolKindAttr` and names the spelling when it is violated."""
    return cast(AttrConstraint[_EnumAttrT], _EnumConstraint(attr_type))


class Schedule(StrEnum):
    """How a partition's lowering orders its work (docs/architecture.md): a whole layer at a
    time, the batch through each layer, or element by element through the pipeline."""

    LAYER = "layer"
    BATCH = "batch"
    ELEMENT = "element"


def i64_array(values: Sequence[int]) -> I64Array:
    """An i64 array property (cached: attributes are immutable, and a lowered program repeats
    the same few thousand address arrays; building each anew dominated the lowering time)."""
    return _i64_array(tuple(int(v) for v in values))


@lru_cache(maxsize=65536)
def _i64_array(values: tuple[int, ...]) -> I64Array:
    return DenseArrayBase.from_list(i64, list(values))


@lru_cache(maxsize=8192)
def ints(attr: DenseArrayBase) -> tuple[int, ...]:
    """The values of an i64 array property (cached: decoding is the verifiers' main cost on
    big programs). `I64_ARRAY` properties hold i64."""
    return tuple(int(v) for v in cast(I64Array, attr).get_values())


def shape_of(value: SSAValue | Attribute) -> tuple[int, ...]:
    """The shape of a tensor value or type."""
    t = value.type if isinstance(value, SSAValue) else value
    assert isinstance(t, TensorType)
    return tuple(t.get_shape())


def tensor(shape: Sequence[int]) -> TensorType[Float32Type]:
    """An f32 tensor type."""
    return TensorType(f32, list(shape))
