"""Run statistics the partition and crossbar interpreters count (weight reloads, DRAM traffic).

A caller that wants them passes a dict as `options["stats"]` to `run_module`/`run_batched`; the
levels add to it (several batches add up). Bytes use the chip's bit widths, as the cost model
does: a weight is `weight_bits / 8` bytes, an activation `act_bits / 8`.

Keys:
- `partitions_run`: partitions executed;
- `weight_bytes_loaded`: weight bytes read from DRAM (each weight block once per partition that
  uses it, replicas not counted again);
- `crossbar_bytes_written`: weight bytes programmed into crossbars, every replica (crossbar
  level only);
- `tiles_written`: crossbar writes (crossbar level only);
- `activation_bytes_loaded` / `activation_bytes_stored`: partition entries read from and exits
  written to DRAM;
- `dram_bytes`: weight bytes loaded + activation bytes loaded + stored;
- `mvm_ops`: `crossbar.mvm` ops executed; `crossbar_mvms`: input vectors through one crossbar
  (crossbar level only);
- quantized mode adds `adc_conversions`, `adc_saturations`, `crossbar_steps`, `shift_adds` and
  `stuck_cells` (crossbar and pim_isa levels; the pim_isa level adds `crossbar_mvms` too).
"""

from __future__ import annotations

from typing import Any

import numpy as np

KEYS = (
    "partitions_run",
    "weight_bytes_loaded",
    "crossbar_bytes_written",
    "tiles_written",
    "activation_bytes_loaded",
    "activation_bytes_stored",
    "dram_bytes",
    "mvm_ops",
    "crossbar_mvms",
)


def stats_dict(options: dict[str, Any]) -> dict[str, float]:
    """The dict the caller passed as options["stats"] (a private one when none was given)."""
    stats = options.get("stats")
    if not isinstance(stats, dict):
        stats = {}
        options["stats"] = stats
    return stats


def add(stats: dict[str, float], key: str, amount: float) -> None:
    stats[key] = stats.get(key, 0) + amount


def add_activation_traffic(
    stats: dict[str, float],
    loaded: list[np.ndarray],
    stored: list[np.ndarray],
    act_bits: int,
) -> None:
    nbytes_in = sum(int(a.size) for a in loaded) * act_bits / 8
    nbytes_out = sum(int(a.size) for a in stored) * act_bits / 8
    add(stats, "activation_bytes_loaded", nbytes_in)
    add(stats, "activation_bytes_stored", nbytes_out)
    add(stats, "dram_bytes", nbytes_in + nbytes_out)


def add_weight_traffic(stats: dict[str, float], nbytes: float) -> None:
    add(stats, "weight_bytes_loaded", nbytes)
    add(stats, "dram_bytes", nbytes)
