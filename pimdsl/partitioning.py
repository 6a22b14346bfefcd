"""Partitioning a module: the span-cost table of its network and the IR rewrite for a grouping.

Public API (the `partition` and `ga-group` passes and the report use it):

- `span_table_for_module(module)`: the `SpanTable` of the module's network on its chip
  (`pim.chip`) at its batch (`pim.batch`); nn-level or partition-level IR.
- `apply_grouping(module, bounds, strategy=, objective=)`: rewrite the module in place into
  partition-level IR for the grouping `bounds` = [0, b1, ..., n_units].
- `partitions(module)`: the partition ops of @main, in order.
- `incoming_grouping(module)`: the boundaries of a partition-level module, else None.
- `annotate_units(module)`: the `pim-units` annotations (units and validity map) on nn IR.
- `analyse(module)`: network, units and span costs (cached per network, chip and batch).
- `flatten(module)` / `flat_copy(module)`: partition-level IR back to nn level, in place / as a
  new module (the original left unchanged).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import DenseArrayBase, IntegerAttr, ModuleOp, StringAttr, i64
from xdsl.ir import Attribute, Block, Operation, Region, SSAValue

from pimdsl import limits
from pimdsl.chip import Chip
from pimdsl.cost.model import SpanCosts, span_costs
from pimdsl.dialects import nn
from pimdsl.dialects import partition as part
from pimdsl.errors import PimError
from pimdsl.grouping.problem import SpanTable
from pimdsl.module_attrs import get_batch, get_chip, get_schedule
from pimdsl.network import SOURCE_OPS, Network, extract_network, main_func
from pimdsl.units import Units, plan_units

STRATEGY = "pim.strategy"
OBJECTIVE = "pim.objective"
LAYER = "pim.layer"
UNITS = "pim.units"
UNIT_CROSSBARS = "pim.unit_crossbars"
VALIDITY = "pim.validity"


@dataclass
class Analysis:
    chip: Chip
    batch: int
    network: Network
    units: Units
    costs: SpanCosts
    schedule: str = "auto"  # the module's schedule policy the costs assume (pim.schedule)


_CACHE: dict[tuple[object, ...], tuple[Units, SpanCosts]] = {}


def network_fingerprint(net: Network) -> tuple[object, ...]:
    """Everything of `net` the cost model reads (not its weights): the span-cost caches' key
    (here and `pimdsl.dse.tables`, whose disk cache keys on its repr)."""
    layers = tuple(
        (
            L.kind,
            L.groups,
            L.in_channels,
            L.kernel_area,
            L.cols,
            L.windows,
            L.row_windows,
            L.out_elements,
            L.vector_elements,
            L.vector,
            L.window,
        )
        for L in net.layers
    )
    values = tuple(
        (v.elements, v.owner, v.consumer_layers, v.consumer_owners, v.returned, v.fused_readers)
        for v in net.values
    )
    return layers, values


def partitions(module: ModuleOp) -> list[part.PartitionOp]:
    """The partition ops of @main, in order (none at the nn level)."""
    return [op for op in main_func(module).body.block.ops if isinstance(op, part.PartitionOp)]


def is_partitioned(module: ModuleOp) -> bool:
    return bool(partitions(module))


def analyse(module: ModuleOp) -> Analysis:
    """Network, units and span costs of `module` (not modified). Needs `pim.chip`."""
    chip = get_chip(module)
    assert chip is not None
    batch = get_batch(module)
    schedule = get_schedule(module)
    if is_partitioned(module):
        module = flat_copy(module)  # not module.clone(): that copies every partition's ops too
    net = extract_network(module)
    key = (network_fingerprint(net), chip, batch, schedule)
    if key not in _CACHE:
        units = plan_units(net, chip)
        # each partition holds at most the whole chip: a lower bound on the partitions needed
        need = -(-int(units.crossbars.sum()) // chip.total_crossbars)
        limits.check_partitions(need, chip.name, lower_bound=True)
        if len(_CACHE) > 16:
            _CACHE.clear()
        _CACHE[key] = (units, span_costs(net, units, chip, batch, schedule))
    units, costs = _CACHE[key]
    return Analysis(
        chip=chip, batch=batch, network=net, units=units, costs=costs, schedule=schedule
    )


def span_table_for_module(module: ModuleOp) -> SpanTable:
    return analyse(module).costs.table()


def incoming_grouping(module: ModuleOp) -> list[int] | None:
    parts = [op for op in main_func(module).body.block.ops if isinstance(op, part.PartitionOp)]
    if not parts:
        return None
    return [0] + [p.unit_span[1] for p in parts]


def annotate_units(module: ModuleOp) -> None:
    """Mark every weight layer with its units and the module with the validity map."""
    if is_partitioned(module):
        raise PimError("pim-units works on nn-level IR; this module is already partitioned.")
    a = analyse(module)
    u = a.units
    for L in a.network.layers:
        lo, hi = int(u.first[L.index]), int(u.end[L.index])
        L.op.attributes[LAYER] = IntegerAttr(L.index, i64)
        L.op.attributes[UNITS] = part.i64_array((lo, hi))
        L.op.attributes[UNIT_CROSSBARS] = part.i64_array([int(c) for c in u.crossbars[lo:hi]])
    module.attributes[part.N_UNITS] = IntegerAttr(u.n, i64)
    module.attributes[VALIDITY] = part.i64_array([int(e) for e in a.costs.max_end])


# --- partition level -> nn level --------------------------------------------------------------


def flatten(module: ModuleOp) -> None:
    """Undo partitioning in place: inline every partition and rejoin layers cut by a boundary."""
    block = main_func(module).body.block
    new_ops = _flat_ops(block, block.args)
    for op in reversed(list(block.ops)):
        op.detach()
        op.erase(safe_erase=False)
    block.add_ops(new_ops)
    for key in (part.N_UNITS, STRATEGY, OBJECTIVE):
        module.attributes.pop(key, None)


def flat_copy(module: ModuleOp) -> ModuleOp:
    """A new module holding only the flattened `@main` of `module` (which is left unchanged)."""
    fn = main_func(module)
    block = Block(arg_types=fn.body.block.arg_types)
    block.add_ops(_flat_ops(fn.body.block, block.args))
    return ModuleOp([func.FuncOp("main", fn.function_type, Region(block))])


def unit_range(op: Operation, key: str) -> tuple[int, int]:
    """The unit range attribute `key` (pim.units, pim.piece) of `op`: two i64, 0 <= lo < hi."""
    attr = op.attributes.get(key)
    values = part.ints(attr) if isinstance(attr, DenseArrayBase) else ()
    if len(values) != 2 or not 0 <= values[0] < values[1]:
        name = op.results[0].name_hint if op.results else None
        raise PimError(
            f"'{op.name}' ({name or 'unnamed'}): attribute {key} must be array<i64: lo, hi> "
            f"with 0 <= lo < hi, got {attr}.",
            hint="The partition IR was edited: re-run --partition on the nn-level IR.",
        )
    return values[0], values[1]


def _flat_ops(block: Block, args: Sequence[SSAValue]) -> list[Operation]:
    """Clones of the nn ops of partition-level `block`, with its arguments mapped to `args`."""
    m: dict[SSAValue, SSAValue | None] = dict(zip(block.args, args, strict=True))
    new_ops: list[Operation] = []

    def get(v: SSAValue) -> SSAValue | None:
        return m[v] if v in m else v

    def clone(op: Operation) -> None:
        operands = [get(o) for o in op.operands]
        if any(o is None for o in operands):
            raise PimError(f"cannot flatten '{op.name}': it reads a partial sum outside its layer.")
        c = op.clone(value_mapper={o: n for o, n in zip(op.operands, operands, strict=True)})  # type: ignore[misc]
        for key in (part.PIECE, UNITS, LAYER, UNIT_CROSSBARS):
            c.attributes.pop(key, None)
        new_ops.append(c)
        for old, new in zip(op.results, c.results, strict=True):
            m[old] = new

    for op in block.ops:
        if not isinstance(op, part.PartitionOp):
            clone(op)
            continue
        inner = op.body.block
        for arg, operand in zip(inner.args, op.operands, strict=True):
            m[arg] = get(operand)
        for iop in inner.ops:
            if isinstance(iop, part.LoadOp | part.StoreOp):
                m[iop.result] = get(iop.source)
            elif isinstance(iop, part.UnitWeightsOp):
                m[iop.result] = get(iop.weight)
            elif isinstance(iop, part.YieldOp):
                for res, v in zip(op.results, iop.values, strict=True):
                    m[res] = get(v)
            elif part.ACCUMULATE in iop.attributes:
                if len(iop.operands) != 2 or len(iop.results) != 1:
                    raise PimError(
                        f"'{iop.name}' carries {part.ACCUMULATE} but is not a two-operand "
                        "add of a loaded partial sum; the partition IR is inconsistent.",
                        hint="Re-run --partition on the nn-level IR.",
                    )
                m[iop.results[0]] = get(iop.operands[1])
            elif part.PIECE in iop.attributes:
                piece = unit_range(iop, part.PIECE)
                whole = unit_range(iop, UNITS)
                if piece[1] == whole[1]:
                    clone(iop)
                else:
                    m[iop.results[0]] = None
            else:
                clone(iop)
    # Weights and constants cloned for pieces that were dropped have no use: erase them.
    kept: list[Operation] = []
    for op in new_ops:
        if isinstance(op, SOURCE_OPS) and not any(r.uses for r in op.results):
            op.erase(safe_erase=False)
        else:
            kept.append(op)
    return kept


# --- nn level -> partition level --------------------------------------------------------------


def _boxes(units: Units, lo: int, hi: int) -> list[int]:
    """[out_lo, out_hi, in_lo, in_hi] of units lo..hi-1, merging neighbours that extend a box."""
    boxes: list[list[int]] = []
    for u in range(lo, hi):
        o0, o1, i0, i1 = (
            int(units.out_lo[u]),
            int(units.out_hi[u]),
            int(units.in_lo[u]),
            int(units.in_hi[u]),
        )
        if boxes and boxes[-1][2:] == [i0, i1] and boxes[-1][1] == o0:
            boxes[-1][1] = o1
        elif boxes and boxes[-1][:2] == [o0, o1] and boxes[-1][3] == i0:
            boxes[-1][3] = i1
        else:
            boxes.append([o0, o1, i0, i1])
    return [x for b in boxes for x in b]


def _piece_op(layer_op: Operation, x: SSAValue, w: SSAValue, bias: SSAValue | None) -> Operation:
    if isinstance(layer_op, nn.Conv2dOp):
        return nn.Conv2dOp(
            x,
            w,
            bias,
            strides=nn.ints(layer_op.strides),
            pads=nn.ints(layer_op.pads),
            dilations=nn.ints(layer_op.dilations),
            groups=layer_op.groups.value.data,
            result_shape=nn.shape_of(layer_op.output),
        )
    assert isinstance(layer_op, nn.LinearOp)
    return nn.LinearOp(
        x,
        w,
        bias,
        weight_in_out=layer_op.weight_in_out is not None,
        result_shape=nn.shape_of(layer_op.output),
    )


def apply_grouping(
    module: ModuleOp, bounds: Sequence[int], *, strategy: str, objective: str
) -> None:
    """Rewrite `module` in place into partition-level IR for the grouping `bounds`."""
    if is_partitioned(module):
        flatten(module)
    a = analyse(module)
    table = a.costs.table()
    bounds = [int(b) for b in bounds]
    try:
        table.check_group(bounds)
    except ValueError as exc:
        raise PimError(f"illegal partition grouping {bounds}: {exc}.") from None
    limits.check_partitions(len(bounds) - 1, a.chip.name, lower_bound=False)
    _rewrite(module, a, bounds)
    module.attributes[part.N_UNITS] = IntegerAttr(a.units.n, i64)
    module.attributes[STRATEGY] = StringAttr(strategy)
    module.attributes[OBJECTIVE] = StringAttr(objective)
    module.attributes.pop(VALIDITY, None)
    from pimdsl import placement_hint
    from pimdsl.replication import apply_requests

    apply_requests(module)  # the user's replication (pim.replication) over the model's choice
    placement_hint.apply_requests(module)  # then the user's placement hint (pim.placement)


def _rewrite(module: ModuleOp, a: Analysis, bounds: list[int]) -> None:
    net, units = a.network, a.units
    block = net.func.body.block
    b = np.asarray(bounds)
    n_parts = len(bounds) - 1

    def part_of_unit(u: int) -> int:
        return int(np.searchsorted(b, u, side="right")) - 1

    # Items per partition, in program order: ("op", op) or ("piece", layer, lo, hi).
    items: list[list[tuple]] = [[] for _ in range(n_parts)]
    def_part: dict[object, int] = {arg: -1 for arg in block.args}
    for op in block.ops:
        if isinstance(op, SOURCE_OPS) or isinstance(op, func.ReturnOp):
            continue
        if isinstance(op, nn.WEIGHT_LAYERS):
            li = net.owner[op]
            first, end = int(units.first[li]), int(units.end[li])
            p0, p1 = part_of_unit(first), part_of_unit(end - 1)
            if p0 == p1:
                items[p0].append(("op", op))
            else:
                for p in range(p0, p1 + 1):
                    items[p].append(("piece", li, max(first, bounds[p]), min(end, bounds[p + 1])))
                    if p < p1:
                        def_part[("partial", li, p)] = p
            def_part[op.results[0]] = p1
            continue
        own = net.owner[op]
        p = 0 if own < 0 else part_of_unit(int(units.end[own]) - 1)
        items[p].append(("op", op))
        for r in op.results:
            def_part[r] = p

    # Where each value (or partial sum) is used: an insertion-ordered set per partition.
    uses: list[dict[object, None]] = [{} for _ in range(n_parts)]
    for p, its in enumerate(items):
        for it in its:
            if it[0] == "op":
                needed: list[object] = [
                    o for o in it[1].operands if not isinstance(o.owner, SOURCE_OPS)
                ]
            else:
                layer_op = net.layers[it[1]].op
                needed = [layer_op.operands[0]]
                if it[2] > int(units.first[it[1]]):
                    needed.append(("partial", it[1], p - 1))
            uses[p].update(dict.fromkeys(needed))
    ret = block.last_op
    assert isinstance(ret, func.ReturnOp)
    later: dict[object, int] = {}
    for p, us in enumerate(uses):
        for v in us:
            later[v] = max(later.get(v, -1), p)
    for v in ret.operands:
        later[v] = n_parts
    # Exits per partition, in definition order: one pass over def_part (not one per partition).
    exits_of: list[list[object]] = [[] for _ in range(n_parts)]
    for v, d in def_part.items():
        if d >= 0 and later.get(v, -1) > d:
            exits_of[d].append(v)

    outer: dict[object, SSAValue] = {arg: arg for arg in block.args}
    new_ops: list[Operation] = []
    for p in range(n_parts):
        entries = [v for v in uses[p] if def_part.get(v, -1) != p]
        exits = exits_of[p]
        types = [_type_of(net, v) for v in entries]
        inner = Block(arg_types=types)
        local: dict[object, SSAValue] = {}
        for v, arg in zip(entries, inner.args, strict=True):
            ld = part.LoadOp(arg)
            inner.add_op(ld)
            local[v] = ld.result
        sources: dict[SSAValue, SSAValue] = {}

        def value(
            v: SSAValue, inner: Block = inner, local: dict = local, sources: dict = sources
        ) -> SSAValue:
            if v in local:
                return local[v]
            src = v.owner
            assert isinstance(src, SOURCE_OPS), f"value {v} has no definition in its partition"
            if v not in sources:
                c = src.clone()
                inner.add_op(c)
                sources[v] = c.results[0]
            return sources[v]

        for it in items[p]:
            if it[0] == "op":
                op = it[1]
                mapping = {o: value(o) for o in op.operands}
                c = op.clone(value_mapper=mapping)
                if isinstance(op, nn.WEIGHT_LAYERS):
                    li = net.owner[op]
                    c.attributes[UNITS] = part.i64_array((int(units.first[li]), int(units.end[li])))
                inner.add_op(c)
                for old, new in zip(op.results, c.results, strict=True):
                    local[old] = new
                continue
            _, li, lo, hi = it
            layer_op = net.layers[li].op
            first, end = int(units.first[li]), int(units.end[li])
            out_axis = (
                1 if isinstance(layer_op, nn.LinearOp) and layer_op.weight_in_out is not None else 0
            )
            mask = part.UnitWeightsOp(
                value(layer_op.operands[1]), (lo, hi), _boxes(units, lo, hi), out_axis
            )
            inner.add_op(mask)
            bias = value(layer_op.operands[2]) if hi == end and len(layer_op.operands) > 2 else None
            piece = _piece_op(layer_op, value(layer_op.operands[0]), mask.result, bias)
            piece.attributes[part.PIECE] = part.i64_array((lo, hi))
            piece.attributes[UNITS] = part.i64_array((first, end))
            if nn.NODE in layer_op.attributes:  # the layer's name stays with its pieces
                piece.attributes[nn.NODE] = layer_op.attributes[nn.NODE]
            inner.add_op(piece)
            result = piece.results[0]
            if lo > first:
                acc = nn.AddOp(local[("partial", li, p - 1)], result)
                acc.attributes[part.ACCUMULATE] = part.i64_array((first, hi))
                inner.add_op(acc)
                result = acc.results[0]
            local[layer_op.results[0] if hi == end else ("partial", li, p)] = result
        stores = [part.StoreOp(local[v]) for v in exits]
        inner.add_ops(stores)
        inner.add_op(part.YieldOp([s.result for s in stores]))
        cost = a.costs.partition(bounds[p], bounds[p + 1])
        pop = part.PartitionOp(
            p,
            [outer[v] for v in entries],
            [s.result.type for s in stores],
            Region(inner),
            span=(bounds[p], bounds[p + 1]),
            layers=[net.layers[i].name for i in cost.layers],
            replication=cost.replication,
            crossbars=cost.crossbars,
            core_crossbars=cost.core_crossbars,
            weight_bytes=cost.weight_bytes,
            dram_bytes=int(round(cost.dram_bytes)),
            latency_s=cost.latency_s,
            energy_j=cost.energy_j,
            schedule=cost.schedule,
        )
        new_ops.append(pop)
        for v, r in zip(exits, pop.results, strict=True):
            outer[v] = r
    missing = [v for v in ret.operands if v not in outer]
    if missing:  # e.g. an ONNX graph output that folds to a constant
        owner = missing[0].owner
        raise PimError(
            f"@main returns %{missing[0].name_hint or 'a value'} ('{getattr(owner, 'name', 'an argument')}'), "
            "which no layer computes; partitioning needs every result of @main to come from the network.",
            hint="Remove constant (or pass-through) outputs from the model before partitioning.",
        )
    new_ops.append(func.ReturnOp(*[outer[v] for v in ret.operands]))
    for op in reversed(list(block.ops)):
        op.detach()
        op.erase(safe_erase=False)
    block.add_ops(new_ops)


def _type_of(net: Network, v: object) -> Attribute:
    if isinstance(v, tuple):  # a partial sum: the layer's output type
        return net.layers[v[1]].op.results[0].type
    assert isinstance(v, SSAValue)
    return v.type
