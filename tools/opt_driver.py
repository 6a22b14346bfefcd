"""The `pim-opt` driver: xDSL's opt driver with pimdsl's dialects, passes, inputs and targets.

`pimdsl.tools.pim_opt.main` is the console script; it answers `--version` and the list options
before this module (and xDSL) is imported, so only real work pays for the import.

`PimOptMain` overrides `xDSLOptMain`'s hooks; what each adds lives in `pimdsl.tools.opt`, one
concern a module:

- `opt.pass_flags`: every registered pass is also a flag, kept in command-line order
  (`--partition --ga-group='objective=edp seed=7'`); flags and `-p` pieces form one pipeline;
- `opt.pipeline`: the pipeline parsed with errors that say what to write, each pass run with a
  failing upstream or plugin pass named as such;
- `opt.options`: pimdsl's options and the --help listing passes, targets and chips;
- `opt.inputs` and `opt.zoo`: `.mlir`, `.onnx` (through `pimdsl.frontend.import_onnx`) and
  `--model NAME` (a zoo model saved once into the cache folder), weight paths kept resolvable;
- `opt.target`: `--chip NAME|FILE` and `--batch N`, run as the `set-target` pass first;
- `opt.diagnostics`: user errors become `PimError`s that name the place (file:line of the op);
- `opt.outputs`: `-o` written atomically, never over the input file; `--report FILE.json|-`.

Also `--print-ir-after-all` (stderr, MLIR style) and `--no-verify-each` (verify the input and
the output only, not between passes: the verifier is the slow part on big IR).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation
from xdsl.passes import ModulePass
from xdsl.printer import Printer
from xdsl.utils.exceptions import DiagnosticException, ParseError, VerifyException
from xdsl.xdsl_opt_main import xDSLOptMain

import pimdsl
from pimdsl import lexer_guard, limits, module_attrs, output
from pimdsl.chip import Chip
from pimdsl.errors import INPUT_EXCEPTIONS, PimError, input_error
from pimdsl.ir_checks import check_defined_before_use
from pimdsl.tools.opt import inputs, options, outputs, pipeline, target
from pimdsl.tools.opt.diagnostics import SourceMap, parse_error_text

# also imported from here by the callers of the single-module driver (and `rewrite_pass_flags`
# used below)
from pimdsl.tools.opt.inputs import onnx_version_warning, parse_mlir_file
from pimdsl.tools.opt.pass_flags import rewrite_pass_flags
from pimdsl.tools.opt.zoo import cached_model, zoo_model_names

__all__ = [
    "PimOptMain",
    "cached_model",
    "onnx_version_warning",
    "parse_mlir_file",
    "rewrite_pass_flags",
    "zoo_model_names",
]

lexer_guard.install()  # xDSL's string-literal rule backtracks exponentially on a missing quote

DESCRIPTION = (
    "pim-opt: the pimdsl optimizer driver. Reads an .mlir or .onnx file (or --model NAME, or "
    "stdin), runs a pass pipeline and prints the result. Passes are given with -p 'a{opt=1},b' "
    "or as flags in order: --partition --ga-group='objective=edp seed=7'."
)

# xDSL's targets that work on any IR; the others are hidden (see register_all_targets).
UPSTREAM_TARGETS = ("mlir",)


class PimOptMain(xDSLOptMain):
    """xDSL's opt driver with pimdsl's dialects, passes, frontends, targets and options."""

    version_format = f"pim-opt (pimdsl {pimdsl.__version__}, xDSL {{xdsl_version}})"

    def __init__(self, args: Sequence[str] | None = None, description: str = DESCRIPTION):
        # register_all_arguments rewrites this list in place: xDSL parses the list we pass.
        self._argv = list(sys.argv[1:] if args is None else args)
        self._source = SourceMap()
        self._chunk_offset = 0
        self._captured: outputs.CapturedText | None = None
        self._outputs: output.Outputs | None = None
        # the side-car weight file this run wrote next to -o (removed again if the run fails)
        self._sidecar_written: str | None = None
        super().__init__(description, self._argv)
        self._chip: Chip | None = target.checked_chip(self.args)
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
        options.add_arguments(arg_parser, self.available_targets)
        if {"-h", "--help"} & set(self._argv):
            arg_parser.epilog = options.help_epilog(self.available_passes, self.available_targets)
        flags = set(arg_parser._option_string_actions)
        self._argv[:] = rewrite_pass_flags(self._argv, self.available_passes, flags)

    # --- the pipeline ------------------------------------------------------------------------

    def setup_pipeline(self) -> None:
        passes = pipeline.build_pipeline(
            self.args.passes, self.available_passes, self._between_passes
        )
        self.pipeline = target.with_target_pass(passes, self.args)
        self._timer = time.perf_counter()

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
            message = self._source.verify_message(module, exc, after, self.get_input_name())
            raise PimError(message) from None

    def _place(self, op: Operation) -> str:
        return self._source.place(op, self.get_input_name())

    def apply_passes(self, prog: ModuleOp) -> None:
        # PassPipeline.apply, one pass at a time, so a failing upstream pass can be named
        passes = list(self.pipeline.passes)
        self._between_passes(None, prog, passes[0] if passes else None)
        for i, one in enumerate(passes):
            pipeline.run_pass(one, self.ctx, prog, self.available_passes)
            self._between_passes(one, prog, passes[i + 1] if i + 1 < len(passes) else None)
        if self.args.report is not None:
            outputs.report_after_passes(prog, self.args.report, self.args.output_file)

    # --- inputs ------------------------------------------------------------------------------

    def get_input_stream(self) -> tuple[IO[bytes], str]:
        if self.args.model is not None:
            self.args.input_file = str(cached_model(self.args.model))
        inputs.check_input_path(self.args.input_file)
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
                if path not in (None, "-"):  # the weight file is known now: refuse before passes
                    output.check(path, option)
            limits.check_module_shapes(module, self._place)
            check_defined_before_use(module, self._place)
            target.fill_in(module, self._chip, self.args)
            self.rebase_weights(module, file_extension)
        return module

    def rebase_weights(self, module: ModuleOp, file_extension: str) -> None:
        """Keep `pim.weights` resolvable from where the output is read."""
        specs = module_attrs.get_weights(module)
        if specs is None:
            return
        new = inputs.rebased_weights(
            specs, self.args.input_file, file_extension == "onnx", self.args.output_file
        )
        if new != specs:
            module_attrs.set_weights(module, new)

    def _parse_mlir(self, stream: IO[bytes]) -> ModuleOp:
        name = self.get_input_name()
        text = inputs.decode_mlir(stream.read(), name)
        self._source = SourceMap(name, text, self._chunk_offset)
        return self._source.parser(self.ctx).parse_module(not self.args.no_implicit_module)

    def _import_onnx(self, stream: IO[bytes]) -> ModuleOp:
        module, sidecar = inputs.import_onnx_file(self.args.input_file, self.args.output_file)
        if sidecar is not None:
            self._sidecar_written = sidecar
        return module

    def protect_inputs(self, module: ModuleOp | None) -> None:
        """The input file and the weight files its module names are never overwritten."""
        if self._outputs is not None:
            outputs.protect_inputs(self._outputs, self.args.input_file, module)

    # --- running and output ------------------------------------------------------------------

    def prepare_output(self) -> IO[str]:
        """-o is captured and staged through `pimdsl.output` after the run: written to a scratch
        file renamed into place only when the whole command succeeded, never over an input."""
        out = self.args.output_file
        if out is None or out == "-":
            return sys.stdout
        output.check(out, "-o")
        self._captured = outputs.CapturedText()
        return self._captured

    def run(self) -> None:
        from pimdsl import logs

        logs.setup(
            "pim-opt", verbose=self.args.verbose, quiet=self.args.quiet, default=logs.QUIET_DEFAULT
        )
        with output.session("pim-opt") as session:
            self._outputs = session
            if self.args.chip is not None and self.args.chip.endswith((".toml", ".json")):
                session.protect(self.args.chip, "chip file")
            session.protect(self.args.input_file, "input file")
            if self.args.report not in (None, "-"):
                output.check(self.args.report, "--report")
            try:
                try:
                    super().run()
                except ParseError as exc:
                    raise PimError(f"parse error: {parse_error_text(exc)}".rstrip()) from None
                except DiagnosticException as exc:  # a pass reporting failure (PassFailed...)
                    raise PimError(str(exc)) from None
                if self._captured is not None:
                    output.write_text(self.args.output_file, "-o", self._captured.text)
                session.commit()
            except BaseException:
                self._discard_sidecar()
                raise

    def _discard_sidecar(self) -> None:
        if self._sidecar_written is not None:  # the IR naming it is not written: drop it too
            Path(self._sidecar_written).unlink(missing_ok=True)
            self._sidecar_written = None
