"""pimdsl's passes, one per module named after the pass, registered by name in `PASSES` (the
registry idiom of `pimdsl.registry`). `get_all_passes` is lazy."""

from __future__ import annotations

from collections.abc import Callable

from xdsl.passes import ModulePass

# pass name -> "module:PassClass". Add a line here when you add a pass module.
PASSES: dict[str, str] = {
    "crossbar-to-isa": "pimdsl.passes.crossbar_to_isa:CrossbarToIsaPass",
    "ga-group": "pimdsl.passes.ga_group:GAGroupPass",
    "lower-to-isa": "pimdsl.passes.lower_to_isa:LowerToIsaPass",
    "partition": "pimdsl.passes.partition:PartitionPass",
    "partition-to-crossbar": "pimdsl.passes.partition_to_crossbar:PartitionToCrossbarPass",
    "pim-units": "pimdsl.passes.pim_units:UnitsPass",
    "set-placement": "pimdsl.passes.set_placement:SetPlacementPass",
    "set-replication": "pimdsl.passes.set_replication:SetReplicationPass",
    "set-target": "pimdsl.passes.set_target:SetTargetPass",
}


def get_all_passes() -> dict[str, Callable[[], type[ModulePass]]]:
    """Name -> loader for every pass pim-opt knows: pimdsl's, xDSL's and the plugins'."""
    from pimdsl.universe import multiverse

    return dict(multiverse().all_passes)
