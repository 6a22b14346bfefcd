"""Plots of a sweep's results (matplotlib, Agg backend): `pim-dse SPEC --plots DIR`.

- `dse_pareto.png`: per network, throughput against energy per inference of every point, and
  the Pareto front (no other point has both more throughput and less energy);
- `dse_chip_size.png`: per network, the best throughput of each chip against its weight
  capacity, one line per batch;
- `dse_partitions.png`: per network, the per-partition latency and energy of its highest-
  throughput point (one batch).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pimdsl.errors import PimError

FILES = ("dse_pareto.png", "dse_chip_size.png", "dse_partitions.png")
MB = 2**20


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the (energy, throughput) points no other point beats on both (less or equal
    energy and more or equal throughput, one strictly), ordered by energy."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    front: list[int] = []
    best = float("-inf")
    for i in order:
        if points[i][1] > best:
            front.append(i)
            best = points[i][1]
    return front


def pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise PimError(
            "--plots needs matplotlib, which is not installed.",
            hint="Install it with `pip install 'pimdsl[dse]'`.",
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _throughput_axes(ax: Any, title: str, xlabel: str, xbase: int) -> None:
    """Log-log axes with throughput up."""
    from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter

    ax.set_xscale("log", base=xbase)
    ax.set_yscale("log")
    for axis, base in ((ax.xaxis, xbase), (ax.yaxis, 10)):
        # plain numbers at 1, 2, 5 x 10^k (powers of 2 on a base-2 axis); minor-tick labels
        # would overlap on short decades
        axis.set_major_locator(
            LogLocator(base=base, subs=(1.0, 2.0, 5.0) if base == 10 else (1.0,))
        )
        axis.set_major_formatter(ScalarFormatter())
        axis.set_minor_formatter(NullFormatter())
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("throughput (inferences/s)")


def _save(plt: Any, fig: Any, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _by_model(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        if not r.get("error"):
            out[r["model"]].append(r)
    return dict(out)


def plot_pareto(rows: list[dict[str, Any]], path: Path) -> None:
    plt = pyplot()
    models = _by_model(rows)
    fig, axes = plt.subplots(1, len(models), figsize=(4.5 * len(models), 3.8), squeeze=False)
    for ax, (model, rs) in zip(axes[0], models.items(), strict=True):
        chips = sorted({r["chip"] for r in rs})
        for chip in chips:
            mine = [r for r in rs if r["chip"] == chip]
            ax.scatter(
                [r["energy_j"] * 1e3 for r in mine],
                [r["throughput_ips"] for r in mine],
                s=14,
                label=chip,
                alpha=0.8,
            )
        pts = [(r["energy_j"] * 1e3, r["throughput_ips"]) for r in rs]
        front = [pts[i] for i in pareto_front(pts)]
        ax.step(
            [p[0] for p in front],
            [p[1] for p in front],
            where="post",
            color="black",
            lw=1,
            label="Pareto front",
        )
        _throughput_axes(ax, model, "energy per inference (mJ)", 10)
    axes[0][0].legend(fontsize="x-small")
    _save(plt, fig, path)


def plot_chip_size(rows: list[dict[str, Any]], path: Path) -> None:
    plt = pyplot()
    models = _by_model(rows)
    fig, axes = plt.subplots(1, len(models), figsize=(4.5 * len(models), 3.5), squeeze=False)
    for ax, (model, rs) in zip(axes[0], models.items(), strict=True):
        for batch in sorted({r["batch"] for r in rs}):
            best: dict[int, float] = {}
            for r in rs:
                if r["batch"] == batch:
                    size = r["chip_capacity_bytes"]
                    best[size] = max(best.get(size, 0.0), r["throughput_ips"])
            sizes = sorted(best)
            ax.plot(
                [s / MB for s in sizes],
                [best[s] for s in sizes],
                marker="o",
                label=f"batch {batch}",
            )
        _throughput_axes(ax, f"{model}: best strategy per chip", "chip weight capacity (MB)", 2)
        ax.legend(fontsize="x-small")
    _save(plt, fig, path)


def plot_partitions(rows: list[dict[str, Any]], path: Path) -> None:
    plt = pyplot()
    models = _by_model(rows)
    fig, axes = plt.subplots(len(models), 2, figsize=(10, 2.6 * len(models)), squeeze=False)
    for (ax_l, ax_e), (model, rs) in zip(axes, models.items(), strict=True):
        best = max(rs, key=lambda r: (r["throughput_ips"], r["key"]))
        parts = best["partition_costs"]
        x = range(len(parts))
        labels = [f"{p['span'][0]}-{p['span'][1]}" for p in parts]
        ax_l.bar(x, [p["latency_s"] * 1e3 for p in parts], color="tab:blue")
        ax_e.bar(x, [p["energy_j"] * 1e3 for p in parts], color="tab:orange")
        what = (
            f"{model}, {best['chip']}, batch {best['batch']}, {best['strategy']}"
            f"{' ' + best['objective'] if best['objective'] else ''}"
        )
        for ax, unit in ((ax_l, "latency (ms)"), (ax_e, "energy (mJ)")):
            ax.set_xticks(list(x), labels, rotation=90, fontsize="x-small")
            ax.set_ylabel(f"{unit} per batch")
            ax.set_xlabel("partition (units)")
            ax.set_title(what, fontsize="small")
    _save(plt, fig, path)


def write_plots(rows: list[dict[str, Any]], folder: Path) -> list[Path]:
    """All three plots of `rows` (the sweep's JSON rows) into `folder`."""
    if not _by_model(rows):
        raise PimError("--plots: the sweep has no point without an error; nothing to plot.")
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / name for name in FILES]
    for plot, path in zip((plot_pareto, plot_chip_size, plot_partitions), paths, strict=True):
        plot(rows, path)
    return paths
