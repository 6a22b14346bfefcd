"""Test-session settings.

The suite runs many small matrix products; a multi-threaded BLAS spends more time
synchronising threads than computing on them, and on a 2-core CI machine under pytest-xdist it
oversubscribes the cores. One BLAS thread per process halves the suite's CPU time. This must
run before numpy is imported, which conftest.py does.
"""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
