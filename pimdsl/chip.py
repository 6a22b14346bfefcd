"""The accelerator template: a chip of cores, each with crossbars, a vector unit and local memory.

A `Chip` is a validated, frozen dataclass. Presets live as TOML files in `pimdsl/chips/`; users
pass `--chip NAME` (a preset) or `--chip FILE` (`.toml` or `.json`, same keys). The chip travels
inside the IR as the module attribute `pim.chip` (a dictionary attribute), so every `.mlir`
file is self-describing; see `to_attr` / `from_attr`.

Every number the cost model and the simulator use is a field here, never a constant in code.
Where each default comes from is written in the preset files and in docs/chips.md.
"""

from __future__ import annotations

import dataclasses
import json
import math
import tomllib
from dataclasses import dataclass, fields
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from pimdsl import limits
from pimdsl.errors import PimError

NON_IDEALITY_FIELDS = (
    "variation_sigma",
    "read_noise_sigma",
    "adc_offset_sigma",
    "adc_noise_sigma",
    "stuck_at_0_rate",
    "stuck_at_1_rate",
    "ir_drop",
    "noise_seed",
)


@dataclass(frozen=True)
class Chip:
    """A crossbar PIM accelerator. Times in ns, bandwidths in bytes/s, energies in pJ, power in mW."""

    name: str
    # --- structure -------------------------------------------------------------------------
    cores: int
    crossbars_per_core: int
    crossbar_rows: int
    crossbar_cols: int
    cell_bits: int
    weight_bits: int
    act_bits: int
    dac_bits: int
    adc_bits: int
    local_memory_bytes: int
    # --- timing ------------------------------------------------------------------------------
    clock_hz: float
    mvm_read_ns: float
    mvm_per_bit_ns: float  # per DAC step of the bit-serial input
    mvm_adc_ns: float
    mvm_shift_add_ns: float
    mvm_write_ns: float
    mvm_interval_ns: float  # a crossbar accepts a new MVM this often (pipelined)
    vector_bytes: int  # a vector op handles this many bytes ...
    vector_latency_ns: float  # ... in this time
    local_memory_bandwidth: float
    bus_bandwidth: float  # shared on-chip bus between cores and the DRAM controller
    dram_bandwidth: float  # external memory (weights and partition boundaries)
    dram_latency_ns: float
    crossbar_write_ns_per_row: float  # programming one crossbar row
    # --- energy ------------------------------------------------------------------------------
    crossbar_read_pj: float  # one crossbar, one input-bit step of an MVM (array + DACs)
    adc_pj: float  # one ADC conversion
    shift_add_pj: float  # one shift-add of one column result
    crossbar_write_pj_per_bit: float
    dram_pj_per_byte: float
    bus_pj_per_byte: float
    local_memory_pj_per_byte: float
    vector_pj_per_op: float  # one vector op of `vector_bytes`
    vector_power_mw: float  # per core, while the chip runs (COMPASS: 22.8 mW)
    local_memory_power_mw: float  # per core (COMPASS: 18.0 mW)
    control_power_mw: float  # per core (COMPASS: 8.0 mW)
    description: str = ""
    # --- device non-idealities (quantized mode; docs/chips.md "Non-idealities"). All 0: an
    # ideal crossbar; a field at its default is left out of `to_dict` and `pim.chip`.
    variation_sigma: float = 0.0  # log-normal sigma of a cell's conductance, drawn per write
    read_noise_sigma: float = 0.0  # per cell and read, relative to the top conductance level
    adc_offset_sigma: float = 0.0  # static offset of each column's ADC, in LSB
    adc_noise_sigma: float = 0.0  # noise of each conversion, in LSB
    stuck_at_0_rate: float = 0.0  # fraction of cells stuck at the lowest conductance
    stuck_at_1_rate: float = 0.0  # fraction of cells stuck at the highest conductance
    ir_drop: float = 0.0  # fraction of its current the farthest row loses (linear in the row)
    noise_seed: int = 0  # seed of every draw above
    # --- mapping --------------------------------------------------------------------------------
    # Crossbars one unit (pimdsl/units.py) may take at most; 0: a whole core. Smaller units pack
    # replicas more finely on cores with many crossbars (docs/chips.md "Unit size"). A compiler
    # choice, kept with the chip so that every pass plans the same units.
    unit_crossbars: int = 0
    # The element schedule's rolling runs (pimdsl/isa/line_buffer.py `runs`): up to this many
    # one-row tiles of a convolution run as one chunk through a rolling band; 1: none, the
    # default (runs cut DRAM and bus traffic but coarsen the schedule: measured in line_buffer).
    roll_rows: int = 1
    # --- converters ----------------------------------------------------------------------------
    adc_ref_bits: int = 8  # the ADC resolution `adc_pj` and `mvm_adc_ns` are given for
    # --- area (pimdsl.area, docs/chips.md "Area"); defaults: the COMPASS presets at 16 nm -------
    cell_area_um2: float = 0.15  # one crossbar cell (an 8T compute SRAM cell at 16 nm)
    adc_area_um2: float = 300.0  # one ADC at adc_ref_bits (ISAAC's 8-bit SAR, scaled to 16 nm)
    adcs_per_crossbar: int = 1  # ADCs a crossbar's columns share (ISAAC: one per 128 columns)
    dac_area_um2: float = 0.042  # one 1-bit DAC, one per row (ISAAC's, scaled to 16 nm)
    local_memory_area_um2_per_byte: float = 0.85  # SRAM local memory incl. periphery, 16 nm
    vector_area_um2: float = 1008.0  # a core's vector unit (PUMA's VFU, scaled to 16 nm)
    bus_area_um2: float = 22500.0  # a core's share of the on-chip bus (ISAAC's, scaled to 16 nm)

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("name", "description"):
                if not isinstance(value, str):
                    raise PimError(
                        f"chip '{self.name}': field '{f.name}' must be a string, got {value!r}.",
                        hint=f'Quote it: {f.name} = "{value}".',
                    )
                continue
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise PimError(
                    f"chip '{self.name}': field '{f.name}' must be a number, got {value!r}."
                )
            # nan passes every comparison below (nan <= 0 is False), so test it first
            if isinstance(value, float) and not math.isfinite(value):
                raise PimError(
                    f"chip '{self.name}': field '{f.name}' must be a finite number, got {value!r}."
                )
            if f.type == "int" and value != int(value):
                raise PimError(
                    f"chip '{self.name}': field '{f.name}' must be a whole number, got {value!r}."
                )
            if f.type == "int" and value >= 2**63:  # the IR stores it as an i64
                raise PimError(
                    f"chip '{self.name}': field '{f.name}' is too large ({value}); the limit is 2^63 - 1."
                )
            zero_ok = f.name in (*NON_IDEALITY_FIELDS, "unit_crossbars") or f.name.endswith(
                ("_pj", "_mw", "_ns", "_byte", "_bit", "_op")
            )
            if value < 0 or (value == 0 and not zero_ok):
                raise PimError(
                    f"chip '{self.name}': field '{f.name}' must be positive, got {value!r}."
                )
            limits.check_chip_field(self.name, f.name, value, f.type == "int")
        limits.check_chip_totals(self.name, self.cores, self.crossbars_per_core)
        if self.stuck_at_0_rate + self.stuck_at_1_rate > 1:
            raise PimError(
                f"chip '{self.name}': stuck_at_0_rate + stuck_at_1_rate is "
                f"{self.stuck_at_0_rate + self.stuck_at_1_rate:g}, more than every cell; "
                "give fractions that add up to at most 1."
            )
        if self.unit_crossbars > self.crossbars_per_core:
            raise PimError(
                f"chip '{self.name}': unit_crossbars ({self.unit_crossbars}) exceeds "
                f"crossbars_per_core ({self.crossbars_per_core}); a unit lives on one core.",
                hint="Use 0 (a whole core) or a number up to crossbars_per_core.",
            )
        if self.weight_bits % self.cell_bits and self.cell_bits > self.weight_bits:
            raise PimError(
                f"chip '{self.name}': cell_bits ({self.cell_bits}) exceeds weight_bits "
                f"({self.weight_bits}); use cell_bits <= weight_bits."
            )
        if self.act_bits % self.dac_bits:
            raise PimError(
                f"chip '{self.name}': act_bits ({self.act_bits}) must be a multiple of dac_bits "
                f"({self.dac_bits})."
            )
        if self.cols_per_weight > self.crossbar_cols:
            raise PimError(
                f"chip '{self.name}': one {self.weight_bits}-bit weight needs "
                f"{self.cols_per_weight} columns of {self.cell_bits}-bit cells but a crossbar has "
                f"only {self.crossbar_cols}."
            )

    # --- derived quantities ------------------------------------------------------------------
    @property
    def cols_per_weight(self) -> int:
        """Crossbar columns one weight occupies (bit slicing over cells)."""
        return math.ceil(self.weight_bits / self.cell_bits)

    @property
    def unit_limit(self) -> int:
        """Crossbars one unit may take: `unit_crossbars`, or a whole core when it is 0."""
        return self.unit_crossbars or self.crossbars_per_core

    @property
    def weights_per_crossbar_row(self) -> int:
        """Output channels one crossbar holds side by side."""
        return self.crossbar_cols // self.cols_per_weight

    @property
    def input_steps(self) -> int:
        """Bit-serial steps to feed one activation through the DACs."""
        return self.act_bits // self.dac_bits

    @property
    def adc_conversion_pj(self) -> float:
        """Energy of one conversion at `adc_bits`: `adc_pj` (given at `adc_ref_bits`) doubled per
        extra bit, the Walden figure of merit E = FOM x 2^bits of Murmann's ADC survey. The one
        place the cost model and the simulator take ADC energy from."""
        return self.adc_pj * 2.0 ** (self.adc_bits - self.adc_ref_bits)

    @property
    def adc_latency_ns(self) -> float:
        """ADC phase of an MVM at `adc_bits`: a SAR ADC resolves one bit per comparator cycle,
        so `mvm_adc_ns` (given at `adc_ref_bits`) scales linearly with the bits."""
        return self.mvm_adc_ns * self.adc_bits / self.adc_ref_bits

    def mvm_latency_for(self, steps: int) -> float:
        """Latency of one MVM fed in `steps` DAC steps (PIMCOMP's formula: read + steps x
        per-step + ADC + shift-add + write); the cost model and the simulator both use it."""
        return (
            self.mvm_read_ns
            + steps * self.mvm_per_bit_ns
            + self.adc_latency_ns
            + self.mvm_shift_add_ns
            + self.mvm_write_ns
        )

    @property
    def mvm_latency_ns(self) -> float:
        """Latency of one MVM of `act_bits` inputs (`input_steps` DAC steps)."""
        return self.mvm_latency_for(self.input_steps)

    @property
    def total_crossbars(self) -> int:
        return self.cores * self.crossbars_per_core

    @property
    def capacity_bytes(self) -> float:
        """Weight storage of the whole chip in bytes (cells x cell bits / 8)."""
        return self.total_crossbars * self.crossbar_rows * self.crossbar_cols * self.cell_bits / 8

    @property
    def non_ideal(self) -> bool:
        """Whether any device non-ideality is switched on (the seed alone changes nothing)."""
        return any(getattr(self, f) for f in NON_IDEALITY_FIELDS if f != "noise_seed")

    @property
    def static_power_mw_per_core(self) -> float:
        return self.vector_power_mw + self.local_memory_power_mw + self.control_power_mw

    # --- (de)serialisation -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Every field, except optional ones (non-idealities, `unit_crossbars`, `roll_rows`, `adc_ref_bits`,
        areas) at their default, so chips that do not use them read and print as before."""
        return {
            k: v
            for k, v in dataclasses.asdict(self).items()
            if k not in OPTIONAL_FIELDS or v != _DEFAULTS[k]
        }

    def replace(self, **changes: Any) -> Chip:
        return from_dict({**self.to_dict(), **changes}, source=f"chip '{self.name}'")

    def to_attr(self) -> Any:
        """The chip as an xDSL `DictionaryAttr`, for the module attribute `pim.chip`."""
        from xdsl.dialects.builtin import (
            DictionaryAttr,
            FloatAttr,
            IntegerAttr,
            StringAttr,
            f64,
            i64,
        )

        entries: dict[str, Any] = {}
        kept = self.to_dict()
        for f in fields(self):
            if f.name not in kept:
                continue
            value = getattr(self, f.name)
            if isinstance(value, str):
                entries[f.name] = StringAttr(value)
            elif f.type == "int":
                entries[f.name] = IntegerAttr(int(value), i64)
            else:
                entries[f.name] = FloatAttr(float(value), f64)
        return DictionaryAttr(entries)


def same_design(a: Chip, b: Chip) -> bool:
    """Whether two chips differ at most in name, description and device non-idealities, so a
    program compiled for one runs unchanged on the other (e.g. a noisier copy of a preset)."""
    skip = {"name", "description", *NON_IDEALITY_FIELDS}
    return all(getattr(a, f.name) == getattr(b, f.name) for f in fields(Chip) if f.name not in skip)


AREA_FIELDS = (
    "cell_area_um2",
    "adc_area_um2",
    "adcs_per_crossbar",
    "dac_area_um2",
    "local_memory_area_um2_per_byte",
    "vector_area_um2",
    "bus_area_um2",
)
OPTIONAL_FIELDS = (
    *NON_IDEALITY_FIELDS,
    "unit_crossbars",
    "roll_rows",
    "adc_ref_bits",
    *AREA_FIELDS,
)
_FIELD_TYPES = {f.name: f.type for f in fields(Chip)}
_DEFAULTS = {f.name: f.default for f in fields(Chip)}


def from_dict(data: dict[str, Any], *, source: str = "chip description") -> Chip:
    """Build a chip from a plain dictionary; unknown or missing keys are a clear error."""
    unknown = sorted(set(data) - set(_FIELD_TYPES))
    if unknown:
        raise PimError(
            f"{source}: unknown chip field(s) {', '.join(unknown)}.",
            hint=f"Known fields: {', '.join(sorted(_FIELD_TYPES))}.",
        )
    required = [f.name for f in fields(Chip) if f.default is dataclasses.MISSING]
    missing = [k for k in required if k not in data]
    if missing:
        raise PimError(
            f"{source}: missing chip field(s) {', '.join(missing)}.",
            hint="Start from a preset (`pim-opt --list-chips`, files in pimdsl/chips/) and change what you need.",
        )
    values: dict[str, Any] = {}
    for key, value in data.items():
        if _FIELD_TYPES[key] == "int" and isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
            raise PimError(
                f"{source}: field '{key}' is too large ({str(value)[:40]}"
                f"{'...' if len(str(value)) > 40 else ''}); the limit is 2^63 - 1."
            )
        if _FIELD_TYPES[key] == "float" and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        values[key] = value
    try:
        return Chip(**values)
    except TypeError as exc:  # pragma: no cover - guarded above
        raise PimError(f"{source}: {exc}") from None
    except PimError as exc:  # name the file (or attribute) the bad value came from
        message = str(exc).removeprefix(f"chip '{values.get('name')}': ")
        if source.startswith(f"chip '{values.get('name')}'"):
            raise
        raise PimError(f"{source}: {message}") from None


def from_attr(attr: Any) -> Chip:
    """Inverse of `Chip.to_attr`; also reads the short form `{base = "NAME", field = ...}`."""
    from xdsl.dialects.builtin import DictionaryAttr, FloatAttr, IntegerAttr, StringAttr

    if not isinstance(attr, DictionaryAttr):
        raise PimError("module attribute 'pim.chip' must be a dictionary of chip fields.")
    data: dict[str, Any] = {}
    for key, value in attr.data.items():
        if isinstance(value, StringAttr):
            data[key] = value.data
        elif isinstance(value, IntegerAttr):
            data[key] = value.value.data
        elif isinstance(value, FloatAttr):
            data[key] = value.value.data
        else:
            raise PimError(
                f"module attribute 'pim.chip': field '{key}' has unsupported value {value}."
            )
    # the short form {base = "compass-s", cores = 4 : i64}: a preset and the fields that differ
    source = "module attribute 'pim.chip'"
    if "base" in data and "name" not in data and len(data) > 1:
        data["name"] = f"{data['base']}-modified"  # not the preset's name: its fields differ
    return from_dict(_on_base(data, source, "the fields of pim.chip"), source=source)


@cache
def preset_names() -> tuple[str, ...]:
    folder = resources.files("pimdsl") / "chips"
    return tuple(
        sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))
    )


def load_preset(name: str) -> Chip:
    if name not in preset_names():
        raise PimError(
            f"unknown chip preset '{name}'.",
            hint=f"Use one of {', '.join(preset_names())}, or give a .toml/.json file.",
        )
    text = (resources.files("pimdsl") / "chips" / f"{name}.toml").read_text()
    return from_dict(tomllib.loads(text), source=f"chip preset '{name}'")


def load_chip(spec: str) -> Chip:
    """`spec` is a preset name or the path of a TOML/JSON chip description."""
    if spec in preset_names():
        return load_preset(spec)
    path = Path(spec)
    if path.is_dir():
        raise PimError(
            f"--chip '{spec}' is a folder; give a .toml/.json chip file or a preset: "
            f"{', '.join(preset_names())}."
        )
    if not path.suffix:
        return load_preset(spec)  # a name: gives the 'unknown preset' error
    if not path.exists():
        raise PimError(
            f"chip file '{spec}' does not exist.",
            hint=f"Give an existing .toml/.json file or a preset: {', '.join(preset_names())}.",
        )
    try:
        if path.suffix == ".toml":
            data = tomllib.loads(path.read_text())
        elif path.suffix == ".json":
            data = json.loads(path.read_text())
        else:
            raise PimError(f"chip file '{spec}': use a .toml or .json file.")
    except (ValueError, RecursionError) as exc:  # TOML/JSON syntax, huge numbers, deep nesting
        detail = "it nests too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise PimError(
            f"chip file '{spec}' is not valid {path.suffix[1:].upper()}: {detail}."
        ) from None
    except OSError as exc:
        raise PimError(f"cannot read chip file '{spec}': {exc.strerror or exc}.") from None
    source = f"chip file '{spec}'"
    if not isinstance(data, dict):
        raise PimError(
            f"{source}: the top level must be a table of chip fields (a JSON object), "
            f"got a {type(data).__name__}.",
            hint='Write e.g. {"base": "compass-s", "cores": 4}.',
        )
    # docs/chips.md: `name` defaults to the file's stem, so results never carry the base's name
    data.setdefault("name", path.stem)
    return from_dict(_on_base(data, source, f"the changes of {path.name}"), source=source)


def _on_base(data: dict[str, Any], source: str, changes: str) -> dict[str, Any]:
    """`data` on top of the preset its `base` names (a chip file or a `pim.chip` attribute
    may start from a preset and override a few fields); `data` itself without a base."""
    if "base" not in data:
        return data
    data = dict(data)
    base_name = data.pop("base")
    if not isinstance(base_name, str) or base_name not in preset_names():
        raise PimError(
            f"{source}: unknown chip preset {base_name!r} in `base`.",
            hint=f"Use base = one of {', '.join(preset_names())}.",
        )
    base = load_preset(base_name).to_dict()
    if data and "description" not in data:
        data["description"] = f"{base_name} with {changes}"
    return {**base, **data}
