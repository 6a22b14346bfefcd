"""Output targets of `pim-opt -t NAME`, registered lazily.

A target turns the final module into text: `emit(module, stream) -> None`. `mlir` (the default)
and xDSL's own targets come from xDSL; pimdsl's emitters are listed here as
`name -> (module, function)` and imported only when chosen, so `pim-opt` starts fast.
Add a target with one line, e.g. `"pim-asm": ("pimdsl.tools.pim_asm", "emit_pim_asm")`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import IO, Any

# target name -> (module, function(module: ModuleOp, stream: IO[str]) -> None)
TARGETS: dict[str, tuple[str, str]] = {
    "summary": ("pimdsl.summary", "emit_summary"),
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
