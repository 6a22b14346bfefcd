"""A whole sweep: the spec's points, minus the finished ones, run and written to the folder."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pimdsl import progress
from pimdsl.dse.points import Group, groups_of
from pimdsl.dse.results import ResultFolder, columns
from pimdsl.dse.runners import started
from pimdsl.dse.spec import Spec

log = logging.getLogger("pimdsl.dse")


@dataclass
class SweepSummary:
    points: int  # in the spec
    skipped: int  # finished by an earlier run
    ran: int
    errors: int  # points whose row holds an error (of those in the table)
    rows: list[dict[str, Any]]  # the table, sorted by key


def pending(groups: list[Group], finished: set[str]) -> list[Group]:
    """The groups with their unfinished points only (groups with none left are dropped)."""
    out = []
    for g in groups:
        todo = tuple(p for p in g.points if p.key not in finished)
        if todo:
            out.append(replace(g, points=todo))
    return out


def run_sweep(
    spec: Spec,
    out: Path,
    *,
    jobs: int = 1,
    scheduler: str | None = None,
    cache: Path | None = None,
    fresh: bool = False,
) -> SweepSummary:
    """Run the spec's unfinished points; `cache` is the span-table folder (None: no cache)."""
    folder = ResultFolder(out)
    folder.start(fresh)
    groups = groups_of(spec)
    keys = [p.key for g in groups for p in g.points]
    finished = set(folder.finished())
    todo = pending(groups, finished)
    n_todo = sum(len(g.points) for g in todo)
    skipped = len(keys) - n_todo
    where = (
        f"Dask at {scheduler}"
        if scheduler
        else (f"{min(jobs, len(todo))} processes" if jobs > 1 and len(todo) > 1 else "this process")
    )
    log.info(
        "%d points in %d groups (%d finished before); running %d on %s",
        len(keys),
        len(groups),
        skipped,
        n_todo,
        where,
    )
    done = 0
    cache_arg = str(cache) if cache is not None else None
    # the runner starts (forks its pool) before the progress bar starts its thread
    with (
        started(todo, cache_arg, jobs=jobs, scheduler=scheduler) as finished,
        progress.counter("pim-dse", n_todo, "running the sweep", "point") as tick,
    ):
        for group, result in finished:
            folder.append(
                result.rows,
                {
                    "group": group.label,
                    "points": len(group.points),
                    "seconds": round(result.seconds, 4),
                    "table_seconds": round(result.table_seconds, 4),
                    "table_cache": "hit" if result.cache_hit else "miss",
                },
            )
            done += len(group.points)
            log.debug(
                "%s: %d points in %.2f s (table %.2f s, cache %s)",
                group.label,
                len(group.points),
                result.seconds,
                result.table_seconds,
                "hit" if result.cache_hit else "miss",
            )
            tick(done, group.label)
    rows = folder.finish(keys, columns(spec.stages))
    errors = sum(1 for r in rows if r.get("error"))
    if errors:
        log.warning("%d of %d points failed; their `error` column says why", errors, len(rows))
    return SweepSummary(points=len(keys), skipped=skipped, ran=n_todo, errors=errors, rows=rows)
