"""A target written outside pimdsl: one line per op name, with its count."""

from collections import Counter
from dataclasses import dataclass
from typing import IO, ClassVar

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.utils.target import Target


@dataclass(frozen=True)
class OpHistogramTarget(Target):
    """`-t op-histogram`: `count op-name` lines, most frequent first."""

    name: ClassVar[str] = "op-histogram"

    def emit(self, ctx: Context, module: ModuleOp, output: IO[str]) -> None:
        counts = Counter(o.name for o in module.walk() if o is not module)
        for name, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            output.write(f"{n} {name}\n")
