"""Passes as command-line flags: `--partition --ga-group='seed=7'` and `-p` pieces become one
`-p` pipeline, in command-line order, before xDSL's argument parser reads the command line."""

from __future__ import annotations

import difflib
from collections.abc import Collection, Sequence

from pimdsl.errors import PimError

# Options that take a value: the token after them is never a pass flag.
VALUE_OPTIONS = (
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
        if token in VALUE_OPTIONS and i + 1 < len(argv):
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
