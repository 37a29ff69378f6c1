"""Cleanup facts: what a RUN removes that package managers leave behind.

Three kinds: ``remove-path`` (an ``rm`` operand that is, contains or lies inside a known cache
or list directory from ``data/cache_paths.toml``), ``clean-command`` (``apt-get clean``,
``yum clean all``, ``npm cache clean --force``, ``conda clean -afy``, ``pip cache purge``...)
and ``uninstall`` (``apk del .build-deps``, ``apt-get purge``, ``apt-get autoremove``).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from slimfile.memo import cached
from slimfile.shell.data import load
from slimfile.shell.model import Command, Joint, Operator, Scope, ScopeKind, ShellScript, Word
from slimfile.shell.packages import PackageFact, facts_by_command

_GLOB = re.compile(r"[*?\[]")
_HOME_FORMS = (("${HOME}", "$HOME"), ("~/", "$HOME/"))
_BRACED_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


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
    if "$" in path or "~" in path:  # most paths have neither: no replacements to try
        for form, replacement in _HOME_FORMS:
            path = path.replace(form, replacement)
        if path == "~":
            path = "$HOME"
        path = _BRACED_VARIABLE.sub(r"$\1", path)
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
    for a, b in zip(target, cache):  # the components both have
        if a != b and not _component_matches(a, b):
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


# -- what a script leaves cleaned -----------------------------------------------------------------

# actions that undo what package managers wrote rather than write more
UNDOING_ACTIONS = frozenset({"clean", "remove", "autoremove"})


class CleanupKey(NamedTuple):  # a tuple: hashed in C, and merges hash thousands of them
    """Something a command does that is pointless to do again right after, comparable across
    RUNs. A cleanup: a cache path as the data file lists it (``/var/lib/apt/lists``), a path
    inside one, another removed path, or an uninstall (``apk remove .build-deps``); ``family``
    is the package manager that writes it again (None for a path no package manager writes).
    A refresh (``refresh``): ``apt update``, the index a family fetches, worth fetching again
    only after the family's caches were removed."""

    key: str
    family: str | None
    refresh: bool = False


def refresh_key(manager: str) -> CleanupKey:
    return CleanupKey(f"{manager} update", manager, refresh=True)


def command_cleanup_keys(script: ShellScript) -> dict[int, frozenset[CleanupKey]]:
    """For each command that cleans up (by index), what it undoes: every ``rm`` (each operand,
    a cache as its data-file path), every clean command and every uninstall."""
    found: dict[int, set[CleanupKey]] = {}
    packages = facts_by_command(script)
    for fact in script.cleanups:
        bucket = found.setdefault(fact.command, set())
        if fact.kind == "remove-path":
            family = None if fact.manager == "tmp" else fact.manager
            if fact.coverage == "whole":
                bucket.update(CleanupKey(path, family) for path in fact.paths)
            else:
                bucket.add(CleanupKey(_path_key(fact.word.value), family))
        elif fact.kind == "clean-command":
            bucket.update(CleanupKey(path, fact.manager) for path in fact.paths or (f"{fact.manager} clean",))
        else:
            package = packages[fact.command]
            removed = " ".join(sorted(package.package_names))
            bucket.add(CleanupKey(f"{fact.manager} {package.action} {removed}".rstrip(), fact.manager))
    fact_words: dict[int, set[int]] = {}  # per rm command, the operands that are cache paths
    for fact in script.cleanups:
        fact_words.setdefault(fact.command, set()).add(id(fact.word))
    for command in script.command_named("rm"):
        cache_words = fact_words.get(command.index, ())
        bucket = found.setdefault(command.index, set())
        for word in rm_operands(command):
            if id(word) in cache_words:
                continue
            # a path only known at build time never matches another (it may differ)
            key = _path_key(word.value) if word.static else f"{word.raw} (in command {command.index})"
            bucket.add(CleanupKey(key, None))
    return {index: frozenset(bucket) for index, bucket in found.items()}


def _path_key(value: str) -> str:
    parts = normalize_path(value)
    if parts and parts[-1] == "*":
        parts = parts[:-1]
    return "/" + "/".join(parts)


@dataclass(frozen=True, slots=True)
class CleanupProfile:
    """Where a script's cleanups and refreshes stand relative to what makes them worth doing
    again (for a cleanup, a write of the family; for a refresh, a cleanup of the family).

    ``leading``: done before anything in the script made them worth doing (a merge that puts
    this script after one that already did them would do them twice in a row); ``done``: done
    after the last such thing (one appended after it would repeat it); ``certain``: the part of
    ``done`` that has run whenever the script ends well (top level, starting a list or in the
    last one followed only by ``&&``: ``(make && rm -rf X)`` or ``make && rm -rf X; ls`` may end
    without it); ``writes`` and ``cleans``:
    the families whose files the script writes, and whose caches it cleans."""

    leading: frozenset[CleanupKey]
    done: frozenset[CleanupKey]
    certain: frozenset[CleanupKey]
    writes: frozenset[str]
    cleans: frozenset[str] = frozenset()


def cleanup_profile(script: ShellScript) -> CleanupProfile:
    """The script's cleanups and refreshes in command order (lexically, like the rest of the
    model); once per script (SF502 asks for each RUN as the second of a pair, then again as
    the first of the next one)."""
    return cached(script, "cleanup-profile", lambda: _cleanup_profile(script))


def _cleanup_profile(script: ShellScript) -> CleanupProfile:
    keys = command_cleanup_keys(script)
    if not keys and not script.packages:  # most RUNs: nothing cleaned, nothing installed
        return NOTHING_CLEANED
    facts = facts_by_command(script)
    if not keys and all(fact.action != "update" for fact in facts.values()):
        # installs only (most package RUNs of a long file): nothing done, only what is written
        return CleanupProfile(_NONE, _NONE, _NONE, _written(facts.values()))
    return _walked_profile(script, keys, facts)


def _walked_profile(
    script: ShellScript, keys: dict[int, frozenset[CleanupKey]], facts: dict[int, PackageFact]
) -> CleanupProfile:
    """The profile, command by command (what :func:`_cleanup_profile` shortens when nothing
    is cleaned or refreshed)."""
    leading: set[CleanupKey] = set()
    done: set[CleanupKey] = set()
    certain: set[CleanupKey] = set()
    written: set[str] = set()
    cleaned: set[str] = set()
    mentioned: list[str] = []  # word values of the commands so far that clean nothing
    tail = _always_run(script)
    for command in script.commands:
        fact = facts.get(command.index)
        does = set(keys.get(command.index, ()))
        if fact is not None and fact.action == "update":
            does.add(refresh_key(fact.manager))
        writes = _writes(fact)
        cleans = {k.family for k in does if not k.refresh and k.family is not None}
        words = [w.value for w in command.words] if command.index not in keys else []
        again = {k for k in done if _worth_again(k, writes, cleans, words)}
        done -= again
        certain -= again
        for key in does:
            if _leads(key, written, cleaned, mentioned):
                leading.add(key)
            done.add(key)
            if command.index in tail:
                certain.add(key)
        if writes is not None:
            written.add(writes)
        cleaned |= cleans
        mentioned.extend(words)
    return CleanupProfile(frozenset(leading), frozenset(done), frozenset(certain), frozenset(written),
                          frozenset(cleaned))


_NONE: frozenset[CleanupKey] = frozenset()


def _writes(fact: PackageFact | None) -> str | None:
    """The package manager whose files the command of ``fact`` writes (none for an undoing
    action: clean, remove, autoremove)."""
    return fact.manager if fact is not None and fact.action not in UNDOING_ACTIONS else None


def _written(facts: Iterable[PackageFact]) -> frozenset[str]:
    """The package managers whose files these facts' commands write."""
    return frozenset(manager for manager in map(_writes, facts) if manager is not None)


def _worth_again(key: CleanupKey, writes: str | None, cleans: set[str], words: list[str]) -> bool:
    """After this command, doing ``key`` again does something."""
    if key.refresh:
        return key.family in cleans
    if key.family is None:  # a path no package manager writes: a command that names it may
        return any(key.key in word for word in words)
    return key.family == writes


def _leads(key: CleanupKey, written: set[str], cleaned: set[str], mentioned: list[str]) -> bool:
    """Nothing before it in the script made ``key`` worth doing."""
    if key.refresh:
        return key.family not in written and key.family not in cleaned
    if key.family is None:
        return not any(key.key in word for word in mentioned)
    return key.family not in written


def _always_run(script: ShellScript) -> set[int]:
    """Commands that have run whenever the script ends well: each one that starts a list
    (``a; c && x; b``: ``c``), and those of the last list followed by nothing but ``&&``
    (``a || b && c``: ``c``; the list fails, and so does the script, when ``c`` does not run).
    A brace group or a subshell that has run is read the same way inside, its last list only
    when it must succeed (``{ i && p; } && x``: ``i`` and ``p``; ``{ i && p; }; x``: ``i``).
    Not one after ``||`` elsewhere, or inside anything else (``if``, a loop, a pipeline)."""
    levels = _levels(script)
    found: set[int] = set()
    pending: list[tuple[int | None, bool]] = [(None, True)]  # (group id, must succeed)
    while pending:
        group, must_succeed = pending.pop()
        items = levels.get(group, [])
        if _ends_in_background(items):
            continue
        ran = [item for item in items if item.before is None or item.before.operator in _STATEMENT_END]
        chain = _final_chain_items(items) if must_succeed else []
        groups: dict[int, bool] = {}  # each group once (one both starting the list and in its chain)
        for item, in_chain in (*((item, False) for item in ran), *((item, True) for item in chain)):
            if item.command is not None:
                found.add(item.command)
            elif item.scope is not None and item.scope.kind in _GROUPING:
                groups[item.scope.id] = groups.get(item.scope.id, False) or in_chain
        pending.extend(groups.items())
    return found


class _Item(NamedTuple):
    """One item of a list: a command (its index) or a compound command (``scope``)."""

    start: int
    before: Joint | None
    after: Joint | None
    command: int | None
    scope: Scope | None


# compound commands whose list runs once, in order, as if written in place
_GROUPING = frozenset({ScopeKind.BRACE_GROUP, ScopeKind.SUBSHELL})


def _grouped_items(script: ShellScript) -> dict[int | None, list[_Item]]:
    """The items of the script's own text per list: the top level (``None``) and the body
    of each brace group or subshell reached through such groups only, each in order. Each
    group is entered once: its ancestors are registered before it."""
    levels: dict[int | None, dict[tuple, _Item]] = {None: {}}
    for command in script.commands:
        if command.text != 0:
            continue
        depth = _grouping_depth(command)
        if depth == len(command.scopes):
            item = _Item(command.start, command.before, command.after, command.index, None)
        else:
            scope = command.scopes[depth]
            item = _Item(scope.start, scope.before, scope.after, None, scope)
        _register(levels, command.scopes, depth, item)
    return {group: sorted(items.values(), key=lambda item: item.start) for group, items in levels.items()}


def _grouping_depth(command: Command) -> int:
    """How many of the command's outer scopes are brace groups or subshells, outermost first."""
    depth = 0
    while depth < len(command.scopes) and command.scopes[depth].kind in _GROUPING:
        depth += 1
    return depth


def _register(levels: dict[int | None, dict[tuple, _Item]], scopes: tuple[Scope, ...], depth: int, item: _Item) -> None:
    """Add ``item`` to the list of the group it sits in, and each group around it to its own
    parent's list, from the inside out, stopping at the first group already there."""
    key = ("command", item.command) if item.scope is None else ("scope", item.scope.id)
    while True:
        parent = scopes[depth - 1].id if depth else None
        known = parent in levels
        levels.setdefault(parent, {})[key] = item
        if known or depth == 0:
            return
        depth -= 1
        scope = scopes[depth]
        key, item = ("scope", scope.id), _Item(scope.start, scope.before, scope.after, None, scope)


def _ends_in_background(items: list[_Item]) -> bool:
    return not items or (items[-1].after is not None and items[-1].after.operator not in _STATEMENT_END)


def in_final_chain(script: ShellScript, command: Command) -> bool:
    """``command`` stands in the script's last list, followed by nothing but ``&&``, at the top
    level or in a brace group or subshell that stands so itself: a command appended after it
    with ``&&`` has run whenever the script ends well (``install && x; y``: one appended after
    ``install`` is skipped when it fails, and ``y`` may still end the script well;
    ``{ install; } && x``: one appended inside the braces has run)."""
    if command.text != 0:
        return False
    return command.index in cached(script, "final-chain", lambda: _final_chains(script))


def _final_chains(script: ShellScript) -> set[int]:
    """The commands of the last ``&&`` chain of the script, and of each group in such a chain,
    down through the groups."""
    levels = _levels(script)
    found: set[int] = set()
    pending: list[int | None] = [None]
    while pending:
        for item in _final_chain_items(levels.get(pending.pop(), [])):
            if item.command is not None:
                found.add(item.command)
            elif item.scope is not None and item.scope.kind in _GROUPING:
                pending.append(item.scope.id)
    return found


def _levels(script: ShellScript) -> dict[int | None, list[_Item]]:
    return cached(script, "grouped-items", lambda: _grouped_items(script))


def _final_chain_items(items: list[_Item]) -> list[_Item]:
    """The items of the last list joined to its end by ``&&`` only (and the one that starts
    that chain); none when the list ends with a background job."""
    found: list[_Item] = []
    if _ends_in_background(items):
        return found
    for item in reversed(items):
        if item.before is None or item.before.operator in _STATEMENT_START:
            found.append(item)
        if item.before is None or item.before.operator is not Operator.AND:
            break
    return found


_STATEMENT_END = frozenset({Operator.SEMICOLON, Operator.NEWLINE})
_STATEMENT_START = frozenset({Operator.AND, Operator.SEMICOLON, Operator.NEWLINE})


NOTHING_CLEANED = CleanupProfile(frozenset(), frozenset(), frozenset(), frozenset(), frozenset())


def after_writes(profile: CleanupProfile, later: CleanupProfile) -> CleanupProfile:
    """The profile of one script followed by another (a merge, a RUN moved in)."""
    if later == NOTHING_CLEANED:  # a later script that writes and cleans nothing changes nothing
        return profile

    def survives(key: CleanupKey) -> bool:
        return key.family not in (later.cleans if key.refresh else later.writes)

    def still_leads(key: CleanupKey) -> bool:
        if key.refresh:
            return key.family not in profile.writes and key.family not in profile.cleans
        return key.family is None or key.family not in profile.writes

    if later.writes or later.cleans:
        done = frozenset({k for k in profile.done if survives(k)} | later.done)
        certain = frozenset({k for k in profile.certain if survives(k)} | later.certain)
    else:  # nothing written or cleaned again: every key done before still stands (a chain of merges)
        done, certain = profile.done | later.done, profile.certain | later.certain
    return CleanupProfile(
        frozenset(profile.leading | {k for k in later.leading if still_leads(k)}),
        done,
        certain,
        profile.writes | later.writes,
        profile.cleans | later.cleans,
    )
