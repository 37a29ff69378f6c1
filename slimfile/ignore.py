"""Which paths a directory walk skips: default excludes, ``--exclude`` / ``--extend-exclude``
patterns, the ``exclude`` settings of the configuration closest to each directory, and
``.gitignore`` files, all with gitignore semantics (deeper files win, ``!`` re-includes, a
trailing ``/`` matches directories only, a pattern without ``/`` matches at any depth).

Each exclude pattern is matched against the path relative to the directory it belongs to: the
walk root for command-line patterns and the defaults, the configuration file's directory for
patterns from a configuration file.
"""

from __future__ import annotations

import os
import re
import stat
import warnings
from pathlib import Path
from typing import Callable, Iterable, Sequence

import pathspec

from slimfile.analysis.globs import stars_placed_earliest
from slimfile.files import read_limited

DEFAULT_EXCLUDE = (
    ".git",
    ".hg",
    ".svn",
    ".bzr",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    "node_modules",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
)


def _spec(lines: Iterable[str]) -> pathspec.GitIgnoreSpec:
    """The lines' spec, matched with Python's ``re`` (pathspec's "simple" backend: the others,
    picked when ``google-re2`` or ``hyperscan`` happens to be installed, decide some paths
    differently: ``*`` then ``a`` then ``!b`` on the folder ``a/b/``), each pattern's regex
    rewritten so that it cannot backtrack for ever (:func:`_without_backtracking`). A class
    such as ``[[ab]`` or ``[a--b]`` makes Python warn that its meaning may change: not on
    slimfile's stderr for a line of a repository's .gitignore."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        spec = _spec_of_valid_lines(list(lines))
        for pattern in spec.patterns:
            regex = getattr(pattern, "regex", None)
            if regex is not None:
                rewritten = _without_backtracking(regex.pattern)
                if rewritten is not None and rewritten != regex.pattern:
                    pattern.regex = re.compile(rewritten, regex.flags)
    return spec


def _spec_of_valid_lines(lines: list[str]) -> pathspec.GitIgnoreSpec:
    """pathspec's spec of the lines, without those it refuses (``a\\``: a trailing escape) or
    whose regex Python refuses (``[z-a]``, ``x[a--b]``: a range that runs backwards), which
    stopped the whole walk with a traceback. git ignores nothing with the first; it reads
    such a range as its first character (``[z-a]`` ignores ``z``). Left out, a line ignores
    nothing, so at worst the walk checks a Dockerfile that git ignores."""
    try:
        return pathspec.GitIgnoreSpec.from_lines(lines, backend="simple")
    except (re.error, ValueError):
        return pathspec.GitIgnoreSpec.from_lines([line for line in lines if _accepted(line)], backend="simple")


def _accepted(line: str) -> bool:
    return pattern_problem(line) is None


def pattern_problem(line: str) -> str | None:
    """Why pathspec or Python refuses a gitignore-style line, or None. An exclude pattern of
    a configuration or the command line with a problem is an error (a typo must not silently
    exclude nothing); a line of a repository's .gitignore is left out."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        try:
            pathspec.GitIgnoreSpec.from_lines([line], backend="simple")
        except re.error as exc:
            return exc.msg
        except ValueError as exc:  # pathspec's GitIgnorePatternError
            return str(exc)
    return None


# The pieces of the regexes pathspec makes of .gitignore lines; a regex with any other piece
# is left as it is.
_PIECES = re.compile(
    r"(?P<star>\[\^/\]\*)|(?P<plus>\[\^/\]\+)|(?P<one>\[\^/\])"
    r"|(?P<lead>\(\?:\.\+/\)\?)|(?P<mid>\(\?:/\.\+\)\?)"
    r"|(?P<end>(?:\(\?:\(\?P<ps_d>/\)\|\$\)|\(\?P<ps_d>/\)|\$)\Z)"
    r"|(?P<sep>/)|(?P<esc>\\[\s\S])|(?P<cls>\[\^?(?:\]|[^\]/\\]|\\[^/])(?:[^\]/\\]|\\[^/])*\])|(?P<lit>[^\\\[\]().*+?{}|^$/])"
)


def _without_backtracking(regex: str) -> str | None:
    """pathspec's regex of a .gitignore line, made so that Python's ``re`` cannot backtrack
    for ever, matching the same paths; None when it holds a piece this does not know.

    A repository under review may hold ``*a*a*a*a*a*a*a*b*`` (14 s for one folder named with
    60 a's, each more star multiplying it) or ``x/**/a/**/a/**/.../b`` (7 s for a path 40
    deep): the walk matches every file and folder against it, outside any file's budget.
    As in ``analysis.globs``: in each name, each piece between two stars is placed at the
    first place it fits, for good (an atomic group); each group of components that a ``**``
    precedes and another follows is placed at the first depth where it fits, for good. A
    fixed-width piece placed earliest leaves the most room for what follows, so the regex
    matches the same paths. A negated class (``[!b]``) never matches ``/``, as git reads it
    (fnmatch with FNM_PATHNAME; pathspec let it)."""
    if not regex.startswith("^"):
        return None
    units: list[tuple[str, str]] = []  # (kind, text): "name" for the pieces of one name
    name: list[tuple[str, str]] = []
    position = 1
    while position < len(regex):
        found = _PIECES.match(regex, position)
        if found is None:
            return None
        kind, text = found.lastgroup or "", found.group()
        position = found.end()
        if kind in ("star", "plus", "one", "esc", "cls", "lit"):
            name.append((kind, "(?!/)" + text if kind == "cls" and text.startswith("[^") else text))
            continue
        if name:
            units.append(("name", _name_regex(name)))
            name = []
        units.append((kind, text))
    if name:
        units.append(("name", _name_regex(name)))
    return "^" + _place_groups(units)


def _name_regex(pieces: list[tuple[str, str]]) -> str:
    """One name's pieces; with two stars or more, each piece between two stars atomic."""
    parts: list[str] = [""]
    for kind, text in pieces:
        if kind == "star":
            parts.append("")
        elif kind == "plus":  # `[^/]+`: one character, then a star
            parts[-1] += "[^/]"
            parts.append("")
        else:
            parts[-1] += text
    if len(parts) <= 2:
        return "".join(text for _kind, text in pieces)
    return stars_placed_earliest(parts)


def _place_groups(units: list[tuple[str, str]]) -> str:
    """The units' text, each ``**`` (``lead``, ``mid``) that another ``mid`` follows placing
    the components between them at the first depth where they fit, for good."""
    following: list[int | None] = [None] * len(units)  # the next `mid` or `end` after each unit
    upcoming: int | None = None
    for index in range(len(units) - 1, -1, -1):
        following[index] = upcoming
        if units[index][0] in ("mid", "end"):
            upcoming = index
    out: list[str] = []
    index = 0
    while index < len(units):
        kind, text = units[index]
        after = following[index]
        if kind in ("lead", "mid") and after is not None and units[after][0] == "mid" and after > index + 1:
            lazy = "(?:.+?/)??" if kind == "lead" else "(?:/.+?)??"
            out.append("(?>" + lazy + "".join(t for _k, t in units[index + 1 : after]) + "(?=/))")
            index = after
            continue
        out.append(text)
        index += 1
    return "".join(out)


MAX_IGNORE_FILE = 16 * 1024 * 1024  # a .gitignore is a few KB; a bigger one is not read


def _ignore_file_lines(path: str) -> list[str] | None:
    """The lines of a ``.gitignore``, or None when there is none to read: missing, unreadable,
    not a regular file, or larger than ``MAX_IGNORE_FILE``. A repository under review may hold
    a ``.gitignore`` that links to ``/dev/zero`` or names a FIFO: read as a file, it never ends."""
    try:
        with open(path, "rb", opener=_open_nonblocking) as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return None
            data = read_limited(handle, MAX_IGNORE_FILE)
    except OSError:
        return None
    if len(data) > MAX_IGNORE_FILE:
        return None
    return data.decode("utf-8", "replace").splitlines()


def _open_nonblocking(path: str, flags: int) -> int:
    """Opening a FIFO for reading waits for a writer: O_NONBLOCK returns at once (the file is
    then refused as not regular; a regular file reads the same with it)."""
    return os.open(path, flags | os.O_NONBLOCK)


def _abs(path: str | os.PathLike) -> str:
    return os.path.abspath(os.fspath(path))


def _relative(path: str, base: str) -> str | None:
    """``path`` relative to ``base`` with '/' separators, or None when it is not inside it.
    Plain string work: this runs for every entry of every directory walked."""
    if path == base:
        return ""
    prefix = base if base.endswith(os.sep) else base + os.sep
    if not path.startswith(prefix):
        return None
    rel = path[len(prefix) :]
    return rel if os.sep == "/" else rel.replace(os.sep, "/")


_GLOB_CHARACTERS = frozenset("*?[\\!")


def _literal_name(pattern: str) -> str | None:
    """The name a pattern matches when it is a plain name (``node_modules``, ``build/``)."""
    name = pattern[:-1] if pattern.endswith("/") else pattern
    if not name or "/" in name or name != name.strip() or name.startswith("#") or _GLOB_CHARACTERS & set(name):
        return None
    return name


class ExcludeRules:
    """Exclude patterns, each group anchored at its own base directory.

    Plain names (``node_modules``, ``build/``: most exclude lists) are looked up in a set by
    the entry's own name: the walk has already pruned excluded parents, so that is exact, and
    far cheaper than matching every pattern against every path. A group with a negation
    (``!keep``) is left entirely to pathspec, since there the order of patterns matters.
    """

    def __init__(self, layers: Sequence[tuple[str | os.PathLike, Iterable[str]]]) -> None:
        self.layers: list[tuple[str, frozenset[str], frozenset[str], pathspec.GitIgnoreSpec]] = []
        for base, patterns in layers:
            patterns = [p for p in patterns if p.strip()]
            if not patterns:
                continue
            names, dir_names, rest = set(), set(), []
            negated = any(p.startswith("!") for p in patterns)
            for pattern in patterns:
                name = None if negated else _literal_name(pattern)
                if name is None:
                    rest.append(pattern)
                elif pattern.endswith("/"):
                    dir_names.add(name)
                else:
                    names.add(name)
            self.layers.append((_abs(base), frozenset(names), frozenset(dir_names), _spec(rest)))

    def matches(self, path: str | os.PathLike, *, is_dir: bool) -> bool:
        return self.matches_absolute(_abs(path), is_dir=is_dir)

    def matches_absolute(self, path: str, *, is_dir: bool) -> bool:
        suffix = "/" if is_dir else ""
        name = os.path.basename(path)
        for base, names, dir_names, spec in self.layers:
            rel = _relative(path, base)
            if not rel:
                continue
            if name in names or (is_dir and name in dir_names):
                return True
            if spec.patterns and spec.match_file(rel + suffix):
                return True
        return False


# directory (absolute) -> the exclude rules that apply to the entries inside it
ExcludeProvider = Callable[[str], ExcludeRules]


class IgnoreMatcher:
    def __init__(
        self,
        root: str | os.PathLike,
        exclude: Iterable[str] = (),
        respect_gitignore: bool = True,
        exclude_for: ExcludeProvider | None = None,
    ) -> None:
        self.root = _abs(root)
        self.respect_gitignore = respect_gitignore
        fixed = ExcludeRules([(self.root, tuple(exclude))])
        self.exclude_for: ExcludeProvider = exclude_for or (lambda _directory: fixed)
        self.layers: list[tuple[str, pathspec.GitIgnoreSpec]] = []  # .gitignore files, outermost first
        self.loaded: set[str] = set()
        if respect_gitignore:
            for parent in self._parents_to_repo_root(self.root):
                self._load(parent)

    @staticmethod
    def _parents_to_repo_root(root: str) -> list[str]:
        """Directories above ``root`` up to the enclosing git repository's top, outermost first."""
        chain = []
        for candidate in [Path(root), *Path(root).parents]:
            chain.append(str(candidate))
            if (candidate / ".git").exists():
                return list(reversed(chain[1:]))
        return []

    def _load(self, directory: str) -> None:
        if directory in self.loaded:
            return
        self.loaded.add(directory)
        files = [os.path.join(directory, ".gitignore")]
        if os.path.isdir(os.path.join(directory, ".git")):
            files.append(os.path.join(directory, ".git", "info", "exclude"))
        for file in files:
            lines = _ignore_file_lines(file)
            if lines is not None:
                self.layers.append((directory, _spec(lines)))
        self.layers.sort(key=lambda layer: layer[0].count(os.sep))

    def enter(self, directory: str | os.PathLike) -> None:
        """Pick up the ``.gitignore`` of a directory the walk enters."""
        if self.respect_gitignore:
            self._load(_abs(directory))

    def excluded(self, path: str | os.PathLike, *, is_dir: bool) -> bool:
        path = _abs(path)
        return self.exclude_for(os.path.dirname(path)).matches(path, is_dir=is_dir)

    def excluded_with_parents(self, path: str | os.PathLike) -> bool:
        """For a file named on the command line (``--force-exclude``): it, or a directory it is
        in, is excluded."""
        path = _abs(path)
        if self.excluded(path, is_dir=False):
            return True
        return any(self.excluded(str(parent), is_dir=True) for parent in Path(path).parents if parent != parent.parent)

    def ignored(self, path: str | os.PathLike, *, is_dir: bool) -> bool:
        return self.ignored_absolute(_abs(path), is_dir=is_dir)

    def ignored_absolute(self, path: str, *, is_dir: bool) -> bool:
        """``ignored`` for a path that is already absolute and normalised (the walk's hot path)."""
        if self.exclude_for(os.path.dirname(path)).matches_absolute(path, is_dir=is_dir):
            return True
        verdict = None
        suffix = "/" if is_dir else ""
        for base, spec in self.layers:
            rel = _relative(path, base)
            if not rel:
                continue
            result = spec.check_file(rel + suffix)
            if result.include is not None:
                verdict = result.include
        return bool(verdict)
