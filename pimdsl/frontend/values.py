"""What an ONNX value is during import: a run-time tensor (an SSA value) or a constant.

A constant is known at import time: an initializer, a Constant node, or a folded subgraph. Its
value is computed lazily, so a reshape or transpose of a 400 MB weight costs nothing unless the
numbers are really needed (they never are for weights: those stay in the weight file).
Large values are not kept once computed (they are recomputed if asked for again), so writing
the folded weights of a model to its side-car file holds one tensor at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from xdsl.ir import SSAValue


@dataclass(eq=False)
class Quant:
    """How a quantized model stores a weight: integer type, scale (per tensor, or per index
    along `axis`) and zero point, as the model's DequantizeLinear gives them."""

    qtype: str
    axis: int | None
    scale: Const
    zero_point: Const | None


# Computed values up to this many elements are kept; larger ones are recomputed when needed.
KEEP_ELEMENTS = 1 << 16


@dataclass(eq=False)
class Const:
    shape: tuple[int, ...]
    dtype: np.dtype
    compute: Callable[[], np.ndarray]
    # This constant IS the initializer of that name (use `nn.weight "name"`).
    initializer: str | None = None
    # This constant is the 2-D transpose of that initializer (a Linear weight seen as [in, out]).
    transpose_of: str | None = None
    # Builds the constant in IR from weights (e.g. nn.reshape of an nn.weight), when it is one.
    recipe: Callable[[], SSAValue] | None = None
    # The ONNX value name this constant was first stored under (names its side-car entry).
    origin: str | None = None
    # A dequantized weight (DequantizeLinear of a constant): the model's quantization of it.
    quant: Quant | None = None
    _value: np.ndarray | None = field(default=None, repr=False)

    @staticmethod
    def of(array: np.ndarray | float | int) -> Const:
        a = np.asarray(array)
        return Const(tuple(a.shape), a.dtype, lambda: a, _value=a)

    @property
    def size(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    def value(self) -> np.ndarray:
        if self._value is not None:
            return self._value
        v = np.asarray(self.compute())
        assert tuple(v.shape) == self.shape, (v.shape, self.shape)
        if self.size <= KEEP_ELEMENTS:
            self._value = v
        return v


Value = SSAValue | Const
