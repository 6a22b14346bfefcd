"""`-v` / `-q` of the command-line tools: the `pimdsl` logger and the progress output.

    setup("pim-dse", verbose=args.verbose, quiet=args.quiet)

Default: `default` (pim-dse: INFO, its summary lines; pim-opt and pim-run: WARNING, as they
print their results themselves) and progress; each `-v` one level more (INFO: each step and its
time; DEBUG: per-group times, cache hits); `-q`: warnings and errors only, no progress. Messages go to stderr as
`tool: message`. Library use configures nothing: Python then shows warnings only.
"""

from __future__ import annotations

import logging
import sys

from pimdsl import progress

LOGGER = "pimdsl"
# pim-opt and pim-run print their results themselves: by default their log says nothing
# (-v: INFO, -vv: DEBUG); pim-dse's default INFO is its summary lines
QUIET_DEFAULT = logging.WARNING


def level(verbose: int, quiet: bool, default: int = logging.INFO) -> int:
    if quiet:
        return logging.WARNING
    return max(logging.DEBUG, default - 10 * verbose)


def setup(tool: str, *, verbose: int = 0, quiet: bool = False, default: int = logging.INFO) -> None:
    """Send the `pimdsl` logger to stderr at the level -v/-q ask for; -q also hides progress."""
    logger = logging.getLogger(LOGGER)
    for handler in list(logger.handlers):  # a second call (tests) replaces the first
        if getattr(handler, "_pimdsl_tool", False):
            logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{tool}: %(message)s"))
    handler._pimdsl_tool = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(level(verbose, quiet, default))
    logger.propagate = False
    progress.set_quiet(quiet)
