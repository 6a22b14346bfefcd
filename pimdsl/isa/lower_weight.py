"""Emitters of the crossbar ops: a weight layer's im2col, mvm, accumulate, concat and bias build
its output blocks symbolically (`pimdsl.isa.linear`); col2im, or the first vector op that reads
the result, stores it (`materialise`): lone element-wise readers and a residual add fuse into the
layer's stores, the cores wait for the layer's inputs, and `emit_weight.weight_layer` writes
the code."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from xdsl.dialects.builtin import DenseIntOrFPElementsAttr
from xdsl.ir import Operation, SSAValue

from pimdsl.dialects import crossbar as xb
from pimdsl.dialects import nn
from pimdsl.errors import PimError
from pimdsl.isa import codegen as cg
from pimdsl.isa import element
from pimdsl.isa import linear as lin
from pimdsl.isa.emit import Unary
from pimdsl.isa.emitters import emitter, shape, where
from pimdsl.isa.lower_elementwise import UNARY
from pimdsl.isa.placement import Place
from pimdsl.network import concat_in_stores
from pimdsl.shapes import pair, quad

if TYPE_CHECKING:
    from pimdsl.isa.state import PartitionState


@emitter(xb.Im2colOp)
def im2col(s: PartitionState, op: Operation) -> None:
    assert isinstance(op, xb.Im2colOp)
    kernel = pair(xb.ints(op.kernel))
    s.sources[op.output] = lin.Source(
        s.low.c(op.input),
        lin.Conv(
            kernel,
            pair(xb.ints(op.strides)),
            quad(xb.ints(op.pads)),
            pair(xb.ints(op.dilations)),
            op.out_hw(),
        ),
    )


@emitter(xb.MvmOp)
def mvm(s: PartitionState, op: Operation) -> None:
    assert isinstance(op, xb.MvmOp)
    src = s.sources.get(op.input) or lin.Source(s.low.c(op.input), None)
    s.linear[op.output] = lin.mvm(op, src)


@emitter(xb.AccumulateOp)
def accumulate(s: PartitionState, op: Operation) -> None:
    assert isinstance(op, xb.AccumulateOp)
    s.linear[op.output] = lin.accumulate([linear_of(s, v) for v in op.parts])


@emitter(xb.ConcatOp)
def concat(s: PartitionState, op: Operation) -> None:
    assert isinstance(op, xb.ConcatOp)
    s.linear[op.output] = lin.concat(
        [linear_of(s, v) for v in op.parts], op.axis.value.data, shape(op.output)
    )


@emitter(xb.BiasOp)
def bias(s: PartitionState, op: Operation) -> None:
    assert isinstance(op, xb.BiasOp)
    s.linear[op.output] = lin.bias(linear_of(s, op.input), op.weight.data, pair(xb.ints(op.cols)))


@emitter(xb.Col2imOp)
def col2im(s: PartitionState, op: Operation) -> None:
    assert isinstance(op, xb.Col2imOp)
    value = s.linear.pop(op.input, None) if len(list(op.input.uses)) == 1 else None
    value = value or linear_of(s, op.input)
    materialise(s, op.output, value, xb.ints(op.spatial), "conv")  # type: ignore[arg-type]


def linear_of(s: PartitionState, v: SSAValue) -> lin.Linear:
    if v in s.linear:
        return s.linear[v]
    owner = v.owner
    if isinstance(owner, nn.ConstantOp) and _is_zero(owner):
        return lin.zeros(shape(v))
    raise PimError(
        f"crossbar-to-isa: {where(owner) if isinstance(owner, Operation) else 'a block argument'} "
        "feeds crossbar.accumulate/concat/bias; only crossbar results and zero constants can.",
    )


def materialise(
    s: PartitionState,
    v: SSAValue,
    value: lin.Linear,
    spatial: tuple[int, int] | None,
    hint: str,
) -> SSAValue:
    """Store the crossbar result `value` as `v` (NCHW when `spatial` is given); returns the
    value actually stored (the last fused element-wise reader's result)."""
    epilogue: list[Unary | Place] = []
    residuals: list[SSAValue] = []
    target = v
    # Fuse lone element-wise consumers into the layer's store: relu, clip, ... and a
    # residual add of an already stored map (each window adds the map's pixel: the add
    # runs where the data is, on the layer's home cores, not as a step on one core).
    while True:
        uses = list(target.uses)
        if len(uses) != 1 or target in s.yielded:
            break
        user = uses[0].operation
        if user.parent is not v.owner.parent:  # type: ignore[union-attr]
            break
        other = _residual(s, user, target, spatial)
        if type(user) not in UNARY and other is None:
            break
        full = lin.complete(value)
        if any(not b.terms and not b.bias for b in full.blocks):
            break  # a zero region would not stay zero
        if other is None:
            epilogue.append(UNARY[type(user)](user))
        else:
            epilogue.append(s.low.places[other])
            residuals.append(other)
        s.fused.add(user)
        target = user.results[0]
    concat = _concat_in_stores(s, target)
    stored_as, merge = target, False
    if concat is None:
        place = s.low.place_for(target, hint)
    else:
        # the layer stores its channels straight into the concat's map (no concat step)
        user, offset = concat
        s.fused.add(user)
        stored_as = user.results[0]
        merge = s.low.c(stored_as) in s.low.places
        place = replace(s.low.place_for(stored_as, "concat"), c0=offset)
        s.low.places[target] = place
    terms = [t for b in value.blocks for t in b.terms]
    if place.fill != 0.0 and (
        not terms or any(not b.terms and not b.bias for b in lin.complete(value).blocks)
    ):
        raise PimError(
            "crossbar-to-isa: a partly zero crossbar result read by a padded max pool "
            "is not supported."
        )
    sources = {t.source.value: s.place(t.source.value) for t in terms}
    conv = next((t.source.conv for t in terms if t.source.conv is not None), None)
    out_hw = conv.out_hw if conv is not None else (1, value.windows)
    if spatial is not None and tuple(spatial) != tuple(out_hw):
        out_hw = spatial
    layer = cg.WeightLayer(
        name=hint,
        linear=value,
        out=place,
        out_hw=out_hw,
        epilogue=epilogue,
        places=sources,
        default_core=min((t.core for t in terms), default=s.vector_core()),
    )
    row_sync = None
    by_rows: dict[SSAValue, element.Geometry] = {}
    if s.low.part_schedule == "element":
        # maps written by tiles of a weight layer here are waited for by rows: a conv's
        # input by its windows, a residual map pixel by pixel
        for t in terms:
            c, src = t.source.conv, t.source.value
            if c is not None and src in s.tiles:
                by_rows[src] = element.Geometry(
                    c.kernel, c.strides, c.pads, c.dilations, (sources[src].h, sources[src].w)
                )
        for r in residuals:
            if r in s.tiles:
                by_rows[r] = element.Geometry(
                    *element.POINTWISE, (s.low.places[r].h, s.low.places[r].w)
                )
    s.sync(
        layer.readers(),
        [
            *(src for src in sources if src not in by_rows),
            *(r for r in residuals if r not in by_rows),
        ],
    )
    if s.low.part_schedule == "element":
        row_sync = s.row_tokens(by_rows)
    # the band-sharing rule as `codegen` names it now (a caller may swap it)
    cg.weight_layer(s.e, layer, row_sync, cg.shared_bands)
    if row_sync is None:
        s.wrote(stored_as, layer.writers(), merge=merge)
    else:
        last = {c: max(p.end for p in tiles) for c, tiles in row_sync.produced.items()}
        for seg, ns in row_sync.busy.items():
            s.lanes[(layer.name, seg)] = ns  # a window range's crossbars
        s.wrote(stored_as, layer.writers(), last, merge=merge)
        if spatial is not None:
            tiles = s.tiles.setdefault(s.low.c(stored_as), {}) if merge else {}
            for c, produced in row_sync.produced.items():
                tiles.setdefault(c, []).extend(produced)
            s.tiles[s.low.c(stored_as)] = tiles
    if spatial is not None and concat is None:
        # which core stored which windows (all channels of a window may take several); not
        # for a concat's map: a pool of it runs on one core, as the cost model prices it
        s.row_writers[target] = (
            out_hw[1],
            [(b.w0, b.w1, layer.home(b)) for b in layer.blocks()],
        )
    return stored_as


def _concat_in_stores(s: PartitionState, v: SSAValue) -> tuple[nn.ConcatOp, int] | None:
    """(the channel concat whose map the layer storing `v` writes directly, `v`'s first channel
    in it), or None: `v`'s one reader is a concat all of whose operands convolutions of this
    partition store (`network.concat_in_stores`, the cost model's side of the rule)."""
    uses = list(v.uses)
    if len(uses) != 1 or v in s.yielded:
        return None
    user = uses[0].operation
    if not isinstance(user, nn.ConcatOp) or user.parent is not v.owner.parent:  # type: ignore[union-attr]
        return None
    roots = concat_in_stores(user)
    if roots is None or any(r.parent is not user.parent for r in roots):
        return None
    index = list(user.operands).index(v)
    return user, sum(shape(o)[1] for o in user.operands[:index])


def _residual(
    s: PartitionState,
    user: Operation,
    target: SSAValue,
    spatial: tuple[int, int] | None,
) -> SSAValue | None:
    """The other operand of `user` when it is an add of `target` (a conv's NCHW result) and
    a feature map of the same shape stored already: the block's input, or a branch computed
    before the conv (a downsample block's conv2, when the conv is its downsample; the conv
    then waits per image for that branch, as the add's step would, instead of an add step
    on one core loading both maps); `pimdsl.network.residual_operand` is the cost model's
    side."""
    if not isinstance(user, nn.AddOp) or spatial is None:
        return None
    a, b = user.operands
    other = b if a is target else a
    if other is target or shape(other) != shape(target) or len(shape(target)) != 4:
        return None
    other = s.low.c(other)
    place = s.low.places.get(other)
    if place is None or place.rank != 4 or other in s.linear:
        return None
    return other


def _is_zero(op: nn.ConstantOp) -> bool:
    attr = op.value
    if not isinstance(attr, DenseIntOrFPElementsAttr):
        return False
    from pimdsl.sim.nn_interp import dense_to_numpy

    return not dense_to_numpy(attr).any()
