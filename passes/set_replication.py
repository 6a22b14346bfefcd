"""`set-replication`: give layers of partition-level IR the replicas the user asks for.

    pim-opt net.mlir --chip compass-s --partition --set-replication='replication="conv1=4"'

Each named layer (ONNX node name, SSA name or weight name) gets that many replicas in every
partition holding it; the partitions' stored costs are computed again for the new replication,
and a replication that does not fit the chip is an error naming the most replicas that fit
(pimdsl/replication.py). The request is also kept in the module attribute `pim.replication`,
so regrouping (`--ga-group`) and re-costing for another `--chip`/`--batch` keep it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass


@dataclass(frozen=True)
class SetReplicationPass(ModulePass):
    """Set the replication of named layers of partition-level IR and re-cost their partitions."""

    name: ClassVar[str] = "set-replication"

    replication: str = ""
    """"LAYER=R ...": R replicas of each layer LAYER."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        from pimdsl.replication import parse_request, set_replication, store_request

        wanted = parse_request(self.replication, "--set-replication='replication=...'")
        set_replication(op, wanted)
        store_request(op, wanted)
