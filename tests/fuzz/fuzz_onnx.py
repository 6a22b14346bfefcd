"""Mutated ONNX models: attributes, dimensions, writers, external data, opsets, op types, bytes."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import onnx
from fuzz_base import Base
from fuzz_harness import Case
from onnx import TensorProto, helper, numpy_helper

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
