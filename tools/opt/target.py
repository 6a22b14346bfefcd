"""`--chip` and `--batch`: checked when the command line is read, filling in what the input
lacks while it is parsed (so it verifies against them), and run as the `set-target` pass
(passes/set_target.py) first in the pipeline, which replaces other values and re-costs."""

from __future__ import annotations

import argparse
import sys

from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass, PassPipeline

from pimdsl import limits, module_attrs
from pimdsl.chip import Chip, load_chip
from pimdsl.errors import PimError

# a pipeline starting with one of these groups the partitions again (for the new chip)
REGROUPING_PASSES = ("partition", "ga-group")


def checked_chip(args: argparse.Namespace) -> Chip | None:
    """The chip `--chip` names (None without it); a bad --chip or --batch is a PimError."""
    chip = load_chip(args.chip) if args.chip is not None else None
    if args.batch is not None and args.batch < 1:
        raise PimError(f"--batch must be a positive integer, got {args.batch}.")
    if args.batch is not None:
        limits.check(args.batch, limits.BATCH, what="--batch")
    return chip


def fill_in(module: ModuleOp, chip: Chip | None, args: argparse.Namespace) -> None:
    """Set the chip and batch the module lacks; a note for each value `set-target` replaces."""
    from pimdsl.passes.set_target import replaced_values

    old_chip, old_batch = replaced_values(module, chip, args.batch)
    if old_chip is not None:
        _note(f"--chip {args.chip} replaces the module's chip '{old_chip.name}'.")
    elif chip is not None:
        module_attrs.set_chip(module, chip)
    if old_batch is not None:
        _note(f"--batch {args.batch} replaces the module's batch {old_batch}.")
    elif args.batch is not None:
        module_attrs.set_batch(module, args.batch)


def with_target_pass(pipeline: PassPipeline, args: argparse.Namespace) -> PassPipeline:
    """`pipeline` with `set-target` first when --chip or --batch is given; told when the
    pipeline partitions again (then partitions that no longer fit go back to the nn level)."""
    if args.chip is None and args.batch is None:
        return pipeline
    from pimdsl.passes.set_target import SetTargetPass

    first = pipeline.passes[0].name if pipeline.passes else None
    target: ModulePass = SetTargetPass(
        chip=args.chip or "", batch=args.batch or 0, regroup=first in REGROUPING_PASSES
    )
    return PassPipeline((target, *pipeline.passes), pipeline.callback)


def _note(message: str) -> None:
    print(f"pim-opt: note: {message}", file=sys.stderr)
