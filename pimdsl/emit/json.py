"""`-t pim-json`: the program as per-core instruction lists (schema: docs/pim-json.md)."""

from __future__ import annotations

import json
from typing import IO, Any

from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block

from pimdsl.dialects.pim_isa import LoopOp, ints
from pimdsl.emit.program import Address, instruction_fields, program_of
from pimdsl.module_attrs import get_batch, get_chip

FORMAT = "pim-json"
VERSION = 1


def _value(value: Any) -> Any:
    if isinstance(value, Address):
        return {"base": value.base, "strides": list(value.strides)}
    return value


def block_to_json(block: Block, depth: int = 0) -> list[dict[str, Any]]:
    """The instructions of a core body (loops nested as {"op": "loop", "count", "body"})."""
    items: list[dict[str, Any]] = []
    for op in block.ops:
        if isinstance(op, LoopOp):
            items.append(
                {
                    "op": "loop",
                    "count": op.trip_count,
                    "body": block_to_json(op.body.block, depth + 1),
                }
            )
            continue
        item: dict[str, Any] = {"op": op.mnemonic}  # type: ignore[attr-defined]
        item.update((name, _value(v)) for name, v in instruction_fields(op, depth))  # type: ignore[arg-type]
        items.append(item)
    return items


def program_to_json(module: ModuleOp) -> dict[str, Any]:
    """The whole document as a JSON-ready dictionary."""
    program = program_of(module)
    chip = get_chip(module, required=False)
    return {
        "format": FORMAT,
        "version": VERSION,
        "chip": chip.to_dict() if chip is not None else None,
        "batch": get_batch(module),
        "elem_bytes": program.element_bytes,
        "buffers": [
            {
                "name": b.buffer_name,
                "role": b.role.data,
                "shape": list(ints(b.shape)),
                **({"fill": b.fill_value} if b.fill is not None else {}),
            }
            for b in program.buffers()
        ],
        "partitions": [
            {
                "index": p.number,
                "cores": [
                    {"id": c.number, "instructions": block_to_json(c.body.block)} for c in p.cores()
                ],
            }
            for p in program.partitions()
        ],
    }


# Containers printed one entry a line; everything else (an instruction, a buffer, an
# address) goes on one line, so a program reads like its assembly and diffs well.
def _is_container(value: Any) -> bool:
    """A list of objects (buffers, partitions, cores, instructions) or the chip's fields."""
    if isinstance(value, list):
        return any(isinstance(v, dict) for v in value)
    return isinstance(value, dict) and len(value) > 8


def _write(value: Any, out: IO[str], indent: str) -> None:
    inner = indent + " "
    if isinstance(value, dict) and any(_is_container(v) for v in value.values()):
        out.write("{\n")
        for i, (key, item) in enumerate(value.items()):
            out.write(f"{inner}{json.dumps(key, allow_nan=False)}: ")
            _write(item, out, inner)
            out.write(",\n" if i < len(value) - 1 else "\n")
        out.write(indent + "}")
    elif isinstance(value, list) and any(isinstance(v, dict) for v in value):
        out.write("[\n")
        for i, item in enumerate(value):
            out.write(inner)
            _write(item, out, inner)
            out.write(",\n" if i < len(value) - 1 else "\n")
        out.write(indent + "]")
    elif isinstance(value, dict) and len(value) > 8:  # the chip: one field a line
        out.write(json.dumps(value, indent=1, allow_nan=False).replace("\n", "\n" + indent))
    else:
        out.write(json.dumps(value, allow_nan=False))


def emit_json(module: ModuleOp, out: IO[str]) -> None:
    """Write the module's pim_isa program to `out` as pim-json."""
    from pimdsl.strict_json import dumps

    data = program_to_json(module)
    dumps(data, what="pim-json output")  # strict JSON: a NaN/inf is an error naming its key
    _write(data, out, "")
    out.write("\n")
