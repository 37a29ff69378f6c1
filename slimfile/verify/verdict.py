"""Which differences between the two images the applied fixes declared, and which they did not.

A fix's ``declares`` names what it may change (see :class:`slimfile.syntax.edits.Fix`). verify
maps those names to the kinds of difference it measures:

=====================================  ====================================================
declared by a fix                      differences it allows in the built image
=====================================  ====================================================
``config``                             any of the config fields (Cmd, Env, User, ...)
``config:<Field>`` (``config:Env``)    that one config field
``base-image``, ``packages``,          files outside the application's own ("distribution
``distribution-files``                 files differ": a base-image swap, fewer packages)
``app-files``                          the application's own files (no fix should)
``build-context``                      application files *removed* because an ignore file
                                       the fix creates keeps them out of the build context
                                       (exactly those: verify lists the context with and
                                       without it; any other difference is still a problem)
=====================================  ====================================================

Passes declare ``packages`` on fixes that change which packages get installed
(``--no-install-recommends``, ``apt-get update`` before an install, ``apk del`` of build
dependencies); nothing is allowed on safety class alone.

Anything else differing is an undeclared difference: verify exits 1.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from slimfile.verify.config_diff import ConfigChange
from slimfile.verify.fs_diff import FsDiff

GRANTS: dict[str, frozenset[str]] = {
    "config": frozenset({"config"}),
    "app-files": frozenset({"app-files"}),
    "distribution-files": frozenset({"system-files"}),
    "base-image": frozenset({"system-files"}),
    "packages": frozenset({"system-files"}),
}
SHOWN_PATHS = 8  # paths quoted per problem; the JSON report has them all


@dataclass(frozen=True)
class Problem:
    kind: str  # "build", "config", "app-files", "system-files", "run", "per-fix"
    message: str

    def to_dict(self) -> dict:
        return {"kind": self.kind, "message": self.message}


def allowed_differences(declared: Iterable[str]) -> frozenset[str]:
    allowed: set[str] = set()
    for name in declared:
        allowed |= GRANTS.get(name, frozenset())
        if name.startswith("config:"):
            allowed.add(name)
    return frozenset(allowed)


def config_problems(changes: list[ConfigChange], allowed: frozenset[str]) -> list[Problem]:
    return [
        Problem("config", f"config {change.describe()} (no applied fix declares `config` or `config:{change.field}`)")
        for change in changes
        if "config" not in allowed and f"config:{change.field}" not in allowed
    ]


def declared_removals(diff: FsDiff, excluded: set[str]) -> FsDiff:
    """``diff`` with the application files that are gone because a created ignore file keeps
    them out (``excluded``: their image paths) moved to ``diff.excluded``."""
    kept, removed = [], []
    for change in diff.changes:
        declared = change.category == "app" and change.change == "removed" and change.path in excluded
        (removed if declared else kept).append(change)
    return FsDiff(kept, diff.ignored, diff.compared, diff.nondeterministic, removed)


def file_problems(diff: FsDiff, allowed: frozenset[str]) -> list[Problem]:
    problems = []
    for category, kind, label, grants in (
        ("app", "app-files", "application files differ", "`app-files`"),
        ("system", "system-files", "distribution files differ", "`base-image`, `packages` or `distribution-files`"),
    ):
        changes = diff.by_category(category)
        if not changes or kind in allowed:
            continue
        shown = "; ".join(c.describe() for c in changes[:SHOWN_PATHS])
        more = f"; and {len(changes) - SHOWN_PATHS} more" if len(changes) > SHOWN_PATHS else ""
        problems.append(Problem(kind, f"{label} ({len(changes)}): {shown}{more} (no applied fix declares {grants})"))
    return problems
