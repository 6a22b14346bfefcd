"""Replication set by the user (pimdsl/replication.py): the option and the pass, the checks,
and the costs recomputed for what the IR records, against counts derived by hand."""

from __future__ import annotations

import pytest
from test_units import NetBuilder
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.utils.exceptions import VerifyException

from pimdsl.chip import load_chip
from pimdsl.dialects import partition as part
from pimdsl.errors import PimError
from pimdsl.module_attrs import set_batch, set_chip
from pimdsl.partitioning import analyse, partitions
from pimdsl.passes.partition import PartitionPass
from pimdsl.passes.partition_to_crossbar import PartitionToCrossbarPass
from pimdsl.passes.set_replication import SetReplicationPass
from pimdsl.replication import parse_request, partition_cost, set_replication
from pimdsl.report import report_data, stale_partitions


def two_convs(chip: str = "compass-s") -> ModuleOp:
    """conv1 16 -> 32 and conv2 32 -> 16, 3x3 on 8x8 (64 windows each), batch 2. On compass-s
    (16 cores x 9 crossbars of 256 x 256, 4-bit weights on 1-bit cells) conv1 is 144 rows x 128
    columns = 1 crossbar, conv2 288 rows x 64 columns = 2 crossbars."""
    b = NetBuilder((1, 16, 8, 8))
    module = b.module(b.conv(b.conv(b.x, 32, 3), 16, 3))
    set_chip(module, load_chip(chip))
    set_batch(module, 2)
    return module


def replication(module: ModuleOp) -> list[list[int]]:
    return [list(part.ints(p.replication)) for p in partitions(module)]


def test_parse_request() -> None:
    assert parse_request("conv1=4 fc=2", "x") == {"conv1": 4, "fc": 2}
    assert parse_request(" /layer1/Conv=3,fc=1 ", "x") == {"/layer1/Conv": 3, "fc": 1}
    for bad in ("conv1", "conv1=0", "conv1=two", "=3"):
        with pytest.raises(PimError, match="bad replication"):
            parse_request(bad, "--partition")


def test_partition_option_sets_replication_and_costs() -> None:
    module = two_convs()
    PartitionPass(replication="conv1.weight=3 conv2.weight=2").apply(Context(), module)
    assert replication(module) == [[3, 2]]
    (p,) = partitions(module)
    # by hand: 3 x 1 + 2 x 2 crossbars
    assert p.crossbars.value.data == 7 == sum(part.ints(p.core_crossbars))
    data = report_data(module)
    (row,) = data["partitions"]
    assert (row["replication"], row["crossbars"]) == ([3, 2], 7)
    assert stale_partitions(module, data) == []  # stored costs = the report's, for [3, 2]


def test_model_choice_costs_the_same_through_the_fixed_path() -> None:
    """span_costs with the model's own replication fixed gives the table's cost: the fixed path
    changes the replicas and nothing else."""
    from pimdsl.cost.model import span_costs

    module = two_convs()
    PartitionPass().apply(Context(), module)
    a = analyse(module)
    (p,) = partitions(module)
    s, e = p.unit_span
    table = a.costs.partition(s, e, p.schedule_name)
    fixed = span_costs(
        a.network, a.units, a.chip, a.batch, a.schedule, replication={(s, e): table.replication}
    ).partition(s, e, p.schedule_name)
    assert fixed == table


def test_more_replicas_cost_more_crossbars_and_less_time_here() -> None:
    module = two_convs()
    PartitionPass(replication="conv1.weight=1 conv2.weight=1").apply(Context(), module)
    one = report_data(module)["partitions"][0]
    set_replication(module, {"conv1.weight": 8, "conv2.weight": 8})
    eight = report_data(module)["partitions"][0]
    assert (one["crossbars"], eight["crossbars"]) == (3, 8 + 16)
    assert eight["latency_s"] < one["latency_s"]  # the windows are shared by 8 replicas


def test_request_survives_regrouping_and_another_chip() -> None:
    from pimdsl.passes.ga_group import GAGroupPass

    module = two_convs()
    PartitionPass(replication="conv1.weight=3").apply(Context(), module)
    GAGroupPass(generations=2, population=4, keep=2).apply(Context(), module)
    assert replication(module)[0][0] == 3
    set_chip(module, load_chip("compass-m"))
    PartitionPass().apply(Context(), module)  # regroups for the new chip
    assert replication(module)[0][0] == 3


def test_unknown_layer_names_the_closest() -> None:
    module = two_convs()
    PartitionPass().apply(Context(), module)
    with pytest.raises(
        PimError, match=r"no weight layer 'conv1\.weigth'; did you mean 'conv1\.weight'"
    ):
        set_replication(module, {"conv1.weigth": 2})


def test_more_replicas_than_windows_is_an_error() -> None:
    module = two_convs()
    PartitionPass().apply(Context(), module)
    with pytest.raises(PimError, match="cannot have 65 replicas: it has 64 windows"):
        set_replication(module, {"conv1.weight": 65})


def test_replication_that_does_not_fit_names_the_most_that_fit() -> None:
    """compass-s: 16 cores x 9 crossbars. conv1 x 64 replicas (1 crossbar each) and conv2 x r
    (2 each), packed first-fit decreasing (conv2's first): 4 of conv2 per core. r = 40: 10 cores
    with 4 of conv2 and 1 of conv1, 6 cores with 9 of conv1: 10 + 54 = 64, all placed. r = 41:
    the 11th core takes 1 of conv2 and 7 of conv1, the other 5 cores 45: 10 + 7 + 45 = 62 < 64.
    Asked for both, the error names the more replicated: conv1 fits 62 next to 41 of conv2."""
    module = two_convs()
    PartitionPass(replication="conv1.weight=64 conv2.weight=1").apply(Context(), module)
    with pytest.raises(PimError, match="layer 'conv2.weight' fits at most 40 replicas"):
        set_replication(module, {"conv2.weight": 41})
    with pytest.raises(PimError, match="layer 'conv1.weight' fits at most 62 replicas"):
        set_replication(module, {"conv1.weight": 64, "conv2.weight": 41})
    assert replication(module) == [[64, 1]]  # unchanged by the refused requests
    set_replication(module, {"conv2.weight": 40})
    assert partitions(module)[0].crossbars.value.data == 64 + 80


def test_verifier_rejects_more_replicas_than_windows() -> None:
    module = two_convs()
    PartitionPass().apply(Context(), module)
    (p,) = partitions(module)
    p.properties["replication"] = part.i64_array([65, 1])
    with pytest.raises(VerifyException, match="replication 65 but only 64 windows"):
        module.verify()


def test_a_pass_that_only_edits_the_property_is_costed_and_lowered_as_the_ir_says() -> None:
    """A user pass that writes `replication` without re-costing: the report costs what the IR
    says (and notes the stored costs are stale); the lowering places it or says it does not fit."""
    module = two_convs()
    PartitionPass(replication="conv1.weight=1 conv2.weight=1").apply(Context(), module)
    (p,) = partitions(module)
    p.properties["replication"] = part.i64_array([3, 2])
    data = report_data(module)
    (row,) = data["partitions"]
    assert (row["replication"], row["crossbars"]) == ([3, 2], 7)
    assert stale_partitions(module, data) == [0]  # the stored costs are the old replication's
    p.properties["replication"] = part.i64_array([64, 64])  # 64 + 128 > 144 crossbars
    with pytest.raises(PimError, match="does not fit chip 'compass-s'"):
        PartitionToCrossbarPass().apply(Context(), module)


def test_set_replication_pass_needs_partition_level_ir() -> None:
    module = two_convs()
    with pytest.raises(PimError, match="partition-level IR"):
        SetReplicationPass(replication="conv1.weight=2").apply(Context(), module)
    PartitionPass().apply(Context(), module)
    SetReplicationPass(replication="conv1.weight=2").apply(Context(), module)
    assert replication(module)[0][0] == 2
    assert "pim.replication" in module.attributes  # kept for regrouping


def test_partition_cost_of_the_model_choice_is_the_table() -> None:
    module = two_convs()
    PartitionPass().apply(Context(), module)
    a = analyse(module)
    (p,) = partitions(module)
    s, e = p.unit_span
    assert partition_cost(a, p) == a.costs.partition(s, e, p.schedule_name)
