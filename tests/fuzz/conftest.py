"""The fuzz suite: `pytest tests/fuzz` runs the CI share (a few hundred seeded cases);
`PIMDSL_FUZZ_LONG=1 pytest tests/fuzz -m fuzz_long` runs many more. PIMDSL_FUZZ_SEED picks the
seed (default 0), so a CI failure is reproduced by running the same command."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "fuzz_long: the long fuzz run (set PIMDSL_FUZZ_LONG=1)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("PIMDSL_FUZZ_LONG"):
        return
    skip = pytest.mark.skip(reason="the long fuzz run needs PIMDSL_FUZZ_LONG=1")
    for item in items:
        if "fuzz_long" in item.keywords:
            item.add_marker(skip)
