"""pim-run --trace: the simulated timeline as a Chrome/Perfetto trace (pimdsl.sim.chrome_trace)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pimdsl.tools import pim_opt, pim_run


def test_trace_of_a_lowered_network(tmp_path: Path) -> None:
    lowered, stats, trace = tmp_path / "m.mlir", tmp_path / "s.json", tmp_path / "t.json"
    assert (
        pim_opt.main(
            [
                "--model",
                "mlp",
                "--chip",
                "compass-s",
                "--batch",
                "2",
                "--partition",
                "--lower-to-isa",
                "-o",
                str(lowered),
            ]
        )
        == 0
    )
    assert (
        pim_run.main([str(lowered), "--timing-only", "--stats", str(stats), "--trace", str(trace)])
        == 0
    )
    doc = json.loads(trace.read_text())
    jsonschema = pytest.importorskip("jsonschema")
    from pimdsl import schema

    jsonschema.validate(doc, schema.load("trace"))
    complete = [e for e in doc["traceEvents"] if e["ph"] == "X"]
    named = {(e["pid"], e["tid"]) for e in doc["traceEvents"] if e["name"] == "thread_name"}
    assert complete and {(e["pid"], e["tid"]) for e in complete} == named
    # the run ends when the last store's data is in DRAM: the DRAM latency (100 ns on
    # compass-s) after its DMA; that is the --stats latency (closed form), in us
    sim = json.loads(stats.read_text())
    end_us = max(e["ts"] + e["dur"] for e in complete)
    assert end_us + 0.1 == pytest.approx(sim["latency_s"] * 1e6, rel=1e-9)
    assert {"load DMA", "store DMA"} <= {e["cat"] for e in complete}
    assert any(e["cat"].startswith("crossbar ") for e in complete)


def test_trace_needs_pim_isa(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert pim_run.main(["--model", "mlp", "--trace", str(tmp_path / "t.json")]) == 1
    assert "--trace" in capsys.readouterr().err
    assert not (tmp_path / "t.json").exists()
