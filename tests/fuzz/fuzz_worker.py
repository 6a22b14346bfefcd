"""A long-lived process that runs pim-opt / pim-run in-process, one case per request.

Protocol: one JSON object per line on stdin, {"tool", "argv", "cwd"}; one JSON object per line
on the original stdout, {"code", "stdout", "stderr", "exception", "max_rss_kb"}. The tools'
own output is captured. The parent (fuzz_harness.py) enforces the time limit by killing this
process; the address-space limit set here turns a memory blow-up into a MemoryError.
Starting Python and importing xDSL once, not once per case, is what makes hundreds of cases
fit in CI's time budget.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import sys
import traceback

MEMORY_LIMIT = int(os.environ.get("PIMDSL_FUZZ_MEMORY", str(3 * 2**30)))


def _run(tool: str, argv: list[str]) -> tuple[int, str, str, str | None]:
    from pimdsl.tools import pim_opt, pim_run

    main = pim_opt.main if tool == "pim-opt" else pim_run.main
    out, err = io.StringIO(), io.StringIO()
    exception = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse
            code = exc.code if isinstance(exc.code, int) else 2
        except BaseException as exc:  # noqa: BLE001 - an escaped exception is a traceback
            code = 99
            exception = "".join(traceback.format_exception(exc, limit=-6))
    return int(code or 0), out.getvalue(), err.getvalue(), exception


def main() -> None:
    channel = os.fdopen(os.dup(1), "w")
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # stray writes to fd 1 must not break the protocol
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    home = os.getcwd()
    for line in sys.stdin:
        request = json.loads(line)
        os.chdir(request.get("cwd") or home)
        code, out, err, exception = _run(request["tool"], request["argv"])
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        channel.write(
            json.dumps(
                {
                    "code": code,
                    "stdout": out[-4000:],
                    "stderr": err[-6000:],
                    "exception": exception,
                    "max_rss_kb": rss,
                }
            )
            + "\n"
        )
        channel.flush()


if __name__ == "__main__":
    main()
