"""Chip area: crossbar cells, ADCs, DACs, local memory, vector unit and bus, per core and in total.

    from pimdsl.area import chip_area
    area = chip_area(chip)          # ChipArea: .total_mm2, .per_core_um2 {component: um2}

Every figure is a chip field (docs/chips.md "Area" gives each one's source); converter areas
follow their resolution like their energy does:

- cells: crossbars x rows x cols x `cell_area_um2`;
- ADCs: crossbars x `adcs_per_crossbar` x `adc_area_um2` x 2^(adc_bits - adc_ref_bits) -- a SAR
  ADC's binary-weighted capacitor array doubles per bit;
- DACs: crossbars x rows x `dac_area_um2` x 2^(dac_bits - 1) -- one DAC per row, its unit
  elements double per bit (`dac_area_um2` is a 1-bit DAC, a row driver);
- local memory: `local_memory_bytes` x `local_memory_area_um2_per_byte`;
- vector unit and bus: `vector_area_um2` and `bus_area_um2` per core.

Not counted: control, routers, DRAM controller and I/O pads (neither paper gives them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pimdsl.chip import Chip

COMPONENTS = ("crossbar_cells", "adcs", "dacs", "local_memory", "vector_unit", "bus")
UM2_PER_MM2 = 1e6


@dataclass(frozen=True)
class ChipArea:
    chip: str
    cores: int
    per_core_um2: dict[str, float]

    @property
    def core_um2(self) -> float:
        return sum(self.per_core_um2.values())

    @property
    def total_mm2(self) -> float:
        return self.cores * self.core_um2 / UM2_PER_MM2

    def to_json(self) -> dict[str, Any]:
        """The area as JSON (mm2): total, per core, and each component over the whole chip."""
        return {
            "total_mm2": self.total_mm2,
            "core_mm2": self.core_um2 / UM2_PER_MM2,
            "components_mm2": {
                k: self.cores * v / UM2_PER_MM2 for k, v in self.per_core_um2.items()
            },
        }

    def line(self) -> str:
        """One line for summaries: total, then the components' shares."""
        total = self.core_um2 or 1.0
        parts = ", ".join(
            f"{k.replace('_', ' ')} {100 * v / total:.1f}%" for k, v in self.per_core_um2.items()
        )
        return f"{self.total_mm2:.3g} mm2 ({self.core_um2 / UM2_PER_MM2:.3g} mm2 a core: {parts})"


def chip_area(chip: Chip) -> ChipArea:
    """The area model of `chip` (module docstring)."""
    xbars = chip.crossbars_per_core
    per_core = {
        "crossbar_cells": xbars * chip.crossbar_rows * chip.crossbar_cols * chip.cell_area_um2,
        "adcs": xbars
        * chip.adcs_per_crossbar
        * chip.adc_area_um2
        * 2.0 ** (chip.adc_bits - chip.adc_ref_bits),
        "dacs": xbars * chip.crossbar_rows * chip.dac_area_um2 * 2.0 ** (chip.dac_bits - 1),
        "local_memory": chip.local_memory_bytes * chip.local_memory_area_um2_per_byte,
        "vector_unit": chip.vector_area_um2,
        "bus": chip.bus_area_um2,
    }
    return ChipArea(chip.name, chip.cores, per_core)
