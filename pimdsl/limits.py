"""Bounds on the work a command may do, checked before anything is allocated.

Every value a user controls that sets how much memory or time a command takes (chip fields,
`--batch`, `--image-size`, GA options, tensor shapes in IR, ONNX and `.npy` files, the number of
units a chip cuts a network into) is checked here against a documented limit
(docs/limits.md). Going over a limit is a `PimError` naming the value, the limit and what to
do, never a minutes-long run or a machine out of memory.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pimdsl.errors import PimError


@dataclass(frozen=True)
class Limit:
    name: str
    maximum: int | float
    why: str
    minimum: int | float = 1


# --- the limits (docs/limits.md lists them; keep the two in step) ------------------------------

BATCH = Limit("batch", 65_536, "inferences per run; pim-run allocates every image")
IMAGE_SIZE = Limit("image size", 2_048, "side of the zoo model's input image", minimum=8)
TENSOR_DIM = Limit("tensor dimension", 2**24, "one dimension of a tensor in IR or ONNX")
TENSOR_ELEMENTS = Limit("tensor elements", 2**32, "elements of one tensor in IR or ONNX (compile)")
RUN_ELEMENTS = Limit(
    "tensor elements to run", 2**26, "elements of one tensor pim-run allocates (256 MiB of float32)"
)
NPY_ELEMENTS = Limit("input tensor elements", 2**26, "elements of the --input tensor")
UNITS = Limit("units", 4_096, "units (core-sized weight pieces) a chip cuts the network into")
PARTITIONS = Limit(
    "partitions",
    512,
    "partitions of one grouping; the IR, its verification and printing grow with them",
)
GA_POPULATION = Limit("population", 10_000, "ga-group population", minimum=2)
GA_GENERATIONS = Limit("generations", 100_000, "ga-group generations")
GA_WORKERS = Limit("workers", 64, "ga-group worker processes")

# chip fields: (minimum, maximum); int fields are whole numbers. Sizes bound the placement and
# the simulator's per-core state; the float ranges keep every derived cost finite.
CHIP_INT_FIELDS: dict[str, tuple[int, int]] = {
    "cores": (1, 16_384),
    "crossbars_per_core": (1, 4_096),
    "crossbar_rows": (1, 8_192),
    "crossbar_cols": (1, 8_192),
    "cell_bits": (1, 16),
    "weight_bits": (1, 32),
    "act_bits": (1, 32),
    "dac_bits": (1, 32),
    "adc_bits": (1, 32),
    "adc_ref_bits": (1, 32),
    "adcs_per_crossbar": (1, 8_192),
    "local_memory_bytes": (1, 2**40),
    "vector_bytes": (1, 2**20),
}
# non-idealities (floats): sigmas in LSB or as a log-normal sigma, rates and IR drop fractions
CHIP_FLOAT_FIELDS: dict[str, tuple[float, float]] = {
    "variation_sigma": (0.0, 3.0),
    "read_noise_sigma": (0.0, 10.0),
    "adc_offset_sigma": (0.0, 1e6),
    "adc_noise_sigma": (0.0, 1e6),
    "stuck_at_0_rate": (0.0, 1.0),
    "stuck_at_1_rate": (0.0, 1.0),
    "ir_drop": (0.0, 1.0),
}
CHIP_TOTAL_CROSSBARS = 2**20  # cores x crossbars_per_core
CHIP_RATE_RANGE = (1.0, 1e15)  # clock_hz and the bandwidths (Hz, bytes/s)
CHIP_COST_RANGE = (0.0, 1e12)  # times (ns), energies (pJ) and powers (mW); 0: free


def check(value: int | float, limit: Limit, *, what: str, hint: str = "") -> None:
    """PimError unless minimum <= value <= maximum."""
    if not limit.minimum <= value <= limit.maximum:
        big = value > limit.maximum
        shown = str(value) if len(str(value)) <= 40 else f"{str(value)[:37]}..."
        raise PimError(
            f"{what} {shown} is too {'large' if big else 'small'}: the limit is "
            f"{'at most' if big else 'at least'} {limit.maximum if big else limit.minimum:,} "
            f"({limit.why}; docs/limits.md).",
            hint=hint or None,
        )


def check_shape(shape: Sequence[int], *, what: str, elements: Limit = TENSOR_ELEMENTS) -> None:
    """PimError for a negative dimension, a dimension over TENSOR_DIM or too many elements."""
    for d in shape:
        if d < 0:
            continue  # dynamic dimensions are the verifier's business
        if d > TENSOR_DIM.maximum:
            raise PimError(
                f"{what} has shape {list(shape)}: dimension {d:,} is over the limit of "
                f"{TENSOR_DIM.maximum:,} ({TENSOR_DIM.why}; docs/limits.md).",
                hint="Check the shape; a network this large is beyond what pimdsl handles.",
            )
    n = math.prod(d for d in shape if d >= 0)
    if n > elements.maximum:
        raise PimError(
            f"{what} has shape {list(shape)} = {n:,} elements, over the limit of "
            f"{elements.maximum:,} ({elements.why}; docs/limits.md).",
            hint="Check the shape, or use a smaller --batch or image size.",
        )


def check_chip_field(chip_name: str, field: str, value: int | float, is_int: bool) -> None:
    """The range check of one chip field (after the type and finiteness checks)."""
    if is_int:
        lo, hi = CHIP_INT_FIELDS.get(field, (0, 2**62))
    elif field in CHIP_FLOAT_FIELDS:
        lo, hi = CHIP_FLOAT_FIELDS[field]
    elif field == "clock_hz" or field.endswith("bandwidth"):
        lo, hi = CHIP_RATE_RANGE
    else:
        lo, hi = CHIP_COST_RANGE
    if not lo <= value <= hi:
        raise PimError(
            f"chip '{chip_name}': field '{field}' is {value!r}, outside the allowed range "
            f"[{lo:g}, {hi:g}] (docs/limits.md).",
            hint="Use a value in that range; the presets (pim-opt --list-chips) are typical.",
        )


def check_chip_totals(chip_name: str, cores: int, crossbars_per_core: int) -> None:
    total = cores * crossbars_per_core
    if total > CHIP_TOTAL_CROSSBARS:
        raise PimError(
            f"chip '{chip_name}': {cores} cores x {crossbars_per_core} crossbars = {total:,} "
            f"crossbars, over the limit of {CHIP_TOTAL_CROSSBARS:,} (docs/limits.md).",
            hint="Use fewer cores or crossbars per core.",
        )


def check_units(count: int, chip_name: str, largest: Iterable[tuple[str, int]] = ()) -> None:
    """A chip so small that the network falls into more than UNITS pieces is refused at once
    (partitioning, the GA and the IR all grow with the number of units)."""
    if count <= UNITS.maximum:
        return
    worst = ", ".join(f"{name}: {n:,}" for name, n in sorted(largest, key=lambda x: -x[1])[:3])
    raise PimError(
        f"chip '{chip_name}' cuts this network into {count:,} units (core-sized weight pieces), "
        f"over the limit of {UNITS.maximum:,} (docs/limits.md)"
        f"{f'; the largest layers: {worst}' if worst else ''}. Partitioning would need at least "
        "as many partitions as cores can hold units, each reloading weights.",
        hint="Use a chip with more crossbars per core or larger crossbars "
        "(pim-opt --list-chips lists the presets).",
    )


def check_module_shapes(
    module: Any, locate: Callable[[Any], str], elements: Limit = TENSOR_ELEMENTS
) -> None:
    """Every shaped value of `module` (op results, block arguments) within TENSOR_DIM and
    `elements`; `locate(op)` names the place (file:line) of an offending op."""
    for op in module.walk():
        values = [("a result", v) for v in op.results] + [
            ("a block argument", a)
            for region in op.regions
            for block in region.blocks
            for a in block.args
        ]
        for kind, value in values:
            get_shape = getattr(value.type, "get_shape", None)
            if get_shape is None:
                continue
            try:
                shape = tuple(int(d) for d in get_shape())
            except (TypeError, ValueError):
                continue
            try:
                check_shape(shape, what=f"{kind} of '{op.name}'", elements=elements)
            except PimError as exc:
                raise PimError(f"{locate(op)}: {exc}") from None


def folded_elements(op_type: str, arrays: Sequence[Any]) -> int | None:
    """Elements a constant-folded ONNX node would allocate, for the ops whose output can be far
    larger than their inputs (ConstantOfShape, Expand, Tile, Range); None for the others or
    when the inputs are not all known. Checked against RUN_ELEMENTS before numpy allocates."""
    import numpy as np

    try:
        if op_type == "ConstantOfShape" and arrays and arrays[0] is not None:
            return math.prod(int(d) for d in np.asarray(arrays[0]).reshape(-1))
        if (
            op_type == "Expand"
            and len(arrays) > 1
            and arrays[0] is not None
            and arrays[1] is not None
        ):
            shape = tuple(int(d) for d in np.asarray(arrays[1]).reshape(-1))
            return math.prod(np.broadcast_shapes(np.asarray(arrays[0]).shape, shape))
        if (
            op_type == "Tile"
            and len(arrays) > 1
            and arrays[0] is not None
            and arrays[1] is not None
        ):
            repeats = [int(r) for r in np.asarray(arrays[1]).reshape(-1)]
            return int(np.asarray(arrays[0]).size) * math.prod(max(r, 0) for r in repeats)
        if op_type == "Range" and len(arrays) > 2 and all(a is not None for a in arrays[:3]):
            start, limit, delta = (float(np.asarray(a).reshape(-1)[0]) for a in arrays[:3])
            return max(0, math.ceil((limit - start) / delta)) if delta else None
    except (ValueError, TypeError, OverflowError):
        return None  # the folder reports a malformed node itself
    return None


def check_partitions(count: int, chip_name: str, *, lower_bound: bool) -> None:
    """A grouping of more than PARTITIONS partitions (or a chip so small that at least that many
    are needed: `lower_bound`) is refused before the partition-level IR is built."""
    if count <= PARTITIONS.maximum:
        return
    what = f"needs at least {count:,} partitions" if lower_bound else f"makes {count:,} partitions"
    raise PimError(
        f"chip '{chip_name}' {what} for this network, over the limit of {PARTITIONS.maximum:,} "
        f"({PARTITIONS.why}; docs/limits.md).",
        hint="Use a chip with more cores or crossbars (pim-opt --list-chips lists the presets).",
    )
