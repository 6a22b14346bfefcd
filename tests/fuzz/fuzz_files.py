"""Hostile user files: chip files (TOML/JSON) and `--input` tensors (.npy/.npz)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
from fuzz_base import Base
from fuzz_harness import Case

# --- chip files -----------------------------------------------------------------------------

CHIP_VALUES: list[object] = [
    0,
    -1,
    1,
    2,
    3,
    7,
    1024,
    2**31,
    2**63,
    10**30,
    10**400,
    1e-300,
    1e300,
    0.5,
    "str",
    True,
    [1],
    {"a": 1},
]


def chip_cases(base: Base, root: Path, n: int, seed: int) -> list[Case]:
    from pimdsl.chip import load_preset

    rng = random.Random(f"chip-{seed}")
    fields = list(load_preset("compass-s").to_dict())
    cases = []
    for i in range(n):
        d = base.case_dir(root, f"chip-{i}", ["nn.mlir", "partition.mlir", "net.onnx"])
        data: dict[str, object] = {"base": "compass-s"}
        notes = []
        for _ in range(rng.randrange(1, 4)):
            key = rng.choice(fields + ["unknown_field", "base"])
            value = rng.choice(CHIP_VALUES + ["compass-m"])
            data[key] = value
            notes.append(f"{key}={value!r}"[:60])
        if rng.random() < 0.2:
            data = load_preset("compass-s").to_dict()
            del data[rng.choice(fields)]
            notes.append("a field missing")
        fmt = rng.choice(["json", "toml", "broken", "binary"])
        path = d / ("chip.json" if fmt in ("json", "broken") else "chip.toml")
        if fmt == "json":
            path.write_text(json.dumps(data))
        elif fmt == "toml":
            path.write_text(
                "\n".join(
                    f"{k} = {json.dumps(v)}" for k, v in data.items() if not isinstance(v, dict)
                )
            )
        elif fmt == "broken":
            path.write_text(json.dumps(data)[: rng.randrange(1, 40)] + rng.choice(["", "[" * 5000]))
        else:
            path.write_bytes(bytes(rng.randrange(256) for _ in range(64)))
        notes.append(fmt)
        ir = rng.choice(["nn.mlir", "partition.mlir"])
        if rng.random() < 0.7:
            argv = [
                ir,
                "--chip",
                path.name,
                *rng.choice([["--partition"], ["--lower-to-isa"], []]),
                "--report" if ir == "partition.mlir" else "-t",
                "r.json" if ir == "partition.mlir" else "summary",
                "-o",
                "out.mlir",
            ]
            cases.append(
                Case(
                    "chip",
                    "pim-opt",
                    argv,
                    str(d),
                    [ir, path.name, "net.onnx"],
                    ["r.json"],
                    "; ".join(notes),
                )
            )
        else:
            cases.append(
                Case(
                    "chip",
                    "pim-run",
                    [ir, "--chip", path.name],
                    str(d),
                    [ir, path.name, "net.onnx"],
                    [],
                    "; ".join(notes),
                )
            )
    return cases


# --- .npy inputs ----------------------------------------------------------------------------


def _npy_header(shape: object, descr: str = "<f4", fortran: bool = False) -> bytes:
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": descr, "fortran_order": fortran, "shape": shape}
    )
    return buf.getvalue()


def npy_cases(base: Base, root: Path, n: int, seed: int) -> list[Case]:
    import io

    rng = random.Random(f"npy-{seed}")
    good = np.random.default_rng(seed).standard_normal((1, 3, 6, 6)).astype(np.float32)
    buf = io.BytesIO()
    np.save(buf, good)
    good_bytes = buf.getvalue()
    cases = []
    for i in range(n):
        d = base.case_dir(root, f"npy-{i}", ["nn.mlir", "net.onnx"])
        kind = rng.choice(
            [
                "good",
                "shape",
                "forged",
                "truncated",
                "empty",
                "random",
                "npz-two",
                "npz-one",
                "object",
                "int",
                "nan",
                "fortran",
                "scalar",
                "header-syntax",
                "flip",
            ]
        )
        path = d / ("x.npz" if kind.startswith("npz") else "x.npy")
        if kind == "good":
            path.write_bytes(good_bytes)
        elif kind == "shape":
            np.save(
                path,
                np.zeros(
                    rng.choice([(1, 3, 5, 6), (2, 3, 6, 6), (3, 6, 6), (0, 3, 6, 6)]), np.float32
                ),
            )
        elif kind == "forged":
            shape = rng.choice([(10**6, 3, 6, 6), (2**40,), (10**12, 10**12), (1, 3, 6, 6)])
            path.write_bytes(_npy_header(shape) + b"\0" * rng.randrange(0, 512))
        elif kind == "truncated":
            path.write_bytes(good_bytes[: rng.randrange(len(good_bytes))])
        elif kind == "empty":
            path.write_bytes(b"")
        elif kind == "random":
            path.write_bytes(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))))
        elif kind == "npz-two":
            np.savez(path, a=good, b=good)
        elif kind == "npz-one":
            np.savez(path, a=good)
        elif kind == "object":
            np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
        elif kind == "int":
            np.save(path, good.astype(np.int64))
        elif kind == "nan":
            bad = good.copy()
            bad.flat[rng.randrange(bad.size)] = rng.choice([np.nan, np.inf])
            np.save(path, bad)
        elif kind == "fortran":
            np.save(path, np.asfortranarray(good))
        elif kind == "scalar":
            np.save(path, np.float32(1.0))
        elif kind == "header-syntax":
            path.write_bytes(
                good_bytes.replace(b"'shape': (1, 3, 6, 6)", b"'shape': (1, 3, 6, 6((")
            )
        else:
            data = bytearray(good_bytes)
            data[rng.randrange(10, 128)] = rng.randrange(256)
            path.write_bytes(bytes(data))
        argv = ["nn.mlir", "--input", path.name, "--output", rng.choice(["y.npy", path.name])]
        cases.append(
            Case("npy", "pim-run", argv, str(d), ["nn.mlir", "net.onnx", path.name], [], kind)
        )
    return cases
