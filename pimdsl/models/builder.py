"""GraphBuilder: emits CNN layers as ONNX nodes in one export style, with seeded weights.

Model families describe a topology with calls such as `conv_bn`, `relu`, `maxpool`, `linear`;
the builder draws the weights, tracks every tensor's shape and writes the nodes the chosen
`Style` prescribes. Weights are drawn in topology order whatever the style, so one seed gives
the same network (the same function) in every style.

Weight scaling: He-normal with gain 2 for a layer followed by ReLU and gain 1 otherwise keeps
the second moment of the activations near 1 through deep nets, and BatchNorm parameters are
drawn with gamma^2 / var near 1, so logits stay O(1).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from pimdsl.errors import PimError
from pimdsl.models.styles import Style
from pimdsl.shapes import window_out

Shape = tuple[int, ...]


class GraphBuilder:
    """Accumulates the nodes and initializers of one model."""

    def __init__(self, model: str, style: Style, seed: int, input_shape: Sequence[int]) -> None:
        self.model = model
        self.style = style
        self.rng = np.random.default_rng(seed)
        # Initializers go straight into the final ModelProto: appending a finished TensorProto
        # to a repeated field, or make_model's CopyFrom, would copy every weight once more.
        self.proto = onnx.ModelProto()
        self.nodes: list[onnx.NodeProto] = []
        self.shapes: dict[str, Shape] = {"input": tuple(input_shape)}
        self.input = "input"
        self._scope: list[str] = []
        self._used: set[str] = {"input"}
        self._count = 0
        self._shared: dict[str, str] = {}

    # ---- naming -------------------------------------------------------------------------

    @contextmanager
    def scope(self, name: str) -> Iterator[None]:
        """Nest layer names, like a PyTorch module path (`layer1.0.conv1`)."""
        self._scope.append(name)
        try:
            yield
        finally:
            self._scope.pop()

    def _unique(self, name: str) -> str:
        base, k = name, 1
        while name in self._used:
            name = f"{base}_{k}"
            k += 1
        self._used.add(name)
        return name

    def _param_name(self, layer: str, what: str) -> str:
        path = ".".join([*self._scope, layer]) if layer else ".".join(self._scope)
        if self.style.name == "zoo9":  # Caffe-style blob names
            return self._unique(f"{path.replace('.', '_')}_{what[0]}_0")
        return self._unique(f"{path}.{what}")

    def _node_names(self, op: str, layer: str) -> tuple[str, str]:
        """(node name, output tensor name) in the style's naming scheme."""
        self._count += 1
        parts = [*self._scope, layer] if layer else list(self._scope)
        if self.style.name == "torchscript":
            node = self._unique("/" + "/".join([*parts, op]))
            return node, self._unique(f"{node}_output_0")
        if self.style.name == "dynamo":
            node = self._unique(f"node_{op}_{self._count}")
            return node, self._unique(f"{op.lower()}_{self._count}")
        stem = "_".join(p.replace(".", "_") for p in parts)  # zoo9: Caffe-style blob names
        node = self._unique(f"{stem}_{op.lower()}" if stem else op.lower())
        return node, self._unique(f"{node}_Y")

    # ---- low-level emission -------------------------------------------------------------

    def node(
        self, op: str, inputs: Sequence[str], shape: Shape, layer: str = "", **attrs: Any
    ) -> str:
        """Append one node with a single output of the given shape; return the output name."""
        name, out = self._node_names(op, layer)
        self.nodes.append(helper.make_node(op, list(inputs), [out], name=name, **attrs))
        self.shapes[out] = shape
        return out

    def initializer(self, name: str, array: np.ndarray) -> str:
        """Add a small constant (shapes, axes, biases) via numpy_helper.from_array."""
        self.proto.graph.initializer.add().CopyFrom(numpy_helper.from_array(array, name))
        return name

    def weight(self, name: str, owned: list[np.ndarray]) -> str:
        """Add a weight, taking the only reference to its array out of `owned`.

        The array is serialised (C order, so views such as `w.T` work) and dropped before
        protobuf copies the bytes, so a linear layer's weight exists at most twice at any
        moment: VGG16's 392 MB fc6 weight must not triple the build's peak memory. (Conv
        callers keep their own reference; conv weights are at most 9 MB.)
        """
        array = owned.pop()
        tensor = self.proto.graph.initializer.add()
        tensor.name = name
        tensor.data_type = helper.np_dtype_to_tensor_dtype(array.dtype)
        tensor.dims.extend(array.shape)
        data = numpy_helper.tobytes_little_endian(array)
        del array
        tensor.raw_data = data
        return name

    def constant_node(self, value: np.ndarray, hint: str) -> str:
        """A Constant node (the form old exporters use for shape arithmetic)."""
        name, out = self._node_names("Constant", hint)
        self.nodes.append(
            helper.make_node(
                "Constant", [], [out], name=name, value=numpy_helper.from_array(value, out)
            )
        )
        self.shapes[out] = tuple(value.shape)
        return out

    def shared_initializer(self, key: str, value: np.ndarray) -> str:
        """One initializer reused by many nodes (Clip bounds, reduction axes)."""
        if key not in self._shared:
            self._shared[key] = self.initializer(self._unique(key), value)
        return self._shared[key]

    def _shape(self, x: str) -> Shape:
        return self.shapes[x]

    def _spatial(self, size: int, k: int, s: int, pb: int, pe: int, ceil: bool, what: str) -> int:
        out = window_out(size, k, s, pb, pe, ceil_mode=ceil)
        if out < 1:
            where = ".".join(self._scope) or "top level"
            raise PimError(
                f"model {self.model!r}: image_size {self.shapes['input'][-1]} is too small: "
                f"{what} in {where} gets a {size}x{size} feature map (kernel {k}, stride {s}).",
                hint="Pass a larger image_size (224 always works).",
            )
        return out

    # ---- weights ------------------------------------------------------------------------

    def _he(self, shape: Shape, fan_in: int, gain: float) -> np.ndarray:
        """He-uniform (torch's kaiming_uniform_): U(-a, a) with variance gain / fan_in.

        Uniform rather than normal draws: numpy makes float32 uniforms several times faster,
        which matters for VGG's 138M weights; scaled in place to keep one copy.
        """
        w = self.rng.random(shape, dtype=np.float32)
        w -= np.float32(0.5)
        w *= np.float32(2.0 * math.sqrt(3.0 * gain / fan_in))
        return w

    def _small(self, n: int, std: float = 0.05) -> np.ndarray:
        b = self.rng.standard_normal(n, dtype=np.float32)
        b *= np.float32(std)
        return b

    def _bn_params(self, c: int) -> tuple[np.ndarray, ...]:
        gamma = self.rng.uniform(0.8, 1.2, c).astype(np.float32)
        beta = self._small(c)
        mean = self._small(c)
        var = self.rng.uniform(0.8, 1.2, c).astype(np.float32)
        return gamma, beta, mean, var

    # ---- layers -------------------------------------------------------------------------

    def conv(
        self,
        x: str,
        cout: int,
        k: int,
        *,
        stride: int = 1,
        pad: int = 0,
        groups: int = 1,
        bias: bool = True,
        gain: float = 2.0,
        name: str = "conv",
        separate_pad: bool = False,
    ) -> str:
        """Conv2d with its own bias (no BatchNorm)."""
        w = self._draw_conv(x, cout, k, groups, gain)
        b = self._small(cout) if bias else None
        return self._emit_conv(x, w, b, stride, pad, groups, name, separate_pad)

    def conv_bn(
        self,
        x: str,
        cout: int,
        k: int,
        *,
        stride: int = 1,
        pad: int = 0,
        groups: int = 1,
        eps: float = 1e-5,
        gain: float = 2.0,
        name: str = "conv",
        bn_name: str = "bn",
        separate_pad: bool = False,
    ) -> str:
        """Conv2d without bias followed by BatchNorm (eval mode); folded when the style says so."""
        w = self._draw_conv(x, cout, k, groups, gain)
        gamma, beta, mean, var = self._bn_params(cout)
        if self.style.fold_bn:
            scale = gamma.astype(np.float64) / np.sqrt(var.astype(np.float64) + eps)
            w *= scale.astype(np.float32)[:, None, None, None]
            b = (beta - mean * scale).astype(np.float32)
            return self._emit_conv(x, w, b, stride, pad, groups, name, separate_pad, folded=True)
        y = self._emit_conv(x, w, None, stride, pad, groups, name, separate_pad)
        return self._emit_bn(y, (gamma, beta, mean, var), eps, bn_name)

    def batch_norm(self, x: str, *, eps: float = 1e-5, name: str = "bn") -> str:
        """BatchNorm (eval mode) not preceded by a conv, as in DenseNet's BN-ReLU-Conv order.

        Kept as a node in every style: exporters fold BN only into the conv *before* it.
        """
        return self._emit_bn(x, self._bn_params(self._shape(x)[1]), eps, name)

    def _emit_bn(self, x: str, params: tuple[np.ndarray, ...], eps: float, name: str) -> str:
        gamma, beta, mean, var = params
        names = [
            self.initializer(self._param_name(name, what), arr)
            for what, arr in (
                ("weight", gamma),
                ("bias", beta),
                ("running_mean", mean),
                ("running_var", var),
            )
        ]
        attrs: dict[str, object] = {"epsilon": eps, "momentum": 0.9}
        return self.node("BatchNormalization", [x, *names], self._shape(x), name, **attrs)

    def _draw_conv(self, x: str, cout: int, k: int, groups: int, gain: float) -> np.ndarray:
        cin = self._shape(x)[1]
        if cin % groups or cout % groups:
            raise PimError(
                f"model {self.model!r}: channels {cin}->{cout} not divisible by groups {groups}."
            )
        return self._he((cout, cin // groups, k, k), cin // groups * k * k, gain)

    def _emit_conv(
        self,
        x: str,
        w: np.ndarray,
        b: np.ndarray | None,
        stride: int,
        pad: int,
        groups: int,
        name: str,
        separate_pad: bool,
        folded: bool = False,
    ) -> str:
        n, _, h, wd = self._shape(x)
        cout, _, k, _ = w.shape
        if separate_pad and self.style.pad_node and pad > 0:
            x = self.pad(x, pad, layer=name)
            n, _, h, wd = self._shape(x)
            pad = 0
        if folded:  # TorchScript names BN-folded weights anonymously
            wname = self._unique(f"onnx::Conv_{self._count}_w")
            bname = self._unique(f"onnx::Conv_{self._count}_b")
        else:
            wname, bname = self._param_name(name, "weight"), self._param_name(name, "bias")
        inputs = [x, self.weight(wname, [w])]
        if b is not None:
            inputs.append(self.initializer(bname, b))
        oh = self._spatial(h, k, stride, pad, pad, False, f"conv {name}")
        ow = self._spatial(wd, k, stride, pad, pad, False, f"conv {name}")
        return self.node(
            "Conv",
            inputs,
            (n, cout, oh, ow),
            name,
            kernel_shape=[k, k],
            strides=[stride, stride],
            pads=[pad] * 4,
            dilations=[1, 1],
            group=groups,
        )

    def pad(self, x: str, pad: int, layer: str = "") -> str:
        """Zero padding of H and W as its own node (opset < 11: pads attribute)."""
        n, c, h, w = self._shape(x)
        pads = [0, 0, pad, pad, 0, 0, pad, pad]
        shape = (n, c, h + 2 * pad, w + 2 * pad)
        if self.style.opset < 11:
            return self.node(
                "Pad", [x], shape, f"{layer}_pad", mode="constant", pads=pads, value=0.0
            )
        p = self.initializer(self._unique(f"{layer}_pads"), np.array(pads, np.int64))
        return self.node("Pad", [x, p], shape, f"{layer}_pad", mode="constant")

    def relu(self, x: str, name: str = "relu") -> str:
        return self.node("Relu", [x], self._shape(x), name)

    def relu6(self, x: str, name: str = "relu6") -> str:
        if self.style.clip_inputs:
            lo = self.shared_initializer("clip_min", np.array(0.0, np.float32))
            hi = self.shared_initializer("clip_max", np.array(6.0, np.float32))
            return self.node("Clip", [x, lo, hi], self._shape(x), name)
        return self.node("Clip", [x], self._shape(x), name, min=0.0, max=6.0)

    def lrn(self, x: str, name: str = "norm", size: int = 5) -> str:
        """Caffe's cross-channel LRN; only styles that keep the Caffe topology emit it."""
        if not self.style.lrn:
            return x
        return self.node(
            "LRN", [x], self._shape(x), name, size=size, alpha=1e-4, beta=0.75, bias=1.0
        )

    def dropout(self, x: str, ratio: float = 0.5, name: str = "dropout") -> str:
        """Inference no-op; only styles that keep Dropout nodes emit it."""
        if not self.style.dropout:
            return x
        if self.style.opset < 12:
            return self.node("Dropout", [x], self._shape(x), name, ratio=ratio)
        r = self.shared_initializer(f"dropout_ratio_{ratio}", np.array(ratio, np.float32))
        return self.node("Dropout", [x, r], self._shape(x), name)

    def maxpool(
        self, x: str, k: int, stride: int, pad: int = 0, *, ceil: bool = False, name: str = "pool"
    ) -> str:
        n, c, h, w = self._shape(x)
        oh = self._spatial(h, k, stride, pad, pad, ceil, f"max pool {name}")
        ow = self._spatial(w, k, stride, pad, pad, ceil, f"max pool {name}")
        attrs: dict[str, object] = {"kernel_shape": [k, k], "strides": [stride, stride]}
        if ceil and self.style.ceil_mode == "pads":
            # Padding the end with -inf by exactly what ceil mode adds gives the same windows.
            extra_h = max(0, (oh - 1) * stride + k - (h + 2 * pad))
            extra_w = max(0, (ow - 1) * stride + k - (w + 2 * pad))
            attrs["pads"] = [pad, pad, pad + extra_h, pad + extra_w]
        else:
            attrs["pads"] = [pad] * 4
            if ceil:
                attrs["ceil_mode"] = 1
        return self.node("MaxPool", [x], (n, c, oh, ow), name, **attrs)

    def avgpool(self, x: str, k: int, stride: int, pad: int = 0, *, name: str = "pool") -> str:
        """Average pooling, floor mode (DenseNet's transitions: AvgPool2d(2, 2))."""
        n, c, h, w = self._shape(x)
        oh = self._spatial(h, k, stride, pad, pad, False, f"average pool {name}")
        ow = self._spatial(w, k, stride, pad, pad, False, f"average pool {name}")
        return self.node(
            "AveragePool",
            [x],
            (n, c, oh, ow),
            name,
            kernel_shape=[k, k],
            strides=[stride, stride],
            pads=[pad] * 4,
        )

    def global_pool(self, x: str, name: str = "avgpool") -> str:
        """Global average pooling; output [N, C, 1, 1], or [N, C] for `reduce_mean_flat`."""
        n, c, h, w = self._shape(x)
        form = self.style.global_pool
        if form == "global":
            return self.node("GlobalAveragePool", [x], (n, c, 1, 1), name)
        if form in ("reduce_mean", "reduce_mean_flat"):
            keep = form == "reduce_mean"
            axes = np.array([2, 3] if keep else [-1, -2], np.int64)
            shape = (n, c, 1, 1) if keep else (n, c)
            if self.style.opset >= 18:
                a = self.shared_initializer(f"mean_axes_{'_'.join(map(str, axes))}", axes)
                return self.node("ReduceMean", [x, a], shape, name, keepdims=int(keep))
            return self.node("ReduceMean", [x], shape, name, axes=axes.tolist(), keepdims=int(keep))
        if form == "avgpool":
            return self.node(
                "AveragePool", [x], (n, c, 1, 1), name, kernel_shape=[h, w], strides=[1, 1]
            )
        # A window over the zero-padded map that averages only real elements is a global mean:
        # this exercises pads together with count_include_pad=0.
        return self.node(
            "AveragePool",
            [x],
            (n, c, 1, 1),
            name,
            kernel_shape=[h + 2, w + 2],
            strides=[1, 1],
            pads=[1, 1, 1, 1],
            count_include_pad=0,
        )

    def flatten(self, x: str, name: str = "flatten") -> str:
        """[N, C, H, W] -> [N, C*H*W] in the style's form; rank-2 inputs pass through."""
        shape = self._shape(x)
        if len(shape) == 2:
            return x
        n, feat = shape[0], int(np.prod(shape[1:]))
        form = self.style.flatten
        if form == "flatten":
            return self.node("Flatten", [x], (n, feat), name, axis=1)
        if form == "reshape_const":
            s = self.initializer(self._unique(f"{name}_shape"), np.array([n, feat], np.int64))
            return self.node("Reshape", [x, s], (n, feat), name)
        # x.view(x.size(0), -1) as traced by old exporters.
        shp = self.node("Shape", [x], (len(shape),), f"{name}_shape")
        idx = self.constant_node(np.array(0, np.int64), f"{name}_index")
        dim0 = self.node("Gather", [shp, idx], (), f"{name}_gather", axis=0)
        if self.style.opset < 13:
            dim0 = self.node("Unsqueeze", [dim0], (1,), f"{name}_unsqueeze", axes=[0])
        else:
            ax = self.constant_node(np.array([0], np.int64), f"{name}_axes")
            dim0 = self.node("Unsqueeze", [dim0, ax], (1,), f"{name}_unsqueeze")
        rest = self.constant_node(np.array([-1], np.int64), f"{name}_rest")
        target = self.node("Concat", [dim0, rest], (2,), f"{name}_concat", axis=0)
        return self.node("Reshape", [x, target], (n, feat), name)

    def linear(self, x: str, out: int, *, gain: float = 1.0, name: str = "fc") -> str:
        """Fully connected layer y = x W^T + b, W drawn as [out, in] like torch.nn.Linear."""
        n, fin = self._shape(x)
        owned = [self._he((out, fin), fin, gain)]
        b = self._small(out)
        wname, bname = self._param_name(name, "weight"), self._param_name(name, "bias")
        if self.style.linear == "gemm":
            inputs = [x, self.weight(wname, owned), self.initializer(bname, b)]
            return self.node("Gemm", inputs, (n, out), name, alpha=1.0, beta=1.0, transB=1)
        # torch.export: MatMul by the transposed (constant) weight, then Add of the bias.
        owned.append(owned.pop().T)
        y = self.node("MatMul", [x, self.weight(wname, owned)], (n, out), name)
        return self.node("Add", [y, self.initializer(bname, b)], (n, out), f"{name}_bias")

    def add(self, a: str, b: str, name: str = "add") -> str:
        """Residual addition (same shapes)."""
        op = "Sum" if self.style.residual_add == "sum" else "Add"
        return self.node(op, [a, b], self._shape(a), name)

    def concat(self, xs: Sequence[str], name: str = "concat") -> str:
        shapes = [self._shape(x) for x in xs]
        n, _, h, w = shapes[0]
        c = sum(s[1] for s in shapes)
        return self.node("Concat", list(xs), (n, c, h, w), name, axis=1)

    def split(self, x: str, parts: int, name: str = "split") -> list[str]:
        """Split the channels into `parts` equal chunks (torch's `x.chunk(parts, dim=1)`).

        Split's encoding changed twice: `split` attribute (opset < 13), `split` input
        (13-17), `num_outputs` attribute (18+).
        """
        n, c, h, w = self._shape(x)
        if c % parts:
            raise PimError(f"model {self.model!r}: cannot split {c} channels into {parts}.")
        size = c // parts
        inputs = [x]
        attrs: dict[str, Any] = {"axis": 1}
        if self.style.opset < 13:
            attrs["split"] = [size] * parts
        elif self.style.opset < 18:
            inputs.append(
                self.shared_initializer(
                    f"split_{size}_x{parts}", np.array([size] * parts, np.int64)
                )
            )
        else:
            attrs["num_outputs"] = parts
        node, first = self._node_names("Split", name)
        outs = [first] + [self._unique(f"{node}_output_{i}") for i in range(1, parts)]
        self.nodes.append(helper.make_node("Split", inputs, outs, name=node, **attrs))
        for out in outs:
            self.shapes[out] = (n, size, h, w)
        return outs

    def channel_shuffle(self, x: str, groups: int, name: str = "shuffle") -> str:
        """ShuffleNet's channel shuffle: view [N, g, C/g, H, W], swap axes 1 and 2, view back.

        Shapes are encoded like the style's flatten: int64 initializers with the traced -1
        (torchscript), fully static initializers (dynamo), or Constant nodes (zoo9).
        """
        n, c, h, w = self._shape(x)
        grouped, flat = np.array([n, groups, c // groups, h, w]), np.array([n, -1, h, w])
        if self.style.flatten == "reshape_const":
            flat = np.array([n, c, h, w])

        def shape_input(value: np.ndarray, hint: str) -> str:
            if self.style.flatten == "shape_chain":
                return self.constant_node(value.astype(np.int64), f"{name}_{hint}")
            return self.initializer(self._unique(f"{name}_{hint}"), value.astype(np.int64))

        y = self.node(
            "Reshape",
            [x, shape_input(grouped, "shape0")],
            (n, groups, c // groups, h, w),
            f"{name}_reshape0",
        )
        t_shape = (n, c // groups, groups, h, w)
        y = self.node("Transpose", [y], t_shape, f"{name}_transpose", perm=[0, 2, 1, 3, 4])
        return self.node(
            "Reshape", [y, shape_input(flat, "shape1")], (n, c, h, w), f"{name}_reshape1"
        )

    # ---- the model ----------------------------------------------------------------------

    def build(self, y: str, doc: str = "") -> onnx.ModelProto:
        """Name the final tensor "output" and finish the ModelProto (weights already in it)."""
        if self.style.identity_output:
            self.nodes.append(helper.make_node("Identity", [y], ["output"], name="output_identity"))
        else:
            last = self.nodes[-1]
            if list(last.output) != [y]:
                raise AssertionError("the final tensor must come from the last node")
            last.output[0] = "output"
        self.shapes["output"] = self.shapes[y]
        f32 = TensorProto.FLOAT
        graph = self.proto.graph
        graph.name = f"{self.model}_{self.style.name}"
        graph.node.extend(self.nodes)
        graph.input.append(helper.make_tensor_value_info("input", f32, list(self.shapes["input"])))
        if self.style.initializers_as_inputs:
            graph.input.extend(
                helper.make_tensor_value_info(t.name, t.data_type, list(t.dims))
                for t in graph.initializer
            )
        graph.output.append(
            helper.make_tensor_value_info("output", f32, list(self.shapes["output"]))
        )
        self.proto.ir_version = self.style.ir_version
        self.proto.opset_import.append(helper.make_opsetid("", self.style.opset))
        self.proto.producer_name = "pimdsl.models"
        self.proto.producer_version = self.style.name
        self.proto.doc_string = doc
        return self.proto
