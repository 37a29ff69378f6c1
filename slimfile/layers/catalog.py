"""The waste categories of ``data/waste.toml``: which files count as waste, and which rules'
fixes remove them. Package-manager caches come from ``data/cache_paths.toml``, the list the
cleanup passes use, so the report and the fixes agree on what a cache is."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from slimfile.analysis.globs import clean_path, compile_glob
from slimfile.shell.data import load

ORIGINS = ("run", "copy", "base")  # what made a layer, for choosing the rule that fixes its waste
_VARIABLE = re.compile(r"^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?(/.*)?$")


@dataclass(frozen=True)
class Category:
    name: str
    title: str
    fix: Mapping[str, tuple[str, ...]]  # origin -> rule codes, preferred first
    patterns: tuple[str, ...] = ()
    cache_family: str | None = None  # a family of cache_paths.toml
    matcher: str | None = None  # a matcher in code (npm dev packages) instead of paths

    def rules_for(self, origin: str) -> tuple[str, ...]:
        return self.fix.get(origin, ())


@dataclass(frozen=True)
class Catalog:
    categories: tuple[Category, ...]
    hidden: Mapping[str, Category]  # "deleted", "overwritten"
    duplicate: Category
    rule_scope: Mapping[str, str]  # rule code -> "line", "stage" or "file"

    def category(self, name: str) -> Category | None:
        return next((c for c in self.categories if c.name == name), None)

    def classifier(self, env: Mapping[str, str]) -> Classifier:
        """Path patterns resolved against the image's environment, compiled once."""
        return Classifier(self, env)


class Classifier:
    """``classify(path)`` -> the first category whose paths match, in the data file's order.

    One regex with a named group per category: the image's tens of thousands of paths are
    each matched once."""

    def __init__(self, catalog: Catalog, env: Mapping[str, str]) -> None:
        self.by_group: dict[str, Category] = {}
        groups = []
        for index, category in enumerate(catalog.categories):
            patterns = [compile_glob(p).pattern for p in category.patterns]
            patterns += _cache_regexes(cache_patterns(category.cache_family, env))
            if not patterns:
                continue
            name = f"c{index}"
            self.by_group[name] = category
            groups.append(f"(?P<{name}>" + "|".join(f"(?:{p})" for p in dict.fromkeys(patterns)) + ")")
        self.regex = re.compile("|".join(groups), re.DOTALL) if groups else None

    def classify(self, path: str) -> Category | None:
        if self.regex is None:
            return None
        match = self.regex.match(path)
        return self.by_group[match.lastgroup] if match and match.lastgroup else None


def _cache_regexes(patterns: list[str]) -> list[str]:
    """A cache path is a directory or a file (``templates.dat-old``): ``x/**`` also matches ``x``."""
    expanded = [q for p in patterns for q in ((p, p[:-3]) if p.endswith("/**") else (p,))]
    return [compile_glob(p).pattern for p in expanded]


def cache_patterns(family: str | None, env: Mapping[str, str]) -> list[str]:
    """Globs for a cache_paths.toml family: ``/x`` -> ``x/**``, ``$HOME/x`` -> ``root/x/**`` and
    ``home/*/x/**``, ``$VAR/x`` -> the image's value of VAR (left out when unset)."""
    if family is None:
        return []
    out = []
    for listed in load("cache_paths").get(family, {}).get("paths", ()):
        for path in _resolve(listed, env):
            cleaned = clean_path(path)
            if cleaned:
                out.append(cleaned + "/**")
    return out


def _resolve(path: str, env: Mapping[str, str]) -> list[str]:
    match = _VARIABLE.match(path)
    if match is None:
        return [path]
    name, rest = match.group(1), match.group(2) or ""
    if name == "HOME":
        return ["/root" + rest, "/home/*" + rest]
    value = env.get(name)
    return [value + rest] if value and value.startswith("/") else []


def _category(item: dict) -> Category:
    fix = {origin: tuple(codes) for origin, codes in (item.get("fix") or {}).items()}
    unknown = set(fix) - set(ORIGINS)
    if unknown:
        raise ValueError(f"waste.toml: {item.get('name')}: unknown fix origin {sorted(unknown)}")
    return Category(
        name=item.get("name", ""),
        title=item["title"],
        fix=fix,
        patterns=tuple(item.get("paths", ())),
        cache_family=item.get("cache_paths"),
        matcher=item.get("matcher"),
    )


@lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    data = load("waste")
    categories = tuple(_category(item) for item in data["category"])
    for category in categories:
        if not (category.patterns or category.cache_family or category.matcher):
            raise ValueError(f"waste.toml: category {category.name!r} matches nothing")
    hidden = {kind: _category({"name": kind, **spec}) for kind, spec in data["hidden"].items()}
    duplicate = _category({"name": "duplicate", **data["duplicate"]})
    return Catalog(categories, hidden, duplicate, dict(data.get("rule_scope", {})))
