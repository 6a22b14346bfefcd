"""pim-opt's command-line options beyond xDSL's, and its --help: pimdsl's passes first, other
packages' next, xDSL's in a wrapped list, then the targets and the chip presets."""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Callable, Collection, Mapping

from xdsl.passes import ModulePass

from pimdsl.tools.opt.pipeline import plugin_pass_names


def add_arguments(arg_parser: argparse.ArgumentParser, targets: Collection[str]) -> None:
    """Add pimdsl's options to xDSL's parser (-v becomes --verbose) and reword xDSL's help."""
    version = arg_parser._option_string_actions.pop("-v", None)  # -v is --verbose here
    if version is not None:
        version.option_strings = [o for o in version.option_strings if o != "-v"]
    group = arg_parser.add_argument_group("pimdsl")
    group.add_argument(
        "--chip",
        metavar="NAME|FILE",
        help="chip preset or .toml/.json file; sets the module attribute pim.chip",
    )
    group.add_argument(
        "--batch",
        metavar="N",
        type=int,
        help="batch size the partitions are pipelined over (pim.batch)",
    )
    group.add_argument(
        "--model",
        metavar="NAME",
        help="compile a zoo model instead of a file (see --list-models)",
    )
    group.add_argument(
        "--report",
        metavar="FILE.json|-",
        help="after the pipeline, write the partition report (JSON; '-': a table, "
        "on stdout with -o FILE, else on stderr so stdout stays parseable IR)",
    )
    group.add_argument(
        "--print-ir-after-all",
        action="store_true",
        help="print the IR to stderr after every pass",
    )
    group.add_argument(
        "--no-verify-each",
        action="store_true",
        help="verify the input and the output only, not between passes (faster on big IR)",
    )
    group.add_argument("--list-chips", action="store_true", help="list the chip presets and exit")
    group.add_argument("--list-models", action="store_true", help="list the zoo models and exit")
    group.add_argument("--list-passes", action="store_true", help="list pimdsl's passes and exit")
    group.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log each pass and its time (-vv: more)",
    )
    group.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress output on stderr (warnings and errors only)",
    )
    for action in arg_parser._actions:  # xDSL's help lists all ~140 pass names inline
        if action.dest == "passes":
            action.help = (
                "pass pipeline, e.g. 'partition{strategy=greedy},ga-group' (see the list below)"
            )
        elif action.dest == "target":
            action.help = f"output target (default mlir): {', '.join(targets)}"
        elif action.dest == "disable_verify":
            action.help = "do not verify the IR at all (not even the input and the output)"
        elif "--version" in action.option_strings:
            action.help = "print pim-opt's and xDSL's versions and exit"
    arg_parser.formatter_class = argparse.RawDescriptionHelpFormatter


def help_epilog(
    available_passes: Mapping[str, Callable[[], type[ModulePass]]], targets: Collection[str]
) -> str:
    """The end of --help: the passes by origin, the targets and the chip presets."""
    from pimdsl.chip import load_preset, preset_names
    from pimdsl.passes import PASSES

    lines = ["pimdsl passes (-p NAME{opt=v} or a flag --NAME / --NAME='opt=v ...'):"]
    width = max((len(n) for n in PASSES), default=0) + 2
    for name in PASSES:
        lines.append(f"  {name.ljust(width)}{pass_summary(available_passes, name)}")
    if not PASSES:
        lines.append("  (none registered yet)")
    plugins = plugin_pass_names(available_passes)
    if plugins:
        lines.append("passes of other installed packages (xdsl.universe entry points):")
        lines += [
            f"  {name.ljust(width)}{pass_summary(available_passes, name)}" for name in plugins
        ]
    upstream = sorted(n for n in available_passes if n not in PASSES and n not in plugins)
    lines.append(f"xDSL passes ({len(upstream)}):")
    lines += textwrap.wrap(
        ", ".join(upstream),
        96,
        initial_indent="  ",
        subsequent_indent="  ",
        break_on_hyphens=False,
    )
    lines.append(f"targets (-t): {', '.join(targets)}")
    lines.append("chip presets (--chip NAME, or a .toml/.json file; see --list-chips):")
    for name in preset_names():
        chip = load_preset(name)
        lines.append(f"  {name.ljust(18)}{chip.description}")
    return "\n".join(lines)


def pass_summary(available_passes: Mapping[str, Callable[[], type[ModulePass]]], name: str) -> str:
    """The first line of the pass's docstring."""
    try:
        cls = available_passes[name]()
    except ImportError as exc:
        return f"(not importable: {exc})"
    doc = (cls.__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""
