"""Cleanup facts: what a RUN removes that package managers leave behind.

Three kinds: ``remove-path`` (an ``rm`` operand that is, contains or lies inside a known cache
or list directory from ``data/cache_paths.toml``), ``clean-command`` (``apt-get clean``,
``yum clean all``, ``npm cache clean --force``, ``conda clean -afy``, ``pip cache purge``...)
and ``uninstall`` (``apk del .build-deps``, ``apt-get purge``, ``apt-get autoremove``).
"""

from __future__ import annotations

import fnmatch
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
def _cache_table() -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """(manager, path as listed, its components) for every known cache path."""
    return tuple(
        (manager, path, tuple(normalize_path(path)))
        for manager, spec in load("cache_paths").items()
        for path in spec.get("paths", ())
    )


@lru_cache(maxsize=1)
def _by_first_component() -> tuple[dict[str, tuple], tuple]:
    """The cache table by first component, and the entries any operand may match (a glob
    first component, or none at all)."""
    by_first: dict[str, list] = {}
    always = []
    for entry in _cache_table():
        parts = entry[2]
        if not parts or _is_glob(parts[0]):
            always.append(entry)
        else:
            by_first.setdefault(parts[0], []).append(entry)
    return {k: tuple(v) for k, v in by_first.items()}, tuple(always)


def _candidates(first: str) -> tuple:
    """The cache paths whose first component can match ``first``, in table order: a plain
    component only matches an equal one or a glob (each ``rm`` operand used to be compared
    with every path of the table)."""
    if _is_glob(first):
        return _cache_table()
    by_first, always = _by_first_component()
    plain = by_first.get(first, ())
    if not always:
        return plain
    order = {id(entry): i for i, entry in enumerate(_cache_table())}
    return tuple(sorted(plain + always, key=lambda entry: order[id(entry)]))


def normalize_path(value: str) -> list[str]:
    """The components of a path as the cache table writes it: ``~`` and ``${HOME}`` become
    ``$HOME``, repeated and trailing slashes and ``/.`` go. A final ``*`` stays a component."""
    path = value
    for form, replacement in _HOME_FORMS:
        path = path.replace(form, replacement)
    if path == "~":
        path = "$HOME"
    path = re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", r"$\1", path)
    return [part for part in path.split("/") if part not in ("", ".")]


@lru_cache(maxsize=4096)
def match_cache_paths(value: str) -> tuple[tuple[str, tuple[str, ...], str], ...]:
    """(manager, matched cache paths, coverage) for an ``rm`` operand.

    ``whole``: the operand is the cache, its contents (``dir/*``) or a directory above it;
    ``part``: the operand lies inside the cache. ``*`` matches one component on either side.
    """
    target = normalize_path(value)
    if target and target[-1] == "*":
        target = target[:-1]  # `dir/*` empties dir: as good as removing it
    if not target:
        return ()  # `rm -rf /` or `/*`: not a cleanup slimfile reasons about
    matches = []
    for manager, cache, parts in _candidates(target[0]):
        coverage = _coverage(target, parts)
        if coverage is not None:
            matches.append((manager, cache, coverage, len(parts) == len(target)))
    if any(exact for *_, exact in matches):
        # `rm -rf /tmp/*` is the tmp cleanup, not also dotnet's /tmp/NuGetScratch
        matches = [m for m in matches if m[3] or m[2] == "part"]
    found: dict[tuple[str, str], list[str]] = {}
    for manager, cache, coverage, _ in matches:
        found.setdefault((manager, coverage), []).append(cache)
    return tuple((manager, tuple(paths), coverage) for (manager, coverage), paths in found.items())


def _coverage(target: list[str], cache: tuple[str, ...]) -> str | None:
    shared = min(len(target), len(cache))
    if not all(_component_matches(target[i], cache[i]) for i in range(shared)):
        return None
    if len(target) <= len(cache):
        return "whole" if not any(_GLOB.search(part) for part in target) or len(target) == len(cache) else None
    return "part"


def _component_matches(a: str, b: str) -> bool:
    """``a`` and ``b`` are equal, or one is a glob that matches the other. A component with no
    ``*``, ``?`` or ``[`` matches only itself, so it is never compiled into a pattern: every
    distinct word of an ``rm`` would otherwise cost a regex compilation."""
    if a == b:
        return True
    return (_is_glob(b) and fnmatch.fnmatchcase(a, b)) or (_is_glob(a) and fnmatch.fnmatchcase(b, a))


def _is_glob(component: str) -> bool:
    return "*" in component or "?" in component or "[" in component


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
