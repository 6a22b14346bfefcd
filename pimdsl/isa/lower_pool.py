"""Emitters of the pools: max and average pools through line buffers, on the cores that stored
a conv's map when several did (`pool_rows`, output rows by the core that stored their window's
centre row), by rows in the element schedule; a global average pool, and an average pool
excluding padding whose one window covers the map, on one core."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pimdsl.dialects import crossbar as xb
from pimdsl.dialects import nn
from pimdsl.errors import PimError
from pimdsl.isa import element
from pimdsl.isa.emit_pool import Pool, global_avgpool, pool
from pimdsl.isa.emitters import VectorTask, shape, vector_emitter, where
from pimdsl.network import pool_excludes_padding
from pimdsl.shapes import pair, quad

if TYPE_CHECKING:
    from pimdsl.isa.state import PartitionState


@vector_emitter(nn.GlobalAvgPoolOp)
def global_average_pool(s: PartitionState, step: VectorTask) -> None:
    s.on_core(step, lambda out: global_avgpool(s.e, step.core, step.ins[0], out, step.what))


@vector_emitter(nn.MaxPoolOp, nn.AvgPoolOp)
def max_or_average_pool(s: PartitionState, step: VectorTask) -> None:
    op, e, core, ins, what = step.op, s.e, step.core, step.ins, step.what
    assert isinstance(op, nn.MaxPoolOp | nn.AvgPoolOp)
    if isinstance(op, nn.AvgPoolOp) and _whole_map_mean(op):
        # one window over the whole map, padding excluded: a global average pool
        global_average_pool(s, step)
        return
    out = s.low.place_for(op.results[0], step.hint)
    if isinstance(op, nn.AvgPoolOp) and any(ins[0].pads[2:]) and op.ceil_mode is not None:
        raise PimError(f"crossbar-to-isa: {where(op)}: ceil_mode average pools are not supported.")
    exclude = pool_excludes_padding(op)
    p = Pool(
        "max" if isinstance(op, nn.MaxPoolOp) else "avg",
        pair(nn.ints(op.kernel)),
        pair(nn.ints(op.strides)),
        quad(nn.ints(op.pads)),
        op.dilation_values(),
        pair(shape(op.output)[2:]),
        exclude_pad=exclude,
    )
    split = pool_rows(s, op, p) if not exclude else None
    if s.low.part_schedule == "element" and not exclude:
        rows_of = {c: runs for c, runs in split[0].items()} if split else {core: [(0, p.out_hw[0])]}
        geo = element.Geometry(p.kernel, p.strides, p.pads, p.dilations, (ins[0].h, ins[0].w))
        taps = p.kernel[0] * p.kernel[1]
        row_ns = s.vector_ns(
            p.out_hw[1] * ins[0].c * taps,
            p.out_hw[1] * ins[0].c * p.strides[0] * p.kernel[1],
        )
        s.by_rows(
            [op.input],
            {s.low.c(op.input): geo},
            op.results[0],
            rows_of,
            p.out_hw[1],
            lambda c, run: pool(e, c, ins[0], out, p, f"{where(op)} on core {c}", run),
            row_ns,
        )
        return
    if split is None:
        s.sync({core}, list(op.operands))
        pool(e, core, ins[0], out, p, what)
        s.wrote(op.results[0], {core})
        return
    rows, needs = split
    # A pool whose result a later step here reads continues the conv's image loop, so that
    # step gets image n as soon as it is pooled (VGG16's greedy partitions on compass-m: 27.0
    # inf/s, against 21.5 in a loop of its own); one whose result only leaves the partition
    # runs in a loop of its own after the conv's: joined, every core would wait, image by
    # image, for its neighbours' rows and the MVMs would no longer run ahead (ResNet18's
    # conv1 + max pool on compass-s: 2362 µs apart, 2623 µs joined, batch 16).
    later = any(
        use.operation.parent is op.parent and not isinstance(use.operation, xb.YieldOp)
        for use in op.results[0].uses
    )
    s.sync(set(rows), [op.input], needs, join=later)
    for c, runs in rows.items():
        for run in runs:
            pool(e, c, ins[0], out, p, f"{where(op)} on core {c}", run)
    s.wrote(op.results[0], set(rows))


def pool_rows(
    s: PartitionState, op: nn.MaxPoolOp | nn.AvgPoolOp, p: Pool
) -> tuple[dict[int, list[tuple[int, int]]], dict[int, set[int]]] | None:
    """A pool of a conv's map stored here by several cores runs on those cores: each output
    row on a core that stored its window's centre row (`pimdsl.network.VectorTask.split` is
    the cost model's side), so each core mostly pools rows it computed and waits only for
    the writers of its rows. Returns (core -> output row runs (first, count), core -> the
    writers it reads), or None (one core)."""
    v = s.low.c(op.input)
    if v not in s.row_writers or len(s.writers.get(v, set())) < 2:
        return None
    ow_in, blocks = s.row_writers[v]
    h = shape(op.input)[2]
    (kh, _), (sh, _), (dh, _) = p.kernel, p.strides, p.dilations
    top = p.pads[0]
    by_row: dict[int, set[int]] = {}
    for w0, w1, core in blocks:
        for y in range(w0 // ow_in, -(-w1 // ow_in)):
            by_row.setdefault(y, set()).add(core)
    rows: dict[int, list[tuple[int, int]]] = {}
    needs: dict[int, set[int]] = {}
    for oy in range(p.out_hw[0]):
        first = oy * sh - top
        centre = min(max(first + (kh - 1) * dh // 2, 0), h - 1)
        core = min(by_row[centre])
        runs = rows.setdefault(core, [])
        if runs and runs[-1][0] + runs[-1][1] == oy:
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((oy, 1))
        for y in range(max(first, 0), min(first + (kh - 1) * dh + 1, h)):
            needs.setdefault(core, set()).update(by_row[y])
    return (rows, needs) if len(rows) > 1 else None


def _whole_map_mean(op: nn.AvgPoolOp) -> bool:
    """An average pool excluding padding whose one output window covers the whole input: the
    mean of the map (ONNX-zoo GoogLeNet's global pool is written so)."""
    x, y = shape(op.input), shape(op.output)
    if op.count_include_pad is not None or len(x) != 4 or tuple(y[2:]) != (1, 1):
        return False
    (kh, kw), pads = nn.ints(op.kernel), nn.ints(op.pads)
    return kh - pads[0] >= x[2] and kw - pads[1] >= x[3] and tuple(op.dilation_values()) == (1, 1)
