"""`python -m pimdsl opt ...` runs pim-opt, `python -m pimdsl run ...` pim-run (for environments
where the console scripts are not on PATH)."""

from __future__ import annotations

import sys

USAGE = """usage: python -m pimdsl {opt,run} [ARGS...]

  opt   the optimizer driver (pim-opt): ONNX or .mlir in, a pass pipeline, IR out
  run   the interpreter and simulator (pim-run)

`python -m pimdsl opt --help` and `python -m pimdsl run --help` list their options."""


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    tool, rest = args[0], args[1:]
    if tool == "opt":
        from pimdsl.tools.pim_opt import main as opt_main

        return opt_main(rest)
    if tool == "run":
        from pimdsl.tools.pim_run import main as run_main

        return run_main(rest)
    print(
        f"python -m pimdsl: unknown tool '{tool}'; expected opt or run.\n\n{USAGE}", file=sys.stderr
    )
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
