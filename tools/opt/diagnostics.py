"""Errors that name the place: xDSL's parse errors with long lines cut, verifier errors at the
file:line of the first op that fails on its own, a pass's invalid output called a bug."""

from __future__ import annotations

import bisect
from typing import Any

from xdsl.dialects.builtin import ModuleOp
from xdsl.ir import Operation
from xdsl.parser import Parser
from xdsl.passes import ModulePass
from xdsl.utils.exceptions import ParseError, VerifyException


class LocatingParser(Parser):
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


class SourceMap:
    """Where the ops of the parsed input start, to name file:line in errors."""

    def __init__(self, name: str = "", text: str = "", line_offset: int = 0) -> None:
        self.source = (name, text, line_offset)  # line_offset: of the chunk (--split-input-file)
        self.offsets: dict[Operation, int] = {}
        self._newlines: list[int] | None = None

    def parser(self, ctx: Any) -> LocatingParser:
        """A parser of the source text that records each op's offset here."""
        return LocatingParser(ctx, self.source[1], self.source[0], self.offsets)

    def place(self, op: Operation, input_name: str) -> str:
        """file:line of `op` if it was parsed, else the function holding it."""
        if op in self.offsets and self.source[1]:
            if self._newlines is None:
                self._newlines = [i for i, c in enumerate(self.source[1]) if c == "\n"]
            located = locate_op(op, self.offsets, self.source, self._newlines)
            if located is not None:
                return located
        parent = op.parent_op()
        while parent is not None and "sym_name" not in parent.properties:
            parent = parent.parent_op()
        if parent is not None:
            return f"{input_name}: in @{parent.properties['sym_name']}".replace('"', "")
        return input_name

    def verify_message(
        self, module: ModuleOp, exc: VerifyException, after: ModulePass | None, input_name: str
    ) -> str:
        """The one-paragraph error for `module` failing to verify (on input, or after a pass)."""
        culprit, detail = verify_error_detail(module, exc)
        place = self.place(culprit, input_name) if culprit is not None else input_name
        if after is None:
            return f"{place}: invalid IR: {detail}"
        return (
            f"{place}: the IR after pass '{after.name}' does not verify: {detail} "
            "(a pass must leave valid IR: this is a bug in the pass, please report it)"
        )
