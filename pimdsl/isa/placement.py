"""Where an activation lives in DRAM.

A feature map [N, C, H, W] is stored *padded NHWC*: image n, row y, column x, channel c at
element n*image + ((y + top)*Wp + (x + left))*C + c, with Wp = left + W + right and a halo
`fill`ed before the run (0 for convolutions, -inf for max pools). Channel-last keeps a
window's channels contiguous; the halo makes every convolution and pool window an affine,
in-bounds access, so a loop over windows is one strided load per window and never a branch.
[N, F] and [N, W, C] values are plain row-major (W pixels of C channels, no halo).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pimdsl.isa.builder import Aff

NEG_INF = float("-inf")


@dataclass(frozen=True)
class Place:
    buffer: str
    n: int  # images
    c: int  # channels (features of a rank-2 value)
    h: int
    w: int
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)  # top, left, bottom, right
    fill: float = 0.0
    rank: int = 4  # logical rank of the value (2, 3 or 4)
    # a view of channels [c0, ...) of the map (`c` is then the map's channel pitch): where a
    # concat's producer stores its part (`lower_weight.materialise`)
    c0: int = 0

    @property
    def hp(self) -> int:
        return self.pads[0] + self.h + self.pads[2]

    @property
    def wp(self) -> int:
        return self.pads[1] + self.w + self.pads[3]

    @property
    def image(self) -> int:
        """Elements per image (halo included)."""
        return self.hp * self.wp * self.c

    @property
    def elements(self) -> int:
        return self.n * self.image

    @property
    def padded(self) -> bool:
        return any(self.pads)

    @property
    def shape(self) -> tuple[int, ...]:
        """The buffer's physical shape."""
        if self.rank == 4:
            return (self.n, self.hp, self.wp, self.c)
        if self.rank == 3:
            return (self.n, self.w, self.c)
        return (self.n, self.c)

    def pixel(self, y: Aff | int, x: Aff | int) -> Aff:
        """Element offset (within image 0) of channel 0 of pixel (y, x) of the interior;
        y and x may reach into the halo (negative or past the edge)."""
        y = y if isinstance(y, Aff) else Aff(y)
        x = x if isinstance(x, Aff) else Aff(x)
        return (y + self.pads[0]).scaled(self.wp * self.c) + (x + self.pads[1]).scaled(self.c)

    def at(self, y: Aff | int, x: Aff | int, c: int = 0) -> Aff:
        """Offset of (image n, y, x, c), n being the loop variable "n"."""
        return self.pixel(y, x) + Aff.of(self.c0 + c, n=self.image)


def plain(buffer: str, shape: tuple[int, ...]) -> Place:
    """A row-major value: [N, F] or [N, W, C] (rank > 3 flattened to [N, W=prod(middle), C])."""
    if len(shape) == 2:
        return Place(buffer, shape[0], shape[1], 1, 1, rank=2)
    if len(shape) == 3:
        return Place(buffer, shape[0], shape[2], 1, shape[1], rank=3)
    return Place(buffer, shape[0], shape[-1], 1, math.prod(shape[1:-1]), rank=3)


def feature_map(
    buffer: str, shape: tuple[int, ...], pads: tuple[int, int, int, int], fill: float
) -> Place:
    n, c, h, w = shape
    return Place(buffer, n, c, h, w, pads, fill if any(pads) else 0.0, rank=4)
