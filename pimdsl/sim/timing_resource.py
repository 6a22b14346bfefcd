"""A shared resource of the chip (the DRAM channel, the on-chip bus) as a busy calendar.

Cores are simulated one request at a time, and a core's units run ahead of each other, so
requests do not reach the resource in time order. A reservation therefore takes the earliest
gap of its length at or after its ready time (first fit in simulated time), not the end of the
queue: a load issued early is not held up by a transfer booked later for a later time.

A DMA transfer is *fluid* (`fill`): it is served in pieces whenever the link is idle from its
ready time on and completes when the last piece has been served, as a DRAM controller
interleaves requests at burst granularity. (Booking it as one contiguous interval left every
idle gap shorter than a whole transfer unused: with 14 cores each loading small window patches
(about 45 ns apiece) the channel reached only about 81% of its bandwidth.)
"""

from __future__ import annotations

from bisect import bisect_right

# The oldest bookings are forgotten past this many intervals. Requests do not come in time
# order (a core's store unit may ask for a slot earlier than the load the scheduler just
# served), so a forgotten interval can be asked for again and the link served twice over. At
# 4096 (until 8 Dec 2026) a saturated channel cut into many small gaps lost bookings still in
# use: ResNet18 on compass-s at batch 16, optimal grouping, partition 0 moved 22.4 MB in
# 1565 us simulated, 1.12x the channel's 12.8 GB/s; kept, 1817 us (the whole ResNet18 greedy
# program peaks at ~300k intervals; its simulation takes 3% longer). So only a safety valve now.
MAX_INTERVALS = 1 << 21


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

    def fill(self, t: float, duration: float) -> float:
        """Serve `duration` of work in the idle gaps from t on; book it; return when it ends."""
        if duration <= 0:
            return t
        starts, ends = self.starts, self.ends
        pieces: list[tuple[float, float]] = []
        left = duration
        i = bisect_right(ends, t)
        while left > 0:
            if i < len(starts) and starts[i] <= t:
                t = ends[i]
                i += 1
                continue
            gap = (starts[i] if i < len(starts) else float("inf")) - t
            take = min(gap, left)
            pieces.append((t, take))
            left -= take
            t += take
        for a, d in pieces:
            self.book(a, d)
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


def fill_both(a: Calendar, da: float, b: Calendar, db: float, t: float) -> float:
    """Serve a transfer that needs `da` of link `a` and `db` of link `b` from t on, each link
    in its idle gaps (`Calendar.fill`); return its effective start: when it ends minus the
    longer of the two, so that start + transfer time is when both links are done with it."""
    end = max(a.fill(t, da), b.fill(t, db))
    return end - max(da, db, 0.0)
