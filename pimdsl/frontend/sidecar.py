"""The side-car weight file: tensors the import computed (folded) that the IR refers to by name.

A model whose weights are produced by its graph (`ConstantOfShape`, `DequantizeLinear` of int8
weights, a `Cast` of float16 ones...) has no file holding them. The importer gives each such
tensor an `nn.weight "<ONNX value name>"` and writes it here, one tensor at a time, to

- the path the caller names (pim-opt: `<output>.weights.npz` next to its `-o` file), never over
  an input or a file pimdsl did not write;
- else a content-addressed file `<sha256>.npz` in the user cache folder (`weights/`), so
  importing the same model twice reuses one file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from pimdsl.cache import cache_dir
from pimdsl.errors import PimError
from pimdsl.frontend.values import Const
from pimdsl.weights import is_sidecar, write_npz

SUFFIX = ".weights.npz"


def sidecar_path_for(output: str | os.PathLike[str]) -> str:
    """The side-car of an output file: `out.mlir` -> `out.mlir.weights.npz`."""
    return os.fspath(output) + SUFFIX


def write_sidecar(
    tensors: dict[str, Const],
    dest: str | os.PathLike[str] | None,
    *,
    source: str,
    protected: list[str],
) -> str:
    """Write `tensors` to `dest` (or the cache when None); return the path to record."""
    entries = {name: c.compute for name, c in tensors.items()}
    if dest is None:
        return str(_write_to_cache(entries, source))
    path = os.fspath(dest)
    _check_writable(path, source, protected)
    folder = os.path.dirname(os.path.abspath(path))
    fd, scratch = tempfile.mkstemp(prefix=".pim-sidecar-", suffix=".npz", dir=folder)
    os.close(fd)
    try:
        write_npz(scratch, entries)
        os.chmod(scratch, 0o644)
        os.replace(scratch, path)
    except OSError as e:
        raise PimError(
            f"cannot write the side-car weight file '{path}': {e.strerror}.",
            where=source,
            hint="Choose an output folder you can write to.",
        ) from None
    finally:
        Path(scratch).unlink(missing_ok=True)
    return path


def _check_writable(path: str, source: str, protected: list[str]) -> None:
    for other in protected:
        if os.path.exists(other) and os.path.exists(path) and os.path.samefile(path, other):
            raise PimError(
                f"the side-car weight file '{path}' would overwrite the input '{other}'.",
                where=source,
                hint="Choose another output name.",
            )
    if os.path.isdir(path):
        raise PimError(
            f"the side-car weight file '{path}' is a folder.",
            where=source,
            hint="Move the folder away or choose another output name.",
        )
    if os.path.exists(path) and not is_sidecar(path):
        raise PimError(
            f"the model has weights computed at import, which go to the side-car file '{path}', "
            "but that file exists and was not written by pimdsl; it is left untouched.",
            where=source,
            hint="Move the file away or choose another output name (-o).",
        )


def _write_to_cache(entries: Mapping[str, object], source: str) -> Path:
    folder = cache_dir() / "weights"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, scratch = tempfile.mkstemp(prefix=".sidecar-", suffix=".npz", dir=folder)
    except OSError as e:
        raise PimError(
            f"cannot create the side-car weight file in the cache folder '{folder}': {e.strerror}.",
            where=source,
            hint="Set PIMDSL_CACHE (or XDG_CACHE_HOME) to a folder you can write to, "
            "or write the IR to a file with -o (the side-car then goes next to it).",
        ) from None
    os.close(fd)
    digest = hashlib.sha256()

    def hash_tensor(name: str, array: np.ndarray) -> None:
        digest.update(f"{name}\0{array.dtype.str}\0{list(array.shape)}\0".encode())
        digest.update(array.data.cast("B"))

    try:
        write_npz(scratch, entries, on_tensor=hash_tensor)  # type: ignore[arg-type]
        path = folder / f"{digest.hexdigest()[:32]}.npz"
        os.chmod(scratch, 0o644)
        os.replace(scratch, path)  # same content, same name: replacing a twin is harmless
    finally:
        Path(scratch).unlink(missing_ok=True)
    return path
