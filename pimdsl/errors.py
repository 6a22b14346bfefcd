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
