"""The user cache folder of pimdsl: zoo models and side-car weight files live there."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """$PIMDSL_CACHE, else $XDG_CACHE_HOME/pimdsl, else ~/.cache/pimdsl."""
    env = os.environ.get("PIMDSL_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg and os.path.isabs(xdg):  # the XDG spec: a relative value is to be ignored
        return Path(xdg) / "pimdsl"
    return Path.home() / ".cache" / "pimdsl"
