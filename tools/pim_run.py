"""`pim-run`: execute a network (ONNX or pimdsl IR at any supported level) with numpy.

    pim-run model.onnx --output y.npy
    pim-run model.mlir --input x.npy --output y.npy
    pim-run --model resnet18 --image-size 64 --compare-onnxruntime

Without --input, a seeded random input of @main's argument shape is used (times --batch, or
the module's pim.batch, along axis 0). The output tensor is written with np.save. User errors
print one message and exit with status 1; a mismatch beyond --tolerance under
--compare-onnxruntime exits with status 2; an internal error (a pimdsl bug) prints a short
traceback and exits with status 3.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # heavy imports stay inside functions so `pim-run --help` starts fast
    import numpy as np
    from xdsl.dialects.builtin import ModuleOp

PROG = "pim-run"
EXIT_USER_ERROR = 1
EXIT_MISMATCH = 2
EXIT_INTERNAL = 3


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Execute a network with the pimdsl reference interpreter and write its output.",
    )
    from pimdsl.tools.pim_opt import version_text

    p.add_argument(
        "--version",
        action="version",
        version=version_text(PROG),
        help="print pim-run's and xDSL's versions and exit",
    )
    p.add_argument("input_file", nargs="?", metavar="INPUT", help="an .onnx model or .mlir IR file")
    p.add_argument(
        "--model", metavar="NAME", help="run a zoo model instead of INPUT (e.g. resnet18)"
    )
    p.add_argument(
        "--image-size",
        type=int,
        metavar="N",
        help="image size of the zoo model (--model only; default 224)",
    )
    p.add_argument(
        "--chip",
        metavar="NAME|FILE",
        help="chip preset or TOML/JSON file, attached when the IR has none",
    )
    p.add_argument(
        "--batch",
        type=int,
        metavar="N",
        help="number of inferences (images) to run, a multiple of @main's static batch "
        "(default: the module's pim.batch, else one call of @main)",
    )
    p.add_argument(
        "--input",
        dest="input_npy",
        metavar="X.npy",
        help="input tensor (np.save .npy, or an .npz holding one array)",
    )
    p.add_argument("--output", dest="output_npy", metavar="Y.npy", help="where to write the output")
    p.add_argument("--seed", type=int, default=0, help="seed of the random input, >= 0 (default 0)")
    p.add_argument(
        "--compare-onnxruntime",
        action="store_true",
        help="also run the ONNX model with onnxruntime and report the error",
    )
    p.add_argument(
        "--tolerance",
        type=float,
        default=1e-4,
        help="max abs error / max abs reference allowed by --compare-onnxruntime",
    )
    p.add_argument(
        "--mode",
        choices=("ideal", "quantized"),
        default="ideal",
        help="crossbar MVM numerics at the crossbar level and below (default ideal). "
        "quantized: the crossbar level quantizes each layer's input with one scale; "
        "the pim_isa level quantizes each mvm's inputs per executed batch of windows, "
        "so its results differ from the crossbar level's (ideal agrees across levels). "
        "Both use the chip's bit widths and their own scales; a quantized (QDQ) "
        "model's own activation quantization (nn.fake_quant) runs in both modes",
    )
    p.add_argument(
        "--stats",
        metavar="FILE.json",
        help="pim_isa IR: write the simulated timing and energy (docs/simulator.md)",
    )
    p.add_argument(
        "--accuracy",
        metavar="DATASET",
        help="run a labelled data set through the network and report top-1 (and "
        "top-5) accuracy, next to the float model's (onnxruntime) when the ONNX file "
        "is known: digits (scikit-learn's 8x8 digits, test split), digits-train, "
        "digits-all, or an .npz file with arrays x and labels (docs/accuracy.md)",
    )
    p.add_argument(
        "--timing-only",
        action="store_true",
        help="pim_isa IR: simulate timing and energy only, no numerics (automatic "
        "when the IR names no weight file); an error with --input, --output, "
        "--compare-onnxruntime or --mode quantized, which need numerics",
    )
    p.add_argument(
        "--trace",
        metavar="FILE.json",
        help="pim_isa IR: write the simulated per-core timeline as a Chrome/Perfetto "
        "trace (steps every loop: slower than the timing run alone)",
    )
    p.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log what each step does and how long it takes",
    )
    p.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress output on stderr (warnings and errors only)",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from pimdsl import logs, output

    logs.setup(PROG, verbose=args.verbose, quiet=args.quiet, default=logs.QUIET_DEFAULT)

    try:
        # every file pim-run writes is staged and renamed only when the run completed (exit 0,
        # or 2: it ran, and --compare-onnxruntime found a mismatch); never over an input
        with output.session(PROG) as outputs:
            for path, role in (
                (args.input_file, "input file"),
                (args.input_npy, "--input file"),
                (args.chip, "chip file"),
            ):
                if path and (role != "chip file" or path.endswith((".toml", ".json"))):
                    outputs.protect(path, role)
            code = _run(args)
            if code in (0, EXIT_MISMATCH):
                outputs.commit()
            return code
    except BrokenPipeError:  # `pim-run ... | head`
        import os

        # the Python docs' recipe: point stdout at devnull so the exit-time flush stays quiet
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        if args.output_npy is not None or args.stats is not None or args.trace is not None:
            print(f"{PROG}: error: {output.BROKEN_PIPE_NOTE}", file=sys.stderr)
            return EXIT_USER_ERROR
        return 0
    except Exception as e:  # user errors print one line; anything else is a pimdsl bug
        if not _is_user_error(e):
            return _internal_error(e)
        message = str(e).strip() or type(e).__name__
        print(f"{PROG}: error: {message}", file=sys.stderr)
        return EXIT_USER_ERROR


def _internal_error(e: Exception) -> int:
    """A pimdsl bug: a short traceback, without the whole module's IR that xDSL's interpreter
    attaches to an exception as a note (16k lines for a lowered ResNet)."""
    import traceback

    notes = getattr(e, "__notes__", None)
    if notes:
        short = []
        for note in notes:
            lines = note.count("\n")
            short.append(
                note
                if lines <= 20
                else f"(the IR xDSL attached to this error, {lines} lines, is omitted)"
            )
        e.__notes__ = short
    traceback.print_exception(e, limit=-8, file=sys.stderr)
    print(
        f"{PROG}: internal error: {type(e).__name__}: {e}. This is a bug in pimdsl, not in "
        "your input; please report it with the command line.",
        file=sys.stderr,
    )
    return EXIT_INTERNAL


def _is_user_error(e: Exception) -> bool:
    from xdsl.utils.exceptions import DiagnosticException, ParseError

    from pimdsl.errors import PimError

    return isinstance(e, PimError | ParseError | DiagnosticException)


# --- loading --------------------------------------------------------------------------------------


@dataclass
class Loaded:
    module: ModuleOp
    base_dir: Path | None  # where relative weight paths are looked up
    onnx_path: Path | None  # the ONNX model the IR came from, for --compare-onnxruntime
    description: str


def parse_mlir(path: Path) -> ModuleOp:
    """Parse and verify an .mlir file with every dialect pimdsl knows."""
    from xdsl.dialects.builtin import ModuleOp

    from pimdsl import progress
    from pimdsl.dialects import context
    from pimdsl.errors import PimError
    from pimdsl.tools.opt_driver import parse_mlir_file

    ctx = context()
    # pim-opt's reader: binary files, parse and verifier errors all name file(:line)
    with progress.step(PROG, f"parsing {path.name}"):
        module = parse_mlir_file(ctx, str(path))
    if not isinstance(module, ModuleOp):
        raise PimError(f"'{path}' does not hold a builtin.module.")
    return module


def import_onnx_file(path: Path) -> ModuleOp:
    from pimdsl.errors import PimError

    try:
        from pimdsl.frontend import import_onnx  # type: ignore[attr-defined]
    except ImportError:
        raise PimError(
            "the ONNX frontend (pimdsl.frontend.import_onnx) is not available in this build.",
            hint="Run an .mlir file instead.",
        ) from None
    from pimdsl import progress
    from pimdsl.tools.opt_driver import onnx_version_warning

    with progress.step(PROG, f"importing {path.name}"):
        module = import_onnx(path)
    note = onnx_version_warning(str(path))
    if note:
        print(f"{PROG}: warning: {note}", file=sys.stderr)
    return module


def load(args: argparse.Namespace, stack: ExitStack) -> Loaded:
    from pimdsl.errors import PimError

    if args.model:
        if args.input_file:
            raise PimError("give either INPUT or --model NAME, not both.")
        import tempfile

        from pimdsl.models import save_model

        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pim-run-")))
        path = save_model(args.model, folder / f"{args.model}.onnx", image_size=args.image_size)
        return Loaded(import_onnx_file(path), None, path, f"zoo model {args.model}")
    if args.image_size is not None:
        raise PimError("--image-size applies to --model only.")
    if not args.input_file:
        raise PimError(
            "no input: give an .onnx or .mlir file, or --model NAME.", hint="See pim-run --help."
        )
    path = Path(args.input_file)
    if path.is_dir():
        raise PimError(f"the input '{path}' is a folder; give an .onnx or .mlir file.")
    if not path.is_file():
        raise PimError(f"the input file '{path}' does not exist.")
    suffix = path.suffix.lower()
    if suffix == ".onnx":
        # the frontend records the path as given, so it resolves against the CWD
        return Loaded(import_onnx_file(path), None, path, str(path))
    if suffix == ".mlir":
        module = parse_mlir(path)
        return Loaded(module, path.parent, _onnx_source(module, path.parent), str(path))
    raise PimError(f"cannot run '{path}': INPUT must be an .onnx or .mlir file.")


def _onnx_source(module: ModuleOp, base_dir: Path) -> Path | None:
    """The .onnx file an imported module's weights come from, if that is what it names."""
    from pimdsl.errors import PimError
    from pimdsl.module_attrs import get_weights
    from pimdsl.weights import resolve_weight_path

    spec = next((s for s in get_weights(module) or [] if s.lower().endswith(".onnx")), None)
    if spec is None:
        return None
    try:
        return resolve_weight_path(spec, base_dir)
    except PimError:
        return None


# --- running --------------------------------------------------------------------------------------


def load_input_tensor(path: str) -> np.ndarray:
    """An --input tensor: an .npy file, or an .npz file holding exactly one array."""
    from pimdsl.npy_input import load_tensor

    return load_tensor(path)


def make_inputs(
    args: argparse.Namespace, shapes: list[tuple[int, ...]], calls: int
) -> tuple[list[np.ndarray], str]:
    """The inputs: --input, else seeded random tensors for `calls` runs of @main."""
    import numpy as np

    from pimdsl.errors import PimError

    if args.input_npy is not None:
        if len(shapes) != 1:
            raise PimError(f"@main takes {len(shapes)} inputs; --input gives one.")
        return [load_input_tensor(args.input_npy)], f"from {args.input_npy}"
    rng = np.random.default_rng(args.seed)
    xs = [rng.standard_normal((s[0] * calls, *s[1:])).astype(np.float32) for s in shapes]
    return xs, f"random, seed {args.seed}"


def count_calls(args: argparse.Namespace, module: ModuleOp, shapes: list[tuple[int, ...]]) -> int:
    """How many times @main runs: --batch N (else pim.batch) is N inferences, i.e. images,
    the same meaning as in pim-opt and the cost model; @main takes n0 images per call."""
    from pimdsl.dialects.pim_isa import find_program
    from pimdsl.errors import PimError
    from pimdsl.module_attrs import BATCH, get_batch

    n0 = shapes[0][0] if shapes and shapes[0] and shapes[0][0] > 0 else 1
    if args.batch is not None:
        images, origin = args.batch, f"--batch {args.batch}"
    elif find_program(module) is not None:
        return 1  # a lowered @main already holds every image the program was lowered for
    elif BATCH in module.attributes:
        images, origin = get_batch(module), f"the module's pim.batch = {get_batch(module)}"
    else:
        return 1
    if images % n0:
        raise PimError(
            f"{origin} asks for {images} inferences, but @main takes {n0} images per call "
            f"(its static batch) and {images} is not a multiple of {n0}.",
            hint=f"Give --batch as a multiple of {n0} (e.g. --batch {n0 * max(1, images // n0)}).",
        )
    return images // n0


def write_output(path: Path, outputs: list[np.ndarray]) -> None:
    """--output: np.save (one output) or np.savez, staged by `pimdsl.output`."""
    import io

    import numpy as np

    from pimdsl import output

    data = io.BytesIO()  # a file object: numpy must not append '.npy'
    if len(outputs) == 1:
        np.save(data, outputs[0])
    else:
        np.savez(data, **{f"output{i}": y for i, y in enumerate(outputs)})  # type: ignore[arg-type]
    output.write_bytes(path, "--output", data.getvalue())


def onnxruntime_outputs(
    onnx_path: Path, inputs: list[np.ndarray], shapes: list[tuple[int, ...]]
) -> list[np.ndarray]:
    """Run the ONNX model with onnxruntime, one @main-sized batch at a time."""
    import numpy as np
    import onnxruntime as ort

    from pimdsl.errors import PimError

    options = ort.SessionOptions()
    if is_qdq_model(onnx_path):
        # the graph's own float semantics (Q and DQ nodes run as written): onnxruntime's
        # optimiser would replace QDQ pairs by integer kernels that requantize differently
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    try:
        sess = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001 - onnxruntime's verdict on the user's model
        raise PimError(
            f"--compare-onnxruntime: onnxruntime cannot load '{onnx_path}': "
            f"{str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}",
            hint="The model is invalid for onnxruntime; check it with onnx.checker.check_model.",
        ) from None
    names = [i.name for i in sess.get_inputs()]
    # A lowered (pim_isa) @main holds pim.batch x N images; feed the model its own static batch.
    fixed = [
        i.shape[0] if isinstance(i.shape[0], int) and i.shape[0] > 0 else None
        for i in sess.get_inputs()
    ]
    shapes = [
        (f, *sh[1:]) if f and sh and sh[0] % f == 0 else sh
        for f, sh in zip(fixed, shapes, strict=True)
    ]
    steps = inputs[0].shape[0] // shapes[0][0] if shapes else 1
    runs = []
    for s in range(steps):
        feed = {
            n: x[s * sh[0] : (s + 1) * sh[0]]
            for n, x, sh in zip(names, inputs, shapes, strict=True)
        }
        try:
            runs.append(sess.run(None, feed))
        except Exception as exc:  # noqa: BLE001 - onnxruntime rejects the model at run time
            raise PimError(
                f"--compare-onnxruntime: onnxruntime cannot run '{onnx_path}': "
                f"{str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__}",
                hint="Check the model with onnx.checker.check_model.",
            ) from None
    return [np.concatenate(parts, axis=0) for parts in zip(*runs, strict=True)]


def is_qdq_model(onnx_path: Path) -> bool:
    """Whether the model has QuantizeLinear/DequantizeLinear nodes (read without its weights)."""
    from pimdsl.errors import PimError
    from pimdsl.frontend.loading import open_model

    try:
        graph = open_model(str(onnx_path), None).model.graph
    except PimError:
        return False
    return any(n.op_type in ("QuantizeLinear", "DequantizeLinear") for n in graph.node)


def _stats(y: np.ndarray) -> str:
    if y.size == 0:
        return f"shape {list(y.shape)} (empty)"
    return (
        f"shape {list(y.shape)}  min {float(y.min()):.6g}  max {float(y.max()):.6g}  "
        f"mean {float(y.mean()):.6g}"
    )


def _run(args: argparse.Namespace) -> int:
    import numpy as np

    from pimdsl import limits, output
    from pimdsl.errors import INPUT_EXCEPTIONS, PimError, input_error
    from pimdsl.module_attrs import set_batch
    from pimdsl.sim.runner import dialects_used, main_input_shapes, run_batched

    if args.batch is not None and args.batch < 1:
        raise PimError(f"--batch must be >= 1, got {args.batch}.")
    if args.batch is not None:
        limits.check(args.batch, limits.BATCH, what="--batch")
    if args.image_size is not None:
        limits.check(args.image_size, limits.IMAGE_SIZE, what="--image-size")
    if args.seed < 0:
        raise PimError(f"--seed must be >= 0, got {args.seed}.")
    with ExitStack() as stack:
        try:
            loaded = load(args, stack)
        except INPUT_EXCEPTIONS as exc:
            raise input_error(exc, args.input_file or f"--model {args.model}") from None  # type: ignore[misc]
        module = loaded.module
        levels = [d for d in dialects_used(module) if d not in ("builtin", "func")]
        if args.chip:
            apply_chip(args.chip, module, levels)
        check_compiled_batch(args, module, levels)
        if args.batch is not None:
            set_batch(module, args.batch)
        # everything cheap is checked before the (possibly long) timing simulation
        protect_weights(module, loaded.base_dir)
        if args.output_npy is not None:
            output.check(args.output_npy, "--output")
        if args.stats is not None:
            output.check(args.stats, "--stats")
        if args.trace is not None:
            output.check(args.trace, "--trace")
        if args.compare_onnxruntime and loaded.onnx_path is None:
            raise PimError(
                "--compare-onnxruntime needs the ONNX model: give an .onnx INPUT, --model, "
                "or IR whose pim.weights names the .onnx file it was imported from."
            )
        numerics = check_timing_options(args, module)
        if not numerics:  # timing only: no @main, inputs or weights needed
            _timing_run(args, module)
            return 0
        if args.accuracy is not None:
            return _accuracy_run(args, module, loaded, levels)
        shapes = main_input_shapes(module)
        calls = count_calls(args, module, shapes)
        check_run_size(module, shapes, calls, loaded.description)
        inputs, origin = make_inputs(args, shapes, calls)
        check_input_shapes(inputs, shapes)
        _timing_run(args, module)  # pim_isa IR only: timing and energy
        if args.mode == "quantized" and not {"crossbar", "pim_isa"} & set(levels):
            print(
                f"{PROG}: note: --mode quantized applies from the crossbar level down; this module "
                f"is at level {', '.join(levels) or 'func'}, so it runs in float32 (ideal) numerics. "
                "Lower it with --partition --partition-to-crossbar to see quantization.",
                file=sys.stderr,
            )

        from pimdsl import progress

        start = time.perf_counter()
        run_stats: dict[str, float] = {}
        with progress.step(PROG, f"running {calls} call(s) of @main"):
            outputs = run_batched(
                module,
                inputs,
                base_dir=loaded.base_dir,
                options={"mode": args.mode, "stats": run_stats},
            )
        elapsed = time.perf_counter() - start

        print(f"{PROG}: {loaded.description} (level {', '.join(levels) or 'func'})")
        for i, x in enumerate(inputs):
            print(f"  input {i}: shape {list(x.shape)} ({origin})")
        for i, y in enumerate(outputs):
            print(f"  output {i}: {_stats(y)}")
        warn_nonfinite(outputs, inputs)
        print(f"  time: {elapsed:.3f} s")
        for (
            key,
            value,
        ) in run_stats.items():  # weight reloads, DRAM traffic (partition level and below)
            print(f"  {key}: {value:.0f}")

        if args.output_npy is not None:
            write_output(Path(args.output_npy), outputs)
            print(f"  wrote {args.output_npy}")

        if args.compare_onnxruntime:
            assert loaded.onnx_path is not None
            refs = onnxruntime_outputs(loaded.onnx_path, inputs, shapes)
            worst = 0.0
            nonfinite: list[str] = []
            for i, (y, ref) in enumerate(zip(outputs, refs, strict=True)):
                if y.shape != ref.shape:
                    raise PimError(
                        f"output {i} has shape {list(y.shape)}, onnxruntime gives {list(ref.shape)}."
                    )
                # a NaN or inf in either output is a mismatch: nan would pass every `<=` test
                bad_y, bad_ref = int((~np.isfinite(y)).sum()), int((~np.isfinite(ref)).sum())
                if bad_y or bad_ref:
                    nonfinite.append(f"output {i}: {bad_y} in pimdsl's, {bad_ref} in onnxruntime's")
                    print(
                        f"  onnxruntime output {i}: NaN/inf values: {bad_y} in pimdsl's output, "
                        f"{bad_ref} in onnxruntime's"
                    )
                    continue
                err = float(np.abs(y - ref).max()) if y.size else 0.0
                scale = float(np.abs(ref).max()) if ref.size else 0.0
                rel = err / scale if scale > 0 else err
                worst = max(worst, rel)
                print(
                    f"  onnxruntime output {i}: max abs error {err:.3g}, max abs reference "
                    f"{scale:.3g}, relative {rel:.3g}"
                )
            if nonfinite:
                print(
                    f"{PROG}: MISMATCH: NaN or inf values ({'; '.join(nonfinite)}); any NaN/inf "
                    "in either output counts as a mismatch (check the input for NaN/inf)",
                    file=sys.stderr,
                )
                return EXIT_MISMATCH
            if not worst <= args.tolerance:
                print(
                    f"{PROG}: MISMATCH: relative error {worst:.3g} exceeds the tolerance "
                    f"{args.tolerance:g}",
                    file=sys.stderr,
                )
                return EXIT_MISMATCH
            print(f"  matches onnxruntime within {args.tolerance:g}")
    return 0


def check_run_size(module: ModuleOp, shapes: list[tuple[int, ...]], calls: int, where: str) -> None:
    """The interpreter allocates every tensor of @main (and the inputs of all calls): each
    within limits.RUN_ELEMENTS, checked before anything is allocated."""
    from pimdsl import limits

    limits.check_module_shapes(module, lambda op: where, elements=limits.RUN_ELEMENTS)
    for i, s in enumerate(shapes):
        limits.check_shape(
            (s[0] * calls, *s[1:]) if s else s,
            what=f"the input {i} of all {calls} call(s)",
            elements=limits.RUN_ELEMENTS,
        )
    from pimdsl.sim.runner import find_main

    for i, t in enumerate(find_main(module).function_type.outputs.data):
        get_shape = getattr(t, "get_shape", None)
        s = tuple(int(d) for d in get_shape()) if get_shape else ()
        if s and all(d >= 0 for d in s):  # the outputs of all calls are concatenated
            limits.check_shape(
                (s[0] * calls, *s[1:]),
                what=f"the output {i} of all {calls} call(s)",
                elements=limits.RUN_ELEMENTS,
            )


def protect_weights(module: ModuleOp, base_dir: Path | None) -> None:
    """The weight file the module names (pim.weights) is an input: never an output."""
    import os

    from pimdsl import output
    from pimdsl.module_attrs import get_weights

    for spec in get_weights(module) or []:  # every weight file it names
        for base in (base_dir, Path.cwd()):
            if base is not None:
                output.protect(os.path.join(base, spec), "weight file (pim.weights)")


def apply_chip(spec: str, module: ModuleOp, levels: list[str]) -> None:
    """--chip: always validated; attached to IR without a chip, and replacing the chip of
    nn-level IR (which nothing was placed for) or a chip that differs only in device
    non-idealities; partitioned or lowered IR was made for its chip, so a different design is
    an error rather than silently ignored."""
    from pimdsl.chip import load_chip, same_design
    from pimdsl.errors import PimError
    from pimdsl.module_attrs import get_chip, set_chip

    chip = load_chip(spec)
    old = get_chip(module, required=False)
    if old is None or old == chip:
        set_chip(module, chip)
        return
    compiled = next((lv for lv in ("pim_isa", "crossbar", "partition") if lv in levels), None)
    if compiled is None or same_design(old, chip):
        print(
            f"{PROG}: note: --chip {spec} replaces the module's chip '{old.name}'.", file=sys.stderr
        )
        set_chip(module, chip)
        return
    raise PimError(
        f"--chip {spec}: this IR is at the {compiled} level, compiled for chip '{old.name}' "
        f"(module attribute pim.chip); its partitions{' and placement' if compiled != 'partition' else ''} "
        "were made for that chip, so pim-run cannot run it on another.",
        hint=f"Drop --chip, or compile again: pim-opt model.onnx --chip {spec} --partition ...",
    )


def warn_nonfinite(outputs: list[np.ndarray], inputs: list[np.ndarray]) -> None:
    """A NaN or infinity in an output is printed as a warning (the exit status stays 0)."""
    import numpy as np

    for i, y in enumerate(outputs):
        nan, inf = int(np.isnan(y).sum()), int(np.isinf(y).sum())
        if nan or inf:
            bad_in = sum(int((~np.isfinite(x)).sum()) for x in inputs)
            cause = (
                f"the input holds {bad_in} NaN/inf values"
                if bad_in
                else "an overflow in the network or its weights"
            )
            print(
                f"{PROG}: warning: output {i} holds {nan} NaN and {inf} infinite values of "
                f"{y.size} (likely cause: {cause}).",
                file=sys.stderr,
            )


def check_compiled_batch(args: argparse.Namespace, module: ModuleOp, levels: list[str]) -> None:
    """A crossbar or pim_isa program is compiled for its pim.batch (partitions, replicas,
    the image loop); --batch may repeat that number but not relabel it, or throughput and
    energy per inference would be off by the ratio."""
    from pimdsl.errors import PimError
    from pimdsl.module_attrs import BATCH, get_batch

    level = next((lv for lv in ("pim_isa", "crossbar") if lv in levels), None)
    if args.batch is None or level is None or BATCH not in module.attributes:
        return
    compiled = get_batch(module)
    flag = "--lower-to-isa" if level == "pim_isa" else "--partition-to-crossbar"
    if args.batch != compiled:
        raise PimError(
            f"this program was lowered for batch {compiled} (module attribute pim.batch, "
            f"{level} level); --batch {args.batch} cannot change that, since partitions, "
            "replicas and timing were chosen for that batch.",
            hint=f"Re-run pim-opt from the ONNX or nn-level IR with --batch {args.batch} (e.g. "
            f"pim-opt model.onnx --chip CHIP --batch {args.batch} --partition {flag} "
            f"-o model.{level}.mlir), or drop --batch (or give --batch {compiled}).",
        )


def check_timing_options(args: argparse.Namespace, module: ModuleOp) -> bool:
    """Whether the numerics run: not under --timing-only, nor for pim_isa IR without a weight
    file. Options that need the numerics are then an error rather than silently dropped."""
    from pimdsl.dialects.pim_isa import find_program
    from pimdsl.errors import PimError
    from pimdsl.module_attrs import get_weights

    if find_program(module) is None:
        if args.stats is not None or args.timing_only or args.trace is not None:
            raise PimError(
                "--stats, --trace and --timing-only need pim_isa-level IR (the timing model runs the "
                "per-core instruction programs), but this module holds no pim_isa.program.",
                hint="Lower it first: pim-opt model.mlir --lower-to-isa -o model.isa.mlir.",
            )
        return True
    if not args.timing_only and get_weights(module) is not None:
        return True
    numeric = [
        opt
        for opt, given in (
            ("--input", args.input_npy is not None),
            ("--output", args.output_npy is not None),
            ("--compare-onnxruntime", args.compare_onnxruntime),
            ("--mode quantized", args.mode == "quantized"),
        )
        if given
    ]
    why = (
        "--timing-only runs no numerics"
        if args.timing_only
        else "this pim_isa IR names no weight file (pim.weights), so only timing can be simulated"
    )
    if numeric:
        raise PimError(
            f"{why}, but {', '.join(numeric)} need{'s' if len(numeric) == 1 else ''} the numerics.",
            hint="Drop --timing-only to run the numerics too."
            if args.timing_only
            else "Give the module a weight file (pim.weights) or drop those options.",
        )
    return False


def check_input_shapes(inputs: list[np.ndarray], shapes: list[tuple[int, ...]]) -> None:
    """The inputs fit @main (a whole number of its static batches along axis 0)."""
    from pimdsl.errors import PimError

    if len(inputs) != len(shapes):
        raise PimError(f"@main takes {len(shapes)} inputs, {len(inputs)} were given.")
    for i, (value, shape) in enumerate(zip(inputs, shapes, strict=True)):
        ok = (
            bool(shape)
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


def _timing_run(args: argparse.Namespace, module: ModuleOp) -> None:
    """Simulate timing and energy of pim_isa IR (print a summary, write --stats)."""
    from pimdsl.dialects.pim_isa import find_program
    from pimdsl.module_attrs import get_weights

    if find_program(module) is None:
        return
    from pimdsl import progress
    from pimdsl.sim.stats import write_stats
    from pimdsl.sim.timing import simulate_module

    with progress.step(PROG, "simulating timing and energy"):
        stats = simulate_module(module)
    print(f"{PROG}: {stats.summary()}")
    print(f"  timing simulated in {stats.sim_seconds:.3f} s")
    if args.stats is not None:
        write_stats(args.stats, stats)
        print(f"  wrote {args.stats}")
    if args.trace is not None:
        _write_trace(args.trace, module)
    if not args.timing_only and get_weights(module) is None:
        print("  (no weight file: timing only; give pim.weights to run the numerics too)")


def _accuracy_run(
    args: argparse.Namespace, module: ModuleOp, loaded: Loaded, levels: list[str]
) -> int:
    """--accuracy: the data set through @main, scored against its labels and the float model."""
    from pimdsl import accuracy
    from pimdsl.errors import PimError
    from pimdsl.module_attrs import get_chip
    from pimdsl.sim.runner import main_input_shapes

    clash = [
        o
        for o, given in (
            ("--input", args.input_npy),
            ("--batch", args.batch),
            ("--compare-onnxruntime", args.compare_onnxruntime),
        )
        if given
    ]
    if clash:
        raise PimError(f"--accuracy runs the data set's own images; drop {', '.join(clash)}.")
    x, labels, name = accuracy.load_dataset(args.accuracy)
    shapes = main_input_shapes(module)
    x = accuracy.fit_images(x, shapes)
    _timing_run(args, module)
    chip = get_chip(module, required=False)
    if chip is not None and chip.non_ideal and args.mode != "quantized":
        print(
            f"{PROG}: note: chip '{chip.name}' has device non-idealities; they act in "
            "--mode quantized only.",
            file=sys.stderr,
        )
    stats: dict[str, float] = {}
    logits, seconds = accuracy.timed_run(
        module, x, base_dir=loaded.base_dir, options={"mode": args.mode, "stats": stats}
    )
    reference = None
    if loaded.onnx_path is not None:
        batch = shapes[0][0]
        reference = onnxruntime_outputs(loaded.onnx_path, [accuracy.padded(x, batch)], shapes)[0]
        reference = reference.reshape(len(reference), -1)[: len(x)]
    result = accuracy.evaluate(name, logits, labels, reference, seconds=seconds, stats=stats)
    print(f"{PROG}: {loaded.description} (level {', '.join(levels) or 'func'}, mode {args.mode})")
    for line in result.lines():
        print(line)
    for key, value in stats.items():
        print(f"  {key}: {value:.0f}")
    if args.output_npy is not None:
        write_output(Path(args.output_npy), [logits])
        print(f"  wrote {args.output_npy}")
    return 0


def _write_trace(path: str, module: ModuleOp) -> None:
    """Simulate again with every loop stepped, recording each instruction, and write the
    Chrome/Perfetto trace (`pimdsl.sim.chrome_trace`)."""
    from pimdsl import output, progress, strict_json
    from pimdsl.dialects import pim_isa as isa
    from pimdsl.errors import PimError
    from pimdsl.module_attrs import get_batch, get_chip
    from pimdsl.sim.chrome_trace import MAX_EVENTS, chrome_trace
    from pimdsl.sim.timing import simulate_module

    program = isa.find_program(module)
    assert program is not None
    events: dict[int, list[Any]] = {
        op.number: [] for op in program.body.block.ops if isinstance(op, isa.PartitionOp)
    }
    with progress.step(PROG, "stepping every loop for --trace"):
        simulate_module(module, step_all=True, events=events)
    count = sum(len(e) for e in events.values())
    if count > MAX_EVENTS:
        raise PimError(
            f"--trace: the timeline has {count} events, more than a trace viewer "
            f"handles ({MAX_EVENTS}).",
            hint="Lower a smaller batch (--batch) or fewer partitions and trace that.",
        )
    chip = get_chip(module)
    assert chip is not None
    doc = chrome_trace(events, chip.name, get_batch(module))
    output.write_text(path, "--trace", strict_json.dumps(doc, what="--trace"))
    print(f"  wrote {path} ({count} events)")


def _main_entry() -> Any:  # pragma: no cover - `python -m pimdsl.tools.pim_run`
    raise SystemExit(main())


if __name__ == "__main__":  # pragma: no cover
    _main_entry()
