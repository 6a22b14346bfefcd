"""ONNX -> `nn` IR: walk the graph in topological order and convert or fold each node."""

from __future__ import annotations

import heapq
import math
import os

import numpy as np
import onnx
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Block, Operation, Region, SSAValue
from xdsl.utils.exceptions import VerifyException

from pimdsl import limits
from pimdsl.dialects import nn
from pimdsl.dialects.nn import shape_of
from pimdsl.errors import PimError

# Importing the converter modules registers them.
from pimdsl.frontend import layers, quantize, slicing, tensor_ops  # noqa: F401
from pimdsl.frontend.context import (
    CONVERTERS,
    HANDLES_CONSTANTS,
    MAX_INLINE_ELEMENTS,
    ImportContext,
    value_name,
)
from pimdsl.frontend.folding import FOLDERS, FoldNode
from pimdsl.frontend.loading import Inferred, OpenModel, infer_shapes, open_model, static_inputs
from pimdsl.frontend.quantize import dequantized
from pimdsl.frontend.sidecar import write_sidecar
from pimdsl.frontend.values import Const, Value
from pimdsl.module_attrs import set_weights

ONNX_DOMAINS = ("", "ai.onnx")


def supported_ops() -> tuple[list[str], list[str]]:
    """(ops converted to nn ops, ops supported only on constants, i.e. folded at import)."""
    return sorted(CONVERTERS), sorted(set(FOLDERS) - set(CONVERTERS))


def import_onnx(
    path: str | os.PathLike[str],
    *,
    model: onnx.ModelProto | None = None,
    batch: int = 1,
    sidecar: str | os.PathLike[str] | None = None,
) -> ModuleOp:
    """Import an ONNX model as a verified `builtin.module` holding `func.func @main` of nn ops.

    `path` is recorded as the weight file (module attribute `pim.weights`): every initializer
    (and every Constant node's tensor) used as a tensor becomes `nn.weight "<name>"`, never
    inline data. Tensors computed at import (folded) that are too large to inline are written
    to a side-car `.npz` file, `sidecar` or else a content-addressed file in the user cache
    folder, and `pim.weights` names both files. With `model`, an already loaded ModelProto is
    imported instead of reading `path`. A symbolic first (batch) dimension of an input is set
    to `batch`. Every user error raises PimError."""
    path_str = os.fspath(path)
    if batch < 1:
        raise PimError(f"batch must be >= 1, got {batch}.")
    opened = open_model(path_str, model)
    inputs = static_inputs(opened, batch)
    nodes = _live_nodes(opened)
    _check_supported(opened, nodes)
    inferred = infer_shapes(opened, inputs)

    graph = opened.model.graph
    users: dict[str, list[onnx.NodeProto | None]] = {}
    for node in nodes:
        for name in node.input:
            users.setdefault(name, []).append(node)
    for o in graph.output:
        users.setdefault(o.name, []).append(None)
    consumers = {name: len(us) for name, us in users.items()}

    block = Block(arg_types=[nn.tensor(s) for _, s in inputs])
    ctx = ImportContext(opened, block, consumers, users)
    for (name, _), arg in zip(inputs, block.args, strict=True):
        arg.name_hint = value_name(name)
        ctx.values[name] = arg
    weights = opened.weights
    for name in weights.tensors:  # initializers, and Constant nodes treated as initializers
        ctx.values[name] = Const(
            weights.shape(name),
            weights.dtype(name),
            lambda n=name: weights.load(n),
            initializer=name,
        )
    for node in nodes:
        if node.op_type == "Constant" and node.output[0] in weights.constants:
            continue  # its tensor is an initializer (registered above)
        _convert(ctx, node, inferred)

    ctx.node = onnx.helper.make_node("Output", [], [], name="graph outputs")
    results: list[SSAValue] = []
    for o in graph.output:
        v = ctx.values.get(o.name)
        if v is None:
            raise PimError(f"graph output '{o.name}' is not produced by any node.", where=path_str)
        results.append(v if isinstance(v, SSAValue) else ctx.materialise(v))
    block.add_op(func.ReturnOp(*results))
    main = func.FuncOp(
        "main", ([a.type for a in block.args], [r.type for r in results]), Region(block)
    )
    module = ModuleOp([main])
    if ctx.computed:
        protected = [path_str] if model is None else []
        written = write_sidecar(ctx.computed, sidecar, source=path_str, protected=protected)
        set_weights(module, [path_str, written])
    else:
        set_weights(module, path_str)
    try:
        module.verify()
    except VerifyException as e:  # every op was verified when built: this is a pimdsl bug
        raise PimError(
            f"the imported module does not verify (a pimdsl bug, please report it): {e}",
            where=path_str,
        ) from None
    return module


def _live_nodes(opened: OpenModel) -> list[onnx.NodeProto]:
    """The nodes the graph outputs depend on, in a topological order close to the file's."""
    graph = opened.model.graph
    nodes = list(graph.node)
    producer: dict[str, int] = {}
    for i, node in enumerate(nodes):
        for o in node.output:
            if o:
                producer[o] = i
    live: set[int] = set()
    stack = [producer[o.name] for o in graph.output if o.name in producer]
    while stack:
        i = stack.pop()
        if i in live:
            continue
        live.add(i)
        stack.extend(producer[n] for n in nodes[i].input if n in producer)
    deps = {i: {producer[n] for n in nodes[i].input if n in producer} for i in live}
    users: dict[int, list[int]] = {}
    for i, ds in deps.items():
        for d in ds:
            users.setdefault(d, []).append(i)
    waiting = {i: len(ds) for i, ds in deps.items()}
    ready = [i for i, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for u in users.get(i, []):
            waiting[u] -= 1
            if waiting[u] == 0:
                heapq.heappush(ready, u)
    if len(order) != len(live):
        stuck = nodes[min(set(live) - set(order))]
        raise PimError(
            f"the graph has a cycle through node '{stuck.name}' (op {stuck.op_type}).",
            where=opened.path,
            hint="Check the model with onnx.checker.check_model.",
        )
    return [nodes[i] for i in order]


def _check_supported(opened: OpenModel, nodes: list[onnx.NodeProto]) -> None:
    bad = [
        n
        for n in nodes
        if n.domain not in ONNX_DOMAINS
        or (n.op_type not in CONVERTERS and n.op_type not in FOLDERS)
    ]
    if not bad:
        return
    first = bad[0]
    name = first.name or f"<unnamed, output '{first.output[0]}'>"
    op = first.op_type if first.domain in ONNX_DOMAINS else f"{first.domain}.{first.op_type}"
    others = sorted({n.op_type for n in bad[1:]} - {first.op_type})
    more = ""
    if len(bad) > 1:
        more = (
            f" ({len(bad) - 1} more unsupported node(s)"
            + (f", ops {', '.join(others)}" if others else "")
            + ")"
        )
    converted, folded = supported_ops()
    raise PimError(
        f"node '{name}' (op {op}, opset {opened.opset}) is not supported by pimdsl's ONNX frontend{more}. "
        f"Supported ops: {', '.join(converted)}; on constants only (folded at import): {', '.join(folded)}.",
        where=opened.path,
        hint="Replace it in the model with supported ops (e.g. re-export or simplify the model with "
        "onnx-simplifier), or ask for it to be added to pimdsl/frontend.",
    )


def _convert(ctx: ImportContext, node: onnx.NodeProto, inferred: Inferred) -> None:
    ctx.node = node
    op = node.op_type
    ins = [ctx.input(i) for i in range(len(node.input))]
    all_const = all(v is None or isinstance(v, Const) for v in ins)
    first_new = ctx.block.last_op
    outs: list[Value | None]
    if op in HANDLES_CONSTANTS or (op in CONVERTERS and not (all_const and op in FOLDERS)):
        outs = list(CONVERTERS[op](ctx, node))
    elif op in FOLDERS and all_const:
        outs = list(_fold(ctx, node, ins, inferred))
    else:
        runtime = next(n for n, v in zip(node.input, ins, strict=True) if isinstance(v, SSAValue))
        raise ctx.error(
            f"pimdsl supports {op} only on constants (folded at import), but its input '{runtime}' "
            "is computed at run time.",
            hint="Export with constant folding (torch.onnx.export(..., do_constant_folding=True)) or "
            "simplify the model with onnx-simplifier.",
        )
    _verify_new_ops(ctx, first_new)
    for name, v in zip(node.output, outs, strict=False):
        if not name:
            continue
        if v is None:
            if ctx.consumers.get(name, 0):
                raise ctx.error(f"its output '{name}' is used, but pimdsl does not produce it.")
            continue
        got = v.shape if isinstance(v, Const) else shape_of(v)
        want = inferred.shapes.get(name)
        if want is not None and got != want:
            raise ctx.error(
                f"pimdsl computed shape {list(got)} for output '{name}' but ONNX shape inference "
                f"says {list(want)} (a pimdsl bug, please report it)."
            )
        if isinstance(v, Const) and v.origin is None:
            v.origin = name
        ctx.values[name] = v


def _fold(
    ctx: ImportContext, node: onnx.NodeProto, ins: list[Value | None], inferred: Inferred
) -> list[Const]:
    """The node's outputs computed with numpy: at once when they are small (shape vectors,
    scalars), lazily (when first needed) for a single output ONNX says is large, so a folded
    weight is computed only while its side-car entry is written."""
    fold = FoldNode(node.op_type, ctx.attrs(), ctx.opset)
    label = ctx.node_label()
    consts = [v if isinstance(v, Const) else None for v in ins]

    def run() -> list[np.ndarray]:
        arrays = [c.value() if c is not None else None for c in consts]
        n = limits.folded_elements(node.op_type, arrays)  # before numpy allocates it
        if n is not None and n > limits.RUN_ELEMENTS.maximum:
            raise PimError(
                f"{label}: folding it at import time would make a tensor of {n:,} "
                f"elements, over the limit of {limits.RUN_ELEMENTS.maximum:,} "
                "(docs/limits.md).",
                where=ctx.path,
            )
        try:
            outs = FOLDERS[node.op_type](fold, arrays)
        except (ValueError, KeyError, IndexError, TypeError) as e:
            raise PimError(
                f"{label}: cannot fold it at import time: {e}.", where=ctx.path
            ) from None
        return [np.asarray(a) for a in outs]

    out = node.output[0] if len(node.output) == 1 else ""
    shape, dtype = inferred.shapes.get(out), inferred.dtypes.get(out)
    if shape is not None and dtype is not None and math.prod(shape) > MAX_INLINE_ELEMENTS:
        outs = [Const(shape, dtype, lambda: run()[0].astype(dtype, copy=False))]
    else:
        outs = [Const.of(a) for a in run()]
    if node.op_type == "DequantizeLinear" and consts[0] is not None and consts[1] is not None:
        outs[0].quant = dequantized(
            fold, consts[0], consts[1], consts[2] if len(consts) > 2 else None
        )
    return outs


def _verify_new_ops(ctx: ImportContext, before: Operation | None) -> None:
    op = before.next_op if before is not None and before.parent is not None else ctx.block.first_op
    while op is not None:
        try:
            op.verify()
        except VerifyException as e:
            raise ctx.error(f"it gives an invalid {op.name}: {e}") from None
        op = op.next_op
