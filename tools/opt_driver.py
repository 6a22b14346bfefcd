"""The `pim-opt` driver: xDSL's opt driver with pimdsl's dialects, passes, inputs and targets.

`pimdsl.tools.pim_opt.main` is the console script; it answers `--version` and the list options
before this module (and xDSL) is imported, so only real work pays for the import.

What pimdsl adds to `xDSLOptMain`:

- inputs: `.mlir`, `.onnx` (through `pimdsl.frontend.import_onnx`) and `--model NAME` (a zoo
  model saved once into the cache folder and imported from there);
- every registered pass is also a flag, kept in command-line order (`--partition --ga-group`,
  `--ga-group='objective=edp seed=7'`); flags and `-p` pieces form one pipeline;
- `--chip NAME|FILE` and `--batch N` set the module attributes `pim.chip` / `pim.batch`;
- `--report FILE.json|-` writes the partition report after the pipeline;
- `--print-ir-after-all` (stderr, MLIR style) and `--no-verify-each` (verify the input and the
  output only, not between passes: the verifier is the slow part on big IR);
- user errors become `PimError`s that name the place (file:line of the op); `-o` is written
  atomically, never over the input file.
"""

from __future__ import annotations

import argparse
import bisect
import difflib
import hashlib
import io
import itertools
import logging
import os
import re
import shutil
import sys
import tempfile
import textwrap
import time
from collections.abc import Collection, Sequence
from importlib import import_module
from importlib.util import find_spec
from pathlib import Path
from typing import IO, Any

from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation
from xdsl.parser import Parser
from xdsl.passes import ModulePass, PassPipeline
from xdsl.printer import Printer
from xdsl.utils.arg_spec import parse_pipeline
from xdsl.utils.exceptions import (
    ArgSpecParseError,
    DiagnosticException,
    ParseError,
    VerifyException,
)
from xdsl.xdsl_opt_main import xDSLOptMain

import pimdsl
from pimdsl import lexer_guard, limits, module_attrs, output
from pimdsl.cache import cache_dir
from pimdsl.chip import Chip, load_chip
from pimdsl.errors import INPUT_EXCEPTIONS, PimError, input_error
from pimdsl.ir_checks import check_defined_before_use

_log = logging.getLogger("pimdsl.opt")

lexer_guard.install()  # xDSL's string-literal rule backtracks exponentially on a missing quote

DESCRIPTION = (
    "pim-opt: the pimdsl optimizer driver. Reads an .mlir or .onnx file (or --model NAME, or "
    "stdin), runs a pass pipeline and prints the result. Passes are given with -p 'a{opt=1},b' "
    "or as flags in order: --partition --ga-group='objective=edp seed=7'."
)

# xDSL's targets that work on any IR; the others are hidden (see register_all_targets).
UPSTREAM_TARGETS = ("mlir",)

# Options that take a value: the token after them is never a pass flag.
_VALUE_OPTIONS = (
    "-o",
    "--output-file",
    "-t",
    "--target",
    "-f",
    "--frontend",
    "--chip",
    "--batch",
    "--model",
    "--report",
)


# --- argv: passes as flags ----------------------------------------------------------------------


def rewrite_pass_flags(
    argv: Sequence[str], pass_names: Collection[str], option_strings: Collection[str]
) -> list[str]:
    """Turn pass flags and `-p` pieces into one `-p` pipeline, keeping their order.

    `--NAME` -> `NAME`, `--NAME='a=1 b=2'` -> `NAME{a=1 b=2}`. Driver options win over a pass
    of the same name. An unknown `--flag` raises a `PimError` with the closest names.
    """
    pieces: list[str] = []
    out: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        if token == "--":
            out.extend(argv[i:])
            break
        if token in ("-p", "--passes") and i + 1 < len(argv):
            pieces.append(argv[i + 1])
            i += 2
            continue
        if token.startswith("--passes="):
            pieces.append(token.removeprefix("--passes="))
            i += 1
            continue
        if token.startswith("-p") and not token.startswith("--") and len(token) > 2:
            pieces.append(token[2:])
            i += 1
            continue
        if token in _VALUE_OPTIONS and i + 1 < len(argv):
            out.extend(argv[i : i + 2])
            i += 2
            continue
        if token.startswith("--"):
            name, eq, value = token[2:].partition("=")
            flag = f"--{name}"
            if flag not in option_strings and name in pass_names:
                value = value.strip()
                if value.startswith("{") and value.endswith("}"):
                    value = value[1:-1].strip()
                pieces.append(f"{name}{{{value}}}" if eq and value else name)
                i += 1
                continue
            if flag not in option_strings and not any(o.startswith(flag) for o in option_strings):
                close = difflib.get_close_matches(
                    name,
                    [*pass_names, *(o[2:] for o in option_strings if o.startswith("--"))],
                    n=3,
                    cutoff=0.6,
                )
                hint = f" Did you mean {', '.join('--' + c for c in close)}?" if close else ""
                raise PimError(
                    f"unknown option or pass '{token}'.{hint} "
                    "`pim-opt --help` lists the options and passes."
                )
        out.append(token)
        i += 1
    pipeline = ",".join(p.strip().strip(",") for p in pieces if p.strip().strip(","))
    if pipeline:
        out[:0] = ["-p", pipeline]
    return out


# --- the zoo model cache ------------------------------------------------------------------------


def _zoo_fingerprint() -> str:
    """A short hash of the zoo's source, so a changed builder never serves a stale model."""
    digest = hashlib.sha256(pimdsl.__version__.encode())
    spec = find_spec("pimdsl.models")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        for path in sorted(Path(folder).rglob("*.py")):
            digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def _zoo() -> Any:
    try:
        models = import_module("pimdsl.models")
    except ModuleNotFoundError as exc:  # pragma: no cover - the package always has the folder
        raise PimError("the model zoo (pimdsl.models) is not installed.") from exc
    if not hasattr(models, "save_model"):
        raise PimError(
            "the model zoo (pimdsl.models.save_model) is not available in this build.",
            hint="Give an .onnx or .mlir file instead of --model.",
        )
    return models


def zoo_model_names() -> list[str]:
    """Names `--model` accepts, as the zoo lists them."""
    return sorted(_zoo().list_models())


def cached_model(name: str) -> Path:
    """The ONNX file of zoo model `name`, saved into the cache folder on first use.

    The model is written into a fresh folder that is renamed into place, so concurrent runs
    (lit runs tests in parallel) never read a half-written file.
    """
    models = _zoo()
    folder = cache_dir() / "models" / f"{name}-{_zoo_fingerprint()}"
    path = folder / f"{name}.onnx"
    if path.exists():
        return path
    folder.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=folder.parent))
    scratch.chmod(0o777 & ~_umask())  # mkdtemp makes it private; the cache is shareable
    try:
        models.save_model(name, str(scratch / f"{name}.onnx"))
        try:
            scratch.rename(folder)
        except OSError:  # another process got there first: use its copy
            if not path.exists():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    for stale in folder.parent.iterdir():  # copies built by an older zoo
        if stale != folder and re.fullmatch(rf"{re.escape(name)}-[0-9a-f]{{10}}", stale.name):
            shutil.rmtree(stale, ignore_errors=True)
    return path


# --- locating ops in the source -----------------------------------------------------------------


class _LocatingParser(Parser):
    """xDSL's parser, remembering where each op starts so errors can name file:line."""

    def __init__(self, ctx: Any, text: str, name: str, offsets: dict[Operation, int]):
        super().__init__(ctx, text, name)
        self._offsets = offsets

    def parse_operation(self) -> Operation:
        start = self._current_token.span.start
        op = super().parse_operation()
        self._offsets[op] = start
        return op


def parse_error_text(exc: ParseError) -> str:
    """xDSL's parse error (file:line:col, the line, a caret, the message), with a long line
    (a chip attribute is one 1,500-character line) cut to 120 characters around the caret."""
    text = str(exc)
    if all(len(line) <= 160 for line in text.splitlines()):
        return text
    try:
        span = exc.span
        content = span.input.content
        start = min(span.start, len(content))
        line_start = span.input.get_start_of_line(start)
        line = content[line_start : span.input.get_end_of_line(start)]
        if isinstance(line, bytes):
            line = line.decode("utf-8", "replace")
        col = len(
            content[line_start:start].decode("utf-8", "replace")
            if isinstance(content, bytes)
            else content[line_start:start]
        )
        lo, hi = max(0, col - 60), col + 60
        head, tail = ("..." if lo else ""), ("..." if hi < len(line) else "")
        return (
            f"{span.get_location()}\n{head}{line[lo:hi]}{tail}\n"
            f"{' ' * (len(head) + col - lo)}^\n{exc.msg}"
        )
    except Exception:  # pragma: no cover - keep xDSL's text if the span is unusual
        return text


def decode_mlir(data: bytes, name: str) -> str:
    """The text of an .mlir file; a binary file (an .onnx given as .mlir) is a PimError."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise PimError(
            f"'{name}' is not a text .mlir file (it is not UTF-8; an .onnx model, perhaps?).",
            hint="Name an ONNX model *.onnx (pim-opt: or pass -f onnx); an .mlir file holds MLIR text.",
        ) from None


def locate_op(
    op: Operation, offsets: dict[Operation, int], source: tuple[str, str, int], newlines: list[int]
) -> str | None:
    """'file:line' of a parsed op (`newlines`: the offsets of the source's newlines), else None."""
    name, text, line_offset = source
    if op not in offsets or not text:
        return None
    return f"{name}:{bisect.bisect_left(newlines, offsets[op]) + 1 + line_offset}"


def verify_error_detail(module: ModuleOp, exc: VerifyException) -> tuple[Operation | None, str]:
    """The first op of `module` that fails verification on its own, and its message."""
    culprit: Operation | None = None
    detail = str(exc)
    # innermost first, as xDSL verifies: an outer op's verifier may read its nested ops'
    # properties and assumes they verified
    for op in sorted(module.walk(), key=_depth, reverse=True):
        try:
            op.verify(verify_nested_ops=False)
        except VerifyException as inner:
            culprit, detail = op, str(inner)
            break
        except Exception:  # noqa: BLE001 - only looking for the message; `exc` is the verdict
            continue
    detail = detail.removeprefix("Operation does not verify: ")
    if culprit is not None and culprit.name not in detail:
        detail = f"'{culprit.name}': {detail}"
    return culprit, detail


def _depth(op: Operation) -> int:
    depth, parent = 0, op.parent_op()
    while parent is not None:
        depth, parent = depth + 1, parent.parent_op()
    return depth


def parse_mlir_file(ctx: Any, path: str) -> ModuleOp:
    """Parse and verify an .mlir file; parse and verifier errors name file:line (for pim-run)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise PimError(f"cannot read '{path}': {exc.strerror}.") from None
    text = decode_mlir(data, path)
    offsets: dict[Operation, int] = {}
    try:
        module = _LocatingParser(ctx, text, path, offsets).parse_module()
    except ParseError as exc:
        raise PimError(f"parse error: {parse_error_text(exc)}".rstrip()) from None
    newlines = [i for i, c in enumerate(text) if c == "\n"]

    def place(op: Operation) -> str:
        return locate_op(op, offsets, (path, text, 0), newlines) or path

    limits.check_module_shapes(module, place)
    check_defined_before_use(module, place)
    try:
        module.verify()
    except VerifyException as exc:
        culprit, detail = verify_error_detail(module, exc)
        where = (
            locate_op(culprit, offsets, (path, text, 0), newlines) if culprit else None
        ) or path
        raise PimError(f"{where}: invalid IR: {detail}") from None
    return module


# --- the driver ---------------------------------------------------------------------------------


class PimOptMain(xDSLOptMain):
    """xDSL's opt driver with pimdsl's dialects, passes, frontends, targets and options."""

    version_format = f"pim-opt (pimdsl {pimdsl.__version__}, xDSL {{xdsl_version}})"

    def __init__(self, args: Sequence[str] | None = None, description: str = DESCRIPTION):
        # register_all_arguments rewrites this list in place: xDSL parses the list we pass.
        self._argv = list(sys.argv[1:] if args is None else args)
        self._op_offsets: dict[Operation, int] = {}
        self._source: tuple[str, str, int] = ("", "", 0)  # name, text, line offset of the chunk
        self._chunk_offset = 0
        self._captured: _CapturedText | None = None
        # the side-car weight file this run wrote next to -o (removed again if the run fails)
        self._sidecar_written: str | None = None
        self._chip: Chip | None = None
        super().__init__(description, self._argv)
        if self.args.chip is not None:
            self._chip = load_chip(self.args.chip)
        if self.args.batch is not None and self.args.batch < 1:
            raise PimError(f"--batch must be a positive integer, got {self.args.batch}.")
        if self.args.batch is not None:
            limits.check(self.args.batch, limits.BATCH, what="--batch")
        if self.args.model is not None and self.args.input_file is not None:
            raise PimError(
                f"give either an input file ('{self.args.input_file}') or --model "
                f"{self.args.model}, not both."
            )

    # --- registration -------------------------------------------------------------------------

    def register_all_dialects(self) -> None:
        from pimdsl.dialects import register_all

        register_all(self.ctx)  # every installed universe's dialects (pimdsl.universe)

    def register_all_passes(self) -> None:
        from pimdsl.passes import PASSES, get_all_passes

        passes = get_all_passes()  # every installed universe's passes, pimdsl's included
        for name in PASSES:  # ours first, so --help lists them first
            self.register_pass(name, passes[name])
        for name, factory in passes.items():
            if name not in self.available_passes:
                self.register_pass(name, factory)

    def register_all_targets(self) -> None:
        from xdsl.targets import get_all_targets as xdsl_targets

        from pimdsl.tools.targets import TARGETS
        from pimdsl.universe import multiverse

        # xDSL's targets other than mlir (llvm, arm-asm, riscv-asm, x86-asm, mps, csl, wat,
        # wgsl) need their own dialects and crash on nn/partition/pim_isa IR, so pim-opt does
        # not offer them; pimdsl's and other packages' targets come from their universes
        hidden = set(xdsl_targets()) - set(UPSTREAM_TARGETS)
        found = multiverse().all_targets
        ours = [*UPSTREAM_TARGETS, *TARGETS]  # listed first, in this order
        for name in [*ours, *sorted(found.keys() - hidden - set(ours))]:
            self.available_targets[name] = found[name]

    def register_all_frontends(self) -> None:
        super().register_all_frontends()
        self.available_frontends["mlir"] = self._parse_mlir
        self.available_frontends["onnx"] = self._import_onnx

    def register_all_arguments(self, arg_parser: argparse.ArgumentParser) -> None:
        super().register_all_arguments(arg_parser)
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
        group.add_argument(
            "--list-chips", action="store_true", help="list the chip presets and exit"
        )
        group.add_argument(
            "--list-models", action="store_true", help="list the zoo models and exit"
        )
        group.add_argument(
            "--list-passes", action="store_true", help="list pimdsl's passes and exit"
        )
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
                action.help = f"output target (default mlir): {', '.join(self.available_targets)}"
            elif action.dest == "disable_verify":
                action.help = "do not verify the IR at all (not even the input and the output)"
            elif "--version" in action.option_strings:
                action.help = "print pim-opt's and xDSL's versions and exit"
        arg_parser.formatter_class = argparse.RawDescriptionHelpFormatter
        if {"-h", "--help"} & set(self._argv):
            arg_parser.epilog = self.help_epilog()
        options = set(arg_parser._option_string_actions)
        self._argv[:] = rewrite_pass_flags(self._argv, self.available_passes, options)

    def help_epilog(self) -> str:
        from pimdsl.chip import load_preset, preset_names
        from pimdsl.passes import PASSES

        lines = ["pimdsl passes (-p NAME{opt=v} or a flag --NAME / --NAME='opt=v ...'):"]
        width = max((len(n) for n in PASSES), default=0) + 2
        for name in PASSES:
            lines.append(f"  {name.ljust(width)}{self._pass_summary(name)}")
        if not PASSES:
            lines.append("  (none registered yet)")
        plugins = plugin_pass_names(self.available_passes)
        if plugins:
            lines.append("passes of other installed packages (xdsl.universe entry points):")
            lines += [f"  {name.ljust(width)}{self._pass_summary(name)}" for name in plugins]
        upstream = sorted(n for n in self.available_passes if n not in PASSES and n not in plugins)
        lines.append(f"xDSL passes ({len(upstream)}):")
        lines += textwrap.wrap(
            ", ".join(upstream),
            96,
            initial_indent="  ",
            subsequent_indent="  ",
            break_on_hyphens=False,
        )
        lines.append(f"targets (-t): {', '.join(self.available_targets)}")
        lines.append("chip presets (--chip NAME, or a .toml/.json file; see --list-chips):")
        for name in preset_names():
            chip = load_preset(name)
            lines.append(f"  {name.ljust(18)}{chip.description}")
        return "\n".join(lines)

    def _pass_summary(self, name: str) -> str:
        try:
            cls = self.available_passes[name]()
        except ImportError as exc:
            return f"(not importable: {exc})"
        doc = (cls.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""

    # --- the pipeline ------------------------------------------------------------------------

    def setup_pipeline(self) -> None:
        spec = self.args.passes
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
            if name not in self.available_passes:
                close = difflib.get_close_matches(name, list(self.available_passes), n=3)
                hint = f" Did you mean {', '.join(close)}?" if close else ""
                raise PimError(f"unknown pass '{name}'.{hint} `pim-opt --help` lists the passes.")
        try:
            pipeline = PassPipeline.parse_spec(self.available_passes, spec, self._between_passes)
        except ValueError as exc:
            raise PimError(
                f"bad pass options in '{spec}': {str(exc).rstrip('.')}.",
                hint="Options go as NAME{opt=value opt2=value} or --NAME='opt=value opt2=value'.",
            ) from None
        if self.args.chip is not None or self.args.batch is not None:
            pipeline = PassPipeline(
                (self._target_pass(pipeline), *pipeline.passes), pipeline.callback
            )
        self.pipeline = pipeline
        self._timer = time.perf_counter()

    def _target_pass(self, pipeline: PassPipeline) -> ModulePass:
        """`set-target` for --chip/--batch, first; told when the pipeline partitions again."""
        from pimdsl.passes.set_target import SetTargetPass

        first = pipeline.passes[0].name if pipeline.passes else None
        return SetTargetPass(
            chip=self.args.chip or "",
            batch=self.args.batch or 0,
            regroup=first in ("partition", "ga-group"),
        )

    def _between_passes(
        self, previous: ModulePass | None, module: ModuleOp, following: ModulePass | None
    ) -> None:
        """Called before the first pass, between passes and after the last one."""
        if self.args.time_passes and previous is not None:
            print(
                f"pass {previous.name} took {time.perf_counter() - self._timer:.3f} s",
                file=sys.stderr,
            )
        verify_now = previous is None or following is None or not self.args.no_verify_each
        if verify_now and not self.args.disable_verify:
            self._verify(module, previous)
        if previous is not None and self.args.print_ir_after_all:
            print(f"// -----// IR Dump After {previous.name} //----- //", file=sys.stderr)
            Printer(stream=sys.stderr).print_op(module)
            print(file=sys.stderr)
        if previous is not None and following is not None and self.args.print_between_passes:
            print(f"IR after {previous.name}:")
            Printer(stream=sys.stdout).print_op(module)
            print("\n\n\n")
        self._timer = time.perf_counter()

    def _verify(self, module: ModuleOp, after: ModulePass | None) -> None:
        try:
            module.verify()
        except VerifyException as exc:
            if self.args.verify_diagnostics:
                raise
            raise PimError(self._verify_message(module, exc, after)) from None

    def _verify_message(
        self, module: ModuleOp, exc: VerifyException, after: ModulePass | None
    ) -> str:
        culprit, detail = verify_error_detail(module, exc)
        place = self._place(culprit) if culprit is not None else self.get_input_name()
        if after is None:
            return f"{place}: invalid IR: {detail}"
        return (
            f"{place}: the IR after pass '{after.name}' does not verify: {detail} "
            "(a pass must leave valid IR: this is a bug in the pass, please report it)"
        )

    def _place(self, op: Operation) -> str:
        """file:line of `op` if it was parsed, else the function holding it."""
        if op in self._op_offsets and self._source[1]:
            if not hasattr(self, "_newlines"):
                self._newlines = [i for i, c in enumerate(self._source[1]) if c == "\n"]
            located = locate_op(op, self._op_offsets, self._source, self._newlines)
            if located is not None:
                return located
        parent = op.parent_op()
        while parent is not None and "sym_name" not in parent.properties:
            parent = parent.parent_op()
        if parent is not None:
            return f"{self.get_input_name()}: in @{parent.properties['sym_name']}".replace('"', "")
        return self.get_input_name()

    # --- inputs ------------------------------------------------------------------------------

    def get_input_stream(self) -> tuple[IO[bytes], str]:
        if self.args.model is not None:
            self.args.input_file = str(cached_model(self.args.model))
        path = self.args.input_file
        if path is not None and os.path.isdir(path):
            raise PimError(f"input '{path}' is a folder; give an .mlir or .onnx file.")
        if path is not None and not os.path.isfile(path):
            raise PimError(f"input file '{path}' does not exist.")
        return super().get_input_stream()

    def prepare_input(self) -> tuple[list[tuple[IO[bytes], int]], str]:
        try:
            return super().prepare_input()
        except ValueError as exc:
            if "Unrecognized file extension" not in str(exc):
                raise
            raise PimError(
                f"cannot read '{self.get_input_name()}': pim-opt reads .mlir and .onnx files.",
                hint="Use -f mlir or -f onnx to choose the reader explicitly.",
            ) from None

    def parse_chunk(
        self, chunk: IO[bytes], file_extension: str, start_offset: int = 0
    ) -> ModuleOp | None:
        self._chunk_offset = start_offset
        self.protect_inputs(None)
        try:
            module = super().parse_chunk(chunk, file_extension, start_offset)
        except INPUT_EXCEPTIONS as exc:
            raise input_error(exc, self.get_input_name()) from None  # type: ignore[misc]
        if module is not None:
            self.protect_inputs(module)
            for path, option in ((self.args.output_file, "-o"), (self.args.report, "--report")):
                if path not in (None, "-"):
                    output.check(
                        path, option
                    )  # the weight file is known now: refuse before the passes
            limits.check_module_shapes(module, self._place)
            check_defined_before_use(module, self._place)
            self.attach_module_attrs(module)
            self.rebase_weights(module, file_extension)
        return module

    def rebase_weights(self, module: ModuleOp, file_extension: str) -> None:
        """Keep `pim.weights` resolvable from where the output is read (see `rebase_weight_path`)."""
        specs = module_attrs.get_weights(module)
        if specs is None:
            return
        source = self.args.input_file
        # the frontend records the .onnx path as given (CWD-relative); an .mlir names it
        # relative to its own folder (or, in files of older versions, to the CWD)
        source_dir = (
            os.path.dirname(os.path.abspath(source))
            if source and file_extension != "onnx"
            else None
        )
        out = self.args.output_file
        to_file = out not in (None, "-") and not (os.path.exists(out) and not os.path.isfile(out))
        target_dir = (
            os.path.dirname(os.path.abspath(out)) if to_file and out is not None else os.getcwd()
        )
        new = [rebase_weight_path(spec, source_dir, target_dir) for spec in specs]
        if new != specs:
            module_attrs.set_weights(module, new)

    def _parse_mlir(self, stream: IO[bytes]) -> ModuleOp:
        name = self.get_input_name()
        text = decode_mlir(stream.read(), name)
        self._op_offsets = {}
        self._source = (name, text, self._chunk_offset)
        if hasattr(self, "_newlines"):
            del self._newlines
        parser = _LocatingParser(self.ctx, text, name, self._op_offsets)
        return parser.parse_module(not self.args.no_implicit_module)

    def _import_onnx(self, stream: IO[bytes]) -> ModuleOp:
        path = self.args.input_file
        if path is None:
            raise PimError("an ONNX model must be given as a file, not on stdin.")
        try:
            from pimdsl.frontend import import_onnx
        except ImportError as exc:
            if exc.name not in ("pimdsl.frontend", "pimdsl.frontend.onnx"):
                raise
            raise PimError(
                "the ONNX frontend (pimdsl.frontend.import_onnx) is not available in this build."
            ) from None
        from pimdsl import progress

        sidecar = self._sidecar_path()
        with progress.step("pim-opt", f"importing {Path(path).name}"):
            module = import_onnx(path, sidecar=sidecar)
        if sidecar is not None and sidecar in (module_attrs.get_weights(module) or []):
            self._sidecar_written = sidecar
        note = onnx_version_warning(path)
        if note:
            print(f"pim-opt: warning: {note}", file=sys.stderr)
        return module

    def _sidecar_path(self) -> str | None:
        """Where weights computed at import go: next to a `-o` file, else (stdout, a pipe,
        /dev/null) a content-addressed file in the cache folder (None)."""
        from pimdsl.frontend.sidecar import sidecar_path_for

        out = self.args.output_file
        if out in (None, "-") or (os.path.exists(out) and not os.path.isfile(out)):
            return None
        # relative to the current folder, like the .onnx path: `rebase_weights` then names
        # it relative to the output's folder (so the pair can be moved together)
        return sidecar_path_for(os.path.relpath(out))

    def attach_module_attrs(self, module: ModuleOp) -> None:
        """--chip and --batch fill in a chip and batch the module lacks, so the input verifies
        against them. A different value of the module is replaced (with a note) by the
        `set-target` pass, first in the pipeline, which also re-costs partitions for it."""
        from pimdsl.passes.set_target import replaced_values

        old_chip, old_batch = replaced_values(module, self._chip, self.args.batch)
        if old_chip is not None:
            _note(f"--chip {self.args.chip} replaces the module's chip '{old_chip.name}'.")
        elif self._chip is not None:
            module_attrs.set_chip(module, self._chip)
        if old_batch is not None:
            _note(f"--batch {self.args.batch} replaces the module's batch {old_batch}.")
        elif self.args.batch is not None:
            module_attrs.set_batch(module, self.args.batch)

    # --- running and output ------------------------------------------------------------------

    def apply_passes(self, prog: ModuleOp) -> None:
        # PassPipeline.apply, one pass at a time, so a failing upstream pass can be named
        passes = list(self.pipeline.passes)
        self._between_passes(None, prog, passes[0] if passes else None)
        for i, one in enumerate(passes):
            self._apply_pass(one, prog)
            self._between_passes(one, prog, passes[i + 1] if i + 1 < len(passes) else None)
        if self.args.report is not None:
            # `--report -` with the IR on stdout: the table goes to stderr, so stdout stays parseable
            ir_on_stdout = self.args.output_file in (None, "-")
            write_report(prog, self.args.report, sys.stderr if ir_on_stdout else sys.stdout)

    def _apply_pass(self, one: ModulePass, prog: ModuleOp) -> None:
        """Run one pass. pimdsl's passes raise PimError for user errors and keep tracebacks
        for bugs; an exception from an upstream xDSL pass means it does not apply to this IR."""
        from pimdsl import progress
        from pimdsl.passes import PASSES

        try:
            t0 = time.perf_counter()
            with progress.step("pim-opt", f"pass {one.name}"):
                one.apply(self.ctx, prog)
            _log.info("pass %s: %.2f s", one.name, time.perf_counter() - t0)
        except PimError:
            raise
        except Exception as exc:
            if one.name in PASSES:
                raise
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            failed = f"({type(exc).__name__}{': ' + detail if detail else ''})"
            if one.name in plugin_pass_names(self.available_passes):
                raise PimError(
                    f"the pass '{one.name}' of an installed plugin package failed on this IR "
                    f"{failed}.",
                    hint="It comes from another package's xdsl.universe entry point, not from "
                    "pimdsl; `pim-opt --help` lists the installed passes by origin.",
                ) from None
            raise PimError(
                f"the xDSL pass '{one.name}' failed on this IR {failed}.",
                hint="It is an upstream xDSL pass that does not handle pimdsl's dialects; pimdsl's "
                "own passes are listed by `pim-opt --list-passes`.",
            ) from None

    def prepare_output(self) -> IO[str]:
        """-o is captured and staged through `pimdsl.output` after the run: written to a scratch
        file renamed into place only when the whole command succeeded, never over an input."""
        out = self.args.output_file
        if out is None or out == "-":
            return sys.stdout
        output.check(out, "-o")
        self._captured = _CapturedText()
        return self._captured

    def run(self) -> None:
        from pimdsl import logs

        logs.setup(
            "pim-opt", verbose=self.args.verbose, quiet=self.args.quiet, default=logs.QUIET_DEFAULT
        )
        with output.session("pim-opt") as outputs:
            self._outputs = outputs
            if self.args.chip is not None and self.args.chip.endswith((".toml", ".json")):
                outputs.protect(self.args.chip, "chip file")
            outputs.protect(self.args.input_file, "input file")
            if self.args.report not in (None, "-"):
                output.check(self.args.report, "--report")
            try:
                try:
                    super().run()
                except ParseError as exc:
                    raise PimError(f"parse error: {parse_error_text(exc)}".rstrip()) from None
                except (
                    DiagnosticException
                ) as exc:  # a pass reporting failure (PassFailedException, ...)
                    raise PimError(str(exc)) from None
                if self._captured is not None:
                    output.write_text(self.args.output_file, "-o", self._captured.text)
                outputs.commit()
            except BaseException:
                self._discard_sidecar()
                raise

    def _discard_sidecar(self) -> None:
        if self._sidecar_written is not None:  # the IR naming it is not written: drop it too
            Path(self._sidecar_written).unlink(missing_ok=True)
            self._sidecar_written = None

    def protect_inputs(self, module: ModuleOp | None) -> None:
        """The input file and the weight file its module names are never overwritten."""
        outputs = getattr(self, "_outputs", None)
        if outputs is None:
            return
        source = self.args.input_file
        outputs.protect(source, "input file")
        specs = (module_attrs.get_weights(module) if module is not None else None) or []
        base = os.path.dirname(os.path.abspath(source)) if source else os.getcwd()
        for spec in specs:  # every weight file it names
            for candidate in (os.path.join(base, spec), os.path.abspath(spec)):
                outputs.protect(candidate, "weight file (pim.weights)")


class _CapturedText(io.StringIO):
    """A text stream whose content survives `close()` (xDSL closes the -o stream)."""

    text = ""

    def close(self) -> None:
        if not self.closed:
            self.text = self.getvalue()
        super().close()


def onnx_version_warning(path: str) -> str | None:
    """A warning when the model's opset or IR version is newer than the installed onnx package
    knows: its shape inference and pimdsl's converters then read the ops with older semantics."""
    import onnx

    from pimdsl.frontend.loading import open_model

    try:
        opened = open_model(path, None)  # the wire-level reader: cheap, weights stay on disk
    except PimError:
        return None  # the frontend read it; a second look is only for this warning
    known_opset, known_ir = onnx.defs.onnx_opset_version(), onnx.IR_VERSION
    newer = []
    if opened.opset > known_opset:
        newer.append(f"opset {opened.opset} (onnx {onnx.__version__} knows up to {known_opset})")
    if opened.model.ir_version > known_ir:
        newer.append(
            f"IR version {opened.model.ir_version} (onnx {onnx.__version__} knows up to {known_ir})"
        )
    if not newer:
        return None
    return (
        f"'{path}' uses {' and '.join(newer)}: newer than the installed onnx package knows, "
        "so shape inference and pimdsl's converters (tested on opsets 9-18) may read its ops "
        "with older semantics. Check the result with `pim-run --compare-onnxruntime`, or "
        "export the model with an older opset."
    )


def rebase_weight_path(spec: str, source_dir: str | None, target_dir: str) -> str:
    """`spec` (a weight path as the input names it) rewritten relative to `target_dir`.

    A relative `spec` is looked up in `source_dir` (the input .mlir's folder) and then in the
    current directory; the file found is named relative to `target_dir` (the -o file's folder,
    or the current directory for stdout), or by its absolute path when the two share only the
    root folder or the relative path would climb more than two folders. Absolute paths and files not found stay as they are.
    """
    if os.path.isabs(spec):
        return spec
    bases = ([source_dir] if source_dir else []) + [os.getcwd()]
    found = next(
        (os.path.join(b, spec) for b in bases if os.path.isfile(os.path.join(b, spec))), None
    )
    if found is None:
        return spec  # pim-run will say it is missing, naming the places it tried
    found = os.path.abspath(found)
    try:
        rel = os.path.relpath(found, target_dir)
    except ValueError:  # another drive (Windows)
        return found
    climbs = len(list(itertools.takewhile(lambda part: part == "..", Path(rel).parts)))
    shared = os.path.commonpath([found, os.path.abspath(target_dir)])
    if climbs > 2 or os.path.dirname(shared) == shared:  # only the root in common: absolute
        return found
    return Path(rel).as_posix()


def plugin_pass_names(available: Collection[str]) -> list[str]:
    """The passes in `available` that neither pimdsl nor xDSL defines: other packages'."""
    from xdsl.transforms import get_all_passes as xdsl_passes

    from pimdsl.passes import PASSES

    upstream = set(xdsl_passes())
    return sorted(n for n in available if n not in PASSES and n not in upstream)


def write_report(module: ModuleOp, dest: str, table_stream: IO[str] | None = None) -> None:
    """`--report`: the partition report of pimdsl.report (written by the partitioning pass);
    `dest` "-" prints a table on `table_stream`."""
    try:
        from pimdsl.report import write_report as write
    except ImportError as exc:
        if exc.name != "pimdsl.report":
            raise
        raise PimError(
            "--report needs pimdsl.report (the partition report), which this build does not have yet.",
            hint="Drop --report, or update pimdsl.",
        ) from None
    if dest == "-" and table_stream is not None:
        write(module, dest, table_stream=table_stream)
    else:
        write(module, dest)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _note(message: str) -> None:
    print(f"pim-opt: note: {message}", file=sys.stderr)
