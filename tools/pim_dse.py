"""`pim-dse`: sweep models x chips x batches x strategies from a TOML spec (docs/dse.md).

    pim-dse examples/sweep.toml                      # local process pool, one per core
    pim-dse examples/sweep.toml -j 1 -o out/         # in this process
    pim-dse sweep.toml --scheduler tcp://host:8786   # on a Dask cluster
    pim-dse sweep.toml --list                        # the points, nothing run

Writes OUT/results.csv (and .parquet with pyarrow), OUT/results.jsonl, OUT/sweep.json and
OUT/times.jsonl; OUT defaults to SPEC's stem + "-results" in the current folder. A re-run skips
the points already in OUT (`--fresh` starts over). Exit codes: 0 done (points whose row holds
an error included), 1 a user error (one paragraph on stderr), 2 a command-line syntax error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

PROG = "pim-dse"


def build_parser() -> argparse.ArgumentParser:
    from pimdsl.tools.pim_opt import version_text

    p = argparse.ArgumentParser(
        prog=PROG,
        description="Design-space exploration: run a sweep "
        "spec (TOML) and write one result table (docs/dse.md).",
    )
    p.add_argument("--version", action="version", version=version_text(PROG))
    p.add_argument("spec", metavar="SPEC.toml", help="the sweep spec")
    p.add_argument(
        "-o",
        "--out",
        metavar="DIR",
        help="result folder (default: SPEC's stem + '-results' in the current folder)",
    )
    p.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        metavar="N",
        help="local worker processes (default: one per core; 1 = in this process)",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on the Dask cluster at ADDRESS (tcp://host:port) instead",
    )
    cache = p.add_mutually_exclusive_group()
    cache.add_argument(
        "--cache",
        metavar="DIR",
        help="span-table cache folder (default: the pimdsl cache, span-tables/)",
    )
    cache.add_argument("--no-cache", action="store_true", help="compute every span table")
    p.add_argument(
        "--fresh",
        action="store_true",
        help="forget the finished points in the result folder and run all",
    )
    p.add_argument("--list", action="store_true", help="print the points and their keys; run none")
    p.add_argument(
        "--plots",
        metavar="DIR",
        help="also write the plots of docs/dse.md "
        "(Pareto fronts, throughput vs chip size, per-partition bars) into DIR",
    )
    p.add_argument(
        "-v", "--verbose", action="count", default=0, help="also log per-group times and cache hits"
    )
    p.add_argument("-q", "--quiet", action="store_true", help="warnings and errors only")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from pimdsl import logs
    from pimdsl.errors import PimError

    logs.setup(PROG, verbose=args.verbose, quiet=args.quiet)
    try:
        return _run(args)
    except PimError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            f"{PROG}: interrupted; finished points are kept, a re-run goes on from there",
            file=sys.stderr,
        )
        return 130


def _run(args: argparse.Namespace) -> int:
    from pimdsl.dse.points import groups_of
    from pimdsl.dse.spec import load_spec
    from pimdsl.dse.sweep import run_sweep
    from pimdsl.dse.tables import default_folder
    from pimdsl.errors import PimError

    if args.jobs < 1:
        raise PimError(f"-j must be at least 1, got {args.jobs}.")
    spec = load_spec(args.spec)
    if args.list:
        for g in groups_of(spec):
            for p in g.points:
                seed = "" if p.seed is None else f" seed {p.seed}"
                print(
                    f"{p.key}  {p.model}  {p.chip}  b{p.batch}  {p.strategy}"
                    f"{' ' + p.objective if p.objective else ''}{seed}"
                )
        return 0
    out = Path(args.out) if args.out else Path(f"{Path(args.spec).stem}-results")
    if out.exists() and not out.is_dir():
        raise PimError(f"-o '{out}' is a file; give a folder for the results.")
    if args.plots:
        from pimdsl.dse.plots import pyplot

        pyplot()  # no matplotlib: say so before the sweep, not after
    cache = None if args.no_cache else Path(args.cache) if args.cache else default_folder()
    s = run_sweep(
        spec, out, jobs=args.jobs, scheduler=args.scheduler, cache=cache, fresh=args.fresh
    )
    import logging

    logging.getLogger("pimdsl.dse").info(
        "%d points: %d run, %d finished before, %d with errors; table %s",
        s.points,
        s.ran,
        s.skipped,
        s.errors,
        out / "results.csv",
    )
    if args.plots:
        from pimdsl.dse.plots import write_plots

        for path in write_plots(s.rows, Path(args.plots)):
            logging.getLogger("pimdsl.dse").info("wrote %s", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
