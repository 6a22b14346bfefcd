"""COMPASS's genetic algorithm over a `SpanTable` (Park et al., DATE 2025, section on the GA).

A chromosome is a group: its sorted boundaries `[0, b1, ..., n]`. Each generation keeps the best
`keep` distinct groups and fills the population with mutants of parents drawn uniformly from
them. No crossover. A mutant changes its parent's *worst* partition, the one with the largest
relative score

    R(P) = f(P) / E(P),  E([s, e)) = sum over units u in [s, e) of mean_pop( f(P_u) / |P_u| ),

where P_u is the partition holding u in an individual and the mean is over the population: R
compares a partition with what the population typically pays for the same units. One of four
mutations, equally likely: merge, split, move, fixed-random (see the functions below). A mutation
that cannot apply to the parent (merge with no legal neighbour, split or move of a single unit
with no legal shift) is replaced by another drawn from the rest. Random partitions are drawn
inside the validity map, so every individual is legal by construction.

Fitness of a group is `problem.group_fitness` (lower is better). It is pure table look-ups,
evaluated vectorised over a chunk of the population and cached per group; chunks can be farmed
out to any `concurrent.futures.Executor` (a process pool, or Dask's / Ray's executors). All random
choices are made in the calling process with one seeded generator, so the result depends on the
seed only, never on the number of workers.
"""

from __future__ import annotations

import io
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from pimdsl.errors import PimError
from pimdsl.grouping.problem import OBJECTIVES, SpanTable, group_fitness, partition_fitness

Bounds = np.ndarray  # int64 [p + 1], 0 = b0 < b1 < ... < bp = n
Mutation = Callable[[SpanTable, Bounds, np.ndarray, np.random.Generator], "Bounds | None"]

MUTATIONS: tuple[str, ...] = ("merge", "split", "move", "fixed-random")


# --- fitness -------------------------------------------------------------------------------------


def population_costs(
    table: SpanTable, groups: Sequence[Bounds]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-partition latency and energy of many groups at once, and each partition's owner index."""
    starts = np.concatenate([g[:-1] for g in groups])
    ends = np.concatenate([g[1:] for g in groups])
    owner = np.repeat(np.arange(len(groups)), [len(g) - 1 for g in groups])
    k = ends - starts - 1
    return table.latency[starts, k], table.energy[starts, k], owner


def evaluate(table: SpanTable, groups: Sequence[Bounds], objective: str) -> np.ndarray:
    """Group fitness (as `problem.group_fitness`) of every group, vectorised over the groups.

    Module-level and argument-only so that executors can pickle it.
    """
    if not groups:
        return np.empty(0)
    lat, en, owner = population_costs(table, groups)
    total_lat = np.bincount(owner, weights=lat, minlength=len(groups))
    total_en = np.bincount(owner, weights=en, minlength=len(groups))
    if objective in ("latency", "throughput"):
        return total_lat
    if objective == "energy":
        return total_en
    b = table.batch
    return (total_en / b) * (total_lat / b)


# --- relative score R ----------------------------------------------------------------------------


def unit_expected_fitness(table: SpanTable, groups: Sequence[Bounds], objective: str) -> np.ndarray:
    """Per unit: mean over the population of f(P)/|P| for the partition P holding that unit."""
    lat, en, _ = population_costs(table, groups)
    sizes = np.concatenate([np.diff(g) for g in groups])
    f = partition_fitness(lat, en, objective, table.batch)  # type: ignore[arg-type]
    per_unit = np.repeat(f / sizes, sizes).reshape(len(groups), table.n_units)
    return per_unit.mean(axis=0)


def relative_scores(
    table: SpanTable, bounds: Bounds, unit_fitness: np.ndarray, objective: str
) -> np.ndarray:
    """R(P) = f(P) / E(P) for every partition of one group; E from `unit_expected_fitness`."""
    prefix = np.concatenate(([0.0], np.cumsum(unit_fitness)))
    lat, en = table.group_costs(bounds)
    f = partition_fitness(lat, en, objective, table.batch)  # type: ignore[arg-type]
    expected = prefix[bounds[1:]] - prefix[bounds[:-1]]
    return f / np.maximum(expected, np.finfo(float).tiny)


# --- random groups inside the validity map -------------------------------------------------------


def random_bounds(table: SpanTable, lo: int, hi: int, rng: np.random.Generator) -> list[int]:
    """Random legal boundaries from `lo` to `hi` (both included): each partition's end is drawn
    uniformly among the legal ends of its start that do not pass `hi`."""
    out = [lo]
    a = lo
    # Python lists, not numpy scalars: this loop runs once per unit (~1 us -> ~0.1 us a step).
    draws = rng.random(max(hi - lo, 0)).tolist()
    max_end = table.max_end_list
    i = 0
    while a < hi:
        limit = max_end[a]
        if limit > hi:
            limit = hi
        a = a + 1 + int(draws[i] * (limit - a))
        out.append(a)
        i += 1
    return out


def random_group(table: SpanTable, rng: np.random.Generator) -> Bounds:
    return np.asarray(random_bounds(table, 0, table.n_units, rng), dtype=np.int64)


# --- the four mutations --------------------------------------------------------------------------
# Each takes the parent's boundaries and the R score of each of its partitions, and returns new
# boundaries, or None when it cannot apply. They never return an illegal group.


def merge(
    table: SpanTable, bounds: Bounds, scores: np.ndarray, rng: np.random.Generator
) -> Bounds | None:
    """Join the worst partition with its worse neighbour (higher R); if that union is not legal,
    with the other neighbour; None if neither is legal."""
    w = int(np.argmax(scores))
    neighbours = [j for j in (w - 1, w + 1) if 0 <= j < len(scores)]
    neighbours.sort(key=lambda j: -scores[j])  # stable: left first on a tie
    for j in neighbours:
        left = min(w, j)
        if table.is_legal(int(bounds[left]), int(bounds[left + 2])):
            return np.delete(bounds, left + 1)
    return None


def split(
    table: SpanTable, bounds: Bounds, scores: np.ndarray, rng: np.random.Generator
) -> Bounds | None:
    """Cut the worst partition at a uniformly random inner point. Both halves are legal because
    a sub-span of a legal span is legal (max_end is non-decreasing)."""
    w = int(np.argmax(scores))
    s, e = int(bounds[w]), int(bounds[w + 1])
    if e - s < 2:
        return None
    return np.insert(bounds, w + 1, int(rng.integers(s + 1, e)))


def move(
    table: SpanTable, bounds: Bounds, scores: np.ndarray, rng: np.random.Generator
) -> Bounds | None:
    """Shift one boundary of the worst partition by one unit (the worst partition gives a unit to,
    or takes one from, a neighbour), chosen uniformly among the legal shifts."""
    w = int(np.argmax(scores))
    last = len(bounds) - 1
    options = []
    for i in (w, w + 1):  # left and right boundary of the worst partition
        if i == 0 or i == last:
            continue
        for delta in (-1, 1):
            b = int(bounds[i]) + delta
            lo, hi = int(bounds[i - 1]), int(bounds[i + 1])
            if lo < b < hi and table.is_legal(lo, b) and table.is_legal(b, hi):
                options.append((i, b))
    if not options:
        return None
    i, b = options[int(rng.integers(len(options)))]
    out = bounds.copy()
    out[i] = b
    return out


def fixed_random(
    table: SpanTable, bounds: Bounds, scores: np.ndarray, rng: np.random.Generator
) -> Bounds | None:
    """Keep the best partition (lowest R) and redraw everything before and after it at random."""
    b = int(np.argmin(scores))
    s, e = int(bounds[b]), int(bounds[b + 1])
    head = random_bounds(table, 0, s, rng)
    tail = random_bounds(table, e, table.n_units, rng)
    return np.asarray(head + tail, dtype=np.int64)


MUTATION_FUNCTIONS: dict[str, Mutation] = {
    "merge": merge,
    "split": split,
    "move": move,
    "fixed-random": fixed_random,
}


def mutate(
    table: SpanTable, bounds: Bounds, scores: np.ndarray, rng: np.random.Generator
) -> tuple[str, Bounds]:
    """Apply one of the four mutations, equally likely; fall back to another one (random order)
    when the drawn mutation cannot apply. fixed-random always applies."""
    for idx in rng.permutation(len(MUTATIONS)):
        name = MUTATIONS[int(idx)]
        child = MUTATION_FUNCTIONS[name](table, bounds, scores, rng)
        if child is not None:
            return name, child
    raise AssertionError("fixed-random always applies")


# --- the GA --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GenerationStats:
    generation: int
    best: float
    mean: float
    best_partitions: int
    mean_partitions: float
    evaluations: int  # fitness evaluations so far (cache misses)


@dataclass
class GAResult:
    bounds: list[int]
    fitness: float
    objective: str
    seed: int
    generations: int  # generations actually run
    stopped_early: bool
    seconds: float
    trace: list[GenerationStats] = field(default_factory=list)
    mutations: dict[str, int] = field(default_factory=dict)  # applied count per mutation

    def trace_json(self) -> dict:
        return {
            "format": "pimdsl-ga-trace",
            "version": 1,
            "objective": self.objective,
            "seed": self.seed,
            "generations": self.generations,
            "stopped_early": self.stopped_early,
            "seconds": self.seconds,
            "best_bounds": self.bounds,
            "best_fitness": self.fitness,
            "mutations": self.mutations,
            "trace": [asdict(s) for s in self.trace],
        }

    def write_trace(self, path: str | Path) -> None:
        from pimdsl import output, strict_json

        p = check_output_path(path, "trace", TRACE_SUFFIXES)
        text = strict_json.dumps(self.trace_json(), what="ga-group trace", indent=1) + "\n"
        output.write_text(p, "trace=", text)


PLOT_SUFFIXES: tuple[str, ...] = (".png", ".pdf", ".svg")
TRACE_SUFFIXES: tuple[str, ...] = (".json",)


def _is_int(x: object) -> bool:
    return isinstance(x, int | np.integer) and not isinstance(x, bool)


def validate_options(
    *,
    population: int = 100,
    generations: int = 30,
    keep: int = 20,
    seed: int = 0,
    patience: int = 15,
    objective: str = "latency",
    workers: int | Executor = 1,
) -> None:
    """Raise PimError, naming the option and the fix, for GA settings that cannot run.

    The pass calls it before building the span table, so a typo fails at once."""
    if objective not in OBJECTIVES:
        raise PimError(
            f"ga-group: unknown objective '{objective}'.",
            hint=f"Use objective=X with X one of {', '.join(OBJECTIVES)}.",
        )
    for name, value in (
        ("population", population),
        ("generations", generations),
        ("keep", keep),
        ("seed", seed),
        ("patience", patience),
    ):
        if not _is_int(value):
            raise PimError(f"ga-group: {name} must be an integer, got {value!r}.")
    if seed < 0:
        raise PimError(
            f"ga-group: seed must be >= 0, got {seed}.",
            hint="numpy's random generators take non-negative seeds; use e.g. seed=0.",
        )
    if population < 2:
        raise PimError(
            f"ga-group: population must be >= 2, got {population}.",
            hint="COMPASS uses population=100.",
        )
    if not 1 <= keep < population:
        raise PimError(
            f"ga-group: keep must be between 1 and population - 1 = {population - 1}, got "
            f"keep={keep} (population={population}).",
            hint="keep is how many best groups survive a generation; the other "
            "population - keep are their mutants. COMPASS uses population=100 keep=20.",
        )
    if generations < 1:
        raise PimError(
            f"ga-group: generations must be >= 1, got {generations}.",
            hint="COMPASS uses generations=30; with 0 the GA would only return the best "
            "seed group (use --partition='strategy=optimal' for the exact optimum).",
        )
    if patience < 1:
        raise PimError(
            f"ga-group: patience must be >= 1, got {patience}.",
            hint="patience = generations without improvement before stopping early (default 15).",
        )
    if not isinstance(workers, Executor) and (not _is_int(workers) or workers < 1):
        raise PimError(
            f"ga-group: workers must be an integer >= 1 or an Executor, got {workers!r}.",
            hint="workers=1 evaluates in-process; n > 1 uses a pool of n processes.",
        )
    from pimdsl import limits

    limits.check(
        population,
        limits.GA_POPULATION,
        what="ga-group: population",
        hint="COMPASS uses population=100.",
    )
    limits.check(
        generations,
        limits.GA_GENERATIONS,
        what="ga-group: generations",
        hint="COMPASS uses generations=30.",
    )
    if not isinstance(workers, Executor):  # an int >= 1 by the check above
        limits.check(
            workers,
            limits.GA_WORKERS,
            what="ga-group: workers",
            hint="workers=1 evaluates in-process; a few workers per core is the most that helps.",
        )


def check_output_path(path: str | Path, option: str, suffixes: Sequence[str]) -> Path:
    """The path of the `option` output (trace, plot), checked before the GA runs: a file name
    with one of `suffixes`, in an existing, writable folder. Raise PimError otherwise."""
    p = Path(path).expanduser()
    if p.is_dir() or str(path).endswith(("/", os.sep)):
        raise PimError(
            f'ga-group: {option}="{path}" is a folder; it needs a file name.',
            hint=f'Give a file in it, e.g. {option}="{p / ("ga" + suffixes[0])}".',
        )
    if p.suffix.lower() not in suffixes:
        allowed = (
            ", ".join(suffixes[:-1]) + " or " + suffixes[-1] if len(suffixes) > 1 else suffixes[0]
        )
        raise PimError(
            f'ga-group: {option}="{path}" must end in {allowed}, '
            f"got '{p.suffix or '(no extension)'}'.",
            hint=f'Use e.g. {option}="{p.with_suffix(suffixes[0])}".',
        )
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.is_dir():
        raise PimError(
            f"ga-group: the folder '{folder}' of {option}=\"{path}\" does not exist.",
            hint="Create it first, or write the file elsewhere.",
        )
    try:  # a real probe: os.access says yes to root even on read-only file systems
        with tempfile.TemporaryFile(dir=folder):
            pass
        if p.exists() and not os.access(p, os.W_OK):
            raise PermissionError(13, "permission denied")
    except OSError as exc:
        raise PimError(
            f"ga-group: cannot write {option}=\"{path}\" in '{folder}': "
            f"{(exc.strerror or str(exc)).lower()}.",
            hint="Choose a file in a folder you can write to.",
        ) from None
    from pimdsl import output

    output.check(p, f"{option}=")  # never over an input or another output
    return p


def _validate(
    table: SpanTable,
    population: int,
    generations: int,
    keep: int,
    patience: int,
    objective: str,
    seed: int,
    workers: int | Executor,
) -> None:
    validate_options(
        population=population,
        generations=generations,
        keep=keep,
        seed=seed,
        patience=patience,
        objective=objective,
        workers=workers,
    )
    if table.n_units < 1:
        raise PimError("ga-group: the network has no units to group.")


@contextmanager
def _executor(workers: int | Executor) -> Iterator[tuple[Executor | None, int]]:
    if isinstance(workers, Executor):
        yield workers, max(1, int(getattr(workers, "_max_workers", 4)))
        return
    if workers == 1:
        yield None, 1
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield pool, workers


class _Evaluator:
    """Fitness with a per-group cache; cache misses go to the executor in ordered chunks."""

    def __init__(self, table: SpanTable, objective: str, executor: Executor | None, chunks: int):
        self.table, self.objective = table, objective
        self.executor, self.chunks = executor, chunks
        self.cache: dict[bytes, float] = {}

    def __call__(self, groups: Sequence[Bounds]) -> np.ndarray:
        keys = [g.tobytes() for g in groups]
        todo: dict[bytes, Bounds] = {}
        for k, g in zip(keys, groups, strict=True):
            if k not in self.cache and k not in todo:
                todo[k] = g
        if todo:
            new = list(todo.values())
            if self.executor is None or len(new) < 2:
                values = evaluate(self.table, new, self.objective)
            else:
                parts = [p for p in np.array_split(np.arange(len(new)), self.chunks) if len(p)]
                futures = [
                    self.executor.submit(evaluate, self.table, [new[i] for i in p], self.objective)
                    for p in parts
                ]
                values = np.concatenate([f.result() for f in futures])  # submission order
            self.cache.update(zip(todo.keys(), values.tolist(), strict=True))
        return np.array([self.cache[k] for k in keys])


_FITNESS_LABEL = {
    "latency": "latency (s)",
    "throughput": "latency (s)",
    "energy": "energy (J)",
    "edp": "EDP (J*s)",
}


def _progress(
    enabled: bool | None, total: int, label: str
) -> AbstractContextManager[Callable[[int, str], None]]:
    """The GA's progress (`pimdsl.progress.counter`): a bar on a terminal, plain lines
    `ga-group: generation g/N, ...` in logs once the run has taken a while."""
    from pimdsl import progress

    return progress.counter("ga-group", total, label, "generation", enabled=enabled)


def _dedupe(groups: list[Bounds]) -> list[Bounds]:
    seen: set[bytes] = set()
    out = []
    for g in groups:
        k = g.tobytes()
        if k not in seen:
            seen.add(k)
            out.append(g)
    return out


def run_ga(
    table: SpanTable,
    *,
    population: int = 100,
    generations: int = 30,
    keep: int = 20,
    seed: int = 0,
    patience: int = 15,
    objective: str = "latency",
    workers: int | Executor = 1,
    initial: Sequence[Sequence[int]] = (),
    progress: bool | None = None,
    check: bool = False,
) -> GAResult:
    """Run COMPASS's GA and return the best group found.

    `initial` groups (e.g. the incoming grouping and the exact optimum) enter the first
    population as they are, the rest is random. `patience`: stop after this many generations
    without improvement of the best fitness. `check`: verify every individual with
    `table.check_group` (for tests; the operators are legal by construction). `progress`: None
    = a rich bar when stderr is a terminal, else plain lines on stderr for runs longer than ~2 s;
    True = the bar; False = silent. Bad settings raise PimError (`validate_options`).
    """
    _validate(table, population, generations, keep, patience, objective, seed, workers)
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    pop: list[Bounds] = []
    for g in initial:
        table.check_group(g)
        pop.append(np.asarray(g, dtype=np.int64))
    pop = _dedupe(pop)[:population]
    while len(pop) < population:
        pop.append(random_group(table, rng))
    counts = dict.fromkeys(MUTATIONS, 0)
    trace: list[GenerationStats] = []

    label = (
        f"{table.n_units} units, population {population}, up to {generations} generations, "
        f"objective {objective}, seed {seed}"
    )
    with _executor(workers) as (executor, chunks), _progress(progress, generations, label) as tick:
        fitness_of = _Evaluator(table, objective, executor, chunks)
        fit = fitness_of(pop)
        best_so_far, stale, gen, stopped = np.inf, 0, 0, False

        def record(g: int) -> None:
            i = int(np.argmin(fit))
            trace.append(
                GenerationStats(
                    g,
                    float(fit[i]),
                    float(fit.mean()),
                    len(pop[i]) - 1,
                    float(np.mean([len(p) - 1 for p in pop])),
                    len(fitness_of.cache),
                )
            )

        record(0)
        best_so_far = trace[-1].best
        for gen in range(1, generations + 1):
            if check:
                for g in pop:
                    table.check_group(g)
            unit_fit = unit_expected_fitness(table, pop, objective)
            order = np.argsort(fit, kind="stable")
            elite = _dedupe([pop[i] for i in order])[:keep]
            scores = [relative_scores(table, g, unit_fit, objective) for g in elite]
            children = []
            for _ in range(population - len(elite)):
                p = int(rng.integers(len(elite)))
                name, child = mutate(table, elite[p], scores[p], rng)
                counts[name] += 1
                children.append(child)
            pop = elite + children
            fit = fitness_of(pop)
            record(gen)
            tick(gen, f"best {_FITNESS_LABEL.get(objective, objective)} {trace[-1].best:.4g}")
            if trace[-1].best < best_so_far * (1 - 1e-12):
                best_so_far, stale = trace[-1].best, 0
            else:
                stale += 1
                if stale >= patience:
                    stopped = True
                    break

    i = int(np.argmin(fit))
    best = [int(b) for b in pop[i]]
    table.check_group(best)
    return GAResult(
        bounds=best,
        fitness=group_fitness(table, best, objective),  # type: ignore[arg-type]
        objective=objective,
        seed=seed,
        generations=gen if generations else 0,
        stopped_early=stopped,
        seconds=time.perf_counter() - t0,
        trace=trace,
        mutations=counts,
    )


def plot_trace(result: GAResult, path: str | Path) -> None:
    """Convergence plot (best and mean fitness, partitions of the best) to an image file
    (.png, .pdf or .svg)."""
    path = check_output_path(path, "plot", PLOT_SUFFIXES)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise PimError(
            "ga-group: plotting needs matplotlib, which is not installed.",
            hint="Install it with `pip install 'pimdsl[plot]'` or drop the plot option.",
        ) from exc
    gens = [s.generation for s in result.trace]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(gens, [s.best for s in result.trace], label="best")
    ax.plot(gens, [s.mean for s in result.trace], label="population mean", alpha=0.7)
    ax.set_xlabel("generation")
    ax.set_ylabel(f"fitness ({result.objective}, lower is better)")
    ax.set_yscale("log")
    ax2 = ax.twinx()
    ax2.step(
        gens,
        [s.best_partitions for s in result.trace],
        where="post",
        color="gray",
        linestyle=":",
        label="partitions of best",
    )
    ax2.set_ylabel("partitions of best")
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], loc="upper right", fontsize="small")
    ax.set_title(f"ga-group convergence (seed {result.seed})")
    fig.tight_layout()
    from pimdsl import output

    image = io.BytesIO()
    try:
        fig.savefig(image, format=path.suffix.lower().lstrip("."))
    finally:
        plt.close(fig)
    output.write_bytes(path, "plot=", image.getvalue())
