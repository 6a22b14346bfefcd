"""The cost model (pimdsl.cost.model): a hand-derived partition and the shape of the costs."""

from __future__ import annotations

import numpy as np
import pytest
from test_units import NetBuilder, mlp_48_8_4, tiny_chip

from pimdsl.chip import load_chip
from pimdsl.cost.model import span_costs
from pimdsl.dialects import nn
from pimdsl.network import extract_network
from pimdsl.units import plan_units


def costs(module, chip, batch):
    net = extract_network(module)
    return span_costs(net, plan_units(net, chip), chip, batch)


def test_one_linear_layer_by_hand():
    # x[1, 256] -> linear 256 -> 64 on compass-s: one unit on one crossbar (256 rows, 64 four-bit
    # weights = 256 columns), one MVM per inference. Numbers below from docs/cost-model.md,
    # worked by hand with the compass-s preset (ns).
    b = NetBuilder((1, 256))
    module = b.module(b.linear(b.x, 64, relu=False))
    chip = load_chip("compass-s")
    pc = costs(module, chip, batch=2).partition(0, 1)
    assert pc.replication == (1,) and pc.crossbars == 1 and pc.core_crossbars == (1,)
    weight_bytes = 256 * 64 * 4 / 8  # 8192
    assert pc.weight_bytes == weight_bytes
    load = 8192 / 12.8e9 * 1e9 + 100  # 640 ns over LPDDR3 + DRAM latency
    write = 1 * 256 * 1.0  # one crossbar, 256 rows at 1 ns
    # The lowered schedule (docs/cost-model.md): the window loads its 256 inputs and stores its
    # 64 outputs, (256 + 64) x 0.5 B = 160 B per image = 12.5 ns of LPDDR3, less than the MVM;
    # entries/exits are those loads and stores, so no separate boundary transfer.
    interval = 4 * 200  # 4 bit-serial steps of 200 ns occupy the crossbar
    mvm_latency = 200 + 4 * 200 + 200 + 200 + 200
    # one image: MVM and DRAM overlap, max(800, 12.5); the last MVM's result lands its latency
    # after its issue, 1600 - 800 after its occupancy ends; then the DRAM latency of the store
    fill = max(1 * interval, 160 / 12.8) + (mvm_latency - interval) + 100  # 1700 ns
    # each further image: the busiest core, its MVM and DRAM traffic overlapped (the load of
    # the next image runs ahead of the MVM): max(800, 12.5) = 800
    period = max(1 * interval, 160 / 12.8)
    compute = fill + (2 - 1) * period  # 2500 ns
    assert pc.latency["weight_load"] == pytest.approx(load * 1e-9)
    assert pc.latency["crossbar_write"] == pytest.approx(write * 1e-9)
    assert pc.latency["boundary"] == 0.0
    assert pc.latency["compute"] == pytest.approx(compute * 1e-9)
    assert pc.latency_s == pytest.approx((load + write + compute) * 1e-9)
    # energy: MVM = B x steps x (1 crossbar x 10 pJ + 256 columns x (1 + 0.05) pJ)
    assert pc.energy["mvm"] == pytest.approx(2 * 4 * (10 + 256 * 1.05) * 1e-12)
    assert pc.energy["crossbar_write"] == pytest.approx(256 * 64 * 4 * 0.1e-12)
    assert pc.energy["weight_load"] == pytest.approx(8192 * (40 + 1) * 1e-12)
    # DRAM energy charges the bytes the latency counts: the window's 160 B per image, 2 images,
    # over DRAM (40 pJ/B) and the bus (1 pJ/B); the reported DRAM bytes add the weights
    assert pc.energy["dram"] == pytest.approx(2 * 160 * (40 + 1) * 1e-12)
    assert pc.dram_bytes == pytest.approx(8192 + 2 * 160)
    static_w = 16 * (22.8 + 18.0 + 8.0) * 1e-3
    assert pc.energy["static"] == pytest.approx(static_w * pc.latency_s)


def test_replication_uses_free_crossbars_min_max():
    # Two convs on a 16x16 map; compass-s has 144 crossbars. conv1 (3->16, 3x3: 27 rows, 1
    # crossbar) and conv2 (16->16: 144 rows, 1 crossbar) have 256 windows each. With r replicas
    # each, 2r <= 144 crossbars: r <= 72, so the best bottleneck is ceil(256/72) = 4 windows per
    # replica, and the smallest r that achieves it is 256 / 4 = 64.
    b = NetBuilder((1, 3, 16, 16))
    module = b.module(b.conv(b.conv(b.x, 16, 3), 16, 3))
    pc = costs(module, load_chip("compass-s"), batch=1).partition(0, 2)
    assert pc.replication == (64, 64)
    assert pc.crossbars == 128
    assert max(pc.core_crossbars) <= 9 and len(pc.core_crossbars) <= 16


def test_row_split_partial_sums_travel_through_dram():
    # mlp 48 -> 8 -> 4 on the tiny chip: cutting between the two row slices of fc1's first
    # column slice stores the running partial sum of 4 of 8 channels (4 x 0.5 B).
    sc = costs(mlp_48_8_4(), tiny_chip(), batch=1)
    first = sc.partition(0, 1)
    assert first.exit_bytes == pytest.approx(4 * 0.5)
    second = sc.partition(1, 3)
    # loads the input (48 x 0.5 B) and the partial (4 channels); stores the partial of 8 channels
    assert second.entry_bytes == pytest.approx(48 * 0.5 + 4 * 0.5)
    assert second.exit_bytes == pytest.approx(8 * 0.5)


def test_costs_grow_with_span_and_batch():
    b = NetBuilder((1, 3, 32, 32))
    x = b.x
    for c in (32, 64, 64, 128, 128):
        x = b.conv(x, c, 3)
    module = b.module(x)
    chip = load_chip("compass-s")
    lat = {B: costs(module, chip, B).table().latency for B in (1, 2, 4, 8, 16)}
    for B1, B2 in ((1, 2), (2, 4), (4, 8), (8, 16)):
        ok = np.isfinite(lat[B1])
        # more batch: more latency per batch, but not more per inference (throughput up, or
        # equal once saturated: a span whose one image already takes its busiest core's period)
        assert np.all(lat[B2][ok] > lat[B1][ok])
        assert np.all(lat[B2][ok] / B2 <= lat[B1][ok] / B1 * (1 + 1e-12))
        assert np.any(lat[B2][ok] / B2 < lat[B1][ok] / B1)


def _line(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Layer DAG of a plain chain: layer j's windows read layer j-1."""
    mvm = np.eye(n, k=-1, dtype=bool)
    return mvm, np.zeros((n, n), dtype=bool)


def test_chain_of_steps_over_a_batch_by_hand():
    # Layer 0 on core 0 (3 ns per image), layers 1 (1 ns) and 2 (3 ns) on core 1; 3 images.
    # Core 0: layer 0 finishes images at 3, 6, 9. Core 1 runs layer 1 over all images first,
    # each waiting for layer 0: 4, 7, 10; then layer 2: 13, 16, 19. One image alone: 3+1+3 = 7.
    # So the two further images cost 12 ns, more than the busiest core's 2 x (1 + 3) = 8:
    # core 1 idles in layer 1, paced by core 0.
    from pimdsl.cost.schedule import _chain_ns

    on = np.array([[[True, False], [False, True], [False, True]]])
    stage = np.array([[3.0, 1.0, 3.0]])
    present = np.ones((1, 3), dtype=bool)
    lay = np.array([[0, 1, 2]])
    assert _chain_ns(on, stage, present, 3, lay, _line(3))[0] == pytest.approx(19.0)
    assert _chain_ns(on, stage, present, 1, lay, _line(3))[0] == pytest.approx(7.0)
    # a layer absent from the span (padding of the span's layer axis) changes nothing
    on4 = np.concatenate([on, np.zeros((1, 1, 2), dtype=bool)], axis=1)
    present4 = np.array([[True, True, True, False]])
    lay4 = np.array([[0, 1, 2, 2]])  # the padding repeats the last layer, as span_costs does
    got = _chain_ns(on4, np.array([[3.0, 1.0, 3.0, 0.0]]), present4, 3, lay4, _line(3))[0]
    assert got == pytest.approx(19.0)


def test_parallel_branches_overlap_on_distinct_cores_by_hand():
    # A fire module: layer 0 (2 ns, core 0) feeds layers 1 (5 ns) and 2 (3 ns); layer 3 (1 ns,
    # core 0) reads layer 2, and layer 2 owns a concat that also reads layer 1 (a vector-op
    # dependency: layer 2's result is complete only when layer 1's is).
    from pimdsl.cost.schedule import _chain_ns

    mvm = np.zeros((4, 4), dtype=bool)
    vec = np.zeros((4, 4), dtype=bool)
    mvm[1, 0] = mvm[2, 0] = mvm[3, 2] = True
    vec[2, 1] = True
    stage = np.array([[2.0, 5.0, 3.0, 1.0]])
    present = np.ones((1, 4), dtype=bool)
    lay = np.array([[0, 1, 2, 3]])
    # Branches on cores 1 and 2: one image takes 2 + max(5, 3) + 1 = 8, not the sum 11.
    apart = np.zeros((1, 4, 3), dtype=bool)
    apart[0, 0, 0] = apart[0, 1, 1] = apart[0, 2, 2] = apart[0, 3, 0] = True
    assert _chain_ns(apart, stage, present, 1, lay, (mvm, vec))[0] == pytest.approx(8.0)
    # Without the concat's dependency layer 3 would follow layer 2 alone and end at 2 + 3 + 1
    # = 6; the span ends with its last step, layer 1, at 2 + 5 = 7.
    no_vec = np.zeros_like(vec)
    assert _chain_ns(apart, stage, present, 1, lay, (mvm, no_vec))[0] == pytest.approx(7.0)
    # Both branches on core 1: they queue, 2 + 5 + 3 + 1 = 11.
    shared = apart.copy()
    shared[0, 2] = [False, True, False]
    assert _chain_ns(shared, stage, present, 1, lay, (mvm, vec))[0] == pytest.approx(11.0)
    # Two images, apart: layer 1 finishes images at 7, 12; layer 2 at 5, 8 but complete only
    # with layer 1 (7, 12); layer 3 on core 0 (free after layer 0 at 4): 8, 13.
    assert _chain_ns(apart, stage, present, 2, lay, (mvm, vec))[0] == pytest.approx(13.0)


def test_layer_deps_of_a_fire_module():
    # squeeze conv -> expand 1x1 and expand 3x3 (both read the squeeze's relu) -> concat (owned
    # by the later expand, the latest producer) -> a final 1x1 conv reading the concat.
    from pimdsl.cost.schedule import _layer_deps

    b = NetBuilder((1, 8, 8, 8))
    sq = b.conv(b.x, 4, 1)
    e1 = b.conv(sq, 8, 1)
    e3 = b.conv(sq, 8, 3)
    cat = b.add(nn.ConcatOp([e1, e3], 1))
    module = b.module(b.conv(cat, 4, 1))
    mvm, vec = _layer_deps(extract_network(module))
    assert sorted(zip(*np.nonzero(mvm), strict=True)) == [(1, 0), (2, 0), (3, 2)]
    assert sorted(zip(*np.nonzero(vec), strict=True)) == [(2, 1)]


def test_crossbar_writes_overlap_the_next_loads_by_hand():
    # linear 1024 -> 64 on compass-s: one unit of 4 crossbars (4 row tiles) on one core. A core
    # writes crossbar k (wr_xbar) while it loads crossbar k+1 (ld_weight), so with loads slower
    # than writes only the last crossbar's write shows after the loads.
    b = NetBuilder((1, 1024))
    module = b.module(b.linear(b.x, 64, relu=False))
    chip = load_chip("compass-s")
    pc = costs(module, chip, batch=1).partition(0, 1)
    assert pc.crossbars == 4
    load = 1024 * 64 * 0.5 / 12.8e9 * 1e9 + 100  # 2560 ns + DRAM latency = 2660
    assert pc.latency["weight_load"] == pytest.approx(load * 1e-9)
    assert pc.latency["crossbar_write"] == pytest.approx(256 * 1e-9)  # one crossbar's 256 rows
    # writes 10x slower (2560 ns a crossbar): the core's 4 writes follow the first crossbar's
    # load (a quarter of all loads), and outlast the rest: 4 x 2560 + 2660 / 4 - 2660 beyond them
    slow = chip.replace(crossbar_write_ns_per_row=10.0)
    pc = costs(module, slow, batch=1).partition(0, 1)
    assert pc.latency["crossbar_write"] == pytest.approx((4 * 2560 + 2660 / 4 - 2660) * 1e-9)


def test_vector_work_of_a_layer_as_the_lowering_runs_it():
    # conv (relu fused into its stores) -> 2x2 max pool -> residual-free add of the pool with
    # itself -> flatten of a 2x2 map (a relayout) -> linear. Per inference, 8 channels:
    from pimdsl.isa.line_buffer import Window
    from pimdsl.network import VectorStep

    b = NetBuilder((1, 4, 4, 4))
    c = b.conv(b.x, 8, 3)
    p = b.add(
        nn.MaxPoolOp(c, kernel=(2, 2), strides=(2, 2), pads=(0, 0, 0, 0), result_shape=(1, 8, 2, 2))
    )
    s = b.add(nn.AddOp(p, p))
    f = b.add(nn.FlattenOp(s, 1))
    module = b.module(b.linear(f, 4, relu=False))
    net = extract_network(module)
    w = net.layers[0].vector
    assert w.fused == 8 * 4 * 4  # the relu: the conv's 128 outputs, in the conv's own stores
    assert w.steps == (
        # pool: each of the 32 outputs loads and reduces its 4 taps, in 2x2 pixel pieces of
        # 8 channels x 5 slots (4 taps + the output) of local memory
        VectorStep(
            work=32 * 4,
            loaded=32 * 4,
            stored=32,
            pieces=4,
            span=8 * 5,
            pool=(Window((2, 2), (2, 2), (1, 1), (2, 2)), 8),
            split=True,
        ),
        # add: two operands loaded, one result stored; three buffers share local memory
        VectorStep(work=32, loaded=64, stored=32, pieces=1, span=32 * 3),
        # flatten of a 2x2 map: NHWC to CHW, data moved, no vector work
        VectorStep(work=0, loaded=32, stored=32, pieces=1, span=32),
    )
    # a 2x2 stride-2 pool's windows do not overlap: it loads its taps, 4 per output
    assert w.steps[0].loads(32768) == 32 * 4


def test_vector_step_time_by_hand():
    # compass-s: vector unit 64 B / 10 ns; 4-bit data (0.5 B an element); LPDDR3 12.8 GB/s.
    from pimdsl.cost.schedule import _step_ns

    chip = load_chip("compass-s")
    # 12800 elements of work = 6400 B = 1000 ns; 25600 loaded = 12800 B = 1000 ns; 12800
    # stored = 500 ns. The loads and stores share the DRAM channel (1500 ns). In 4 chunks the
    # slower of the vector unit and the channel paces (1500) and the other shows for one chunk
    # (1000 / 4); plus the first load's and last store's DRAM latency (2 x 100).
    assert float(_step_ns(12800, 25600, 12800, 4, chip)) == pytest.approx(1500 + 1000 / 4 + 200)
    # one chunk: nothing overlaps
    assert float(_step_ns(12800, 25600, 12800, 1, chip)) == pytest.approx(2500 + 200)


def test_vector_chain_waits_for_the_window_traffic_by_hand():
    # conv 64 -> 64, 3x3, on an 8x8 map (64 windows) + a global average pool, batch 1,
    # compass-s: the pool is the layer's vector chain on its vector core (a max pool of the
    # conv's map would run split over the conv's cores instead). Per image (ns): window traffic
    # (the line-buffer bands of the r replicas' rows, and 64 windows x 64 out) x 0.5 B /
    # 12.8 GB/s; the pool loads the 4096-element map (160) and stores 64 (2.5), works on 4096
    # (320), in one chunk (nothing overlaps): 482.5 + 200 = 682.5, and waits for the layer's
    # last MVM result (1600 - 800) and its store's DRAM latency (100): 1582.5 for one image; in
    # the period the compute and store of its last chunk (320 + 2.5 + 200 = 522.5) overlap the
    # next image: 1060. Alone the vector core takes its MVMs (and their epilogues, the relu
    # fused) + chain; of the window traffic, the chain's DRAM-bound share (its 162.5 ns of
    # transfers over that) delays it; at least the channel's window and chain traffic.
    b = NetBuilder((1, 64, 8, 8))
    c = b.conv(b.x, 64, 3)
    module = b.module(b.add(nn.GlobalAvgPoolOp(c)))
    sc = costs(module, load_chip("compass-s"), batch=1)
    i = sc.flat(0, sc.units.n)
    r = int(sc.replication[i, 0])
    # each replica computes 8 / r whole output rows and loads its own band of them: (8 / r + 2)
    # padded rows x 10 columns x 64 channels (one replica: the whole padded map, 10 x 10 x 64)
    assert 8 % r == 0
    window = (r * (8 // r + 2) * 10 * 64 + 64 * 64) * 0.5 / 12.8
    chain = (320 + 160 + 2.5 + 200) + 800 + 100 - (320 + 2.5 + 200)
    chain_dram = (4096 + 64) * 0.5 / 12.8
    # a core holds q = min(r, 9 // 3) replicas (3 crossbars each), interleaved (all fit its
    # local memory) in 8 turns of ceil(w / 8) of their w windows, and takes their bands in
    # order: each image its last replica starts after the others' first-turn bands,
    # (q - 1) / 8 / q of the layer's band traffic over the channel all cores share; its last
    # epilogue ends after that replica's MVMs or after the other replicas' last-turn
    # epilogues (2 x 10 ns a window), the later, unless the vector unit is slower still
    q = min(r, 9 // 3)
    w = -(-64 // r)
    stagger = (q - 1) / 8 / q * r * (8 // r + 2) * 10 * 64 * 0.5 / 12.8
    mvms = (
        max(w * 800 + max((q - 1) * -(-w // 8) * 2 * 10, stagger), q * w * 2 * 10)
        + 64 * 64 / r * 0.5 / 64 * 10
    )
    alone = mvms + chain
    stage = max(alone + window * min(chain_dram / alone, 1.0), window + chain_dram)
    assert sc.schedule["layer_stage"][i, 0] == pytest.approx(stage)


def test_merged_image_loops_overlap_independent_layers_by_hand():
    # Layer 0 on cores 0 and 1; layers 1 and 2 on core 0 only, both reading layer 0 (a fire
    # module's two expands after its squeeze). Layer 1's cores are among layer 0's, so the
    # lowering continues the image loop; layer 1 reads layer 0 and stays after it (5 ns).
    # Layer 2 continues the loop too and does not read layer 1: on core 0 it overlaps layer 1
    # and adds only its excess, 7 - 5 = 2 ns. With layer 0's vector steps on core 1 (its vector
    # core), layer 1 (on core 0) opens a new loop; layer 2 still continues layer 1's.
    from pimdsl.cost.schedule import _continues, _merged_loops

    on = np.zeros((1, 3, 2), dtype=bool)
    on[0, 0] = [True, True]
    on[0, 1, 0] = on[0, 2, 0] = True
    stage = np.zeros((1, 3, 2))
    stage[0, 0] = [4.0, 4.0]
    stage[0, 1, 0], stage[0, 2, 0] = 5.0, 7.0
    present = np.ones((1, 3), dtype=bool)
    lay = np.array([[0, 1, 2]])
    dep = np.zeros((3, 3), dtype=bool)
    dep[1, 0] = dep[2, 0] = True
    none = np.zeros_like(on)
    cont = _continues(on, none, present)
    assert cont.tolist() == [[False, True, True]]
    got = _merged_loops(stage, on, cont, lay, dep)
    assert got[0, :, 0].tolist() == [4.0, 5.0, 2.0]
    assert got[0, :, 1].tolist() == [4.0, 0.0, 0.0]
    # layer 2 reading layer 1 instead: no overlap
    dep2 = dep.copy()
    dep2[2, 1] = True
    assert _merged_loops(stage, on, cont, lay, dep2)[0, :, 0].tolist() == [4.0, 5.0, 7.0]
    v = np.zeros_like(on)
    v[0, 0, 1] = True
    assert _continues(on, v, present).tolist() == [[False, False, True]]


def test_chain_over_a_batch_in_a_shared_image_loop_by_hand():
    # Layer 0 on core 0 (3 ns an image); layer 1 on core 1 (1 ns); layer 2 on core 1 (2 ns)
    # continues layer 1's image loop. 3 images. Separate loops: core 1 runs layer 1 for all
    # images (4, 7, 10) and then layer 2 (12, 14, 16). One loop: per image layer 1 then layer 2,
    # paced by layer 0: images end 3+1+2 = 6, 9, 12 (each start also a group's 3 ns after the
    # last: 4+3 = 7 <= 9 - 2). One image alone: 6 in both.
    from pimdsl.cost.schedule import _chain_ns

    on = np.array([[[True, False], [False, True], [False, True]]])
    stage = np.array([[3.0, 1.0, 2.0]])
    present = np.ones((1, 3), dtype=bool)
    lay = np.array([[0, 1, 2]])
    assert _chain_ns(on, stage, present, 3, lay, _line(3))[0] == pytest.approx(16.0)
    cont = np.array([[False, False, True]])
    assert _chain_ns(on, stage, present, 3, lay, _line(3), cont=cont)[0] == pytest.approx(12.0)
    assert _chain_ns(on, stage, present, 1, lay, _line(3), cont=cont)[0] == pytest.approx(6.0)
    # layer 0 fast (1 ns): the core is the limit, 2 + 1 = 3 ns an image: 1+1+2 = 4, 7, 10
    fast = np.array([[1.0, 1.0, 2.0]])
    assert _chain_ns(on, fast, present, 3, lay, _line(3), cont=cont)[0] == pytest.approx(10.0)
