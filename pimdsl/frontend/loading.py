"""Open an ONNX model for import: the graph without weight payloads, weights on demand,
static input shapes, and ONNX shape inference on a weight-free copy."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np
import onnx
from onnx import numpy_helper

from pimdsl.errors import PimError
from pimdsl.frontend.wire import (
    KEEP_BYTES,
    StrippedTensor,
    WireError,
    read_payload,
    read_without_payloads,
)

FLOAT = onnx.TensorProto.FLOAT


@dataclass
class WeightStore:
    """The model's initializers: shapes and types at once, values only when asked for."""

    path: str
    base_dir: str
    tensors: dict[str, onnx.TensorProto]
    stripped: dict[str, StrippedTensor] = field(default_factory=dict)
    # Names in `tensors` that are `Constant` node outputs rather than initializers.
    constants: set[str] = field(default_factory=set)

    def __contains__(self, name: object) -> bool:
        return name in self.tensors

    def shape(self, name: str) -> tuple[int, ...]:
        return tuple(int(d) for d in self.tensors[name].dims)

    def dtype(self, name: str) -> np.dtype:
        return np.dtype(onnx.helper.tensor_dtype_to_np_dtype(self.tensors[name].data_type))

    def is_float32(self, name: str) -> bool:
        return self.tensors[name].data_type == FLOAT

    def is_large(self, name: str) -> bool:
        """True when the data is not in the in-memory graph (shape inference gets a stand-in)."""
        t = self.tensors[name]
        return (
            name in self.stripped
            or t.data_location == onnx.TensorProto.EXTERNAL
            or (t.ByteSize() > KEEP_BYTES)
        )

    def load(self, name: str) -> np.ndarray:
        if name in self.stripped:
            tensor = onnx.TensorProto.FromString(read_payload(self.path, self.stripped[name]))
        else:
            tensor = self.tensors[name]
        try:
            return numpy_helper.to_array(tensor, base_dir=self.base_dir)
        except (OSError, ValueError, TypeError, onnx.checker.ValidationError) as e:
            raise PimError(
                f"cannot read initializer '{name}': {str(e).rstrip('.')}.",
                where=self.path,
                hint="If the weights are stored as external data, keep the data files next to the .onnx file.",
            ) from None


@dataclass
class OpenModel:
    path: str
    model: onnx.ModelProto  # for files: the graph without large initializer data
    weights: WeightStore
    opset: int


def open_model(path: str, model: onnx.ModelProto | None) -> OpenModel:
    base_dir = os.path.dirname(os.path.abspath(path))
    stripped: dict[str, StrippedTensor] = {}
    if model is None:
        model, stripped = _read(path)
    if not model.HasField("graph") or len(model.opset_import) == 0:
        raise PimError(
            "is not an ONNX model (it has no graph or no opset).",
            where=path,
            hint="Pass a .onnx file exported by PyTorch (torch.onnx.export) or another ONNX producer.",
        )
    check_single_writers(model.graph, path)
    check_arity(model, path)
    tensors = {t.name: t for t in model.graph.initializer}
    constants = constant_tensors(model.graph)
    tensors.update((name, t) for name, t in constants.items() if name not in tensors)
    weights = WeightStore(path, base_dir, tensors, stripped, set(constants))
    return OpenModel(path, model, weights, default_opset(model))


def constant_tensors(graph: onnx.GraphProto) -> dict[str, onnx.TensorProto]:
    """The `Constant` nodes pimdsl treats as initializers: output name -> its `value` tensor,
    for every tensor of more than one element (exporters such as tf2onnx keep weights there;
    scalars stay constants, inlined where used)."""
    out: dict[str, onnx.TensorProto] = {}
    for node in graph.node:
        if (
            node.op_type != "Constant"
            or node.domain not in ("", "ai.onnx")
            or len(node.output) != 1
        ):
            continue
        attrs = [
            a for a in node.attribute if a.name == "value" and a.type == onnx.AttributeProto.TENSOR
        ]
        if len(node.attribute) == 1 and attrs and math.prod(attrs[0].t.dims) > 1:
            out[node.output[0]] = attrs[0].t
    return out


def check_single_writers(graph: onnx.GraphProto, path: str) -> None:
    """Every tensor has one producer (SSA, as onnxruntime requires): two nodes writing one
    tensor, or a node writing a graph input or initializer, is an invalid model."""
    writers: dict[str, str] = {i.name: "a graph input" for i in graph.input}
    writers.update({t.name: "an initializer" for t in graph.initializer})
    for index, node in enumerate(graph.node):
        label = f"node '{node.name or f'#{index}'}' (op {node.op_type})"
        for name in node.output:
            if not name:
                continue
            if name in writers:
                raise PimError(
                    f"{label} writes tensor '{name}', which {writers[name]} already defines; an "
                    "ONNX graph defines each tensor once (onnxruntime rejects this model too).",
                    where=path,
                    hint="Rename one of the outputs in the exporter, or check the model with "
                    "onnx.checker.check_model.",
                )
            writers[name] = label


def check_arity(model: onnx.ModelProto, path: str) -> None:
    """Each node has as many inputs and outputs as its operator's schema allows (a Sigmoid with
    three inputs is an invalid model, not one whose extra inputs are ignored)."""
    opset = default_opset(model)
    for index, node in enumerate(model.graph.node):
        if not isinstance(node.op_type, str) or not isinstance(node.domain, str):
            raise PimError(
                f"node #{index} has an op type or domain that is not valid UTF-8 text.",
                where=path,
                hint="The file is corrupt; export the model again.",
            )
        if node.domain not in ("", "ai.onnx"):
            continue
        try:
            schema = onnx.defs.get_schema(
                node.op_type, max(1, min(opset, onnx.defs.onnx_opset_version())), ""
            )
        except onnx.defs.SchemaError:
            continue  # an unknown op: the converter lookup names it
        n_in, n_out = len(node.input), len(node.output)
        if (
            not schema.min_input <= n_in <= schema.max_input
            or not schema.min_output <= n_out <= schema.max_output
        ):
            raise PimError(
                f"node '{node.name or f'#{index}'}' (op {node.op_type}) has {n_in} inputs and {n_out} "
                f"outputs; opset {opset} allows {schema.min_input}..{schema.max_input} inputs and "
                f"{schema.min_output}..{schema.max_output} outputs.",
                where=path,
                hint="The model is invalid; check it with onnx.checker.check_model.",
            )


def default_opset(model: onnx.ModelProto) -> int:
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            return int(entry.version)
    return 1


def _read(path: str) -> tuple[onnx.ModelProto, dict[str, StrippedTensor]]:
    if not os.path.exists(path):
        raise PimError("no such file.", where=path, hint="Check the path of the ONNX model.")
    if os.path.isdir(path):
        raise PimError("is a directory, not an ONNX file.", where=path)
    try:
        data, stripped = read_without_payloads(path)
        return onnx.ModelProto.FromString(data), stripped
    except OSError as e:
        raise PimError(f"cannot read the file: {e.strerror}.", where=path) from None
    except Exception:  # noqa: BLE001 - any decoding failure: let onnx have the last word below
        pass
    try:
        return onnx.load(path, load_external_data=False), {}
    except Exception as e:  # noqa: BLE001 - protobuf raises several unrelated types
        raise PimError(
            f"is not an ONNX file (it does not parse as an ONNX ModelProto: {type(e).__name__}).",
            where=path,
            hint="Pass a .onnx file exported by PyTorch (torch.onnx.export) or another ONNX producer.",
        ) from None


# --- inputs -----------------------------------------------------------------------------------


def static_inputs(opened: OpenModel, batch: int) -> list[tuple[str, tuple[int, ...]]]:
    """(name, static shape) of each real graph input (initializers listed as inputs excluded).

    A symbolic first dimension becomes `batch`; any other symbolic dimension is an error."""
    graph = opened.model.graph
    out: list[tuple[str, tuple[int, ...]]] = []
    for vi in graph.input:
        if vi.name in opened.weights:
            continue
        where = f"{opened.path}: graph input '{vi.name}'"
        if not vi.type.HasField("tensor_type"):
            raise PimError(
                "is not a tensor.",
                where=where,
                hint="pimdsl imports networks with float32 tensor inputs.",
            )
        tt = vi.type.tensor_type
        if tt.elem_type != FLOAT:
            name = onnx.TensorProto.DataType.Name(tt.elem_type) if tt.elem_type else "undefined"
            raise PimError(
                f"has element type {name}; pimdsl's nn IR is float32 only.",
                where=where,
                hint="Export the model with a float32 input (e.g. model.float() in PyTorch before export).",
            )
        if not tt.HasField("shape"):
            raise PimError(
                "has no shape.",
                where=where,
                hint="Give the input a static shape, e.g. with onnx.tools.update_model_dims.update_inputs_outputs_dims.",
            )
        dims: list[int] = []
        for i, d in enumerate(tt.shape.dim):
            if d.HasField("dim_value") and d.dim_value > 0:
                dims.append(int(d.dim_value))
            elif i == 0:
                dims.append(batch)  # the batch dimension: fixed to the importer's `batch`
            else:
                symbol = d.dim_param or "?"
                raise PimError(
                    f"has a symbolic dimension '{symbol}' at axis {i}; pimdsl needs static shapes "
                    "(only a symbolic first, batch, dimension is accepted and set to the batch size).",
                    where=where,
                    hint="Fix it, e.g. `python -m onnxruntime.tools.make_dynamic_shape_fixed "
                    f"--dim_param {symbol} --dim_value N in.onnx out.onnx`, or re-export with a fixed input size.",
                )
        out.append((vi.name, tuple(dims)))
    return out


# --- shape inference --------------------------------------------------------------------------


@dataclass
class Inferred:
    """What ONNX shape inference says about the graph's values: static shapes and numpy types."""

    shapes: dict[str, tuple[int, ...]]
    dtypes: dict[str, np.dtype]


def infer_shapes(opened: OpenModel, inputs: list[tuple[str, tuple[int, ...]]]) -> Inferred:
    """Static shapes (and element types) ONNX shape inference finds for the graph's values.

    Runs on a copy of the graph whose large initializers are replaced by typed graph inputs, so
    no weight payload is serialised or copied; existing value_info is dropped so the shapes are
    inferred from the (fixed) input shapes alone."""
    src = opened.model
    weights = opened.weights
    m = onnx.ModelProto()
    m.ir_version = max(src.ir_version, 4)  # ir >= 4: initializers need not be inputs
    m.opset_import.extend(src.opset_import)
    m.functions.extend(src.functions)
    g = m.graph
    g.node.extend(
        n
        for n in src.graph.node
        if not (n.op_type == "Constant" and n.output and n.output[0] in weights.constants)
    )
    fixed = dict(inputs)
    listed: set[str] = set()
    for vi in src.graph.input:
        listed.add(vi.name)
        if vi.name in fixed:
            g.input.append(onnx.helper.make_tensor_value_info(vi.name, FLOAT, list(fixed[vi.name])))
        elif vi.name in weights and weights.is_large(vi.name):
            g.input.append(_stand_in(weights, vi.name))
        else:
            g.input.append(vi)
    for t in src.graph.initializer:
        if weights.is_large(t.name):
            if t.name not in listed:
                g.input.append(_stand_in(weights, t.name))
        else:
            g.initializer.append(t)
    for name in sorted(weights.constants):
        if weights.is_large(name):
            g.input.append(_stand_in(weights, name))
        else:
            t = g.initializer.add()
            t.CopyFrom(weights.tensors[name])  # small: at most KEEP_BYTES
            t.name = name
    for o in src.graph.output:
        out = g.output.add()
        out.name = o.name
        if o.type.HasField("tensor_type"):
            out.type.tensor_type.elem_type = o.type.tensor_type.elem_type
    try:
        inferred = onnx.shape_inference.infer_shapes(m, strict_mode=False, data_prop=True)
    except Exception as e:  # noqa: BLE001 - onnx raises InferenceError and others
        raise PimError(
            f"ONNX shape inference failed: {e}",
            where=opened.path,
            hint="The model is probably invalid; check it with onnx.checker.check_model.",
        ) from None
    shapes: dict[str, tuple[int, ...]] = {}
    dtypes: dict[str, np.dtype] = {}
    for vi in [*inferred.graph.value_info, *inferred.graph.output]:
        if not vi.type.HasField("tensor_type") or not vi.type.tensor_type.HasField("shape"):
            continue
        tt = vi.type.tensor_type
        dims = tt.shape.dim
        if all(d.HasField("dim_value") for d in dims):
            shapes[vi.name] = tuple(int(d.dim_value) for d in dims)
            if tt.elem_type:
                try:
                    dtypes[vi.name] = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(tt.elem_type))
                except (KeyError, TypeError, ValueError):  # a type numpy lacks (e.g. float8)
                    pass
    return Inferred(shapes, dtypes)


def _stand_in(weights: WeightStore, name: str) -> onnx.ValueInfoProto:
    return onnx.helper.make_tensor_value_info(
        name, weights.tensors[name].data_type, list(weights.shape(name))
    )


__all__ = [
    "Inferred",
    "OpenModel",
    "WeightStore",
    "WireError",
    "infer_shapes",
    "open_model",
    "static_inputs",
]
