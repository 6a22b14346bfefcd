"""The pim_isa timing and energy model (pimdsl/sim/timing.py) on tiny hand-written programs.

Every expected time is derived by hand from the chip's fields with the formulas of
docs/simulator.md (written out in each test), never taken from the simulator itself.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from xdsl.dialects.builtin import ModuleOp
from xdsl.parser import Parser

from pimdsl.chip import Chip, load_chip
from pimdsl.dialects import context
from pimdsl.errors import PimError
from pimdsl.module_attrs import set_batch, set_chip
from pimdsl.sim.stats import ENERGY_BREAKDOWN_KEYS
from pimdsl.sim.timing import simulate_module
from pimdsl.tools.pim_run import main as pim_run

CHIP = load_chip("compass-s")
D = CHIP.act_bits / 8  # bytes an element occupies on DRAM, bus and vector unit
NS = 1e-9


def module(body: str, chip: Chip = CHIP, batch: int = 1) -> ModuleOp:
    ctx = context()
    text = f"""builtin.module {{
pim_isa.program elem_bytes 2 {{
  pim_isa.buffer "x" {{role = #pim_isa.role<input>, shape = array<i64: 65536>}}
  pim_isa.buffer "y" {{role = #pim_isa.role<output>, shape = array<i64: 65536>}}
{body}
}}
}}"""
    m = Parser(ctx, text).parse_module()
    set_chip(m, chip)
    set_batch(m, batch)
    m.verify()
    return m


def latency_ns(m: ModuleOp) -> float:
    return simulate_module(m).latency_s / NS


def mvm_issue() -> float:
    steps = CHIP.act_bits // CHIP.dac_bits
    return max(CHIP.mvm_interval_ns, steps * CHIP.mvm_per_bit_ns)


def mvm_latency() -> float:
    steps = CHIP.act_bits // CHIP.dac_bits
    return (
        CHIP.mvm_read_ns
        + steps * CHIP.mvm_per_bit_ns
        + CHIP.mvm_adc_ns
        + CHIP.mvm_shift_add_ns
        + CHIP.mvm_write_ns
    )


def vector_ns(elems: int, touched: int) -> float:
    ops = math.ceil(elems * D / CHIP.vector_bytes)
    return max(ops * CHIP.vector_latency_ns, touched * D / CHIP.local_memory_bandwidth / NS)


MVM = (
    "pim_isa.mvm {{xbar = {x} : i64, src = array<i64: {src}>, rows = 16 : i64, "
    "dst = array<i64: {dst}>, cols = 8 : i64, bits = 4 : i64}}"
)


def test_mvm_loop_pipelines_on_one_crossbar() -> None:
    n = 10
    m = module(f"""  pim_isa.partition 0 {{ pim_isa.core 0 {{
    pim_isa.wr_xbar {{xbar = 0 : i64, src = array<i64: 0>, rows = 16 : i64, cols = 8 : i64}}
    pim_isa.loop {n} {{ {MVM.format(x=0, src=1024, dst="2048, 16")} }}
  }} }}""")
    write = 16 * CHIP.crossbar_write_ns_per_row
    # the crossbar is busy being written, then starts an MVM every issue interval
    expected = write + (n - 1) * mvm_issue() + mvm_latency()
    assert latency_ns(m) == pytest.approx(expected)


def test_timeline_events_of_an_mvm_loop() -> None:
    """The events a timeline is drawn from (`simulate_module(events=...)`): the write, then
    one MVM every issue interval on crossbar 0's unit, each busy for the interval."""
    from pimdsl.sim.timing_program import WRITE, XBAR

    n = 4
    m = module(f"""  pim_isa.partition 0 {{ pim_isa.core 0 {{
    pim_isa.wr_xbar {{xbar = 0 : i64, src = array<i64: 0>, rows = 16 : i64, cols = 8 : i64}}
    pim_isa.loop {n} {{ {MVM.format(x=0, src=1024, dst="2048, 16")} }}
  }} }}""")
    events: dict[int, list[tuple[int, int, float, float, str]]] = {0: []}
    simulate_module(m, step_all=True, events=events)
    write = 16 * CHIP.crossbar_write_ns_per_row
    assert events[0][0] == (0, WRITE, 0.0, write, "pim_isa.wr_xbar")
    mvms = [e for e in events[0] if e[4] == "pim_isa.mvm"]
    assert [(c, u) for c, u, *_ in mvms] == [(0, XBAR)] * n
    assert [s for _, _, s, _, _ in mvms] == pytest.approx(
        [write + i * mvm_issue() for i in range(n)]
    )
    assert all(e - s == pytest.approx(mvm_issue()) for _, _, s, e, _ in mvms)


def test_crossbars_of_a_core_work_in_parallel() -> None:
    n = 10
    body = "\n".join(MVM.format(x=x, src=1024, dst=f"{2048 + 64 * x}, 256") for x in range(4))
    m = module(f"""  pim_isa.partition 0 {{ pim_isa.core 0 {{
    pim_isa.loop {n} {{ {body} }}
  }} }}""")
    assert latency_ns(m) == pytest.approx((n - 1) * mvm_issue() + mvm_latency())


def test_closed_form_loop_equals_the_unrolled_program() -> None:
    # load -> mvm -> relu -> store per iteration: the loop (closed form) and the same
    # instructions written out (stepped one by one) must give the same time
    n = 6

    def step(i: int | None) -> str:
        k = "0" if i is None else str(i)
        s = lambda base, stride: f"{base}, {stride}" if i is None else str(base + stride * i)  # noqa: E731
        return f"""
      pim_isa.load {{buffer = "x", offset = array<i64: {s(0, 16)}>, dst = array<i64: {s(1024, 32)}>, len = 16 : i64}}
      {MVM.format(x=0, src=s(1024, 32), dst=s(4096, 16))}
      pim_isa.vrelu {{dst = array<i64: {s(8192, 16)}>, src = array<i64: {s(4096, 16)}>, len = 8 : i64}}
      pim_isa.store {{src = array<i64: {s(8192, 16)}>, buffer = "y", offset = array<i64: {s(0, 8)}>, len = 8 : i64}}""" + (
            "" if k else ""
        )

    looped = module(
        f"  pim_isa.partition 0 {{ pim_isa.core 0 {{ pim_isa.loop {n} {{ {step(None)} }} }} }}"
    )
    unrolled = module(
        "  pim_isa.partition 0 { pim_isa.core 0 {" + "".join(step(i) for i in range(n)) + "} }"
    )
    assert latency_ns(looped) == pytest.approx(latency_ns(unrolled), rel=1e-9)


def test_recv_waits_for_the_sender() -> None:
    m = module("""  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.vrelu {dst = array<i64: 0>, src = array<i64: 0>, len = 1280 : i64}
      pim_isa.send {peer = 1 : i64, src = array<i64: 0>, len = 64 : i64, tag = 3 : i64}
    }
    pim_isa.core 1 {
      pim_isa.recv {peer = 0 : i64, dst = array<i64: 0>, len = 64 : i64, tag = 3 : i64}
      pim_isa.vrelu {dst = array<i64: 512>, src = array<i64: 0>, len = 64 : i64}
    }
  }""")
    relu = vector_ns(1280, 2 * 1280)
    transfer = 64 * D / CHIP.bus_bandwidth / NS
    assert latency_ns(m) == pytest.approx(relu + transfer + vector_ns(64, 128))


def test_barrier_releases_all_at_the_latest_arrival() -> None:
    long, short = vector_ns(1280, 2560), vector_ns(64, 128)
    m = module("""  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.vrelu {dst = array<i64: 0>, src = array<i64: 0>, len = 1280 : i64}
      pim_isa.barrier {cores = array<i64: 0, 1>}
    }
    pim_isa.core 1 {
      pim_isa.vrelu {dst = array<i64: 0>, src = array<i64: 0>, len = 64 : i64}
      pim_isa.barrier {cores = array<i64: 0, 1>}
      pim_isa.vrelu {dst = array<i64: 0>, src = array<i64: 0>, len = 64 : i64}
    }
  }""")
    assert latency_ns(m) == pytest.approx(long + short)


def test_two_cores_contend_for_dram() -> None:
    n = 2560
    transfer = n * D / CHIP.dram_bandwidth / NS  # DRAM is the slowest link
    load = f'pim_isa.load {{buffer = "x", offset = array<i64: 0>, dst = array<i64: 0>, len = {n} : i64}}'
    one = module(f"  pim_isa.partition 0 {{ pim_isa.core 0 {{ {load} }} }}")
    two = module(
        f"  pim_isa.partition 0 {{ pim_isa.core 0 {{ {load} }} pim_isa.core 1 {{ {load} }} }}"
    )
    assert latency_ns(one) == pytest.approx(transfer + CHIP.dram_latency_ns)
    # the second transfer starts when the first has left the DRAM channel
    assert latency_ns(two) == pytest.approx(2 * transfer + CHIP.dram_latency_ns)


def test_partitions_run_one_after_another_with_weight_reload() -> None:
    rows, cols = 256, 64
    part = f"""  pim_isa.partition INDEX {{ pim_isa.core 0 {{
    pim_isa.ld_weight {{weight = "w", layout = #pim_isa.layout<io>, rows = array<i64: 0, {rows}>, cols = array<i64: 0, {cols}>, dst = array<i64: 0>}}
    pim_isa.wr_xbar {{xbar = 0 : i64, src = array<i64: 0>, rows = {rows} : i64, cols = {cols} : i64}}
  }} }}"""
    m = module(part.replace("INDEX", "0") + "\n" + part.replace("INDEX", "1"))
    nbytes = rows * cols * CHIP.weight_bits / 8
    one = (
        nbytes / CHIP.dram_bandwidth / NS
        + CHIP.dram_latency_ns
        + rows * CHIP.crossbar_write_ns_per_row
    )
    stats = simulate_module(m)
    assert stats.latency_s / NS == pytest.approx(2 * one)
    d = stats.to_json()
    assert d["weight_bytes_loaded"] == 2 * nbytes  # reloaded: once per partition
    bits = rows * cols * CHIP.cols_per_weight * CHIP.cell_bits
    assert d["energy_breakdown"]["weight_write"] == pytest.approx(
        2 * bits * CHIP.crossbar_write_pj_per_bit * 1e-12
    )
    assert [p["start_s"] for p in d["partitions"]] == pytest.approx([0.0, one * NS])


def test_replicated_weight_block_is_read_from_dram_once() -> None:
    ld = (
        'pim_isa.ld_weight {weight = "w", layout = #pim_isa.layout<io>, rows = array<i64: 0, 64>, '
        "cols = array<i64: 0, 64>, dst = array<i64: 0>}"
    )
    m = module(f"  pim_isa.partition 0 {{ pim_isa.core 0 {{ {ld} }} pim_isa.core 1 {{ {ld} }} }}")
    d = simulate_module(m).to_json()
    assert d["weight_bytes_loaded"] == 64 * 64 * CHIP.weight_bits / 8


def test_energy_breakdown_sums_to_total_and_counts_mvms() -> None:
    n = 7
    m = module(
        f"""  pim_isa.partition 0 {{ pim_isa.core 0 {{
    pim_isa.loop {n} {{
      pim_isa.load {{buffer = "x", offset = array<i64: 0, 16>, dst = array<i64: 1024>, len = 16 : i64}}
      {MVM.format(x=0, src=1024, dst=4096)}
      {MVM.format(x=1, src=1024, dst=4096)}
      pim_isa.vadd {{dst = array<i64: 4096>, lhs = array<i64: 4096>, rhs = array<i64: 4096>, len = 8 : i64}}
    }}
  }} }}""",
        batch=2,
    )
    d = simulate_module(m).to_json()
    assert set(d["energy_breakdown"]) == set(ENERGY_BREAKDOWN_KEYS)
    assert sum(d["energy_breakdown"].values()) == pytest.approx(d["energy_j"])
    for p in d["partitions"]:
        assert sum(p["energy_breakdown"].values()) == pytest.approx(p["energy_j"])
    assert d["mvm_count"] == 2 * n
    steps = CHIP.act_bits // CHIP.dac_bits
    per_batch = 2 * n * steps * CHIP.crossbar_read_pj * 1e-12
    assert d["energy_breakdown"]["mvm"] == pytest.approx(per_batch / 2)  # per inference
    adc = 2 * n * steps * 8 * CHIP.cols_per_weight * CHIP.adc_pj * 1e-12
    assert d["energy_breakdown"]["adc"] == pytest.approx(adc / 2)
    static_w = CHIP.cores * CHIP.static_power_mw_per_core * 1e-3
    assert d["energy_breakdown"]["static"] == pytest.approx(static_w * d["latency_s"] / 2)
    assert d["edp"] == pytest.approx(d["energy_j"] * d["latency_s"] / 2)
    assert d["throughput_ips"] == pytest.approx(2 / d["latency_s"])


def pipeline(batch: int) -> ModuleOp:
    """Core 0: per image, load + 4 MVMs + send; core 1: recv + relu + store."""
    mvms = "\n".join(MVM.format(x=x, src=1024, dst=f"{4096 + 16 * x}") for x in range(4))
    return module(
        f"""  pim_isa.partition 0 {{
    pim_isa.core 0 {{ pim_isa.loop {batch} {{
      pim_isa.load {{buffer = "x", offset = array<i64: 0, 16>, dst = array<i64: 1024>, len = 16 : i64}}
      {mvms}
      pim_isa.send {{peer = 1 : i64, src = array<i64: 4096>, len = 32 : i64, tag = 0 : i64}}
    }} }}
    pim_isa.core 1 {{ pim_isa.loop {batch} {{
      pim_isa.recv {{peer = 0 : i64, dst = array<i64: 0>, len = 32 : i64, tag = 0 : i64}}
      pim_isa.vrelu {{dst = array<i64: 512>, src = array<i64: 0>, len = 32 : i64}}
      pim_isa.store {{src = array<i64: 512>, buffer = "y", offset = array<i64: 0, 32>, len = 32 : i64}}
    }} }}
  }}""",
        batch=batch,
    )


def test_throughput_grows_with_batch_until_saturation() -> None:
    ips = [simulate_module(pipeline(b)).to_json()["throughput_ips"] for b in (1, 2, 4, 8, 16, 32)]
    assert all(b >= a * (1 - 1e-9) for a, b in zip(ips, ips[1:], strict=False))
    assert ips[-1] > 1.5 * ips[0]
    # saturation: one image per MVM issue interval of a crossbar at most
    assert ips[-1] <= 1 / (mvm_issue() * NS) * (1 + 1e-9)


def test_deadlock_is_a_user_error() -> None:
    m = module("""  pim_isa.partition 0 {
    pim_isa.core 0 {
      pim_isa.recv {peer = 1 : i64, dst = array<i64: 0>, len = 8 : i64, tag = 0 : i64}
      pim_isa.send {peer = 1 : i64, src = array<i64: 0>, len = 8 : i64, tag = 1 : i64}
    }
    pim_isa.core 1 {
      pim_isa.recv {peer = 0 : i64, dst = array<i64: 0>, len = 8 : i64, tag = 1 : i64}
      pim_isa.send {peer = 0 : i64, src = array<i64: 0>, len = 8 : i64, tag = 0 : i64}
    }
  }""")
    with pytest.raises(PimError, match="deadlock"):
        simulate_module(m)


def test_pim_run_stats_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "p.mlir"
    src.write_text(str(pipeline(4)))
    out = tmp_path / "stats.json"
    assert pim_run([str(src), "--stats", str(out), "--timing-only"]) == 0
    assert "inf/s" in capsys.readouterr().out
    d = json.loads(out.read_text())
    for key, kind in {
        "latency_s": float,
        "throughput_ips": float,
        "energy_j": float,
        "edp": float,
        "partitions": list,
        "energy_breakdown": dict,
        "mvm_count": int,
        "dram_bytes": int,
        "weight_bytes_loaded": int,
        "batch": int,
    }.items():
        assert isinstance(d[key], kind), key
    assert d["batch"] == 4
    for p in d["partitions"]:
        assert isinstance(p["latency_s"], float) and isinstance(p["energy_j"], float)
    assert all(isinstance(v, float) for v in d["energy_breakdown"].values())
    assert {"mvm", "adc", "weight_write", "dram", "vector", "static"} <= set(d["energy_breakdown"])


def test_stats_on_non_isa_ir_is_a_user_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "n.mlir"
    src.write_text("""builtin.module {
  func.func @main(%x: tensor<1x4xf32>) -> tensor<1x4xf32> {
    %r = nn.relu %x : tensor<1x4xf32> -> tensor<1x4xf32>
    func.return %r : tensor<1x4xf32>
  }
}""")
    assert pim_run([str(src), "--stats", str(tmp_path / "s.json")]) == 1
    assert "pim_isa" in capsys.readouterr().err


def test_closed_form_loops_on_different_crossbars_overlap_as_when_stepped() -> None:
    # four replicas of a layer on four crossbars of one core, one loop each (as the lowering
    # emits them): the loops share the DMA and vector queues but their MVMs overlap
    def body(x: int, i: int | None = None) -> str:
        s = (lambda b, st: f"{b}, {st}") if i is None else (lambda b, st: str(b + st * i))
        return f"""
      pim_isa.load {{buffer = "x", offset = array<i64: {s(x * 1000, 144)}>, dst = array<i64: 0>, len = 144 : i64}}
      {MVM.format(x=x, src=0, dst=288)}
      pim_isa.vrelu {{dst = array<i64: 288>, src = array<i64: 288>, len = 8 : i64}}
      pim_isa.store {{src = array<i64: 288>, buffer = "y", offset = array<i64: {s(x * 1000, 32)}>, len = 32 : i64}}"""

    looped = "".join(f"pim_isa.loop 20 {{ {body(x)} }}" for x in range(4))
    unrolled = "".join(body(x, i) for x in range(4) for i in range(20))
    a = module(f"pim_isa.partition 0 {{ pim_isa.core 0 {{ {looped} }} }}")
    b = module(f"pim_isa.partition 0 {{ pim_isa.core 0 {{ {unrolled} }} }}")
    assert latency_ns(a) == pytest.approx(latency_ns(b), rel=0.02)


CONV = """builtin.module {
  func.func @main(%x: tensor<1x16x16x16xf32>) -> tensor<1x32x16x16xf32> {
    %w = nn.weight "c.w" : tensor<32x16x3x3xf32>
    %c = nn.conv2d %x, %w {strides = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, dilations = array<i64: 1, 1>, groups = 1 : i64} : (tensor<1x16x16x16xf32>, tensor<32x16x3x3xf32>) -> tensor<1x32x16x16xf32>
    %r = nn.relu %c : tensor<1x32x16x16xf32> -> tensor<1x32x16x16xf32>
    func.return %r : tensor<1x32x16x16xf32>
  }
}"""


def lowered_conv(batch: int) -> tuple[list[float], list[float]]:
    """Cost-model and simulated per-partition latencies of a one-conv network lowered to pim_isa."""
    from pimdsl.passes import get_all_passes

    ctx = context()
    m = Parser(ctx, CONV).parse_module()
    set_chip(m, CHIP)
    set_batch(m, batch)
    passes = get_all_passes()
    passes["partition"]()(strategy="layerwise").apply(ctx, m)  # type: ignore[call-arg]
    from pimdsl.dialects import partition as part

    model = [op.latency_s.value.data for op in m.walk() if isinstance(op, part.PartitionOp)]
    for name in ("partition-to-crossbar", "crossbar-to-isa"):
        passes[name]()().apply(ctx, m)
    return model, [p.latency_s for p in simulate_module(m).partitions]


def test_cost_model_agrees_with_simulation_on_a_small_conv_at_batch_1() -> None:
    model, sim = lowered_conv(1)
    assert len(model) == len(sim) >= 1
    for a, b in zip(model, sim, strict=True):
        assert b == pytest.approx(a, rel=0.10)


@pytest.mark.xfail(
    strict=True,
    reason=(
        "known gap (docs/simulator.md, 'Cost model vs simulation'): a tiny conv of 52 replicas of "
        "5 windows; each core receives the input relayout's token and sends the output relayout's "
        "per image, so it runs the images one at a time (~4.9 us each simulated); the model's "
        "period is the crossbars' 4 us and does not price the token serialisation"
    ),
)
@pytest.mark.parametrize("batch", [4, 16])
def test_cost_model_agrees_with_simulation_on_a_small_conv_over_a_batch(batch: int) -> None:
    model, sim = lowered_conv(batch)
    for a, b in zip(model, sim, strict=True):
        assert b == pytest.approx(a, rel=0.10)


def test_closed_form_loops_of_many_cores_sharing_dram_equal_stepping() -> None:
    # VGG16's first layers: every core runs a window loop (load a 3x3x64 patch, 3 MVMs, relu,
    # store 64 channels). Loads run ahead of the MVMs, so the 16 cores' loads together saturate
    # the DRAM channel (16 x 288 B per 360 ns load = 12.8 GB/s) and the cores whose loop starts
    # last see, in their exactly simulated iterations, the channel booked by the others. The
    # closed form must not extrapolate that wait over the loop: stepped, every core is bound by
    # its crossbars (112 x 800 ns).
    def core(c: int) -> str:
        mvms = "".join(
            f"pim_isa.mvm {{xbar = {k} : i64, src = array<i64: {512 * k}>, rows = 256 : i64, "
            f"dst = array<i64: 1152>, cols = 64 : i64, bits = 4 : i64{', accumulate' if k else ''}}}\n"
            for k in range(3)
        )
        return f"""pim_isa.core {c} {{ pim_isa.loop 112 {{
  pim_isa.load_block {{buffer = "x", offset = array<i64: {10 * c}, 64>, sizes = array<i64: 64, 3, 3>, pitches = array<i64: 1, 7296, 64>, len = 1 : i64, dst = array<i64: 0>}}
  {mvms}
  pim_isa.vrelu {{dst = array<i64: 1152>, src = array<i64: 1152>, len = 64 : i64}}
  pim_isa.store {{src = array<i64: 1152>, buffer = "y", offset = array<i64: {10 * c}, 64>, len = 64 : i64}}
}} }}"""

    m = module("pim_isa.partition 0 { " + "".join(core(c) for c in range(CHIP.cores)) + " }")
    closed = simulate_module(m).latency_s
    stepped = simulate_module(m, step_all=True).latency_s
    assert closed == pytest.approx(stepped, rel=0.02)
    # and both are crossbar-bound: 112 issue intervals, within the links' and latencies' slack
    assert stepped / NS == pytest.approx(112 * mvm_issue(), rel=0.10)


def test_closed_form_loop_steps_iterations_that_wait_behind_other_cores_traffic() -> None:
    # Cores 0-14 each load 10 blocks of 32768 elements (16 kB, 1280 ns of the 12.8 GB/s DRAM
    # channel): 192 us of weight-like traffic, one request per core at a time. Core 15 runs a
    # window loop of 100 iterations (a 64-element load, one MVM, a store). While the others
    # stream, each of its loads queues behind one round of their requests (15 x 1280 ns): about
    # 10 iterations in the first 192 us; the other 90 then run at one MVM issue each. Extrapolated
    # from its first (waiting) iterations the loop took 100 x 19.2 us = 1.9 ms; the closed form
    # steps such iterations (up to CLOSED_CONTENDED) and must equal stepping.
    loads = "".join(
        'pim_isa.load {buffer = "x", offset = array<i64: 0>, dst = array<i64: 0>, len = 32768 : i64}\n'
        for _ in range(10)
    )
    weights = "".join(f"pim_isa.core {c} {{ {loads} }}" for c in range(15))
    loop = """pim_isa.core 15 { pim_isa.loop 100 {
  pim_isa.load {buffer = "x", offset = array<i64: 0, 64>, dst = array<i64: 0>, len = 64 : i64}
  pim_isa.mvm {xbar = 0 : i64, src = array<i64: 0>, rows = 64 : i64, dst = array<i64: 256>, cols = 64 : i64, bits = 4 : i64}
  pim_isa.store {src = array<i64: 256>, buffer = "y", offset = array<i64: 0, 64>, len = 64 : i64}
} }"""
    m = module("pim_isa.partition 0 { " + weights + loop + " }")
    closed = simulate_module(m).latency_s
    stepped = simulate_module(m, step_all=True).latency_s
    assert closed == pytest.approx(stepped, rel=0.01)
    per_load = 32768 * D / CHIP.dram_bandwidth / NS  # 1280 ns
    assert stepped / NS == pytest.approx(15 * 10 * per_load + 90 * mvm_issue(), rel=0.02)


def test_dram_serves_a_transfer_in_the_idle_gaps() -> None:
    # Hand-derived: the channel is busy [0, 10) and [15, 30). A 12 ns transfer ready at 0 is
    # served in the gaps: 5 ns in [10, 15), the other 7 in [30, 37). Booked as one contiguous
    # interval it would end at 42; the 5 ns gap would stay idle.
    from pimdsl.sim.timing_resource import Calendar, fill_both

    cal = Calendar()
    cal.reset(0.0)
    cal.book(0.0, 10.0)
    cal.book(15.0, 15.0)
    assert cal.fill(0.0, 12.0) == 37.0
    assert cal.earliest(0.0, 1.0) == 37.0  # every gap before 37 is used now
    # two links: the transfer ends when the slower is done; the effective start is that end
    # minus the longer of the two service times
    dram, bus = Calendar(), Calendar()
    dram.reset(0.0)
    bus.reset(0.0)
    bus.book(0.0, 20.0)
    assert fill_both(dram, 8.0, bus, 4.0, 0.0) == 24.0 - 8.0


def test_the_channel_keeps_every_booking_of_a_fragmented_busy_period() -> None:
    # 10,000 bookings of 1 ns, 1 ns apart (a saturated channel cut into many gaps), made in time
    # order; then a transfer ready at 0 that needs 5,000 ns. Requests do not reach the channel
    # in time order, so one can ask for a slot long before the latest booking: it may use only
    # the 1 ns gaps [2i + 1, 2i + 2), so it ends with the 5,000th, at 10,000. A calendar that
    # forgot its oldest bookings (capped at 4096 intervals until 8 Dec 2026) served it by 5,000,
    # in the forgotten time, over bookings still in use: the channel carried more than its
    # bandwidth.
    from pimdsl.sim.timing_resource import Calendar

    cal = Calendar()
    cal.reset(0.0)
    for i in range(10_000):
        cal.book(2.0 * i, 1.0)
    assert cal.fill(0.0, 5000.0) == 2 * 4999 + 2


def test_a_partition_faster_than_its_links_is_an_internal_error() -> None:
    # The guard on the calendars (`timing._check_links`): 12.8 MB over compass-s's 12.8 GB/s
    # DRAM channel need 1 ms; a partition simulated in less is a timing-model bug, reported.
    from pimdsl.sim.timing import _check_links

    _check_links(0, 1e6, 12_800_000, 0, CHIP)  # exactly the channel's time: fine
    with pytest.raises(PimError, match="internal error in the timing model: partition 3"):
        _check_links(3, 0.9e6, 12_800_000, 0, CHIP)
    with pytest.raises(PimError, match="over the bus"):
        _check_links(1, 0.9e6, 0, 25_600_000, CHIP)  # 25.6 MB over the 25.6 GB/s bus: 1 ms


def test_a_load_waits_for_the_same_cores_stores_of_a_closed_form_loop() -> None:
    # Two layers on one core, one after the other (no token: program order): loop 1 stores
    # 50 rows of "y" from crossbar 0, loop 2 reads them back into crossbar 1. Loop 2's load of
    # row i must wait for loop 1's store of row i, which only the extrapolated iterations of
    # loop 1 know; the stepped run is the reference. Bounds by hand: crossbar 0's 50 MVMs take
    # >= 50 issue intervals; loop 2 reads each row as it lands, on its own crossbar, so the two
    # overlap: < 100 intervals (were loop 2 to wait for all of loop 1: >= 100).
    def loop(x: int, src: str, dst: str) -> str:
        return f"""pim_isa.loop 50 {{
      pim_isa.load {{buffer = "{src}", offset = array<i64: 0, 16>, dst = array<i64: 0>, len = 16 : i64}}
      {MVM.format(x=x, src=0, dst=64)}
      pim_isa.store {{src = array<i64: 64>, buffer = "{dst}", offset = array<i64: 0, 16>, len = 8 : i64}} }}"""

    m = module(
        f"pim_isa.partition 0 {{ pim_isa.core 0 {{ {loop(0, 'x', 'y')} {loop(1, 'y', 'z')} }} }}"
    )
    closed = simulate_module(m).latency_s
    stepped = simulate_module(m, step_all=True).latency_s
    assert closed == pytest.approx(stepped, rel=0.02)
    assert 50 * mvm_issue() <= stepped / NS < 100 * mvm_issue()


def _events(m: ModuleOp) -> list[tuple[int, int, float, float, str]]:
    events: dict[int, list[tuple[int, int, float, float, str]]] = {0: []}
    simulate_module(m, step_all=True, events=events)
    return events[0]


def _transfer_ns(elements: int) -> float:
    """A DMA of `elements` through DRAM (the slowest link)."""
    return (
        elements
        * D
        / min(CHIP.dram_bandwidth, CHIP.bus_bandwidth, CHIP.local_memory_bandwidth)
        / NS
    )


def test_a_load_waits_for_the_cores_stores_of_what_it_reads_only() -> None:
    # A store of y[0:64] after a long relu; a load of y[1024:1088] (other elements) does not
    # wait for it, a load of y[0:64] waits until it has landed.
    m = module("""  pim_isa.partition 0 { pim_isa.core 0 {
      pim_isa.vrelu {dst = array<i64: 0>, src = array<i64: 0>, len = 1280 : i64}
      pim_isa.store {src = array<i64: 0>, buffer = "y", offset = array<i64: 0>, len = 64 : i64}
      pim_isa.load {buffer = "y", offset = array<i64: 1024>, dst = array<i64: 4096>, len = 64 : i64}
      pim_isa.load {buffer = "y", offset = array<i64: 0>, dst = array<i64: 8192>, len = 64 : i64}
  } }""")
    loads = [s for _, _, s, _, name in _events(m) if name == "pim_isa.load"]
    relu = vector_ns(1280, 2 * 1280)
    landed = relu + _transfer_ns(64) + CHIP.dram_latency_ns
    assert loads[0] == pytest.approx(0.0)
    assert loads[1] == pytest.approx(landed)


def test_a_token_announces_the_stores_before_it_not_the_work_in_flight() -> None:
    # Core 0 stores y[0:64] (ready at once) while ten MVMs run on its crossbar 0, then sends
    # a token; core 1 receives it and loads y. The token leaves when the store has landed
    # (release), not when the MVMs end; core 1's load starts when the token has arrived
    # (acquire), while its relu, which reads no DRAM, does not wait for the token.
    mvms = "\n".join(MVM.format(x=0, src=1024, dst=2048) for _ in range(10))
    m = module(f"""  pim_isa.partition 0 {{
    pim_isa.core 0 {{
      {mvms}
      pim_isa.store {{src = array<i64: 0>, buffer = "y", offset = array<i64: 0>, len = 64 : i64}}
      pim_isa.send {{peer = 1 : i64, src = array<i64: 0>, len = 1 : i64, tag = -1 : i64}}
    }}
    pim_isa.core 1 {{
      pim_isa.recv {{peer = 0 : i64, dst = array<i64: 0>, len = 1 : i64, tag = -1 : i64}}
      pim_isa.vrelu {{dst = array<i64: 512>, src = array<i64: 1024>, len = 64 : i64}}
      pim_isa.load {{buffer = "y", offset = array<i64: 0>, dst = array<i64: 4096>, len = 64 : i64}}
    }}
  }}""")
    ev = _events(m)
    landed = _transfer_ns(64) + CHIP.dram_latency_ns
    token = 1 * D / CHIP.bus_bandwidth / NS
    (load,) = [s for c, _, s, _, name in ev if c == 1 and name == "pim_isa.load"]
    (relu,) = [s for c, _, s, _, name in ev if c == 1 and name == "pim_isa.vrelu"]
    assert landed + token < 10 * mvm_issue()  # the case tells the two rules apart
    assert load == pytest.approx(landed + token)
    assert relu == pytest.approx(0.0)
