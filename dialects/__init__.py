"""pimdsl's dialects, one per module, registered by name in `DIALECTS` (the registry idiom of
`pimdsl.registry`). `context()` is the one way to get an xDSL context that reads every level's
IR, and the dialects of every installed xDSL plugin (`pimdsl.universe.multiverse`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from xdsl.ir import Dialect

if TYPE_CHECKING:
    from xdsl.context import Context

# dialect name -> "module:Dialect". Add a line here when you add a dialect module.
DIALECTS: dict[str, str] = {
    "nn": "pimdsl.dialects.nn:NN",
    "partition": "pimdsl.dialects.partition:Partition",
    "crossbar": "pimdsl.dialects.crossbar:Crossbar",
    "pim_isa": "pimdsl.dialects.pim_isa:PimIsa",
}


def get_all_dialects() -> dict[str, Callable[[], Dialect]]:
    """Name -> loader for every dialect pim-opt knows: xDSL's, pimdsl's and the plugins'."""
    from pimdsl.universe import multiverse

    return dict(multiverse().all_dialects)


def register_all(ctx: Context) -> Context:
    """Register every dialect of `get_all_dialects` (lazily) in `ctx`; returns it."""
    for name, loader in get_all_dialects().items():
        ctx.register_dialect(name, loader)
    return ctx


def context(allow_unregistered: bool = False) -> Context:
    """A context that parses IR of every level (nn, partition, crossbar, pim_isa, upstream)."""
    from xdsl.context import Context

    return register_all(Context(allow_unregistered=allow_unregistered))
