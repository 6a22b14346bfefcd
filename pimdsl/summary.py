"""`-t summary`: what a module holds, at whichever level it is (nn, partition, crossbar, pim_isa).

Every level reports the same network facts, counted from what that level holds so that they
agree across a lowering (tests/test_summary.py checks them against the ONNX model):

- weight layers: distinct conv/linear weights (a layer cut by a partition boundary is one layer,
  whatever number of pieces it has; a replicated layer is one layer);
- parameters in weight layers: each weight element once (nn and partition: the weights' shapes;
  crossbar and pim_isa: the distinct blocks the tiles hold, replicas counted once);

plus what the level adds: partitions and their schedules, crossbar tiles, cores, instructions.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, Any

from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.ir import Operation, SSAValue

MB = 2**20
WEIGHT_LAYER_OPS = ("nn.conv2d", "nn.linear")


@dataclass
class Facts:
    level: str
    layers: dict[str, str] = field(
        default_factory=dict
    )  # weight name -> kind (conv2d, linear; nn level)
    weight_params: int = 0
    lines: list[str] = field(default_factory=list)  # level-specific lines


def _elements(v: SSAValue) -> int:
    t = v.type
    return math.prod(t.get_shape()) if isinstance(t, TensorType) else 0


def _weight_of(v: SSAValue) -> Operation | None:
    """The nn.weight a weight operand is (through a partition.unit_weights piece)."""
    owner = v.owner
    while isinstance(owner, Operation) and owner.name == "partition.unit_weights":
        owner = owner.operands[0].owner
    return owner if isinstance(owner, Operation) and owner.name == "nn.weight" else None


def _nn_facts(module: ModuleOp, level: str) -> Facts:
    facts = Facts(level)
    for op in module.walk():
        if op.name in WEIGHT_LAYER_OPS:
            w = _weight_of(op.operands[1])
            key = w.key if w is not None else f"%{op.operands[1].name_hint or id(op)}"  # type: ignore[attr-defined]
            if key not in facts.layers:
                facts.layers[key] = op.name.split(".")[1]
                facts.weight_params += _elements(op.operands[1])
    return facts


def _blocks(facts: Facts, tiles: Iterable[tuple[str, tuple[int, ...], tuple[int, ...]]]) -> int:
    """Record the layers and parameters of (weight, rows, cols) blocks (below the nn level a
    layer's kind is not printed); returns how many blocks were given (replicas included)."""
    seen: set[tuple[str, tuple[int, ...], tuple[int, ...]]] = set()
    n = 0
    for weight, rows, cols in tiles:
        n += 1
        facts.layers.setdefault(weight, "")
        if (weight, rows, cols) not in seen:
            seen.add((weight, rows, cols))
            facts.weight_params += (rows[1] - rows[0]) * (cols[1] - cols[0])
    return n


def _partition_lines(module: ModuleOp, facts: Facts) -> None:
    from pimdsl.dialects import partition as part
    from pimdsl.module_attrs import get_schedule

    parts = [op for op in module.walk() if isinstance(op, part.PartitionOp)]
    latency = sum(p.latency_s.value.data for p in parts)
    schedules = Counter(p.schedule_name for p in parts)
    pieces = sum(1 for op in module.walk() if op.name in WEIGHT_LAYER_OPS)
    facts.lines.append(
        f"partitions  {len(parts)} ({', '.join(f'{n} {s}' for s, n in sorted(schedules.items()))} schedule; "
        f"policy {get_schedule(module)}); {pieces} layer pieces; cost model: {latency * 1e3:.3f} ms a batch"
    )


def _crossbar_facts(module: ModuleOp) -> Facts:
    from pimdsl.dialects import crossbar as xb

    facts = Facts("crossbar")
    tiles = [op for op in module.walk() if isinstance(op, xb.TileOp)]
    n = _blocks(facts, ((t.weight.data, xb.ints(t.rows), xb.ints(t.cols)) for t in tiles))
    parts = [op for op in module.walk() if isinstance(op, xb.PartitionOp)]
    cores = max((len({t.core_index for t in p.tiles()}) for p in parts), default=0)
    facts.lines.append(
        f"partitions  {len(parts)}; {n} crossbar tiles (replicas included); up to {cores} cores a partition"
    )
    return facts


def _isa_facts(module: ModuleOp) -> Facts:
    from pimdsl.dialects import pim_isa as isa

    facts = Facts("pim_isa")
    program = isa.find_program(module)
    assert program is not None
    loads = [op for op in program.walk() if isinstance(op, isa.LdWeightOp)]
    n = _blocks(facts, ((op.weight.data, isa.ints(op.rows), isa.ints(op.cols)) for op in loads))
    parts = program.partitions()
    cores = max((len(p.cores()) for p in parts), default=0)
    facts.lines.append(
        f"program     {len(parts)} partitions, up to {cores} cores each; {n} crossbar tiles written; "
        f"{sum(1 for _ in program.walk()):,} ops; {program.element_bytes}-byte elements"
    )
    return facts


def facts_of(module: ModuleOp) -> Facts:
    names = {op.name for op in module.walk()}
    if "pim_isa.program" in names:
        return _isa_facts(module)
    if "crossbar.partition" in names:
        return _crossbar_facts(module)
    if "partition.partition" in names:
        facts = _nn_facts(module, "partition")
        _partition_lines(module, facts)
        return facts
    return _nn_facts(module, "nn")


def emit_summary(module: Any, stream: IO[str]) -> None:
    """`-t summary` of a module at any level."""
    from pimdsl import module_attrs

    facts = facts_of(module)
    kinds = Counter(facts.layers.values())
    detail = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    lines = [] if facts.level in ("nn", "partition") else [f"level       {facts.level}"]
    if facts.level in ("nn", "partition"):
        ops = Counter(op.name for op in module.walk() if op.name.startswith("nn."))
        refs = ops["nn.weight"] + ops["nn.constant"]
        # each weight tensor once (a partition holding a piece of a layer refers to it again)
        tensors = {
            op.key: _elements(op.results[0]) for op in module.walk() if op.name == "nn.weight"
        }  # type: ignore[attr-defined]
        params = sum(tensors.values())
        lines.append(
            f"ops         {sum(ops.values()) - refs} nn ops ({refs} weight/constant references)"
        )
        lines.append(f"layers      {len(facts.layers)} weight layers ({detail})")
        lines.append(f"parameters  {params:,} ({facts.weight_params:,} in weight layers)")
    else:
        lines.append(f"layers      {len(facts.layers)} weight layers")
        lines.append(f"parameters  {facts.weight_params:,} in weight layers")
    lines += facts.lines
    weights = module_attrs.get_weights(module)
    if weights:
        lines.append(f"weights     {' + '.join(weights)}")
    chip = module_attrs.get_chip(module, required=False)
    if chip is None:
        lines.append("chip        none (pass --chip NAME)")
    else:
        need = facts.weight_params * chip.weight_bits / 8
        lines.append(
            f"chip        {chip.name}: {chip.cores} cores x {chip.crossbars_per_core} crossbars of "
            f"{chip.crossbar_rows}x{chip.crossbar_cols}, {chip.capacity_bytes / MB:g} MB; "
            f"batch {module_attrs.get_batch(module)}"
            + (f"; units of at most {chip.unit_crossbars} crossbars" if chip.unit_crossbars else "")
        )
        ratio = need / chip.capacity_bytes
        verdict = (
            "fits on chip at once"
            if ratio <= 1
            else "does not fit: partitions with weight reloads are needed"
        )
        lines.append(
            f"fit         weights need {need / MB:.2f} MB at {chip.weight_bits}-bit "
            f"({ratio:.2f}x the crossbars, before tiling losses): {verdict}"
        )
        from pimdsl.area import chip_area

        lines.append(f"area        {chip_area(chip).line()}")
    stream.write("\n".join(lines) + "\n")
