"""pimdsl's dialects, one per module. `get_all_dialects` is lazy so tools start fast."""

from __future__ import annotations

from collections.abc import Callable

from xdsl.ir import Dialect


def get_all_dialects() -> dict[str, Callable[[], Dialect]]:
    """Name -> loader for every dialect pim-opt knows (xDSL's upstream ones included)."""
    from xdsl.dialects import get_all_dialects as upstream

    def nn() -> Dialect:
        from pimdsl.dialects.nn import NN

        return NN

    dialects = dict(upstream())
    dialects["nn"] = nn
    # Later levels register here: partition, crossbar, pim_isa.
    for name, module, attr in (
        ("partition", "pimdsl.dialects.partition", "Partition"),
        ("crossbar", "pimdsl.dialects.crossbar", "Crossbar"),
        ("pim_isa", "pimdsl.dialects.pim_isa", "PimIsa"),
    ):
        dialects[name] = _lazy(module, attr)
    return dialects


def _lazy(module: str, attr: str) -> Callable[[], Dialect]:
    def load() -> Dialect:
        import importlib

        return getattr(importlib.import_module(module), attr)

    return load
