"""`-v` / `-q` of the command-line tools: the `pimdsl` logger and the progress output.

    setup("pim-dse", verbose=args.verbose, quiet=args.quiet)

Default: INFO (what a step did, in one line) and progress; `-v`: DEBUG too (per-group times,
cache hits); `-q`: warnings and errors only, no progress. Messages go to stderr as
`tool: message`. Library use configures nothing: Python then shows warnings only.
"""

from __future__ import annotations

import logging
import sys

from pimdsl import progress

LOGGER = "pimdsl"


def level(verbose: int, quiet: bool) -> int:
    if quiet:
        return logging.WARNING
    return logging.DEBUG if verbose else logging.INFO


def setup(tool: str, *, verbose: int = 0, quiet: bool = False) -> None:
    """Send the `pimdsl` logger to stderr at the level -v/-q ask for; -q also hides progress."""
    logger = logging.getLogger(LOGGER)
    for handler in list(logger.handlers):  # a second call (tests) replaces the first
        if getattr(handler, "_pimdsl_tool", False):
            logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{tool}: %(message)s"))
    handler._pimdsl_tool = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(level(verbose, quiet))
    logger.propagate = False
    progress.set_quiet(quiet)
