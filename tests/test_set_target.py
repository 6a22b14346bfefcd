"""The `set-target` pass: a new chip or batch re-costs the same partitions; checked against the
cost model called directly on the same spans (pimdsl.cost.model.span_costs)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from test_units import mlp_48_8_4, tiny_chip
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp

from pimdsl.chip import Chip
from pimdsl.cost.model import span_costs
from pimdsl.errors import PimError
from pimdsl.module_attrs import get_batch, get_chip, set_batch, set_chip
from pimdsl.network import extract_network
from pimdsl.partitioning import incoming_grouping, is_partitioned, partitions
from pimdsl.passes.partition import PartitionPass
from pimdsl.passes.partition_to_crossbar import PartitionToCrossbarPass
from pimdsl.passes.set_target import SetTargetPass
from pimdsl.units import plan_units


def _greedy(chip: Chip, batch: int) -> ModuleOp:
    module = mlp_48_8_4()
    set_chip(module, chip)
    set_batch(module, batch)
    PartitionPass(strategy="greedy").apply(Context(), module)
    return module


def _model_costs(chip: Chip, batch: int, bounds: list[int]) -> list[float]:
    """Latency (s) and energy (J) of each span [bounds[i], bounds[i+1]) from the cost model itself,
    on a fresh nn-level copy of the network (the pass's default schedule is auto)."""
    net = extract_network(mlp_48_8_4())
    costs = span_costs(net, plan_units(net, chip), chip, batch, "auto")
    spans = zip(bounds, bounds[1:], strict=False)
    cost = [costs.partition(s, e) for s, e in spans]
    return [c.latency_s for c in cost] + [c.energy_j for c in cost]


def _stored(module: ModuleOp) -> list[float]:
    parts = partitions(module)
    return [p.latency_s.value.data for p in parts] + [p.energy_j.value.data for p in parts]


def _chip_file(tmp_path: Path, cores: int) -> Path:
    """tiny_chip with `cores` cores, as a file (the pass takes a preset name or a file)."""
    path = tmp_path / f"tiny{cores}.toml"
    path.write_text(
        f'base = "compass-s"\nname = "tiny{cores}"\ncrossbar_rows = 16\ncrossbar_cols = 16\n'
        f"crossbars_per_core = 2\ncores = {cores}\n"
    )
    return path


def test_new_batch_recosts_the_same_spans(caplog: pytest.LogCaptureFixture) -> None:
    module = _greedy(tiny_chip(), batch=4)
    bounds = incoming_grouping(module)
    assert bounds is not None and len(bounds) > 2  # several partitions: a real check
    assert _stored(module) == pytest.approx(_model_costs(tiny_chip(), 4, bounds))
    with caplog.at_level(logging.WARNING, logger="pimdsl"):
        SetTargetPass(batch=1).apply(Context(), module)
    want = _model_costs(tiny_chip(), 1, bounds)
    assert want != pytest.approx(_model_costs(tiny_chip(), 4, bounds))  # batch matters
    assert incoming_grouping(module) == bounds and get_batch(module) == 1
    assert _stored(module) == pytest.approx(want)
    assert "costed again for chip 'tiny', batch 1" in caplog.text


def test_new_chip_recosts_the_same_spans(tmp_path: Path) -> None:
    module = _greedy(tiny_chip(), batch=2)
    bounds = incoming_grouping(module)
    assert bounds is not None
    SetTargetPass(chip=str(_chip_file(tmp_path, cores=4)), batch=3).apply(Context(), module)
    big = get_chip(module)
    assert big is not None and (big.name, big.cores) == ("tiny4", 4)
    assert incoming_grouping(module) == bounds and get_batch(module) == 3
    assert _stored(module) == pytest.approx(_model_costs(big, 3, bounds))


def test_without_options_it_recosts_hand_edited_attributes() -> None:
    module = _greedy(tiny_chip(), batch=4)
    bounds = incoming_grouping(module)
    assert bounds is not None
    set_batch(module, 2)  # as if edited by hand: the stored costs are still batch 4's
    SetTargetPass().apply(Context(), module)
    assert _stored(module) == pytest.approx(_model_costs(tiny_chip(), 2, bounds))


def test_same_values_leave_the_costs_alone(caplog: pytest.LogCaptureFixture) -> None:
    module = _greedy(tiny_chip(), batch=4)
    before = _stored(module)
    with caplog.at_level(logging.WARNING, logger="pimdsl"):
        SetTargetPass(batch=4).apply(Context(), module)
    assert _stored(module) == before and caplog.text == ""


def test_partitions_that_no_longer_fit(tmp_path: Path) -> None:
    module = _greedy(tiny_chip(), batch=1)
    small = str(
        _chip_file(tmp_path, cores=1)
    )  # half the crossbars: a partition of 4 no longer fits
    with pytest.raises(PimError, match=r"made for chip 'tiny'.*not legal on chip 'tiny1'"):
        SetTargetPass(chip=small).apply(Context(), module)
    # regroup=true (a partitioning pass follows): back to the nn level for it
    module = _greedy(tiny_chip(), batch=1)
    SetTargetPass(chip=small, regroup=True).apply(Context(), module)
    assert not is_partitioned(module)
    PartitionPass(strategy="greedy").apply(Context(), module)
    assert is_partitioned(module)


def test_lowered_ir_cannot_change_target() -> None:
    module = _greedy(tiny_chip(), batch=1)
    PartitionToCrossbarPass().apply(Context(), module)
    with pytest.raises(PimError, match="batch 2 cannot apply to IR lowered"):
        SetTargetPass(batch=2).apply(Context(), module)
    SetTargetPass(batch=1).apply(Context(), module)  # the same batch: nothing changes


def test_bad_batch() -> None:
    with pytest.raises(PimError, match="batch must be a positive integer"):
        SetTargetPass(batch=-1).apply(Context(), mlp_48_8_4())
