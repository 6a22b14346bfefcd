"""`pim-opt`: the console script of pimdsl's optimizer driver.

This module imports only the standard library at load time: `--version`, `--list-chips`,
`--list-passes` and `--list-models` are answered before xDSL (about 0.25 s to import) or onnx are loaded. The driver
itself is `pimdsl.tools.opt_driver.PimOptMain`, a subclass of xDSL's `xDSLOptMain`.

Exit codes: 0 success; 1 a user error (one paragraph on stderr, no traceback); 2 a
command-line syntax error (argparse). Anything else with a traceback is a bug in pimdsl.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence


def version_text(tool: str = "pim-opt") -> str:
    from importlib.metadata import PackageNotFoundError, version

    import pimdsl

    try:
        xdsl = version("xdsl")
    except PackageNotFoundError:  # pragma: no cover - xdsl is a dependency
        xdsl = "not installed"
    return f"{tool} (pimdsl {pimdsl.__version__}, xDSL {xdsl})"


def chips_table() -> str:
    """One line per chip preset: structure and weight capacity."""
    from pimdsl.chip import load_preset, preset_names

    rows = [("preset", "cores", "xbars/core", "crossbar", "w/a bits", "capacity", "description")]
    for name in preset_names():
        chip = load_preset(name)
        rows.append(
            (
                name,
                str(chip.cores),
                str(chip.crossbars_per_core),
                f"{chip.crossbar_rows}x{chip.crossbar_cols}x{chip.cell_bits}b",
                f"{chip.weight_bits}/{chip.act_bits}",
                f"{chip.capacity_bytes / 2**20:g} MB",
                chip.description,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row[:-1], widths, strict=True)) + "  " + row[-1]
        for row in rows
    )


def _options(argv: Sequence[str]) -> list[str]:
    """The tokens before a `--` separator (after it everything is a positional argument)."""
    return list(argv[: argv.index("--")]) if "--" in argv else list(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run pim-opt on `argv` (default: sys.argv[1:]) and return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    options = _options(args)
    try:
        if "--version" in options:
            print(version_text())
            return 0
        if "--list-chips" in options:
            print(chips_table())
            return 0
        from pimdsl.errors import PimError
    except BrokenPipeError:  # `pim-opt --list-chips | head`
        return 0
    try:
        if "--list-passes" in options:
            from pimdsl.passes import PASSES

            print("\n".join(PASSES))
            return 0
        if "--list-models" in options:
            from pimdsl.tools.opt.zoo import zoo_model_names  # no xDSL import

            print("\n".join(zoo_model_names()))
            return 0
        from pimdsl.tools.opt_driver import PimOptMain

        PimOptMain(args=args).run()
    except PimError as exc:
        print(f"pim-opt: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("pim-opt: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        if _names_output_file(options):  # never exit 0 without the files it was asked for
            from pimdsl.output import BROKEN_PIPE_NOTE

            print(f"pim-opt: error: {BROKEN_PIPE_NOTE}", file=sys.stderr)
            return 1
        return 0
    return 0


def _names_output_file(options: list[str]) -> bool:
    """Whether the command line asks for an output file (-o FILE, --report FILE, trace=, plot=)."""
    for i, token in enumerate(options):
        value = options[i + 1] if i + 1 < len(options) else "-"
        if token in ("-o", "--output-file", "--report") and value != "-":
            return True
        if token.startswith(("--output-file=", "--report=")) and not token.endswith("=-"):
            return True
        if "trace=" in token or "plot=" in token:
            return True
    return False


if __name__ == "__main__":
    sys.exit(main())
