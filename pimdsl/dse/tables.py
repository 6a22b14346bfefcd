"""The span-cost table of (network, chip, batch, schedule), cached on disk for sweeps.

Building the table is most of a partition-only point's time (0.5-1.5 s for ResNet18 against
milliseconds for a strategy). The partition pass computes it with `pimdsl.partitioning.analyse`
(and keeps up to 16 in memory); this module calls the same function and keeps the result in a
folder (default: the user cache, `span-tables/`), so that re-runs, other sweeps and other
workers on the same machine reuse it.

The file name is a hash of the network's fingerprint (what the cost model reads:
`partitioning.network_fingerprint`), every chip field, the batch, the schedule policy and the
source of pimdsl itself: a changed cost model never serves an old table. Files are written to a
temporary name and renamed, so concurrent workers never read half a file; a file that cannot be
read is computed again.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from xdsl.dialects.builtin import ModuleOp

    from pimdsl.cost.model import SpanCosts

PACKAGES = ("pimdsl", "pimdsl.dialects", "pimdsl.passes")  # the code a table depends on


@cache
def code_fingerprint() -> str:
    """sha256 of pimdsl's Python sources (the cost model and everything it reads)."""
    digest = hashlib.sha256()
    for name in PACKAGES:
        spec = find_spec(name)
        for folder in (spec.submodule_search_locations or []) if spec else []:
            for path in sorted(Path(folder).rglob("*.py")):
                if path.parent.name == "dse":  # the sweep's own code never changes a table
                    continue
                digest.update(path.relative_to(folder).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def default_folder() -> Path:
    from pimdsl.cache import cache_dir

    return cache_dir() / "span-tables"


def table_key(module: ModuleOp) -> str:
    """The cache key of `module`'s span table (its network, `pim.chip`, `pim.batch`, schedule)."""
    from pimdsl.module_attrs import get_batch, get_chip, get_schedule
    from pimdsl.network import extract_network
    from pimdsl.partitioning import network_fingerprint

    chip = get_chip(module)
    assert chip is not None
    fields = {
        "network": hashlib.sha256(
            repr(network_fingerprint(extract_network(module))).encode()
        ).hexdigest(),
        "chip": chip.to_dict(),
        "batch": get_batch(module),
        "schedule": get_schedule(module),
        "code": code_fingerprint(),
    }
    text = json.dumps(fields, sort_keys=True, allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def span_costs_of(module: ModuleOp, folder: Path | None) -> tuple[SpanCosts, bool]:
    """The span costs of nn-level `module` (with chip, batch and schedule attributes) and
    whether they came from the cache in `folder` (None: no disk cache)."""
    from pimdsl.partitioning import analyse

    path = folder / f"{table_key(module)}.pkl" if folder is not None else None
    if path is not None and path.exists():
        try:
            with path.open("rb") as f:
                return pickle.load(f), True
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError):
            pass  # unreadable or from an incompatible pimdsl: compute it again
    costs = analyse(module).costs
    if path is not None:
        _write(path, costs)
    return costs, False


def _write(path: Path, costs: SpanCosts) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, scratch = tempfile.mkstemp(prefix=f".{path.stem}-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            pickle.dump(costs, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(scratch, path)
    except BaseException:
        Path(scratch).unlink(missing_ok=True)
        raise
