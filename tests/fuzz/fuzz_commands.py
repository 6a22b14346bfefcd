"""Command lines: hostile options and output targets, and random valid option combinations."""

from __future__ import annotations

import os
import random
from pathlib import Path

from fuzz_base import Base
from fuzz_harness import Case

# --- options --------------------------------------------------------------------------------


def options_cases(base: Base, root: Path, n: int, seed: int) -> list[Case]:
    rng = random.Random(f"options-{seed}")
    cases = []
    for i in range(n):
        d = base.case_dir(
            root, f"options-{i}", ["nn.mlir", "partition.mlir", "pim_isa.mlir", "net.onnx"]
        )
        (d / "old.json").write_text('{"keep": true}\n')
        os.link(d / "net.onnx", d / "hard.onnx")
        os.symlink("nn.mlir", d / "link.mlir")
        (d / "folder").mkdir()
        target = rng.choice(
            [
                "out.mlir",
                "",
                "/dev/full",
                "/dev/null",
                "nn.mlir",
                "net.onnx",
                "hard.onnx",
                "link.mlir",
                "folder",
                "nope/out.mlir",
                "old.json",
                "r.json",
            ]
        )
        reads = ["nn.mlir", "partition.mlir", "pim_isa.mlir", "net.onnx", "old.json"]
        choice = rng.randrange(4)
        if choice == 0:  # pim-opt batch / -o / --report
            batch = str(rng.choice([-1, 0, 1, 3, 16, 65536, 65537, 2**63, 10**30, "x"]))
            argv = [
                "nn.mlir",
                "--chip",
                rng.choice(["compass-s", "compass-m", "nope", "folder"]),
                "--batch",
                batch,
                "--partition",
                "--report",
                rng.choice(["r.json", "-", "nn.mlir", "net.onnx", "old.json", ""]),
                "-o",
                target,
            ]
            cases.append(
                Case("options", "pim-opt", argv, str(d), reads, ["r.json"], f"-o {target!r}")
            )
        elif choice == 1:  # ga-group options and its output files
            opts = {
                k: rng.choice(v)
                for k, v in {
                    "population": [0, 1, 2, 6, 10**5, 10**30],
                    "generations": [0, 1, 2, 10**6],
                    "keep": [0, 1, 2, 5, 100],
                    "workers": [0, 1, 2, 10**4],
                    "seed": [-1, 0, 7, 2**70],
                    "patience": [0, 1, 3],
                    "objective": ["latency", "edp", "speed"],
                }.items()
                if rng.random() < 0.5
            }
            opts.setdefault("generations", 2)
            opts.setdefault("population", 6)
            opts.setdefault("keep", 2)
            text = " ".join(f"{k}={v}" for k, v in opts.items())
            if rng.random() < 0.5:
                text += f' trace="{rng.choice(["t.json", "old.json", "net.onnx", "nn.mlir", "", "folder", "/dev/full", "nope/t.json"])}"'
            argv = [
                "nn.mlir",
                "--chip",
                "compass-s",
                "--partition",
                f"--ga-group={text}",
                "-o",
                target,
            ]
            cases.append(
                Case("options", "pim-opt", argv, str(d), reads, ["t.json", "old.json"], text)
            )
        elif choice == 2:  # pim-run on isa: stats and batch
            argv = [
                "pim_isa.mlir",
                *rng.choice([["--timing-only"], []]),
                "--stats",
                rng.choice(
                    ["s.json", "net.onnx", "pim_isa.mlir", "old.json", "", "/dev/full", "folder"]
                ),
                *rng.choice(
                    [
                        [],
                        ["--batch", "1"],
                        ["--batch", "4"],
                        ["--chip", "compass-m"],
                        ["--chip", "compass-s"],
                    ]
                ),
            ]
            cases.append(
                Case("options", "pim-run", argv, str(d), reads, ["s.json"], " ".join(argv))
            )
        else:  # pim-run on nn: output, seed, batch, mode
            argv = [
                "nn.mlir",
                "--output",
                rng.choice(
                    [
                        "y.npy",
                        "nn.mlir",
                        "net.onnx",
                        "hard.onnx",
                        "",
                        "/dev/full",
                        "/dev/null",
                        "folder",
                        "nope/y.npy",
                    ]
                ),
                "--seed",
                str(rng.choice([-1, 0, 3, 2**70])),
                "--batch",
                str(rng.choice([0, 1, 2, 65536 * 2, 10**20])),
                *rng.choice(
                    [[], ["--mode", "quantized"], ["--tolerance", "nan"], ["--compare-onnxruntime"]]
                ),
            ]
            cases.append(Case("options", "pim-run", argv, str(d), reads, [], " ".join(argv)))
    return cases


# --- valid commands: must succeed, and agree with onnxruntime -------------------------------


def valid_cases(base: Base, root: Path, n: int, seed: int) -> list[Case]:
    """Random but valid option combinations: each must end in `ok` (pim-run compares with
    onnxruntime, so a wrong result is a `mismatch`)."""
    rng = random.Random(f"valid-{seed}")
    cases = []
    for i in range(n):
        d = base.case_dir(root, f"valid-{i}", ["net.onnx", "small.toml", "pim_isa.mlir", "nn.mlir"])
        choice = rng.randrange(3)
        if choice == 0:
            strategy = rng.choice(["greedy", "layerwise", "optimal"])
            objective = rng.choice(["latency", "energy", "edp"])
            argv = [
                "net.onnx",
                "--chip",
                rng.choice(["compass-s", "compass-l", "pimcomp-default", "small.toml"]),
                "--batch",
                str(rng.choice([1, 2, 4, 16])),
                f"--partition=strategy={strategy} objective={objective}",
            ]
            if rng.random() < 0.4:
                argv.append(
                    f"--ga-group=seed={rng.randrange(100)} generations=2 population=6 keep=2 "
                    f'objective={objective} trace="t.json"'
                )
            if rng.random() < 0.4:  # --report needs partition-level IR: not with lowering
                argv += ["--lower-to-isa"] + rng.choice([[], ["-t", "pim-json"], ["-t", "pim-asm"]])
            elif rng.random() < 0.5:
                argv += ["--report", "r.json"]
            argv += ["-o", "out.txt"]
            cases.append(
                Case(
                    "valid",
                    "pim-opt",
                    argv,
                    str(d),
                    ["net.onnx", "small.toml"],
                    ["r.json", "t.json"],
                    " ".join(argv[2:]),
                    expect_ok=True,
                )
            )
        elif choice == 1:
            argv = [
                rng.choice(["net.onnx", "nn.mlir", "pim_isa.mlir"]),
                "--compare-onnxruntime",
                "--seed",
                str(rng.randrange(1000)),
                "--output",
                "y.npy",
            ]
            if argv[0] != "pim_isa.mlir":
                argv += ["--batch", str(rng.choice([1, 2, 3]))]
            cases.append(
                Case(
                    "valid",
                    "pim-run",
                    argv,
                    str(d),
                    ["net.onnx", "nn.mlir", "pim_isa.mlir"],
                    [],
                    " ".join(argv),
                    expect_ok=True,
                )
            )
        else:
            argv = [
                "pim_isa.mlir",
                *rng.choice([["--timing-only"], []]),
                "--stats",
                "s.json",
                *rng.choice([[], ["--mode", "quantized"]]),
            ]
            if "--timing-only" in argv and "--mode" in argv:
                argv = argv[: argv.index("--mode")]
            cases.append(
                Case(
                    "valid",
                    "pim-run",
                    argv,
                    str(d),
                    ["pim_isa.mlir", "net.onnx"],
                    ["s.json"],
                    " ".join(argv),
                    expect_ok=True,
                )
            )
    return cases
