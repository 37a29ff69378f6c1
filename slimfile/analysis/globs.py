"""Path patterns as Docker matches them (``.dockerignore``, the verify ignore list).

Go's ``filepath.Match`` plus ``**``: ``*`` and ``?`` never cross a ``/``, ``**`` matches any
number of directories, ``[...]`` is a character class and ``\\`` escapes. Patterns and paths are
relative and use ``/``; a leading ``/`` or ``./`` is dropped, as Docker does.

Docker's matcher (moby's patternmatcher) writes a class into a Go regexp as it is: ``[^b]``
is negated and matches ``/`` too, while ``[!b]`` is the class of ``!`` and ``b``, not a
negation as in a shell or a ``.gitignore`` (checked on Docker 20.10: ``a[!b]c`` leaves out
``abc`` and ``a!c`` and sends ``axc``; ``a[^b]c`` leaves out ``a/c``). A COPY source is
matched one component at a time, so no class crosses a ``/`` there.
"""

from __future__ import annotations

import posixpath
import re
import warnings
from collections.abc import Iterator
from functools import lru_cache


def clean_path(path: str) -> str:
    """``/usr//lib/./x`` -> ``usr/lib/x``; the root itself is ``""``."""
    cleaned = posixpath.normpath("/" + path.strip()).lstrip("/")
    return "" if cleaned == "." else cleaned


def folders_above(path: str) -> Iterator[str]:
    """``/a/b/c``: ``/a/b``, ``/a``, ``/`` (an image path's folders, nearest first)."""
    while path not in ("/", ""):
        path = posixpath.dirname(path)
        yield path


@lru_cache(maxsize=4096)
def compile_glob(pattern: str) -> re.Pattern[str]:
    """A regex that matches exactly the paths the pattern matches."""
    return _compile(_translate(clean_path(pattern), _WHOLE_PATH))


_NOTHING = re.compile(r"(?!)")


def _compile(regex: str) -> re.Pattern[str]:
    """The regex, or one that matches nothing for a pattern Docker refuses (``[z-a]``,
    ``[]``): ``docker build`` stops at such a line ("syntax error in pattern"); here it
    decides nothing, and the file's other lines still count."""
    try:
        return _quiet_compile(regex)
    except re.error:
        return _NOTHING


def _quiet_compile(regex: str) -> re.Pattern[str]:
    """``re.compile`` without the FutureWarning Python prints for a class such as ``[a--b]``
    (a line of a repository's .dockerignore must not write to slimfile's stderr)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return re.compile(regex, re.DOTALL)


_WHOLE_PATH = r"\Z"  # the pattern matches the whole path
_PATH_OR_FOLDER = r"(?=/|\Z)"  # the pattern matches the path or a folder it is in


def _translate(pattern: str, end: str) -> str:
    """The regex of ``pattern`` followed by ``end`` (``_WHOLE_PATH`` or ``_PATH_OR_FOLDER``).

    The plain translation (``*`` -> ``[^/]*``, ``**/`` -> ``(?:.*/)?``) backtracks: Python's
    ``re`` tries every way to share a name among the stars of ``*a*a*a*a*a*a*b*`` (63 s for
    one file named with 100 a's) and a path among the ``**/`` of ``**/**/**/.../[b]/y*``.
    Docker's matcher (Go's RE2) never does, and a .dockerignore or a COPY under review must
    not stall slimfile. So where the pattern is made of whole components (``**`` only as a
    component of its own, classes that cannot match ``/``), each piece that a star precedes is
    placed at the first place it fits, and that choice is final (an atomic group): a fixed-width
    piece placed earliest leaves the most room for what follows, so it matches the same paths.
    Other patterns get the plain translation."""
    tokens = _tokens(pattern)
    if tokens is None:
        return _translate_plainly(pattern) + end
    return _translate_components(tokens, end)


_SEP, _STAR, _ANY_DIRS, _ANY_REST = "/", "*", "**/", "**"


def _tokens(pattern: str) -> list[str | tuple[str]] | None:
    """The pattern as separators, stars, ``**/``, a final ``**``, and one-character pieces
    (a 1-tuple holding the regex of a literal, ``?`` or a class), as :func:`_lex` reads it;
    None when it is not made of whole components."""
    tokens: list[str | tuple[str]] = []
    for kind, regex, start, end in _lex(pattern):
        at_component_start = start == 0 or pattern[start - 1] == "/"
        if kind == "**/" and at_component_start:
            tokens.append(_ANY_DIRS)
        elif kind == "**" and at_component_start and end == len(pattern):
            tokens.append(_ANY_REST)
        elif kind == "*":
            tokens.append(_STAR)
        elif kind == "/":
            tokens.append(_SEP)
        elif kind == "one":
            tokens.append((regex,))
        else:  # `a**b`, `**.txt`, an escaped `/`, a class that can match `/` (or `[]`)
            return None
    return tokens


def _translate_components(tokens: list[str | tuple[str]], end: str) -> str:
    """The regex of a pattern of whole components (see :func:`_translate`). Its ``**/`` split
    it into groups of components: the first is matched at the start, each later one at the
    first folder depth where it fits, a final choice (but for the last group when the whole
    path must match: it may need a deeper place)."""
    groups: list[list[str | tuple[str]]] = [[]]
    for token in tokens:
        if token == _ANY_DIRS:
            groups.append([])
        else:
            groups[-1].append(token)
    out = [_run_regex(groups[0])]
    for index, group in enumerate(groups[1:], start=1):
        if not group:
            continue  # `**/**/`: the next group's `**/` stands for both
        rest = _ANY_REST in group or group[-1:] == [_SEP]  # the pattern goes on after it
        core = [token for token in group if token != _ANY_REST]
        if core[-1:] == [_SEP]:
            core.pop()
        if not core:  # `**/**`, `**/**/x`: as the plain translation
            out.append(r"(?:.*/)?" + _run_regex(group))
        elif index == len(groups) - 1 and not rest and end == _WHOLE_PATH:
            out.append(r"(?:[^/]*/)*?" + _run_regex(core))
        else:
            out.append(r"(?>(?:[^/]*/)*?" + _run_regex(core) + r"(?=/|\Z))" + _run_regex(group[len(core) :]))
    return "".join(out) + end


def _run_regex(tokens: list[str | tuple[str]]) -> str:
    """Components and separators (and a final ``**``) as they come."""
    out: list[str] = []
    component: list[str | tuple[str]] = []
    for token in tokens:
        if token == _SEP or token == _ANY_REST:
            out.append(_component_regex(component))
            component = []
            out.append("/" if token == _SEP else ".*")
        else:
            component.append(token)
    out.append(_component_regex(component))
    return "".join(out)


def _component_regex(tokens: list[str | tuple[str]]) -> str:
    """One component: its first piece at its start, its last piece at its end, each piece
    between two stars at the first place it fits (final)."""
    pieces: list[str] = [""]
    for token in tokens:
        if token == _STAR:
            pieces.append("")
        else:
            pieces[-1] += token[0]
    return pieces[0] if len(pieces) == 1 else stars_placed_earliest(pieces)


def stars_placed_earliest(pieces: list[str]) -> str:
    """The regex of a name from the fixed-width pieces (regexes) around its stars, two or
    more: the first at its start, the last at its end, each one between two stars at the
    first place it fits, for good (an atomic group). ``ignore`` builds .gitignore names so."""
    middle = "".join(f"(?>[^/]*?{piece})" for piece in pieces[1:-1] if piece)
    return pieces[0] + middle + "[^/]*" + pieces[-1]


def _translate_plainly(pattern: str) -> str:
    return "".join(regex for _kind, regex, _start, _end in _lex(pattern))


def _lex(pattern: str) -> Iterator[tuple[str, str, int, int]]:
    """The pattern's pieces in order, as (kind, plain regex, start, end): ``**/``, ``**``,
    ``*``, ``/``, ``one`` (a literal, ``?`` or a class that cannot match ``/``), ``\\/`` (an
    escaped ``/``) and ``class/`` (a class that can match ``/``: negated, holding one, or
    ``[]``, which does not compile)."""
    i, n = 0, len(pattern)
    while i < n:
        start, ch = i, pattern[i]
        if pattern.startswith("**/", i):  # zero or more whole directories
            i += 3
            yield "**/", r"(?:.*/)?", start, i
            continue
        if pattern.startswith("**", i):
            i += 2
            yield "**", r".*", start, i
            continue
        if ch == "*":
            kind, regex = "*", r"[^/]*"
        elif ch == "?":
            kind, regex = "one", r"[^/]"
        elif ch == "/":
            kind, regex = "/", "/"
        elif ch == "[" and pattern.find("]", i + 1) >= 0:
            i = pattern.find("]", i + 1)
            body = pattern[start + 1 : i]
            negate = body.startswith("^")  # Docker's matcher hands classes to Go's regexp: `[!b]` is `!` or `b`
            kind = "class/" if negate or not body or "/" in body else "one"
            regex = "[" + ("^" if negate else "") + _class_members(body[1:] if negate else body) + "]"
        elif ch == "\\" and i + 1 < n:
            i += 1
            kind, regex = ("\\/" if pattern[i] == "/" else "one"), re.escape(pattern[i])
        else:
            kind, regex = "one", re.escape(ch)
        i += 1
        yield kind, regex, start, i


# characters of a class that Python's `re` reads (or warns it will read) as more than
# members: `\\` an escape (slimfile reads it as a member), `[` a nested set, `&&`, `||`, `~~`
# set operations (Python 3.7+ warns that they will be; escaped, they stay members)
_CLASS_MEMBERS_TO_ESCAPE = str.maketrans({ch: "\\" + ch for ch in "\\[&|~"})


def _class_members(body: str) -> str:
    return body.translate(_CLASS_MEMBERS_TO_ESCAPE)


def matches(pattern: str, path: str) -> bool:
    return compile_glob(pattern).match(clean_path(path)) is not None


def matches_or_parent(pattern: str, path: str) -> bool:
    """True when the path or one of its parent directories matches (Docker's rule: an
    excluded directory excludes everything in it)."""
    regex = compile_glob(pattern)
    parts = clean_path(path).split("/")
    return any(regex.match("/".join(parts[:k])) for k in range(len(parts), 0, -1))


def matches_leading(pattern: str, path: str) -> bool:
    """The pattern's first components match the path, so the pattern names it or something
    inside it: ``/app/*.pem`` names ``/app/key.pem``, ``src/*/*.py`` names ``src/app``."""
    parts = pattern.split("/")
    depth = path.count("/") + 1
    return len(parts) >= depth and matches("/".join(parts[:depth]), path)


def leading_folders(path: str, limit: int | None = None) -> Iterator[str]:
    """The folders ``path`` lies in, as its prefixes up to each ``/`` (``""`` first for an
    absolute path), the first ``limit`` of them."""
    slash = path.find("/")
    count = 0
    while slash >= 0 and (limit is None or count < limit):
        yield path[:slash]
        slash = path.find("/", slash + 1)
        count += 1


class DockerIgnore:
    """The patterns of a ``.dockerignore`` file: the last matching pattern wins, ``!`` re-includes."""

    def __init__(self, lines: list[str]) -> None:
        self.rules: list[tuple[str, bool]] = []
        self.written: list[tuple[str, int]] = []  # per rule: the line as written, its number
        for number, raw in enumerate(lines, start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            exclude = not line.startswith("!")
            pattern = clean_path(line if exclude else line[1:].strip())
            if pattern:
                self.rules.append((pattern, exclude))
                self.written.append((line, number))
        self._index: _RuleIndex | None = None

    @classmethod
    def from_text(cls, text: str) -> DockerIgnore:
        return cls(text.splitlines())

    def excludes(self, path: str) -> bool:
        return self.deciding_rule(path) is not None

    def deciding_rule(self, path: str) -> tuple[str, int] | None:
        """The line (as written, and its number) whose pattern keeps ``path`` out of the build,
        or None when the path is sent. Only the rules that can match the path are tried (see
        :class:`_RuleIndex`), in the file's order."""
        if self._index is None:
            self._index = _RuleIndex(self.rules)
        cleaned = clean_path(path)
        decided: int | None = None
        for index in self._index.candidates(cleaned):
            if (decided is not None) != self.rules[index][1] and self._index.matches_or_parent(index, cleaned):
                decided = index if self.rules[index][1] else None
        return None if decided is None else self.written[decided]


_NOT_LITERAL = re.compile(r"[*?\[\]\\]")
_OPENS_OR_ESCAPES = re.compile(r"[\[\]\\]")


class _RuleIndex:
    """The rules of a ``.dockerignore`` by a component every path they match has: a generated
    file of thousands of patterns would otherwise try each pattern on each file of the context
    (Docker's own matcher does). ``dir7/**/*.tmp`` can only match a path with a component
    ``dir7``, so a path is tried against the rules keyed by its own components and the rules
    without such a component. A .dockerignore made from a big ``.gitignore`` holds a hundred
    ``*.ext`` lines, which no component keys: those are keyed by the literal text they end
    with (``*.log`` only matches a path with a component ending in ``.log``), looked up for
    each ending of each component of the path up to the longest such text; and the rules that
    end with neither (``tmp*``) by the text they start with, which the path starts with. The
    rules left (``*``, ``**``, ``*tmp*``) are first tried all at once, as one regex that is the
    alternation of theirs, and one by one only on the paths it matches (150 ``*.ext`` rules
    over 50,000 files took 4 s, one regex per rule and file)."""

    def __init__(self, rules: list[tuple[str, bool]]) -> None:
        self.by_component: dict[str, list[int]] = {}
        self.by_ending: dict[str, list[int]] = {}
        self.by_start: dict[str, list[int]] = {}
        self.unkeyed: list[int] = []
        for index, (pattern, _exclude) in enumerate(rules):
            key = _whole_component(pattern)
            ending = _literal_ending(pattern) if key is None else ""
            start = _literal_start(pattern) if key is None and not ending else ""
            if key is not None:
                self.by_component.setdefault(key, []).append(index)
            elif ending:
                self.by_ending.setdefault(ending, []).append(index)
            elif start:
                self.by_start.setdefault(start, []).append(index)
            else:
                self.unkeyed.append(index)
        self._ending_lengths = sorted({len(ending) for ending in self.by_ending})
        self._start_lengths = sorted({len(start) for start in self.by_start})
        self.patterns = [pattern for pattern, _exclude in rules]
        self._regexes: dict[int, re.Pattern[str]] = {}
        self._any_unkeyed: re.Pattern[str] | None = self._alternation(self.unkeyed) if self.unkeyed else _NOTHING

    def candidates(self, cleaned: str) -> list[int]:
        """The rules that can match ``cleaned`` or a folder it is in, in the file's order."""
        parts = set(cleaned.split("/"))
        keyed = [self.by_component[part] for part in parts if part in self.by_component]
        if self.by_ending:
            keyed += self._by_endings(parts)
        if self.by_start:
            keyed += self._by_starts(cleaned)
        unkeyed = self.unkeyed if self._any_unkeyed is None or self._any_unkeyed.match(cleaned) else []
        if not keyed:
            return unkeyed
        return sorted(set(unkeyed).union(*keyed))

    def _by_starts(self, cleaned: str) -> list[list[int]]:
        """The rules keyed by how ``cleaned`` starts (no longer than it: a path meets at most
        as many look-ups as it has characters, whatever the rules)."""
        found = []
        for length in self._start_lengths:
            if length > len(cleaned):
                break
            indexes = self.by_start.get(cleaned[:length])
            if indexes is not None:
                found.append(indexes)
        return found

    def _by_endings(self, parts: set[str]) -> list[list[int]]:
        """The rules keyed by how one of ``parts`` ends."""
        found = []
        for part in parts:
            for length in self._ending_lengths:
                if length > len(part):
                    break
                indexes = self.by_ending.get(part[-length:])
                if indexes is not None:
                    found.append(indexes)
        return found

    def _alternation(self, indexes: list[int]) -> re.Pattern[str] | None:
        """One regex that matches a path when one of these rules matches it or a folder it is
        in; None when it cannot be made (every rule is then tried on its own). A rule whose
        own regex does not compile (a pattern Docker refuses) matches nothing and is left
        out: pasted into a bigger regex it could compile and mean something else."""
        valid = [self._regex(index).pattern for index in indexes if self._regex(index) is not _NOTHING]
        if not valid:
            return _NOTHING
        try:
            return _quiet_compile("|".join(f"(?:{piece})" for piece in valid))
        except (re.error, RecursionError, OverflowError):
            return None

    def matches_or_parent(self, index: int, cleaned: str) -> bool:
        """Rule ``index`` matches ``cleaned`` or one of its folders: the pattern matches the
        path up to a ``/`` or its end (one regex call, not one per folder)."""
        return self._regex(index).match(cleaned) is not None

    def _regex(self, index: int) -> re.Pattern[str]:
        """Rule ``index``'s pattern, matching a path up to a ``/`` or its end."""
        regex = self._regexes.get(index)
        if regex is None:
            regex = self._regexes[index] = _compile(_translate(self.patterns[index], _PATH_OR_FOLDER))
        return regex


def _literal_ending(pattern: str) -> str:
    """The plain text a cleaned pattern ends with, after its last ``*``, ``?``, ``[``, ``]``,
    ``\\`` or ``/`` (``".log"`` for ``*.log``, ``""`` for ``tmp*``): a path the pattern
    matches, or whose folder it matches, has a component that ends with it."""
    start = len(pattern)
    while start > 0 and pattern[start - 1] not in "*?[]\\/":
        start -= 1
    return pattern[start:]


def _literal_start(pattern: str) -> str:
    """The plain text a cleaned pattern starts with, before its first ``*``, ``?``, ``[``,
    ``]`` or ``\\`` (``"tmp"`` for ``tmp*``): a path the pattern matches, or whose folder
    it matches, starts with it."""
    end = 0
    while end < len(pattern) and pattern[end] not in "*?[]\\":
        end += 1
    return pattern[:end]


def _whole_component(pattern: str) -> str | None:
    """The last component of a cleaned pattern that is literal and matched as a whole
    component of the path (or None): the components before it open no ``[`` class and escape
    nothing, and the one right before it is ``**`` or does not end in ``**`` (``x**/lit``
    matches ``xlit``)."""
    parts = pattern.split("/")
    key = None
    for position, part in enumerate(parts):
        before = parts[position - 1] if position else ""
        if _OPENS_OR_ESCAPES.search(before):
            break
        if before.endswith("**") and before != "**":
            continue
        if not _NOT_LITERAL.search(part):
            key = part
    return key
