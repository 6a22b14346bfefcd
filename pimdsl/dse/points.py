"""Sweep points, their stable keys, and the groups of points that share one span table.

A point is (model, chip, batch, strategy, objective, GA seed) under the sweep's schedule
policy, stages and GA settings. Its key is a hash of everything that defines its result: the
model (zoo name, or the sha256 of the ONNX file's bytes), every field of the chip (not only its
name), the batch, strategy, objective, the GA settings and seed where they apply, the schedule
and the stages. The same point in another spec, order or run has the same key: finished points
are found by key on a re-run and the result table is sorted by it.

Points of one (model, chip, batch) share a span-cost table, so they are evaluated together in
one `Group`: the unit of work the runners distribute.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from pimdsl.dse.spec import OBJECTIVE_FREE, GASettings, Model, Spec

KEY_CHARS = 16  # 64 bits of sha256: collisions are negligible for any sweep


@dataclass(frozen=True)
class Point:
    key: str
    model: str
    chip: str
    batch: int
    strategy: str
    objective: str  # "" for greedy and layerwise (their grouping ignores it)
    seed: int | None  # the GA's seed; None for the other strategies


@dataclass(frozen=True)
class Group:
    """The points of one (model, chip, batch): what a worker evaluates in one call."""

    model: Model
    chip: dict[str, Any]  # the chip's fields (Chip.to_dict()): plain data for any worker
    batch: int
    schedule: str
    stages: tuple[str, ...]
    ga: GASettings
    points: tuple[Point, ...]

    @property
    def label(self) -> str:
        return f"{self.model.name} on {self.chip['name']}, batch {self.batch}"


@cache
def model_identity(model: Model) -> str:
    """The zoo name, or the sha256 of the ONNX file (a changed file is a new model)."""
    if model.zoo is not None:
        return f"zoo:{model.zoo}"
    assert model.path is not None
    digest = hashlib.sha256()
    with open(model.path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return f"onnx:{digest.hexdigest()}"


def point_key(
    model: Model,
    chip: dict[str, Any],
    batch: int,
    strategy: str,
    objective: str,
    seed: int | None,
    schedule: str,
    stages: tuple[str, ...],
    ga: GASettings,
) -> str:
    fields = {
        "model": model_identity(model),
        "chip": chip,
        "batch": batch,
        "strategy": strategy,
        "objective": objective,
        "schedule": schedule,
        "stages": list(stages),
        "ga": {**ga.as_dict(), "seed": seed} if strategy == "ga" else None,
    }
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()[:KEY_CHARS]


def groups_of(spec: Spec) -> list[Group]:
    """Every point of the spec, in groups sharing a span table, in spec order."""
    groups = []
    for model in spec.models:
        for chip in spec.chips:
            chip_fields = chip.to_dict()
            for batch in spec.batches:
                points = []
                for strategy in spec.strategies:
                    objectives = [""] if strategy in OBJECTIVE_FREE else spec.objectives
                    seeds: list[int | None] = list(spec.seeds) if strategy == "ga" else [None]
                    for objective in objectives:
                        for seed in seeds:
                            key = point_key(
                                model,
                                chip_fields,
                                batch,
                                strategy,
                                objective,
                                seed,
                                spec.schedule,
                                spec.stages,
                                spec.ga,
                            )
                            points.append(
                                Point(key, model.name, chip.name, batch, strategy, objective, seed)
                            )
                groups.append(
                    Group(
                        model,
                        chip_fields,
                        batch,
                        spec.schedule,
                        spec.stages,
                        spec.ga,
                        tuple(points),
                    )
                )
    return groups
