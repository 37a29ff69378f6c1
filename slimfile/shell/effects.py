"""What a RUN reads and writes: the facts that decide whether a step can move past another.

Two steps commute when neither writes what the other reads or writes, and neither sets a
variable the other reads. This module computes, for one RUN, the absolute paths it reads
and writes (each standing for its whole tree), the variables it reads, and whether it
depends on the working directory. Everything comes from the shell model and from
``data/command_effects.toml``; a program that table does not describe, a path that cannot be
resolved (a variable with no known value, ``$(...)``, a ``cd`` into an unknown place) makes
the effects *unknown*, and a step with unknown effects never moves. Like the rest of the
shell model this is lexical: a command inside an ``if`` counts as if it ran.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from functools import lru_cache

from slimfile.memo import cached
from slimfile.shell.data import load
from slimfile.shell.expansion import ExpansionBudget, TooLong, substitute
from slimfile.shell.model import (
    CHILD_PROCESS_SCOPES,
    Command,
    CommandKind,
    ScopeKind,
    ShellScript,
    Word,
    child_process_steps,
)
from slimfile.shell.packages import PackageFact, facts_by_command

_VARIABLE = re.compile(r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")
# a variable an expansion reads: $V, ${V}, and ${V:-x}, ${V%x}, ${#V} and the other operators;
# ${!V} (bash's indirection) may read any variable
_READ_VARIABLE = re.compile(r"\$(?:\{(?P<indirect>!)?#?(?P<braced>[A-Za-z_][A-Za-z0-9_]*)|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")
_ANY_EXPANSION = re.compile(r"[$`]")
_GLOB = re.compile(r"[*?\[]")
_WRITE_REDIRECTS = frozenset({">", ">>", ">|", "&>", "&>>", ">&"})
_READ_REDIRECTS = frozenset({"<", "<>"})
_HARMLESS_WRAPPERS = frozenset(
    {"env", "nice", "ionice", "time", "nohup", "stdbuf", "timeout", "eatmydata", "command", "builtin"}
)


@dataclass(frozen=True)
class Effects:
    """Paths are absolute; each stands for its tree. ``env`` names may end in ``*`` (prefix)."""

    reads: frozenset[str] = frozenset()
    writes: frozenset[str] = frozenset()
    env: frozenset[str] = frozenset()
    cwd: bool = False  # resolves something against the working directory
    unknown: str | None = None  # why the effects cannot be bounded

    @classmethod
    def unknowable(cls, reason: str) -> Effects:
        return cls(unknown=reason)

    def __or__(self, other: Effects) -> Effects:
        if other is NOTHING:  # the usual case, e.g. a program without options that name paths
            return self
        if self is NOTHING:
            return other
        return Effects(
            _union(self.reads, other.reads),
            _union(self.writes, other.writes),
            _union(self.env, other.env),
            self.cwd or other.cwd,
            self.unknown or other.unknown,
        )


def _union(a: frozenset[str], b: frozenset[str]) -> frozenset[str]:
    """``a | b``, but one of them itself when the other is empty or the same: the union always
    copies, and an install's thousands of workspace manifests were copied at every install."""
    if not a or a is b:
        return b
    if not b:
        return a
    return a | b


NOTHING = Effects()


# -- path sets ----------------------------------------------------------------------------------


def overlaps(a: Iterable[str], b: Iterable[str]) -> tuple[str, str] | None:
    """A pair of paths, one of ``a`` and one of ``b``, where one contains the other (``*`` in a
    component matches like a shell glob), or None when the trees are disjoint. The sets are
    read in sorted order, so that the pair a message names is the same on every run. Paths
    without glob characters are compared as tuples of components (one contains the other when
    the shorter is the longer's start): every RUN is compared with the copy it might pass."""
    others = [(y, *_components(y)) for y in sorted(b)]
    for x in sorted(a):
        x_parts, x_globbed = _components(x)
        for y, y_parts, y_globbed in others:
            if x_globbed or y_globbed:
                if _contains(x, y) or _contains(y, x):
                    return x, y
            elif len(x_parts) <= len(y_parts):
                if y_parts[: len(x_parts)] == x_parts:
                    return x, y
            elif x_parts[: len(y_parts)] == y_parts:
                return x, y
    return None


@lru_cache(maxsize=8192)
def _components(path: str) -> tuple[tuple[str, ...], bool]:
    """The path's components, and whether one has a glob character (``*``, ``?``, ``[``)."""
    return tuple(part for part in path.split("/") if part), _GLOB.search(path) is not None


def _contains(tree: str, path: str) -> bool:
    outer = [p for p in tree.split("/") if p]
    inner = [p for p in path.split("/") if p]
    if len(outer) > len(inner):
        return False
    return all(_components_match(o, i) for o, i in zip(outer, inner))


NO_ORDER = 1 << 62  # PathTrie.first_overlap: no path held overlaps


class PathTrie:
    """Paths by component, to ask whether any of them contains or lies in a path, as
    :func:`overlaps` decides it (``*`` in a component matches as a shell glob, either way),
    without a comparison per path held (the cache-order planner asks it per moving step)."""

    __slots__ = ("by_prefix", "children", "ends", "first_below", "first_end", "globbed")

    def __init__(self) -> None:
        self.children: dict[str, PathTrie] = {}
        self.globbed: list[str] = []  # the children's names with glob characters
        # for a glob asked about (``python3*``): the children's names by their first n
        # characters, for each n asked, so that only the names a glob can match are tried
        self.by_prefix: dict[int, dict[str, list[str]]] = {}
        self.ends = False
        # the smallest ``order`` given with a path that ends here, and with one that ends here
        # or below (see :meth:`first_overlap`)
        self.first_end = NO_ORDER
        self.first_below = NO_ORDER

    def add(self, path: str, order: int = 0) -> None:
        """Hold ``path``; ``order`` is what :meth:`first_overlap` answers with (the position
        of the step that uses it, say)."""
        node = self
        node.first_below = min(node.first_below, order)
        for part in path.split("/"):
            if not part:
                continue
            child = node.children.get(part)
            if child is None:
                child = node.children[part] = PathTrie()
                if _GLOB.search(part):
                    node.globbed.append(part)
                for length, names in node.by_prefix.items():
                    names.setdefault(part[:length], []).append(part)
            node = child
            node.first_below = min(node.first_below, order)
        node.ends = True
        node.first_end = min(node.first_end, order)

    def first_overlap(self, path: str) -> int:
        """The smallest order of the paths held that contain or lie in ``path`` (as
        :meth:`overlaps` decides), or ``NO_ORDER``."""
        return self._first([part for part in path.split("/") if part], 0)

    def _first(self, parts: list[str], position: int) -> int:
        if position == len(parts):
            return self.first_below  # held here (the same path) or inside the one asked about
        best = self.first_end  # held here: contains the one asked about (NO_ORDER if none ends here)
        for name in self._matching(parts[position]):
            child = self.children[name]
            if child.first_below < best:
                best = min(best, child._first(parts, position + 1))
        return best

    def overlaps(self, path: str) -> bool:
        """A path held contains or lies in ``path`` (held without an order, every path is 0:
        the look-up stops at the first one met)."""
        return self.first_overlap(path) != NO_ORDER

    def _matching(self, part: str) -> list[str]:
        """The children's names that name the same entry as the component ``part``."""
        glob = _GLOB.search(part)
        if glob:
            return [name for name in self._named_like(part[: glob.start()]) if _components_match(name, part)]
        names = [name for name in self.globbed if _components_match(name, part)]
        if part in self.children:
            names.append(part)
        return names

    def _named_like(self, literal: str) -> list[str]:
        """The children a glob starting with ``literal`` can match: names that start with it
        (a plain name matches a glob only so), and names that are globs themselves."""
        if not literal:
            return list(self.children)
        names = self.by_prefix.get(len(literal))
        if names is None:
            names = self.by_prefix[len(literal)] = {}
            for name in self.children:
                names.setdefault(name[: len(literal)], []).append(name)
        return [*names.get(literal, ()), *(name for name in self.globbed if not name.startswith(literal))]


def _components_match(a: str, b: str) -> bool:
    """Two path components name the same entry, either one a glob."""
    return a == b or fnmatch.fnmatchcase(a, b) or fnmatch.fnmatchcase(b, a)


class EnvReads:
    """Variables read, as names and ``X_*`` prefixes, made once for many questions: whether
    one covers a name costs the name's length, not the number of reads (the cache-order plan
    asked each of n ENV and ARG lines against the variables of every moved RUN: n x n)."""

    __slots__ = ("names", "prefixes")

    def __init__(self, reads: Iterable[str]) -> None:
        self.names = frozenset(reads)
        self.prefixes = frozenset(read[:-1] for read in self.names if read.endswith("*"))

    def covers(self, name: str) -> bool:
        if name in self.names:
            return True
        return bool(self.prefixes) and any(name[:length] in self.prefixes for length in range(len(name) + 1))


def env_overlap(reads: Iterable[str] | EnvReads, names: Iterable[str]) -> str | None:
    """The first (by name) variable of ``names`` that ``reads`` covers (reads may hold
    prefixes ``X_*``); ``reads`` made into :class:`EnvReads` once when asked many times."""
    ordered = sorted(names)
    if not ordered:  # most steps set no variable
        return None
    index = reads if isinstance(reads, EnvReads) else EnvReads(reads)
    for name in ordered:
        if index.covers(name):
            return name
    return None


# -- data -------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _table() -> dict:
    return load("command_effects")


def _group(entries: Iterable[str], home: str | None) -> frozenset[str] | str:
    """Expand ``@group`` and ``$HOME``; a string is the reason it could not be done."""
    paths: set[str] = set()
    for entry in entries:
        if entry.startswith("@"):
            paths.update(_table()["paths"][entry[1:]])
        elif entry.startswith("$HOME"):
            if home is None:
                return "the home directory of the user is not known"
            paths.add(posixpath.normpath(home + entry[len("$HOME") :]))
        else:
            paths.add(entry)
    return frozenset(paths)


def expand_paths(entries: Iterable[str], home: str | None) -> frozenset[str] | str:
    """Image paths of table entries (``@python``, ``$HOME/.cache/pip``) for a user whose home
    is ``home``; a string is the reason they cannot be known."""
    return _group(entries, home)


def system_paths() -> frozenset[str]:
    """Where system packages write (``[paths] system`` of the table)."""
    return frozenset(_table()["paths"]["system"])


def env_always() -> frozenset[str]:
    return frozenset(_table()["env_always"])


# -- the walk over a script ---------------------------------------------------------------------


@dataclass
class _Frame:
    """A child process the walk is in (a subshell, ``$( )``, a pipeline): what it changes
    ends with it, so the directory and the variables before it come back."""

    scope: int  # the Scope.id
    cwd: str | None
    cwd_is_workdir: bool
    undo: list[tuple[str, object]] = field(default_factory=list)  # (name, its earlier change)


@dataclass
class _Walk:
    """What is known while reading the script in order: directory and variables."""

    cwd: str | None
    env: Overlay
    home: str | None
    budget: ExpansionBudget  # what the values the script sets may add to its text
    facts: dict[int, PackageFact] = field(default_factory=dict)
    cwd_is_workdir: bool = True  # until a `cd` to an absolute path, relative paths follow WORKDIR
    workdir: str | None = None  # the stage's WORKDIR (it exists before the step runs)
    frames: list[_Frame] = field(default_factory=list)

    def enter(self, command: Command) -> None:
        """Leave the child processes ``command`` is not in (their changes undone) and enter
        those it is in. Each change is undone once: linear in the script."""
        kept, entering = child_process_steps(command, [frame.scope for frame in self.frames])
        while len(self.frames) > kept:
            frame = self.frames.pop()
            for name, earlier in reversed(frame.undo):
                self.env.restore(name, earlier)
            self.cwd, self.cwd_is_workdir = frame.cwd, frame.cwd_is_workdir
        self.frames.extend(_Frame(scope, self.cwd, self.cwd_is_workdir) for scope in entering)

    def set_variable(self, name: str, value: str | None) -> None:
        self._remember(name)
        self.env[name] = value

    def unset_variable(self, name: str) -> None:
        self._remember(name)
        self.env.pop(name, None)

    def _remember(self, name: str) -> None:
        if self.frames:
            self.frames[-1].undo.append((name, self.env.change_of(name)))


class Overlay(MutableMapping):
    """The variables a script sets over those in force where it runs, without copying them
    (a stage with thousands of ENV lines made a copy per RUN quadratic). ``unset`` hides a
    variable of the base."""

    _GONE = object()

    def __init__(self, base: Mapping[str, str | None]) -> None:
        self.base = base
        self.changes: dict[str, object] = {}

    def __getitem__(self, name: str):
        value = self.changes.get(name, None) if name in self.changes else self.base[name]
        if value is Overlay._GONE:
            raise KeyError(name)
        return value

    def __contains__(self, name: object) -> bool:
        if name in self.changes:
            return self.changes[name] is not Overlay._GONE
        return name in self.base

    def __setitem__(self, name: str, value) -> None:
        self.changes[name] = value

    def __delitem__(self, name: str) -> None:
        if name not in self:
            raise KeyError(name)
        self.changes[name] = Overlay._GONE

    def __iter__(self):
        seen = set()
        for name, value in self.changes.items():
            seen.add(name)
            if value is not Overlay._GONE:
                yield name
        yield from (name for name in self.base if name not in seen)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    _UNCHANGED = object()

    def change_of(self, name: str) -> object:
        """What the script has done to ``name`` so far (a value, unset, or nothing), for
        :meth:`restore`."""
        return self.changes.get(name, Overlay._UNCHANGED)

    def restore(self, name: str, change: object) -> None:
        if change is Overlay._UNCHANGED:
            self.changes.pop(name, None)
        else:
            self.changes[name] = change


@dataclass(frozen=True)
class CommandEffects:
    """One command's effects, with the directory it runs in (None: unknown) and whether
    relative paths there still follow the stage's WORKDIR."""

    command: Command
    effects: Effects
    cwd: str | None
    cwd_is_workdir: bool


def run_effects(script: ShellScript, *, workdir: str | None, env: Mapping[str, str], home: str | None) -> Effects:
    """The effects of a RUN whose working directory is ``workdir`` (None: unknown), with the
    ENV/ARG values in force ``env`` and the running user's home directory ``home``."""
    return union(each.effects for each in command_effects(script, workdir=workdir, env=env, home=home))


def union(parts: Iterable[Effects]) -> Effects:
    """All the effects together (with the variables every program reads), gathered in one pass:
    ``a | b | c ...`` copies the growing sets at each step, which a RUN of thousands of
    commands made quadratic. Stops at the first unknown."""
    reads: set[str] = set()
    writes: set[str] = set()
    names: set[str] = set(env_always())
    cwd = False
    for part in parts:
        reads |= part.reads
        writes |= part.writes
        names |= part.env
        cwd = cwd or part.cwd
        if part.unknown:
            return Effects(frozenset(reads), frozenset(writes), frozenset(names), cwd, part.unknown)
    return Effects(frozenset(reads), frozenset(writes), frozenset(names), cwd)


def command_effects(
    script: ShellScript, *, workdir: str | None, env: Mapping[str, str], home: str | None
) -> tuple[CommandEffects, ...]:
    """Each command's effects, in source order (the walk tracks ``cd`` and variables). Once
    per script and step state: the steps, the cache-order planner, the context's file uses and
    the recipes all ask for every RUN. The mapping itself is the key (kept with the answer, so
    that its id is not reused): ``env`` must not change afterwards, as a step's variables never
    do (callers that add variables make a new mapping)."""
    key = ("command-effects", workdir, id(env), home)
    return cached(script, key, lambda: (env, _walk_effects(script, workdir, env, home)))[1]


def _walk_effects(
    script: ShellScript, workdir: str | None, env: Mapping[str, str], home: str | None
) -> tuple[CommandEffects, ...]:
    known = Overlay(env)
    if home is not None and "HOME" not in known:
        known["HOME"] = home
    budget = ExpansionBudget(sum(len(text.text) for text in script.texts))
    walk = _Walk(workdir, known, home, budget, facts_by_command(script), workdir=workdir)
    out = []
    for command in script.commands:
        walk.enter(command)
        cwd, cwd_is_workdir = walk.cwd, walk.cwd_is_workdir
        out.append(CommandEffects(command, _command_effects(command, walk), cwd, cwd_is_workdir))
    return tuple(out)


def _command_effects(command: Command, walk: _Walk) -> Effects:
    words_env = _words_env(command)
    assigned = _assign(command, walk)
    if command.kind is CommandKind.ASSIGNMENT:
        return Effects(env=words_env) | assigned
    if command.kind in (CommandKind.TEST, CommandKind.ARITHMETIC):
        return Effects(env=words_env) | _redirects(command, walk)
    if command.kind is CommandKind.UNSET:
        for word in command.arg_words:
            walk.unset_variable(word.value)
        return Effects(env=words_env)
    if command.name is None or not command.words[command.name_index].static:
        return Effects.unknowable("a command whose name is computed at run time")
    wrappers = set(command.wrappers) - _HARMLESS_WRAPPERS
    if wrappers:
        return Effects.unknowable(f"`{' '.join(sorted(wrappers))}` runs `{command.name}` as another user or shell")
    effects = Effects(env=words_env) | assigned | _redirects(command, walk)
    if command.name == "cd":
        return effects | _change_directory(command, walk)
    fact = walk.facts.get(command.index)
    if fact is not None:
        return effects | _package_effects(fact, command, walk)
    return effects | _program_effects(command, walk)


def _words_env(command: Command) -> frozenset[str]:
    """Variables the command's words expand."""
    names: set[str] = set()
    for word in command.words:
        if not word.static:
            names.update(_read_names(word.raw))
    for assignment in command.assignments:
        if assignment.value is not None and not assignment.value.static:
            names.update(_read_names(assignment.value.raw))
    return frozenset(names)


def _read_names(raw: str) -> Iterator[str]:
    """The variables a word's expansions read ("*": any, for ``${!V}``)."""
    for match in _READ_VARIABLE.finditer(raw):
        yield "*" if match.group("indirect") else match.group("braced") or match.group("plain")


def _assign(command: Command, walk: _Walk) -> Effects:
    """Variables the command sets for the rest of the script (bare ``A=b``, ``export A=b``)."""
    if command.kind is CommandKind.ASSIGNMENT:
        for assignment in command.assignments:
            written = assignment.value.raw if assignment.value is not None else ""
            walk.set_variable(assignment.name, walk.budget.keep(written, _value(assignment.value, walk)))
    elif (
        command.name in ("export", "declare", "typeset", "readonly", "local")
        and command.kind is CommandKind.DECLARATION
    ):
        for word in command.arg_words:
            if word.value.startswith("-"):
                continue
            name, sep, _value_text = word.value.partition("=")
            written = word.raw.partition("=")[2]
            walk.set_variable(name, walk.budget.keep(written, _expand(written, walk)) if sep else walk.env.get(name))
    return NOTHING


def _value(word: Word | None, walk: _Walk) -> str | None:
    if word is None:
        return ""
    return word.value if word.static else _expand(word.raw, walk)


def _expand(raw: str, walk: _Walk) -> str | None:
    """``$VAR``/``${VAR}`` replaced by known values; None when anything else is expanded."""
    text = raw.strip('"') if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2 else raw
    if "'" in text or "\\" in text:
        return None

    def value(match: re.Match[str]) -> str:
        known = walk.env.get(match.group("braced") or match.group("plain"))
        if known is None:
            raise KeyError
        return known

    try:
        expanded = substitute(_VARIABLE, text, value)
    except (KeyError, TooLong):
        return None
    return None if _ANY_EXPANSION.search(expanded) else expanded


def _word_path(word: Word, walk: _Walk) -> str | None:
    """The absolute path a word names (its tree, cut at the first glob), or None if unknown."""
    text = word.value if word.static else _expand(word.raw, walk)
    if text is None:
        return None
    return resolve_path(text, walk.cwd, walk.home)


def resolve_path(text: str, cwd: str | None, home: str | None) -> str | None:
    """``text`` as an absolute, normalised path; globs cut the path at their component."""
    if text == "~" or text.startswith("~/"):
        if home is None:
            return None
        text = home + text[1:]
    elif text.startswith("~"):
        return None  # ~user
    if _GLOB.search(text):
        parts = text.split("/")
        cut = next(i for i, part in enumerate(parts) if _GLOB.search(part))
        text = "/".join(parts[:cut]) or ("/" if text.startswith("/") else ".")
    if not text.startswith("/"):
        if cwd is None:
            return None
        text = posixpath.join(cwd, text)
    return posixpath.normpath(text).replace("//", "/")


def _ignored(path: str) -> bool:
    return any(path == p or path.startswith(p + "/") for p in _table()["ignored_paths"])


def _path_effects(words: Iterable[Word], walk: _Walk, *, read: bool, write: bool) -> Effects:
    reads, writes = set(), set()
    relative = False
    for word in words:
        path = _word_path(word, walk)
        if path is None:
            return Effects.unknowable(f"cannot tell which path `{word.raw}` names")
        if _ignored(path):
            continue
        relative = relative or (walk.cwd_is_workdir and not _static_absolute(word))
        if read:
            reads.add(path)
        if write:
            writes.add(path)
    return Effects(frozenset(reads), frozenset(writes), cwd=relative)


def _static_absolute(word: Word) -> bool:
    return word.value.startswith(("/", "~")) or (not word.static and word.raw.lstrip('"').startswith("$"))


def _redirects(command: Command, walk: _Walk) -> Effects:
    effects = NOTHING
    for redirect in command.redirects:
        target = redirect.target
        if target is None or redirect.heredoc is not None or redirect.operator in ("<<", "<<-", "<<<"):
            continue
        if redirect.operator in (">&", "<&") and (target.value.isdigit() or target.value == "-"):
            continue
        write = redirect.operator in _WRITE_REDIRECTS
        read = redirect.operator in _READ_REDIRECTS
        effects = effects | _path_effects([target], walk, read=read, write=write)
    return effects


def _change_directory(command: Command, walk: _Walk) -> Effects:
    args = [w for w in command.arg_words if not w.value.startswith("-") or w.value == "-"]
    if not _reaches_what_follows(command):
        walk.cwd = None
        return NOTHING
    if not args:
        walk.cwd = walk.home
        return NOTHING
    if args[0].value == "-":
        walk.cwd = None
        return NOTHING
    path = _word_path(args[0], walk)
    relative = walk.cwd_is_workdir and not _static_absolute(args[0])
    existing = walk.workdir is not None and path is not None and (walk.workdir + "/").startswith(path.rstrip("/") + "/")
    walk.cwd = path
    walk.cwd_is_workdir = relative or (path is not None and path == walk.workdir)
    # the WORKDIR and its parents exist before any step: entering them reads nothing
    return Effects(reads=frozenset({path}) if path and not existing else frozenset(), cwd=relative)


def _reaches_what_follows(command: Command) -> bool:
    """A ``cd`` at the top level of the script, or of the subshell (``$( )``, nested heredoc
    script) it runs in, moves every later command there (until that process ends: the walk's
    frames). One inside a condition, a loop, a function or a pipeline (each part of which is
    a process of its own) may or may not reach them."""
    inner = command.scopes
    for index in range(len(inner) - 1, -1, -1):
        if inner[index].kind in CHILD_PROCESS_SCOPES:
            return inner[index].kind is not ScopeKind.PIPELINE and index == len(inner) - 1
    return not inner


# -- programs -----------------------------------------------------------------------------------


@dataclass
class _Argv:
    operands: list[Word]
    values: dict[str, list[Word]]  # option -> value words
    flags: set[str]


def _split_argv(words: tuple[Word, ...], with_value: frozenset[str]) -> _Argv:
    operands: list[Word] = []
    values: dict[str, list[Word]] = {}
    flags: set[str] = set()
    i = 0
    only_operands = False
    while i < len(words):
        word = words[i]
        text = word.value
        if only_operands or not text.startswith("-") or text == "-":
            operands.append(word)
        elif text == "--":
            only_operands = True
        elif text.startswith("--") and "=" in text:
            name, _, value = text.partition("=")
            flags.add(name)
            values.setdefault(name, []).append(_value_word(word, value))
        elif text in with_value:
            flags.add(text)
            if i + 1 < len(words):
                values.setdefault(text, []).append(words[i + 1])
            i += 1
        elif not text.startswith("--"):
            i += _short_cluster(words, i, with_value, flags, values)
        else:
            flags.add(text)
        i += 1
    return _Argv(operands, values, flags)


def _short_cluster(words: tuple[Word, ...], i: int, with_value: frozenset[str], flags: set[str], values: dict) -> int:
    """Read ``-xzf FILE`` / ``-ofile``: letters up to the first one that takes a value, which
    takes the rest of the word or the next word. Returns how many extra words were used."""
    word = words[i]
    text = word.value
    flags.add(text)
    for k in range(1, len(text)):
        option = "-" + text[k]
        flags.add(option)
        if option in with_value:
            rest = text[k + 1 :]
            if rest:
                values.setdefault(option, []).append(_value_word(word, rest))
                return 0
            if i + 1 < len(words):
                values.setdefault(option, []).append(words[i + 1])
                return 1
            return 0
    return 0


def _value_word(word: Word, value: str) -> Word:
    """The value part of ``--opt=value`` / ``-ovalue`` as a word of its own (same spans)."""
    raw = word.raw[len(word.raw) - len(value) :] if word.raw.endswith(value) else value
    return Word(value, raw, word.static, word.quoted, word.text_start, word.text_end, word.to_source)


@dataclass(frozen=True)
class Account:
    """A user account a command creates (or re-homes): the names USER may give it (its name,
    its uid) and its home directory, None when not known here."""

    names: tuple[str, ...]
    home: str | None


def account_change(command: Command) -> Account | None:
    """What ``useradd``/``adduser``/``usermod`` does to one account (data/command_effects.toml
    ``account``); None for other commands, for none, or when the account's name is not known."""
    spec = _table()["programs"].get(command.name)
    rule = spec.get("account") if spec is not None else None
    if rule is None:
        return None
    argv = _split_argv(command.arg_words, frozenset(spec.get("options_with_value", ())))
    if argv.flags & set(rule.get("none_with", ())) or len(argv.operands) != 1 or not argv.operands[0].static:
        return None  # no account, another form (`adduser USER GROUP` adds to a group), or a variable
    name = argv.operands[0].value
    uids = [w for option in rule.get("uid", ()) for w in argv.values.get(option, ())]
    names = (name,) + tuple(w.value for w in uids[-1:] if w.static)
    homes = [w for option in rule.get("home", ()) for w in argv.values.get(option, ())]
    if homes:
        return Account(names, _absolute(homes[-1]))
    if rule.get("modifies"):
        return None  # usermod without -d keeps the home
    if argv.flags & set(rule.get("unknown_home_with", ())):
        return Account(names, None)
    bases = [w for option in rule.get("base", ()) for w in argv.values.get(option, ())]
    base = _absolute(bases[-1]) if bases else rule["default_base"]
    return Account(names, posixpath.join(base, name) if base else None)


def _absolute(word: Word) -> str | None:
    return posixpath.normpath(word.value) if word.static and word.value.startswith("/") else None


def _program_effects(command: Command, walk: _Walk) -> Effects:
    spec = _table()["programs"].get(command.name)
    if spec is None:
        return Effects.unknowable(f"slimfile does not know what `{command.name}` reads and writes")
    argv = _split_argv(command.arg_words, frozenset(spec.get("options_with_value", ())))
    unknown = set(spec.get("unknown_options", ())) & argv.flags
    if unknown:
        return Effects.unknowable(f"`{command.name} {sorted(unknown)[0]}`")
    if argv.operands and argv.operands[0].value in spec.get("unknown_subcommands", ()):
        return Effects.unknowable(f"`{command.name} {argv.operands[0].value}` works on the project")
    fixed = _fixed(spec, walk)
    if isinstance(fixed, str):
        return Effects.unknowable(fixed)
    effects = fixed | _option_paths(spec, argv, walk)
    handler = spec.get("handler")
    if handler is not None:
        return effects | _HANDLERS[handler](command, argv, walk, spec)
    return effects | _operand_effects(spec.get("operands", "none"), argv.operands, walk)


def _fixed(spec: dict, walk: _Walk) -> Effects | str:
    reads = _group(spec.get("reads", ()), walk.home)
    writes = _group(spec.get("writes", ()), walk.home)
    for found in (reads, writes):
        if isinstance(found, str):
            return found
    return Effects(reads, writes, frozenset(spec.get("env", ())), cwd=bool(spec.get("cwd", False)))


def _option_paths(spec: dict, argv: _Argv, walk: _Walk) -> Effects:
    effects = NOTHING
    for option in spec.get("option_reads", ()):
        effects = effects | _path_effects(argv.values.get(option, ()), walk, read=True, write=False)
    for option in spec.get("option_writes", ()):
        effects = effects | _path_effects(argv.values.get(option, ()), walk, read=False, write=True)
    return effects


def _operand_effects(kind: str, operands: list[Word], walk: _Walk) -> Effects:
    if kind == "none" or not operands:
        return NOTHING
    if kind == "read":
        return _path_effects(operands, walk, read=True, write=False)
    if kind == "write":
        return _path_effects(operands, walk, read=False, write=True)
    if kind == "read-write":
        return _path_effects(operands, walk, read=True, write=True)
    if kind == "after-first-write":
        return _path_effects(operands[1:], walk, read=False, write=True)
    if kind == "copy":
        if len(operands) == 1:  # `ln -s /x/tool`, `cp /x .`-less form: into the working directory
            return _path_effects(operands, walk, read=True, write=False) | _cwd_write(walk)
        sources = _path_effects(operands[:-1], walk, read=True, write=False)
        return sources | _path_effects(operands[-1:], walk, read=False, write=True)
    raise ValueError(f"unknown operand kind {kind!r} in command_effects.toml")


def _handle_move(command: Command, argv: _Argv, walk: _Walk, spec: dict) -> Effects:
    """``mv A B``: A is removed too."""
    return _path_effects(argv.operands, walk, read=True, write=True)


def _handle_pattern_first(command: Command, argv: _Argv, walk: _Walk, spec: dict) -> Effects:
    """``grep PATTERN FILE...`` (the pattern is an operand unless -e/-f gave it)."""
    operands = (
        argv.operands
        if ("-e" in argv.values or "--regexp" in argv.values or "-f" in argv.values)
        else argv.operands[1:]
    )
    if not operands:
        return Effects(cwd=False)
    return _path_effects(operands, walk, read=True, write=False)


def _handle_sed(command: Command, argv: _Argv, walk: _Walk, spec: dict) -> Effects:
    in_place = any(flag == "-i" or flag.startswith("-i") or flag.startswith("--in-place") for flag in argv.flags)
    script_given = (
        "-e" in argv.values or "--expression" in argv.values or "-f" in argv.values or "--file" in argv.values
    )
    files = argv.operands if script_given else argv.operands[1:]
    return _path_effects(files, walk, read=True, write=in_place)


def _handle_tar(command: Command, argv: _Argv, walk: _Walk, spec: dict) -> Effects:
    letters = set()
    for flag in argv.flags:
        if flag.startswith("-") and not flag.startswith("--"):
            letters.update(flag[1:])
    operands = list(argv.operands)
    # old-style bundle without a dash: `tar xzf file.tgz -C /x`
    if (
        operands
        and re.fullmatch(r"[A-Za-z]+", operands[0].value)
        and not operands[0].value.startswith("-")
        and "f" in operands[0].value
    ):
        letters.update(operands[0].value)
        bundle = operands.pop(0)
        if operands:
            argv.values.setdefault("-f", []).append(operands.pop(0))
        del bundle
    archive = argv.values.get("-f", []) + argv.values.get("--file", [])
    directory = argv.values.get("-C", []) + argv.values.get("--directory", [])
    extract = "x" in letters or "--extract" in argv.flags or "--get" in argv.flags
    create = "c" in letters or "--create" in argv.flags
    if extract:
        if not archive:
            return Effects.unknowable("`tar -x` without `-f` reads standard input")
        target = _path_effects(directory, walk, read=False, write=True) if directory else _cwd_write(walk)
        return _path_effects(archive, walk, read=True, write=False) | target
    if create:
        return _path_effects(archive, walk, read=False, write=True) | _path_effects(
            operands, walk, read=True, write=False
        )
    return _path_effects(archive, walk, read=True, write=False)  # -t: list


def _cwd_write(walk: _Walk) -> Effects:
    if walk.cwd is None:
        return Effects.unknowable("writes into an unknown working directory")
    return Effects(writes=frozenset({walk.cwd}), cwd=walk.cwd_is_workdir)


def _handle_unzip(command: Command, argv: _Argv, walk: _Walk, spec: dict) -> Effects:
    archive = argv.operands[:1]
    target = argv.values.get("-d")
    written = _path_effects(target, walk, read=False, write=True) if target else _cwd_write(walk)
    return _path_effects(archive, walk, read=True, write=False) | written


def _handle_download(command: Command, argv: _Argv, walk: _Walk, spec: dict) -> Effects:
    """curl/wget: the output options are in ``option_writes``; without one, curl prints (no
    file), ``curl -O`` and plain ``wget`` write into the working directory."""
    if any(flag in argv.values for flag in spec.get("option_writes", ())):
        return NOTHING
    if command.name == "curl":
        remote_name = any(f in argv.flags for f in ("-O", "--remote-name", "--remote-name-all", "-J"))
        return _cwd_write(walk) if remote_name else NOTHING
    return _cwd_write(walk)  # wget


_HANDLERS = {
    "move": _handle_move,
    "pattern-first": _handle_pattern_first,
    "sed": _handle_sed,
    "tar": _handle_tar,
    "unzip": _handle_unzip,
    "download": _handle_download,
}


# -- package managers ---------------------------------------------------------------------------


def _package_effects(fact: PackageFact, command: Command, walk: _Walk) -> Effects:
    table = _table()
    system = table["managers"].get(fact.manager)
    if system is not None:
        fixed = _fixed(system, walk)
        return Effects.unknowable(fixed) if isinstance(fixed, str) else fixed
    if fact.action == "clean":
        return _cache_clean_effects(fact, walk)
    other = table.get("actions", {}).get(fact.manager, {}).get(fact.action)
    if other is not None:
        return _action_effects(other, fact, walk)
    install = table["installs"].get(fact.manager)
    if install is None or fact.action not in ("install", "add"):
        return Effects.unknowable(f"`{fact.tool} {fact.action}` works on the project, not on named packages")
    if install.get("global_only") and not _global(fact):
        return Effects.unknowable(f"`{fact.tool} {fact.action}` without `-g` installs into the project")
    local = _project_operands(fact, walk)
    if local:
        return Effects.unknowable(f"`{fact.tool}` installs `{local}`, which is not a named package")
    fixed = _fixed(install, walk)
    if isinstance(fixed, str):
        return Effects.unknowable(fixed)
    if install.get("interpreter_on_path"):
        fixed = fixed | _interpreter_prefix(walk)
    return fixed


def _cache_clean_effects(fact: PackageFact, walk: _Walk) -> Effects:
    """`npm cache clean --force`, `pip cache purge`, `yarn cache clean`: they empty the
    manager's own cache folders (data/cache_paths.toml) and touch nothing else."""
    clears = load("cache_paths").get(fact.manager, {}).get("clears", {})
    words = " ".join(w.value for w in fact.subcommand)
    paths = clears.get(words) or clears.get(fact.action)
    if not paths:
        return Effects.unknowable(f"`{fact.tool} {words}`: which cache it empties is not known")
    resolved: set[str] = set()
    for path in paths:
        if path.startswith(("$HOME", "${HOME}")):
            if walk.home is None:
                return Effects.unknowable("the home directory of the user is not known")
            path = walk.home + path.split("}", 1)[-1] if path.startswith("${") else walk.home + path[len("$HOME") :]
        elif "$" in path:
            continue  # a variable the image sets (XDG_CACHE_HOME): not this layer's concern
        resolved.add(posixpath.normpath(path))
    return Effects(frozenset(resolved), frozenset(resolved))


def _global(fact: PackageFact) -> bool:
    return fact.has("global") or any(word.value == "global" for word in fact.subcommand)


def _action_effects(spec: dict, fact: PackageFact, walk: _Walk) -> Effects:
    """A package manager's own configuration commands (``poetry config x y``)."""
    unknown = next((o.name for o in fact.options if o.name in spec.get("unknown_options", ())), None)
    if unknown:
        return Effects.unknowable(f"`{fact.tool} {fact.action} {unknown}` works on the project")
    fixed = _fixed(spec, walk)
    return Effects.unknowable(fixed) if isinstance(fixed, str) else fixed


def _project_operands(fact: PackageFact, walk: _Walk) -> str | None:
    """The first operand or option that makes an install read files (a path, ``-r``, ``-e``)."""
    if fact.option(
        "-r",
        "--requirement",
        "-c",
        "--constraint",
        "-e",
        "--editable",
        "--target",
        "-t",
        "--prefix",
        "--root",
        "--user",
    ):
        return "a requirements file, a target or an editable project"
    if not fact.packages:
        return "the project's own manifest"
    for word in fact.packages:
        value = word.value if word.static else _expand(word.raw, walk)  # `pnpm@$PNPM_VERSION`
        if value is None:
            return word.value
        if value in (".", "..") or value.startswith(("./", "../", "/", "~", "file:")) or "/" in value.split("@")[0]:
            return value
    return None


_STANDARD_BIN = frozenset({"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"})


def _interpreter_prefix(walk: _Walk) -> Effects:
    """A virtualenv or another prefix first on PATH is where ``pip`` installs."""
    path = walk.env.get("PATH")
    if path is None:
        return NOTHING
    entries = [entry for entry in path.split(":") if entry not in ("$PATH", "${PATH}")]  # the image's own
    extra = {posixpath.dirname(entry.rstrip("/")) for entry in entries if entry not in _STANDARD_BIN}
    if any("$" in entry or not entry.startswith("/") for entry in entries):
        return Effects.unknowable("PATH holds a value slimfile cannot expand")
    return Effects(reads=frozenset(extra), writes=frozenset(extra))
