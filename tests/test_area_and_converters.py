"""ADC/DAC costs that follow the chip's bit widths, and the area model.

- the presets, at their own adc_bits, keep today's MVM latency and ADC energy (hand-derived);
- ADC energy doubles per bit (Walden), ADC time grows linearly (SAR), in the chip's formulas,
  the cost model and the simulator alike (the simulator's ADC energy scales by exactly 2^-2
  from 8 to 6 bits; a chip whose adc_pj is quoted at 6 bits costs the same as one quoted at 8);
- area per component against hand-computed numbers; `-t summary`, `--report` and `--stats`
  carry it (the JSON schemas are checked in test_schemas.py).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from pimdsl.area import chip_area
from pimdsl.chip import load_chip


def test_presets_keep_todays_numbers() -> None:
    for name in ("compass-s", "compass-m", "compass-l"):
        chip = load_chip(name)
        assert chip.adc_conversion_pj == 1.0 and chip.adc_latency_ns == 200.0
        assert chip.mvm_latency_ns == 200 + 4 * 200 + 200 + 200 + 200  # PIMCOMP's formula
    chip = load_chip("pimcomp-default")
    assert chip.adc_conversion_pj == 1.135
    assert chip.mvm_latency_ns == 200 + 16 * 200 + 200 + 200 + 200


def test_adc_scaling() -> None:
    s = load_chip("compass-s")
    six = s.replace(adc_bits=6)
    assert six.adc_conversion_pj == 0.25 and six.adc_latency_ns == 150.0
    assert six.mvm_latency_ns == 1550.0
    ten = s.replace(adc_bits=10)
    assert ten.adc_conversion_pj == 4.0 and ten.adc_latency_ns == 250.0
    # the reference resolution is what the figures are quoted at
    quoted_at_6 = s.replace(adc_bits=6, adc_ref_bits=6, adc_pj=0.25, mvm_adc_ns=150.0)
    assert quoted_at_6.adc_conversion_pj == six.adc_conversion_pj
    assert quoted_at_6.mvm_latency_ns == six.mvm_latency_ns
    assert "adc_ref_bits" not in s.to_dict() and quoted_at_6.to_dict()["adc_ref_bits"] == 6


@pytest.fixture(scope="module")
def mlp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from pimdsl.models import save_model

    return save_model("mlp", tmp_path_factory.mktemp("mlp") / "mlp.onnx", seed=0)


def test_cost_model_and_simulator_follow_adc_bits(mlp: Path) -> None:
    from pimdsl.accuracy import compile_network
    from pimdsl.report import report_data
    from pimdsl.sim.timing import simulate_module

    s = load_chip("compass-s")
    six = s.replace(adc_bits=6)
    sim = {
        c.adc_bits: simulate_module(compile_network(mlp, c, "pim_isa", 2)).to_json()
        for c in (s, six)
    }
    adc8, adc6 = (sim[b]["energy_breakdown"]["adc"] for b in (8, 6))
    assert adc8 > 0 and adc6 == pytest.approx(adc8 / 4, rel=1e-12)
    for key in ("mvm", "shift_add", "dram"):
        assert sim[6]["energy_breakdown"][key] == sim[8]["energy_breakdown"][key]
    assert sim[6]["latency_s"] < sim[8]["latency_s"]  # each MVM's ADC phase is 50 ns shorter

    cost = {
        c.adc_bits: report_data(compile_network(mlp, c, "partition", 2))["totals"] for c in (s, six)
    }
    assert cost[6]["energy_j"] < cost[8]["energy_j"]
    same = s.replace(adc_bits=6, adc_ref_bits=6, adc_pj=0.25, mvm_adc_ns=150.0)
    assert report_data(compile_network(mlp, same, "partition", 2))["totals"] == cost[6]


def test_area_by_hand() -> None:
    a = chip_area(load_chip("compass-s"))
    um2 = a.per_core_um2
    assert um2["crossbar_cells"] == pytest.approx(9 * 256 * 256 * 0.15)
    assert um2["adcs"] == pytest.approx(9 * 300.0)
    assert um2["dacs"] == pytest.approx(9 * 256 * 0.042)
    assert um2["local_memory"] == pytest.approx(65536 * 0.85)
    assert um2["vector_unit"] == 1008.0 and um2["bus"] == 22500.0
    core = 88473.6 + 2700 + 96.768 + 55705.6 + 1008 + 22500
    assert a.total_mm2 == pytest.approx(16 * core / 1e6)
    wider = chip_area(load_chip("compass-s").replace(adc_bits=10, dac_bits=2))
    assert wider.per_core_um2["adcs"] == pytest.approx(4 * um2["adcs"])
    assert wider.per_core_um2["dacs"] == pytest.approx(2 * um2["dacs"])
    m, big = chip_area(load_chip("compass-m")), chip_area(load_chip("compass-l"))
    assert big.total_mm2 == pytest.approx(36 / 16 * m.total_mm2)  # same core, more of them


def test_summary_and_report_show_the_area(mlp: Path) -> None:
    from pimdsl.accuracy import compile_network
    from pimdsl.report import report_data
    from pimdsl.summary import emit_summary

    module = compile_network(mlp, load_chip("compass-s"), "partition", 2)
    out = io.StringIO()
    emit_summary(module, out)
    area = chip_area(load_chip("compass-s"))
    assert f"area        {area.total_mm2:.3g} mm2" in out.getvalue()
    assert report_data(module)["area"]["total_mm2"] == area.total_mm2
