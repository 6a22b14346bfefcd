"""The layer graph of an `nn` network, as the partitioner sees it.

`extract_network` reads `func.func @main` of an nn-level module and lists

- the *weight layers* (`nn.conv2d`, `nn.linear`) in program (= topological) order, with their
  crossbar matrix shape (rows per group = Cin/groups*kh*kw, cols = Cout), groups, and windows
  (MVMs per inference: Hout*Wout for a conv, the input's rows for a linear);
- the *owner* of every other op: the weight layer whose partition runs it. An op goes with its
  producing weight layer, the latest one when it has several; an op fed only by the function's
  arguments (a pad before the first conv) has owner -1 and runs in the first partition;
- the activation *values* (function arguments and op results, not weights or constants) with
  their size per inference, for boundary traffic.

Sizes are per inference: the IR's leading dimension N is divided out, and the cost model
multiplies by the module's batch `pim.batch`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.ir import Block, Operation, SSAValue

from pimdsl.dialects import crossbar as xb
from pimdsl.dialects import nn
from pimdsl.errors import PimError
from pimdsl.isa.line_buffer import Window, pool_loads

# Ops that only name data: they are cloned into whichever partition uses them.
SOURCE_OPS = (nn.WeightOp, nn.ConstantOp)
# Ops that only reinterpret a row-major buffer: no vector-unit work.
FREE_OPS = (nn.ReshapeOp, nn.FlattenOp)


@dataclass(frozen=True)
class VectorStep:
    """One vector step as the lowering emits it (pimdsl.isa.codegen): per inference, `work`
    elements through the vector unit, `loaded` and `stored` elements of DRAM traffic, streamed
    in `pieces * ceil(span / local-memory elements)` chunks (load, compute and store of
    successive chunks overlap)."""

    work: int
    loaded: int
    stored: int
    pieces: int = 1
    span: int = 0
    # a max/average pool: its window geometry and channels; what it loads depends on the
    # chip's local memory (`line_buffer.pool_loads`), so the cost model computes `loaded`
    pool: tuple[Window, int] | None = None
    # a pool of a map a convolution stores: it runs on the cores that stored it, each on the
    # output rows whose windows are centred on rows it computed (the lowering's
    # `lower_pool.pool_rows`)
    split: bool = False
    # a channel concat of maps convolutions store (`concat_in_stores`): no step when layer
    # `in_stores_from` (its earliest producer) is in the same partition as its owner: the
    # producers then store into the concat's map
    in_stores_from: int = -1

    def loads(self, local_elements: int) -> int:
        """Elements loaded per inference with `local_elements` of local memory."""
        if self.pool is None:
            return self.loaded
        win, channels = self.pool
        return pool_loads(win, [(0, win.out_hw[0], 0, win.out_hw[1])], channels, local_elements)


@dataclass(frozen=True)
class VectorWork:
    """The non-weight ops a layer owns, as the lowering runs them: `fused` element-wise work
    done in the layer's own stores (elements per inference) by `fused_ops` ops per window, of
    which residual adds load `fused_loads` elements of their other operand, and the other ops'
    `steps`, each run by one core, loading its operands from DRAM, computing and storing."""

    fused: int = 0
    steps: tuple[VectorStep, ...] = ()
    fused_ops: int = 0
    fused_loads: int = 0

    def plus(self, other: VectorWork) -> VectorWork:
        return VectorWork(
            self.fused + other.fused,
            self.steps + other.steps,
            self.fused_ops + other.fused_ops,
            self.fused_loads + other.fused_loads,
        )


@dataclass(frozen=True)
class Layer:
    """A weight layer: one matrix (per group) that crossbars hold."""

    index: int
    name: str  # the weight's name in the weight file, or the op's position
    op: Operation
    kind: str  # "conv" or "linear"
    groups: int
    in_channels: int  # per group (the weight's input axis)
    kernel_area: int  # kh*kw; 1 for linear: crossbar rows per input channel
    cols: int  # output channels (all groups)
    windows: int  # MVMs per inference
    row_windows: int  # MVMs of one output row (conv: Wout): what a next layer waits for
    out_elements: int  # output elements per inference
    vector_elements: int  # elements per inference of the non-weight ops this layer owns
    # How the lowering runs those ops (`VectorWork`): a lone element-wise reader of the layer's
    # result is fused into the layer's stores; the others are steps of their own on one core.
    vector: VectorWork = field(default_factory=lambda: VectorWork())
    # A convolution's window geometry: how its cores read their input (line buffers).
    window: Window | None = None

    @property
    def rows(self) -> int:
        """Crossbar rows of one group's matrix."""
        return self.in_channels * self.kernel_area

    @property
    def cols_per_group(self) -> int:
        return self.cols // self.groups


@dataclass(frozen=True)
class Value:
    """An activation that may cross a partition boundary."""

    value: SSAValue
    elements: int  # per inference
    owner: int  # owner layer of the producer; -1: produced before any weight layer; -2: an argument
    consumer_layers: tuple[int, ...]  # weight layers reading it as their input (run on all units)
    consumer_owners: tuple[int, ...]  # owners of the other ops reading it (-1 as above)
    returned: bool
    # layers whose stores add it (a residual add fused into the layer, `residual_operand`):
    # they wait for it before their windows, as for their input
    fused_readers: tuple[int, ...] = ()


@dataclass
class Network:
    func: func.FuncOp
    layers: list[Layer]
    values: list[Value]
    owner: dict[Operation, int] = field(default_factory=dict)  # every non-source op of @main


def main_func(module: ModuleOp) -> func.FuncOp:
    for op in module.ops:
        if isinstance(op, func.FuncOp) and op.sym_name.data == "main":
            return op
    raise PimError(
        "the module has no 'func.func @main'.",
        hint="The network must be a func.func named @main (what the ONNX frontend produces).",
    )


def _per_inference(value: SSAValue) -> int:
    t = value.type
    if not isinstance(t, TensorType):
        return 0
    shape = [int(d) for d in t.get_shape()]
    total = math.prod(shape)
    return total // shape[0] if shape and shape[0] > 0 else total


def _layer_name(op: Operation, index: int) -> str:
    w = op.operands[1].owner
    if isinstance(w, nn.WeightOp):
        return w.key
    return f"{op.name.removeprefix('nn.')}{index}"


def _layer(op: Operation, index: int) -> Layer:
    if isinstance(op, nn.Conv2dOp):
        w = nn.shape_of(op.weight)
        y = nn.shape_of(op.output)
        return Layer(
            index=index,
            name=_layer_name(op, index),
            op=op,
            kind="conv",
            groups=op.groups.value.data,
            in_channels=w[1],
            kernel_area=w[2] * w[3],
            cols=w[0],
            windows=nn.layer_windows(op),
            row_windows=y[3],
            out_elements=_per_inference(op.output),
            vector_elements=0,
            window=Window((w[2], w[3]), nn.ints(op.strides), nn.ints(op.dilations), (y[2], y[3])),  # type: ignore[arg-type]
        )
    assert isinstance(op, nn.LinearOp)
    k, m = op.in_out
    windows = nn.layer_windows(op)
    return Layer(
        index=index,
        name=_layer_name(op, index),
        op=op,
        kind="linear",
        groups=1,
        in_channels=k,
        kernel_area=1,
        cols=m,
        windows=windows,
        row_windows=windows,
        out_elements=_per_inference(op.output),
        vector_elements=0,
    )


# Element-wise ops the lowering fuses into a weight layer's stores when they are its result's
# only reader (pimdsl.isa.lower_elementwise.UNARY).
FUSABLE_OPS = (nn.ReluOp, nn.SigmoidOp, nn.TanhOp, nn.ClipOp, nn.LeakyReluOp, nn.FakeQuantOp)


def _chain_root(v: SSAValue) -> Operation | None:
    """The weight layer whose stores compute `v` when `v` is read by one op only and is the
    layer's result or that of an op fused into its stores (the lowering's `lower_weight.materialise`
    fuses such a value's reader too); else None."""
    owner = v.owner
    if len(list(v.uses)) != 1 or not isinstance(owner, Operation):
        return None
    if isinstance(owner, (*nn.WEIGHT_LAYERS, xb.Col2imOp)):  # (col2im: a conv at crossbar level)
        return owner
    if isinstance(owner, FUSABLE_OPS):
        return _chain_root(owner.operands[0])
    other = residual_operand(owner)
    if other is not None:
        a, b = owner.operands
        return _chain_root(a if b is other else b)
    return None


def pool_excludes_padding(op: nn.MaxPoolOp | nn.AvgPoolOp) -> bool:
    """An average pool that divides by the taps inside the map (ONNX count_include_pad = 0)."""
    return isinstance(op, nn.AvgPoolOp) and any(nn.ints(op.pads)) and op.count_include_pad is None


def _stored_by_conv(v: SSAValue) -> bool:
    """Whether a convolution's stores write `v`: its result, or that of an op fused into them."""
    owner = v.owner
    if isinstance(owner, nn.Conv2dOp):
        return True
    if not isinstance(owner, Operation) or not _fused(owner):
        return False
    other = residual_operand(owner)
    a = owner.operands[0] if other is None else next(o for o in owner.operands if o is not other)
    return isinstance(_chain_root(a), nn.Conv2dOp)


def concat_in_stores(op: Operation) -> list[Operation] | None:
    """The convolutions whose stores write a channel concat's map directly (each at its
    channel offset), in operand order, or None: `op` joins feature maps along channels, each
    operand the result of a convolution (or of an op fused into its stores) read by `op` only.
    The lowering (`lower_weight.materialise`) does it when they are in one partition; the cost
    model then prices no step for the concat."""
    if not isinstance(op, nn.ConcatOp) or len(nn.shape_of(op.results[0])) != 4:
        return None
    if op.axis.value.data % 4 != 1 or len(set(op.operands)) != len(op.operands):
        return None
    roots = [_chain_root(v) for v in op.operands]
    if not all(isinstance(r, nn.Conv2dOp | xb.Col2imOp) for r in roots):
        return None
    return roots  # type: ignore[return-value]


def residual_operand(op: Operation) -> SSAValue | None:
    """The stored map that a residual add fused into a convolution's stores adds (the
    lowering's `lower_weight._residual`): `op` adds two maps of one shape, one computed by a
    convolution's stores, the other produced before that convolution (stored when it runs: the
    block's input, or a downsample block's other branch)."""
    if not isinstance(op, nn.AddOp):
        return None
    a, b = op.operands
    if a is b or len(nn.shape_of(a)) != 4 or nn.shape_of(a) != nn.shape_of(b):
        return None
    block = op.parent_block()
    for t, other in ((a, b), (b, a)):
        root = _chain_root(t)
        if not isinstance(root, nn.Conv2dOp) or block is None:
            continue
        if _position(other, block) < block.get_operation_index(root):
            return other
    return None


def _position(v: SSAValue, block: Block) -> int:
    """Where `v` is produced in `block`: its op's index, -1 for an argument."""
    owner = v.owner
    return block.get_operation_index(owner) if isinstance(owner, Operation) else -1


def _fused(op: Operation) -> bool:
    """Whether the lowering runs `op` in the stores of the weight layer before it."""
    if isinstance(op, FUSABLE_OPS):
        return _chain_root(op.operands[0]) is not None
    return residual_operand(op) is not None


def _vector_work(op: Operation) -> VectorWork:
    """What `op` costs the vector unit and DRAM per inference when lowered (codegen's rules:
    element-wise ops stream their operands in chunks of the local memory they share, a pool
    loads each output pixel's window, a global pool its whole input per channel chunk, a
    concat or a relayout only moves data)."""
    out = sum(_per_inference(r) for r in op.results)
    ins = [v for v in op.operands if not isinstance(v.owner, SOURCE_OPS)]
    first = _per_inference(ins[0]) if ins else out
    x = nn.shape_of(op.operands[0])
    if isinstance(op, FREE_OPS):
        # the same buffer, unless a feature map with more than one pixel is flattened: then
        # the lowering relays it out (NHWC to CHW order)
        if len(x) == 4 and x[2] * x[3] != 1:
            return VectorWork(steps=(VectorStep(0, out, out, 1, out),))
        return VectorWork()
    if _fused(op):  # in a weight layer's stores: one op per window, a residual add loads
        return VectorWork(
            fused=out, fused_ops=1, fused_loads=out if isinstance(op, nn.AddOp) else 0
        )
    if isinstance(op, nn.GlobalAvgPoolOp) or (
        isinstance(op, nn.AvgPoolOp) and tuple(nn.shape_of(op.results[0])[2:]) == (1, 1)
    ):
        return VectorWork(steps=(VectorStep(first, first, out, 1, first + x[1]),))
    if isinstance(op, nn.MaxPoolOp | nn.AvgPoolOp):
        taps = math.prod(nn.ints(op.kernel))
        y = nn.shape_of(op.results[0])
        win = Window(nn.ints(op.kernel), nn.ints(op.strides), op.dilation_values(), (y[2], y[3]))  # type: ignore[arg-type]
        split = not pool_excludes_padding(op) and _stored_by_conv(op.operands[0])
        return VectorWork(
            steps=(
                VectorStep(
                    out * taps,
                    out * taps,
                    out,
                    y[2] * y[3],
                    x[1] * (taps + 1),
                    pool=(win, x[1]),
                    split=split,
                ),
            )
        )
    if isinstance(op, nn.LRNOp):
        # per pixel: square, window sum (size taps), scale, add, power, multiply
        size = op.size.value.data
        return VectorWork(steps=(VectorStep(out * (size + 5), out, out, x[2] * x[3], 4 * x[1]),))
    if isinstance(op, nn.ConcatOp | nn.SliceOp | nn.TransposeOp | nn.PadOp):
        rows = x[2] if len(x) == 4 else 1
        return VectorWork(steps=(VectorStep(0, out, out, rows, out // rows),))
    parts = max(len(ins), 1)
    return VectorWork(steps=(VectorStep(out, out * parts, out, 1, out * (parts + 1)),))


def extract_network(module: ModuleOp) -> Network:
    """The layer graph of `@main` (nn level). Raise PimError when it has no weight layer."""
    fn = main_func(module)
    layers: list[Layer] = []
    owner: dict[Operation, int] = {}
    vector: list[int] = []
    steps: list[VectorWork] = []
    block = fn.body.block
    for op in block.ops:
        if isinstance(op, SOURCE_OPS) or isinstance(op, func.ReturnOp):
            continue
        if op.dialect_name() != "nn":
            raise PimError(
                f"op '{op.name}' in @main is not an nn op; partitioning works on nn-level IR.",
                hint="Run --partition on the output of the ONNX frontend (nn level).",
            )
        if isinstance(op, nn.WEIGHT_LAYERS):
            owner[op] = len(layers)
            layers.append(_layer(op, len(layers)))
            vector.append(0)
            steps.append(VectorWork())
            continue
        producers = [owner.get(o.owner, -1) for o in op.operands if isinstance(o.owner, Operation)]
        own = max(producers, default=-1)
        owner[op] = own
        if own >= 0 and not isinstance(op, FREE_OPS):
            vector[own] += sum(_per_inference(r) for r in op.results)
        if own >= 0:
            work = _vector_work(op)
            roots = concat_in_stores(op)
            if roots is not None:  # no step when its producers share its partition
                first = min(owner[r] for r in roots)
                work = VectorWork(
                    steps=tuple(replace(st, in_stores_from=first) for st in work.steps)
                )
            steps[own] = steps[own].plus(work)
    if not layers:
        raise PimError(
            "@main has no weight layer (nn.conv2d or nn.linear); there is nothing to place on crossbars."
        )
    layers = [
        Layer(
            **{
                **{f: getattr(L, f) for f in L.__dataclass_fields__},
                "vector_elements": vector[i],
                "vector": steps[i],
            }
        )
        for i, L in enumerate(layers)
    ]
    values: list[Value] = []
    candidates: list[tuple[SSAValue, int]] = [(a, -2) for a in block.args]
    for op in block.ops:
        if op in owner:
            candidates += [(r, owner[op]) for r in op.results]
    for v, own in candidates:
        c_layers: list[int] = []
        c_owners: list[int] = []
        fused: list[int] = []
        returned = False
        for use in v.uses:
            user = use.operation
            if isinstance(user, func.ReturnOp):
                returned = True
            elif isinstance(user, nn.WEIGHT_LAYERS) and use.index == 0:
                c_layers.append(owner[user])
            elif isinstance(user, nn.WEIGHT_LAYERS):
                raise PimError(
                    f"'{user.name}' ({layers[owner[user]].name}) takes a computed value as its weight "
                    "or bias; crossbars hold only constant weights.",
                    hint="Give weights as nn.weight ops.",
                )
            else:
                c_owners.append(owner[user])
                if residual_operand(user) is v:
                    fused.append(owner[user])
        values.append(
            Value(
                value=v,
                elements=_per_inference(v),
                owner=own,
                consumer_layers=tuple(sorted(set(c_layers))),
                consumer_owners=tuple(sorted(set(c_owners))),
                returned=returned,
                fused_readers=tuple(sorted(set(fused))),
            )
        )
    return Network(func=fn, layers=layers, values=values, owner=owner)
