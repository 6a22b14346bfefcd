"""Output targets of `pim-opt -t NAME`, registered lazily.

A target turns the final module into text: `emit(module, stream) -> None`. `mlir` (the default)
and xDSL's own targets come from xDSL; pimdsl's emitters are listed here as
`name -> (module, function)` and imported only when chosen, so `pim-opt` starts fast.
Add a target with one line, e.g. `"pim-asm": ("pimdsl.tools.pim_asm", "emit_pim_asm")`.
"""

from __future__ import annotations

import importlib
import math
from collections import Counter
from collections.abc import Callable
from typing import IO, Any

# target name -> (module, function(module: ModuleOp, stream: IO[str]) -> None)
TARGETS: dict[str, tuple[str, str]] = {
    "summary": ("pimdsl.tools.targets", "emit_summary"),
    "pim-asm": ("pimdsl.emit.asm", "emit_asm"),
    "pim-json": ("pimdsl.emit.json", "emit_json"),
}

Emitter = Callable[[Any, IO[str]], None]


def get_all_targets() -> dict[str, tuple[str, str]]:
    """Name -> (module, function) of every pimdsl target."""
    return dict(TARGETS)


def lazy_emitter(module: str, function: str) -> Emitter:
    """A `(ModuleOp, IO[str]) -> None` callable that imports `module.function` on first use.

    xDSL's opt driver tells a legacy emitter from a target factory by its two parameters, so
    the wrapper must keep this exact signature.
    """

    def emit(op: Any, stream: IO[str]) -> None:
        target: Emitter = getattr(importlib.import_module(module), function)
        target(op, stream)

    emit.__doc__ = f"{module}.{function}"
    return emit


def emit_summary(module: Any, stream: IO[str]) -> None:
    """`-t summary`: ops, weight layers, parameters and chip fit of an nn-level module."""
    from xdsl.dialects.builtin import TensorType

    from pimdsl import module_attrs

    kinds: Counter[str] = Counter()
    params = 0
    weight_params = 0  # elements of the conv/linear weight matrices: what crossbars hold
    for op in module.walk():
        if not op.name.startswith("nn."):
            continue
        kinds[op.name] += 1
        if op.name == "nn.weight":
            t = op.results[0].type
            params += math.prod(t.get_shape()) if isinstance(t, TensorType) else 0
        if op.name in ("nn.conv2d", "nn.linear"):
            t = op.operands[1].type
            weight_params += math.prod(t.get_shape()) if isinstance(t, TensorType) else 0
    refs = kinds["nn.weight"] + kinds["nn.constant"]
    layers = kinds["nn.conv2d"] + kinds["nn.linear"]
    lines = [
        f"ops         {sum(kinds.values()) - refs} nn ops ({refs} weight/constant references)",
        f"layers      {layers} weight layers ({kinds['nn.conv2d']} conv2d, {kinds['nn.linear']} linear)",
        f"parameters  {params:,} ({weight_params:,} in weight layers)",
    ]
    weights = module_attrs.get_weights(module)
    if weights:
        lines.append(f"weights     {' + '.join(weights)}")
    chip = module_attrs.get_chip(module, required=False)
    if chip is None:
        lines.append("chip        none (pass --chip NAME)")
    else:
        mb = 2**20
        need = weight_params * chip.weight_bits / 8
        lines.append(
            f"chip        {chip.name}: {chip.cores} cores x {chip.crossbars_per_core} crossbars of "
            f"{chip.crossbar_rows}x{chip.crossbar_cols}, {chip.capacity_bytes / mb:g} MB; "
            f"batch {module_attrs.get_batch(module)}"
        )
        ratio = need / chip.capacity_bytes
        verdict = (
            "fits on chip at once" if ratio <= 1
            else "does not fit: partitions with weight reloads are needed"
        )
        lines.append(
            f"fit         weights need {need / mb:.2f} MB at {chip.weight_bits}-bit "
            f"({ratio:.2f}x the crossbars, before tiling losses): {verdict}"
        )
    stream.write("\n".join(lines) + "\n")
