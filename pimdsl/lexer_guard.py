"""A linear-time string-literal rule for xDSL's MLIR lexer, installed before any parse.

xDSL's lexer matches a string literal with `"(?:[^"\\\\\\n\\v\\f]+|\\\\(?:...))*"`: a `+` inside
a `*`. When the closing quote is missing (a file truncated inside a string, a newline in a
string) the regex engine tries every way of splitting the characters between the two
repetitions before it fails: 2^n steps for n characters, so a truncated chip `description`
(about 60 characters) never finishes parsing. The same rule with possessive repetitions
(Python >= 3.11) accepts exactly the same literals, since the two alternatives start with
different characters, and fails in linear time; the parser then reports
"End of file reached before closing string literal" at file:line:column of the opening quote.
"""

from __future__ import annotations

import re

LINEAR_STRING_LITERAL = re.compile(r'"(?:[^"\\\n\v\f]++|\\(?:["nt\\]|[0-9A-Fa-f]{2}))*+"')


def install() -> None:
    """Replace the lexer's string rule (idempotent)."""
    from xdsl.utils.mlir_lexer import MLIRLexer

    MLIRLexer._unescaped_characters_regex = LINEAR_STRING_LITERAL  # type: ignore[attr-defined]


install()
