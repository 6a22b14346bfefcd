"""The partitioning report: `pim-opt ... --report FILE.json` (or `--report -` for a table).

The JSON contract (docs/partitioning.md) describes the partition-level IR: its partitions'
unit spans, costed by the cost model for the module's chip (`pim.chip`) and batch (`pim.batch`).
The costs are computed again from the spans and the replication each partition records (which
the user may have set: pimdsl/replication.py), never just copied from the partition ops'
attributes, so a report can never label costs of another chip or batch with this one's name;
when the stored attributes differ (hand-edited IR, another pimdsl version) `write_report`
prints a note.

    {"format": "pimdsl-report", "version": 1,
     "chip": str, "batch": int, "strategy": str, "objective": str,
     "partitions": [{"index", "span": [start, end], "layers": [str], "layer_names": [str],
                     "crossbars", "replication": [int per layer], "core_crossbars": [int per core],
                     "weight_bytes", "dram_bytes", "latency_s", "energy_j",
                     "schedule": "layer" | "batch"}],
     "totals": {"latency_s", "throughput_ips", "energy_j", "edp", "weight_bytes", "dram_bytes",
                "partitions"}}

Units, per batch vs per inference (keys kept as they are: scripts rely on them):
- `latency_s`, `weight_bytes`, `dram_bytes`: one whole batch, for a partition and in the totals;
- `energy_j` of a partition: the whole batch; `energy_j` of the totals: PER INFERENCE
  (sum over partitions / batch);
- `throughput_ips` = batch / latency; `edp` per inference: energy per inference x latency per
  inference (latency / batch).
`schedule` is the lowering schedule a partition records (its `schedule` property, which
`--partition='schedule=...'` chose) and its costs assume.
`layers` are the weight names (as in the weight file); `layer_names` the IR's names of the
layers' results where it has them (e.g. `conv1.Conv`), else the weight name. The `--report -`
table prints sizes in binary units, kB = 2^10 bytes, as `-t summary` and `--list-chips` print
MB = 2^20 bytes (the COMPASS paper's unit: chip S holds 1.125 MB); the JSON is in bytes.
"""

from __future__ import annotations

import math
import sys
from typing import IO, Any

from xdsl.dialects.builtin import ModuleOp, StringAttr

from pimdsl import output, strict_json
from pimdsl.area import chip_area
from pimdsl.dialects import nn
from pimdsl.dialects import partition as part
from pimdsl.errors import PimError
from pimdsl.module_attrs import get_batch, get_chip
from pimdsl.network import main_func
from pimdsl.partitioning import OBJECTIVE, STRATEGY

KB = 2**10  # binary units, as the chip capacities (MB = 2^20 B) everywhere in pimdsl


def _text(module: ModuleOp, key: str) -> str:
    attr = module.attributes.get(key)
    return attr.data if isinstance(attr, StringAttr) else "unknown"


def _partitions(module: ModuleOp) -> list[part.PartitionOp]:
    parts = [op for op in main_func(module).body.block.ops if isinstance(op, part.PartitionOp)]
    if not parts:
        raise PimError(
            "--report needs partition-level IR, but @main has no partition.partition op.",
            hint="Run --partition (and optionally --ga-group) before --report.",
        )
    return parts


def _stored(p: part.PartitionOp) -> dict[str, Any]:
    """What the partition op's attributes say (written by the pass that made it)."""
    return {
        "crossbars": p.crossbars.value.data,
        "replication": list(part.ints(p.replication)),
        "core_crossbars": list(part.ints(p.core_crossbars)),  # placement hints change them
        "weight_bytes": p.weight_bytes.value.data,
        "dram_bytes": p.dram_bytes.value.data,
        "latency_s": p.latency_s.value.data,
        "energy_j": p.energy_j.value.data,
        "schedule": p.schedule_name,
    }


def _recomputed_rows(module: ModuleOp, parts: list[part.PartitionOp]) -> list[dict[str, Any]]:
    """Each partition's row, costed again from its unit span for the module's chip and batch."""
    from pimdsl.partitioning import analyse
    from pimdsl.replication import partition_cost

    a = analyse(module)
    bounds = [0] + [p.unit_span[1] for p in parts]
    try:
        a.costs.table().check_group(bounds)
    except ValueError as exc:
        raise PimError(
            f"the partitions (unit boundaries {bounds}) are not legal on chip '{a.chip.name}' at "
            f"batch {a.batch}: {exc}.",
            hint="They were made for another chip: re-run --partition (or --ga-group) for this one.",
        ) from None
    layers = a.network.layers
    rows = []
    for p in parts:
        s, e = p.unit_span
        cost = partition_cost(a, p)  # for the replication the IR records
        rows.append(
            {
                "index": p.number,
                "span": [s, e],
                "layers": [layers[i].name for i in cost.layers],
                "layer_names": [_readable(layers[i]) for i in cost.layers],
                "crossbars": cost.crossbars,
                "replication": list(cost.replication),
                "core_crossbars": list(cost.core_crossbars),
                "weight_bytes": cost.weight_bytes,
                "dram_bytes": int(round(cost.dram_bytes)),
                "latency_s": cost.latency_s,
                "energy_j": cost.energy_j,
                "schedule": cost.schedule,
            }
        )
    return rows


def _readable(layer: Any) -> str:
    """The layer's ONNX node name (`nn.layer_label`), else the IR's name of its result
    (conv1.Conv), else the weight name."""
    return nn.layer_label(layer.op)


def stale_partitions(module: ModuleOp, data: dict[str, Any]) -> list[int]:
    """Indices of partitions whose stored cost attributes differ from `data` (the recomputed)."""
    stale = []
    for p, row in zip(_partitions(module), data["partitions"], strict=True):
        for key, stored in _stored(p).items():
            fresh = row[key]
            same = (
                stored == fresh
                if not isinstance(stored, float)
                else math.isclose(stored, fresh, rel_tol=1e-9, abs_tol=1e-18)
            )
            if not same:
                stale.append(row["index"])
                break
    return stale


def report_data(module: ModuleOp) -> dict[str, Any]:
    """The report of a partition-level module as a JSON-ready dictionary."""
    parts = _partitions(module)
    chip = get_chip(module)
    assert chip is not None
    batch = get_batch(module)
    rows = _recomputed_rows(module, parts)
    latency = sum(r["latency_s"] for r in rows)
    energy = sum(r["energy_j"] for r in rows) / batch
    return {
        "format": "pimdsl-report",
        "version": 1,
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
        "area": chip_area(chip).to_json(),
    }


def _print_table(data: dict[str, Any], stream: IO[str] | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    t = data["totals"]
    b = data["batch"]
    title = (
        f"{data['chip']}, batch {b}, {data['strategy']} ({data['objective']}): "
        f"{t['throughput_ips']:.1f} inf/s, {t['energy_j'] * 1e3:.3f} mJ/inf, "
        f"EDP {t['edp']:.3e} J*s"
    )
    table = Table(
        title=title,
        caption=f"rows: one batch of {b} (kB = 1024 bytes); "
        f"the title's mJ/inf is per inference; chip area {data['area']['total_mm2']:.3g} mm2",
    )
    for col in (
        "#",
        "units",
        "layers",
        "crossbars",
        "replication",
        "schedule",
        "weights kB",
        "DRAM kB",
        "latency ms",
        "energy mJ",
    ):
        table.add_column(col, justify="left" if col == "layers" else "right")
    for r in data["partitions"]:
        names = r.get("layer_names", r["layers"])
        layers = (
            ", ".join(names) if len(names) <= 3 else f"{names[0]} .. {names[-1]} ({len(names)})"
        )
        table.add_row(
            str(r["index"]),
            f"{r['span'][0]}-{r['span'][1]}",
            layers,
            str(r["crossbars"]),
            " ".join(map(str, r["replication"])),
            r.get("schedule", "layer"),
            f"{r['weight_bytes'] / KB:.1f}",
            f"{r['dram_bytes'] / KB:.1f}",
            f"{r['latency_s'] * 1e3:.3f}",
            f"{r['energy_j'] * 1e3:.3f}",
        )
    table.add_section()
    table.add_row(
        "",
        "",
        f"{t['partitions']} partitions, batch total",
        "",
        "",
        "",
        f"{t['weight_bytes'] / KB:.1f}",
        f"{t['dram_bytes'] / KB:.1f}",
        f"{t['latency_s'] * 1e3:.3f}",
        f"{t['energy_j'] * 1e3 * b:.3f}",
    )
    out = stream or sys.stdout
    Console(file=out, width=None if out.isatty() else 140).print(table)


def write_report(module: ModuleOp, dest: str, *, table_stream: IO[str] | None = None) -> None:
    """Write the report as JSON to `dest`, or print a table when `dest` is "-" (on
    `table_stream`, default stdout; pim-opt passes stderr when the IR goes to stdout)."""
    data = report_data(module)
    stale = stale_partitions(module, data)
    if stale:
        print(
            f"pimdsl: note: the cost attributes of partition(s) {', '.join(map(str, stale))} differ "
            f"from the cost model's for chip '{data['chip']}', batch {data['batch']} (hand-edited IR "
            "or another pimdsl version); the report uses the recomputed costs.",
            file=sys.stderr,
        )
    if dest == "-":
        _print_table(data, table_stream)
        return
    output.write_text(dest, "--report", strict_json.dumps(data, what="report", indent=2) + "\n")
