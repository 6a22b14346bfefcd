"""The weight file of a module: where `nn.weight "name"` finds its tensor.

A module names its weight file in the attribute `pim.weights` (see `pimdsl.module_attrs`), or
several files searched in order (the model and the side-car of tensors computed at import).
Three formats are read:

- `.onnx`: initializers (and `Constant` node tensors of more than one element) by name. The
  model is parsed once by the frontend's wire-level loader (`pimdsl.frontend.wire`), which
  leaves the payloads of large tensors in the file; each tensor is read only when asked for (float32 `raw_data`
  straight into its array), so running a 500 MB model needs about 1x its size in memory.
  External data (`model.onnx` + `model.onnx.data`) is read from the model's directory.
- `.npz`: one array per key (a side-car file; `write_npz` writes one).
- `.safetensors`: tensors by name, memory-mapped by the safetensors package.

Every tensor is returned as float32.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pimdsl.errors import PimError

FORMATS = (".onnx", ".npz", ".safetensors")


def resolve_weight_path(spec: str, base_dir: Path | None = None) -> Path:
    """Find the weight file `spec` names: absolute, relative to `base_dir` (the `.mlir`
    file's directory) or relative to the current directory, in that order."""
    path = Path(spec)
    if path.is_absolute():
        candidates = [path]
    else:
        candidates = ([base_dir / path] if base_dir is not None else []) + [Path.cwd() / path]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    tried = ", ".join(f"'{c}'" for c in candidates)
    raise PimError(
        f"the weight file '{spec}' (module attribute pim.weights) does not exist (tried {tried}).",
        hint="Put the file next to the .mlir file, or set pim.weights to its absolute path.",
    )


class WeightStore(Mapping[str, np.ndarray]):
    """Read-only, lazily loaded mapping name -> float32 array over one or more weight files.

    With several files (a model and its side-car), each name is looked up in the files in
    order and the first file holding it wins."""

    def __init__(
        self,
        path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
        *,
        base_dir: Path | None = None,
    ):
        specs = [path] if isinstance(path, str | os.PathLike) else list(path)
        self.paths = [resolve_weight_path(os.fspath(p), base_dir) for p in specs]
        for p in self.paths:
            if p.suffix.lower() not in FORMATS:
                raise PimError(
                    f"the weight file '{p}' has an unknown format '{p.suffix.lower()}'.",
                    hint=f"Use one of {', '.join(FORMATS)}.",
                )
        self._cache: dict[str, np.ndarray] = {}
        self._readers = [_open(p, p.suffix.lower()) for p in self.paths]

    @property
    def path(self) -> str:
        """The file(s), for messages."""
        return " + ".join(str(p) for p in self.paths)

    @classmethod
    def for_module(cls, module: Any, *, base_dir: Path | None = None) -> WeightStore | None:
        """The store a module's `pim.weights` names, or None for a shape-only module."""
        from pimdsl.module_attrs import get_weights

        specs = get_weights(module)
        return None if specs is None else cls(specs, base_dir=base_dir)

    def _reader_of(self, name: str) -> _Reader | None:
        return next((r for r in self._readers if name in r), None)

    # --- Mapping ---------------------------------------------------------------------------

    def __getitem__(self, name: str) -> np.ndarray:
        array = self._cache.get(name)
        if array is None:
            reader = self._reader_of(name)
            if reader is None:
                raise KeyError(name)
            try:
                array = np.asarray(reader.load(name), dtype=np.float32)
            except (OSError, ValueError) as e:
                raise PimError(
                    f"cannot read tensor '{name}' from the weight file '{self.path}': {e}"
                ) from e
            self._cache[name] = array
        return array

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._reader_of(name) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    def _names(self) -> list[str]:
        return list(dict.fromkeys(n for r in self._readers for n in r.names()))

    # --- checked access --------------------------------------------------------------------

    def shape(self, name: str) -> tuple[int, ...]:
        """The stored shape of `name`, read from metadata where the format allows."""
        reader = self._reader_of(name)
        if name in self._cache or reader is None or not reader.cheap_shapes:
            return self[name].shape
        return reader.shape(name)

    def check(self, name: str, shape: Sequence[int], *, where: str) -> None:
        """Raise a PimError unless the file holds `name` with exactly `shape`."""
        if name not in self:
            raise PimError(
                f"{where}: the weight file '{self.path}' has no tensor named '{name}'.",
                hint="Check the name in the IR against the file (an ONNX initializer, npz key or "
                "safetensors name), or point pim.weights at the file the IR was made from.",
            )
        stored = tuple(self.shape(name))
        if stored != tuple(shape):
            raise PimError(
                f"{where}: tensor '{name}' in the weight file '{self.path}' has shape "
                f"{list(stored)}, but the IR says {list(shape)}.",
                hint="The weight file does not belong to this IR; re-export one or the other.",
            )

    def fetch(self, name: str, shape: Sequence[int], *, where: str) -> np.ndarray:
        """`store[name]` after `check`: the error names `where` (the op) and the file."""
        self.check(name, shape, where=where)
        return self[name]


SIDECAR_COMMENT = b"pimdsl side-car weights"
# A fixed timestamp for every entry, so the same tensors always give the same bytes.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def write_npz(
    path: str | os.PathLike[str],
    tensors: Mapping[str, Any],
    *,
    on_tensor: Callable[[str, np.ndarray], None] | None = None,
) -> Path:
    """Write a side-car weight file (float32, uncompressed so it loads fast).

    A value may be a callable that computes the array: it is called when its entry is written
    and the array is dropped afterwards, so only one tensor is in memory at a time. The file is
    deterministic (fixed entry timestamps) and marked as pimdsl's in its zip comment;
    `on_tensor(name, array)` sees every array as written (e.g. to hash the contents)."""
    out = Path(path)
    if out.suffix != ".npz":
        raise PimError(f"a side-car weight file must end in .npz, got '{out}'.")
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        zf.comment = SIDECAR_COMMENT
        for name, value in tensors.items():
            array = np.ascontiguousarray(value() if callable(value) else value, dtype=np.float32)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_EPOCH)
            info.external_attr = 0o644 << 16
            with zf.open(info, "w", force_zip64=True) as f:
                np.lib.format.write_array(f, array, allow_pickle=False)
            if on_tensor is not None:
                on_tensor(name, array)
            del array
    return out


def is_sidecar(path: str | os.PathLike[str]) -> bool:
    """True when `path` is a side-car weight file pimdsl wrote (safe to replace)."""
    try:
        with zipfile.ZipFile(path) as zf:
            return zf.comment == SIDECAR_COMMENT
    except (OSError, zipfile.BadZipFile):
        return False


# --- readers, one per format ------------------------------------------------------------------


class _Reader:
    cheap_shapes = True  # False: reading a shape costs as much as reading the tensor

    def __contains__(self, name: object) -> bool:
        return name in self.names()

    def names(self) -> Sequence[str]:
        raise NotImplementedError

    def shape(self, name: str) -> tuple[int, ...]:
        raise NotImplementedError

    def load(self, name: str) -> np.ndarray:
        raise NotImplementedError


def _open(path: Path, suffix: str) -> _Reader:
    try:
        if suffix == ".onnx":
            return _OnnxReader(path)
        if suffix == ".npz":
            return _NpzReader(path)
        return _SafetensorsReader(path)
    except PimError:
        raise
    except Exception as e:  # a corrupt file: any library error becomes a user error
        raise PimError(
            f"cannot read the weight file '{path}' ({type(e).__name__}: {e}).",
            hint=f"Check that it is a valid {suffix} file.",
        ) from e


class _OnnxReader(_Reader):
    """Initializers (and `Constant` node tensors, which pimdsl treats as initializers named
    after the node's output) through the frontend's wire-level loader: the model is parsed
    without the payloads of large tensors, which stay in the file until asked for."""

    def __init__(self, path: Path):
        from pimdsl.frontend.loading import open_model

        self._path = path
        self._store = open_model(str(path), None).weights
        self._names = list(self._store.tensors)

    def names(self) -> Sequence[str]:
        return self._names

    def __contains__(self, name: object) -> bool:
        return name in self._store

    def shape(self, name: str) -> tuple[int, ...]:
        return self._store.shape(name)

    def load(self, name: str) -> np.ndarray:
        stripped = self._store.stripped.get(name)
        if stripped is not None and self._store.is_float32(name) and len(stripped.ranges) == 1:
            array = _read_raw_float32(self._path, stripped.ranges[0], self._store.shape(name))
            if array is not None:
                return array
        return self._store.load(name)


_RAW_DATA_KEY = (9 << 3) | 2  # TensorProto.raw_data, length-delimited


def _read_raw_float32(
    path: Path, field: tuple[int, int], shape: tuple[int, ...]
) -> np.ndarray | None:
    """Read a float32 `raw_data` field straight from the file into one array (no protobuf
    copy, which would triple the peak memory of a 400 MB tensor). None if it is not one."""
    start, end = field
    count = int(np.prod(shape, dtype=np.int64))
    with open(path, "rb") as f:
        f.seek(start)
        head = f.read(min(16, end - start))
        values, pos = [], 0
        for _ in range(2):  # the field key, then the payload length
            value, shift = 0, 0
            while pos < len(head):
                byte = head[pos]
                pos += 1
                value |= (byte & 0x7F) << shift
                shift += 7
                if byte < 0x80:
                    break
            values.append(value)
        key, length = values
        if key != _RAW_DATA_KEY or length != 4 * count or start + pos + length != end:
            return None
        f.seek(start + pos)
        array = np.fromfile(f, dtype="<f4", count=count)
    return array.reshape(shape).astype(np.float32, copy=False)


class _NpzReader(_Reader):
    cheap_shapes = False

    def __init__(self, path: Path):
        self._npz = np.load(path, allow_pickle=False)
        self._names = list(self._npz.files)

    def names(self) -> Sequence[str]:
        return self._names

    def load(self, name: str) -> np.ndarray:
        return self._npz[name]


class _SafetensorsReader(_Reader):
    def __init__(self, path: Path):
        from safetensors import safe_open

        self._file = safe_open(str(path), framework="numpy")
        self._names = list(self._file.keys())

    def names(self) -> Sequence[str]:
        return self._names

    def shape(self, name: str) -> tuple[int, ...]:
        return tuple(self._file.get_slice(name).get_shape())

    def load(self, name: str) -> np.ndarray:
        return self._file.get_tensor(name)
