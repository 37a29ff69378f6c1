"""Loads the TOML data files in ``slimfile/data`` once (package names, cache paths, shells)."""

from __future__ import annotations

import sys
from functools import lru_cache
from importlib import resources
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@lru_cache(maxsize=None)
def load(name: str) -> dict[str, Any]:
    """The parsed ``slimfile/data/<name>.toml``."""
    text = resources.files("slimfile").joinpath("data", f"{name}.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)
