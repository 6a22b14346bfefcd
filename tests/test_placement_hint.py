"""Placement hint set by the user (pimdsl/placement_hint.py): the option and the pass, where the
hinted tiles land in the lowered IR, the costs for what the IR records, the checks, and the
numerics of a hinted zoo model against onnxruntime. Counts are derived by hand."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from test_replication import two_convs
from xdsl.context import Context
from xdsl.dialects.builtin import ArrayAttr, ModuleOp
from xdsl.utils.exceptions import VerifyException

from pimdsl.chip import load_chip
from pimdsl.dialects import crossbar as xb
from pimdsl.dialects import nn, pim_isa
from pimdsl.dialects import partition as part
from pimdsl.errors import PimError
from pimdsl.module_attrs import set_batch, set_chip
from pimdsl.partitioning import partitions
from pimdsl.passes.partition import PartitionPass
from pimdsl.passes.partition_to_crossbar import PartitionToCrossbarPass
from pimdsl.passes.set_placement import SetPlacementPass
from pimdsl.placement_hint import cores_text, parse_request, set_placement
from pimdsl.report import report_data, stale_partitions


def core_crossbars(module: ModuleOp) -> list[list[int]]:
    return [list(part.ints(p.core_crossbars)) for p in partitions(module)]


def tile_cores(module: ModuleOp) -> dict[str, set[int]]:
    """Weight name -> the cores its crossbar.tile ops sit on."""
    cores: dict[str, set[int]] = defaultdict(set)
    for op in module.walk():
        if isinstance(op, xb.TileOp):
            cores[op.weight.data].add(op.core.value.data)
    return dict(cores)


def test_parse_request_and_cores_text() -> None:
    assert parse_request("conv1=0-3 fc=4+6", "x") == {"conv1": (0, 1, 2, 3), "fc": (4, 6)}
    assert parse_request("/conv1/Conv=0-3,/layer1/0/conv1/Conv=4-7", "x") == {
        "/conv1/Conv": (0, 1, 2, 3),
        "/layer1/0/conv1/Conv": (4, 5, 6, 7),
    }
    assert parse_request("a=3+1-2+3", "x") == {"a": (1, 2, 3)}
    assert cores_text((0, 1, 2, 3, 8, 10, 11)) == "0-3+8+10-11"
    for bad in ("conv1", "conv1=3-1", "conv1=a", "=3", "conv1=1+", "conv1=-2"):
        with pytest.raises(PimError, match="bad placement hint"):
            parse_request(bad, "--partition")


def test_hinted_tiles_land_on_their_cores_and_the_rest_packs_first_fit() -> None:
    """conv1 x 3 replicas of 1 crossbar on cores 5-7: first fit puts all 3 on core 5 (9 free);
    conv2 x 2 replicas of 2 crossbars on cores 2+3: both on core 2. Crossbars per core by hand:
    [0, 0, 4, 0, 0, 3]."""
    module = two_convs()
    PartitionPass(
        replication="conv1.weight=3 conv2.weight=2", placement="conv1.weight=5-7 conv2.weight=2+3"
    ).apply(Context(), module)
    assert core_crossbars(module) == [[0, 0, 4, 0, 0, 3]]
    (p,) = partitions(module)
    assert p.layer_hints == [(5, 6, 7), (2, 3)]
    data = report_data(module)
    assert data["partitions"][0]["core_crossbars"] == [0, 0, 4, 0, 0, 3]
    assert stale_partitions(module, data) == []  # stored costs = the report's, for the hint
    PartitionToCrossbarPass().apply(Context(), module)
    module.verify()
    assert tile_cores(module) == {"conv1.weight": {5}, "conv2.weight": {2}}


def test_unhinted_layers_take_the_room_left() -> None:
    """conv2 x 4 replicas (2 crossbars each) hinted on core 0 take 8 of its 9 crossbars; conv1's
    3 unhinted replicas go first-fit over the room left: 1 on core 0, 2 on core 1."""
    module = two_convs()
    PartitionPass(replication="conv1.weight=3 conv2.weight=4", placement="conv2.weight=0").apply(
        Context(), module
    )
    assert core_crossbars(module) == [[9, 2]]
    PartitionToCrossbarPass().apply(Context(), module)
    assert tile_cores(module) == {"conv1.weight": {0, 1}, "conv2.weight": {0}}


def test_the_cost_model_prices_the_hinted_cores() -> None:
    """One replica each: first fit puts conv1 (1 crossbar) and conv2 (2) on core 0, which runs
    them one after the other for each image; hinted apart, the two cores overlap over the batch
    of 2, so the hinted partition is faster (and `--report` agrees with what is stored)."""
    module = two_convs()
    PartitionPass(replication="conv1.weight=1 conv2.weight=1", schedule="layer").apply(
        Context(), module
    )
    assert core_crossbars(module) == [[3]]
    shared = partitions(module)[0].latency_s.value.data
    set_placement(module, {"conv2.weight": (1,)})
    assert core_crossbars(module) == [[1, 2]]
    apart = partitions(module)[0].latency_s.value.data
    assert apart < shared
    assert stale_partitions(module, report_data(module)) == []


def test_request_survives_regrouping_and_another_chip() -> None:
    from pimdsl.passes.ga_group import GAGroupPass

    module = two_convs()
    PartitionPass(replication="conv2.weight=2", placement="conv2.weight=7").apply(Context(), module)
    GAGroupPass(generations=2, population=4, keep=2).apply(Context(), module)
    assert partitions(module)[0].layer_hints[1] == (7,)
    set_chip(module, load_chip("compass-m"))
    PartitionPass().apply(Context(), module)  # regroups for the new chip
    assert partitions(module)[0].layer_hints[1] == (7,)


def test_core_out_of_range_names_the_layer_and_the_cores() -> None:
    module = two_convs()
    PartitionPass().apply(Context(), module)
    with pytest.raises(
        PimError, match=r"'conv1\.weight' on core 16, but chip 'compass-s' has cores 0-15"
    ):
        set_placement(module, {"conv1.weight": (16,)})


def test_hint_without_room_names_the_most_replicas_that_fit() -> None:
    """compass-s, 9 crossbars per core: 5 replicas of conv2 (2 crossbars each) need 10 on core 0,
    which holds 4 of them. With conv1's 3 hinted before it on core 3, core 3 keeps 6: 3 fit."""
    module = two_convs()
    PartitionPass(replication="conv1.weight=3 conv2.weight=5").apply(Context(), module)
    with pytest.raises(
        PimError, match=r"5 replicas need 10 crossbars .* have 9 free: at most 4 replicas fit"
    ):
        set_placement(module, {"conv2.weight": (0,)})
    with pytest.raises(PimError, match=r"have 6 free after the layers hinted before it: at most 3"):
        set_placement(module, {"conv1.weight": (3,), "conv2.weight": (3,)})
    assert partitions(module)[0].placement is None  # unchanged by the refused requests


def test_hint_that_leaves_too_little_room_for_the_others() -> None:
    """64 of conv1 (1 crossbar) and 40 of conv2 (2) fill the 144 crossbars only when conv2 takes 4
    per core. conv1 hinted on cores 0-7 fills 0-6 and 1 of core 7; conv2 then fits 4 on core 7
    and 4 on each of cores 8-15: 36 < 40."""
    module = two_convs()
    PartitionPass(replication="conv1.weight=64 conv2.weight=40").apply(Context(), module)
    with pytest.raises(PimError, match="the other layers' replicas do not fit the room"):
        set_placement(module, {"conv1.weight": tuple(range(8))})
    set_placement(module, {"conv2.weight": tuple(range(10))})  # 4 per core on 0-9: fits
    assert core_crossbars(module) == [[9] * 16]


def test_verifier_rejects_bad_hints() -> None:
    module = two_convs()
    PartitionPass().apply(Context(), module)
    (p,) = partitions(module)
    p.properties["placement"] = ArrayAttr([part.i64_array([0]), part.i64_array([16])])
    with pytest.raises(
        VerifyException, match=r"layer 'conv2.weight' must name distinct cores.*0-15"
    ):
        module.verify()
    p.properties["placement"] = ArrayAttr([part.i64_array([0])])
    with pytest.raises(VerifyException, match="2 layers but 1 placement core lists"):
        module.verify()


def test_a_pass_that_only_edits_the_property_is_costed_and_checked_when_lowered() -> None:
    module = two_convs()
    PartitionPass(replication="conv1.weight=1 conv2.weight=1").apply(Context(), module)
    (p,) = partitions(module)
    p.properties["placement"] = ArrayAttr([part.i64_array([4]), part.i64_array([])])
    data = report_data(module)
    assert data["partitions"][0]["core_crossbars"] == [2, 0, 0, 0, 1]  # the IR's hint
    assert stale_partitions(module, data) == [0]  # stored: first fit, both on core 0
    with pytest.raises(PimError, match="placing its units gives crossbars per core"):
        PartitionToCrossbarPass().apply(Context(), module)


def test_set_placement_pass_needs_partition_level_ir_and_known_layers() -> None:
    module = two_convs()
    with pytest.raises(PimError, match="a placement hint can only be set on partition-level IR"):
        SetPlacementPass(placement="conv1.weight=2").apply(Context(), module)
    PartitionPass().apply(Context(), module)
    with pytest.raises(PimError, match=r"placement: the network has no weight layer 'conv3'"):
        SetPlacementPass(placement="conv3=2").apply(Context(), module)
    SetPlacementPass(placement="conv1.weight=2-5").apply(Context(), module)  # 32 replicas
    assert partitions(module)[0].layer_hints[0] == (2, 3, 4, 5)
    assert "pim.placement" in module.attributes  # kept for regrouping


ort = pytest.importorskip("onnxruntime")
models = pytest.importorskip("pimdsl.models")
frontend = pytest.importorskip("pimdsl.frontend")


def test_hinted_zoo_model_lands_on_its_cores_at_pim_isa_and_matches_onnxruntime(
    tmp_path: Path,
) -> None:
    """SqueezeNet 1.1 (32 x 32, batch 2) on compass-s in one partition: its first conv on cores
    12-15, the first squeeze conv on core 3. In the pim_isa program those layers' weights are
    loaded (ld_weight) only on those cores, and the simulated output equals onnxruntime's."""
    from pimdsl.passes.lower_to_isa import LowerToIsaPass
    from pimdsl.sim.runner import main_input_shapes, run_module

    path = models.save_model("squeezenet1_1", tmp_path / "sq.onnx", seed=0, image_size=32)
    module = frontend.import_onnx(path)
    labels = [nn.layer_label(op) for op in module.walk() if isinstance(op, nn.WEIGHT_LAYERS)]
    set_chip(module, load_chip("compass-s"))
    set_batch(module, 2)
    ctx = Context()
    PartitionPass(placement=f"{labels[0]}=12-15 {labels[1]}=3").apply(ctx, module)
    (p,) = partitions(module)
    first, squeeze = p.layer_names[:2]
    LowerToIsaPass().apply(ctx, module)
    module.verify()
    loaded: dict[str, set[int]] = defaultdict(set)
    for core in module.walk():
        if isinstance(core, pim_isa.CoreOp):
            for op in core.walk():
                if isinstance(op, pim_isa.LdWeightOp):
                    loaded[op.weight.data].add(core.number)
    assert loaded[first] <= {12, 13, 14, 15} and loaded[first]
    assert loaded[squeeze] == {3}

    (shape,) = main_input_shapes(module)
    x = np.random.default_rng(11).standard_normal(shape).astype(np.float32)
    (y,) = run_module(module, [x], base_dir=path.parent)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    ref = np.concatenate([sess.run(None, {name: x[i : i + 1]})[0] for i in range(shape[0])])
    rel = float(np.abs(y - ref).max() / np.abs(ref).max())
    assert rel <= 1e-4, rel


def test_set_replication_keeps_the_hint() -> None:
    """conv2 hinted on core 4 (9 crossbars): 3 replicas of 2 crossbars land there; 5 (10
    crossbars) are refused, naming the 4 that fit."""
    from pimdsl.replication import set_replication

    module = two_convs()
    PartitionPass(replication="conv1.weight=1 conv2.weight=1", placement="conv2.weight=4").apply(
        Context(), module
    )
    set_replication(module, {"conv2.weight": 3})
    assert core_crossbars(module) == [[1, 0, 0, 0, 6]]
    with pytest.raises(PimError, match="on core 4 .* at most 4 replicas fit there"):
        set_replication(module, {"conv2.weight": 5})
