"""The spec's `[[chips]]` entries as chips.

Each entry names one starting chip, `preset = "compass-s"`, `file = "my.toml"` (relative to the
spec) or `base = ...` (either), and may change fields of it: `set = {field = value}` on every
chip of the entry, `vary = {field = [v1, v2], ...}` one chip per combination (a cartesian
product, in the order written). A chip's name in the results is the entry's `name` (default
the starting chip's), followed by the varied fields: `compass-s[cores=8,dram_bandwidth=2.56e+10]`.
Chip fields are checked by `pimdsl.chip` (the same checks as `--chip FILE`).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from pimdsl.errors import PimError

if TYPE_CHECKING:
    from pimdsl.chip import Chip
    from pimdsl.dse.spec import SpecText

ENTRY_KEYS = ("preset", "file", "base", "name", "set", "vary")
MAX_CHIPS = 10_000  # a typo in `vary` should not start a sweep of millions of points


def _value_text(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def _start(text: SpecText, entry: dict[str, Any], i: int) -> Chip:
    from pimdsl.chip import load_chip, load_preset, preset_names

    given = [k for k in ("preset", "file", "base") if k in entry]
    if len(given) != 1:
        raise text.error(
            f"[[chips]] entry {i + 1} must have exactly one of preset, file, base "
            f"(it has {', '.join(given) or 'none'}).",
            table="chips",
            index=i,
            hint='Write e.g. preset = "compass-s".',
        )
    key = given[0]
    ref = entry[key]
    if not isinstance(ref, str):
        raise text.error(
            f"[[chips]] `{key}` must be a string, got {ref!r}.", key=key, table="chips", index=i
        )
    try:
        if key == "preset" or (key == "base" and ref in preset_names()):
            return load_preset(ref)
        return load_chip(str((text.path.parent / ref).resolve()))
    except PimError as exc:
        raise text.error(
            f"[[chips]] {key} = {ref!r}: {exc}", key=key, table="chips", index=i
        ) from None


def _table(text: SpecText, entry: dict[str, Any], key: str, i: int) -> dict[str, Any]:
    value = entry.get(key, {})
    if not isinstance(value, dict):
        raise text.error(
            f"[[chips]] `{key}` must be a table of chip fields, got {value!r}.",
            key=key,
            table="chips",
            index=i,
            hint=f"Write e.g. {key} = {{ cores = {'[8, 32]' if key == 'vary' else 8} }}.",
        )
    return value


def chips_of(text: SpecText, entries: Any) -> list[Chip]:
    """Every chip of the spec's `[[chips]]` entries, in order; names are unique."""
    from pimdsl.chip import from_dict

    if entries is None:
        raise text.error(
            "the spec has no [[chips]] entry.",
            hint='Add one: [[chips]] with preset = "compass-s" (docs/dse.md).',
        )
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise text.error("`chips` must be an array of tables ([[chips]] entries).", key="chips")
    chips: list[Chip] = []
    for i, entry in enumerate(entries):
        for key in entry:
            if key not in ENTRY_KEYS:
                from pimdsl.dse.spec import _suggest

                raise text.error(
                    f"[[chips]] entry {i + 1}: unknown key '{key}'.",
                    key=key,
                    table="chips",
                    index=i,
                    hint=_suggest(key, ENTRY_KEYS),
                )
        start = _start(text, entry, i)
        fixed = _table(text, entry, "set", i)
        vary = _table(text, entry, "vary", i)
        for field, values in vary.items():
            if not isinstance(values, list) or not values:
                raise text.error(
                    f"[[chips]] vary.{field} must be a non-empty list of values, got {values!r}.",
                    key=field,
                    table="chips",
                    index=i,
                )
        name = entry.get("name", start.name)
        if not isinstance(name, str) or not name:
            raise text.error(
                "[[chips]] `name` must be a non-empty string.", key="name", table="chips", index=i
            )
        combos = list(itertools.product(*vary.values()))
        if len(chips) + len(combos) > MAX_CHIPS:
            raise text.error(
                f"[[chips]] entry {i + 1} makes {len(combos)} chips; the limit of a "
                f"sweep is {MAX_CHIPS}.",
                key="vary",
                table="chips",
                index=i,
            )
        for combo in combos:
            changes = dict(zip(vary, combo, strict=True))
            # without a `name`, the set fields are part of it too: a chip is never mistaken
            # for its unchanged base
            shown = changes if "name" in entry else {**fixed, **changes}
            label = ",".join(f"{k}={_value_text(v)}" for k, v in shown.items())
            full = f"{name}[{label}]" if label else name
            data = {**start.to_dict(), **fixed, **changes, "name": full}
            try:
                chips.append(from_dict(data, source=f"chip '{full}'"))
            except PimError as exc:
                bad = next((k for k in (*changes, *fixed) if f"'{k}'" in str(exc)), None)
                raise text.error(
                    f"[[chips]] entry {i + 1}: {exc}", key=bad, table="chips", index=i
                ) from None
    from pimdsl.dse.spec import first_duplicate

    dup = first_duplicate([c.name for c in chips])
    if dup:
        raise text.error(
            f"two chips of the sweep are named '{dup}'.",
            table="chips",
            hint="Give the entries different `name`s.",
        )
    return chips
