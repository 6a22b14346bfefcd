"""The `partition` dialect: the network cut into partitions that each fit on chip (level 2).

`func.func @main` becomes a sequence of `partition.partition` ops run one after another. A
partition's operands are its entry values (living in DRAM), its results its exit values
(written to DRAM); inside, `partition.load` copies an entry from DRAM to the chip and
`partition.store` copies an exit back, so every DRAM transfer is an op (several when a residual
edge crosses a boundary). Between them the partition's part of the `nn` graph runs unchanged:

    %y = partition.partition 0 (%x) {span = array<i64: 0, 3>, layers = ["conv1.weight", ...],
           replication = array<i64: 4, 1>, crossbars = 12 : i64, core_crossbars = array<i64: 9, 3>,
           weight_bytes = 1234 : i64, dram_bytes = 5678 : i64, latency_s = 1.2e-04 : f64,
           energy_j = 3.4e-05 : f64} : (tensor<1x3x32x32xf32>) -> tensor<1x16x32x32xf32> {
    ^bb0(%in: tensor<1x3x32x32xf32>):
      %a = partition.load %in : tensor<1x3x32x32xf32>
      ... nn ops ...
      %s = partition.store %r : tensor<1x16x32x32xf32>
      partition.yield %s : tensor<1x16x32x32xf32>
    }

`span` is the partition's range [start, end) of units (see pimdsl/units.py), `layers` the weight
layers it holds (by weight name), `replication` one count per layer, `core_crossbars` the
crossbars used on each core by the placement, the rest the cost model's estimates. The optional
`placement = [array<i64: 0, 1>, array<i64>]` is a placement hint, one core list per layer (empty:
no hint): the cores that layer's tiles go to (pimdsl/placement_hint.py).

A weight layer cut by a boundary runs in every partition holding some of its units: there its
weight goes through `partition.unit_weights`, which keeps only those units' blocks (zero
elsewhere), the layer's op carries `pim.piece = array<i64: first, end>` (its units here), and
the running partial sum travels through DRAM: each later piece adds the loaded partial
(`nn.add` marked `pim.accumulate`); the bias is added once, by the last piece. Numerically the
sum of the pieces equals the whole layer.

Verifiers: partitions are numbered 0, 1, ... in order; their spans are contiguous from unit 0
and the last ends at the module's unit count (`pim.n_units`, when present); each partition fits
the chip of the module (`pim.chip`): per-core crossbars within a core, no more cores than the
chip has, and the total crossbars equal to their sum; replication counts >= 1 and at most the
layer's windows (MVMs per inference); latency_s and
energy_j finite and >= 0; byte and crossbar counts >= 0; a placement hint has one core list per
layer, each of distinct cores of the chip.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import ClassVar

from xdsl.dialects.builtin import (
    I64,
    ArrayAttr,
    DenseArrayBase,
    FloatAttr,
    IntegerAttr,
    ModuleOp,
    StringAttr,
    TensorType,
    f64,
    i64,
)
from xdsl.dialects.utils import EnumAttribute
from xdsl.ir import Attribute, Dialect, Operation, Region, SSAValue
from xdsl.irdl import (
    IRDLOperation,
    ParsePropInAttrDict,
    VarConstraint,
    base,
    irdl_attr_definition,
    irdl_op_definition,
    lazy_traits_def,
    operand_def,
    opt_prop_def,
    prop_def,
    region_def,
    result_def,
    var_operand_def,
    var_result_def,
)
from xdsl.traits import HasParent, IsTerminator, Pure
from xdsl.utils.exceptions import VerifyException

from pimdsl.chip import Chip, from_attr
from pimdsl.dialects.common import I64_ARRAY, BracketedEnum, enum_constr
from pimdsl.dialects.common import Schedule as Schedule
from pimdsl.dialects.common import i64_array as i64_array
from pimdsl.dialects.common import ints as ints
from pimdsl.module_attrs import CHIP

AnyTensor = TensorType[Attribute]
N_UNITS = "pim.n_units"  # module attribute: how many units the network has
PIECE = "pim.piece"  # on a weight layer cut by a boundary: its units in this partition
ACCUMULATE = "pim.accumulate"  # on the nn.add that adds the loaded partial sum


def _fail(op: Operation, message: str) -> None:
    raise VerifyException(f"'{op.name}': {message}")


def _enclosing_module(op: Operation) -> ModuleOp | None:
    current: Operation | None = op
    while current is not None:
        if isinstance(current, ModuleOp):
            return current
        current = current.parent_op()
    return None


_CHIPS: dict[int, tuple[Attribute, Chip]] = {}


def _chip_of(module: ModuleOp | None) -> Chip | None:
    if module is None or CHIP not in module.attributes:
        return None
    attr = module.attributes[CHIP]
    cached = _CHIPS.get(id(attr))
    if cached is None or cached[0] is not attr:
        cached = (attr, from_attr(attr))
        _CHIPS[id(attr)] = cached
    return cached[1]


@irdl_attr_definition
class ScheduleAttr(BracketedEnum, EnumAttribute[Schedule]):
    """`#partition.schedule<batch>`: the lowering schedule a partition's costs assume."""

    name = "partition.schedule"


@irdl_op_definition
class PartitionOp(IRDLOperation):
    """One partition: operands = entry values in DRAM, results = exit values in DRAM."""

    name = "partition.partition"
    index = prop_def(IntegerAttr[I64])
    span = prop_def(I64_ARRAY)
    layers = prop_def(ArrayAttr[StringAttr])
    replication = prop_def(I64_ARRAY)
    crossbars = prop_def(IntegerAttr[I64])
    core_crossbars = prop_def(I64_ARRAY)
    weight_bytes = prop_def(IntegerAttr[I64])
    dram_bytes = prop_def(IntegerAttr[I64])
    latency_s = prop_def(FloatAttr)
    energy_j = prop_def(FloatAttr)
    # the lowering schedule the costs assume (a `Schedule`; absent: layer), which
    # crossbar-to-isa's default `schedule=auto` emits
    schedule = opt_prop_def(enum_constr(ScheduleAttr))
    # a placement hint: per layer the cores its tiles go to (empty: first-fit decreasing)
    placement = opt_prop_def(ArrayAttr[DenseArrayBase])
    inputs = var_operand_def(AnyTensor)
    outputs = var_result_def(AnyTensor)
    body = region_def("single_block")
    irdl_options = (ParsePropInAttrDict(),)
    assembly_format = (
        "$index `(` $inputs `)` attr-dict `:` functional-type($inputs, $outputs) $body"
    )

    def __init__(
        self,
        index: int,
        inputs: Sequence[SSAValue],
        output_types: Sequence[Attribute],
        body: Region,
        *,
        span: tuple[int, int],
        layers: Sequence[str],
        replication: Sequence[int],
        crossbars: int,
        core_crossbars: Sequence[int],
        weight_bytes: int,
        dram_bytes: int,
        latency_s: float,
        energy_j: float,
        schedule: str | None = None,
    ):
        super().__init__(
            operands=[inputs],
            result_types=[output_types],
            regions=[body],
            properties={
                "index": IntegerAttr(index, i64),
                "span": i64_array(span),
                "layers": ArrayAttr([StringAttr(n) for n in layers]),
                "replication": i64_array(replication),
                "crossbars": IntegerAttr(crossbars, i64),
                "core_crossbars": i64_array(core_crossbars),
                "weight_bytes": IntegerAttr(weight_bytes, i64),
                "dram_bytes": IntegerAttr(dram_bytes, i64),
                "latency_s": FloatAttr(latency_s, f64),
                "energy_j": FloatAttr(energy_j, f64),
                **({"schedule": ScheduleAttr(Schedule(schedule))} if schedule is not None else {}),
            },
        )

    @property
    def number(self) -> int:
        return self.index.value.data

    @property
    def unit_span(self) -> tuple[int, int]:
        s = ints(self.span)
        return s[0], s[1]

    @property
    def layer_names(self) -> list[str]:
        return [a.data for a in self.layers.data]

    @property
    def layer_hints(self) -> list[tuple[int, ...]]:
        """The placement hint's cores of each layer (empty: none)."""
        if self.placement is None:
            return [()] * len(self.layers.data)
        return [ints(a) for a in self.placement.data]

    @property
    def schedule_name(self) -> str:
        return self.schedule.data.value if self.schedule is not None else "layer"

    def verify_(self) -> None:
        block = self.body.block
        if [a.type for a in block.args] != list(self.inputs.types):
            _fail(self, "block argument types must equal the operand types")
        last = block.last_op
        if not isinstance(last, YieldOp):
            _fail(self, "body must end with partition.yield")
        assert isinstance(last, YieldOp)
        if list(last.values.types) != list(self.outputs.types):
            _fail(self, "partition.yield operand types must equal the partition's result types")
        span = ints(self.span)
        where = f"partition {self.number}"
        if len(span) != 2 or not 0 <= span[0] < span[1]:
            _fail(
                self, f"{where}: span must be [start, end) with 0 <= start < end, got {list(span)}"
            )
        if len(ints(self.replication)) != len(self.layers.data):
            _fail(
                self,
                f"{where}: {len(self.layers.data)} layers but "
                f"{len(ints(self.replication))} replication counts",
            )
        if min(ints(self.replication), default=1) < 1:
            _fail(
                self,
                f"{where}: replication counts must be >= 1 (one replica is the layer "
                f"itself), got {list(ints(self.replication))}",
            )
        self._verify_costs(where)
        self._verify_windows(where)
        self._verify_order(span)
        self._verify_fit(_chip_of(_enclosing_module(self)))
        self._verify_placement(where, _chip_of(_enclosing_module(self)))

    def _verify_placement(self, where: str, chip: Chip | None) -> None:
        """A placement hint names, per layer, distinct cores the chip has."""
        if self.placement is None:
            return
        hints = self.layer_hints
        if len(hints) != len(self.layers.data):
            _fail(
                self,
                f"{where}: {len(self.layers.data)} layers but {len(hints)} placement core lists "
                "(one per layer, array<i64> for a layer without a hint)",
            )
        cores = chip.cores if chip is not None else None
        for name, hint in zip(self.layer_names, hints, strict=True):
            bad = [c for c in hint if c < 0 or (cores is not None and c >= cores)]
            if bad or len(set(hint)) != len(hint):
                have = f"; chip '{chip.name}' has cores 0-{cores - 1}" if chip and cores else ""
                _fail(
                    self,
                    f"{where}: the placement hint of layer '{name}' must name distinct cores "
                    f"of the chip, got {list(hint)}{have}",
                )

    def _verify_windows(self, where: str) -> None:
        """A replica computes a range of its layer's windows: at most one replica per window."""
        from pimdsl.dialects import nn

        reps = dict(zip(self.layer_names, ints(self.replication), strict=True))
        for op in self.body.block.ops:
            if not isinstance(op, nn.WEIGHT_LAYERS) or len(op.operands) < 2:
                continue
            src = op.operands[1].owner
            if isinstance(src, UnitWeightsOp):
                src = src.weight.owner
            r = reps.get(src.key, 1) if isinstance(src, nn.WeightOp) else 1
            if r > (windows := nn.layer_windows(op)):
                _fail(
                    self,
                    f"{where}: layer '{nn.layer_label(op)}' has replication {r} but only "
                    f"{windows} window{'s' * (windows != 1)} (MVMs per inference); each "
                    f"replica computes at least one, so give it at most {windows}",
                )

    def _verify_costs(self, where: str) -> None:
        """The cost model's numbers: finite, and never negative (a hand edit can break them)."""
        for key in ("latency_s", "energy_j"):
            v = getattr(self, key).value.data
            if not (math.isfinite(v) and v >= 0):
                _fail(
                    self,
                    f"{where}: {key} must be a finite number >= 0, got {v}; re-run "
                    "--partition to recompute the costs",
                )
        for key in ("weight_bytes", "dram_bytes", "crossbars"):
            v = getattr(self, key).value.data
            if v < 0:
                _fail(self, f"{where}: {key} must be >= 0, got {v}")
        if min(ints(self.core_crossbars), default=0) < 0:
            _fail(
                self, f"{where}: core_crossbars must be >= 0, got {list(ints(self.core_crossbars))}"
            )

    def _verify_order(self, span: tuple[int, ...]) -> None:
        prev = self.prev_op
        while prev is not None and not isinstance(prev, PartitionOp):
            prev = prev.prev_op
        where = f"partition {self.number}"
        if prev is None:
            if self.number != 0 or span[0] != 0:
                _fail(
                    self,
                    f"{where}: the first partition must be number 0 and start at unit 0, "
                    f"got number {self.number} starting at unit {span[0]}",
                )
        else:
            if self.number != prev.number + 1:
                _fail(
                    self,
                    f"{where}: follows partition {prev.number}; partitions are numbered in order",
                )
            if prev.unit_span[1] != span[0]:
                _fail(
                    self,
                    f"{where}: starts at unit {span[0]} but partition {prev.number} ends at "
                    f"unit {prev.unit_span[1]}; partitions must cover the units in order, "
                    "each exactly once",
                )
        nxt = self.next_op
        while nxt is not None and not isinstance(nxt, PartitionOp):
            nxt = nxt.next_op
        module = _enclosing_module(self)
        if nxt is None and module is not None and N_UNITS in module.attributes:
            attr = module.attributes[N_UNITS]
            if not isinstance(attr, IntegerAttr):
                _fail(self, f"module attribute {N_UNITS} must be an integer (i64), got {attr}")
            assert isinstance(attr, IntegerAttr)
            if span[1] != attr.value.data:
                _fail(
                    self,
                    f"{where}: the last partition ends at unit {span[1]} but the network "
                    f"has {attr.value.data} units; every unit must be in a partition",
                )

    def _verify_fit(self, chip: Chip | None) -> None:
        per_core = ints(self.core_crossbars)
        where = f"partition {self.number}"
        total = self.crossbars.value.data
        if sum(per_core) != total:
            _fail(self, f"{where}: crossbars = {total} but core_crossbars sum to {sum(per_core)}")
        if chip is None:
            return
        if len(per_core) > chip.cores:
            _fail(
                self, f"{where}: uses {len(per_core)} cores but chip '{chip.name}' has {chip.cores}"
            )
        for core, n in enumerate(per_core):
            if n > chip.crossbars_per_core:
                _fail(
                    self,
                    f"{where}: core {core} holds {n} crossbars but chip '{chip.name}' has "
                    f"{chip.crossbars_per_core} per core; the partition does not fit",
                )


@irdl_op_definition
class YieldOp(IRDLOperation):
    """The exit values of a partition (results of partition.store)."""

    name = "partition.yield"
    values = var_operand_def(AnyTensor)
    traits = lazy_traits_def(lambda: (IsTerminator(), HasParent(PartitionOp)))
    assembly_format = "($values^ `:` type($values))? attr-dict"

    def __init__(self, values: Sequence[SSAValue]):
        super().__init__(operands=[values])


class _CopyOp(IRDLOperation):
    T: ClassVar = VarConstraint("T", base(TensorType))
    source = operand_def(T)
    result = result_def(T)
    traits = lazy_traits_def(lambda: (HasParent(PartitionOp),))
    assembly_format = "$source attr-dict `:` type($source)"

    def __init__(self, source: SSAValue):
        super().__init__(operands=[source], result_types=[source.type])


@irdl_op_definition
class LoadOp(_CopyOp):
    """Copy an entry value from DRAM to the chip (a DRAM read of the whole batch)."""

    name = "partition.load"


@irdl_op_definition
class StoreOp(_CopyOp):
    """Copy an exit value from the chip to DRAM (a DRAM write of the whole batch)."""

    name = "partition.store"


@irdl_op_definition
class UnitWeightsOp(IRDLOperation):
    """The part of a weight held by some units of its layer: the blocks `boxes` kept, zero elsewhere.

    `boxes` is a flat list of [out_lo, out_hi, in_lo, in_hi] ranges on the weight's output axis
    `out_axis` and input axis (the other of the first two axes); `units` = [first, end) names
    the units for readers."""

    name = "partition.unit_weights"
    T: ClassVar = VarConstraint("T", base(TensorType))
    weight = operand_def(T)
    units = prop_def(I64_ARRAY)
    boxes = prop_def(I64_ARRAY)
    out_axis = prop_def(IntegerAttr[I64])
    result = result_def(T)
    irdl_options = (ParsePropInAttrDict(),)
    traits = lazy_traits_def(lambda: (Pure(),))
    assembly_format = "$weight attr-dict `:` type($weight)"

    def __init__(
        self, weight: SSAValue, units: tuple[int, int], boxes: Sequence[int], out_axis: int
    ):
        super().__init__(
            operands=[weight],
            result_types=[weight.type],
            properties={
                "units": i64_array(units),
                "boxes": i64_array(boxes),
                "out_axis": IntegerAttr(out_axis, i64),
            },
        )

    def box_list(self) -> list[tuple[int, int, int, int]]:
        b = ints(self.boxes)
        return [(b[i], b[i + 1], b[i + 2], b[i + 3]) for i in range(0, len(b), 4)]

    def verify_(self) -> None:
        b = ints(self.boxes)
        axis = self.out_axis.value.data
        if axis not in (0, 1):
            _fail(self, f"out_axis must be 0 or 1, got {axis}")
        if not b or len(b) % 4:
            _fail(
                self,
                f"boxes must be a non-empty list of [out_lo, out_hi, in_lo, in_hi], got {len(b)} values",
            )
        shape = self.weight.type.get_shape()  # type: ignore[union-attr]
        n_out, n_in = shape[axis], shape[1 - axis]
        for o0, o1, i0, i1 in self.box_list():
            if not (0 <= o0 < o1 <= n_out and 0 <= i0 < i1 <= n_in):
                _fail(
                    self,
                    f"box [{o0}, {o1}) x [{i0}, {i1}) is outside the weight's "
                    f"{n_out} outputs x {n_in} inputs",
                )
        u = ints(self.units)
        if len(u) != 2 or not 0 <= u[0] < u[1]:
            _fail(self, f"units must be [first, end) with first < end, got {list(u)}")


Partition = Dialect(
    "partition",
    [PartitionOp, YieldOp, LoadOp, StoreOp, UnitWeightsOp],
    [ScheduleAttr],
)
