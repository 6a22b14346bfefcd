"""Test-session settings.

The suite runs many small matrix products; a multi-threaded BLAS spends more time
synchronising threads than computing on them, and on a 2-core CI machine under pytest-xdist it
oversubscribes the cores. One BLAS thread per process halves the suite's CPU time. This must
run before numpy is imported, which conftest.py does.
"""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


# --- fixtures shared by the test modules -----------------------------------------------------
from collections.abc import Callable  # noqa: E402

import pytest  # noqa: E402
from xdsl.context import Context  # noqa: E402
from xdsl.dialects.builtin import ModuleOp  # noqa: E402
from xdsl.parser import Parser  # noqa: E402


@pytest.fixture
def ctx() -> Context:
    """A context with every pimdsl dialect (and the builtin, func and arith ones it uses)."""
    from pimdsl.dialects import context

    return context()


@pytest.fixture
def parse(ctx: Context) -> Callable[[str], ModuleOp]:
    """parse(text) -> the module it holds, in `ctx`."""
    return lambda text: Parser(ctx, text).parse_module()
