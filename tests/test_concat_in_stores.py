"""A channel concat of maps that convolutions of its partition store (`network.concat_in_stores`,
`lower_weight.materialise`): each producer stores its channels straight into the concat's map,
at its channel offset, and the concat has no step of its own. On a SqueezeNet fire module:
the values against numpy in the three schedules, the stores counted from the program (every
element of the concat's map written once, by the layers, no buffer for the expands' maps),
the same net with the producers in other partitions (a concat step, the same values), and
the cost model's saving against a hand count (the concat step's load and store of its map)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from test_line_buffer import conv3x3_reference
from test_units import NetBuilder
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp

from pimdsl.chip import load_chip
from pimdsl.cost.model import span_costs
from pimdsl.dialects import nn
from pimdsl.dialects import pim_isa as isa
from pimdsl.module_attrs import set_batch, set_chip, set_weights
from pimdsl.network import concat_in_stores, extract_network
from pimdsl.sim.isa_interp import iter_instructions, run_program
from pimdsl.units import plan_units
from pimdsl.weights import WeightStore, write_npz

# compass-s with 2 cores: the fire module's four layers share them
CHIP = load_chip("compass-s").replace(name="two-cores", cores=2)
H = 6  # the map's height and width
C_IN, SQUEEZE, E1, E3, C_OUT = 8, 4, 6, 10, 4


def _fire() -> tuple[ModuleOp, nn.ConcatOp]:
    """squeeze (1x1) -> relu -> expand 1x1 and expand 3x3 (pad 1) -> relus -> concat -> 1x1."""
    b = NetBuilder((1, C_IN, H, H))
    s = b.conv(b.x, SQUEEZE, 1)
    e1 = b.conv(s, E1, 1)
    e3 = b.conv(s, E3, 3)
    cat = nn.ConcatOp([e1, e3], 1)
    y = b.conv(b.add(cat), C_OUT, 1, relu=False)
    return b.module(y), cat


def _weights(tmp_path) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    shapes = {1: (SQUEEZE, C_IN, 1, 1), 2: (E1, SQUEEZE, 1, 1), 3: (E3, SQUEEZE, 3, 3)}
    shapes[4] = (C_OUT, E1 + E3, 1, 1)
    w: dict[str, np.ndarray] = {}
    for k, shape in shapes.items():
        w[f"conv{k}.weight"] = rng.standard_normal(shape).astype(np.float32)
        w[f"conv{k}.bias"] = rng.standard_normal(shape[0]).astype(np.float32)
    write_npz(tmp_path / "w.npz", w)
    return w


def _reference(x: np.ndarray, w: dict[str, np.ndarray]) -> np.ndarray:
    def conv1x1(v: np.ndarray, k: int) -> np.ndarray:
        wk = w[f"conv{k}.weight"][:, :, 0, 0].astype(np.float64)
        return np.einsum("oc,nchw->nohw", wk, v) + w[f"conv{k}.bias"][None, :, None, None]

    s = np.maximum(conv1x1(x.astype(np.float64), 1), 0)
    e1 = np.maximum(conv1x1(s, 2), 0)
    e3 = conv3x3_reference(s, w["conv3.weight"].astype(np.float64))
    e3 = np.maximum(e3 + w["conv3.bias"][None, :, None, None], 0)
    return conv1x1(np.concatenate([e1, e3], axis=1), 4)


def _lowered(tmp_path, schedule: str, strategy: str = "greedy", images: int = 3) -> ModuleOp:
    from pimdsl.passes.lower_to_isa import LowerToIsaPass
    from pimdsl.passes.partition import PartitionPass

    module, _ = _fire()
    set_chip(module, CHIP)
    set_batch(module, images)
    set_weights(module, str(tmp_path / "w.npz"))
    PartitionPass(strategy=strategy).apply(Context(), module)
    LowerToIsaPass(schedule=schedule).apply(Context(), module)
    module.verify()
    return module


def _buffers(module: ModuleOp) -> set[str]:
    program = isa.find_program(module)
    assert program is not None
    return {op.sym.data for op in program.walk() if isinstance(op, isa.BufferOp)}


def _stored(module: ModuleOp, suffix: str) -> int:
    """Elements the program's stores (store, store_block) write to buffers named `*suffix`
    (from the loops)."""
    program = isa.find_program(module)
    assert program is not None
    total = 0
    for core in program.walk():
        if isinstance(core, isa.CoreOp):
            for op, loops in iter_instructions(core.body.block):
                if isinstance(op, isa.StoreOp | isa.StoreBlockOp) and op.buffer.data.endswith(
                    suffix
                ):
                    n = op.length.value.data if isinstance(op, isa.StoreOp) else op.elements
                    total += n * math.prod(loops)
    return total


def test_the_rule_names_the_convolutions_in_operand_order() -> None:
    _, cat = _fire()
    roots = concat_in_stores(cat)
    assert roots is not None and [r.results[0].type.get_shape()[1] for r in roots] == [E1, E3]  # type: ignore[attr-defined]
    # an operand with a second reader is stored on its own: no fusion
    b = NetBuilder((1, C_IN, H, H))
    e1, e3 = b.conv(b.x, E1, 1), b.conv(b.x, E3, 1)
    cat2 = nn.ConcatOp([e1, e3], 1)
    b.add(cat2)
    b.module(b.add(nn.AddOp(e1, e1)))
    assert concat_in_stores(cat2) is None


@pytest.mark.parametrize("schedule", ["layer", "batch", "element"])
def test_fire_module_values_and_stores(tmp_path, schedule: str) -> None:
    w = _weights(tmp_path)
    images = 3
    module = _lowered(tmp_path, schedule, images=images)
    buffers = _buffers(module)
    concat = [b for b in buffers if b.endswith(".concat")]
    # one map for the concat; the expands have none of their own (input, its relayout, the
    # squeeze's map, the concat's, the last conv's and the output)
    assert len(concat) == 1 and len(buffers) == 6, sorted(buffers)
    # each element of the concat's map is stored once per image, by the two expands
    assert _stored(module, ".concat") == images * (E1 + E3) * H * H
    x = np.random.default_rng(8).standard_normal((images, C_IN, H, H)).astype(np.float32)
    out, _ = run_program(module, {"input": x}, weights=WeightStore(tmp_path / "w.npz"))
    want = _reference(x, w)
    got = next(iter(out.values())).reshape(want.shape)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_producers_in_other_partitions_leave_a_concat_step(tmp_path) -> None:
    """Layer-wise partitions: the expands store their own maps and a step copies them into the
    concat's (loading each once); the values are the same."""
    w = _weights(tmp_path)
    module = _lowered(tmp_path, "layer", strategy="layerwise", images=2)
    buffers = _buffers(module)
    assert len(buffers) == 8, sorted(buffers)  # + the two expands' maps
    assert _stored(module, ".concat") == 2 * (E1 + E3) * H * H  # the step's stores
    x = np.random.default_rng(9).standard_normal((2, C_IN, H, H)).astype(np.float32)
    out, _ = run_program(module, {"input": x}, weights=WeightStore(tmp_path / "w.npz"))
    want = _reference(x, w)
    np.testing.assert_allclose(next(iter(out.values())).reshape(want.shape), want, 1e-4, 1e-4)


def test_cost_model_drops_the_concat_step_where_its_producers_share_the_span() -> None:
    """Activation DRAM bytes per image: the concat step loads and stores its map (16 channels
    x 36 pixels, 4-bit: 2 x 288 bytes). The span of all four layers prices none of it; with the
    rule switched off (the step kept) it prices exactly that much more. The span that starts at
    the expand 3x3 (the step's owner; the expand 1x1 is outside) keeps the step either way."""
    module, _ = _fire()
    net = extract_network(module)
    units = plan_units(net, CHIP)
    owner = 2  # the expand 3x3 (the later producer) owns the concat step
    (st,) = net.layers[owner].vector.steps
    assert st.in_stores_from == 1  # the expand 1x1
    kept = replace(
        net,
        layers=[
            replace(L, vector=replace(L.vector, steps=(replace(st, in_stores_from=-1),)))
            if k == owner
            else L
            for k, L in enumerate(net.layers)
        ],
    )
    step = 2 * (E1 + E3) * H * H * CHIP.act_bits / 8
    fused, unfused = (span_costs(n, units, CHIP, 1, "layer") for n in (net, kept))
    spans = list(zip(fused.start.tolist(), fused.end.tolist(), strict=True))
    whole = spans.index((0, units.n))
    alone = spans.index((int(units.first[owner]), units.n))
    assert unfused.act_dram_bytes[whole] - fused.act_dram_bytes[whole] == pytest.approx(step)
    assert unfused.act_dram_bytes[alone] == pytest.approx(fused.act_dram_bytes[alone])
