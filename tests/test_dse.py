"""pim-dse: the same table from a process pool and a Dask cluster, resumption, values against
`pim-opt --partition --report` (another code path), spec errors, and the result schemas."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pimdsl.tools.pim_dse import main

SPEC = """\
models = ["squeezenet1_1", "mlp"]
batches = [1, 4]
strategies = ["greedy", "optimal", "ga"]
objectives = ["latency", "edp"]

[[chips]]
preset = "compass-s"

[[chips]]
base = "compass-s"
vary = { cores = [8] }

[ga]
population = 12
generations = 3
keep = 4
seeds = [1]
"""
# per (model, chip, batch): greedy, optimal x 2 objectives, ga x 2 objectives
POINTS = 2 * 2 * 2 * (1 + 2 + 2)
TABLE_FILES = ("results.csv", "results.jsonl", "results.parquet", "sweep.json")


@pytest.fixture(scope="module")
def spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("dse") / "spec.toml"
    path.write_text(SPEC)
    return path


@pytest.fixture(scope="module")
def pool_run(spec: Path) -> Path:
    out = spec.parent / "pool"
    assert (
        main(
            [str(spec), "-o", str(out), "-j", "2", "--cache", str(spec.parent / "cache-pool"), "-q"]
        )
        == 0
    )
    return out


def rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]


def run_on_dask(spec: Path, out: Path, cache: Path) -> None:
    """The sweep on a Dask LocalCluster started here, with its own cache folder (the cluster
    computes every span table itself)."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
    ) as cluster:
        args = [str(spec), "-o", str(out), "--scheduler", cluster.scheduler_address]
        assert main([*args, "--cache", str(cache), "-q"]) == 0


def assert_same_tables(a: Path, b: Path) -> None:
    for name in TABLE_FILES:
        if (a / name).exists() or (b / name).exists():
            assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_pool_and_dask_give_byte_identical_tables(spec: Path, pool_run: Path) -> None:
    out = spec.parent / "dask"
    run_on_dask(spec, out, spec.parent / "cache-dask")
    assert len(rows(pool_run)) == POINTS
    assert_same_tables(pool_run, out)


def test_serial_run_from_the_cache_gives_the_same_table(spec: Path, pool_run: Path) -> None:
    out = spec.parent / "serial"
    assert (
        main(
            [str(spec), "-o", str(out), "-j", "1", "--cache", str(spec.parent / "cache-pool"), "-q"]
        )
        == 0
    )
    assert (out / "results.csv").read_bytes() == (pool_run / "results.csv").read_bytes()
    times = [json.loads(line) for line in (out / "times.jsonl").read_text().splitlines()]
    assert {t["table_cache"] for t in times} == {"hit"}


def test_a_rerun_skips_finished_points(spec: Path, pool_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    lines = (pool_run / "results.jsonl").read_text().splitlines(keepends=True)
    # two points lost, the last line cut short as by an interrupt
    (out / "results.jsonl").write_text("".join(lines[2:-1]) + lines[-1][:20])
    assert main([str(spec), "-o", str(out), "-j", "1", "--no-cache", "-q"]) == 0
    times = [json.loads(line) for line in (out / "times.jsonl").read_text().splitlines()]
    assert sum(t["points"] for t in times) == 3
    assert (out / "results.csv").read_bytes() == (pool_run / "results.csv").read_bytes()
    assert main([str(spec), "-o", str(out), "-j", "1", "--no-cache", "-q"]) == 0
    times = (out / "times.jsonl").read_text().splitlines()
    assert len(times) <= 3  # nothing ran the second time


def _report(tmp_path: Path, model: str, chip: str, batch: int, passes: list[str]) -> dict:
    from pimdsl.tools import pim_opt

    report = tmp_path / f"report-{len(list(tmp_path.iterdir()))}.json"
    assert (
        pim_opt.main(
            [
                "--model",
                model,
                "--chip",
                chip,
                "--batch",
                str(batch),
                *passes,
                "--report",
                str(report),
                "-o",
                str(tmp_path / "out.mlir"),
            ]
        )
        == 0
    )
    return json.loads(report.read_text())


@pytest.mark.parametrize(
    ("strategy", "objective", "passes"),
    [
        ("optimal", "edp", ["--partition=strategy=optimal objective=edp"]),
        (
            "ga",
            "edp",
            ["--partition", "--ga-group=objective=edp seed=1 population=12 generations=3 keep=4"],
        ),
    ],
)
def test_a_point_equals_pim_opt_report(
    pool_run: Path, tmp_path: Path, strategy: str, objective: str, passes: list[str]
) -> None:
    chip = tmp_path / "small.toml"
    chip.write_text('base = "compass-s"\ncores = 8\n')
    row = next(
        r
        for r in rows(pool_run)
        if r["model"] == "squeezenet1_1"
        and r["batch"] == 4
        and r["chip"] == "compass-s[cores=8]"
        and r["strategy"] == strategy
        and r["objective"] == objective
    )
    report = _report(tmp_path, "squeezenet1_1", str(chip), 4, passes)
    t = report["totals"]
    assert row["throughput_ips"] == pytest.approx(t["throughput_ips"], rel=1e-12)
    assert row["energy_j"] == pytest.approx(t["energy_j"], rel=1e-12)
    assert row["edp"] == pytest.approx(t["edp"], rel=1e-12)
    assert row["dram_bytes"] == t["dram_bytes"] and row["partitions"] == t["partitions"]
    spans = [p["span"] for p in report["partitions"]]
    assert row["bounds"] == " ".join(str(b) for b in [0] + [s[1] for s in spans])
    assert [p["span"] for p in row["partition_costs"]] == spans


def test_chip_columns_by_hand(pool_run: Path) -> None:
    # compass-s: 9 crossbars of 256 x 256 one-bit cells per core; 1.125 MB at 16 cores
    small = next(r for r in rows(pool_run) if r["chip"] == "compass-s[cores=8]")
    assert (small["chip_cores"], small["chip_crossbars"]) == (8, 72)
    assert small["chip_capacity_bytes"] == 8 * 9 * 256 * 256 // 8
    full = next(r for r in rows(pool_run) if r["chip"] == "compass-s")
    assert full["chip_capacity_bytes"] == int(1.125 * 2**20)


def test_results_validate_against_their_schemas(pool_run: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    from pimdsl import schema

    for row in rows(pool_run):
        jsonschema.validate(row, schema.load("sweep-row"))
    manifest = json.loads((pool_run / "sweep.json").read_text())
    jsonschema.validate(manifest, schema.load("sweep"))
    assert manifest["points"] == manifest["finished"] == POINTS
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**rows(pool_run)[0], "latency_s": None}, schema.load("sweep-row"))


def test_csv_holds_the_json_rows(pool_run: Path) -> None:
    import csv

    with (pool_run / "results.csv").open() as f:
        table = list(csv.DictReader(f))
    by_key = {r["key"]: r for r in rows(pool_run)}
    assert [r["key"] for r in table] == sorted(by_key)
    for r in table:
        assert float(r["latency_s"]) == by_key[r["key"]]["latency_s"]  # repr round-trips


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        (
            'models = ["mlp"]\nbatchs = [1]\n[[chips]]\npreset = "compass-s"\n',
            ":2",
            "unknown key 'batchs'. Did you mean 'batches'?",
        ),
        (
            'models = ["resnet19"]\n[[chips]]\npreset = "compass-s"\n',
            ":1",
            "Did you mean 'resnet18'?",
        ),
        (
            'models = ["mlp"]\n[[chips]]\npreset = "compass-s"\n[[chips]]\nbase = "compass-s"\n'
            "vary = { cores = [0] }\n",
            ":6",
            "'cores' must be positive",
        ),
        (
            'models = ["mlp"]\nstrategies = ["greedy", "gaa"]\n[[chips]]\npreset = "compass-s"\n',
            ":2",
            "unknown value 'gaa'",
        ),
        ('models = ["mlp"]\n[[chips]]\npreset = "compass-x"\n', ":3", "unknown chip preset"),
        ('models = ["mlp"]\nbatches = [1,, 2]\n', ":2", "not valid TOML"),
        ('models = ["mlp"]\n', "spec.toml", "no [[chips]] entry"),
        (
            'models = ["mlp"]\n[[chips]]\npreset = "compass-s"\n[ga]\npopulation = 4\nkeep = 8\n',
            ":4",
            "keep",
        ),
    ],
)
def test_spec_errors_name_the_line_and_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, where: str, words: str
) -> None:
    path = tmp_path / "spec.toml"
    path.write_text(text)
    assert main([str(path), "-o", str(tmp_path / "out"), "-j", "1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("pim-dse: error: ") and "Traceback" not in err
    assert f"{path}{where}" in err or (where == "spec.toml" and str(path) in err), err
    assert words in err, err
    assert not (tmp_path / "out").exists()


def test_onnx_files_and_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    from pimdsl.tools.opt_driver import cached_model

    shutil.copy(cached_model("mlp"), tmp_path / "net.onnx")
    (tmp_path / "spec.toml").write_text(
        'models = ["net.onnx"]\nbatches = [2]\n[[chips]]\npreset = "compass-s"\n'
    )
    assert main([str(tmp_path / "spec.toml"), "--list"]) == 0
    out = capsys.readouterr().out.split()
    assert out[1:5] == ["net", "compass-s", "b2", "greedy"]


def test_pareto_front_by_hand() -> None:
    from pimdsl.dse.plots import pareto_front

    # (energy, throughput): b beats a (less energy, more throughput); d is beaten by c
    pts = [(2.0, 10.0), (1.0, 12.0), (3.0, 30.0), (4.0, 25.0), (0.5, 5.0)]
    assert pareto_front(pts) == [4, 1, 2]


def test_plots_are_written(pool_run: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from pimdsl.dse.plots import FILES, write_plots

    paths = write_plots(rows(pool_run), tmp_path)
    assert [p.name for p in paths] == list(FILES)
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)


def test_simulate_stage_equals_pim_run_stats(tmp_path: Path) -> None:
    from pimdsl.tools import pim_opt, pim_run

    (tmp_path / "spec.toml").write_text(
        'models = ["mlp"]\nbatches = [2]\nstages = ["simulate"]\n[[chips]]\npreset = "compass-s"\n'
    )
    assert (
        main(
            [
                str(tmp_path / "spec.toml"),
                "-o",
                str(tmp_path / "out"),
                "-j",
                "1",
                "--no-cache",
                "-q",
            ]
        )
        == 0
    )
    (row,) = rows(tmp_path / "out")
    lowered, stats = tmp_path / "lowered.mlir", tmp_path / "stats.json"
    assert (
        pim_opt.main(
            [
                "--model",
                "mlp",
                "--chip",
                "compass-s",
                "--batch",
                "2",
                "--partition",
                "--lower-to-isa",
                "-o",
                str(lowered),
            ]
        )
        == 0
    )
    assert pim_run.main([str(lowered), "--timing-only", "--stats", str(stats)]) == 0
    sim = json.loads(stats.read_text())
    assert row["sim_latency_s"] == pytest.approx(sim["latency_s"], rel=1e-12)
    assert row["sim_energy_j"] == pytest.approx(sim["energy_j"], rel=1e-12)
    assert row["isa_ops"] > 0
    header = (tmp_path / "out" / "results.csv").read_text().splitlines()[0].split(",")
    assert header[-5:] == [
        "isa_ops",
        "sim_latency_s",
        "sim_throughput_ips",
        "sim_energy_j",
        "error",
    ]


def test_the_example_sweep_on_a_pool_and_on_dask(tmp_path: Path) -> None:
    """The issue's acceptance run: examples/sweep.toml (3 zoo networks x 4 chips x 2 batches x 3
    strategies) on the default pool and on a Dask LocalCluster: byte-identical tables."""
    example = Path(__file__).parent.parent / "examples" / "sweep.toml"
    pool = tmp_path / "pool"
    assert main([str(example), "-o", str(pool), "--cache", str(tmp_path / "cache-pool"), "-q"]) == 0
    assert len(rows(pool)) == 3 * 4 * 2 * 3
    run_on_dask(example, tmp_path / "dask", tmp_path / "cache-dask")
    assert_same_tables(pool, tmp_path / "dask")
