"""`python -m pimdsl.models NAME [-o FILE]`: write a zoo model to an .onnx file."""

from __future__ import annotations

import argparse
import os
import sys

import onnx

from pimdsl.errors import PimError
from pimdsl.models import STYLES, build_model, count_parameters, list_models


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pimdsl.models",
        description=f"Write a zoo model as ONNX. Models: {', '.join(list_models())}.",
    )
    parser.add_argument("name", help="model name, or 'list' to print the names")
    parser.add_argument("-o", "--output", help="output file (default: NAME.onnx)")
    parser.add_argument("--style", default="torchscript", choices=STYLES)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--image-size", type=int, default=None)
    args = parser.parse_args(argv)
    if args.name == "list":
        print("\n".join(list_models()))
        return 0
    if args.seed < 0:
        print(f"error: --seed must be >= 0, got {args.seed}.", file=sys.stderr)
        return 1
    try:
        model = build_model(
            args.name,
            style=args.style,
            seed=args.seed,
            batch=args.batch,
            image_size=args.image_size,
        )
    except PimError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    path = args.output or f"{args.name}.onnx"
    folder = os.path.dirname(os.path.abspath(path))
    problem = None
    if os.path.isdir(path):
        problem = f"-o '{path}' is a folder; give a file name, e.g. -o {os.path.join(path, args.name + '.onnx')}."
    elif not os.path.isdir(folder):
        problem = f"cannot write '{path}': folder '{folder}' does not exist."
    if problem is None:
        try:
            onnx.save_model(model, path)
        except OSError as exc:
            problem = f"cannot write '{path}': {exc.strerror}."
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    print(f"wrote {path} ({args.style}, {count_parameters(model):,} parameters)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
