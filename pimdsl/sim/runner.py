"""Run a module's `@main` with xDSL's interpreter, at whatever level its IR is.

Each dialect that can appear in a network module has one entry in `LEVELS`: the dialect name
and a factory `(RunContext) -> InterpreterFunctions` (or an `InterpreterFunctions` class that
takes no arguments, such as xDSL's own `ScfFunctions`). `run_module` looks at the dialects the
module actually uses, imports only their factories (lazily, so `nn`-only runs never import the
crossbar simulator) and registers the functions they return with one `Interpreter`, next to
`FuncFunctions` below for `func.func`/`func.call`/`func.return`. A later level plugs in by adding
one line to `LEVELS` (or calling `register_level`), or, from another package, by an entry point
in the `pimdsl.levels` group (docs/extending.md); its factory reads whatever it needs
(weights, chip, batch, options) from the `RunContext`.

`FuncFunctions` is a copy of xDSL's three-line `xdsl.interpreters.func` implementation: importing
that module imports every xDSL interpreter (RISC-V included), half a second per `pim-run`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from xdsl.dialects import func
from xdsl.dialects.builtin import ModuleOp, TensorType
from xdsl.interpreter import (
    Interpreter,
    InterpreterFunctions,
    PythonValues,
    ReturnedValues,
    TerminatorValue,
    impl,
    impl_callable,
    impl_terminator,
    register_impls,
)

from pimdsl.errors import PimError
from pimdsl.weights import WeightStore

# Dialects every run handles (FuncFunctions below; builtin.module is never executed), and
# dialect -> factory of its functions as "module:callable" (see the module docstring).
_BUILTIN_DIALECTS = ("builtin", "func")
# Other packages register levels of their dialects as entry points of this group (same form).
LEVEL_ENTRY_POINTS = "pimdsl.levels"
LEVELS: dict[str, str] = {
    "nn": "pimdsl.sim.nn_interp:NNFunctions.for_run",
    "partition": "pimdsl.sim.partition_interp:PartitionFunctions.for_run",
    "crossbar": "pimdsl.sim.crossbar_interp:CrossbarFunctions.for_run",
    "pim_isa": "pimdsl.sim.isa_interp:PimIsaFunctions.for_run",
}


@register_impls
class FuncFunctions(InterpreterFunctions):
    """`func.func` calls, `func.call` and `func.return` (the semantics of xDSL's)."""

    @impl_terminator(func.ReturnOp)
    def run_return(
        self, interpreter: Interpreter, op: func.ReturnOp, args: PythonValues
    ) -> tuple[TerminatorValue, PythonValues]:
        return ReturnedValues(args), ()

    @impl(func.CallOp)
    def run_call(
        self, interpreter: Interpreter, op: func.CallOp, args: PythonValues
    ) -> PythonValues:
        return interpreter.call_op(op.callee, args)

    @impl_callable(func.FuncOp)
    def call_func(
        self, interpreter: Interpreter, op: func.FuncOp, args: PythonValues
    ) -> PythonValues:
        if (first_block := op.body.blocks.first) is None or not first_block.ops:
            return interpreter.call_external(op.sym_name.data, op, args)
        return interpreter.run_ssacfg_region(op.body, args, op.sym_name.data)


@dataclass
class RunContext:
    """What a level's interpreter functions may need. `options` carries level-specific
    settings from the tool (e.g. {"mode": "ideal"}); each level documents its keys."""

    module: ModuleOp
    base_dir: Path | None = None
    options: dict[str, Any] = field(default_factory=dict)
    _weights: WeightStore | None = None
    _weights_opened: bool = False

    @property
    def weights(self) -> WeightStore | None:
        """The module's weight file, opened on first use; None for a shape-only module."""
        if not self._weights_opened:
            self._weights = WeightStore.for_module(self.module, base_dir=self.base_dir)
            self._weights_opened = True
        return self._weights


def register_level(dialect: str, factory: str) -> None:
    """Make `run_module` use `factory` ("module:callable") for ops of `dialect`."""
    LEVELS[dialect] = factory


def level_factory(dialect: str) -> str | None:
    """The factory ("module:callable") of `dialect`'s interpreter functions: pimdsl's
    (`LEVELS`), else another installed package's (entry-point group `pimdsl.levels`)."""
    from pimdsl.registry import entry_point_table

    return LEVELS.get(dialect) or entry_point_table(LEVEL_ENTRY_POINTS).get(dialect)


def _functions_for(spec: str, context: RunContext) -> InterpreterFunctions:
    from pimdsl.registry import resolve

    obj: Any = resolve(spec)
    if isinstance(obj, type) and issubclass(obj, InterpreterFunctions):
        return obj()
    return obj(context)


def dialects_used(module: ModuleOp) -> list[str]:
    """Names of the dialects of the ops inside `module`, in first-use order."""
    seen: dict[str, None] = {}
    for op in module.walk():
        if op is not module:
            seen.setdefault(op.dialect_name(), None)
    return list(seen)


def find_main(module: ModuleOp) -> func.FuncOp:
    for op in module.ops:
        if isinstance(op, func.FuncOp) and op.sym_name.data == "main":
            return op
    names = [op.sym_name.data for op in module.ops if isinstance(op, func.FuncOp)]
    raise PimError(
        "the module has no function @main to run"
        + (f" (it has {', '.join('@' + n for n in names)})." if names else "."),
        hint="The network must be `func.func @main` inside the module.",
    )


def main_input_shapes(module: ModuleOp) -> list[tuple[int, ...]]:
    """The shape of every argument of @main (each must be a static tensor)."""
    main = find_main(module)
    shapes = []
    for i, t in enumerate(main.function_type.inputs.data):
        if not isinstance(t, TensorType) or any(d < 0 for d in t.get_shape()):
            raise PimError(f"@main argument {i} has type {t}; only static tensors can be run.")
        shapes.append(tuple(t.get_shape()))
    return shapes


def make_interpreter(module: ModuleOp, context: RunContext) -> Interpreter:
    """An interpreter with the functions of every dialect `module` uses."""
    interpreter = Interpreter(module)
    interpreter.register_implementations(FuncFunctions())
    for dialect in dialects_used(module):
        if dialect in _BUILTIN_DIALECTS:
            continue
        spec = level_factory(dialect)
        if spec is None:
            raise PimError(
                f"pim-run cannot execute ops of the '{dialect}' dialect yet.",
                hint=f"Executable dialects: {', '.join(sorted(LEVELS))} (and those of the "
                f"'{LEVEL_ENTRY_POINTS}' entry points of installed packages). Run the IR at a level "
                "the simulator supports (e.g. before lowering).",
            )
        interpreter.register_implementations(_functions_for(spec, context))
    return interpreter


def check_weights_available(module: ModuleOp, context: RunContext) -> None:
    """Fail before running when the module refers to weights it cannot supply."""
    from pimdsl.dialects.nn import WeightOp, shape_of
    from pimdsl.sim.nn_interp import weight_where

    refs = [op for op in module.walk() if isinstance(op, WeightOp)]
    if not refs:
        return
    store = context.weights
    if store is None:
        raise PimError(
            f"the module is shape-only: it refers to {len(refs)} weight tensors (e.g. "
            f"{weight_where(refs[0])}) but names no weight file (module attribute pim.weights), "
            "and weights are needed to run it.",
            hint="Run the .onnx model itself (pim-run model.onnx), import it with "
            "`pim-opt model.onnx -o model.mlir` so pim.weights points at it, or add "
            '`attributes {pim.weights = "weights.npz"}` to the module.',
        )
    for op in refs:
        store.check(op.key, shape_of(op.result), where=weight_where(op))


def run_module(
    module: ModuleOp,
    inputs: Sequence[np.ndarray],
    *,
    base_dir: Path | None = None,
    weights: WeightStore | None = None,
    options: dict[str, Any] | None = None,
) -> list[np.ndarray]:
    """Run `@main` on `inputs` and return its results as float32 arrays.

    `base_dir` is where a relative `pim.weights` path is looked up first (the `.mlir` file's
    directory). `weights` overrides the module's own weight file."""
    context = RunContext(module, base_dir=base_dir, options=dict(options or {}))
    if weights is not None:
        context._weights, context._weights_opened = weights, True
    shapes = main_input_shapes(module)
    if len(inputs) != len(shapes):
        raise PimError(f"@main takes {len(shapes)} inputs, {len(inputs)} were given.")
    args = []
    for i, (value, shape) in enumerate(zip(inputs, shapes, strict=True)):
        array = np.asarray(value, dtype=np.float32)
        if array.shape != shape:
            raise PimError(
                f"input {i} has shape {list(array.shape)}, but @main expects {list(shape)}."
            )
        args.append(array)
    check_weights_available(module, context)
    interpreter = make_interpreter(module, context)
    results = interpreter.call_op("main", tuple(args))
    return [np.asarray(r, dtype=np.float32) for r in results]


def run_batched(
    module: ModuleOp,
    inputs: Sequence[np.ndarray],
    **kwargs: Any,
) -> list[np.ndarray]:
    """Like `run_module`, but each input may hold a whole number of @main's batches along
    axis 0 (e.g. 16 images for a function over 1x3x224x224); results are concatenated."""
    shapes = main_input_shapes(module)
    if len(inputs) != len(shapes):
        raise PimError(f"@main takes {len(shapes)} inputs, {len(inputs)} were given.")
    if not shapes:
        return run_module(module, inputs, **kwargs)
    counts = set()
    for i, (value, shape) in enumerate(zip(inputs, shapes, strict=True)):
        ok = (
            shape
            and value.ndim == len(shape)
            and value.shape[1:] == shape[1:]
            and shape[0] > 0
            and value.shape[0] % shape[0] == 0
        )
        if not ok:
            raise PimError(
                f"input {i} has shape {list(value.shape)}; @main expects {list(shape)} "
                f"(or a multiple of {shape[0] if shape else 1} along axis 0)."
            )
        counts.add(value.shape[0] // shape[0])
    if len(counts) != 1:
        raise PimError("all inputs must hold the same number of batches.")
    steps = counts.pop()
    if kwargs.get("weights") is None:  # open the weight file once for all steps
        kwargs["weights"] = WeightStore.for_module(module, base_dir=kwargs.get("base_dir"))
    if steps == 1:
        return run_module(module, inputs, **kwargs)
    outs: list[list[np.ndarray]] = []
    for s in range(steps):
        chunk = [v[s * sh[0] : (s + 1) * sh[0]] for v, sh in zip(inputs, shapes, strict=True)]
        outs.append(run_module(module, chunk, **kwargs))
    return [np.concatenate(parts, axis=0) for parts in zip(*outs, strict=True)]
