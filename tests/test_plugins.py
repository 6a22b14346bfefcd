"""Plugins the xDSL way (docs/extending.md): a package pip-installed from tests/plugin_pkg adds
passes and a target through its `xdsl.universe` entry point, and they run in `pim-opt` and plain
`xdsl-opt` with no change to pimdsl; pimdsl's own entry point lets `xdsl-opt` read every level.

The plugin's `replicate-layer` pass is a user pass that sets replication; the report and the
simulated stats are checked against counts derived by hand.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest
from test_units import NetBuilder
from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.parser import Parser
from xdsl.passes import ModulePass
from xdsl.printer import Printer

from pimdsl.dialects import context

ROOT = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
# one sample of each level's IR, as the lit tests write it
LEVEL_SAMPLES = [
    ROOT / "filecheck" / "dialects" / d / "ops.mlir"
    for d in ("nn", "partition", "crossbar", "pim_isa")
]


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/plugin_pkg installed with pip into a folder of its own (put on PYTHONPATH)."""
    tmp = tmp_path_factory.mktemp("plugin")
    source = tmp / "src"
    shutil.copytree(ROOT / "plugin_pkg", source)  # pip builds in the source folder
    target = tmp / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--target",
            str(target),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    return target


def _env(extra: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if extra is not None:
        env["PYTHONPATH"] = str(extra)
    return env


def _run(
    tool: str, args: list[str], plugin: Path | None, cwd: Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / tool), *args],
        env=_env(plugin),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two 3x3 convs on an 8x8 map: 16 -> 32 -> 16 channels, batch 2.
    On compass-s (256x256 crossbars, 4-bit weights on 1-bit cells: 64 weights per row)
    conv1 is 144 rows x 32 x 4 columns = 1 crossbar, conv2 288 rows x 16 x 4 = 2 crossbars."""
    b = NetBuilder((1, 16, 8, 8))
    module = b.module(b.conv(b.conv(b.x, 32, 3), 16, 3))
    path = tmp_path_factory.mktemp("net") / "net.mlir"
    with path.open("w") as f:
        f.write("builtin.module attributes {pim.batch = 2 : i64} ")
        Printer(stream=f).print_region(module.body)
    return path


def test_the_plugin_entry_point_is_discovered(plugin_path: Path, tmp_path: Path) -> None:
    code = (
        "from importlib.metadata import entry_points; "
        "print(sorted(e.name for e in entry_points(group='xdsl.universe')))"
    )
    found = _run("python", ["-c", code], plugin_path, tmp_path).stdout
    assert "'pim_example_plugin'" in found and "'pimdsl'" in found and "'xdsl'" in found
    alone = _run("python", ["-c", code], None, tmp_path).stdout
    assert "pim_example_plugin" not in alone


@pytest.mark.parametrize("tool", ["pim-opt", "xdsl-opt"])
def test_plugin_pass_and_target(tool: str, plugin_path: Path, net: Path, tmp_path: Path) -> None:
    # by hand: 2 func ops (func.func, func.return), 8 nn ops (4 weights, 2 convs, 2 relus)
    counted = _run(tool, [str(net), "-p", "op-count"], plugin_path, tmp_path)
    assert counted.returncode == 0, counted.stderr
    assert "example.op_count = {func = 2 : i64, nn = 8 : i64}" in counted.stdout
    histogram = _run(tool, [str(net), "-t", "op-histogram"], plugin_path, tmp_path)
    assert histogram.returncode == 0, histogram.stderr
    assert histogram.stdout.split("\n") == [
        "4 nn.weight",
        "2 nn.conv2d",
        "2 nn.relu",
        "1 func.func",
        "1 func.return",
        "",
    ]


def test_without_the_plugin_its_pass_is_unknown(net: Path, tmp_path: Path) -> None:
    run = _run("pim-opt", [str(net), "--op-count"], None, tmp_path)
    assert run.returncode == 1 and "unknown option or pass '--op-count'" in run.stderr


def test_pim_opt_help_lists_plugin_passes(plugin_path: Path, tmp_path: Path) -> None:
    out = _run("pim-opt", ["--help"], plugin_path, tmp_path).stdout
    section = out.split("passes of other installed packages")[1].split("xDSL passes")[0]
    assert "op-count" in section and "replicate-layer" in section
    assert "op-histogram" in out.split("targets (-t):")[1].splitlines()[0]


@pytest.mark.parametrize("sample", LEVEL_SAMPLES, ids=lambda p: p.parent.name)
def test_xdsl_opt_round_trips_every_level(
    sample: Path, tmp_path: Path, parse: Callable[[str], ModuleOp]
) -> None:
    """xdsl-opt (pimdsl's entry point, no plugin) prints each level's IR so that it parses back
    to the same module, in the custom and in the generic form."""
    original = parse(sample.read_text())
    for extra in ([], ["--print-op-generic"]):
        run = _run("xdsl-opt", [str(sample), *extra], None, tmp_path)
        assert run.returncode == 0, run.stderr
        again = parse(run.stdout)
        assert again.is_structurally_equivalent(original), (sample.name, extra)


def test_xdsl_opt_runs_pimdsl_passes(net: Path, tmp_path: Path) -> None:
    run = _run("xdsl-opt", [str(net), "-p", "pim-units"], None, tmp_path)
    # pim-units needs a chip: pimdsl's own error, raised inside xdsl-opt, proves the pass ran
    assert "pim.chip" in run.stderr or "chip" in run.stderr
    chip = tmp_path / "net_chip.mlir"  # pim.chip attached by pim-opt
    assert (
        _run(
            "pim-opt", [str(net), "--chip", "compass-s", "-o", str(chip)], None, tmp_path
        ).returncode
        == 0
    )
    run = _run("xdsl-opt", [str(chip), "-p", "pim-units"], None, tmp_path)
    assert run.returncode == 0, run.stderr
    # one unit per layer: conv1 on 1 crossbar, conv2 on 2 (see `net`)
    assert "pim.units = array<i64: 0, 1>, pim.unit_crossbars = array<i64: 1>" in run.stdout
    assert "pim.units = array<i64: 1, 2>, pim.unit_crossbars = array<i64: 2>" in run.stdout
    run = _run("xdsl-opt", [str(chip), "-t", "summary"], None, tmp_path)  # pimdsl's target
    assert run.returncode == 0 and "2 weight layers (2 conv2d)" in run.stdout, run.stderr


# --- a user pass sets replication -----------------------------------------------------------

CONV_WEIGHTS = 32 * 16 * 3 * 3  # conv1: 32 x 16 x 3 x 3; conv2: 16 x 32 x 3 x 3, the same count


def test_user_pass_sets_replication(plugin_path: Path, net: Path, tmp_path: Path) -> None:
    """`replicate-layer` (the plugin) gives conv1 3 replicas and conv2 2; by hand:
    - crossbars: 3 x 1 + 2 x 2 = 7 (see `net`);
    - MVMs: each window once whatever the replication: 64 windows x (1 + 2 crossbars) x batch 2
      = 384;
    - crossbar writes per inference: (3 + 2) replicas x 4608 weights x 4 bits x 0.1 pJ/bit
      (compass-s) / batch 2 = 4.608 nJ."""
    args = [
        str(net),
        "--chip",
        "compass-s",
        "--partition",
        '--replicate-layer=layer="conv1.weight" replicas=3',
        '--replicate-layer=layer="conv2.weight" replicas=2',
        "--report",
        "report.json",
        "-o",
        "part.mlir",
    ]
    run = _run("pim-opt", args, plugin_path, tmp_path)
    assert run.returncode == 0, run.stderr
    # the IR carries the replication on: lowered without the plugin
    run = _run("pim-opt", ["part.mlir", "--lower-to-isa", "-o", "isa.mlir"], None, tmp_path)
    assert run.returncode == 0, run.stderr
    (row,) = json.loads((tmp_path / "report.json").read_text())["partitions"]
    assert row["replication"] == [3, 2]
    assert row["crossbars"] == 7 == sum(row["core_crossbars"])
    sim = _run("pim-run", ["isa.mlir", "--timing-only", "--stats", "stats.json"], None, tmp_path)
    assert sim.returncode == 0, sim.stderr
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["mvm_count"] == 64 * 3 * 2
    assert stats["energy_breakdown"]["weight_write"] == pytest.approx(
        5 * CONV_WEIGHTS * 4 * 0.1e-12 / 2
    )


def test_isa_tiles_follow_the_replication(net: Path, tmp_path: Path) -> None:
    """The crossbar level holds one tile per crossbar of every replica: 3 of conv1, 2 x 2 of
    conv2 (`--partition='replication=...'`, pimdsl's own option)."""
    args = [
        str(net),
        "--chip",
        "compass-s",
        '--partition=replication="conv1.weight=3 conv2.weight=2"',
        "--partition-to-crossbar",
    ]
    run = _run("pim-opt", args, None, tmp_path)
    assert run.returncode == 0, run.stderr
    module = Parser(context(), run.stdout).parse_module()
    assert isinstance(module, ModuleOp)
    tiles = [op for op in module.walk() if op.name == "crossbar.tile"]
    by_weight = sorted(
        (str(t.properties["weight"]), t.properties["replica"].value.data) for t in tiles
    )
    assert by_weight == [
        ('"conv1.weight"', 0),
        ('"conv1.weight"', 1),
        ('"conv1.weight"', 2),
        ('"conv2.weight"', 0),
        ('"conv2.weight"', 0),
        ('"conv2.weight"', 1),
        ('"conv2.weight"', 1),
    ]


@dataclass(frozen=True)
class Boom(ModulePass):
    """A pass of some plugin that crashes."""

    name: ClassVar[str] = "boom"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        raise RuntimeError("no")


def test_a_failing_plugin_pass_is_named_as_the_plugins(
    net: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from pimdsl.tools.pim_opt import main
    from pimdsl.universe import multiverse

    monkeypatch.setitem(multiverse().all_passes, "boom", lambda: Boom)
    code = main([str(net), "--boom"])
    err = capsys.readouterr().err
    assert code == 1
    assert (
        "the pass 'boom' of an installed plugin package failed on this IR (RuntimeError: no)" in err
    )
