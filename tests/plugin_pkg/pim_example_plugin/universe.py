"""What this package adds to xDSL tools (pim-opt, xdsl-opt): names -> lazy loaders."""

from xdsl.universe import Universe


def _op_count():
    from pim_example_plugin.passes import OpCountPass

    return OpCountPass


def _replicate_layer():
    from pim_example_plugin.passes import ReplicateLayerPass

    return ReplicateLayerPass


def _op_histogram():
    from pim_example_plugin.target import OpHistogramTarget

    return OpHistogramTarget


EXAMPLE_UNIVERSE = Universe(
    all_passes={"op-count": _op_count, "replicate-layer": _replicate_layer},
    all_targets={"op-histogram": _op_histogram},
)
