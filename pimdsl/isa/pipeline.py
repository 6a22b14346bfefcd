"""The `batch` schedule: a core's steps as stages of a software pipeline over the images.

In the `layer` schedule a core runs each of its steps over the whole batch before the next
(`loop n { step A }` then `loop n { step B }`): a core holding two layers of a partition runs
them one after the other, and a step on another core that reads A waits for A's whole batch on
this core before it can go on with B's inputs. In the `batch` schedule every step has a *stage*
d (`state.PartitionState.sync` assigns it: one more than the stage of any step of the partition
whose result it reads, or the stage of the image loop it joins), and in iteration t of one loop over
t = 0 .. images + D - 1 a core runs image t - d of each of its steps whose image is in range:

    loop (prologue: A only)      { A(t) }
    loop (steady: A and B)       { B(t - 1); A(t) }
    loop (epilogue: B only)      { B(t - 1) }

so A's next image runs on A's crossbars while B works on the previous one on B's: the layers of
one core overlap, as in PIMCOMP-NN's batch pipeline. The range of t where the set of running
steps does not change is one `pim_isa.loop` (a *segment*); a step's code is the same in every
segment except that its DRAM offsets start at another image (the base advanced by the image
loop's stride), so the program stays independent of the batch size (at most 2k - 1 segments for
k stages on a core).

Within an iteration the steps run highest stage first: a step's input written by this core is
then the image stored one iteration earlier, so a load never waits for a store issued in the
same iteration (the simulator orders a core's load after its last store to the same buffer).
No deadlock: every token a step waits for was sent by a step of a lower stage, i.e. in an
earlier iteration of its core, or within the same stage in program order; partial sums of one
step run in the same iteration on all its cores, in the global order of the `layer` schedule.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdsl.ir import Operation

from pimdsl.dialects import pim_isa as isa


def segments(
    stages: Sequence[int], images: int, orders: Sequence[tuple[float, ...]] | None = None
) -> list[tuple[int, int, list[int]]]:
    """(t0, t1, the indices of the steps running, in issue order) of every segment of a core's
    pipeline: step i runs image t - stages[i] in iterations t in [stages[i], stages[i] + images);
    issue order is highest stage first, then program order, or by `orders` when given (the
    element schedule's chunks, `pimdsl.isa.element`)."""
    cuts = sorted({d for d in stages} | {d + images for d in stages})
    out: list[tuple[int, int, list[int]]] = []
    for t0, t1 in zip(cuts, cuts[1:], strict=False):
        active = [i for i, d in enumerate(stages) if d <= t0 < d + images]
        if active:
            if orders is None:
                active.sort(key=lambda i: (-stages[i], i))
            else:
                active.sort(key=lambda i: (orders[i], i))
            out.append((t0, t1, active))
    return out


def shifted(ops: Sequence[Operation], images: int) -> list[Operation]:
    """Copies of `ops` (built instructions and loops inside an image loop) that start at image
    `images` instead of 0: every address array's base advances by `images` times its first
    stride, the image loop's (a constant address has no strides and stays)."""
    out = [op.clone() for op in ops]
    if images == 0:
        return out
    for top in out:
        for op in top.walk():
            if not isinstance(op, isa.InstrOp):
                continue
            for name in op.ADDRESSES:
                prop = op.properties.get(name)
                if prop is None:
                    continue
                values = isa.ints(prop)  # type: ignore[arg-type]
                if len(values) > 1 and values[1]:
                    op.properties[name] = isa.addr(values[0] + images * values[1], *values[1:])
    return out
