"""The schedule the lowering emits, as the cost model prices it: which cores hold which layers,
where a layer's vector steps run and how long they take, which steps share an image loop, and
when the last step of a span ends over a batch. Vectorised over spans; used by
`pimdsl.cost.model.span_costs` (docs/cost-model.md has the formulas)."""

from __future__ import annotations

import numpy as np

from pimdsl.chip import Chip
from pimdsl.dialects import nn
from pimdsl.isa.line_buffer import ELEMENT_ROWS
from pimdsl.network import Network
from pimdsl.units import Units

NS = 1e-9


def _core_layers(rep: np.ndarray, counts: np.ndarray, sizes: np.ndarray, chip: Chip) -> np.ndarray:
    """present[s, l, c]: whether FFD puts an item of layer l of span s on core c.

    The placement of `pimdsl.units.ffd_pack` over the items of `place_partition` (per layer,
    replica-major): sorted by size, stable, so within one size the items keep layer order, and
    equal items fill the cores in order (the cumulative sums of `packs_counts`)."""
    S, L, _ = counts.shape
    C = chip.cores
    free = np.full((S, C), chip.crossbars_per_core, dtype=np.int64)
    present = np.zeros((S, L, C), dtype=bool)
    for i in sorted(range(len(sizes)), key=lambda i: -int(sizes[i])):
        z = int(sizes[i])
        m = rep * counts[:, :, i]  # items of this size per layer
        if z <= 0 or not m.any():
            continue
        lend = np.cumsum(m, axis=1)
        lstart = lend - m
        cap = free // z
        cum = np.cumsum(cap, axis=1)
        start = cum - cap
        put = np.clip(lend[:, -1:] - start, 0, cap)
        free -= put * z
        hit = (lstart[:, :, None] < (start + put)[:, None, :]) & (
            lend[:, :, None] > start[:, None, :]
        )
        present |= hit & (m[:, :, None] > 0) & (put[:, None, :] > 0)
    return present


def _vector_cores(on_core: np.ndarray, has: np.ndarray, work: np.ndarray) -> np.ndarray:
    """vcore[s, l, c]: the core that runs layer l's vector steps, as the lowering picks it
    (`vector_core`): of the cores holding the layer, the one with the least vector work so far,
    the lowest on a tie."""
    S, L, C = on_core.shape
    vcore = np.zeros((S, L, C), dtype=bool)
    load = np.zeros((S, C))
    rows = np.arange(S)
    for j in range(L):
        c = np.argmin(np.where(on_core[:, j, :], load, np.inf), axis=1)
        pick = has[:, j] & on_core[:, j, :].any(axis=1)
        vcore[rows[pick], j, c[pick]] = True
        load[rows[pick], c[pick]] += work[pick, j]
    return vcore


# Local memory holds activations in 2-byte slots (the lowering's default `elem_bytes`): this
# sets how many elements a vector step streams per chunk.
LOCAL_ELEM_BYTES = 2


def _step_ns(
    work: np.ndarray | float,
    loaded: np.ndarray | float,
    stored: np.ndarray | float,
    chunks: np.ndarray | float,
    chip: Chip,
) -> np.ndarray:
    """One vector step per image: its chunks flow through the load queue, the vector unit and
    the store queue, which overlap; the loads and the stores cross one DRAM channel, so the
    slower of the vector unit and the channel sets the pace and the other shows for one
    chunk; plus the first load's and the last store's DRAM latency."""
    bytes_ = chip.act_bits / 8
    dram = 1 / min(chip.dram_bandwidth, chip.bus_bandwidth) / NS
    parts = np.stack(
        np.broadcast_arrays(
            np.asarray(work, dtype=np.float64)
            * bytes_
            * chip.vector_latency_ns
            / chip.vector_bytes,
            (np.asarray(loaded, dtype=np.float64) + np.asarray(stored, dtype=np.float64))
            * bytes_
            * dram,
        )
    )
    slowest = parts.max(axis=0)
    k = np.maximum(np.asarray(chunks, dtype=np.float64), 1.0)
    return slowest + (parts.sum(axis=0) - slowest) / k + 2 * chip.dram_latency_ns


def _continues(on_core: np.ndarray, vcore: np.ndarray, present: np.ndarray) -> np.ndarray:
    """cont[s, l]: layer l's MVM step continues the image loop of the step just before it. A
    step whose cores all ran the step just before continues their loop (the lowering's
    `sync`): l's cores all among l-1's, or only l-1's vector core when l-1 has vector steps
    (they are the step just before)."""
    S, L, _ = on_core.shape
    cont = np.zeros((S, L), dtype=bool)
    has_chain = np.asarray(vcore.any(axis=2))  # the stubs allow a scalar for any axis
    for j in range(1, L):
        cur, prev = on_core[:, j, :], on_core[:, j - 1, :]
        before = np.where(has_chain[:, j - 1, None], vcore[:, j - 1, :], prev)
        cont[:, j] = (
            present[:, j] & present[:, j - 1] & cur.any(axis=1) & ~(cur & ~before).any(axis=1)
        )
    return cont


def _merged_loops(
    core_stage: np.ndarray,
    on_core: np.ndarray,
    cont: np.ndarray,
    lay: np.ndarray,
    mvm_dep: np.ndarray,
) -> np.ndarray:
    """In one image loop a core's independent layers overlap on their own crossbars, so when
    layer l continues l-1's loop (`_continues`) and does not read l-1 (a fire module's two
    expands), l adds on its cores only what it takes beyond l-1."""
    out = core_stage.copy()
    for j in range(1, core_stage.shape[1]):
        independent = ~mvm_dep[lay[:, j], lay[:, j - 1]]
        ok = (cont[:, j] & independent)[:, None] & on_core[:, j, :]
        out[:, j, :] = np.where(
            ok, np.maximum(core_stage[:, j, :] - core_stage[:, j - 1, :], 0.0), out[:, j, :]
        )
    return out


def _relayout_ns(
    net: Network, units: Units, ss: np.ndarray, ee: np.ndarray, chip: Chip
) -> np.ndarray:
    """One image's relayouts at the network's ends (a step each, before the first layer and
    after the last): an NCHW input feature map read into the lowering's NHWC order, an NHWC
    result with more than one pixel written back as NCHW."""
    out = np.zeros(ss.shape[0])
    per_byte = 2 * chip.act_bits / 8 / min(chip.dram_bandwidth, chip.bus_bandwidth) / NS
    for v in net.values:
        x = nn.shape_of(v.value)
        if len(x) != 4:
            continue
        ns = v.elements * per_byte + 2 * chip.dram_latency_ns
        if v.owner == -2:
            first = min((int(units.first[c]) for c in v.consumer_layers), default=-1)
            out += np.where((ss <= first) & (first < ee), ns, 0.0)
        if v.returned and v.owner >= 0 and x[2] * x[3] != 1:
            last = int(units.end[v.owner]) - 1
            out += np.where((ss <= last) & (last < ee), ns, 0.0)
    return out


def _layer_deps(net: Network) -> tuple[np.ndarray, np.ndarray]:
    """Which earlier weight layers each layer waits for: mvm[j, p] when layer j's windows read
    a value owned by layer p, or j's stores add it (a fused residual add; its step cannot start
    before p's), vec[j, p] when only a vector op owned by j reads it (a concat's other half, an
    add step: j's result is not complete before p's)."""
    L = len(net.layers)
    mvm = np.zeros((L, L), dtype=bool)
    vec = np.zeros((L, L), dtype=bool)
    for v in net.values:
        if v.owner < 0:
            continue
        for j in v.consumer_layers:
            if j != v.owner:
                mvm[j, v.owner] = True
        for j in v.consumer_owners:
            if j > v.owner:
                vec[j, v.owner] = True
        for j in v.fused_readers:  # a residual add in j's stores: j's step waits for it
            if j != v.owner:
                mvm[j, v.owner] = True
    return mvm, vec


def _chain_ns(
    on_core: np.ndarray,
    stage_ns: np.ndarray,
    present: np.ndarray,
    batch: int,
    lay: np.ndarray,
    deps: tuple[np.ndarray, np.ndarray],
    busy_ns: np.ndarray | None = None,
    cont: np.ndarray | None = None,
) -> np.ndarray:
    """When the last step of each span ends, running its layers' steps image by image.

    A core takes its layers in order (on_core[s, l, c]), each over all `batch` images; image i
    of layer l starts when the core is free and image i of every layer it reads (the layer DAG,
    `_layer_deps`; a producer outside the span is in DRAM already) has finished on every core
    holding it, and takes stage_ns[s, l] (or stage_ns[s, l, c] on core c). So parallel branches on distinct cores overlap, as the
    lowering's tokens let them. With `busy_ns[s, l, c]`, a step holds its core only that long
    (the rest of its time is on its own crossbars): a core's independent layers then overlap,
    as they do within one image. With `cont[s, l]` (`_continues`), layer l shares layer l-1's
    image loop: its image i follows image i of l-1 on the core, not l-1's whole batch, and the
    core spends the group's stages (l's and the layers before it in the loop) per image.
    Vectorised over spans and cores."""
    S, L, C = on_core.shape
    mvm, vec = deps
    free = np.zeros((S, C))
    group = np.zeros((S, C))  # per core, the stages of the layers of its open image loop
    done = np.zeros((S, L, batch))  # finish of each image of each layer of the span
    for j in range(L):
        on = on_core[:, j, :]
        st = stage_ns[:, j, :] if stage_ns.ndim == 3 else stage_ns[:, j : j + 1]
        joins = (cont[:, j : j + 1] if cont is not None else np.zeros((S, 1), dtype=bool)) & on
        group = np.where(on, np.where(joins, group, 0.0) + st, group)
        ready = np.zeros((S, batch))
        after = np.zeros((S, batch))
        for k in range(j):
            ok = present[:, k] & present[:, j]
            m = (mvm[lay[:, j], lay[:, k]] & ok)[:, None]
            v = (vec[lay[:, j], lay[:, k]] & ok)[:, None]
            ready = np.where(m, np.maximum(ready, done[:, k]), ready)
            after = np.where(v, np.maximum(after, done[:, k]), after)
        t = free
        hold = st if busy_ns is None else busy_ns[:, j, :]
        prev_t = np.zeros((S, C))
        for i in range(batch):
            start = np.maximum(t, ready[:, i : i + 1])
            if cont is not None:
                # in the shared loop: after image i of the layer before, and a group's worth
                # of the core's time after this layer's previous image
                shared = (
                    ready[:, i : i + 1]
                    if i == 0
                    else np.maximum(ready[:, i : i + 1], prev_t + group - st)
                )
                start = np.where(joins, shared, start)
            t = np.where(on, start + hold, t)
            prev_t = t
            done[:, j, i] = np.maximum(np.where(on, start + st, 0.0).max(axis=1), after[:, i])
        done[:, j] = np.where(present[:, j : j + 1], done[:, j], 0.0)
        free = t
    return np.maximum(free.max(axis=1), done[:, :, -1].max(axis=1))


def _stages(
    present: np.ndarray, lay: np.ndarray, deps: tuple[np.ndarray, np.ndarray], cont: np.ndarray
) -> np.ndarray:
    """stage[s, l]: the `batch` schedule's pipeline stage of layer l of span s, as the lowering's
    `sync` assigns it (`pimdsl.isa.pipeline`): the stage of the image loop it continues
    (`_continues`) when none of its producers here is at a later stage, else one more than its
    latest producer in the span (0 without one). A layer's vector steps share its stage (they
    run on one of its cores, right after it, and continue its loop), so a vector op's other
    operand (a concat's other half, `deps[1]`) does not move the layer's MVMs to a later stage."""
    S, L = present.shape
    mvm = deps[0]
    stage = np.zeros((S, L), dtype=np.int64)
    for j in range(L):
        latest = np.full(S, -1, dtype=np.int64)
        for k in range(j):
            reads = mvm[lay[:, j], lay[:, k]] & present[:, k]
            latest = np.where(reads, np.maximum(latest, stage[:, k]), latest)
        joins = cont[:, j] & (latest <= stage[:, j - 1]) if j else np.zeros(S, dtype=bool)
        own = np.where(joins, stage[:, j - 1] if j else 0, latest + 1)
        stage[:, j] = np.where(present[:, j], own, 0)
    return stage


def _pipeline_ns(
    on_core: np.ndarray,
    stage_ns: np.ndarray,
    present: np.ndarray,
    batch: int,
    lay: np.ndarray,
    deps: tuple[np.ndarray, np.ndarray],
    stage: np.ndarray,
) -> np.ndarray:
    """When the last step of each span ends in the `batch` schedule (`pimdsl.isa.pipeline`):
    in iteration t a core runs image t - stage[s, l] of each of its layers l whose image is in
    range, highest stage first, then in layer order; image i of a layer starts when its core is
    free and image i of every layer it reads (`deps`) has finished on every core holding it,
    and takes stage_ns[s, l, c] on core c; it is complete when also image i of every layer a
    vector op of it reads (`deps[1]`) is. Vectorised over spans and cores."""
    S, L, C = on_core.shape
    mvm, vec = deps
    free = np.zeros((S, C))
    done = np.zeros((S, L, batch))

    def producers(dep: np.ndarray, j: int) -> list[tuple[int, np.ndarray]]:
        """(k, spans where layer j depends on layer k) for the k it depends on somewhere."""
        pairs = ((k, dep[lay[:, j], lay[:, k]] & present[:, k] & present[:, j]) for k in range(j))
        return [(k, r) for k, r in pairs if r.any()]

    reads = [producers(mvm, j) for j in range(L)]
    after = [producers(vec, j) for j in range(L)]
    levels = [sorted({int(d) for d in np.unique(stage[present[:, j], j])}) for j in range(L)]
    depth = int(stage.max(initial=0))
    for t in range(batch + depth):
        for dd in range(depth, -1, -1):
            i = t - dd
            if not 0 <= i < batch:
                continue
            for j in range(L):
                if dd not in levels[j]:
                    continue
                mask = present[:, j] & (stage[:, j] == dd)
                ready = np.zeros(S)
                for k, r in reads[j]:
                    ready = np.where(r, np.maximum(ready, done[:, k, i]), ready)
                complete = np.zeros(S)
                for k, r in after[j]:
                    complete = np.where(r, np.maximum(complete, done[:, k, i]), complete)
                on = on_core[:, j, :] & mask[:, None]
                start = np.maximum(free, ready[:, None])
                end = start + stage_ns[:, j, :]
                free = np.where(on, end, free)
                finish = np.maximum(np.where(on, end, 0.0).max(axis=1), complete)
                done[:, j, i] = np.where(mask, finish, done[:, j, i])
    return np.maximum(free.max(axis=1), done[:, :, -1].max(axis=1))


# The element schedule's lead: a consumer's first tile reads its window's rows of the producer
# (3 for the common 3x3 window) and is placed one producer tile later (`pimdsl.isa.element`:
# the in-order queues), in tiles of `line_buffer.ELEMENT_ROWS` rows.
LEAD_ROWS = 3 * ELEMENT_ROWS


def _element_ns(
    first_ns: np.ndarray,
    present: np.ndarray,
    lay: np.ndarray,
    deps: tuple[np.ndarray, np.ndarray],
    rows: np.ndarray,
) -> np.ndarray:
    """When one image ends in the `element` schedule (`pimdsl.isa.element`): the layers of the
    image pipelined by rows. Layer j starts once every layer it reads (`deps`, MVM inputs and
    vector operands alike: pools and concats run by rows too) has produced the LEAD_ROWS rows
    of its replica range (`rows[s, l]` output rows each) that j's first tile reads, and ends
    `first_ns` after its start, but not before one of its rows after the last of them ends.
    Cores do not serialise a span's layers here: a core runs its layers' tiles interleaved.
    Vectorised over spans."""
    S, L = present.shape
    mvm, vec = deps
    start = np.zeros((S, L))
    end = np.zeros((S, L))
    frac = np.minimum(1.0, LEAD_ROWS / np.maximum(rows, 1.0))
    for j in range(L):
        s_j = np.zeros(S)
        e_in = np.zeros(S)
        for k in range(j):
            d = (
                (mvm[lay[:, j], lay[:, k]] | vec[lay[:, j], lay[:, k]])
                & present[:, k]
                & present[:, j]
            )
            if not d.any():
                continue
            s_j = np.where(d, np.maximum(s_j, start[:, k] + first_ns[:, k] * frac[:, k]), s_j)
            e_in = np.where(d, np.maximum(e_in, end[:, k]), e_in)
        tail = first_ns[:, j] / np.maximum(rows[:, j], 1.0)
        start[:, j] = np.where(present[:, j], s_j, 0.0)
        end[:, j] = np.where(present[:, j], np.maximum(s_j + first_ns[:, j], e_in + tail), 0.0)
    return end.max(axis=1)
