"""Classification accuracy of a network, at any level, on a labelled data set (`pim-run --accuracy`).

    x, labels, name = load_dataset("digits")
    x = fit_images(x, main_input_shapes(module))
    logits = run(module, x, options={"mode": "quantized"})
    result = evaluate(name, logits, labels, reference_logits)

The data set runs through @main in calls of @main's static batch (the last call padded with
copies of the last image, whose results are dropped). Call `i` runs with `noise_stream = i`, so
read and ADC noise differ from call to call while the programmed chip (variation, faults, ADC
offsets, keyed by the crossbar and its write count) is the same device for every call.
In quantized mode the input scale of a layer is taken per call, so the accuracy depends on
@main's batch (docs/accuracy.md).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from xdsl.dialects.builtin import ModuleOp

from pimdsl import progress
from pimdsl.errors import PimError

DATASETS = {"digits": "test", "digits-train": "train", "digits-all": "all"}


@dataclass
class Accuracy:
    """Top-1 / top-5 accuracy (fractions) of a run, and of the float model when known."""

    dataset: str
    images: int
    classes: int
    top1: float
    top5: float | None
    reference_top1: float | None = None
    reference_top5: float | None = None
    agreement: float | None = None  # images whose top-1 class equals the float model's
    seconds: float = 0.0
    stats: dict[str, float] = field(default_factory=dict)

    def lines(self) -> list[str]:
        def pct(v: float | None) -> str:
            return "-" if v is None else f"{100 * v:.2f}%"

        out = [
            f"accuracy on {self.dataset}: {self.images} images, {self.classes} classes, "
            f"{self.seconds:.2f} s",
            f"  top-1 {pct(self.top1)}"
            + (f"  top-5 {pct(self.top5)}" if self.top5 is not None else ""),
        ]
        if self.reference_top1 is not None:
            out.append(
                f"  float model (onnxruntime): top-1 {pct(self.reference_top1)}"
                + (f"  top-5 {pct(self.reference_top5)}" if self.reference_top5 is not None else "")
            )
            out.append(f"  same top-1 class as the float model: {pct(self.agreement)}")
        return out


def load_dataset(spec: str) -> tuple[np.ndarray, np.ndarray, str]:
    """(images float32 [N, ...], labels int64 [N], a name) of `spec`: a built-in data set
    (`DATASETS`) or an .npz file holding arrays `x` (images) and `labels`."""
    if spec in DATASETS:
        from pimdsl import digits

        x, labels = digits.load(DATASETS[spec])
        return x, labels, f"{spec} ({DATASETS[spec]} split of scikit-learn's load_digits)"
    path = Path(spec)
    if path.suffix.lower() != ".npz":
        raise PimError(
            f"--accuracy {spec}: unknown data set.",
            hint=f"Use one of {', '.join(DATASETS)}, or an .npz file with arrays 'x' and 'labels'.",
        )
    if not path.is_file():
        raise PimError(f"--accuracy: the data set file '{spec}' does not exist.")
    try:
        with np.load(path, allow_pickle=False) as data:
            if not {"x", "labels"} <= set(data.files):
                raise PimError(
                    f"--accuracy {spec}: the file holds {sorted(data.files)}, not the arrays "
                    "'x' (images) and 'labels' (class indices).",
                    hint="Write it with np.savez(path, x=images, labels=labels).",
                )
            x, labels = np.asarray(data["x"], dtype=np.float32), np.asarray(data["labels"])
    except (OSError, ValueError) as exc:
        raise PimError(f"--accuracy: cannot read '{spec}' as an .npz file: {exc}.") from None
    if labels.ndim != 1 or len(labels) != len(x) or not np.issubdtype(labels.dtype, np.integer):
        raise PimError(
            f"--accuracy {spec}: 'labels' must be one integer class index per image of 'x' "
            f"({len(x)}), got shape {list(labels.shape)} of {labels.dtype}."
        )
    if not len(x):
        raise PimError(f"--accuracy {spec}: the data set holds no images.")
    return x, labels.astype(np.int64), str(path)


def fit_images(x: np.ndarray, shapes: list[tuple[int, ...]]) -> np.ndarray:
    """The images reshaped to @main's per-image shape (e.g. 1x8x8 images for a [N, 64] MLP)."""
    if len(shapes) != 1 or not shapes[0]:
        raise PimError(f"--accuracy needs a network with one batched input; @main takes {shapes}.")
    image = shapes[0][1:]
    if math.prod(x.shape[1:]) != math.prod(image):
        raise PimError(
            f"--accuracy: the data set's images have shape {list(x.shape[1:])}, but the network "
            f"takes images of shape {list(image)}; the sizes differ.",
            hint="Use a network made for this data set (python -m pimdsl.digits DIR writes two).",
        )
    return np.ascontiguousarray(x.reshape(len(x), *image), dtype=np.float32)


def padded(x: np.ndarray, batch: int) -> np.ndarray:
    """x with copies of its last image appended up to a multiple of `batch`."""
    extra = -len(x) % batch
    return np.concatenate([x, np.repeat(x[-1:], extra, axis=0)]) if extra else x


def run(
    module: ModuleOp,
    x: np.ndarray,
    *,
    base_dir: Path | None = None,
    options: dict[str, Any] | None = None,
    show_progress: bool | None = None,
) -> np.ndarray:
    """@main's first output (logits) for every image of x, in calls of @main's batch."""
    from pimdsl.sim.runner import main_input_shapes, run_module
    from pimdsl.weights import WeightStore

    batch = main_input_shapes(module)[0][0]
    xs = padded(x, batch)
    weights = WeightStore.for_module(module, base_dir=base_dir)
    calls = len(xs) // batch
    outs = []
    with progress.counter(
        "accuracy", len(x), f"{len(x)} images", "image", enabled=show_progress
    ) as tick:
        for i in range(calls):
            opts = {**(options or {}), "noise_stream": i}
            y = run_module(
                module,
                [xs[i * batch : (i + 1) * batch]],
                base_dir=base_dir,
                weights=weights,
                options=opts,
            )[0]
            outs.append(y.reshape(batch, -1))
            tick(min((i + 1) * batch, len(x)), "images")
    return np.concatenate(outs)[: len(x)]


def top_k(logits: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Fraction of rows whose label is among the k largest logits (ties: lower index first)."""
    best = np.argsort(-logits, axis=1, kind="stable")[:, :k]
    return float((best == labels[:, None]).any(axis=1).mean())


def evaluate(
    dataset: str,
    logits: np.ndarray,
    labels: np.ndarray,
    reference: np.ndarray | None = None,
    *,
    seconds: float = 0.0,
    stats: dict[str, float] | None = None,
) -> Accuracy:
    """Top-1 (and top-5 when there are more than 5 classes) of `logits` and of the float
    model's `reference` logits, and how often the two pick the same class."""
    classes = logits.shape[1]
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise PimError(
            f"--accuracy {dataset}: labels run from {labels.min()} to {labels.max()}, "
            f"but the network has {classes} outputs per image."
        )
    five = classes > 5
    result = Accuracy(
        dataset,
        len(labels),
        classes,
        top_k(logits, labels, 1),
        top_k(logits, labels, 5) if five else None,
        seconds=seconds,
        stats=dict(stats or {}),
    )
    if reference is not None:
        result.reference_top1 = top_k(reference, labels, 1)
        result.reference_top5 = top_k(reference, labels, 5) if five else None
        result.agreement = float((np.argmax(logits, 1) == np.argmax(reference, 1)).mean())
    return result


def timed_run(module: ModuleOp, x: np.ndarray, **kwargs: Any) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    logits = run(module, x, **kwargs)
    return logits, time.perf_counter() - start


LEVELS = ("nn", "partition", "crossbar", "pim_isa")


def compile_network(onnx_path: str | Path, chip: Any, level: str, batch: int) -> ModuleOp:
    """The ONNX model imported with @main taking `batch` images, on `chip`, partitioned
    greedily for latency and lowered to `level` -- what pim-opt --partition
    [--partition-to-crossbar [--lower-to-isa]] gives, without files in between."""
    from xdsl.context import Context

    from pimdsl.frontend import import_onnx
    from pimdsl.module_attrs import set_batch, set_chip
    from pimdsl.partitioning import apply_grouping, span_table_for_module
    from pimdsl.passes.crossbar_to_isa import CrossbarToIsaPass
    from pimdsl.passes.partition import choose_grouping
    from pimdsl.passes.partition_to_crossbar import lower_to_crossbar

    if level not in LEVELS:
        raise PimError(f"unknown level '{level}'.", hint=f"Use one of {', '.join(LEVELS)}.")
    module = import_onnx(onnx_path, batch=batch)
    set_chip(module, chip)
    set_batch(module, batch)
    if level == "nn":
        return module
    grouping = choose_grouping(span_table_for_module(module), "greedy", "latency")
    apply_grouping(module, grouping, strategy="greedy", objective="latency")
    if level != "partition":
        lower_to_crossbar(module)
    if level == "pim_isa":
        CrossbarToIsaPass().apply(Context(), module)
    module.verify()
    return module
