"""Mutated IR at the four levels: text mutations of the base IR, run by pim-opt and pim-run."""

from __future__ import annotations

import random
import re
from pathlib import Path

from fuzz_base import HUGE_INTS, ODD_FLOATS, Base
from fuzz_harness import Case

# --- text mutations of IR -------------------------------------------------------------------


def _mutate_text(text: str, rng: random.Random) -> tuple[str, str]:
    lines = text.split("\n")
    kind = rng.choice(
        [
            "truncate",
            "truncate-string",
            "delete-line",
            "dup-line",
            "int",
            "float",
            "utf8",
            "swap-lines",
            "char",
            "pim-attr",
            "nest",
            "rename",
        ]
    )
    if kind == "truncate":
        at = rng.randrange(len(text))
        return text[:at], f"truncate at {at}"
    if kind == "truncate-string":
        quotes = [m.start() for m in re.finditer('"', text)]
        at = rng.choice(quotes) + rng.randrange(1, 70)
        return text[:at], f"truncate inside a string at {at}"
    if kind in ("delete-line", "dup-line", "swap-lines") and len(lines) > 2:
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        if kind == "delete-line":
            del lines[i]
        elif kind == "dup-line":
            lines.insert(i, lines[i])
        else:
            lines[i], lines[j] = lines[j], lines[i]
        return "\n".join(lines), f"{kind} {i} {j}"
    if kind == "int":
        spots = [m for m in re.finditer(r"(?<![\w.%#@])\d+(?![\w.])", text)]
        m = rng.choice(spots)
        value = str(rng.choice(HUGE_INTS))
        return text[: m.start()] + value + text[
            m.end() :
        ], f"int {m.group()} -> {value} at {m.start()}"
    if kind == "float":
        spots = [m for m in re.finditer(r"\d\.\d+e[+-]\d+", text)] or [None]
        m = rng.choice(spots)
        if m is None:
            return text, "no float"
        value = rng.choice(ODD_FLOATS)
        return text[: m.start()] + value + text[m.end() :], f"float -> {value} at {m.start()}"
    if kind == "utf8":
        at = rng.randrange(len(text))
        return text[:at] + "\udcff\udcfe" + text[at:], f"invalid UTF-8 at {at}"
    if kind == "char":
        at = rng.randrange(len(text))
        return text[:at] + rng.choice(',:{}()<>[]"%=x0') + text[
            at + rng.randrange(2) :
        ], f"char at {at}"
    if kind == "pim-attr":
        spots = [
            m
            for m in re.finditer(
                r"(pim\.\w+|span|replication|core_crossbars|crossbars|"
                r"weight_bytes|core|xbar|replica|rows|cols) = ([^,}]+)",
                text,
            )
        ]
        if not spots:
            return text, "no pim attribute"
        m = rng.choice(spots)
        n = rng.randrange(0, 4)
        values = ", ".join(str(rng.choice(HUGE_INTS[:9] + [-5])) for _ in range(n))
        new = rng.choice(
            [
                f"array<i64{': ' + values if values else ''}>",
                f"{rng.choice(HUGE_INTS)} : i64",
                '"x"',
                "[]",
                "{}",
            ]
        )
        return text[: m.start(2)] + new + text[m.end(2) :], f"{m.group(1)} = {new}"
    if kind == "nest":
        depth = rng.choice([200, 3000])
        return text.replace("{", "{" + "[" * depth + "]" * depth + " ", 1), f"nest {depth}"
    names = sorted(set(re.findall(r"%[\w.]+", text)))
    a, b = rng.choice(names), rng.choice(names)
    return text.replace(a, b, 1), f"rename {a} -> {b}"


def ir_cases(base: Base, root: Path, level: str, n: int, seed: int) -> list[Case]:
    rng = random.Random(f"ir-{level}-{seed}")
    source = (base.folder / f"{level}.mlir").read_text()
    cases = []
    for i in range(n):
        text, note = _mutate_text(source, rng)
        d = base.case_dir(root, f"ir-{level}-{i}", ["net.onnx"])
        (d / "in.mlir").write_bytes(text.encode("utf-8", "surrogateescape"))
        if rng.random() < 0.5:
            extra = rng.choice(
                [
                    ["--partition"],
                    ["--lower-to-isa"],
                    ["--partition-to-crossbar"],
                    ["-t", "pim-asm"],
                    ["-t", "pim-json"],
                    ["--partition", "--report", "r.json"],
                    ["--ga-group=generations=2 population=6 keep=2"],
                    ["-t", "summary"],
                    [],
                ]
            )
            argv = ["in.mlir", *extra, "-o", "out.mlir"]
            cases.append(
                Case(
                    f"ir-{level}",
                    "pim-opt",
                    argv,
                    str(d),
                    ["in.mlir", "net.onnx"],
                    ["r.json"],
                    note,
                )
            )
        else:
            extra = rng.choice(
                [
                    [],
                    ["--output", "y.npy"],
                    ["--timing-only", "--stats", "s.json"],
                    ["--stats", "s.json"],
                    ["--mode", "quantized"],
                    ["--batch", "2"],
                ]
            )
            cases.append(
                Case(
                    f"ir-{level}",
                    "pim-run",
                    ["in.mlir", *extra],
                    str(d),
                    ["in.mlir", "net.onnx"],
                    ["s.json"],
                    note,
                )
            )
    return cases
