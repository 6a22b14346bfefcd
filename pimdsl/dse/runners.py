"""Where a sweep's groups of points run: in this process, a local process pool, or Dask.

- `jobs == 1` and no scheduler: one after the other in this process;
- `jobs > 1`: a `concurrent.futures.ProcessPoolExecutor` of `jobs` processes (spawned: a
  forked copy of a process with a progress thread can deadlock);
- `scheduler` (an address such as tcp://host:8786): a Dask cluster through
  `distributed.Client`; its workers need pimdsl installed (`pip install 'pimdsl[dse]'`).

Each finished group is handed to `on_done` in the order groups finish; the result folder
sorts rows by key, so the order never shows in the table.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed

from pimdsl.dse.evaluate import GroupResult, run_group
from pimdsl.dse.points import Group
from pimdsl.errors import PimError

OnDone = Callable[[Group, GroupResult], None]


def run_serial(groups: list[Group], cache: str | None, on_done: OnDone) -> None:
    for group in groups:
        on_done(group, run_group(group, cache))


def run_pool(groups: list[Group], cache: str | None, jobs: int, on_done: OnDone) -> None:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = {pool.submit(run_group, g, cache): g for g in groups}
        try:
            for future in as_completed(futures):
                on_done(futures[future], future.result())
        except BaseException:
            for f in futures:
                f.cancel()
            raise


def run_dask(groups: list[Group], cache: str | None, scheduler: str, on_done: OnDone) -> None:
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError:
        raise PimError("--scheduler needs Dask's `distributed` package, which is not installed.",
                       hint="Install it with `pip install 'pimdsl[dse]'`, or drop --scheduler to "
                       "use the local process pool.") from None
    try:
        client = Client(scheduler, timeout="10s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise PimError(f"cannot reach the Dask scheduler at '{scheduler}': {exc}.",
                       hint="Start one (`dask scheduler`, then `dask worker ADDRESS`) or give "
                       "its address as tcp://HOST:PORT.") from None
    with client:
        futures = {client.submit(run_group, g, cache, pure=False): g for g in groups}
        try:
            for future in dask_completed(list(futures)):
                on_done(futures[future], future.result())
        except BaseException:
            client.cancel(list(futures))
            raise


def run_groups(groups: list[Group], cache: str | None, *, jobs: int, scheduler: str | None,
               on_done: OnDone) -> None:
    if scheduler:
        run_dask(groups, cache, scheduler, on_done)
    elif jobs <= 1 or len(groups) <= 1:
        run_serial(groups, cache, on_done)
    else:
        run_pool(groups, cache, min(jobs, len(groups)), on_done)
