"""Cleanup facts: what a RUN removes that package managers leave behind.

Three kinds: ``remove-path`` (an ``rm`` operand that is, contains or lies inside a known cache
or list directory from ``data/cache_paths.toml``), ``clean-command`` (``apt-get clean``,
``yum clean all``, ``npm cache clean --force``, ``conda clean -afy``, ``pip cache purge``...)
and ``uninstall`` (``apk del .build-deps``, ``apt-get purge``, ``apt-get autoremove``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from slimfile.shell.data import load
from slimfile.shell.model import Command, ShellScript, Word
from slimfile.shell.packages import PackageFact

_GLOB = re.compile(r"[*?\[]")
_HOME_FORMS = (("${HOME}", "$HOME"), ("~/", "$HOME/"))


@dataclass(frozen=True, slots=True)
class CleanupFact:
    manager: str  # the family whose leftovers go ("apt", "pip", ... or "tmp")
    kind: str  # "remove-path", "clean-command" or "uninstall"
    paths: tuple[str, ...]  # known cache paths it clears (as listed in the data file)
    coverage: str  # "whole": all of those paths; "part": something inside them
    word: Word | None  # the rm operand, for remove-path
    command: int  # index into ShellScript.commands
    start: int  # the operand's span for remove-path, else the command's
    end: int


def cleanup_facts(script: ShellScript) -> tuple[CleanupFact, ...]:
    facts: list[CleanupFact] = []
    for command in script.commands:
        if command.name == "rm":
            facts.extend(_rm_facts(command))
    for package in script.packages:
        fact = _command_fact(package)
        if fact is not None:
            facts.append(fact)
    return tuple(sorted(facts, key=lambda f: (f.start, f.manager)))


# -- rm -------------------------------------------------------------------------------------------


def rm_operands(command: Command) -> list[Word]:
    """The paths an ``rm`` removes (its words after the options, ``--`` honoured)."""
    operands = []
    options_done = False
    for word in command.arg_words:
        value = word.value
        if not options_done and value == "--":
            options_done = True
        elif not options_done and value.startswith("-") and len(value) > 1:
            continue
        else:
            operands.append(word)
    return operands


def _rm_facts(command: Command) -> list[CleanupFact]:
    facts = []
    for word in rm_operands(command):
        for manager, paths, coverage in match_cache_paths(word.value):
            facts.append(CleanupFact(manager, "remove-path", paths, coverage, word, command.index, word.start, word.end))
    return facts


@lru_cache(maxsize=1)
def _cache_table() -> tuple[tuple[str, str], ...]:
    return tuple((manager, path) for manager, spec in load("cache_paths").items() for path in spec.get("paths", ()))


def normalize_path(value: str) -> tuple[str, bool]:
    """A path as the cache table writes it, and whether it names part of a directory only
    (a glob in it other than a final ``/*``)."""
    path = value
    for form, replacement in _HOME_FORMS:
        path = path.replace(form, replacement)
    if path == "~":
        path = "$HOME"
    path = re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", r"$\1", path)
    path = re.sub(r"/+", "/", path)
    while path.endswith("/.") or (path.endswith("/") and len(path) > 1):
        path = path[:-2] if path.endswith("/.") else path[:-1]
    if path.endswith("/*"):
        path = path[:-2]
    glob = _GLOB.search(path)
    if glob is None:
        return path, False
    return path[: glob.start()].rsplit("/", 1)[0], True


def match_cache_paths(value: str) -> list[tuple[str, tuple[str, ...], str]]:
    """(manager, matched cache paths, coverage) for an ``rm`` operand."""
    target, partial = normalize_path(value)
    if target in ("", "/"):
        return []
    found: dict[tuple[str, str], list[str]] = {}
    for manager, cache in _cache_table():
        coverage = _coverage(target, partial, cache)
        if coverage is not None:
            found.setdefault((manager, coverage), []).append(cache)
    return [(manager, tuple(paths), coverage) for (manager, coverage), paths in found.items()]


def _coverage(target: str, partial: bool, cache: str) -> str | None:
    if target == cache:
        return "part" if partial else "whole"
    if cache.startswith(target + "/"):
        return None if partial else "whole"
    if target.startswith(cache + "/"):
        return "part"
    return None


# -- clean commands and uninstalls --------------------------------------------------------------


def _command_fact(package: PackageFact) -> CleanupFact | None:
    if package.action == "clean":
        clears = load("cache_paths").get(package.manager, {}).get("clears", {})
        written = " ".join(w.value for w in package.subcommand)
        paths = tuple(clears.get(written, clears.get(package.action, ())))
        return CleanupFact(package.manager, "clean-command", paths, "whole", None, package.command, package.start, package.end)
    if package.action in ("remove", "autoremove"):
        return CleanupFact(package.manager, "uninstall", (), "whole", None, package.command, package.start, package.end)
    return None
