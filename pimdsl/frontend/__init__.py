"""The ONNX frontend: `import_onnx(path)` turns an ONNX model into `nn` IR.

Kept import-light (onnx is loaded on first use) so command-line tools start fast.
See docs/frontend.md for the supported ops and limits.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import onnx
    from xdsl.dialects.builtin import ModuleOp


def import_onnx(
    path: str | os.PathLike[str],
    *,
    model: onnx.ModelProto | None = None,
    batch: int = 1,
    sidecar: str | os.PathLike[str] | None = None,
) -> ModuleOp:
    """Import an ONNX model as a verified `builtin.module` holding `func.func @main` of nn ops.

    `path` is recorded as the weight file (module attribute `pim.weights`); initializers and
    Constant-node tensors become `nn.weight "<name>"`. Large tensors computed at import go to
    a side-car `.npz` file: `sidecar`, else a content-addressed file in the user cache folder;
    `pim.weights` then names both files. Pass `model` to import an already loaded ModelProto
    (`path` is still recorded). A symbolic first (batch) input dimension is set to `batch`.
    Raises PimError."""
    from pimdsl.frontend.importer import import_onnx as _import

    return _import(path, model=model, batch=batch, sidecar=sidecar)


__all__ = ["import_onnx"]
