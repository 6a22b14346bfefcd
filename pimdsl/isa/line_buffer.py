"""Line buffers: how a convolution core reads its input (one rule for the lowering and the cost
model).

Without a line buffer every output window loads its whole input patch (C' x kh x kw elements
of the core's input channels) from DRAM, so each input element is read about kh*kw/(sh*sw)
times. With one, the core loads, per output row, the *band* of input rows that row's windows
cover ((kh-1)*dh+1 rows x the windows' columns x C' channels, one `load_block`), and forms each
window's input vector locally from the band (`pim_isa.gather`, rows ordered (c, ky, kx) as the
crossbar tiles expect). Each input element is then read about kh/sh times (once per output row
whose band covers it) instead of kh*kw/(sh*sw).

The band is reloaded whole for every output row, not rolled (a rolling buffer would keep the
last kh-sh rows and load only sh new ones, reading each element once, but makes every window
loop carry state from one row to the next; see docs/lowering.md "Line buffers", not done).

`crossbar-to-isa` (pimdsl/isa/codegen.py) emits what `plan` says and the cost model
(pimdsl/cost/model.py) prices `loaded_elements`, which walks the same plan: the two cannot
disagree on a layer's input traffic (tests/test_line_buffer.py checks both against the trace).
"""

from __future__ import annotations

from dataclasses import dataclass

# Local memory a core's line buffers may take, as a share of the core's local memory: the rest
# holds the window vectors, outputs, partial sums and biases of the layer's step.
BAND_SHARE = 2
# Element size the lowering uses unless told otherwise (crossbar-to-isa's `elem-bytes`).
DEFAULT_ELEM_BYTES = 2


@dataclass(frozen=True)
class Window:
    """A convolution's window geometry, as far as its input traffic goes."""

    kernel: tuple[int, int]
    strides: tuple[int, int]
    dilations: tuple[int, int]
    out_hw: tuple[int, int]

    @property
    def band_rows(self) -> int:
        """Input rows one output row's windows cover."""
        return (self.kernel[0] - 1) * self.dilations[0] + 1

    def band_cols(self, nx: int) -> int:
        """Input columns that `nx` adjacent windows of one output row cover."""
        return (nx - 1) * self.strides[1] + (self.kernel[1] - 1) * self.dilations[1] + 1

    def band_elements(self, nx: int, channels: int) -> int:
        return self.band_rows * self.band_cols(nx) * channels


Rect = tuple[int, int, int, int]  # (oy0, rows, ox0, cols) of output windows


def rectangles(w0: int, w1: int, ow: int) -> list[Rect]:
    """Windows w0..w1-1 (row-major over (oy, ox), ow per row) as (oy0, rows, ox0, cols)."""
    out = []
    w = w0
    if w % ow:
        n = min(ow - w % ow, w1 - w)
        out.append((w // ow, 1, w % ow, n))
        w += n
    full = (w1 - w) // ow
    if full:
        out.append((w // ow, full, 0, ow))
        w += full * ow
    if w < w1:
        out.append((w // ow, 1, 0, w1 - w))
    return out


def band_budget(local_memory_bytes: int, elem_bytes: int) -> int:
    """Elements of local memory a core's line buffers may use in one step."""
    return local_memory_bytes // elem_bytes // BAND_SHARE


def strip_width(win: Window, channels: int, budget: int) -> int:
    """The most windows of one output row whose band fits `budget` elements (0: not one)."""
    if win.band_elements(1, channels) > budget:
        return 0
    per_col = win.band_rows * channels
    # band_cols(nx) = (nx-1)*sw + extra <= budget // per_col
    extra = (win.kernel[1] - 1) * win.dilations[1] + 1
    return 1 + (budget // per_col - extra) // win.strides[1]


def split(rects: list[Rect], width: int) -> list[Rect]:
    """Cut every rectangle into column strips of at most `width` windows."""
    out = []
    for oy0, ny, ox0, nx in rects:
        for x in range(ox0, ox0 + nx, width):
            out.append((oy0, ny, x, min(width, ox0 + nx - x)))
    return out


def patch_elements(win: Window, rects: list[Rect], channels: int) -> int:
    """Input elements loaded without a line buffer: every window its whole patch."""
    return sum(ny * nx for _, ny, _, nx in rects) * channels * win.kernel[0] * win.kernel[1]


def plan(win: Window, w0: int, w1: int, channels: int, budget: int) -> list[Rect] | None:
    """The rectangles of output windows (each with its own band per output row) in which a core
    computes windows [w0, w1) of a layer reading `channels` input channels, or None when the
    core loads every window's patch instead: a 1x1 window (the band is the patch), a band too
    big for even one window, or a band that would load more than the patches (strides wider
    than the kernel)."""
    rects = rectangles(w0, w1, win.out_hw[1])
    if win.kernel[0] * win.kernel[1] == 1:
        return None
    width = strip_width(win, channels, budget)
    if width < 1:
        return None
    strips = split(rects, width)
    if band_loads(win, strips, channels) >= patch_elements(win, rects, channels):
        return None
    return strips


def band_loads(win: Window, strips: list[Rect], channels: int) -> int:
    return sum(ny * win.band_elements(nx, channels) for _, ny, _, nx in strips)


def loaded_elements(win: Window, w0: int, w1: int, channels: int, budget: int) -> int:
    """Input elements a core loads to compute windows [w0, w1) from `channels` channels."""
    strips = plan(win, w0, w1, channels, budget)
    if strips is None:
        return patch_elements(win, rectangles(w0, w1, win.out_hw[1]), channels)
    return band_loads(win, strips, channels)
