"""Design-space exploration: `pim-dse SPEC.toml` sweeps models x chips x batches x strategies.

One idea per module:

- `spec`: the sweep spec (TOML) read and checked, with errors that name file:line and key;
- `chips`: the spec's chip entries (presets, files, a base with fields set or varied) as chips;
- `points`: a sweep point, its stable key, and the groups of points that share a span table;
- `tables`: the span-cost table of (network, chip, batch, schedule), cached on disk;
- `evaluate`: one group of points on a worker: grouping, costs, optional lowering/simulation;
- `runners`: where the groups run: in-process, a local process pool, or a Dask cluster;
- `results`: the result files (JSON lines while running; sorted CSV, Parquet, JSON lines at
  the end) and which points are already finished;
- `sweep`: the whole run, tying these together;
- `plots`: Pareto fronts, throughput vs chip size and per-partition bars from a result folder.

docs/dse.md describes the spec and the result columns.
"""
