"""`--model NAME`: zoo models (pimdsl.models) saved once into the cache folder as .onnx files."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from importlib import import_module
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pimdsl
from pimdsl.cache import cache_dir
from pimdsl.errors import PimError


def _zoo_fingerprint() -> str:
    """A short hash of the zoo's source, so a changed builder never serves a stale model."""
    digest = hashlib.sha256(pimdsl.__version__.encode())
    spec = find_spec("pimdsl.models")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        for path in sorted(Path(folder).rglob("*.py")):
            digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def _zoo() -> Any:
    try:
        models = import_module("pimdsl.models")
    except ModuleNotFoundError as exc:  # pragma: no cover - the package always has the folder
        raise PimError("the model zoo (pimdsl.models) is not installed.") from exc
    if not hasattr(models, "save_model"):
        raise PimError(
            "the model zoo (pimdsl.models.save_model) is not available in this build.",
            hint="Give an .onnx or .mlir file instead of --model.",
        )
    return models


def zoo_model_names() -> list[str]:
    """Names `--model` accepts, as the zoo lists them."""
    return sorted(_zoo().list_models())


def cached_model(name: str) -> Path:
    """The ONNX file of zoo model `name`, saved into the cache folder on first use.

    The model is written into a fresh folder that is renamed into place, so concurrent runs
    (lit runs tests in parallel) never read a half-written file.
    """
    models = _zoo()
    folder = cache_dir() / "models" / f"{name}-{_zoo_fingerprint()}"
    path = folder / f"{name}.onnx"
    if path.exists():
        return path
    folder.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=folder.parent))
    scratch.chmod(0o777 & ~_umask())  # mkdtemp makes it private; the cache is shareable
    try:
        models.save_model(name, str(scratch / f"{name}.onnx"))
        try:
            scratch.rename(folder)
        except OSError:  # another process got there first: use its copy
            if not path.exists():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    for stale in folder.parent.iterdir():  # copies built by an older zoo
        if stale != folder and re.fullmatch(rf"{re.escape(name)}-[0-9a-f]{{10}}", stale.name):
            shutil.rmtree(stale, ignore_errors=True)
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
