"""What every step's code generator works with: the partition's per-core code (`Emit`), one
step's local memory (`Arena`) and the loops that cover a feature map or a long row in pieces
that fit local memory.

Every step runs inside the per-image loop "n" that each core opens around its partition body,
reads its inputs from DRAM and writes its output to DRAM (see placement.py for the layouts).
Local memory is allocated per step and core by a bump allocator (`Arena`): a step's buffers
are dead once it ends, so the next step reuses the space. Loops inside a step go over output
windows ("oy", "ox"), rows ("y") and chunks ("k"); every local address inside them is
loop-invariant, every DRAM address affine, so a loop is one strided transfer per iteration.
The step families: emit_weight.py (weight layers, with weight_inputs.py), emit_pool.py,
emit_elementwise.py, emit_layout.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from xdsl.dialects.builtin import DenseArrayBase
from xdsl.ir import Operation

from pimdsl.chip import Chip
from pimdsl.errors import PimError
from pimdsl.isa.builder import Aff, CoreCode
from pimdsl.isa.placement import Place

# A unary vector op applied in place: (dst, src, len) -> instruction.
Unary = Callable[[DenseArrayBase, DenseArrayBase, int], Operation]


@dataclass
class Arena:
    """Bump allocation of one core's local memory for one step (byte addresses)."""

    size: int
    elem: int
    what: str
    top: int = 0

    def take(self, elements: int) -> int:
        addr = self.top
        self.top += elements * self.elem
        if self.top > self.size:
            raise PimError(
                f"crossbar-to-isa: {self.what} needs {self.top} bytes of local memory but a core "
                f"has {self.size}.",
                hint="Use a chip with more local memory, or a smaller element size (--elem-bytes).",
            )
        return addr


@dataclass
class Emit:
    """What step code generation needs: the chip, the partition's per-core code, counters."""

    chip: Chip
    elem: int
    images: int
    cores: dict[int, CoreCode]
    tag: int = 0
    vector_work: dict[int, int] = field(default_factory=dict)
    chunk_key: tuple[float, ...] | None = (
        None  # the element schedule's key of the step being emitted
    )
    tile_rows: int | None = None  # at most this many output rows per line-buffer tile

    @property
    def local_elems(self) -> int:
        return self.chip.local_memory_bytes // self.elem

    def code(self, core: int) -> CoreCode:
        if core not in self.cores:
            self.cores[core] = CoreCode(core, chunk_key=self.chunk_key)
        return self.cores[core]

    def set_chunk_key(self, key: tuple[float, ...]) -> None:
        """The element schedule: what every core emits in its image loop from now on belongs
        to a chunk of this key (`CoreCode.chunk_key`)."""
        self.chunk_key = key
        for code in self.cores.values():
            code.chunk_key = key

    def arena(self, what: str) -> Arena:
        return Arena(self.chip.local_memory_bytes, self.elem, what)

    def next_tag(self) -> int:
        self.tag += 1
        return self.tag


def chunks(length: int, budget: int) -> list[tuple[int, int, int]]:
    """Cover [0, length) with (start, size, count) runs of equal chunks (at most two runs)."""
    size = max(1, min(length, budget))
    full = length // size
    out = [(0, size, full)] if full else []
    if length % size:
        out.append((full * size, length % size, 1))
    return out


def by_row_chunks(
    e: Emit,
    code: CoreCode,
    src: Place,
    per_pixel: int,
    move: Callable[[Aff, Aff, int], None],
    rows: tuple[int, int] | None = None,
) -> None:
    """Each row of feature map `src` (or rows (first, count)) in chunks of as many pixels as
    fit local memory at `per_pixel` elements a pixel: `move(y, x, pixels)` loads and stores
    one chunk."""
    px = max(1, min(src.w, (e.local_elems - 1) // per_pixel))
    first, count = rows or (0, src.h)
    code.open_loop("y", count)
    y = Aff.of(first, y=1)
    for start, size, count in chunks(src.w, px):
        code.open_loop("k", count)
        move(y, Aff.of(start, k=size), size)
        code.close_loop()
    code.close_loop()


def open_pixels(code: CoreCode, src: Place, out: Place) -> tuple[Aff, Aff]:
    """Open the loops over a feature map's pixels (rows and columns; all pixels as one loop
    when neither map has a halo) and return a pixel's offsets in `src` and `out`; the caller
    adds the per-pixel code and closes both loops."""
    padded = src.padded or out.padded
    code.open_loop("y", src.h if padded else 1)
    code.open_loop("x", src.w if padded else src.h * src.w)
    y, xx = Aff.of(0, y=1), Aff.of(0, x=1)
    at_in = src.at(y, xx) if padded else Aff.of(0, n=src.image, x=src.c)
    at_out = out.at(y, xx) if padded else Aff.of(0, n=out.image, x=src.c)
    return at_in, at_out
