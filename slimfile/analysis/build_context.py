"""The build context as the builder sees it: the context directory minus ``.dockerignore``.

Passes that split or move steps decide from the files the build really sends (which manifests
exist, what a broad ``COPY . .`` brings, what ``.dockerignore`` leaves out), so they ask this
module, never the disk directly. Everything is read lazily and at most once per ``fix`` (the
engine carries one :class:`BuildContext` across rounds), and reads are bounded: a file over
``MAX_READ`` bytes or a context over ``MAX_ENTRIES`` entries is reported as unknown, never
half-read.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from slimfile.analysis.globs import DockerIgnore, clean_path, compile_glob, matches
from slimfile.files import read_limited

T = TypeVar("T")
MAX_READ = 16 * 1024 * 1024  # lockfiles can be large; nothing we parse is bigger
MAX_ENTRIES = 200_000  # a context walk stops here (a stray node_modules can hold millions)


class ContextTooLarge(Exception):
    """The context has more entries than a static analysis should walk."""


class IgnoreFileUnread(Exception):
    """The build's ignore file is there but slimfile does not read it (over ``MAX_READ``,
    unreadable): what the build sends is unknown, so the whole context is."""


def dockerignore_candidates(context: Path, dockerfile: Path | None = None) -> list[Path]:
    """Where BuildKit looks, in order: ``<Dockerfile>.dockerignore`` next to the Dockerfile
    wins over the context's ``.dockerignore``."""
    candidates = []
    if dockerfile is not None:
        candidates.append(dockerfile.with_name(dockerfile.name + ".dockerignore"))
    candidates.append(context / ".dockerignore")
    return candidates


def dockerignore_path(context: Path, dockerfile: Path | None = None, proposed: Path | None = None) -> Path | None:
    """The ignore file the build uses; ``proposed`` is a file a fix creates (it counts as
    there)."""
    for candidate in dockerignore_candidates(context, dockerfile):
        if candidate == proposed or candidate.is_file():
            return candidate
    return None


def load_dockerignore(context: Path, dockerfile: Path | None = None) -> DockerIgnore:
    """The rules of the build's ignore file (none without one). Raises
    :class:`IgnoreFileUnread`: a repository may hold a .dockerignore of gigabytes, which read
    whole would take the memory and time of the run."""
    path = dockerignore_path(context, dockerfile)
    if path is None:
        return DockerIgnore([])
    try:
        data = read_bytes_limited(path, MAX_READ)
    except OSError as exc:
        raise IgnoreFileUnread(f"slimfile cannot read {path.name}: {exc.strerror or exc}") from None
    if data is None:
        raise IgnoreFileUnread(f"{path.name} is over {_size(MAX_READ)}, more than slimfile reads")
    return DockerIgnore.from_text(data.decode("utf-8", "replace"))


def read_bytes_limited(path: Path, limit: int) -> bytes | None:
    """The file's bytes, or None when it holds more than ``limit`` (found without reading
    more than one byte past it, also when it grows or its size is not what ``stat`` says)."""
    with path.open("rb") as handle:
        if os.fstat(handle.fileno()).st_size > limit:  # said by its size: nothing to read
            return None
        data = read_limited(handle, limit)
    return data if len(data) <= limit else None


@dataclass
class ContextListing:
    """What the builder sends: files and directories of the context, relative, ignored ones left out."""

    files: list[str] = field(default_factory=list)
    dirs: list[str] = field(default_factory=list)


def walk_tree(root: Path) -> Iterator[tuple[str, list[str], list[str]]]:
    """``os.walk(root)``, top-down and without following symlinks, in the same order, but with
    a stack instead of recursion: Python 3.11's ``os.walk`` recurses once per level, and a
    context folders nested a thousand deep stopped the whole file with RecursionError. As with
    ``os.walk``, the caller may prune the directory names in place, and a directory that
    cannot be read is skipped."""
    stack = [os.fspath(root)]
    while stack:
        top = stack.pop()
        dirnames: list[str] = []
        filenames: list[str] = []
        try:
            with os.scandir(top) as entries:
                for entry in entries:
                    (dirnames if _is_dir(entry) else filenames).append(entry.name)
        except OSError:
            continue
        yield top, dirnames, filenames
        for name in reversed(dirnames):  # popped in the order given
            path = os.path.join(top, name)
            if not os.path.islink(path):
                stack.append(path)


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _size(count: int) -> str:
    mib = 1024 * 1024
    return f"{count // mib} MiB" if count % mib == 0 else f"{count:,} bytes"


def list_context(context: Path, ignore: DockerIgnore, limit: int | None = None) -> ContextListing:
    """Walk the context once (ignored directories are pruned when no ``!`` pattern could bring
    something inside them back). Raises :class:`ContextTooLarge` past ``limit`` entries."""
    listing = ContextListing()
    can_prune = all(exclude for _pattern, exclude in ignore.rules)  # no "!" re-includes
    seen = 0
    for root, dirnames, filenames in walk_tree(context):
        seen += len(dirnames) + len(filenames)
        if limit is not None and seen > limit:
            raise ContextTooLarge(f"the build context {context} has more than {limit} entries")
        rel_root = Path(root).relative_to(context).as_posix()
        rel_root = "" if rel_root == "." else rel_root
        kept = []
        for name in sorted(dirnames):
            rel = f"{rel_root}/{name}" if rel_root else name
            if not ignore.excludes(rel):
                listing.dirs.append(rel)
                kept.append(name)
            elif not can_prune:
                kept.append(name)
        dirnames[:] = kept
        for name in sorted(filenames):
            rel = f"{rel_root}/{name}" if rel_root else name
            if not ignore.excludes(rel):
                listing.files.append(rel)
    return listing


@dataclass
class Inventory:
    """Every path in the context directory, sent or not (what a proposed ``.dockerignore`` may
    leave out, what a secret scan reads). Some directories are seen but not entered: their
    name or a marker inside says what they are (``.git``, ``node_modules``, a virtualenv with
    its ``pyvenv.cfg``, a cache with ``CACHEDIR.TAG``), and walking them would cost more than
    the rest of the context together."""

    files: list[str] = field(default_factory=list)
    dirs: list[str] = field(default_factory=list)
    unentered: list[str] = field(default_factory=list)  # directories listed but not walked
    markers: dict[str, str] = field(default_factory=dict)  # unentered directory -> marker inside
    complete: bool = True  # False: the walk stopped at its limit (what was found is still true)

    _paths: PathIndex | None = field(default=None, init=False, repr=False, compare=False)

    def matching(self, pattern: str) -> list[str]:
        """The paths ``pattern`` matches, in inventory order: files, directories, unentered
        directories (see :class:`PathIndex`)."""
        if self._paths is None:
            self._paths = PathIndex((*self.files, *self.dirs, *self.unentered))
        return self._paths.matching(pattern)


class PathIndex:
    """Paths of the context as a tree, to find what a pattern matches (Docker's syntax,
    :func:`~slimfile.analysis.globs.matches`) without testing every path: a scan per COPY
    source made a file with many COPY patterns in a large context cost their product.

    The pattern is expanded one component at a time through the tree, and each pattern's
    answer is remembered. The paths must not change after the index is made."""

    def __init__(self, paths) -> None:
        self._order: dict[str, int] = {}
        self._children: dict[str, dict[str, None]] = {}  # folder -> its children (an ordered set)
        self._matched: dict[str, list[str]] = {}
        for path in paths:
            if path not in self._order:
                self._order[path] = len(self._order)
                self._add_child(path)

    def _add_child(self, path: str) -> None:
        """``path`` in its folder's children, and each folder in its own (a listing may name
        a file whose folder it does not list: an ignored folder with a re-included file)."""
        while path:
            folder = path.rpartition("/")[0]
            children = self._children.setdefault(folder, {})
            if path in children:
                return
            children[path] = None
            path = folder

    def matching(self, pattern: str) -> list[str]:
        """The paths ``pattern`` matches, in the order they were given."""
        known = self._matched.get(pattern)
        if known is None:
            known = self._matched[pattern] = self._expand(pattern)
        return known

    def _expand(self, pattern: str) -> list[str]:
        order = self._order
        parts = clean_path(pattern).split("/")
        if any("**" in part for part in parts):  # crosses any number of directories: scan
            return [path for path in order if matches(pattern, path)]
        level = [""]
        for part in parts:
            if _GLOB_CHARS.isdisjoint(part):
                level = [f"{folder}/{part}" if folder else part for folder in level]
                continue
            one = compile_glob(part)
            level = [child for folder in level for child in self._children.get(folder, ()) if one.match(child.rpartition("/")[2])]
        found = {path for path in level if path in order and matches(pattern, path)}
        return sorted(found, key=order.__getitem__)


_GLOB_CHARS = frozenset("*?[\\")


# markers inside a directory that say it is not the project's own: a virtualenv, a cache
# directory tagged per https://bford.info/cachedir/ (cargo's target/, pytest, mypy, ruff)
_OPAQUE_MARKERS = ("pyvenv.cfg", "CACHEDIR.TAG")


def walk_inventory(root: Path, unentered_names: frozenset[str], limit: int = MAX_ENTRIES) -> Inventory:
    """One walk of the context directory (symlinks are not followed), stopping after
    ``limit`` entries."""
    inventory = Inventory()
    dirs: dict[str, None] = {}  # in walk order; a directory found to be opaque leaves it
    seen = 0
    for current, dirnames, filenames in walk_tree(root):
        rel_root = Path(current).relative_to(root).as_posix()
        rel_root = "" if rel_root == "." else rel_root
        marker = next((m for m in _OPAQUE_MARKERS if m in filenames), None) if rel_root else None
        if marker is not None:
            del dirs[rel_root]
            inventory.unentered.append(rel_root)
            inventory.markers[rel_root] = marker
            dirnames[:] = []
            continue
        seen += len(dirnames) + len(filenames)
        if seen > limit:
            inventory.complete = False
            break
        kept = []
        for name in sorted(dirnames):
            rel = f"{rel_root}/{name}" if rel_root else name
            if name in unentered_names:
                inventory.unentered.append(rel)
            else:
                dirs[rel] = None
                kept.append(name)
        dirnames[:] = kept
        inventory.files.extend(f"{rel_root}/{name}" if rel_root else name for name in sorted(filenames))
    inventory.dirs = list(dirs)
    return inventory


def _stat_kind(path: Path) -> str | None:
    """What is at ``path`` (symlinks followed): "file", "dir", "other", or None."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):  # missing, a dangling or looping link, a NUL in the name
        return None
    return "file" if stat.S_ISREG(mode) else "dir" if stat.S_ISDIR(mode) else "other"


class BuildContext:
    """One build context: ``root`` and the ``.dockerignore`` that applies to it.

    Paths are context-relative with ``/`` separators (``"requirements.txt"``,
    ``"web/package.json"``); a leading ``./`` or ``/`` is dropped, as the builder does.
    """

    def __init__(self, root: Path, dockerfile: Path | None = None, proposed: tuple[Path, str] | None = None) -> None:
        """``proposed``: an ignore file a fix creates (absolute path, text), seen as if written."""
        self.root = root
        self.dockerfile = dockerfile
        self.ignore_file = dockerignore_path(root, dockerfile, proposed[0] if proposed else None)
        self.proposed = proposed is not None and self.ignore_file == proposed[0]
        if self.proposed:
            self.ignore = DockerIgnore.from_text(proposed[1])
        else:
            self.ignore = load_dockerignore(root, dockerfile)
        self._texts: dict[str, str | None] = {}
        self._kinds: dict[str, tuple[str | None, bool]] = {}  # see _kind
        self._listing: ContextListing | None = None
        self._listing_error: str | None = None
        self._sent: PathIndex | None = None  # the listing's paths, for ``glob``
        self._derived: dict[tuple[str, str], object] = {}  # see derived

    def __repr__(self) -> str:
        return f"BuildContext({str(self.root)!r})"

    def _path(self, rel: str) -> Path:
        return self.root / clean_path(rel)

    def ignored(self, rel: str) -> bool:
        """True when ``.dockerignore`` keeps ``rel`` out of the build."""
        cleaned = clean_path(rel)
        return bool(cleaned) and self.ignore.excludes(cleaned)

    def on_disk(self, rel: str) -> bool:
        """The path exists in the directory, whether or not the build sends it."""
        return self._kind(rel)[0] is not None

    def is_file(self, rel: str) -> bool:
        """A regular file the build sends (symlinks count as what they point to)."""
        kind, ignored = self._kind(rel)
        return kind == "file" and not ignored

    def is_dir(self, rel: str) -> bool:
        kind, ignored = self._kind(rel)
        return kind == "dir" and not ignored

    def exists(self, rel: str) -> bool:
        kind, ignored = self._kind(rel)
        return kind is not None and not ignored

    def _kind(self, rel: str) -> tuple[str | None, bool]:
        """("file", "dir", "other" or None when missing; whether ``.dockerignore`` keeps it
        out), looked up once per path: the analyses ask about the same few files at every
        step that could have copied them (a stat and an ignore match each time before)."""
        cleaned = clean_path(rel)
        found = self._kinds.get(cleaned)
        if found is None:
            found = self._kinds[cleaned] = (_stat_kind(self._path(cleaned)), self.ignored(cleaned))
        return found

    def derived(self, key: tuple[str, str], make: Callable[[], T]) -> T:
        """A fact made from the context's files (a parsed package.json), made once per
        context: each install of a long file asked again, and parsed the file again."""
        if key not in self._derived:
            self._derived[key] = make()
        return self._derived[key]  # type: ignore[return-value]

    def read_text(self, rel: str) -> str | None:
        """The text of a file the build sends, or None (missing, ignored, unreadable, too big).
        Each file is read once."""
        key = clean_path(rel)
        if key not in self._texts:
            self._texts[key] = self._read(key)
        return self._texts[key]

    def why_unread(self, rel: str) -> str:
        """Why :meth:`read_text` gives None for ``rel``, to finish "a file ...": a file over
        ``MAX_READ`` or one ``.dockerignore`` leaves out is not "missing"."""
        kind, ignored = self._kind(rel)
        if kind is None:
            return "missing from the build context"
        if ignored:
            return "that .dockerignore leaves out of the build context"
        if kind != "file":
            return "that is not a regular file"
        try:
            size = self._path(clean_path(rel)).stat().st_size
        except OSError as exc:
            return f"slimfile cannot read ({exc.strerror})"
        if size > MAX_READ:
            return f"over {_size(MAX_READ)}, more than slimfile reads"
        return "slimfile cannot read"

    def _read(self, key: str) -> str | None:
        if not self.is_file(key):
            return None
        try:
            data = read_bytes_limited(self._path(key), MAX_READ)
        except OSError:
            return None
        return data.decode("utf-8", "replace") if data is not None else None

    def listing(self) -> ContextListing:
        """Every file and directory the build sends. Raises :class:`ContextTooLarge`."""
        if self._listing_error is not None:
            raise ContextTooLarge(self._listing_error)
        if self._listing is None:
            try:
                self._listing = list_context(self.root, self.ignore, MAX_ENTRIES)
            except ContextTooLarge as exc:
                self._listing_error = str(exc)
                raise
        return self._listing

    def glob(self, pattern: str) -> list[str]:
        """Sent paths (files and directories) that a COPY source pattern names, Docker's way."""
        cleaned = clean_path(pattern)
        if not any(ch in cleaned for ch in "*?["):
            return [cleaned] if self.exists(cleaned) else []
        if self._sent is None:
            listing = self.listing()
            self._sent = PathIndex((*listing.dirs, *listing.files))
        return self._sent.matching(cleaned)

    def entries(self, directory: str = "") -> list[str]:
        """Names directly inside a directory of the context (ignored ones included: callers
        that propose a ``.dockerignore`` need to see what it would leave out)."""
        try:
            return sorted(os.listdir(self._path(directory)))
        except OSError:
            return []
