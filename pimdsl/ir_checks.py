"""Structural checks of parsed IR that xDSL's verifier does not make.

xDSL does not check dominance: a value used in a block before the op that defines it (lines
swapped in an edited file) verifies, and the passes then meet a network whose data flow runs
backwards. `check_defined_before_use` makes that a user error naming the place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pimdsl.errors import PimError


def check_defined_before_use(module: Any, locate: Callable[[Any], str]) -> None:
    """PimError when an op reads a value defined later in the same block."""
    for op in module.walk():
        for region in op.regions:
            for block in region.blocks:
                seen: set[Any] = set()
                for inner in block.ops:
                    for operand in inner.operands:
                        owner = operand.owner
                        if getattr(owner, "parent", None) is block and owner not in seen:
                            name = operand.name_hint or "a value"
                            raise PimError(
                                f"{locate(inner)}: '{inner.name}' uses %{name} before the op that "
                                f"defines it ('{owner.name}', {locate(owner)}).",
                                hint="Define every value before its first use (were lines swapped?).",
                            )
                    seen.add(inner)
