"""pimdsl's xDSL universe: its dialects, passes and targets, for `xdsl-opt` and other tools.

pyproject.toml publishes `PIMDSL_UNIVERSE` as the `pimdsl` entry of the `xdsl.universe`
entry-point group, so plain `xdsl-opt` reads and writes every pimdsl level (nn, partition,
crossbar, pim_isa), runs pimdsl's passes and offers its targets. Everything is lazy: loading the
universe imports no dialect, pass or emitter.

`multiverse()` is what pim-opt registers: every installed universe (xDSL's, pimdsl's, and any
other package's, e.g. the worked example of docs/extending.md), with pimdsl's present even when
its entry point is not installed (a source checkout on PYTHONPATH).
"""

from __future__ import annotations

from xdsl.universe import Universe

from pimdsl.dialects import DIALECTS
from pimdsl.errors import PimError
from pimdsl.passes import PASSES
from pimdsl.registry import loaders
from pimdsl.tools.targets import TARGETS

PIMDSL_UNIVERSE = Universe(
    all_dialects=loaders(DIALECTS),
    all_passes=loaders(PASSES),
    all_targets=loaders(TARGETS),
)

_MULTIVERSE: Universe | None = None


def multiverse() -> Universe:
    """All installed universes merged (read once per process); a clash is a PimError."""
    global _MULTIVERSE
    if _MULTIVERSE is None:
        try:
            found = Universe.get_multiverse()
        except ValueError as exc:  # xDSL: two packages define one name, or a bad entry point
            raise PimError(
                f"the installed xDSL plugins (entry points 'xdsl.universe') conflict: {exc}",
                hint="Two installed packages register the same dialect, pass or target name; "
                "uninstall one (`pip list` shows them) or rename it in its universe.",
            ) from None
        except (ImportError, AttributeError) as exc:  # a plugin's universe does not load
            raise PimError(
                f"an installed xDSL plugin (entry points 'xdsl.universe') does not load: "
                f"{type(exc).__name__}: {exc}.",
                hint="Reinstall or uninstall that package (`pip list` shows them).",
            ) from None
        for mine, merged in (
            (PIMDSL_UNIVERSE.all_dialects, found.all_dialects),
            (PIMDSL_UNIVERSE.all_passes, found.all_passes),
            (PIMDSL_UNIVERSE.all_targets, found.all_targets),
        ):
            for name, loader in mine.items():
                merged.setdefault(name, loader)  # type: ignore[arg-type]
        _MULTIVERSE = found
    return _MULTIVERSE
