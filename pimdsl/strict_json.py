"""Strict JSON: every JSON document pimdsl writes is valid JSON (RFC 8259).

Python's `json` writes `NaN`, `Infinity` and `-Infinity` by default, which JSON parsers other
than Python's reject. `dumps` refuses them (`allow_nan=False`) and names the first offending
key path, so the user learns which number went out of range instead of getting a file that
other tools cannot read.
"""

from __future__ import annotations

import json
import math
from typing import Any

from pimdsl.errors import PimError


def nonfinite_path(value: Any, path: str = "") -> str | None:
    """The key path (e.g. `totals.latency_s`) of the first NaN or infinity in `value`."""
    if isinstance(value, float) and not math.isfinite(value):
        return path or "(top level)"
    if isinstance(value, dict):
        for key, item in value.items():
            found = nonfinite_path(item, f"{path}.{key}" if path else str(key))
            if found:
                return found
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found = nonfinite_path(item, f"{path}[{i}]")
            if found:
                return found
    return None


def dumps(value: Any, *, what: str, indent: int | None = None) -> str:
    """`value` as strict JSON; a NaN or infinity is a PimError naming `what` and the key."""
    try:
        return json.dumps(value, indent=indent, allow_nan=False)
    except ValueError:
        where = nonfinite_path(value) or "a value"
        raise PimError(
            f"the {what} would hold a non-finite number at '{where}' (NaN or infinity), which "
            "JSON cannot represent; nothing was written.",
            hint="A chip field or option is so extreme that a cost overflows: use values in the "
            "ranges of docs/limits.md.",
        ) from None
