"""pimdsl's passes, one per module named after the pass. `get_all_passes` is lazy."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from xdsl.passes import ModulePass

# pass name -> (module, class). Add a line here when you add a pass module.
PASSES: dict[str, tuple[str, str]] = {
    "crossbar-to-isa": ("pimdsl.passes.crossbar_to_isa", "CrossbarToIsaPass"),
    "ga-group": ("pimdsl.passes.ga_group", "GAGroupPass"),
    "lower-to-isa": ("pimdsl.passes.lower_to_isa", "LowerToIsaPass"),
    "partition": ("pimdsl.passes.partition", "PartitionPass"),
    "partition-to-crossbar": ("pimdsl.passes.partition_to_crossbar", "PartitionToCrossbarPass"),
    "pim-units": ("pimdsl.passes.pim_units", "UnitsPass"),
}


def get_all_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    """Name -> loader for every pass pim-opt knows (ours and xDSL's upstream ones)."""
    from xdsl.transforms import get_all_passes as upstream

    passes = dict(upstream())
    for name, (module, cls) in PASSES.items():
        passes[name] = _lazy(module, cls)
    return passes


def _lazy(module: str, cls: str) -> Callable[[], type[ModulePass]]:
    def load() -> type[ModulePass]:
        return getattr(importlib.import_module(module), cls)

    return load
