"""A shared resource of the chip (the DRAM channel, the on-chip bus) as a busy calendar.

Cores are simulated one request at a time, and a core's units run ahead of each other, so
requests do not reach the resource in time order. A reservation therefore takes the earliest
gap of its length at or after its ready time (first fit in simulated time), not the end of the
queue: a load issued early is not held up by a transfer booked later for a later time.
"""

from __future__ import annotations

from bisect import bisect_right

MAX_INTERVALS = 4096  # the oldest bookings are forgotten past this many (they lie far back)


class Calendar:
    """Disjoint busy intervals [start, end), sorted."""

    __slots__ = ("starts", "ends")

    def __init__(self) -> None:
        self.starts: list[float] = []
        self.ends: list[float] = []

    def earliest(self, t: float, duration: float) -> float:
        """The earliest start >= t of a free gap of `duration`."""
        starts, ends = self.starts, self.ends
        i = bisect_right(ends, t)  # first interval ending after t
        while i < len(starts):
            if starts[i] >= t + duration:
                return t
            if ends[i] > t:
                t = ends[i]
            i += 1
        return t

    def book(self, start: float, duration: float) -> None:
        if duration <= 0:
            return
        end = start + duration
        starts, ends = self.starts, self.ends
        i = bisect_right(ends, start)
        # merge with touching neighbours to keep the calendar short
        if i > 0 and ends[i - 1] == start:
            i -= 1
            ends[i] = end
        elif i < len(starts) and starts[i] == end:
            starts[i] = start
            return
        else:
            starts.insert(i, start)
            ends.insert(i, end)
        if i + 1 < len(starts) and starts[i + 1] == ends[i]:
            ends[i] = ends[i + 1]
            del starts[i + 1], ends[i + 1]
        if len(starts) > MAX_INTERVALS:
            del starts[: MAX_INTERVALS // 4], ends[: MAX_INTERVALS // 4]

    def reset(self, t: float) -> None:
        """Nothing may be booked before t (a new partition starts)."""
        self.starts = [float("-inf")] if t > float("-inf") else []
        self.ends = [t] if self.starts else []


def book_both(a: Calendar, da: float, b: Calendar, db: float, t: float) -> float:
    """Book `da` on `a` and `db` on `b`, both starting at the same earliest time >= t."""
    while True:
        s = a.earliest(t, da) if da > 0 else t
        s2 = b.earliest(s, db) if db > 0 else s
        if s2 == s:
            a.book(s, da)
            b.book(s, db)
            return s
        t = s2
