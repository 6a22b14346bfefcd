"""A residual add fused into a convolution's stores (crossbar-to-isa `materialise`, and its cost
model side `pimdsl.network.residual_operand`): the program against numpy and a hand count, the
cost model's record of it against the same count."""

from __future__ import annotations

import numpy as np
from test_line_buffer import ONE_CORE, conv3x3_reference, elements_moved, lower_on_one_core
from test_units import NetBuilder

from pimdsl.dialects import nn
from pimdsl.dialects import pim_isa as isa
from pimdsl.module_attrs import set_weights
from pimdsl.network import VectorWork, extract_network, residual_operand
from pimdsl.sim.isa_interp import run_program
from pimdsl.weights import WeightStore, write_npz


def residual_block(shape: tuple[int, ...] = (1, 16, 8, 8)):
    """relu(conv3x3(x) + x): a ResNet block's tail."""
    b = NetBuilder(shape)
    c = b.conv(b.x, shape[1], 3, relu=False)
    s = b.add(nn.AddOp(c, b.x))
    return b.module(b.add(nn.ReluOp(s))), s


def test_the_cost_model_records_the_add_in_the_conv_stores() -> None:
    # per inference: the add and the relu each work on 16 x 8 x 8 = 1024 elements in the
    # conv's stores, the add loading its other operand (x) window by window: 1024 elements
    module, s = residual_block()
    add = s.owner
    assert residual_operand(add) is add.operands[1]  # type: ignore[union-attr]
    net = extract_network(module)
    assert net.layers[0].vector == VectorWork(fused=2 * 1024, fused_ops=2, fused_loads=1024)


def test_an_add_of_two_branches_is_fused_into_the_later_conv() -> None:
    # relu(c1 + c2), both convs of x (a downsample block's two branches): into c1 the add
    # cannot go (c2 is not stored when c1 runs); into c2 it does, with the relu: c2 waits per
    # image for c1 (as an add step would) and no step on one core loads both maps.
    b = NetBuilder((1, 16, 8, 8))
    c1 = b.conv(b.x, 16, 3, relu=False)
    c2 = b.conv(b.x, 16, 3, relu=False)
    s = b.add(nn.AddOp(c1, c2))
    module = b.module(b.add(nn.ReluOp(s)))
    assert residual_operand(s.owner) is c1  # type: ignore[arg-type]
    net = extract_network(module)
    assert net.layers[0].vector == VectorWork()
    work = net.layers[1].vector
    assert work.steps == () and work.fused_ops == 2  # the add and the relu
    assert work.fused_loads == 16 * 8 * 8  # c1's map, a window's 16 channels at a time
    # c2's step waits for c1 (the lowering syncs on the residual's writers): in the cost
    # model's layer DAG c2 starts after c1, not only completes after it
    from pimdsl.cost.schedule import _layer_deps

    (c1_value,) = [v for v in net.values if v.value is c1]
    assert c1_value.fused_readers == (1,)
    mvm, _ = _layer_deps(net)
    assert mvm[1, 0] and not mvm[0, 1]


def test_the_program_adds_in_the_window_loop_and_matches_numpy(tmp_path) -> None:
    """On one core of one crossbar (replication 1): no vector step for the add; per window one
    load of the window's 16 channels of x and one vadd more; the result equals numpy."""
    rng = np.random.default_rng(0)
    w = {
        "conv1.weight": rng.standard_normal((16, 16, 3, 3)).astype(np.float32),
        "conv1.bias": rng.standard_normal(16).astype(np.float32),
    }
    write_npz(tmp_path / "w.npz", w)
    module, _ = residual_block()
    set_weights(module, str(tmp_path / "w.npz"))
    module = lower_on_one_core(module)
    # 64 windows, the 16 channels of x each (from the relaid input `tK.input`)
    assert elements_moved(module, isa.LoadOp, ".input") == 64 * 16
    x = rng.standard_normal((1, 16, 8, 8)).astype(np.float32)
    out, trace = run_program(module, {"input": x}, weights=WeightStore(tmp_path / "w.npz"))
    conv = conv3x3_reference(x, w["conv1.weight"])
    want = np.maximum(conv + w["conv1.bias"][None, :, None, None] + x, 0)
    got = next(iter(out.values())).reshape(want.shape)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    assert trace.totals().counts["vadd"] == 64 * 2  # bias and residual per window


def test_two_branches_in_one_partition_match_numpy(tmp_path) -> None:
    """relu(c1(x) + c2(x)) in one partition (one core of two crossbars): c2's stores add c1's
    map; no vector step; the result equals numpy."""
    from xdsl.context import Context

    from pimdsl.dialects import partition
    from pimdsl.module_attrs import set_batch, set_chip
    from pimdsl.passes.lower_to_isa import LowerToIsaPass
    from pimdsl.passes.partition import PartitionPass

    rng = np.random.default_rng(2)
    w = {
        f"conv{i}.{k}": rng.standard_normal(s).astype(np.float32)
        for i in (1, 2)
        for k, s in (("weight", (16, 16, 3, 3)), ("bias", (16,)))
    }
    write_npz(tmp_path / "w.npz", w)
    b = NetBuilder((1, 16, 8, 8))
    c1 = b.conv(b.x, 16, 3, relu=False)
    c2 = b.conv(b.x, 16, 3, relu=False)
    module = b.module(b.add(nn.ReluOp(b.add(nn.AddOp(c1, c2)))))
    set_weights(module, str(tmp_path / "w.npz"))
    set_chip(module, ONE_CORE.replace(name="one-core-2", crossbars_per_core=2))
    set_batch(module, 1)
    PartitionPass().apply(Context(), module)
    assert len([op for op in module.walk() if isinstance(op, partition.PartitionOp)]) == 1
    LowerToIsaPass().apply(Context(), module)
    x = rng.standard_normal((1, 16, 8, 8)).astype(np.float32)
    out, trace = run_program(module, {"input": x}, weights=WeightStore(tmp_path / "w.npz"))
    conv = [
        conv3x3_reference(x, w[f"conv{i}.weight"]) + w[f"conv{i}.bias"][None, :, None, None]
        for i in (1, 2)
    ]
    want = np.maximum(conv[0] + conv[1], 0)
    got = next(iter(out.values())).reshape(want.shape)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    # per window: c1's bias, c2's bias and the residual add; one load of c1's pixel per window
    assert trace.totals().counts["vadd"] == 64 * 3
    assert elements_moved(module, isa.LoadOp, ".conv") == 64 * 16
