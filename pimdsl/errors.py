"""User-facing errors.

Anything the user can cause (bad IR, an unsupported ONNX op, a chip that cannot hold a layer,
a bad option) is raised as a `PimError`. The command-line tools catch it and print its message
as one paragraph without a traceback; a Python traceback therefore always means a bug in pimdsl.
"""

from __future__ import annotations


class PimError(Exception):
    """An error caused by the user's input. The message names the place and the fix."""

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None):
        self.where = where
        self.hint = hint
        text = message
        if where:
            text = f"{where}: {text}"
        if hint:
            text = f"{text} {hint}"
        super().__init__(text)


# Exceptions that reading a user's file can raise without a bug in pimdsl: the tools turn them
# into a PimError naming the file while it is read (parse, import), and only there, so the same
# exception from a pass still says "internal error" with a traceback.
INPUT_EXCEPTIONS: tuple[type[BaseException], ...] = (
    RecursionError,
    UnicodeDecodeError,
    OverflowError,
    NotImplementedError,
)


def input_error(exc: BaseException, source: str) -> PimError | None:
    """The PimError for `exc` raised while reading `source`, or None when it is not one of
    INPUT_EXCEPTIONS."""
    if isinstance(exc, RecursionError):
        return PimError(
            f"{source}: the input nests too deeply to read (Python's recursion limit).",
            hint="Flatten the nesting (regions, attributes, brackets); real networks nest a few levels.",
        )
    if isinstance(exc, UnicodeDecodeError):
        return PimError(
            f"{source}: the file is not valid UTF-8 text (byte {exc.start}: {exc.reason}).",
            hint="Save it as UTF-8; an .onnx model must be named *.onnx.",
        )
    if isinstance(exc, NotImplementedError):  # xDSL's parser on e.g. array<i604: 1>
        return PimError(
            f"{source}: the IR uses a construct xDSL's parser does not implement ({exc}).",
            hint="pimdsl's IR uses the types i64, f32 and f64; check the types near the error.",
        )
    if isinstance(exc, OverflowError):
        return PimError(
            f"{source}: a number in the input is too large ({exc}).",
            hint="Integers in IR and chip files must fit in 64 bits, floats in float64; see docs/limits.md.",
        )
    return None
