"""Seeded generators of hostile inputs: mutated IR at all four levels, mutated ONNX models, chip
files, command-line options and `.npy` inputs. Each generator returns `Case`s whose files are
written into their own folder, so outputs and "the input did not change" are checked per case.

Same seed, same cases: a failure is reproduced by its seed and index.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
from fuzz_harness import Case
from onnx import TensorProto, helper, numpy_helper

LEVELS = ("nn", "partition", "crossbar", "pim_isa")
PIPELINE = {
    "nn": [],
    "partition": ["--partition"],
    "crossbar": ["--partition", "--partition-to-crossbar"],
    "pim_isa": ["--partition", "--lower-to-isa"],
}
SMALL_CHIP = (
    'base = "compass-s"\nname = "fuzz-small"\ncores = 2\ncrossbars_per_core = 2\n'
    "crossbar_rows = 32\ncrossbar_cols = 16\n"
)
HUGE_INTS = [0, -1, 1, 2, 3, 7, 255, 65537, 2**31, 2**63 - 1, 2**63, 2**64, 10**30, 10**400]
ODD_FLOATS = ["0.0", "-1.0", "1e-300", "1e300", "1e308", "1e999", "-0.0", "0.5", "nan", "inf"]


# --- the base model -------------------------------------------------------------------------


def base_onnx(path: Path, seed: int = 0) -> None:
    """A small conv net with weights: Conv 3->8 3x3, Relu, MaxPool, Flatten, Gemm 8*3*3 -> 10."""
    rng = np.random.default_rng(seed)
    inits = [
        numpy_helper.from_array(
            rng.standard_normal((8, 3, 3, 3)).astype(np.float32) * 0.3, "conv.w"
        ),
        numpy_helper.from_array(rng.standard_normal(8).astype(np.float32) * 0.1, "conv.b"),
        numpy_helper.from_array(rng.standard_normal((10, 72)).astype(np.float32) * 0.1, "fc.w"),
        numpy_helper.from_array(rng.standard_normal(10).astype(np.float32) * 0.1, "fc.b"),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "conv.w", "conv.b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("MaxPool", ["r"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p"], ["f"], name="flat"),
        helper.make_node("Gemm", ["f", "fc.w", "fc.b"], ["y"], name="fc", transB=1),
    ]
    graph = helper.make_graph(
        nodes,
        "net",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 6, 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))


class Base:
    """The base files every case copies: net.onnx and its IR at the four levels."""

    def __init__(self, folder: Path, compile_ir: Callable[[list[str], str], None]):
        self.folder = folder
        base_onnx(folder / "net.onnx")
        # below the nn level: a chip small enough that the net needs 4 partitions with cut
        # layers, so pim.piece / pim.accumulate, DRAM loads and stores are in the IR
        (folder / "small.toml").write_text(SMALL_CHIP)
        for level in LEVELS:
            chip = "compass-s" if level == "nn" else "small.toml"
            compile_ir(
                ["net.onnx", "--chip", chip, *PIPELINE[level], "-o", f"{level}.mlir"], str(folder)
            )
            assert (folder / f"{level}.mlir").is_file(), f"cannot build the {level} base"

    def case_dir(self, root: Path, name: str, files: list[str]) -> Path:
        d = root / name
        d.mkdir(parents=True)
        for f in files:
            shutil.copy(self.folder / f, d / f)
        return d


# --- text mutations of IR -------------------------------------------------------------------


def _mutate_text(text: str, rng: random.Random) -> tuple[str, str]:
    lines = text.split("\n")
    kind = rng.choice(
        [
            "truncate",
            "truncate-string",
            "delete-line",
            "dup-line",
            "int",
            "float",
            "utf8",
            "swap-lines",
            "char",
            "pim-attr",
            "nest",
            "rename",
        ]
    )
    if kind == "truncate":
        at = rng.randrange(len(text))
        return text[:at], f"truncate at {at}"
    if kind == "truncate-string":
        quotes = [m.start() for m in re.finditer('"', text)]
        at = rng.choice(quotes) + rng.randrange(1, 70)
        return text[:at], f"truncate inside a string at {at}"
    if kind in ("delete-line", "dup-line", "swap-lines") and len(lines) > 2:
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        if kind == "delete-line":
            del lines[i]
        elif kind == "dup-line":
            lines.insert(i, lines[i])
        else:
            lines[i], lines[j] = lines[j], lines[i]
        return "\n".join(lines), f"{kind} {i} {j}"
    if kind == "int":
        spots = [m for m in re.finditer(r"(?<![\w.%#@])\d+(?![\w.])", text)]
        m = rng.choice(spots)
        value = str(rng.choice(HUGE_INTS))
        return text[: m.start()] + value + text[
            m.end() :
        ], f"int {m.group()} -> {value} at {m.start()}"
    if kind == "float":
        spots = [m for m in re.finditer(r"\d\.\d+e[+-]\d+", text)] or [None]
        m = rng.choice(spots)
        if m is None:
            return text, "no float"
        value = rng.choice(ODD_FLOATS)
        return text[: m.start()] + value + text[m.end() :], f"float -> {value} at {m.start()}"
    if kind == "utf8":
        at = rng.randrange(len(text))
        return text[:at] + "\udcff\udcfe" + text[at:], f"invalid UTF-8 at {at}"
    if kind == "char":
        at = rng.randrange(len(text))
        return text[:at] + rng.choice(',:{}()<>[]"%=x0') + text[
            at + rng.randrange(2) :
        ], f"char at {at}"
    if kind == "pim-attr":
        spots = [
            m
            for m in re.finditer(
                r"(pim\.\w+|span|replication|core_crossbars|crossbars|"
                r"weight_bytes|core|xbar|replica|rows|cols) = ([^,}]+)",
                text,
            )
        ]
        if not spots:
            return text, "no pim attribute"
        m = rng.choice(spots)
        n = rng.randrange(0, 4)
        values = ", ".join(str(rng.choice(HUGE_INTS[:9] + [-5])) for _ in range(n))
        new = rng.choice(
            [
                f"array<i64{': ' + values if values else ''}>",
                f"{rng.choice(HUGE_INTS)} : i64",
                '"x"',
                "[]",
                "{}",
            ]
        )
        return text[: m.start(2)] + new + text[m.end(2) :], f"{m.group(1)} = {new}"
    if kind == "nest":
        depth = rng.choice([200, 3000])
        return text.replace("{", "{" + "[" * depth + "]" * depth + " ", 1), f"nest {depth}"
    names = sorted(set(re.findall(r"%[\w.]+", text)))
    a, b = rng.choice(names), rng.choice(names)
    return text.replace(a, b, 1), f"rename {a} -> {b}"


def ir_cases(base: Base, root: Path, level: str, n: int, seed: int) -> list[Case]:
    rng = random.Random(f"ir-{level}-{seed}")
    source = (base.folder / f"{level}.mlir").read_text()
    cases = []
    for i in range(n):
        text, note = _mutate_text(source, rng)
        d = base.case_dir(root, f"ir-{level}-{i}", ["net.onnx"])
        (d / "in.mlir").write_bytes(text.encode("utf-8", "surrogateescape"))
        if rng.random() < 0.5:
            extra = rng.choice(
                [
                    ["--partition"],
                    ["--lower-to-isa"],
                    ["--partition-to-crossbar"],
                    ["-t", "pim-asm"],
                    ["-t", "pim-json"],
                    ["--partition", "--report", "r.json"],
                    ["--ga-group=generations=2 population=6 keep=2"],
                    ["-t", "summary"],
                    [],
                ]
            )
            argv = ["in.mlir", *extra, "-o", "out.mlir"]
            cases.append(
                Case(
                    f"ir-{level}",
                    "pim-opt",
                    argv,
                    str(d),
                    ["in.mlir", "net.onnx"],
                    ["r.json"],
                    note,
                )
            )
        else:
            extra = rng.choice(
                [
                    [],
                    ["--output", "y.npy"],
                    ["--timing-only", "--stats", "s.json"],
                    ["--stats", "s.json"],
                    ["--mode", "quantized"],
                    ["--batch", "2"],
                ]
            )
            cases.append(
                Case(
                    f"ir-{level}",
                    "pim-run",
                    ["in.mlir", *extra],
                    str(d),
                    ["in.mlir", "net.onnx"],
                    ["s.json"],
                    note,
                )
            )
    return cases


# --- ONNX mutations -------------------------------------------------------------------------


def _mutate_model(model: onnx.ModelProto, rng: random.Random, folder: Path) -> str:
    g = model.graph
    kind = rng.choice(
        [
            "attr",
            "input-dim",
            "dup-output",
            "drop-init",
            "external",
            "opset",
            "op-type",
            "init-dims",
            "gemm-scale",
            "output-name",
            "fold-blowup",
        ]
    )
    if kind == "attr":
        node = rng.choice(list(g.node))
        name = rng.choice(
            ["strides", "pads", "kernel_shape", "group", "dilations", "axis", "transB"]
        )
        value = rng.choice([0, -1, 1, 3, 10**6, 2**40])
        arity = {"strides": 2, "pads": 4, "kernel_shape": 2, "dilations": 2}.get(name)
        attr = helper.make_attribute(name, [value] * arity if arity else value)
        for a in list(node.attribute):
            if a.name == name:
                node.attribute.remove(a)
        node.attribute.append(attr)
        return f"{node.name}.{name} = {value}"
    if kind == "input-dim":
        dim = g.input[0].type.tensor_type.shape.dim[rng.randrange(4)]
        value = rng.choice([0, -3, 7, 10**6, 2**40, 2**62])
        dim.dim_value = value
        return f"input dim = {value}"
    if kind == "dup-output":
        g.node[3].output[0] = g.node[1].output[0]
        return "two nodes write one tensor"
    if kind == "drop-init":
        del g.initializer[rng.randrange(len(g.initializer))]
        return "initializer removed"
    if kind == "external":
        t = g.initializer[rng.randrange(len(g.initializer))]
        t.ClearField("raw_data")
        t.ClearField("float_data")
        t.data_location = TensorProto.EXTERNAL
        e = t.external_data.add()
        e.key, e.value = (
            "location",
            rng.choice(["../../etc/passwd", "missing.bin", "/etc/hostname", "net.onnx"]),
        )
        return f"external data {e.value}"
    if kind == "opset":
        value = rng.choice([0, 1, 7, 99, 10**6])
        model.opset_import[0].version = value
        return f"opset {value}"
    if kind == "op-type":
        node = rng.choice(list(g.node))
        node.op_type = rng.choice(
            ["Unknown", "Softmax", "Sigmoid", "Conv", "Gemm", "Add", "Identity"]
        )
        return f"{node.name} -> {node.op_type}"
    if kind == "init-dims":
        t = g.initializer[rng.randrange(len(g.initializer))]
        t.dims[rng.randrange(len(t.dims))] = rng.choice([0, 1, 5, 10**6])
        return f"initializer {t.name} dims {list(t.dims)}"
    if kind == "gemm-scale":
        node = g.node[4]
        for name in ("alpha", "beta"):
            node.attribute.append(
                helper.make_attribute(name, rng.choice([0.0, 0.5, 1.0, 2.0, -3.0]))
            )
        return "gemm alpha/beta"
    if kind == "fold-blowup":
        dims = [rng.choice([1, 8, 10**5, 10**9]) for _ in range(2)]
        g.initializer.append(numpy_helper.from_array(np.array(dims, np.int64), "big.shape"))
        g.node.insert(
            0,
            helper.make_node(
                rng.choice(["ConstantOfShape", "Tile"]),
                ["big.shape"] if rng.random() < 0.5 else ["fc.b", "big.shape"],
                ["big"],
                name="big",
            ),
        )
        g.node.append(helper.make_node("Identity", ["big"], ["big.out"], name="big.out"))
        g.output.append(helper.make_tensor_value_info("big.out", TensorProto.FLOAT, None))
        return f"folded node of shape {dims}"
    g.output[0].name = "nowhere"
    return "graph output not produced"


def onnx_cases(base: Base, root: Path, n: int, seed: int) -> list[Case]:
    rng = random.Random(f"onnx-{seed}")
    source = onnx.load(str(base.folder / "net.onnx"))
    cases = []
    for i in range(n):
        d = base.case_dir(root, f"onnx-{i}", [])
        model = onnx.ModelProto()
        model.CopyFrom(source)
        if rng.random() < 0.15:
            data = bytearray(source.SerializeToString())
            for _ in range(rng.randrange(1, 6)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            cut = len(data) if rng.random() < 0.5 else rng.randrange(len(data))
            (d / "m.onnx").write_bytes(bytes(data[:cut]))
            note = "bytes flipped/truncated"
        else:
            note = _mutate_model(model, rng, d)
            (d / "m.onnx").write_bytes(model.SerializeToString())
        if rng.random() < 0.5:
            extra = rng.choice(
                [
                    [],
                    ["--chip", "compass-s", "--partition"],
                    ["--chip", "compass-s", "--lower-to-isa"],
                ]
            )
            cases.append(
                Case(
                    "onnx",
                    "pim-opt",
                    ["m.onnx", *extra, "-o", "out.mlir"],
                    str(d),
                    ["m.onnx"],
                    [],
                    note,
                )
            )
        else:
            extra = rng.choice([["--compare-onnxruntime"], ["--output", "y.npy"], ["--batch", "3"]])
            cases.append(Case("onnx", "pim-run", ["m.onnx", *extra], str(d), ["m.onnx"], [], note))
    return cases


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
