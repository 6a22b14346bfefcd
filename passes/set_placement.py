"""`set-placement`: put the tiles of layers of partition-level IR on the cores the user names.

    pim-opt net.mlir --chip compass-s --partition --set-placement='placement="conv1=0-3 fc=4+6"'

Each named layer (ONNX node name, SSA name or weight name) gets that placement hint in every
partition holding it (the partition op's `placement` property): `partition-to-crossbar` puts
its replicas' tiles on those cores, first-fit decreasing, before the other layers. The
partitions' stored costs are computed again for the new placement, and a hint that does not fit
is an error naming the layer and how many of its replicas fit on its cores
(pimdsl/placement_hint.py). The request is also kept in the module attribute `pim.placement`, so
regrouping (`--ga-group`) and re-costing for another `--chip`/`--batch` keep it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass


@dataclass(frozen=True)
class SetPlacementPass(ModulePass):
    """Set the placement hint of named layers of partition-level IR and re-cost their partitions."""

    name: ClassVar[str] = "set-placement"

    placement: str = ""
    """"LAYER=CORES ...": the tiles of each layer LAYER on cores CORES (A or A-B joined by +)."""

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        from pimdsl.placement_hint import parse_request, set_placement, store_request

        wanted = parse_request(self.placement, "--set-placement='placement=...'")
        set_placement(op, wanted)
        store_request(op, wanted)
