"""Every JSON output validates against its shipped JSON Schema (`pimdsl.schema`), and a schema
rejects a document of another format."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from test_units import NetBuilder
from xdsl.context import Context

from pimdsl import schema, strict_json
from pimdsl.chip import load_preset
from pimdsl.module_attrs import set_batch, set_chip

jsonschema = pytest.importorskip("jsonschema")


def check(name: str, doc: dict) -> None:
    jsonschema.validate(json.loads(strict_json.dumps(doc, what=name)), schema.load(name))


@pytest.fixture(scope="module")
def partitioned():
    from pimdsl.passes.partition import PartitionPass

    b = NetBuilder((1, 16, 8, 8))
    y = b.conv(b.conv(b.x, 32, 3), 32, 3)
    module = b.module(b.conv(y, 16, 3))
    set_chip(module, load_preset("compass-s").replace(cores=2, crossbars_per_core=2))
    set_batch(module, 4)
    PartitionPass().apply(Context(), module)
    return module


def test_every_schema_is_a_valid_draft_2020_12_schema() -> None:
    for name in schema.SCHEMAS:
        jsonschema.Draft202012Validator.check_schema(schema.load(name))
    with pytest.raises(ValueError, match="no schema 'sweeps'"):
        schema.load("sweeps")


def test_report(partitioned) -> None:
    from pimdsl.report import report_data

    doc = report_data(partitioned)
    check("report", doc)
    with pytest.raises(jsonschema.ValidationError):
        check("report", {**doc, "format": "pim-stats"})


def test_ga_trace(partitioned, tmp_path: Path) -> None:
    from pimdsl.passes.ga_group import GAGroupPass

    trace = tmp_path / "ga.json"
    GAGroupPass(generations=3, population=8, keep=3, trace=str(trace)).apply(
        Context(), partitioned.clone()
    )
    doc = json.loads(trace.read_text())
    check("ga-trace", doc)
    assert doc["format"] == "pimdsl-ga-trace" and len(doc["trace"]) >= 1


def test_stats_and_pim_json(partitioned) -> None:
    from pimdsl.emit.json import emit_json
    from pimdsl.passes.lower_to_isa import LowerToIsaPass
    from pimdsl.sim.timing import simulate_module

    module = partitioned.clone()
    LowerToIsaPass().apply(Context(), module)
    stats = simulate_module(module).to_json()
    check("stats", stats)
    out = io.StringIO()
    emit_json(module, out)
    doc = json.loads(out.getvalue())
    check("pim-json", doc)
    # a loop without a body is not a pim-json loop
    bad = json.loads(out.getvalue())
    bad["partitions"][0]["cores"][0]["instructions"].append({"op": "loop", "count": 2})
    with pytest.raises(jsonschema.ValidationError):
        check("pim-json", bad)
    with pytest.raises(jsonschema.ValidationError):
        check("stats", {**stats, "latency_s": -1.0})
