"""Module attributes that make an `.mlir` file self-describing.

- `pim.chip`: the chip (a dictionary attribute, see `pimdsl.chip.Chip.to_attr`);
- `pim.batch`: the batch size B the partitions are pipelined over (i64), counted in
  inferences (images), also when @main's static batch n0 is > 1 (pim-run then makes B / n0
  calls);
- `pim.weights`: the weight file the `nn.weight` ops refer to (a path relative to the
  `.mlir` file or absolute; an `.onnx`, `.npz` or `.safetensors` file), or a list of them
  (e.g. `["net.onnx", "net.mlir.weights.npz"]`: the model and the side-car file of tensors
  computed at import), searched in order for each name. pim-opt rewrites relative paths for
  the folder its `-o` file is written to.
- `pim.schedule`: the schedule policy the partition pass's costs assume (layer, batch or auto;
  absent: auto); each partition records the schedule it was costed for.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.dialects.builtin import ArrayAttr, IntegerAttr, ModuleOp, StringAttr, i64

from pimdsl.chip import Chip, from_attr
from pimdsl.dialects.common import Schedule
from pimdsl.errors import PimError

CHIP = "pim.chip"
BATCH = "pim.batch"
WEIGHTS = "pim.weights"
SCHEDULE = "pim.schedule"
# the lowering schedules a partition can run (`pimdsl.isa.pipeline`, `pimdsl.isa.element`), and
# the policy that picks per partition the one the cost model predicts fastest
SCHEDULES: tuple[str, ...] = tuple(s.value for s in Schedule)
SCHEDULE_POLICIES = (*SCHEDULES, "auto")


def get_chip(module: ModuleOp, *, required: bool = True) -> Chip | None:
    attr = module.attributes.get(CHIP)
    if attr is None:
        if required:
            raise PimError(
                "the module has no chip (attribute 'pim.chip').",
                hint="Pass --chip NAME (compass-s, compass-m, compass-l, pimcomp-default) or --chip FILE.toml.",
            )
        return None
    return from_attr(attr)


def set_chip(module: ModuleOp, chip: Chip) -> None:
    module.attributes[CHIP] = chip.to_attr()


def get_batch(module: ModuleOp) -> int:
    attr = module.attributes.get(BATCH)
    if attr is None:
        return 1
    if not isinstance(attr, IntegerAttr) or attr.value.data < 1:
        raise PimError(f"module attribute 'pim.batch' must be a positive i64, got {attr}.")
    return attr.value.data


def set_batch(module: ModuleOp, batch: int) -> None:
    if batch < 1:
        raise PimError(f"batch must be >= 1, got {batch}.")
    module.attributes[BATCH] = IntegerAttr(batch, i64)


def get_schedule(module: ModuleOp) -> str:
    """The schedule policy the partition costs assume (`pim.schedule`, set by
    `--partition='schedule=...'`): auto (the default), layer or batch."""
    attr = module.attributes.get(SCHEDULE)
    if attr is None:
        return "auto"
    if not isinstance(attr, StringAttr) or attr.data not in SCHEDULE_POLICIES:
        raise PimError(
            f"module attribute 'pim.schedule' must be one of "
            f"{', '.join(repr(p) for p in SCHEDULE_POLICIES)}, got {attr}."
        )
    return attr.data


def set_schedule(module: ModuleOp, policy: str) -> None:
    if policy not in SCHEDULE_POLICIES:
        raise PimError(
            f"unknown schedule '{policy}'.", hint=f"Use one of {', '.join(SCHEDULE_POLICIES)}."
        )
    module.attributes[SCHEDULE] = StringAttr(policy)


def get_weights(module: ModuleOp) -> list[str] | None:
    """The weight files `pim.weights` names, in search order (None: shape-only module)."""
    attr = module.attributes.get(WEIGHTS)
    if attr is None:
        return None
    if isinstance(attr, StringAttr):
        return [attr.data]
    if (
        isinstance(attr, ArrayAttr)
        and len(attr.data)
        and all(isinstance(a, StringAttr) for a in attr.data)
    ):
        return [a.data for a in attr.data]  # type: ignore[union-attr]
    raise PimError(
        f"module attribute 'pim.weights' must be a string path or a non-empty list of them, got {attr}."
    )


def set_weights(module: ModuleOp, paths: str | Sequence[str]) -> None:
    """One file as a string (the common case), several as a list searched in order."""
    if isinstance(paths, str):
        module.attributes[WEIGHTS] = StringAttr(paths)
    elif len(paths) == 1:
        module.attributes[WEIGHTS] = StringAttr(paths[0])
    else:
        module.attributes[WEIGHTS] = ArrayAttr([StringAttr(p) for p in paths])
