"""The result folder of a sweep: which points are finished, and the result table.

    OUT/results.jsonl   one JSON object per finished point (the table's columns and the
                        per-partition costs `partition_costs`); appended as points finish, so
                        an interrupted sweep keeps them; rewritten sorted by key at the end
    OUT/results.csv     the table: the spec's points, sorted by key, always written
    OUT/results.parquet the same table, when pyarrow is installed
    OUT/sweep.json      what the table holds: format, version, columns, point counts
    OUT/times.jsonl     wall times per group of points (never in the table)

Nothing in the table depends on the machine, the worker or the time, so the same spec gives
byte-identical files on one process, a process pool or a Dask cluster. A row of
results.jsonl validates against `pimdsl.schema.load("sweep-row")`, sweep.json against
`load("sweep")`.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pimdsl import output, strict_json

log = logging.getLogger("pimdsl.dse")

FORMAT = "pimdsl-sweep"
VERSION = 1
# (column, type) in table order; types are Arrow's names (Parquet) and the schema's
BASE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("key", "string"),
    ("model", "string"),
    ("chip", "string"),
    ("batch", "int64"),
    ("strategy", "string"),
    ("objective", "string"),
    ("seed", "int64"),
    ("schedule", "string"),
    ("units", "int64"),
    ("chip_cores", "int64"),
    ("chip_crossbars", "int64"),
    ("chip_capacity_bytes", "int64"),
    ("partitions", "int64"),
    ("latency_s", "float64"),
    ("throughput_ips", "float64"),
    ("energy_j", "float64"),
    ("edp", "float64"),
    ("weight_bytes", "int64"),
    ("dram_bytes", "int64"),
    ("bounds", "string"),
)
LOWER_COLUMNS = (("isa_ops", "int64"),)
SIMULATE_COLUMNS = (
    ("sim_latency_s", "float64"),
    ("sim_throughput_ips", "float64"),
    ("sim_energy_j", "float64"),
)
ERROR_COLUMN = (("error", "string"),)


def columns(stages: Iterable[str]) -> list[tuple[str, str]]:
    stages = set(stages)
    return [
        *BASE_COLUMNS,
        *(LOWER_COLUMNS if "lower" in stages else ()),
        *(SIMULATE_COLUMNS if "simulate" in stages else ()),
        *ERROR_COLUMN,
    ]


def _line(row: dict[str, Any]) -> str:
    return strict_json.dumps(row, what="a sweep result row") + "\n"


class ResultFolder:
    def __init__(self, folder: Path):
        self.folder = folder
        self.jsonl = folder / "results.jsonl"
        self.times = folder / "times.jsonl"

    def finished(self, warn: bool = True) -> dict[str, dict[str, Any]]:
        """The rows of results.jsonl by key (a line cut short by an interrupt is skipped)."""
        rows: dict[str, dict[str, Any]] = {}
        if not self.jsonl.exists():
            return rows
        for n, line in enumerate(self.jsonl.read_text().splitlines(), 1):
            try:
                row = json.loads(line)
                rows[row["key"]] = row
            except (ValueError, KeyError, TypeError):
                if warn:
                    log.warning(
                        "%s:%d: not a result row (cut short?); that point runs again", self.jsonl, n
                    )
        return rows

    def start(self, fresh: bool) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if fresh:
            for path in (self.jsonl, self.times):
                path.unlink(missing_ok=True)
        if self.jsonl.exists() and self.jsonl.stat().st_size:
            with self.jsonl.open("rb+") as f:  # a line cut short stays on a line of its own
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":
                    f.write(b"\n")

    def append(self, rows: list[dict[str, Any]], times: dict[str, Any]) -> None:
        """Record finished points at once, so an interrupted sweep keeps them."""
        text = "".join(_line(r) for r in rows)
        with self.jsonl.open("a") as f:
            f.write(text)
            f.flush()
        with self.times.open("a") as f:
            f.write(json.dumps(times, allow_nan=False) + "\n")

    def finish(self, keys: list[str], cols: list[tuple[str, str]]) -> list[dict[str, Any]]:
        """Write the sorted files; return the table's rows (the spec's finished points)."""
        rows = self.finished(warn=False)
        lines = "".join(_line(rows[k]) for k in sorted(rows))
        output.write_text(self.jsonl, "results.jsonl", lines)
        table = [rows[k] for k in sorted(keys) if k in rows]
        names = [c for c, _ in cols]
        output.write_text(self.folder / "results.csv", "results.csv", csv_text(table, names))
        parquet = self.folder / "results.parquet"
        if not write_parquet(table, cols, parquet):
            parquet.unlink(missing_ok=True)  # never leave a stale table beside the new CSV
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "columns": names,
            "points": len(keys),
            "finished": len(table),
            "errors": sum(1 for r in table if r.get("error")),
        }
        output.write_text(
            self.folder / "sweep.json",
            "sweep.json",
            json.dumps(manifest, indent=1, allow_nan=False) + "\n",
        )
        return table


def _cell(value: Any) -> Any:
    return "" if value is None else repr(value) if isinstance(value, float) else value


def csv_text(rows: list[dict[str, Any]], names: list[str]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(names)
    for r in rows:
        writer.writerow([_cell(r.get(c)) for c in names])
    return buf.getvalue()


def write_parquet(rows: list[dict[str, Any]], cols: list[tuple[str, str]], path: Path) -> bool:
    """The table as Parquet; False when pyarrow is not installed."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return False
    schema = pa.schema([(c, getattr(pa, t)()) for c, t in cols])
    table = pa.table({c: [r.get(c) for r in rows] for c, _ in cols}, schema=schema)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    output.write_bytes(path, "results.parquet", sink.getvalue().to_pybytes())
    return True
