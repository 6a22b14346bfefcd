"""The pass pipeline of `-p` (and the pass flags): parsed with errors that say what to write,
and each pass run with upstream and plugin passes' failures named as theirs."""

from __future__ import annotations

import difflib
import logging
import time
from collections.abc import Callable, Collection

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass, PassPipeline
from xdsl.utils.arg_spec import parse_pipeline
from xdsl.utils.exceptions import ArgSpecParseError

from pimdsl.errors import PimError

_log = logging.getLogger("pimdsl.opt")

Between = Callable[[ModulePass | None, ModuleOp, ModulePass | None], None]


def build_pipeline(
    spec: str, available: dict[str, Callable[[], type[ModulePass]]], callback: Between
) -> PassPipeline:
    """The pipeline `spec` names ("a{opt=1},b"); bad syntax, unknown passes or options are a
    PimError with the fix."""
    try:
        names = [p.name for p in parse_pipeline(spec)]
    except ArgSpecParseError as exc:
        raise PimError(
            f"bad pass pipeline '{spec}': {str(exc).rstrip()}\nhint:",
            hint="pass options are separated by spaces, not commas, and a text value such as a "
            "path must be in double quotes inside single ones: "
            "--partition='strategy=greedy objective=edp', --ga-group='trace=\"t.json\"'.",
        ) from None
    for name in names:
        if name not in available:
            close = difflib.get_close_matches(name, list(available), n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise PimError(f"unknown pass '{name}'.{hint} `pim-opt --help` lists the passes.")
    try:
        return PassPipeline.parse_spec(available, spec, callback)
    except ValueError as exc:
        raise PimError(
            f"bad pass options in '{spec}': {str(exc).rstrip('.')}.",
            hint="Options go as NAME{opt=value opt2=value} or --NAME='opt=value opt2=value'.",
        ) from None


def run_pass(one: ModulePass, ctx: Context, prog: ModuleOp, available: Collection[str]) -> None:
    """Run one pass. pimdsl's passes raise PimError for user errors and keep tracebacks
    for bugs; an exception from an upstream xDSL pass means it does not apply to this IR."""
    from pimdsl import progress
    from pimdsl.passes import PASSES

    try:
        t0 = time.perf_counter()
        with progress.step("pim-opt", f"pass {one.name}"):
            one.apply(ctx, prog)
        _log.info("pass %s: %.2f s", one.name, time.perf_counter() - t0)
    except PimError:
        raise
    except Exception as exc:
        if one.name in PASSES:
            raise
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        failed = f"({type(exc).__name__}{': ' + detail if detail else ''})"
        if one.name in plugin_pass_names(available):
            raise PimError(
                f"the pass '{one.name}' of an installed plugin package failed on this IR {failed}.",
                hint="It comes from another package's xdsl.universe entry point, not from "
                "pimdsl; `pim-opt --help` lists the installed passes by origin.",
            ) from None
        raise PimError(
            f"the xDSL pass '{one.name}' failed on this IR {failed}.",
            hint="It is an upstream xDSL pass that does not handle pimdsl's dialects; pimdsl's "
            "own passes are listed by `pim-opt --list-passes`.",
        ) from None


def plugin_pass_names(available: Collection[str]) -> list[str]:
    """The passes in `available` that neither pimdsl nor xDSL defines: other packages'."""
    from xdsl.transforms import get_all_passes as xdsl_passes

    from pimdsl.passes import PASSES

    upstream = set(xdsl_passes())
    return sorted(n for n in available if n not in PASSES and n not in upstream)
