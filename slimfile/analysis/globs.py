"""Path patterns as Docker matches them (``.dockerignore``, the verify ignore list).

Go's ``filepath.Match`` plus ``**``: ``*`` and ``?`` never cross a ``/``, ``**`` matches any
number of directories, ``[...]`` is a character class and ``\\`` escapes. Patterns and paths are
relative and use ``/``; a leading ``/`` or ``./`` is dropped, as Docker does.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from functools import lru_cache


def clean_path(path: str) -> str:
    """``/usr//lib/./x`` -> ``usr/lib/x``; the root itself is ``""``."""
    cleaned = posixpath.normpath("/" + path.strip()).lstrip("/")
    return "" if cleaned == "." else cleaned


@lru_cache(maxsize=4096)
def compile_glob(pattern: str) -> re.Pattern[str]:
    """A regex that matches exactly the paths the pattern matches."""
    return re.compile(_translate(clean_path(pattern)) + r"\Z", re.DOTALL)


def _translate(pattern: str) -> str:
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):  # "**/" : zero or more whole directories
                i += 1
                out.append(r"(?:.*/)?")
            else:
                out.append(r".*")
            continue
        if ch == "*":
            out.append(r"[^/]*")
        elif ch == "?":
            out.append(r"[^/]")
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                out.append(re.escape(ch))
            else:
                body = pattern[i + 1 : end]
                negate = body.startswith(("^", "!"))
                body = body[1:] if negate else body
                out.append("[" + ("^" if negate else "") + body.replace("\\", "\\\\") + "]")
                i = end
        elif ch == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(ch))
        i += 1
    return "".join(out)


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

    @classmethod
    def from_text(cls, text: str) -> DockerIgnore:
        return cls(text.splitlines())

    def excludes(self, path: str) -> bool:
        return self.deciding_rule(path) is not None

    def deciding_rule(self, path: str) -> tuple[str, int] | None:
        """The line (as written, and its number) whose pattern keeps ``path`` out of the build,
        or None when the path is sent."""
        decided: int | None = None
        for index, (pattern, exclude) in enumerate(self.rules):
            if (decided is not None) != exclude and matches_or_parent(pattern, path):
                decided = index if exclude else None
        return None if decided is None else self.written[decided]
