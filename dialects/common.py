"""Helpers every pimdsl dialect shares: integer-array properties and tensor types.

The dialects re-export them (`nn.ints`, `crossbar.ints`, ...), so callers keep writing the
dialect they work with; this module is the one definition."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import cast

from xdsl.dialects.builtin import (
    DenseArrayBase,
    Float32Type,
    IntegerType,
    TensorType,
    f32,
    i64,
)
from xdsl.ir import Attribute, SSAValue


def i64_array(values: Sequence[int]) -> DenseArrayBase:
    """An i64 array property (cached: attributes are immutable, and a lowered program repeats
    the same few thousand address arrays; building each anew dominated the lowering time)."""
    return _i64_array(tuple(int(v) for v in values))


@lru_cache(maxsize=65536)
def _i64_array(values: tuple[int, ...]) -> DenseArrayBase:
    return DenseArrayBase.from_list(i64, list(values))


@lru_cache(maxsize=8192)
def ints(attr: DenseArrayBase) -> tuple[int, ...]:
    """The values of an i64 array property (cached: decoding is the verifiers' main cost on
    big programs). The properties are declared as plain DenseArrayBase; these hold i64."""
    return tuple(int(v) for v in cast(DenseArrayBase[IntegerType], attr).get_values())


def shape_of(value: SSAValue | Attribute) -> tuple[int, ...]:
    """The shape of a tensor value or type."""
    t = value.type if isinstance(value, SSAValue) else value
    assert isinstance(t, TensorType)
    return tuple(t.get_shape())


def tensor(shape: Sequence[int]) -> TensorType[Float32Type]:
    """An f32 tensor type."""
    return TensorType(f32, list(shape))
