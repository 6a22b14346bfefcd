"""A weight layer's crossbar ops as *output blocks*.

`crossbar.mvm`, `accumulate`, `concat` and `bias` only ever add and place matrix products, so
their result is a set of disjoint blocks of the output [N, windows, C] (or [N, C]): window range
x column range, each the sum of some *terms* (one tile applied to the same windows of its
input) plus bias slices. `crossbar-to-isa` lowers each block to a loop over its windows on the
cores of its tiles. Regions no block covers are zero (a layer piece's channels computed in
another partition).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from xdsl.ir import SSAValue

from pimdsl.dialects import crossbar as xb
from pimdsl.errors import PimError


@dataclass(frozen=True)
class Conv:
    """The unfolding of a convolution input (crossbar.im2col)."""

    kernel: tuple[int, int]
    strides: tuple[int, int]
    pads: tuple[int, int, int, int]
    dilations: tuple[int, int]
    out_hw: tuple[int, int]


@dataclass(frozen=True)
class Source:
    """What a tile multiplies: a stored value, unfolded by `conv` or read as is."""

    value: SSAValue
    conv: Conv | None


@dataclass(frozen=True)
class Term:
    tile: xb.TileOp
    source: Source
    in_rows: tuple[int, int]
    tile_col: int  # the tile column that produces the block's first column
    shift: int = 0  # source window = block window + shift
    core: int = -1  # the tile's core, xbar and block shape (rows, cols), read once
    xbar: int = -1
    shape: tuple[int, int] = (0, 0)


def term(tile: xb.TileOp, source: Source, in_rows: tuple[int, int], shift: int) -> Term:
    return Term(tile, source, in_rows, 0, shift, tile.core_index, tile.xbar_index, tile.block_shape)


@dataclass
class Block:
    w0: int
    w1: int
    c0: int
    c1: int
    terms: list[Term] = field(default_factory=list)
    bias: list[tuple[str, int]] = field(default_factory=list)  # (weight, index of column c0)

    @property
    def cols(self) -> int:
        return self.c1 - self.c0

    def cut(self, w0: int, w1: int, c0: int, c1: int) -> Block:
        dc = c0 - self.c0
        return Block(
            w0,
            w1,
            c0,
            c1,
            [replace(t, tile_col=t.tile_col + dc) for t in self.terms],
            [(name, col + dc) for name, col in self.bias],
        )


@dataclass
class Linear:
    """The symbolic value of a crossbar result of shape [N, W, C] (rank 3) or [N, C]."""

    shape: tuple[int, ...]
    blocks: list[Block]

    @property
    def windows(self) -> int:
        return self.shape[1] if len(self.shape) == 3 else 1

    @property
    def cols(self) -> int:
        return self.shape[-1]

    def shifted(self, dw: int, dc: int) -> list[Block]:
        return [
            Block(
                b.w0 + dw,
                b.w1 + dw,
                b.c0 + dc,
                b.c1 + dc,
                [replace(t, shift=t.shift - dw) for t in b.terms],
                list(b.bias),
            )
            for b in self.blocks
        ]


def _cuts(blocks: list[Block]) -> tuple[list[int], list[int]]:
    ws = sorted({x for b in blocks for x in (b.w0, b.w1)})
    cs = sorted({x for b in blocks for x in (b.c0, b.c1)})
    return ws, cs


def _refine(blocks: list[Block], ws: list[int], cs: list[int]) -> list[Block]:
    out = []
    for b in blocks:
        wcuts = [b.w0, *[w for w in ws if b.w0 < w < b.w1], b.w1]
        ccuts = [b.c0, *[c for c in cs if b.c0 < c < b.c1], b.c1]
        for w0, w1 in zip(wcuts, wcuts[1:], strict=False):
            for c0, c1 in zip(ccuts, ccuts[1:], strict=False):
                out.append(b.cut(w0, w1, c0, c1))
    return out


def mvm(op: xb.MvmOp, source: Source) -> Linear:
    tile = op.tile.owner
    assert isinstance(tile, xb.TileOp)
    shape = tuple(xb.shape_of(op.output))
    lo, hi = xb.ints(op.in_rows)
    shift = xb.ints(op.windows)[0] if op.windows is not None else 0
    windows = shape[1] if len(shape) == 3 else 1
    return Linear(shape, [Block(0, windows, 0, shape[-1], [term(tile, source, (lo, hi), shift)])])


def zeros(shape: tuple[int, ...]) -> Linear:
    return Linear(shape, [])


def concat(parts: list[Linear], axis: int, shape: tuple[int, ...]) -> Linear:
    rank = len(shape)
    axis %= rank
    blocks: list[Block] = []
    offset = 0
    for p in parts:
        if axis == rank - 1:
            blocks += p.shifted(0, offset)
            offset += p.cols
        elif axis == 1 and rank == 3:
            blocks += p.shifted(offset, 0)
            offset += p.windows
        else:
            raise PimError(
                f"crossbar-to-isa: crossbar.concat along axis {axis} of rank {rank} "
                "is not supported (only windows and channels)."
            )
    return Linear(shape, blocks)


def accumulate(parts: list[Linear]) -> Linear:
    everything = [b for p in parts for b in p.blocks]
    ws, cs = _cuts(everything)
    merged: dict[tuple[int, int, int, int], Block] = {}
    for b in _refine(everything, ws, cs):
        key = (b.w0, b.w1, b.c0, b.c1)
        if key in merged:
            merged[key].terms += b.terms
            merged[key].bias += b.bias
        else:
            merged[key] = b
    return Linear(parts[0].shape, sorted(merged.values(), key=lambda b: (b.w0, b.c0)))


def complete(lin: Linear) -> Linear:
    """The same value with every (window, column) cell covered by a block (empty ones added)."""
    ws = sorted({0, lin.windows, *[x for b in lin.blocks for x in (b.w0, b.w1)]})
    cs = sorted({0, lin.cols, *[x for b in lin.blocks for x in (b.c0, b.c1)]})
    have = {(b.w0, b.c0): b for b in _refine(lin.blocks, ws, cs)}
    blocks = []
    for w0, w1 in zip(ws, ws[1:], strict=False):
        for c0, c1 in zip(cs, cs[1:], strict=False):
            blocks.append(have.get((w0, c0)) or Block(w0, w1, c0, c1))
    return Linear(lin.shape, blocks)


def bias(lin: Linear, weight: str, cols: tuple[int, int]) -> Linear:
    full = complete(lin)
    for b in full.blocks:
        b.bias.append((weight, cols[0] + b.c0))
    return full


def merge_columns(lin: Linear) -> Linear:
    """Join neighbouring blocks of one window range that have no terms or bias (zeros)."""
    return Linear(lin.shape, [b for b in lin.blocks if b.terms or b.bias])
