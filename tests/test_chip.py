"""The chip model: presets, file loading, validation and the IR attribute round trip.

Expected numbers are derived by hand from the papers, not from the code under test:
COMPASS (DATE 2025) chips S/M/L are 16x9, 16x16 and 36x16 crossbars of 256x256 one-bit SRAM
cells, i.e. 1.125 MB, 2 MB and 4.5 MB; PIMCOMP-NN's default template is 136 cores x 64
crossbars of 128x128 two-bit cells.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from xdsl.context import Context
from xdsl.dialects.builtin import Builtin, DictionaryAttr, IntegerAttr, ModuleOp, StringAttr, i64
from xdsl.parser import Parser

from pimdsl import module_attrs
from pimdsl.chip import Chip, from_attr, from_dict, load_chip, load_preset, preset_names
from pimdsl.errors import PimError

MB = 2**20  # the paper's MB: 1.125 MB = 9 x 16 x 256 x 256 bits

# name -> (cores, crossbars per core, capacity in bytes), worked out by hand.
PAPER_CHIPS = {
    "compass-s": (16, 9, 1_179_648),  # 16*9*256*256 bits / 8 = 1.125 MB
    "compass-m": (16, 16, 2_097_152),  # 16*16*65536 / 8 = 2 MB
    "compass-l": (36, 16, 4_718_592),  # 36*16*65536 / 8 = 4.5 MB
    "pimcomp-default": (136, 64, 35_651_584),  # 136*64*128*128*2 bits / 8 = 34 MB
}


def test_every_preset_is_listed() -> None:
    assert set(preset_names()) == set(PAPER_CHIPS)


@pytest.mark.parametrize("name", sorted(PAPER_CHIPS))
def test_preset_structure_and_capacity(name: str) -> None:
    chip = load_chip(name)
    cores, crossbars, capacity = PAPER_CHIPS[name]
    assert chip.name == name
    assert (chip.cores, chip.crossbars_per_core) == (cores, crossbars)
    assert chip.total_crossbars == cores * crossbars
    assert chip.capacity_bytes == capacity


def test_compass_capacities_in_paper_units() -> None:
    assert load_preset("compass-s").capacity_bytes / MB == 1.125
    assert load_preset("compass-m").capacity_bytes / MB == 2.0
    assert load_preset("compass-l").capacity_bytes / MB == 4.5


@pytest.mark.parametrize("name", ["compass-s", "compass-m", "compass-l"])
def test_compass_facts(name: str) -> None:
    chip = load_preset(name)
    assert (chip.crossbar_rows, chip.crossbar_cols, chip.cell_bits) == (256, 256, 1)
    assert (chip.weight_bits, chip.act_bits) == (4, 4)
    assert chip.local_memory_bytes == 64 * 1024
    # per-core power: vector 22.8 + local memory 18.0 + control 8.0 mW
    assert chip.static_power_mw_per_core == pytest.approx(48.8)
    # a 4-bit weight spans four 1-bit columns; 256 / 4 = 64 output channels per crossbar
    assert chip.cols_per_weight == 4
    assert chip.weights_per_crossbar_row == 64
    # PIMCOMP's MVM: read 200 + 4 input bits x 200 + ADC 200 + shift-add 200 + write 200 ns
    assert chip.mvm_latency_ns == 1600.0


def test_pimcomp_default_slicing() -> None:
    chip = load_preset("pimcomp-default")
    assert chip.cols_per_weight == 8  # 16-bit weights over 2-bit cells
    assert chip.weights_per_crossbar_row == 16  # 128 columns / 8
    assert chip.input_steps == 16  # 16-bit activations through 1-bit DACs


# --- files ----------------------------------------------------------------------------------


def test_toml_file_with_base_override(tmp_path: Path) -> None:
    path = tmp_path / "small.toml"
    path.write_text('base = "compass-s"\nname = "tiny"\ncores = 2\ncrossbars_per_core = 4\n')
    chip = load_chip(str(path))
    assert (chip.name, chip.cores, chip.crossbars_per_core) == ("tiny", 2, 4)
    assert chip.crossbar_rows == 256  # from the base
    assert chip.capacity_bytes == 2 * 4 * 256 * 256 / 8


def test_json_file_with_base_override(tmp_path: Path) -> None:
    path = tmp_path / "chip.json"
    path.write_text(json.dumps({"base": "compass-m", "dram_bandwidth": 25.6e9}))
    chip = load_chip(str(path))
    assert chip.dram_bandwidth == 25.6e9
    assert chip.cores == 16 and chip.crossbars_per_core == 16


def test_full_toml_file_equals_preset(tmp_path: Path) -> None:
    preset = load_preset("compass-l")
    lines = []
    for key, value in preset.to_dict().items():
        lines.append(f"{key} = {json.dumps(value)}")  # JSON scalars are valid TOML scalars
    path = tmp_path / "l.toml"
    path.write_text("\n".join(lines) + "\n")
    assert load_chip(str(path)) == preset


def test_json_ints_given_as_floats_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"base": "compass-s", "cores": 8.0}))
    chip = load_chip(str(path))
    assert chip.cores == 8 and isinstance(chip.cores, int)


# --- bad input: PimError naming the field ---------------------------------------------------


def _write(tmp_path: Path, text: str, suffix: str = ".toml") -> str:
    path = tmp_path / f"chip{suffix}"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('base = "compass-s"\ncores = -4\n', ["cores", "positive", "-4"]),
        ('base = "compass-s"\ncores = 0\n', ["cores", "positive"]),
        ('base = "compass-s"\ncrossbar_rows = "many"\n', ["crossbar_rows", "number"]),
        ('base = "compass-s"\ncores = 2.5\n', ["cores", "whole number"]),
        ('base = "compass-s"\ncores = true\n', ["cores", "number"]),
        ('base = "compass-s"\ncroes = 4\n', ["croes", "unknown"]),
        ('base = "compass-s"\ndram_bandwidth = -1.0\n', ["dram_bandwidth"]),
        ('base = "compass-s"\nact_bits = 5\ndac_bits = 2\n', ["act_bits", "dac_bits"]),
        ('base = "compass-s"\ncell_bits = 8\n', ["cell_bits", "weight_bits"]),
        ('base = "compass-s"\ncrossbar_cols = 2\n', ["columns", "2"]),
        ('base = "compass-q"\n', ["compass-q", "unknown chip preset"]),
        ('name = "x"\ncores = 4\n', ["missing", "crossbar_rows"]),
        ("cores = [\n", ["not valid TOML"]),
    ],
)
def test_bad_chip_files(tmp_path: Path, text: str, words: list[str]) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(PimError) as info:
        load_chip(path)
    message = str(info.value)
    for word in words:
        assert word in message, message
    assert "\n" not in message  # one paragraph


def test_bad_json(tmp_path: Path) -> None:
    with pytest.raises(PimError, match="not valid JSON"):
        load_chip(_write(tmp_path, "{cores: 4", ".json"))


def test_missing_file_and_bad_suffix(tmp_path: Path) -> None:
    with pytest.raises(PimError, match="does not exist"):
        load_chip(str(tmp_path / "nope.toml"))
    with pytest.raises(PimError, match=r"\.toml or \.json"):
        load_chip(_write(tmp_path, "cores = 4", ".yaml"))


def test_unknown_preset_lists_the_presets() -> None:
    with pytest.raises(PimError) as info:
        load_chip("compass-xl")
    assert "compass-xl" in str(info.value) and "compass-s" in str(info.value)


def test_replace_validates() -> None:
    chip = load_preset("compass-s")
    assert chip.replace(cores=4).cores == 4
    with pytest.raises(PimError, match="cores"):
        chip.replace(cores=0)


def test_from_dict_reports_its_source() -> None:
    with pytest.raises(PimError, match="my source"):
        from_dict({"name": "x"}, source="my source")


# --- the IR attribute -----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PAPER_CHIPS))
def test_attr_round_trip(name: str) -> None:
    chip = load_preset(name)
    assert from_attr(chip.to_attr()) == chip


@pytest.mark.parametrize("name", sorted(PAPER_CHIPS))
def test_attr_round_trip_through_text(name: str) -> None:
    """Print the module attribute, parse the text back: the chip survives the .mlir file."""
    chip = load_preset(name)
    module = ModuleOp([])
    module_attrs.set_chip(module, chip)
    module_attrs.set_batch(module, 8)
    ctx = Context()
    ctx.load_dialect(Builtin)
    parsed = Parser(ctx, str(module)).parse_module()
    assert module_attrs.get_chip(parsed) == chip
    assert module_attrs.get_batch(parsed) == 8


def test_from_attr_rejects_bad_attributes() -> None:
    with pytest.raises(PimError, match="dictionary"):
        from_attr(StringAttr("compass-s"))
    entries = dict(load_preset("compass-s").to_attr().data)
    entries["cores"] = IntegerAttr(0, i64)
    with pytest.raises(PimError, match="cores"):
        from_attr(DictionaryAttr(entries))


def test_module_without_chip() -> None:
    module = ModuleOp([])
    assert module_attrs.get_chip(module, required=False) is None
    with pytest.raises(PimError, match="--chip"):
        module_attrs.get_chip(module)
    assert module_attrs.get_batch(module) == 1


def test_chip_is_frozen() -> None:
    chip = load_preset("compass-s")
    with pytest.raises(AttributeError):
        chip.cores = 3  # type: ignore[misc]
    assert isinstance(chip, Chip)


# --- review findings (A2, A4, B3, C1, C2, C5) -----------------------------------------------


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('base = "compass-s"\nmvm_read_ns = nan\n', "mvm_read_ns"),
        ('base = "compass-s"\nclock_hz = inf\n', "clock_hz"),
        ('base = "compass-s"\ndram_pj_per_byte = -inf\n', "dram_pj_per_byte"),
    ],
)
def test_nan_and_inf_are_rejected_naming_field_and_file(
    tmp_path: Path, text: str, field: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(PimError) as info:
        load_chip(path)
    message = str(info.value)
    assert field in message and "finite" in message and path in message, message


def test_value_errors_name_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, 'base = "compass-s"\ncores = -3\n')
    with pytest.raises(PimError, match=rf"^chip file '{path}': field 'cores' must be positive"):
        load_chip(path)
    path = _write(tmp_path, 'base = "compass-xl"\n')
    with pytest.raises(PimError) as info:
        load_chip(path)
    assert path in str(info.value) and "compass-xl" in str(info.value)


def test_integer_field_beyond_i64_is_a_clear_error(tmp_path: Path) -> None:
    path = _write(tmp_path, 'base = "compass-s"\ncores = 100000000000000000000\n')
    with pytest.raises(PimError, match="'cores' is too large"):
        load_chip(path)


def test_name_must_be_a_string(tmp_path: Path) -> None:
    with pytest.raises(PimError, match="'name' must be a string"):
        load_chip(_write(tmp_path, 'base = "compass-s"\nname = 5\n'))


@pytest.mark.parametrize("text", ["[1, 2]", '"compass-s"', "3"])
def test_json_top_level_must_be_an_object(tmp_path: Path, text: str) -> None:
    with pytest.raises(PimError, match="top level must be a table"):
        load_chip(_write(tmp_path, text, ".json"))


def test_name_defaults_to_the_file_stem(tmp_path: Path) -> None:
    path = tmp_path / "tiny.toml"
    path.write_text('base = "compass-s"\ncores = 1\n')
    chip = load_chip(str(path))
    assert chip.name == "tiny" and chip.cores == 1
    full = tmp_path / "full.json"
    full.write_text(
        json.dumps({k: v for k, v in load_preset("compass-m").to_dict().items() if k != "name"})
    )
    assert load_chip(str(full)).name == "full"
    named = tmp_path / "named.toml"
    named.write_text('base = "compass-s"\nname = "mine"\n')
    assert load_chip(str(named)).name == "mine"


def test_a_folder_is_not_a_chip(tmp_path: Path) -> None:
    with pytest.raises(PimError, match="is a folder"):
        load_chip(str(tmp_path))


def test_short_chip_attribute_is_a_preset_and_its_changes(
    parse: Callable[[str], ModuleOp],
) -> None:
    """`pim.chip = {base = "compass-s", cores = 4}` in IR: compass-s with 4 cores (issue 14)."""
    from pimdsl.module_attrs import get_chip

    short = parse('builtin.module attributes {pim.chip = {base = "compass-s", cores = 4 : i64}} {}')
    chip = get_chip(short)
    assert chip is not None
    assert chip.cores == 4 and chip.name == "compass-s-modified"
    # every other field is the preset's (compass-s: 9 crossbars of 256 x 256 per core)
    assert (chip.crossbars_per_core, chip.crossbar_rows, chip.crossbar_cols) == (9, 256, 256)
    assert chip.replace(cores=16, name="compass-s", description="") == load_preset(
        "compass-s"
    ).replace(description="")
    plain = parse('builtin.module attributes {pim.chip = {base = "compass-s"}} {}')
    assert get_chip(plain) == load_preset("compass-s")
    with pytest.raises(PimError, match="unknown chip preset 'compass-x' in `base`"):
        get_chip(parse('builtin.module attributes {pim.chip = {base = "compass-x"}} {}'))


def test_the_pimcomp_logical_example_chip() -> None:
    """examples/chips/pimcomp-logical.toml: pimcomp-default with one 16-bit column per weight
    and 144 cores: 144 x 64 x 128 x 128 x 16 bits = 288 MiB, 128 weights per crossbar row."""
    chip = load_chip(str(Path(__file__).parent.parent / "examples/chips/pimcomp-logical.toml"))
    assert (chip.name, chip.cores, chip.cell_bits) == ("pimcomp-logical", 144, 16)
    assert chip.capacity_bytes == 288 * 2**20
    assert chip.weights_per_crossbar_row == 128
    assert chip.mvm_per_bit_ns == load_chip("pimcomp-default").mvm_per_bit_ns
