"""One registry idiom for everything pimdsl finds by name: dialects, passes, targets and
interpreter levels.

Each registry is a dict `name -> "module:attribute"` (the form of a Python entry point), read
only when the name is used, so tools start without importing what they do not run:

- `pimdsl.dialects.DIALECTS`: name -> an xDSL `Dialect`;
- `pimdsl.passes.PASSES`: name -> a `ModulePass` class;
- `pimdsl.tools.targets.TARGETS`: name -> an xDSL `Target` class (`pim-opt -t NAME`);
- `pimdsl.sim.runner.LEVELS`: dialect -> the factory of its interpreter functions.

The first three are published to xDSL as the `pimdsl` entry of the `xdsl.universe` entry-point
group (`pimdsl.universe`); other packages add theirs the same way (docs/extending.md).
Interpreter levels of other packages come from the `pimdsl.levels` entry-point group.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def resolve(ref: str) -> Any:
    """The object `ref` ("package.module:Attr.attr") names, imported now."""
    module, _, path = ref.partition(":")
    obj: Any = importlib.import_module(module)
    for part in path.split(".") if path else ():
        obj = getattr(obj, part)
    return obj


def lazy(ref: str) -> Callable[[], Any]:
    """A loader that imports what `ref` names on first call (xDSL's registry form)."""

    def load() -> Any:
        return resolve(ref)

    load.__doc__ = ref
    return load


def loaders(table: Mapping[str, str]) -> dict[str, Callable[[], Any]]:
    """`name -> loader` for a registry `name -> "module:attribute"`."""
    return {name: lazy(ref) for name, ref in table.items()}


def entry_point_table(group: str) -> dict[str, str]:
    """`name -> "module:attribute"` of the installed packages' entry points in `group`."""
    from importlib.metadata import entry_points

    return {ep.name: ep.value for ep in entry_points(group=group)}
