"""The `batch` schedule of crossbar-to-isa (pimdsl/isa/pipeline.py): a core's steps as stages of
a software pipeline over the images.

Oracles: segment plans and address shifts derived by hand; zoo models against onnxruntime on
chips that reload weights; the layer schedule's instruction counts (the pipeline reorders the
same work: every step runs once per image); the program size at two batch sizes. The loop
structure of a small program is checked in tests/filecheck/passes/crossbar-to-isa-batch-schedule.mlir.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp

from pimdsl.chip import load_preset
from pimdsl.dialects import pim_isa as isa
from pimdsl.errors import PimError
from pimdsl.isa.builder import count_ops
from pimdsl.isa.pipeline import segments, shifted
from pimdsl.module_attrs import set_batch, set_chip
from pimdsl.sim.isa_interp import iter_instructions
from pimdsl.sim.runner import main_input_shapes, run_module

ort = pytest.importorskip("onnxruntime")
models = pytest.importorskip("pimdsl.models")
frontend = pytest.importorskip("pimdsl.frontend")


# --- the plan ------------------------------------------------------------------------------


def test_segments_of_two_stages() -> None:
    # A at stage 0, B at stage 1, 4 images: t = 0 A(0); t = 1..3 B(t-1), A(t); t = 4 B(3)
    assert segments([0, 1], 4) == [(0, 1, [0]), (1, 4, [1, 0]), (4, 5, [1])]


def test_segments_keep_program_order_within_a_stage_and_skip_idle_ranges() -> None:
    # stages 0, 2, 2 over 3 images: cuts 0, 2, 3, 5
    assert segments([0, 2, 2], 3) == [(0, 2, [0]), (2, 3, [1, 2, 0]), (3, 5, [1, 2])]
    # a lag longer than the batch: the core runs A's images, idles, then B's (no empty loop)
    assert segments([0, 5], 2) == [(0, 2, [0]), (5, 7, [1])]
    # one stage: one loop over the images
    assert segments([3, 3], 16) == [(3, 19, [0, 1])]


def test_shifted_advances_image_addresses_only() -> None:
    load = isa.LoadOp("t1.x", isa.addr(10, 100, 4), isa.addr(64), 4)  # DRAM offset 10 + 100 n + 4 i
    store = isa.StoreOp(isa.addr(8), "t2.y", isa.addr(5, 0, 2), 4)  # no image stride
    moved = shifted([load, store], 3)
    assert isa.ints(moved[0].properties["offset"]) == (310, 100, 4)  # type: ignore[arg-type]
    assert isa.ints(moved[0].properties["dst"]) == (64,)  # type: ignore[arg-type]
    assert isa.ints(moved[1].properties["offset"]) == (5, 0, 2)  # type: ignore[arg-type]
    assert isa.ints(load.properties["offset"]) == (10, 100, 4)  # type: ignore[arg-type]  # a copy


# --- whole programs --------------------------------------------------------------------------


def _lowered(path: Path, batch: int, cores: int, schedule: str) -> ModuleOp:
    from pimdsl.passes.lower_to_isa import LowerToIsaPass
    from pimdsl.passes.partition import PartitionPass

    module = frontend.import_onnx(path)
    set_chip(module, load_preset("compass-s").replace(cores=cores))
    set_batch(module, batch)
    PartitionPass().apply(Context(), module)
    LowerToIsaPass(schedule=schedule).apply(Context(), module)
    module.verify()
    return module


@pytest.fixture(scope="module")
def zoo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("zoo_batch_schedule")
    files = {}
    for name in ("resnet18", "squeezenet1_1", "googlenet", "mobilenetv2"):
        size = models.get_spec(name).min_image_size
        files[name] = models.save_model(name, d / f"{name}.onnx", seed=0, image_size=size)
    return files


@pytest.mark.parametrize("cores", [2, 5])
@pytest.mark.parametrize("name", ["resnet18", "squeezenet1_1", "googlenet", "mobilenetv2"])
def test_batch_schedule_matches_onnxruntime(name: str, cores: int, zoo: dict[str, Path]) -> None:
    """Several partitions (weight reloads) whose cores hold several steps at several stages."""
    path = zoo[name]
    module = _lowered(path, 3, cores, "batch")
    program = isa.find_program(module)
    assert program is not None and len(program.partitions()) > 1
    assert any(  # the pipeline is there: a core runs a prologue segment of one image
        isinstance(op, isa.LoopOp) and op.trip_count == 1 for op in program.walk()
    )
    rel = _error_vs_onnxruntime(module, path, seed=5)
    assert rel <= 1e-4, f"{name}: max abs error / max abs reference = {rel:.3g}"


def _error_vs_onnxruntime(module: ModuleOp, path: Path, seed: int) -> float:
    """Max abs error / max abs reference of the lowered `module` against onnxruntime running
    `path` on the same random batch (the ONNX model's batch size at a time)."""
    (shape,) = main_input_shapes(module)
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    (y,) = run_module(module, [x], base_dir=path.parent)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    n = sess.get_inputs()[0].shape[0]
    ref = np.concatenate(
        [
            sess.run(None, {sess.get_inputs()[0].name: x[i : i + n]})[0]
            for i in range(0, shape[0], n)
        ]
    )
    return float(np.abs(y - ref).max() / np.abs(ref).max())


def _executions(module: ModuleOp) -> Counter[str]:
    """How many times each instruction runs, from the loops' trip counts (static)."""
    program = isa.find_program(module)
    assert program is not None
    out: Counter[str] = Counter()
    for core in program.walk():
        if isinstance(core, isa.CoreOp):
            for op, loops in iter_instructions(core.body.block):
                out[op.name] += int(np.prod(loops)) if loops else 1
    return out


def test_batch_schedule_runs_the_layer_schedules_instructions(zoo: dict[str, Path]) -> None:
    """Same instructions, same number of executions: each step once per image, reordered."""
    layer = _executions(_lowered(zoo["squeezenet1_1"], 4, 5, "layer"))
    batch = _executions(_lowered(zoo["squeezenet1_1"], 4, 5, "batch"))
    assert layer["pim_isa.mvm"] > 0
    assert batch == layer


def test_batch_schedule_size_does_not_grow_with_the_batch(zoo: dict[str, Path]) -> None:
    def size(batch: int) -> int:
        program = isa.find_program(_lowered(zoo["resnet18"], batch, 5, "batch"))
        assert program is not None
        return count_ops(list(program.body.block.ops))

    assert size(4) == size(16)


def test_unknown_schedule_is_a_clear_error(zoo: dict[str, Path]) -> None:
    with pytest.raises(PimError, match="unknown schedule 'rows'.*layer, batch, element"):
        _lowered(zoo["squeezenet1_1"], 2, 5, "rows")


# --- the cost model's side and `auto` ---------------------------------------------------------


def _line(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.eye(n, k=-1, dtype=bool), np.zeros((n, n), dtype=bool)


@pytest.mark.parametrize("stage", [(0, 1, 2), (0, 1, 1)])
def test_pipeline_over_a_batch_by_hand(stage: tuple[int, int, int]) -> None:
    # Layer 0 on core 0 (3 ns per image), layers 1 (1 ns) and 2 (3 ns) on core 1; 3 images
    # (tests/test_cost_model.py prices the layer schedule of this case: 19 ns).
    # Core 0: layer 0's images end at 3, 6, 9. Stages 0, 1, 2: core 1 runs L1(0) in t = 1:
    # 3 -> 4; t = 2: L2(0) 4 -> 7, then L1(1) max(7, 6) -> 8; t = 3: L2(1) 8 -> 11, L1(2)
    # max(11, 9) -> 12; t = 4: L2(2) 12 -> 15. Stages 0, 1, 1 (layer 2 continues layer 1's
    # loop): t = 1: L1(0) 3 -> 4, L2(0) -> 7; t = 2: L1(1) 7 -> 8, L2(1) -> 11; t = 3: L1(2)
    # 11 -> 12, L2(2) -> 15. One image: 3 + 1 + 3 = 7.
    from pimdsl.cost.schedule import _pipeline_ns

    on = np.array([[[True, False], [False, True], [False, True]]])
    st = np.array([[[3.0, 0.0], [0.0, 1.0], [0.0, 3.0]]])
    present = np.ones((1, 3), dtype=bool)
    lay = np.array([[0, 1, 2]])
    stages = np.array([stage])
    assert _pipeline_ns(on, st, present, 3, lay, _line(3), stages)[0] == pytest.approx(15.0)
    assert _pipeline_ns(on, st, present, 1, lay, _line(3), stages)[0] == pytest.approx(7.0)


def test_stages_follow_the_lowerings_rule_by_hand() -> None:
    # A fire module: squeeze (0) -> expand 1x1 (1) and expand 3x3 (2), the concat owned by the
    # 3x3 (a vector dependency on the 1x1), then the next squeeze (3) reading the concat.
    # Both expands read the squeeze: stage 1; the concat's other half does not move the 3x3's
    # MVMs; the next squeeze reads the 3x3's result: stage 2. When the 3x3 continues the 1x1's
    # image loop (same cores) it keeps stage 1 too.
    from pimdsl.cost.schedule import _stages

    mvm = np.zeros((4, 4), dtype=bool)
    vec = np.zeros((4, 4), dtype=bool)
    mvm[1, 0] = mvm[2, 0] = mvm[3, 2] = True
    vec[2, 1] = True
    present = np.ones((2, 4), dtype=bool)
    lay = np.array([[0, 1, 2, 3], [0, 1, 2, 3]])
    cont = np.array([[False, False, False, False], [False, False, True, False]])
    assert _stages(present, lay, (mvm, vec), cont).tolist() == [[0, 1, 1, 2], [0, 1, 1, 2]]
    # a chain where layer 2 continues layer 1's loop: it joins layer 1's stage
    chain = _line(3)
    got = _stages(
        np.ones((1, 3), dtype=bool), np.array([[0, 1, 2]]), chain, np.array([[False, False, True]])
    )
    assert got.tolist() == [[0, 1, 1]]


def test_auto_lowers_each_partition_as_the_partition_pass_costed_it(zoo: dict[str, Path]) -> None:
    """`--partition='schedule=auto'` records per partition the schedule the cost model
    predicts fastest; crossbar-to-isa's default then emits exactly that schedule's program."""
    from pimdsl.dialects import partition as part
    from pimdsl.passes.lower_to_isa import LowerToIsaPass
    from pimdsl.passes.partition import PartitionPass

    path = zoo["squeezenet1_1"]
    module = frontend.import_onnx(path)
    set_chip(module, load_preset("compass-s").replace(cores=5))
    set_batch(module, 4)
    PartitionPass(strategy="optimal", schedule="auto").apply(Context(), module)
    chosen = [p.schedule_name for p in module.walk() if isinstance(p, part.PartitionOp)]
    assert len(set(chosen)) >= 2, chosen  # several occur: the test compares each
    programs = {}
    lowered = {}
    for schedule in ("auto", "layer", "batch", "element"):
        lowered[schedule] = module.clone()
        LowerToIsaPass(schedule=schedule).apply(Context(), lowered[schedule])
        program = isa.find_program(lowered[schedule])
        assert program is not None
        programs[schedule] = [str(p) for p in program.partitions()]
    for k, name in enumerate(chosen):
        assert programs["auto"][k] == programs[name][k], f"partition {k} ({name})"
    # the mixed program computes the network
    assert _error_vs_onnxruntime(lowered["auto"], path, seed=3) <= 1e-4


def test_partition_schedule_errors_are_clear(zoo: dict[str, Path]) -> None:
    from pimdsl.dialects import partition as part
    from pimdsl.passes.partition import PartitionPass

    module = frontend.import_onnx(zoo["squeezenet1_1"])
    set_chip(module, load_preset("compass-s"))
    with pytest.raises(PimError, match="unknown schedule 'rows'"):
        PartitionPass(schedule="rows").apply(Context(), module)
    PartitionPass().apply(Context(), module)
    first = next(p for p in module.walk() if isinstance(p, part.PartitionOp))
    from xdsl.dialects.builtin import StringAttr
    from xdsl.utils.exceptions import VerifyException

    first.properties["schedule"] = StringAttr("rows")
    with pytest.raises(VerifyException, match=r"\(one of layer, batch, element\), got \"rows\""):
        first.verify()
