"""Progress on stderr for the long steps (GA, sweeps, lowering, simulation): one helper.

- `counter(name, total, label, unit)`: a context manager yielding `tick(done, text)` for a step
  of `total` known parts (GA generations, sweep points). On a terminal a rich bar; otherwise
  (CI logs, pipes) plain lines `name: ...` once the step has taken QUIET_SECONDS, then at most
  every LINE_SECONDS, and a closing line with the time.
- `step(name, what)`: a context manager around one long call of unknown length (a pass, a
  simulation): a rich spinner on a terminal; otherwise a line `name: what ...` if it is still
  running after QUIET_SECONDS and `name: what done in X s` at the end.

Both print nothing with `enabled=False` or after `set_quiet(True)` (the tools' `-q`), and cost
a few attribute look-ups per tick when shown as plain lines: no measurable slowdown.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

QUIET_SECONDS = 2.0  # without a terminal, steps shorter than this print nothing
LINE_SECONDS = 5.0  # and longer ones a line at most this often

_quiet = False

Tick = Callable[[int, str], None]


def set_quiet(quiet: bool) -> None:
    """Silence all progress output (the tools' -q)."""
    global _quiet
    _quiet = quiet


@contextmanager
def quiet() -> Iterator[None]:
    """No progress output inside the block (a sweep's workers: the sweep reports for them)."""
    global _quiet
    old, _quiet = _quiet, True
    try:
        yield
    finally:
        _quiet = old


def _shown(enabled: bool | None) -> bool:
    return enabled is not False and not _quiet


def _bar_wanted(enabled: bool | None) -> bool:
    return bool(enabled) or sys.stderr.isatty()


def _say(name: str, line: str) -> None:
    print(f"{name}: {line}", file=sys.stderr, flush=True)


@contextmanager
def counter(
    name: str, total: int, label: str, unit: str = "step", *, enabled: bool | None = None
) -> Iterator[Tick]:
    """Progress of `total` parts. `enabled`: None = a bar on a terminal, else plain lines;
    True = the bar; False = nothing. Yields tick(done, text): `done` parts finished so far."""
    if not _shown(enabled):
        yield lambda _done, _text: None
        return
    if _bar_wanted(enabled):
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        with Progress(
            TextColumn(name),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        ) as bar:
            task = bar.add_task("", total=total)
            yield lambda done, text: bar.update(task, completed=done, description=text)
        return
    t0 = time.perf_counter()
    last: list[float] = []  # time of the last line printed
    state: dict[str, object] = {"done": 0, "text": ""}

    def tick(done: int, text: str) -> None:
        state.update(done=done, text=text)
        now = time.perf_counter()
        if now - t0 >= QUIET_SECONDS and (not last or now - last[0] >= LINE_SECONDS):
            if not last:
                _say(name, label)
            _say(name, f"{unit} {done}/{total}, {text}, {now - t0:.1f} s")
            last[:] = [now]

    yield tick
    elapsed = time.perf_counter() - t0
    if last or elapsed >= QUIET_SECONDS:
        if not last:
            _say(name, label)
        _say(name, f"done in {elapsed:.1f} s after {state['done']} {unit}s, {state['text']}")


@contextmanager
def step(name: str, what: str, *, enabled: bool | None = None) -> Iterator[None]:
    """Progress of one long call: a spinner on a terminal, else a line once it has run for
    QUIET_SECONDS and one when it ends."""
    if not _shown(enabled):
        yield
        return
    if _bar_wanted(enabled):
        from rich.console import Console

        with Console(stderr=True).status(f"{name}: {what}"):
            yield
        return
    t0 = time.perf_counter()
    timer = threading.Timer(QUIET_SECONDS, _say, (name, f"{what} ..."))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        elapsed = time.perf_counter() - t0
        if elapsed >= QUIET_SECONDS:
            _say(name, f"{what} done in {elapsed:.1f} s")
