"""Finding, reading and writing Dockerfiles without ever losing a byte.

Policy for odd input: bytes are preserved exactly (invalid UTF-8 included: the parser works on
bytes, so such a file is processed, and every byte a fix does not touch is written back as it
was); files with NUL bytes are binary and refused; files over ``MAX_BYTES`` are refused. A
refused file named on the command line is an error (exit 2); one found by walking a directory
is reported as skipped and the run goes on (its exit code is not affected).
Writes go to a temporary file in the same directory, then ``os.replace``: a crash leaves either
the old file or the new one, never half of each.
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

from slimfile.syntax.errors import DockerfileError

if TYPE_CHECKING:
    from slimfile.ignore import ExcludeProvider

MAX_BYTES = 4 * 1024 * 1024  # no real Dockerfile comes near this

DOCKERFILE_PATTERNS = (
    "Dockerfile",
    "Containerfile",
    "*.Dockerfile",
    "*.dockerfile",
    "Dockerfile.*",
    "Containerfile.*",
    "dockerfile",
    "containerfile",
)
# names that match the patterns above but are not Dockerfiles
NOT_DOCKERFILES = ("*.dockerignore", "Dockerfile.dockerignore", "*.md", "*.orig", "*.rej", "*.swp", "*~")

STDIN = "-"


class InputError(DockerfileError):
    """A path that cannot be read as a Dockerfile (missing, a directory, binary, too large)."""


class NotADockerfile(InputError):
    """A file that is readable but cannot be a Dockerfile (binary, or far too large)."""


_DOCKERFILE_RE = re.compile("|".join(fnmatch.translate(p) for p in DOCKERFILE_PATTERNS))
_NOT_DOCKERFILE_RE = re.compile("|".join(fnmatch.translate(p) for p in NOT_DOCKERFILES))


def is_dockerfile_name(name: str) -> bool:
    """Case-sensitive, as the patterns are written (``Dockerfile.*`` but not ``DOCKERFILE``)."""
    return _DOCKERFILE_RE.match(name) is not None and _NOT_DOCKERFILE_RE.match(name) is None


def read_dockerfile(path: str) -> bytes:
    """Read a Dockerfile, refusing what is not one with an :class:`InputError`."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise InputError("no such file or directory", path=path) from None
    except OSError as exc:
        raise InputError(exc.strerror or str(exc), path=path) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError("is a directory, expected a Dockerfile", path=path)
    if st.st_size > MAX_BYTES:
        raise NotADockerfile(f"file is larger than {MAX_BYTES // (1024 * 1024)} MiB; not a Dockerfile?", path=path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise InputError(exc.strerror or str(exc), path=path) from None
    check_not_binary(data, path)
    return data


def check_not_binary(data: bytes, path: str) -> None:
    nul = data.find(b"\0")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise NotADockerfile("binary file (contains a NUL byte); not a Dockerfile", line, path=path)


def write_atomic(path: str, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically, keeping the file's permission bits."""
    target = Path(path)
    mode = None
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        pass
    tmp = _written_beside(target, data)
    try:
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        _remove(tmp)
        raise


def create_atomic(path: str, data: bytes) -> None:
    """Create ``path`` with ``data``, atomically and never over an existing file: the bytes go
    to a temporary file that is then hard-linked in place (the link fails if ``path`` exists,
    ``FileExistsError``). The new file gets the usual permissions (0666 minus the umask)."""
    target = Path(path)
    tmp = _written_beside(target, data)
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        try:
            os.link(tmp, target)
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links: exclusive create, then the bytes
            _create_exclusively(target, data)
    finally:
        _remove(tmp)


def _written_beside(target: Path, data: bytes) -> str:
    """A temporary file in ``target``'s folder holding ``data``, flushed to disk."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".slimfile.tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        _remove(tmp)
        raise
    return tmp


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _create_exclusively(target: Path, data: bytes) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@dataclass(frozen=True)
class Discovered:
    path: str
    explicit: bool  # named on the command line (always processed, whatever its name)
    directory: str = ""  # absolute directory of the file (saves the caller a getcwd per file)


def _identity(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def discover(
    paths: Iterable[str],
    *,
    exclude: Iterable[str] = (),
    respect_gitignore: bool = True,
    force_exclude: bool = False,
    exclude_for: "ExcludeProvider | None" = None,
) -> Iterator[Discovered | InputError]:
    """Files named on the command line, and Dockerfiles found under named directories.

    Directories are walked without following symlinks out of the root; ``.gitignore`` files
    and exclude patterns (gitignore syntax) prune the walk: ``exclude`` anchored at the walk
    root, or per directory from ``exclude_for`` (hierarchical configuration). A file reached
    twice (two paths, a symlink) is yielded once. Problems are yielded, not raised, so one bad
    path never stops the others.
    """
    from slimfile.ignore import IgnoreMatcher

    exclude = tuple(exclude)
    seen: set[tuple[int, int] | str] = set()
    for raw in paths:
        if raw == STDIN:
            yield Discovered(STDIN, True)
            continue
        p = Path(raw)
        if not p.exists() and not p.is_symlink():
            yield InputError("no such file or directory", path=raw)
            continue
        if p.is_dir():
            matcher = IgnoreMatcher(os.path.abspath(p), exclude, respect_gitignore, exclude_for)
            for found, directory, key in _walk(raw, str(p.resolve()), matcher):
                if key not in seen:
                    seen.add(key)
                    yield Discovered(found, False, directory)
            continue
        if force_exclude:
            matcher = IgnoreMatcher(os.getcwd(), exclude, respect_gitignore=False, exclude_for=exclude_for)
            if matcher.excluded_with_parents(p):
                continue
        key = _identity(raw) or os.path.realpath(raw)
        if key not in seen:
            seen.add(key)
            yield Discovered(raw, True, os.path.dirname(os.path.abspath(raw)))


def _walk(top: str, root: str, matcher) -> Iterator[tuple[str, str, tuple[int, int]]]:
    """(display path, absolute directory, file identity) of each Dockerfile under ``top``.

    Depth-first, entries in name order (so output order never depends on the file system). It
    visits every entry of a monorepo, so it works on strings with absolute paths carried along
    (no getcwd per entry) and takes file identities from the directory listing (no stat).
    """
    root_prefix = root.rstrip(os.sep) + os.sep
    stack = [(os.path.normpath(top), os.path.abspath(top))]
    visited: set[tuple[int, int]] = set()
    while stack:
        directory, absolute = stack.pop()
        try:
            st = os.stat(absolute)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in visited:
            continue  # a symlink loop or a second path to the same directory
        visited.add((st.st_dev, st.st_ino))
        matcher.enter(absolute)
        try:
            with os.scandir(absolute) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except OSError:
            continue
        subdirs = []
        for entry in entries:
            name = entry.name
            path = name if directory == os.curdir else os.path.join(directory, name)  # "Dockerfile", not "./Dockerfile"
            entry_absolute = entry.path
            key = (st.st_dev, entry.inode())
            if entry.is_symlink():
                resolved = os.path.realpath(entry_absolute)
                if resolved != root and not resolved.startswith(root_prefix):
                    continue  # never follow a symlink out of the root
                key = _identity(entry_absolute) or key
            if entry.is_dir():
                if name == ".git" or matcher.ignored_absolute(entry_absolute, is_dir=True):
                    continue
                subdirs.append((path, entry_absolute))
            elif is_dockerfile_name(name) and entry.is_file():
                if not matcher.ignored_absolute(entry_absolute, is_dir=False):
                    yield path, absolute, key
        stack.extend(reversed(subdirs))
