"""Two passes written outside pimdsl."""

from collections import Counter
from dataclasses import dataclass
from typing import ClassVar

from xdsl.context import Context
from xdsl.dialects.builtin import DictionaryAttr, IntegerAttr, ModuleOp, i64
from xdsl.passes import ModulePass


@dataclass(frozen=True)
class OpCountPass(ModulePass):
    """Record the number of ops of each dialect as the module attribute `example.op_count`."""

    name: ClassVar[str] = "op-count"

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        counts = Counter(o.dialect_name() for o in op.walk() if o is not op)
        op.attributes["example.op_count"] = DictionaryAttr(
            {d: IntegerAttr(n, i64) for d, n in sorted(counts.items())}
        )


@dataclass(frozen=True)
class ReplicateLayerPass(ModulePass):
    """Give one layer of partition-level IR `replicas` copies of its weights."""

    name: ClassVar[str] = "replicate-layer"

    layer: str = ""
    replicas: int = 1

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        from pimdsl.replication import set_replication

        # sets the partition ops' `replication` and re-costs them; errors if it does not fit
        set_replication(op, {self.layer: self.replicas})
