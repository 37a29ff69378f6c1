"""What a COPY or ADD takes from the build context: a whole folder (a *broad copy*, such as
``COPY . .``), or sources it names.

The cache-order passes move steps around the first broad copy of a stage; the
``.dockerignore`` pass proposes what a broad copy should leave out, and must never leave out
what a COPY names. Both ask here, so the two agree on what counts as a broad copy.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from slimfile.analysis.context import Context
from slimfile.analysis.globs import clean_path, matches_leading
from slimfile.analysis.installs import CopyMap
from slimfile.analysis.steps import Step, expand
from slimfile.syntax.gocompat import parse_words
from slimfile.syntax.nodes import Instruction

COPY_FLAGS_KEPT = ("chown", "chmod", "link")  # flags that do not change what a copy brings
_GLOB = re.compile(r"[*?\[]")


def _words(ctx: Context, node: Instruction) -> list[str]:
    return list(node.json) if node.json is not None else parse_words(node.args_text, ctx.dockerfile.escape)


def _remote(source: str) -> bool:
    return "://" in source or source.startswith("git@")


def broad_copy(ctx: Context, step: Step) -> CopyMap | None:
    """The folder a COPY/ADD brings from the build context, or None when it is not a copy of one
    folder (a file, a pattern, several sources, another stage, a URL, a heredoc)."""
    node = step.instruction
    if node.name not in ("COPY", "ADD") or node.heredocs or step.effects.unknown:
        return None
    if any(flag.name not in COPY_FLAGS_KEPT for flag in node.flags):
        return None
    words = _words(ctx, node)
    if len(words) != 2:
        return None
    source = expand(words[0].strip("\"'"), step.state.env)
    if source is None or _remote(source) or _GLOB.search(source):
        return None
    cleaned = clean_path(source)
    files = ctx.build_files
    if cleaned and (files is None or not files.is_dir(cleaned)):
        return None  # "." is always a folder; anything else must be seen to be one
    (destination,) = step.effects.writes
    return CopyMap(cleaned, destination)


@dataclass(frozen=True)
class NamedSource:
    """A source of a COPY/ADD from the build context: as written, and as a context path (or
    pattern), None when it uses a variable whose value is unknown."""

    written: str
    path: str | None

    @property
    def is_pattern(self) -> bool:
        return self.path is not None and _GLOB.search(self.path) is not None

    def names(self, entry: str) -> bool:
        """The source names the context entry or something inside it."""
        if self.path is None:
            return posixpath.basename(entry) in self.written.split("/")
        if self.is_pattern:
            return matches_leading(self.path, entry)
        return self.path == entry or self.path.startswith(entry + "/")


# how many leading folders of a source path are indexed; a deeper entry is found through its
# first ``INDEXED_DEPTH`` components and checked (keys are prefixes: all of a deep path's would
# cost its length per component)
INDEXED_DEPTH = 32


class NamedSourceIndex:
    """The first of many named sources that names a context entry (:meth:`NamedSource.names`),
    found by lookups, not by testing every source: the .dockerignore pass asks for every
    candidate entry of the context, and a long file names thousands of sources."""

    def __init__(self, sources: Sequence[NamedSource]) -> None:
        self._sources = sources
        self._inside: dict[str, int] = {}  # a literal path or a folder it lies in -> first source
        self._deep: dict[str, list[int]] = {}  # the first INDEXED_DEPTH components -> deeper sources
        self._by_name: dict[str, int] = {}  # a component of an unresolved source -> first source
        self._patterns: dict[str | None, dict[str, int]] = {}  # literal first component (None: any) -> pattern -> first
        for i, source in enumerate(sources):
            self._add(i, source)

    def _add(self, i: int, source: NamedSource) -> None:
        if source.path is None:
            for part in source.written.split("/"):
                self._by_name.setdefault(part, i)
        elif source.is_pattern:
            first = source.path.split("/", 1)[0]
            key = first if _GLOB.search(first) is None and "\\" not in first else None
            self._patterns.setdefault(key, {}).setdefault(source.path, i)
        else:
            prefix = ""
            for depth, part in enumerate(source.path.split("/")):
                if depth == INDEXED_DEPTH:
                    self._deep.setdefault(prefix, []).append(i)
                    return
                prefix = f"{prefix}/{part}" if prefix else part
                self._inside.setdefault(prefix, i)

    def first_naming(self, entry: str) -> int | None:
        """The index of the first source that names ``entry``, or None."""
        found = [self._inside.get(entry), self._by_name.get(posixpath.basename(entry))]
        parts = entry.split("/")
        if len(parts) > INDEXED_DEPTH:
            deep = self._deep.get("/".join(parts[:INDEXED_DEPTH]), ())
            found.append(next((i for i in deep if self._sources[i].names(entry)), None))
        for key in (parts[0], None):
            found.extend(i for i in self._patterns.get(key, {}).values() if self._sources[i].names(entry))
        return min((i for i in found if i is not None), default=None)


def context_sources(ctx: Context, node: Instruction, env: Mapping[str, str]) -> list[NamedSource]:
    """The build-context sources of a COPY/ADD; none for ``--from``, URLs and heredocs."""
    if node.name not in ("COPY", "ADD") or node.heredocs or node.flag("from") is not None:
        return []
    words = _words(ctx, node)
    sources = []
    for word in words[:-1]:
        written = word.strip("\"'") if node.json is None else word
        if _remote(written):
            continue
        value = expand(written, env)
        sources.append(NamedSource(written, None if value is None else clean_path(value)))
    return sources
