"""Reading pim-opt's input: .mlir text (parsed and checked, errors at file:line), .onnx models
through the frontend (weights computed at import go to a side-car file), and the weight files
the IR names, kept resolvable from where the output is read."""

from __future__ import annotations

import itertools
import os
import sys
from pathlib import Path
from typing import Any

from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation
from xdsl.utils.exceptions import ParseError, VerifyException

from pimdsl import limits
from pimdsl.errors import PimError
from pimdsl.ir_checks import check_defined_before_use
from pimdsl.tools.opt.diagnostics import SourceMap, parse_error_text


def check_input_path(path: str | None) -> None:
    """The input, when named, is an existing file."""
    if path is not None and os.path.isdir(path):
        raise PimError(f"input '{path}' is a folder; give an .mlir or .onnx file.")
    if path is not None and not os.path.isfile(path):
        raise PimError(f"input file '{path}' does not exist.")


def decode_mlir(data: bytes, name: str) -> str:
    """The text of an .mlir file; a binary file (an .onnx given as .mlir) is a PimError."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise PimError(
            f"'{name}' is not a text .mlir file (it is not UTF-8; an .onnx model, perhaps?).",
            hint="Name an ONNX model *.onnx (pim-opt: or pass -f onnx); an .mlir file holds MLIR text.",
        ) from None


def parse_mlir_file(ctx: Any, path: str) -> ModuleOp:
    """Parse and verify an .mlir file; parse and verifier errors name file:line (for pim-run)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise PimError(f"cannot read '{path}': {exc.strerror}.") from None
    source = SourceMap(path, decode_mlir(data, path))
    try:
        module = source.parser(ctx).parse_module()
    except ParseError as exc:
        raise PimError(f"parse error: {parse_error_text(exc)}".rstrip()) from None

    def place(op: Operation) -> str:
        return source.place(op, path)

    limits.check_module_shapes(module, place)
    check_defined_before_use(module, place)
    try:
        module.verify()
    except VerifyException as exc:
        raise PimError(source.verify_message(module, exc, None, path)) from None
    return module


def import_onnx_file(path: str | None, output_file: str | None) -> tuple[ModuleOp, str | None]:
    """The nn-level module of the ONNX model at `path`, and the side-car weight file the import
    wrote next to `output_file` (None: none, or one in the cache folder); a warning for an
    opset newer than the onnx package knows."""
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
    from pimdsl import module_attrs, progress

    sidecar = sidecar_path(output_file)
    with progress.step("pim-opt", f"importing {Path(path).name}"):
        module = import_onnx(path, sidecar=sidecar)
    written = sidecar if sidecar in (module_attrs.get_weights(module) or []) else None
    note = onnx_version_warning(path)
    if note:
        print(f"pim-opt: warning: {note}", file=sys.stderr)
    return module, written


def sidecar_path(output_file: str | None) -> str | None:
    """Where weights computed at import go: next to a `-o` file, else (stdout, a pipe,
    /dev/null) a content-addressed file in the cache folder (None)."""
    from pimdsl.frontend.sidecar import sidecar_path_for

    out = output_file
    if out in (None, "-") or (os.path.exists(out) and not os.path.isfile(out)):
        return None
    # relative to the current folder, like the .onnx path: `rebase_weights` then names
    # it relative to the output's folder (so the pair can be moved together)
    return sidecar_path_for(os.path.relpath(out))


def rebased_weights(
    specs: list[str], source: str | None, from_onnx: bool, output_file: str | None
) -> list[str]:
    """`pim.weights` (read from `source`) named so they resolve from where the output is read
    (see `rebase_weight_path`)."""
    # the frontend records the .onnx path as given (CWD-relative); an .mlir names it
    # relative to its own folder (or, in files of older versions, to the CWD)
    source_dir = os.path.dirname(os.path.abspath(source)) if source and not from_onnx else None
    out = output_file
    to_file = out not in (None, "-") and not (os.path.exists(out) and not os.path.isfile(out))
    target_dir = (
        os.path.dirname(os.path.abspath(out)) if to_file and out is not None else os.getcwd()
    )
    return [rebase_weight_path(spec, source_dir, target_dir) for spec in specs]


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
