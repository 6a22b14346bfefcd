"""pimdsl: a multi-level compiler for crossbar processing-in-memory DNN accelerators."""

__version__ = "0.1.0"
