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
``drops:<glob>``                       application files matching the image glob may be
                                       gone (a stage split leaves sources in the build stage)
``adds:<glob>``                        application files matching the image glob may be new
                                       (the virtualenv a stage split installs into)
``rebuilds:<path>``                    that application file's content may change (an
                                       artefact built with other flags, e.g. CGO_ENABLED=0)
``base-image`` (config)                config values the Dockerfile does not set itself
                                       (the base image's own ENV, LABEL, USER, ...)
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
from dataclasses import dataclass, replace

from slimfile.analysis.globs import clean_path, compile_glob
from slimfile.verify.config_diff import ConfigChange
from slimfile.verify.fs_diff import FsDiff

GRANTS: dict[str, frozenset[str]] = {
    "config": frozenset({"config"}),
    "app-files": frozenset({"app-files"}),
    "distribution-files": frozenset({"system-files"}),
    "base-image": frozenset({"system-files", "base-image"}),
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


def config_problems(
    changes: list[ConfigChange], allowed: frozenset[str], set_by_dockerfile: frozenset[str] = frozenset()
) -> list[Problem]:
    """``set_by_dockerfile``: the config the Dockerfiles set themselves (``Cmd``, ``Env:PORT``);
    with ``base-image`` declared, everything else may follow the new base image."""
    return [
        Problem("config", f"config {change.describe()} (no applied fix declares `config` or `config:{change.field}`)")
        for change in changes
        if "config" not in allowed
        and f"config:{change.field}" not in allowed
        and not _keys_declared(change, allowed)
        and not ("base-image" in allowed and not _set_by_dockerfile(change, set_by_dockerfile - _declared_keys(allowed)))
    ]


def _declared_keys(allowed: frozenset[str]) -> frozenset[str]:
    """``config:Env:PATH`` -> ``Env:PATH``: keys a fix declared it may change."""
    return frozenset(name[len("config:") :] for name in allowed if name.count(":") == 2)


def _keys_declared(change: ConfigChange, allowed: frozenset[str]) -> bool:
    """Every differing key of an Env/Labels change is declared (``config:Env:PATH``)."""
    if change.field not in ("Env", "Labels"):
        return False
    old, new = change.before or {}, change.after or {}
    keys = {key for key in set(old) | set(new) if old.get(key) != new.get(key)}
    return bool(keys) and all(f"config:{change.field}:{key}" in allowed for key in keys)


def _set_by_dockerfile(change: ConfigChange, set_by_dockerfile: frozenset[str]) -> bool:
    if change.field in ("Env", "Labels"):
        old, new = change.before or {}, change.after or {}
        keys = {key for key in set(old) | set(new) if old.get(key) != new.get(key)}
        return any(f"{change.field}:{key}" in set_by_dockerfile for key in keys)
    return change.field in set_by_dockerfile


def declared_removals(diff: FsDiff, excluded: set[str]) -> FsDiff:
    """``diff`` with the application files that are gone because a created ignore file keeps
    them out (``excluded``: their image paths) moved to ``diff.excluded``."""
    kept, removed = [], []
    for change in diff.changes:
        declared = change.category == "app" and change.change == "removed" and change.path in excluded
        (removed if declared else kept).append(change)
    return FsDiff(kept, diff.ignored, diff.compared, diff.nondeterministic, removed)


def file_problems(diff: FsDiff, allowed: frozenset[str], declared: Iterable[str] = ()) -> list[Problem]:
    problems = []
    diff = _without_declared_app_changes(diff, declared)
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


def _without_declared_app_changes(diff: FsDiff, declared: Iterable[str]) -> FsDiff:
    """The diff without the app-file removals a ``drops:`` glob allows (folders left empty by
    them included), the content changes a ``rebuilds:`` path allows, and the changes outside
    the application a ``cleans:`` glob allows (a cache folder the fix cleans where the install
    was told to keep it, and the log its cleanup writes there: ``cleans:/tmp/npm/**``)."""
    declared = list(declared)
    drops = [compile_glob(name[len("drops:") :]) for name in declared if name.startswith("drops:")]
    adds = [compile_glob(name[len("adds:") :]) for name in declared if name.startswith("adds:")]
    cleans = [compile_glob(name[len("cleans:") :]) for name in declared if name.startswith("cleans:")]
    rebuilds = {clean_path(name[len("rebuilds:") :]) for name in declared if name.startswith("rebuilds:")}
    if not drops and not rebuilds and not adds and not cleans:
        return diff

    def dropped(change) -> bool:
        if change.category != "app":
            return any(g.match(change.path) for g in cleans)
        globs = drops if change.change == "removed" else adds if change.change == "added" else []
        return any(g.match(change.path) for g in globs)

    def rebuilt(change) -> bool:
        return change.category == "app" and change.change == "changed" and change.fields == ("content",) and change.path in rebuilds

    gone = {c.path for c in diff.changes if dropped(c)}
    kept = [c for c in diff.changes if c.path not in gone and not rebuilt(c)]
    # folders removed because everything in them was dropped (deepest first)
    removed_dirs = sorted(
        (c for c in kept if c.category == "app" and c.change == "removed" and c.before is not None and c.before.kind == "dir"),
        key=lambda c: -c.path.count("/"),
    )
    removed = {c.path for c in diff.changes if c.change == "removed"}
    for folder in removed_dirs:
        inside = [path for path in removed if path.startswith(folder.path + "/")]
        if inside and all(path in gone for path in inside):
            gone.add(folder.path)
    return replace(diff, changes=[c for c in kept if c.path not in gone])
