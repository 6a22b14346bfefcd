"""pimdsl's dialects, one per module. `get_all_dialects` is lazy so tools start fast;
`context()` is the one way to get an xDSL context that reads every level's IR."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from xdsl.ir import Dialect

if TYPE_CHECKING:
    from xdsl.context import Context


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


def register_all(ctx: Context) -> Context:
    """Register every dialect of `get_all_dialects` (lazily) in `ctx`; returns it."""
    for name, loader in get_all_dialects().items():
        ctx.register_dialect(name, loader)
    return ctx


def context(allow_unregistered: bool = False) -> Context:
    """A context that parses IR of every level (nn, partition, crossbar, pim_isa, upstream)."""
    from xdsl.context import Context

    return register_all(Context(allow_unregistered=allow_unregistered))


def _lazy(module: str, attr: str) -> Callable[[], Dialect]:
    def load() -> Dialect:
        import importlib

        return getattr(importlib.import_module(module), attr)

    return load
