"""Statistics of a simulated run: the `pim-run --stats FILE.json` document and its summary.

Schema (documented in docs/simulator.md; every energy in J, every time in s):

    {
      "format": "pim-stats", "version": 1, "chip": str, "batch": int,
      "latency_s": float,        # one batch, all partitions
      "throughput_ips": float,   # batch / latency_s
      "energy_j": float,         # per inference (whole batch / batch)
      "edp": float,              # per inference: energy_j x latency_s / batch
      "energy_breakdown": {"mvm", "adc", "shift_add", "weight_write", "dram", "bus",
                           "local_memory", "vector", "static": float},  # per inference, sums to energy_j
      "mvm_count": int, "dram_bytes": int, "weight_bytes_loaded": int, "bus_bytes": int,  # one batch
      "area": {"total_mm2", "core_mm2", "components_mm2": {...}},  # the chip's (pimdsl.area)
      "partitions": [{"index", "start_s", "latency_s", "energy_j" (whole batch),
                      "energy_breakdown", "mvm_count", "dram_bytes", "weight_bytes_loaded",
                      "bus_bytes"}]
    }

The file holds no wall time, so the same IR gives the same bytes on every run (pim-run prints
the simulation's wall time on the terminal; `SimStats.sim_seconds` keeps it for scripts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENERGY_BREAKDOWN_KEYS: tuple[str, ...] = (
    "mvm",
    "adc",
    "shift_add",
    "weight_write",
    "dram",
    "bus",
    "local_memory",
    "vector",
    "static",
)


@dataclass
class PartitionStats:
    index: int
    start_s: float
    latency_s: float
    energy: dict[str, float]  # J for the whole batch, by ENERGY_BREAKDOWN_KEYS
    mvm_count: int
    dram_bytes: int
    weight_bytes_loaded: int
    bus_bytes: int

    @property
    def energy_j(self) -> float:
        return sum(self.energy.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "start_s": self.start_s,
            "latency_s": self.latency_s,
            "energy_j": self.energy_j,
            "energy_breakdown": {k: self.energy.get(k, 0.0) for k in ENERGY_BREAKDOWN_KEYS},
            "mvm_count": self.mvm_count,
            "dram_bytes": self.dram_bytes,
            "weight_bytes_loaded": self.weight_bytes_loaded,
            "bus_bytes": self.bus_bytes,
        }


@dataclass
class SimStats:
    chip: str
    batch: int
    partitions: list[PartitionStats] = field(default_factory=list)
    sim_seconds: float = 0.0
    area: dict[str, Any] | None = None  # pimdsl.area's JSON of the chip, when known

    @property
    def latency_s(self) -> float:
        return sum(p.latency_s for p in self.partitions)

    @property
    def energy_batch_j(self) -> float:
        return sum(p.energy_j for p in self.partitions)

    def to_json(self) -> dict[str, Any]:
        B = self.batch
        latency = self.latency_s
        energy = self.energy_batch_j / B
        breakdown = {
            k: sum(p.energy.get(k, 0.0) for p in self.partitions) / B for k in ENERGY_BREAKDOWN_KEYS
        }
        return {
            "format": "pim-stats",
            "version": 1,
            "chip": self.chip,
            "batch": B,
            "latency_s": latency,
            "throughput_ips": B / latency if latency > 0 else 0.0,
            "energy_j": energy,
            "edp": energy * latency / B,
            "energy_breakdown": breakdown,
            "mvm_count": sum(p.mvm_count for p in self.partitions),
            "dram_bytes": sum(p.dram_bytes for p in self.partitions),
            "weight_bytes_loaded": sum(p.weight_bytes_loaded for p in self.partitions),
            "bus_bytes": sum(p.bus_bytes for p in self.partitions),
            "partitions": [p.to_json() for p in self.partitions],
            **({"area": self.area} if self.area is not None else {}),
        }

    def summary(self) -> str:
        """A few readable lines for the terminal."""
        d = self.to_json()
        lines = [
            f"timing ({d['chip']}, batch {d['batch']}, {len(self.partitions)} partition(s)): "
            f"latency {d['latency_s'] * 1e3:.4g} ms, {d['throughput_ips']:.4g} inf/s, "
            f"{d['energy_j'] * 1e3:.4g} mJ/inf, EDP {d['edp']:.3e} J*s",
            f"  MVMs {d['mvm_count']}, DRAM {d['dram_bytes'] / 1e6:.4g} MB "
            f"(weights {d['weight_bytes_loaded'] / 1e6:.4g} MB)",
        ]
        total = d["energy_j"] or 1.0
        parts = ", ".join(
            f"{k} {100 * v / total:.1f}%" for k, v in d["energy_breakdown"].items() if v > 0
        )
        lines.append(f"  energy: {parts}")
        if self.area is not None:
            lines.append(f"  chip area: {self.area['total_mm2']:.3g} mm2")
        return "\n".join(lines)


def write_stats(path: Path | str, stats: SimStats) -> None:
    """The `--stats` file: strict JSON, staged by `pimdsl.output` (renamed on success)."""
    from pimdsl import output, strict_json

    output.write_text(
        path, "--stats", strict_json.dumps(stats.to_json(), what="statistics file", indent=1) + "\n"
    )
