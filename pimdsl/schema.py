"""The JSON Schemas of pimdsl's JSON outputs, shipped in the package (`pimdsl/schemas/`):

- `report`: `pim-opt --report FILE.json` (format "pimdsl-report");
- `stats`: `pim-run --stats FILE.json` (format "pim-stats");
- `ga-trace`: `--ga-group='trace=FILE.json'` (format "pimdsl-ga-trace");
- `pim-json`: `pim-opt -t pim-json` (format "pim-json");
- `sweep`: `pim-dse`'s OUT/sweep.json (format "pimdsl-sweep"), and `sweep-row`: one line of its
  OUT/results.jsonl (the manifest names the format and version of the folder's rows);
- `trace`: `pim-run --trace FILE.json` (format "pimdsl-trace", a Chrome/Perfetto trace).

Each document names its `format` and `version`; a consumer checks them, or validates the whole
document with `jsonschema` against `load(name)` (tests/test_schemas.py does, for every output).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

SCHEMAS = ("report", "stats", "ga-trace", "pim-json", "sweep", "sweep-row", "trace")


def load(name: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of output `name` (one of SCHEMAS)."""
    if name not in SCHEMAS:
        raise ValueError(f"no schema '{name}'; pimdsl ships {', '.join(SCHEMAS)}")
    text = resources.files("pimdsl").joinpath("schemas", f"{name}.schema.json").read_text()
    return json.loads(text)
