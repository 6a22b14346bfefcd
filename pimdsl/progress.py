"""Progress of a long loop on stderr: a rich bar on a terminal, plain lines otherwise.

    with progress("accuracy", total=12) as tick:
        for chunk in chunks:
            ...
            tick(1, "top-1 97.2%")

On a terminal (or `enabled=True`) a transient rich bar; without one (CI logs, pipes) nothing
for the first QUIET_SECONDS, then a line at most every LINE_SECONDS and a closing line;
`enabled=False` prints nothing.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

QUIET_SECONDS = 2.0
LINE_SECONDS = 5.0


@contextmanager
def rich_bar(label: str, total: int) -> Iterator[Callable[[int, str], None]]:
    """A transient rich progress bar on stderr; yields advance(steps, text)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("", total=total)
        yield lambda n, text: bar.update(task, advance=n, description=text)


@contextmanager
def progress(label: str, total: int, enabled: bool | None = None
             ) -> Iterator[Callable[[int, str], None]]:
    """Yields tick(advance, text): `advance` steps of `total` done, `text` the latest status."""
    if enabled is False:
        yield lambda _n, _text: None
        return
    if enabled or sys.stderr.isatty():
        with rich_bar(label, total) as advance:
            yield advance
        return
    t0 = time.perf_counter()
    state = {"done": 0, "text": "", "last": -1.0}

    def tick(n: int, text: str) -> None:
        state["done"] = int(state["done"]) + n
        state["text"] = text
        now = time.perf_counter()
        if now - t0 >= QUIET_SECONDS and now - float(state["last"]) >= LINE_SECONDS:
            print(f"{label}: {state['done']}/{total}, {text}, {now - t0:.1f} s",
                  file=sys.stderr, flush=True)
            state["last"] = now

    yield tick
    elapsed = time.perf_counter() - t0
    if elapsed >= QUIET_SECONDS:
        print(f"{label}: done, {state['done']}/{total} in {elapsed:.1f} s, {state['text']}",
              file=sys.stderr, flush=True)
