"""`partition-to-crossbar`: place each partition's weight tiles on crossbars (level 2 -> level 3).

    pim-opt model.onnx --chip compass-s --partition --partition-to-crossbar

Every `partition.partition` becomes a `crossbar.partition` (docs/lowering.md shows the IR):

- one `crossbar.tile` per crossbar of every unit replica of the partition, placed as
  `pimdsl.placement` says (the same first-fit-decreasing placement and replication the
  partition op records, hinted layers first on the cores of its `placement` hint; the pass
  checks that its crossbars per core equal `core_crossbars`),
  then one `crossbar.write` of all of them: the partition's weights, read from DRAM by weight
  name + block, programmed before anything runs;
- a conv layer: `crossbar.im2col` of its input; a linear layer: its input as is (rank > 3
  reshaped to [N, windows, K]);
- per replica (its window range), per column chunk: one `crossbar.mvm` per tile covering all
  windows of that range and the whole batch, `crossbar.accumulate` over the row tiles of the
  chunk (several row tiles of a unit, or the row-split units of one column slice), then
  `crossbar.concat` of the chunks along the channels and of the replicas along the windows;
- a layer cut by a partition boundary (a *piece*) yields its full-width result with zeros in
  the channels its units do not compute (an `nn.constant` splat), as at the partition level;
- bias by `crossbar.bias` (by weight name; an inline bias stays an `nn.add`), then
  `crossbar.col2im` back to NCHW for a conv;
- every other op stays: `nn` ops run on the vector units; `partition.load`/`store` become the
  partition's block arguments and `crossbar.yield` operands (entries and exits stay in DRAM).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from xdsl.context import Context
from xdsl.dialects.builtin import DenseIntOrFPElementsAttr, ModuleOp
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.passes import ModulePass

from pimdsl.dialects import crossbar as xb
from pimdsl.dialects import nn
from pimdsl.dialects import partition as part
from pimdsl.errors import PimError
from pimdsl.network import Layer, main_func
from pimdsl.placement import PlacedTile, place_partition, window_ranges

SPAN = "pim.span"  # on crossbar.partition: the units it holds, for readers


def layout_of(op: Operation) -> str:
    if isinstance(op, nn.Conv2dOp):
        return "oihw"
    assert isinstance(op, nn.LinearOp)
    return "io" if op.weight_in_out is not None else "oi"


def _weight_name(op: Operation, value: SSAValue) -> str:
    src = value.owner
    if isinstance(src, part.UnitWeightsOp):
        src = src.weight.owner
    if not isinstance(src, nn.WeightOp):
        raise PimError(
            f"'{op.name}': its weight is not an nn.weight of the weight file (it is "
            f"'{getattr(src, 'name', 'a block argument')}'); crossbar tiles name weights in DRAM.",
            hint="Give weight layers their weights as nn.weight ops (what the ONNX frontend does).",
        )
    return src.key


def _zeros(shape: list[int], block: Block) -> SSAValue:
    t = nn.tensor(shape)
    c = nn.ConstantOp.build(
        properties={"value": DenseIntOrFPElementsAttr.from_list(t, [0.0])}, result_types=[t]
    )
    block.add_op(c)
    return c.results[0]


class _Lowering:
    """Lowers the partitions of one module; `analyse` gives the units and layers."""

    def __init__(self, module: ModuleOp):
        from pimdsl.partitioning import analyse

        a = analyse(module)
        self.analysis = a
        self.chip = a.chip
        self.units = a.units
        self.layers: list[Layer] = a.network.layers

    # --- one partition ----------------------------------------------------------------------

    def check_fits(
        self, number: int, s: int, e: int, reps: tuple[int, ...], hint: dict[int, tuple[int, ...]]
    ) -> None:
        from pimdsl.replication import check_fits

        check_fits(self.analysis, number, s, e, reps, hint=hint)

    def checked_units(self, op: Operation) -> tuple[int, int, int]:
        """(first unit of the layer, piece lo, piece hi) from `pim.units` / `pim.piece`, checked
        against the units the chip really cuts the layer into (the IR may be hand-edited)."""
        from pimdsl.partitioning import UNITS

        u = self.units
        try:
            first, end = part.ints(op.attributes[UNITS])  # type: ignore[arg-type]
            lo, hi = part.ints(op.attributes.get(part.PIECE, op.attributes[UNITS]))  # type: ignore[arg-type]
        except (AttributeError, ValueError, TypeError):
            first = end = lo = hi = -1
        li = int(u.layer[first]) if 0 <= first < u.n else -1
        ok = (
            li >= 0
            and (first, end) == (int(u.first[li]), int(u.end[li]))
            and first <= lo < hi <= end
        )
        if not ok:
            name = op.results[0].name_hint or op.name
            want = (
                f" (layer '{self.layers[li].name}' has units [{u.first[li]}, {u.end[li]}))"
                if li >= 0
                else ""
            )
            raise PimError(
                f"'{op.name}' ({name}): its attributes pim.units = {op.attributes.get(UNITS)} / "
                f"pim.piece = {op.attributes.get(part.PIECE)} do not match the {u.n} units chip "
                f"'{self.chip.name}' cuts the network into{want}.",
                hint="The partition IR was edited or made for another chip: re-run --partition "
                "(or --ga-group) on the nn-level IR.",
            )
        return first, lo, hi

    def partition(self, p: part.PartitionOp) -> xb.PartitionOp:
        s, e = p.unit_span
        u = self.units
        if (
            not 0 <= s < e <= u.n
            or len(part.ints(p.replication)) != len(p.layer_names)
            or (int(u.layer[s]) + len(p.layer_names) > len(self.layers))
        ):
            raise PimError(
                f"partition {p.number}: its span [{s}, {e}) and {len(p.layer_names)} layers do not "
                f"match the {u.n} units of chip '{self.chip.name}'; the partition IR is inconsistent.",
                hint="Re-run --partition (or --ga-group) on the nn-level IR.",
            )
        reps = part.ints(p.replication)
        l0 = int(u.layer[s])
        names = p.layer_names
        replication = {l0 + j: r for j, r in enumerate(reps)}
        for j, name in enumerate(names):
            if self.layers[l0 + j].name != name:
                raise PimError(
                    f"partition {p.number}: its layer {j} is '{name}' but units [{s}, {e}) start "
                    f"at layer '{self.layers[l0].name}'; the partition IR is inconsistent.",
                    hint="Re-run --partition (or --ga-group) on the nn-level IR.",
                )
        from pimdsl.placement_hint import hint_of

        hint = hint_of(self.analysis, p)
        if hint or any(r > 1 for r in reps):  # what the IR says must place: a clear error if not
            self.check_fits(p.number, s, e, reps, hint)
        try:
            tiles, per_core = place_partition(u, self.layers, self.chip, s, e, replication, hint)
        except ValueError:  # the cost model then places one replica (see SpanCosts.partition)
            replication = dict.fromkeys(replication, 1)
            tiles, per_core = place_partition(u, self.layers, self.chip, s, e, replication)
        recorded = list(part.ints(p.core_crossbars))
        if per_core != recorded:
            raise PimError(
                f"partition {p.number}: placing its units gives crossbars per core {per_core}, "
                f"but the partition records core_crossbars = {recorded}.",
                hint="Re-run --partition (or --ga-group) so placement and IR agree; a pass that "
                "changes replication or the placement hint must re-cost the partition "
                "(pimdsl.replication.set_replication, pimdsl.placement_hint.set_placement).",
            )
        old = p.body.block
        block = Block(arg_types=[a.type for a in old.args])
        m: dict[SSAValue, SSAValue] = dict(zip(old.args, block.args, strict=True))
        for a, b in zip(old.args, block.args, strict=True):
            b.name_hint = a.name_hint
        tile_ops: dict[int, list[tuple[PlacedTile, SSAValue]]] = {}
        created: list[xb.TileOp] = []
        for t in tiles:
            L = self.layers[t.layer]
            top = xb.TileOp(
                L.name,
                layout_of(L.op),
                t.block.rows,
                t.block.cols,
                replica=t.replica,
                core=t.core,
                xbar=t.xbar,
                groups=t.block.groups,
            )
            created.append(top)
            tile_ops.setdefault(t.unit, []).append((t, top.result))
        block.add_ops(created)
        block.add_op(xb.WriteOp([t.result for t in created]))
        for op in old.ops:
            if isinstance(op, part.LoadOp | part.StoreOp):
                m[op.result] = m[op.source]
            elif isinstance(op, part.UnitWeightsOp):
                continue
            elif isinstance(op, nn.WEIGHT_LAYERS):
                m[op.results[0]] = self.layer(op, m, block, tile_ops, replication)
            elif isinstance(op, part.YieldOp):
                block.add_op(xb.YieldOp([m[v] for v in op.values]))
            else:
                c = op.clone(value_mapper=m)
                block.add_op(c)
                for a, b in zip(op.results, c.results, strict=True):
                    m[a] = b
        for op in reversed(list(block.ops)):  # weights now read by tiles
            if isinstance(op, nn.WeightOp | nn.ConstantOp) and not op.results[0].uses:
                op.detach()
                op.erase()
        new = xb.PartitionOp(
            p.number, list(p.inputs), list(p.outputs.types), Region(block), schedule=p.schedule_name
        )
        new.attributes[SPAN] = part.i64_array((s, e))
        return new

    # --- one weight layer ---------------------------------------------------------------------

    def layer(
        self,
        op: Operation,
        m: dict[SSAValue, SSAValue],
        block: Block,
        tile_ops: dict[int, list[tuple[PlacedTile, SSAValue]]],
        replication: dict[int, int],
    ) -> SSAValue:
        from pimdsl.partitioning import UNITS

        if UNITS not in op.attributes:
            raise PimError(
                f"'{op.name}' inside a partition has no 'pim.units' attribute; "
                "partition-to-crossbar needs the partition pass's annotations.",
                hint="Produce partition-level IR with --partition or --ga-group.",
            )
        first, lo, hi = self.checked_units(op)
        li = int(self.units.layer[first])
        weight = _weight_name(op, op.operands[1])
        if weight != self.layers[li].name:
            raise PimError(
                f"'{op.name}' reads weight '{weight}' but its units belong to "
                f"layer '{self.layers[li].name}'."
            )
        x = m[op.operands[0]]
        out_shape = list(nn.shape_of(op.results[0]))
        if isinstance(op, nn.Conv2dOp):
            w = nn.shape_of(op.weight)
            im = xb.Im2colOp(
                x,
                kernel=(w[2], w[3]),
                strides=nn.ints(op.strides),
                pads=nn.ints(op.pads),
                dilations=nn.ints(op.dilations),
            )
            block.add_op(im)
            u = im.output
        else:
            u = x
            xs = nn.shape_of(x)
            if len(xs) > 3:
                r = nn.ReshapeOp(x, [xs[0], len_windows(xs), xs[-1]])
                block.add_op(r)
                u = r.output
        ushape = list(xb.shape_of(u))
        cols = self.layers[li].cols
        placed = [pt for unit in range(lo, hi) for pt in tile_ops.get(unit, [])]
        reps = max(pt.replica for pt, _ in placed) + 1
        assert reps == replication[li]
        ranges = window_ranges(ushape[1], reps) if len(ushape) == 3 and reps > 1 else [None]
        per_replica: list[SSAValue] = []
        for k, wr in enumerate(ranges):
            chunks: dict[tuple[int, int], list[SSAValue]] = {}
            for pt, tv in placed:
                if pt.replica != k:
                    continue
                mvm = xb.MvmOp(tv, u, pt.block.in_rows, wr)
                block.add_op(mvm)
                chunks.setdefault(pt.block.cols, []).append(mvm.output)
            parts: list[SSAValue] = []
            at = 0
            for (c0, c1), vals in sorted(chunks.items()):
                if c0 > at:
                    parts.append(_zeros(_with_last(xb.shape_of(vals[0]), c0 - at), block))
                if len(vals) > 1:
                    acc = xb.AccumulateOp(vals)
                    block.add_op(acc)
                    parts.append(acc.output)
                else:
                    parts.append(vals[0])
                at = c1
            if at < cols:
                parts.append(_zeros(_with_last(xb.shape_of(parts[-1]), cols - at), block))
            per_replica.append(_concat(parts, len(ushape) - 1, block))
        y = _concat(per_replica, 1, block)
        if len(op.operands) > 2:
            bias = op.operands[2]
            if isinstance(bias.owner, nn.WeightOp):
                b = xb.BiasOp(y, bias.owner.key, (0, cols))
                block.add_op(b)
                y = b.output
            else:
                add = nn.AddOp(y, m[bias])
                block.add_op(add)
                y = add.output
        if isinstance(op, nn.Conv2dOp):
            f = xb.Col2imOp(y, (out_shape[2], out_shape[3]))
            block.add_op(f)
            return f.output
        if list(xb.shape_of(y)) != out_shape:
            r = nn.ReshapeOp(y, out_shape)
            block.add_op(r)
            return r.output
        return y


def len_windows(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape[1:-1]:
        n *= d
    return n


def _with_last(shape: tuple[int, ...], last: int) -> list[int]:
    return [*shape[:-1], last]


def _concat(parts: list[SSAValue], axis: int, block: Block) -> SSAValue:
    if len(parts) == 1:
        return parts[0]
    c = xb.ConcatOp(parts, axis)
    block.add_op(c)
    return c.output


def lower_to_crossbar(module: ModuleOp) -> None:
    """Rewrite every partition of `module` (partition level) into crossbar-level IR, in place."""
    from pimdsl.module_attrs import get_chip

    get_chip(module)
    fn = main_func(module)
    parts = [op for op in fn.body.block.ops if isinstance(op, part.PartitionOp)]
    if not parts:
        raise PimError(
            "partition-to-crossbar needs partition-level IR, but @main has no partition.partition.",
            hint="Run --partition (or --ga-group) first: pim-opt model.onnx --chip compass-s "
            "--partition --partition-to-crossbar.",
        )
    lowering = _Lowering(module)
    news = [lowering.partition(p) for p in parts]
    for p, new in zip(parts, news, strict=True):
        fn.body.block.insert_op_before(new, p)
        for a, b in zip(p.results, new.results, strict=True):
            a.replace_all_uses_with(b)
    for p in parts:
        p.detach()
        p.erase()


@dataclass(frozen=True)
class PartitionToCrossbarPass(ModulePass):
    """Lower partition-level IR to the crossbar dialect: tiles, weight writes, MVMs."""

    name: ClassVar[str] = "partition-to-crossbar"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        lower_to_crossbar(op)


__all__ = ["PartitionToCrossbarPass", "lower_to_crossbar"]
