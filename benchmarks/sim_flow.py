"""Shared by the simulator benchmarks: a zoo model taken from ONNX down to pim_isa in-process.

    module, costs = lower_model("resnet18", "compass-s", batch=1)

`costs` are the cost model's per-partition estimates (`latency_s`, `energy_j` of each
`partition.partition` op) read before the lowering replaces those ops.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

MODELS = {"ResNet18": "resnet18", "VGG16": "vgg16", "SqueezeNet": "squeezenet1_0"}
CHIPS = {"S": "compass-s", "M": "compass-m", "L": "compass-l"}
# partition level -> pim_isa, in order (the lowering issue's passes)
LOWERING = ("partition-to-crossbar", "crossbar-to-isa")  # what lower_model applies


def onnx_path(model: str) -> Path:
    from pimdsl.models import save_model

    root = Path(os.environ.get("PIMDSL_CACHE", Path.home() / ".cache" / "pimdsl")) / "onnx"
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"{model}.onnx"
    if not path.exists():
        save_model(model, path)
    return path


def context() -> Any:
    from pimdsl.dialects import context as all_dialects

    return all_dialects()


def missing_passes() -> list[str]:
    from pimdsl.passes import get_all_passes

    known = get_all_passes()
    return [p for p in LOWERING if p not in known]


def apply(module: Any, name: str, **options: Any) -> None:
    from pimdsl.passes import get_all_passes

    cls = get_all_passes()[name]()
    cls(**options).apply(context(), module)  # type: ignore[call-arg]


def partition_costs(module: Any) -> list[dict[str, float]]:
    from pimdsl.dialects import partition as part

    return [
        {
            "latency_s": op.latency_s.value.data,
            "energy_j": op.energy_j.value.data,
            "span": [int(v) for v in op.span.get_values()],
            "replication": [int(v) for v in op.replication.get_values()],
            "schedule": op.schedule_name,
        }
        for op in module.walk()
        if isinstance(op, part.PartitionOp)
    ]


def lower_model(
    model: str,
    chip: str,
    batch: int,
    strategy: str = "greedy",
    module: Any = None,
    schedule: str = "layer",
) -> tuple[Any, list[dict[str, float]]]:
    """The model at pim_isa level on `chip` at `batch`, and the cost model's partitions.
    `strategy`: greedy, layerwise or optimal (`--partition`), or ga (`--partition --ga-group`);
    `schedule`: layer or batch (every partition), or auto (the partition pass's
    `schedule=auto`: per partition the one it predicts faster)."""
    from pimdsl.chip import load_chip
    from pimdsl.frontend import import_onnx
    from pimdsl.module_attrs import set_batch, set_chip

    if module is None:
        module = import_onnx(onnx_path(model))
    else:
        module = module.clone()
    set_chip(module, load_chip(chip))
    set_batch(module, batch)
    if strategy == "ga":
        # what `pim-opt --partition --ga-group` picks: greedy, then the GA (default options,
        # seeded with the greedy and the exact optimum)
        apply(module, "partition", strategy="greedy", schedule=schedule)
        apply(module, "ga-group", seed=0)
    else:
        apply(module, "partition", strategy=strategy, schedule=schedule)
    costs = partition_costs(module)
    apply(module, "partition-to-crossbar")
    apply(module, "crossbar-to-isa", schedule="auto")
    return module, costs
