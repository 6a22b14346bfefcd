"""Where a sweep's groups of points run: in this process, a local process pool, or Dask.

- `jobs == 1` and no scheduler: one after the other in this process;
- `jobs > 1`: a `concurrent.futures.ProcessPoolExecutor` of `jobs` forked processes;
- `scheduler` (an address such as tcp://host:8786): a Dask cluster through
  `distributed.Client`; its workers need pimdsl installed (`pip install 'pimdsl[dse]'`).

`started` yields the finished groups in the order they finish; the result folder sorts rows
by key, so the order never shows in the table.
"""

from __future__ import annotations

import importlib
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager

from pimdsl.dse.evaluate import GroupResult, run_group
from pimdsl.dse.points import Group
from pimdsl.errors import PimError

Finished = Iterator[tuple[Group, GroupResult]]
# imported before the pool forks, so that no worker imports them again
PRELOAD = (
    "pimdsl.frontend",
    "pimdsl.partitioning",
    "pimdsl.passes.partition",
    "pimdsl.passes.ga_group",
    "pimdsl.tools.opt_driver",
)


def _serial(groups: list[Group], cache: str | None) -> Finished:
    for group in groups:
        yield group, run_group(group, cache)


@contextmanager
def _pool(groups: list[Group], cache: str | None, jobs: int) -> Iterator[Finished]:
    for name in PRELOAD:
        importlib.import_module(name)
    # fork: the workers start with pimdsl imported (spawn re-imports it: ~3x slower to start
    # on 2 cores). All workers fork at the first submit, before the caller starts its progress
    # thread (a fork copies the locks other threads hold).
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = {pool.submit(run_group, g, cache): g for g in groups}
        try:
            yield ((futures[f], f.result()) for f in as_completed(futures))
        finally:
            for f in futures:
                f.cancel()


@contextmanager
def _dask(groups: list[Group], cache: str | None, scheduler: str) -> Iterator[Finished]:
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:
        raise PimError(
            "--scheduler needs Dask's `distributed` package, which is not installed.",
            hint="Install it with `pip install 'pimdsl[dse]'`, or drop --scheduler to "
            "use the local process pool.",
        ) from None
    try:
        client = Client(scheduler, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise PimError(
            f"cannot reach the Dask scheduler at '{scheduler}': {exc}.",
            hint="Start one (`dask scheduler`, then `dask worker ADDRESS`) or give "
            "its address as tcp://HOST:PORT.",
        ) from None
    with client:
        futures = {client.submit(run_group, g, cache, pure=False): g for g in groups}
        try:
            yield ((futures[f], f.result()) for f in dask_completed(list(futures)))
        finally:
            client.cancel(list(futures))


@contextmanager
def started(
    groups: list[Group], cache: str | None, *, jobs: int, scheduler: str | None
) -> Iterator[Finished]:
    """Start running `groups`; yields an iterator of (group, result) in the order they finish."""
    if scheduler:
        with _dask(groups, cache, scheduler) as finished:
            yield finished
    elif jobs <= 1 or len(groups) <= 1:
        yield _serial(groups, cache)
    else:
        with _pool(groups, cache, min(jobs, len(groups))) as finished:
            yield finished
