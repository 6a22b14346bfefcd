"""Reading a user's input tensor (`pim-run --input X.npy|X.npz`) safely.

The `.npy` header is read first and its shape checked against `limits.NPY_ELEMENTS` and the
file's real size, so a forged header (a shape of 10^12 elements, a truncated file) is a
one-paragraph error, not an attempt to allocate terabytes. Every way a corrupt file can make
numpy fail (bad magic, a header that does not parse, a truncated body, a broken zip) becomes a
`PimError` naming the file.
"""

from __future__ import annotations

import io
import math
import tokenize
import zipfile
from typing import IO

import numpy as np

from pimdsl import limits
from pimdsl.errors import PimError

# what numpy and zipfile raise on a corrupt or forged file
_CORRUPT = (
    OSError,
    ValueError,
    TypeError,
    EOFError,
    SyntaxError,
    KeyError,
    zipfile.BadZipFile,
    tokenize.TokenError,
    RecursionError,
)


def _check_header(stream: IO[bytes], size: int, what: str) -> None:
    """Read the .npy header of `stream` (`size` bytes in all) and check the shape it declares."""
    fmt = np.lib.format
    version = fmt.read_magic(stream)
    if version == (1, 0):
        shape, _, dtype = fmt.read_array_header_1_0(stream)
    elif version == (2, 0):
        shape, _, dtype = fmt.read_array_header_2_0(stream)
    else:
        shape, _, dtype = fmt._read_array_header(stream, version)  # type: ignore[attr-defined]
    limits.check_shape(tuple(int(d) for d in shape), what=what, elements=limits.NPY_ELEMENTS)
    body = size - stream.tell()
    need = math.prod(shape) * dtype.itemsize
    if dtype.hasobject:
        raise PimError(
            f"{what} holds Python objects (dtype {dtype}); --input takes numbers.",
            hint="Save a numeric array with numpy.save.",
        )
    if need > body:
        raise PimError(
            f"{what} declares shape {list(shape)} ({need:,} bytes of {dtype}) but holds "
            f"only {body:,} bytes after its header: the file is truncated or corrupt.",
            hint="Write it again with numpy.save.",
        )


def load_tensor(path: str) -> np.ndarray:
    """An --input tensor: an .npy file, or an .npz file holding exactly one array (float32)."""
    what = f"the input tensor '{path}'"
    try:
        with open(path, "rb") as f:
            data = f.read()
        if data.startswith(b"PK"):
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = [n for n in zf.namelist() if n.endswith(".npy")]
                if len(zf.namelist()) != 1 or len(names) != 1:
                    shown = ", ".join(n.removesuffix(".npy") for n in zf.namelist()) or "none"
                    raise PimError(
                        f"the input file '{path}' is an .npz archive with {len(zf.namelist())} "
                        f"arrays ({shown}); --input takes exactly one.",
                        hint="Save the input tensor alone (numpy.save x.npy, or numpy.savez with one array).",
                    )
                info = zf.getinfo(names[0])
                if info.file_size > limits.NPY_ELEMENTS.maximum * 8 + 65536:
                    limits.check(
                        info.file_size // 8, limits.NPY_ELEMENTS, what=f"{what} (unpacked size / 8)"
                    )
                member = zf.read(names[0])
            data = member
        stream = io.BytesIO(data)
        _check_header(stream, len(data), what)
        stream.seek(0)
        array = np.load(stream, allow_pickle=False)
        return np.asarray(array, dtype=np.float32)
    except PimError:
        raise
    except _CORRUPT as exc:
        reason = (
            exc.strerror
            if isinstance(exc, OSError) and exc.strerror
            else str(exc) or type(exc).__name__
        )
        raise PimError(
            f"cannot read {what}: {reason.rstrip('.')}.",
            hint="Write it with numpy.save (an .npy file) or numpy.savez with one array.",
        ) from None
