"""The sweep spec: a TOML file read into a checked `Spec` (docs/dse.md has an example).

    models = ["squeezenet1_1", "resnet18", "nets/my.onnx"]   # zoo names or ONNX files
    batches = [1, 16]
    strategies = ["greedy", "layerwise", "optimal", "ga"]
    objectives = ["latency"]          # latency, energy, edp (optimal and ga; default latency)
    schedule = "auto"                 # the partition pass's schedule policy (default auto)
    stages = []                       # add "lower" and/or "simulate" (simulate lowers first)

    [[chips]]
    preset = "compass-s"              # or file = "my-chip.toml", or base = preset/file ...
    [[chips]]
    base = "compass-s"
    vary = { cores = [8, 32] }        # one chip per combination (a cartesian product)
    set = { dram_bandwidth = 25.6e9 } # fields changed on every one of them

    [ga]                              # only for strategy "ga"; COMPASS's defaults
    population = 100
    generations = 30
    seeds = [0]

Errors are `PimError`s naming the spec file, the line of the key (found in the text: tomllib
gives no positions) and what to write instead.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pimdsl.errors import PimError

STRATEGIES = ("greedy", "layerwise", "optimal", "ga")
OBJECTIVES = ("latency", "energy", "edp")
# strategies whose grouping does not depend on the objective: one point each, objective ""
OBJECTIVE_FREE = ("greedy", "layerwise")
STAGES = ("lower", "simulate")
TOP_KEYS = ("models", "batches", "strategies", "objectives", "schedule", "stages", "chips", "ga")
GA_KEYS = ("population", "generations", "keep", "patience", "seeds", "seed_optimum")
GA_DEFAULTS: dict[str, Any] = {
    "population": 100,
    "generations": 30,
    "keep": 20,
    "patience": 15,
    "seeds": [0],
    "seed_optimum": True,
}


@dataclass(frozen=True)
class Model:
    """A network to sweep: a zoo model (`zoo` set) or an ONNX file (`path` set)."""

    name: str  # as the result table shows it: the zoo name or the file's stem
    zoo: str | None = None
    path: str | None = None


@dataclass(frozen=True)
class GASettings:
    population: int = 100
    generations: int = 30
    keep: int = 20
    patience: int = 15
    seed_optimum: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "population": self.population,
            "generations": self.generations,
            "keep": self.keep,
            "patience": self.patience,
            "seed_optimum": self.seed_optimum,
        }


@dataclass
class Spec:
    path: Path
    models: list[Model]
    chips: list[Any]  # pimdsl.chip.Chip, one per chip of the sweep, names unique
    batches: list[int]
    strategies: list[str]
    objectives: list[str]
    schedule: str
    stages: tuple[str, ...]
    ga: GASettings
    seeds: list[int] = field(default_factory=lambda: [0])


class SpecText:
    """The spec's text, to name the line where a key is written."""

    _HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_.\-]+)\s*\]\]?")

    def __init__(self, path: Path, text: str):
        self.path = path
        self.lines = text.splitlines()

    def where(self, key: str | None = None, table: str | None = None, index: int = 0) -> str:
        """`file:line` of `key` in `[table]` (the `index`-th `[[table]]`), else of the table."""
        current, seen, table_line = None, -1, None
        for n, line in enumerate(self.lines, 1):
            m = self._HEADER.match(line)
            if m:
                current = m.group(1)
                if current == table:
                    seen += 1
                    if seen == index:
                        table_line = n
                continue
            in_table = current == table and (table is None or seen == index)
            if key and in_table and re.match(rf"^\s*{re.escape(key)}\s*=", line):
                return f"{self.path}:{n}"
            if key and table and in_table and re.search(rf"\b{re.escape(key)}\s*=", line):
                return f"{self.path}:{n}"  # an inline table: vary = {{ cores = [...] }}
        return f"{self.path}:{table_line}" if table_line else str(self.path)

    def error(
        self,
        message: str,
        *,
        key: str | None = None,
        table: str | None = None,
        index: int = 0,
        hint: str | None = None,
    ) -> PimError:
        return PimError(message, where=self.where(key, table, index), hint=hint)


def first_duplicate(names: list[str]) -> str | None:
    """The first name (in sorted order) listed twice, else None."""
    dup = sorted({n for n in names if names.count(n) > 1})
    return dup[0] if dup else None


def _suggest(word: str, known: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    did = f"Did you mean '{close[0]}'? " if close else ""
    return f"{did}Known keys: {', '.join(known)}."


def _list_of(
    text: SpecText,
    data: dict[str, Any],
    key: str,
    kind: type,
    *,
    default: list[Any] | None = None,
    table: str | None = None,
) -> list[Any]:
    """`data[key]` as a non-empty list of `kind` (a single value is accepted as a list of one)."""
    if key not in data:
        if default is None:
            raise text.error(
                f"the spec has no `{key}`.",
                table=table,
                hint=f"Add e.g. `{key} = [...]` (docs/dse.md).",
            )
        return default
    value = data[key]
    values = value if isinstance(value, list) else [value]
    what = {str: "strings", int: "whole numbers"}[kind]
    bad = [v for v in values if not isinstance(v, kind) or isinstance(v, bool)]
    if bad or not values:
        raise text.error(
            f"`{key}` must be a non-empty list of {what}, got {value!r}.", key=key, table=table
        )
    if len(set(values)) != len(values):
        raise text.error(
            f"`{key}` lists a value twice: {value!r}.",
            key=key,
            table=table,
            hint="List each value once.",
        )
    return values


def _choices(text: SpecText, values: list[str], key: str, known: tuple[str, ...]) -> list[str]:
    for v in values:
        if v not in known:
            close = difflib.get_close_matches(v, known, n=1, cutoff=0.6)
            did = f" Did you mean '{close[0]}'?" if close else ""
            raise text.error(
                f"`{key}`: unknown value '{v}'.{did}",
                key=key,
                hint=f"Use one or more of {', '.join(known)}.",
            )
    return values


def _models(text: SpecText, names: list[str]) -> list[Model]:
    from pimdsl.models import list_models

    zoo = list_models()
    models = []
    for name in names:
        if name in zoo:
            models.append(Model(name=name, zoo=name))
            continue
        path = (text.path.parent / name).resolve()
        if name.endswith(".onnx"):
            if not path.is_file():
                raise text.error(
                    f"`models`: ONNX file '{name}' does not exist (looked for {path}).",
                    key="models",
                    hint="Paths are relative to the spec file.",
                )
            models.append(Model(name=path.stem, path=str(path)))
            continue
        close = difflib.get_close_matches(name, zoo, n=1, cutoff=0.6)
        did = f" Did you mean '{close[0]}'?" if close else ""
        raise text.error(
            f"`models`: '{name}' is neither a zoo model nor an .onnx file.{did}",
            key="models",
            hint=f"Zoo models: {', '.join(zoo)}.",
        )
    dup = first_duplicate([m.name for m in models])
    if dup:
        raise text.error(
            f"`models`: two models are named '{dup}' in the results.",
            key="models",
            hint="Rename one of the ONNX files.",
        )
    return models


def _ga(text: SpecText, data: Any) -> tuple[GASettings, list[int]]:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise text.error("`ga` must be a table ([ga]).", key="ga")
    for key in data:
        if key not in GA_KEYS:
            raise text.error(
                f"[ga]: unknown key '{key}'.", key=key, table="ga", hint=_suggest(key, GA_KEYS)
            )
    values = {**GA_DEFAULTS, **data}
    seeds = _list_of(text, values, "seeds", int, table="ga")
    for key in ("population", "generations", "keep", "patience"):
        v = values[key]
        if not isinstance(v, int) or isinstance(v, bool):
            raise text.error(
                f"[ga]: `{key}` must be a whole number, got {v!r}.", key=key, table="ga"
            )
    if not isinstance(values["seed_optimum"], bool):
        raise text.error(
            "[ga]: `seed_optimum` must be true or false.", key="seed_optimum", table="ga"
        )
    settings = GASettings(**{k: values[k] for k in GASettings.__dataclass_fields__})
    from pimdsl.grouping.ga import validate_options

    try:  # the GA's own checks (keep < population, seeds >= 0, ...), before anything runs
        for seed in seeds:
            validate_options(
                population=settings.population,
                generations=settings.generations,
                keep=settings.keep,
                seed=seed,
                patience=settings.patience,
                objective="latency",
                workers=1,
            )
    except PimError as exc:
        raise text.error(f"[ga]: {exc}", table="ga") from None
    return settings, seeds


def read_toml(path: Path) -> tuple[SpecText, dict[str, Any]]:
    try:
        raw = path.read_text()
    except FileNotFoundError:
        raise PimError(
            f"sweep spec '{path}' does not exist.",
            hint="Give a TOML file, e.g. examples/sweep.toml.",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PimError(f"cannot read sweep spec '{path}': {exc}.") from None
    text = SpecText(path, raw)
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        where = f"{path}:{m.group(1)}" if m else str(path)
        raise PimError(f"the sweep spec is not valid TOML: {exc}.", where=where) from None
    return text, data


def load_spec(path: str | Path) -> Spec:
    """Read and check the sweep spec at `path`."""
    from pimdsl.dse.chips import chips_of
    from pimdsl.module_attrs import SCHEDULE_POLICIES

    path = Path(path)
    text, data = read_toml(path)
    for key in data:
        if key not in TOP_KEYS:
            raise text.error(
                f"unknown key '{key}'.", key=key, table=None, hint=_suggest(key, TOP_KEYS)
            )
    models = _models(text, _list_of(text, data, "models", str))
    batches = _list_of(text, data, "batches", int, default=[1])
    if any(b < 1 for b in batches):
        raise text.error(f"`batches` must be >= 1, got {batches}.", key="batches")
    strategies = _choices(
        text, _list_of(text, data, "strategies", str, default=["greedy"]), "strategies", STRATEGIES
    )
    objectives = _choices(
        text, _list_of(text, data, "objectives", str, default=["latency"]), "objectives", OBJECTIVES
    )
    schedule = data.get("schedule", "auto")
    if schedule not in SCHEDULE_POLICIES:
        raise text.error(
            f"`schedule`: unknown policy {schedule!r}.",
            key="schedule",
            hint=f"Use one of {', '.join(SCHEDULE_POLICIES)}.",
        )
    stages = data.get("stages", [])
    if not isinstance(stages, list):
        stages = [stages]
    _choices(text, stages, "stages", STAGES)
    if "simulate" in stages and "lower" not in stages:
        stages = ["lower", *stages]  # simulating needs the lowered program
    ga, seeds = _ga(text, data.get("ga"))
    chips = chips_of(text, data.get("chips"))
    return Spec(
        path=path,
        models=models,
        chips=chips,
        batches=batches,
        strategies=strategies,
        objectives=objectives,
        schedule=schedule,
        stages=tuple(s for s in STAGES if s in stages),
        ga=ga,
        seeds=seeds,
    )
