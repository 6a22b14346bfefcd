"""What both emitters need: the module's program and each instruction's fields as plain values.

Instruction fields come from the op's properties in the order of its `FIELDS`; an address
becomes `(base, strides)` with exactly one stride per enclosing loop (missing strides are 0),
so consumers never deal with the IR's short `[base]` form.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from xdsl.dialects.builtin import (
    DenseArrayBase,
    FloatAttr,
    IntegerAttr,
    ModuleOp,
    StringAttr,
    UnitAttr,
)
from xdsl.dialects.utils import EnumAttribute
from xdsl.ir import Attribute

from pimdsl.dialects.pim_isa import InstrOp, ProgramOp, find_program
from pimdsl.errors import PimError


@dataclass(frozen=True)
class Address:
    base: int
    strides: tuple[int, ...]  # one per enclosing loop, outermost first


def program_of(module: ModuleOp) -> ProgramOp:
    program = find_program(module)
    if program is None:
        raise PimError(
            "the module holds no pim_isa.program, so there is nothing to emit.",
            hint="Lower it to pim_isa first (--lower-to-isa), or emit MLIR with -t mlir.",
        )
    return program


def field_value(attr: Attribute, depth: int, address: bool) -> Any:
    """A property as a plain Python value (addresses as `Address`)."""
    if isinstance(attr, DenseArrayBase):
        values = tuple(int(v) for v in attr.get_values())
        if address:
            strides = values[1:] or (0,) * depth
            return Address(values[0], strides)
        return list(values)
    if isinstance(attr, IntegerAttr):
        return attr.value.data
    if isinstance(attr, FloatAttr):
        return float(attr.value.data)
    if isinstance(attr, StringAttr):
        return attr.data
    if isinstance(attr, EnumAttribute):
        return str(attr.data.value)  # a string enum (kind, layout, role)
    if isinstance(attr, UnitAttr):
        return True
    raise PimError(f"cannot emit the property value {attr}.")  # pragma: no cover - verifier-guarded


def instruction_fields(op: InstrOp, depth: int) -> list[tuple[str, Any]]:
    """(name, value) of every field of `op` in the op's field order; an absent flag
    (`accumulate`, `broadcast`: the only optional properties) is False."""
    fields: list[tuple[str, Any]] = []
    for name in op.FIELDS:
        attr = op.properties.get(name)
        if attr is None and name in op.OPTIONAL_FIELDS:
            continue  # an optional field that is not a flag appears only when set
        value = False if attr is None else field_value(attr, depth, name in op.ADDRESSES)
        fields.append((name, value))
    return fields
