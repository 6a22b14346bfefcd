"""The partitioning report: `pim-opt ... --report FILE.json` (or `--report -` for a table).

The JSON contract (docs/partitioning.md) is read from the partition-level IR, i.e. from the
attributes the `partition` / `ga-group` passes wrote, so a saved `.mlir` reports the same numbers:

    {"chip": str, "batch": int, "strategy": str, "objective": str,
     "partitions": [{"index", "span": [start, end], "layers": [str], "crossbars",
                     "replication": [int per layer], "core_crossbars": [int per core],
                     "weight_bytes", "dram_bytes", "latency_s", "energy_j"}],
     "totals": {"latency_s", "throughput_ips", "energy_j", "edp", "weight_bytes", "dram_bytes",
                "partitions"}}

`latency_s` of a partition and of the totals is for one whole batch; `energy_j` of a partition
is for the batch, of the totals per inference; `edp` is per inference: energy per inference x
latency per inference (latency / batch).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from xdsl.dialects.builtin import ModuleOp, StringAttr

from pimdsl.dialects import partition as part
from pimdsl.errors import PimError
from pimdsl.module_attrs import get_batch, get_chip
from pimdsl.network import main_func
from pimdsl.partitioning import OBJECTIVE, STRATEGY


def _text(module: ModuleOp, key: str) -> str:
    attr = module.attributes.get(key)
    return attr.data if isinstance(attr, StringAttr) else "unknown"


def report_data(module: ModuleOp) -> dict[str, Any]:
    """The report of a partition-level module as a JSON-ready dictionary."""
    parts = [op for op in main_func(module).body.block.ops if isinstance(op, part.PartitionOp)]
    if not parts:
        raise PimError(
            "--report needs partition-level IR, but @main has no partition.partition op.",
            hint="Run --partition (and optionally --ga-group) before --report.",
        )
    chip = get_chip(module)
    assert chip is not None
    batch = get_batch(module)
    rows = []
    for p in parts:
        rows.append({
            "index": p.number,
            "span": list(p.unit_span),
            "layers": p.layer_names,
            "crossbars": p.crossbars.value.data,
            "replication": list(part.ints(p.replication)),
            "core_crossbars": list(part.ints(p.core_crossbars)),
            "weight_bytes": p.weight_bytes.value.data,
            "dram_bytes": p.dram_bytes.value.data,
            "latency_s": p.latency_s.value.data,
            "energy_j": p.energy_j.value.data,
        })
    latency = sum(r["latency_s"] for r in rows)
    energy = sum(r["energy_j"] for r in rows) / batch
    return {
        "chip": chip.name,
        "batch": batch,
        "strategy": _text(module, STRATEGY),
        "objective": _text(module, OBJECTIVE),
        "partitions": rows,
        "totals": {
            "latency_s": latency,
            "throughput_ips": batch / latency,
            "energy_j": energy,
            "edp": energy * latency / batch,
            "weight_bytes": sum(r["weight_bytes"] for r in rows),
            "dram_bytes": sum(r["dram_bytes"] for r in rows),
            "partitions": len(rows),
        },
    }


def _print_table(data: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    t = data["totals"]
    title = (f"{data['chip']}, batch {data['batch']}, {data['strategy']} ({data['objective']}): "
             f"{t['throughput_ips']:.1f} inf/s, {t['energy_j'] * 1e3:.3f} mJ/inf, "
             f"EDP {t['edp']:.3e} J*s")
    table = Table(title=title)
    for col in ("#", "units", "layers", "crossbars", "replication", "weights kB", "DRAM kB",
                "latency ms", "energy mJ"):
        table.add_column(col, justify="left" if col == "layers" else "right")
    for r in data["partitions"]:
        names = r["layers"]
        layers = ", ".join(names) if len(names) <= 3 else f"{names[0]} .. {names[-1]} ({len(names)})"
        table.add_row(
            str(r["index"]), f"{r['span'][0]}-{r['span'][1]}", layers, str(r["crossbars"]),
            " ".join(map(str, r["replication"])), f"{r['weight_bytes'] / 1e3:.1f}",
            f"{r['dram_bytes'] / 1e3:.1f}", f"{r['latency_s'] * 1e3:.3f}", f"{r['energy_j'] * 1e3:.3f}",
        )
    table.add_section()
    table.add_row("", "", f"{t['partitions']} partitions", "", "", f"{t['weight_bytes'] / 1e3:.1f}",
                  f"{t['dram_bytes'] / 1e3:.1f}", f"{t['latency_s'] * 1e3:.3f}",
                  f"{t['energy_j'] * 1e3 * data['batch']:.3f}")
    Console(file=sys.stdout, width=None if sys.stdout.isatty() else 140).print(table)


def write_report(module: ModuleOp, dest: str) -> None:
    """Write the report as JSON to `dest`, or print a table on stdout when `dest` is "-"."""
    data = report_data(module)
    if dest == "-":
        _print_table(data)
        return
    try:
        with open(dest, "w") as f:
            json.dump(data, f, indent=2)
            f.write("\n")
    except OSError as exc:
        raise PimError(f"cannot write the report to '{dest}': {exc.strerror}.") from None
