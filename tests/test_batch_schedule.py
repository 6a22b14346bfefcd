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
    (shape,) = main_input_shapes(module)
    x = np.random.default_rng(5).standard_normal(shape).astype(np.float32)
    (y,) = run_module(module, [x], base_dir=path.parent)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    n = sess.get_inputs()[0].shape[0]
    ref = np.concatenate(
        [
            sess.run(None, {sess.get_inputs()[0].name: x[i : i + n]})[0]
            for i in range(0, shape[0], n)
        ]
    )
    rel = float(np.abs(y - ref).max() / np.abs(ref).max())
    assert rel <= 1e-4, f"{name}: max abs error / max abs reference = {rel:.3g}"


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
    with pytest.raises(PimError, match="unknown schedule 'element'.*layer, batch"):
        _lowered(zoo["squeezenet1_1"], 2, 5, "element")
