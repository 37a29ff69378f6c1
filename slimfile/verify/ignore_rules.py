"""The paths a filesystem comparison leaves out, loaded from ``slimfile/data/verify_ignore.toml``.

Kept as data so that the list can be read, argued about and extended without touching code;
``docs/verify.md`` explains each group.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from slimfile.analysis.globs import clean_path, compile_glob

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DATA_FILE = Path(__file__).resolve().parent.parent / "data" / "verify_ignore.toml"


@dataclass(frozen=True)
class PathGroup:
    name: str
    reason: str
    patterns: tuple[str, ...]

    def matches(self, path: str) -> bool:
        return _combined(self.patterns).match(clean_path(path)) is not None


@dataclass(frozen=True)
class IgnoreRules:
    ignored: tuple[PathGroup, ...]  # left out of the comparison
    content_blind: tuple[PathGroup, ...]  # compared without their content

    def ignored_group(self, path: str) -> PathGroup | None:
        return next((g for g in self.ignored if g.matches(path)), None)

    def compares_content(self, path: str) -> bool:
        return not any(g.matches(path) for g in self.content_blind)


@lru_cache(maxsize=64)
def _combined(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One regex for a whole group: tens of thousands of paths are checked per image.

    ``dir/**`` also matches ``dir`` itself: deleting a cache directory is the same fix as
    emptying it."""
    expanded = [q for p in patterns for q in ((p, p[:-3]) if p.endswith("/**") else (p,))]
    return re.compile("|".join(f"(?:{compile_glob(p).pattern})" for p in expanded), re.DOTALL)


def parse_rules(text: str) -> IgnoreRules:
    data = tomllib.loads(text)
    return IgnoreRules(
        ignored=tuple(_groups(data.get("ignore", []))),
        content_blind=tuple(_groups(data.get("content", []))),
    )


def _groups(items: list[dict]) -> list[PathGroup]:
    groups = []
    for item in items:
        patterns = item.get("patterns")
        if not item.get("name") or not item.get("reason") or not patterns:
            raise ValueError(f"an ignore group needs name, reason and patterns: {item!r}")
        groups.append(PathGroup(item["name"], item["reason"], tuple(patterns)))
    return groups


@lru_cache(maxsize=1)
def default_rules() -> IgnoreRules:
    return parse_rules(DATA_FILE.read_text(encoding="utf-8"))
