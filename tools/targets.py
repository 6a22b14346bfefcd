"""Output targets of `pim-opt -t NAME` (and of `xdsl-opt -t NAME`, through `pimdsl.universe`).

A target is an xDSL `Target`: a frozen dataclass with a `name` that writes the final module to a
stream. `TARGETS` registers them by name as "module:Class" (the registry idiom of
`pimdsl.registry`); this module holds pimdsl's, each importing its emitter only when it runs,
so tools start fast. `mlir` (the default) comes from xDSL. Add a target with a class here (or in
a package of its own, docs/extending.md) and one line in `TARGETS`.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import IO, ClassVar

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.utils.target import Target

# target name -> "module:TargetClass"
TARGETS: dict[str, str] = {
    "summary": "pimdsl.tools.targets:SummaryTarget",
    "pim-asm": "pimdsl.tools.targets:AsmTarget",
    "pim-json": "pimdsl.tools.targets:JsonTarget",
}


def _emit(ref: str, module: ModuleOp, output: IO[str]) -> None:
    """Run the emitter function `ref` ("module:function(module, stream)")."""
    path, _, function = ref.partition(":")
    getattr(importlib.import_module(path), function)(module, output)


@dataclass(frozen=True)
class SummaryTarget(Target):
    """Layers, crossbars and costs of the module at whatever level it is (pimdsl.summary)."""

    name: ClassVar[str] = "summary"

    def emit(self, ctx: Context, module: ModuleOp, output: IO[str]) -> None:
        _emit("pimdsl.summary:emit_summary", module, output)


@dataclass(frozen=True)
class AsmTarget(Target):
    """pim_isa IR as assembly text (pimdsl.emit.asm)."""

    name: ClassVar[str] = "pim-asm"

    def emit(self, ctx: Context, module: ModuleOp, output: IO[str]) -> None:
        _emit("pimdsl.emit.asm:emit_asm", module, output)


@dataclass(frozen=True)
class JsonTarget(Target):
    """pim_isa IR as the pim-json instruction stream (pimdsl.emit.json)."""

    name: ClassVar[str] = "pim-json"

    def emit(self, ctx: Context, module: ModuleOp, output: IO[str]) -> None:
        _emit("pimdsl.emit.json:emit_json", module, output)
