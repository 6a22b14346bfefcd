"""The simulated timeline as a Chrome / Perfetto trace: `pim-run lowered.mlir --trace t.json`.

Open the file in https://ui.perfetto.dev or chrome://tracing. One process per partition, one
thread per (core, unit): the load and store DMAs, the gather engine, the vector unit, the
crossbar writes, the link, and each crossbar; one complete event ("ph": "X") per simulated
instruction, in microseconds from the start of the run. The events come from
`simulate_module(step_all=True, events=...)`: every loop iteration is stepped, which is slower
than the closed form the plain timing run uses (the timing is the same on the cases checked).
"""

from __future__ import annotations

from typing import Any

from pimdsl.sim.timing_program import DMA_IN, DMA_OUT, GATHER, LINK, VECTOR, WRITE, XBAR

FORMAT = "pimdsl-trace"
VERSION = 1
UNITS = {
    DMA_IN: "load DMA",
    DMA_OUT: "store DMA",
    GATHER: "gather",
    VECTOR: "vector",
    WRITE: "crossbar write",
    LINK: "link",
}
MAX_EVENTS = 5_000_000  # a trace viewer struggles beyond this; say so instead of writing it

Event = tuple[int, int, float, float, str]


def unit_name(unit: int) -> str:
    return UNITS.get(unit, f"crossbar {unit - XBAR}")


def chrome_trace(events: dict[int, list[Event]], chip: str, batch: int) -> dict[str, Any]:
    """The trace document of `events` (per partition index: core, unit, start ns, end ns,
    instruction)."""
    out: list[dict[str, Any]] = []
    for part, evs in sorted(events.items()):
        out.append(
            {
                "name": "process_name",
                "ph": "M",
                "pid": part,
                "tid": 0,
                "args": {"name": f"partition {part}"},
            }
        )
        for core, unit in sorted({(c, u) for c, u, *_ in evs}):
            out.append(
                {
                    "name": "thread_name",
                    "ph": "M",
                    "pid": part,
                    "tid": core * 1000 + unit,
                    "args": {"name": f"core {core} {unit_name(unit)}"},
                }
            )
        for core, unit, start, end, name in evs:
            out.append(
                {
                    "name": name,
                    "cat": unit_name(unit),
                    "ph": "X",
                    "pid": part,
                    "tid": core * 1000 + unit,
                    "ts": start / 1e3,
                    "dur": (end - start) / 1e3,
                }
            )
    return {
        "format": FORMAT,
        "version": VERSION,
        "chip": chip,
        "batch": batch,
        "displayTimeUnit": "ns",
        "traceEvents": out,
    }
