"""`-t pim-asm`: the program as readable assembly.

One instruction a line, `mnemonic field=value ...` in the op's field order. Loops stay loops:
`loop N iK {` ... `}` with the body indented, where `iK` is the loop's index at depth K
(outermost 0). An address prints as its base plus `+s*iK` for each non-zero stride (`@` marks
local memory: `@4096+64*i0`; a DRAM offset has no `@`). Partitions and cores are sections
(`.partition P`, `.core C`) with comment lines at partition boundaries. Example:

    .partition 0
    .core 0
        ld_weight  weight=conv1.weight layout=oihw rows=0:27 cols=0:16 dst=@0
        loop 64 i0 {
            load       buffer=input offset=0+1*i0 dst=@2048 len=27
            mvm        xbar=0 src=@2048 rows=27 dst=@4096 cols=16 bits=4
        }
"""

from __future__ import annotations

import re
from typing import IO, Any

from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block

from pimdsl.dialects.pim_isa import LoopOp, ints
from pimdsl.emit.program import Address, instruction_fields, program_of
from pimdsl.module_attrs import get_batch, get_chip

INDENT = "    "
_BARE = re.compile(r"^[A-Za-z0-9_.\-/:]+$")
_RANGE_FIELDS = ("rows", "cols")  # [lo, hi) ranges of ld_weight print as lo:hi


def format_address(addr: Address, local: bool) -> str:
    text = ("@" if local else "") + str(addr.base)
    for depth, stride in enumerate(addr.strides):
        if stride:
            text += f"{'+' if stride > 0 else '-'}{abs(stride)}*i{depth}"
    return text


def format_value(name: str, value: Any) -> str:
    if isinstance(value, Address):
        return format_address(value, local=name != "offset")
    if isinstance(value, list):
        if name in _RANGE_FIELDS and len(value) == 2:
            return f"{value[0]}:{value[1]}"
        return ",".join(str(v) for v in value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return value if _BARE.match(value) else '"' + value.replace('"', '\\"') + '"'
    return str(value)


def _emit_block(block: Block, depth: int, out: IO[str]) -> None:
    pad = INDENT * (depth + 1)
    for op in block.ops:
        if isinstance(op, LoopOp):
            out.write(f"{pad}loop {op.trip_count} i{depth} {{\n")
            _emit_block(op.body.block, depth + 1, out)
            out.write(f"{pad}}}\n")
            continue
        fields = instruction_fields(op, depth)  # type: ignore[arg-type]
        parts = [
            name if value is True else f"{name}={format_value(name, value)}"
            for name, value in fields
            if value is not False
        ]
        out.write(f"{pad}{op.mnemonic:<10} {' '.join(parts)}".rstrip() + "\n")  # type: ignore[union-attr]


def emit_asm(module: ModuleOp, out: IO[str]) -> None:
    """Write the module's pim_isa program to `out` as pim-asm text."""
    program = program_of(module)
    chip = get_chip(module, required=False)
    out.write("; pim-asm (pimdsl): local addresses in bytes (@), lengths in elements\n")
    if chip is not None:
        out.write(
            f"; chip {chip.name}: {chip.cores} cores x {chip.crossbars_per_core} crossbars of "
            f"{chip.crossbar_rows}x{chip.crossbar_cols}, {chip.local_memory_bytes} B local memory\n"
        )
    out.write(f"; batch {get_batch(module)}, elem_bytes {program.element_bytes}\n")
    for buffer in program.buffers():
        shape = "x".join(str(d) for d in ints(buffer.shape))
        fill = f" fill={buffer.fill_value!r}" if buffer.fill is not None else ""
        out.write(
            f".buffer {format_value('name', buffer.buffer_name)} {buffer.role.data} {shape}{fill}\n"
        )
    for partition in program.partitions():
        cores = partition.cores()
        ids = ", ".join(str(c.number) for c in cores)
        out.write(f"\n; ==== partition {partition.number}: cores {ids} ====\n")
        out.write(f".partition {partition.number}\n")
        for core in cores:
            out.write(f".core {core.number}\n")
            _emit_block(core.body.block, 0, out)
        out.write(f"; ==== end of partition {partition.number} ====\n")
