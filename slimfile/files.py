"""Finding, reading and writing Dockerfiles without ever losing a byte.

Policy for odd input: bytes are preserved exactly (invalid UTF-8 included: the parser works on
bytes, so such a file is processed, and every byte a fix does not touch is written back as it
was); files with NUL bytes are binary and refused; files over ``MAX_BYTES`` are refused. A
refused file named on the command line is an error (exit 2); one found by walking a directory
is reported as skipped and the run goes on (its exit code is not affected).
A directory walk never stops on a bad entry: symlink loops, links back to an ancestor,
unreadable directories and files that vanish meanwhile are reported as warnings and skipped.
Writes go to a temporary file in the same directory, then ``os.replace``: a crash leaves either
the old file or the new one, never half of each. A file with several hard links is written in
place instead (as ruff and black do), so that every name keeps seeing one file; the new text is
written beside it first, and stays there if the in-place write is cut short.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import re
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Iterable, Iterator

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
# names that match the patterns above but are not Dockerfiles: ignore files, docs, editor and
# patch leftovers, and templates a tool renders into a Dockerfile (``Dockerfile.j2``, the
# official images' ``Dockerfile.template``): docker cannot build them, their `{{ ... }}` lines
# were SF001 errors, and a fix merging RUNs across a template's conditionals would change it
TEMPLATES = ("j2", "jinja", "jinja2", "tmpl", "tpl", "template", "gotmpl", "erb", "mustache", "hbs", "njk", "in")
NOT_DOCKERFILES = (
    "*.dockerignore", "Dockerfile.dockerignore", "*.md", "*.orig", "*.rej", "*.swp", "*~",
    *(f"*.{suffix}" for suffix in TEMPLATES),
)

STDIN = "-"


class InputError(DockerfileError):
    """A path that cannot be read as a Dockerfile (missing, a directory, binary, too large)."""

    skip_when_walked = False  # found by walking a directory, the file is skipped with a warning


class NotADockerfile(InputError):
    """A file that is readable but cannot be a Dockerfile (binary, or far too large)."""

    skip_when_walked = True


class FileVanished(InputError):
    """A file that was there when the walk found it and is gone when it is read."""

    skip_when_walked = True


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
        raise FileVanished("no such file or directory", path=path) from None
    except OSError as exc:
        raise InputError(exc.strerror or str(exc), path=path) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError("is a directory, expected a Dockerfile", path=path)
    if st.st_size > MAX_BYTES:
        raise NotADockerfile(_TOO_LARGE, path=path)
    try:
        with p.open("rb") as stream:
            data = read_limited(stream)
    except FileNotFoundError:
        raise FileVanished("no such file or directory", path=path) from None
    except OSError as exc:
        raise InputError(exc.strerror or str(exc), path=path) from None
    check_input(data, path)
    return data


_TOO_LARGE = f"file is larger than {MAX_BYTES // (1024 * 1024)} MiB; not a Dockerfile?"


def read_limited(stream: BinaryIO, limit: int = MAX_BYTES) -> bytes:
    """At most one byte more than ``limit`` (a Dockerfile's by default): enough to tell that
    an input is too large without reading all of it (standard input, ``/dev/zero``, a file
    that grows, whose size the file system does not say). Every file slimfile reads whole
    from a repository under review (Dockerfiles, configuration, ignore files, the build
    context's files) is read through this."""
    return stream.read(limit + 1)


def check_input(data: bytes, path: str) -> None:
    """Refuse what is not a Dockerfile: more than ``MAX_BYTES``, or binary."""
    if len(data) > MAX_BYTES:
        raise NotADockerfile(_TOO_LARGE, path=path)
    check_not_binary(data, path)


def check_not_binary(data: bytes, path: str) -> None:
    nul = data.find(b"\0")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise NotADockerfile("binary file (contains a NUL byte); not a Dockerfile", line, path=path)


def write_atomic(path: str, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically, keeping the file's permission bits and, where
    allowed, its owner. A symbolic link is written through, as ruff and black do: the file it
    points to gets the bytes and the link stays (replaced, the link became a copy and the file
    it named kept the old text)."""
    target = Path(os.path.realpath(path))
    try:
        before = target.stat()
    except FileNotFoundError:
        before = None
    tmp = _written_beside(target, data)
    if before is not None and before.st_nlink > 1 and os.access(target, os.W_OK):
        _write_in_place(target, data)  # a replace would split the hard links into two files
        _remove(tmp)
        return
    try:
        if before is not None:
            os.chmod(tmp, stat.S_IMODE(before.st_mode))
            _keep_owner(tmp, before)
        os.replace(tmp, target)
    except BaseException:
        _remove(tmp)
        raise


def _write_in_place(target: Path, data: bytes) -> None:
    """The same inode gets ``data``: its mode, owner and every hard link to it stay."""
    with open(target, "r+b") as handle:
        handle.write(data)
        handle.truncate()
        handle.flush()
        os.fsync(handle.fileno())


def _keep_owner(tmp: str, before: os.stat_result) -> None:
    """The replaced file's owner and group on the new one (root fixing a user's Dockerfile must
    not hand it to root); a user who may not give files away keeps what the system allows."""
    if (before.st_uid, before.st_gid) == (os.getuid(), os.getgid()):
        return
    try:
        os.chown(tmp, before.st_uid, before.st_gid)
    except OSError:
        pass


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


@dataclass(frozen=True)
class WalkWarning:
    """An entry the walk could not, or would not, go into; the walk goes on without it."""

    path: str
    reason: str
    action: str = "skipped"  # or "not followed", for a link

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}; {self.action}"


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
) -> Iterator[Discovered | InputError | WalkWarning]:
    """Files named on the command line, and Dockerfiles found under named directories.

    A path named on the command line is read wherever it points (a symlink to a file is that
    file). Walks follow symlinks only inside the walked directory (see :func:`_walk`);
    ``.gitignore`` files and exclude patterns (gitignore syntax) prune the walk: ``exclude``
    anchored at the walk root, or per directory from ``exclude_for`` (hierarchical
    configuration). A file reached twice (two paths, a symlink) is yielded once. Problems are
    yielded, not raised, so one bad path never stops the others: an :class:`InputError` for a
    path named on the command line (an error, also for a directory that cannot be read), a
    :class:`WalkWarning` for an entry found by walking that the walk skipped.
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
            top = os.path.normpath(raw)
            for item in _walk(raw, os.path.realpath(p), matcher):
                if isinstance(item, WalkWarning):
                    # the directory named on the command line itself is an error, like a missing path
                    yield InputError(item.reason, path=raw) if item.path == top else item
                elif item[2] not in seen:
                    seen.add(item[2])
                    yield Discovered(item[0], False, item[1])
            continue
        if force_exclude:
            matcher = IgnoreMatcher(os.getcwd(), exclude, respect_gitignore=False, exclude_for=exclude_for)
            if matcher.excluded_with_parents(p):
                continue
        key = _identity(raw) or os.path.realpath(raw)
        if key not in seen:
            seen.add(key)
            yield Discovered(raw, True, os.path.dirname(os.path.abspath(raw)))


Identity = tuple[int, int]


def _walk(top: str, root: str, matcher) -> Iterator[tuple[str, str, Identity] | WalkWarning]:
    """(display path, absolute directory, file identity) of each Dockerfile under ``top``, and a
    :class:`WalkWarning` for each entry it skips for a reason worth telling.

    Depth-first, entries in name order (so output order never depends on the file system). It
    visits every entry of a monorepo, so it works on strings with absolute paths carried along
    (no getcwd per entry) and takes file identities from the directory listing (no stat).

    Symlinks: one whose target lies outside ``root`` is never followed (a walk stays in the tree
    it was given). A directory symlink inside is followed unless its directory was visited
    already (a second path to the same files: silently once) or is an ancestor of the link (a
    loop: warned); a symlink loop or an unreadable directory is warned about and skipped.
    """
    root_prefix = root.rstrip(os.sep) + os.sep
    # (display path, absolute path, identities of the directories above it)
    stack: list[tuple[str, str, tuple[Identity, ...]]] = [(os.path.normpath(top), os.path.abspath(top), ())]
    visited: set[Identity] = set()
    while stack:
        directory, absolute, ancestors = stack.pop()
        try:
            st = os.stat(absolute)
        except OSError as exc:
            yield WalkWarning(directory, _os_reason(exc, "directory"))
            continue
        identity = (st.st_dev, st.st_ino)
        if identity in visited:
            continue  # a second path to a directory walked already
        visited.add(identity)
        matcher.enter(absolute)
        try:
            with os.scandir(absolute) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except OSError as exc:
            yield WalkWarning(directory, _os_reason(exc, "directory"))
            continue
        inside = (*ancestors, identity)
        subdirs = []
        for entry in entries:
            name = entry.name
            path = name if directory == os.curdir else os.path.join(directory, name)  # "Dockerfile", not "./Dockerfile"
            if entry.is_symlink():
                target = _follow(entry, path, root, root_prefix)
                if target is None:
                    continue
                if isinstance(target, WalkWarning):
                    yield target
                    continue
                is_dir, key = target
                if is_dir and key in inside:
                    yield WalkWarning(path, "symbolic link to a directory that contains it (a loop)", "not followed")
                    continue
                if is_dir and key in visited:
                    continue
            else:
                try:
                    is_dir = entry.is_dir(follow_symlinks=False)
                except OSError as exc:
                    yield WalkWarning(path, _os_reason(exc, "entry"))
                    continue
                key = (st.st_dev, entry.inode())
            if is_dir:
                if name == ".git" or matcher.ignored_absolute(entry.path, is_dir=True):
                    continue
                subdirs.append((path, entry.path, inside))
            elif is_dockerfile_name(name) and _is_file(entry):
                if not matcher.ignored_absolute(entry.path, is_dir=False):
                    yield path, absolute, key
        stack.extend(reversed(subdirs))


def _follow(entry: os.DirEntry, path: str, root: str, root_prefix: str) -> tuple[bool, Identity] | WalkWarning | None:
    """Where a symlink leads: (is a directory, identity); ``None`` when it leads out of the
    root (not followed, by design) or nowhere (a dangling link, worth a warning only when it
    has a Dockerfile's name); or a warning."""
    resolved = os.path.realpath(entry.path)
    if resolved != root and not resolved.startswith(root_prefix):
        return None
    try:
        st = os.stat(entry.path)
    except FileNotFoundError:
        return WalkWarning(path, "broken symbolic link") if is_dockerfile_name(entry.name) else None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return WalkWarning(path, "symlink loop (too many levels of symbolic links)", "not followed")
        return WalkWarning(path, _os_reason(exc, "symbolic link"))
    return stat.S_ISDIR(st.st_mode), (st.st_dev, st.st_ino)


def _is_file(entry: os.DirEntry) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False


def _os_reason(exc: OSError, what: str) -> str:
    if isinstance(exc, FileNotFoundError):
        return f"{what} vanished during the walk"
    if exc.errno == errno.ELOOP:
        return "symlink loop (too many levels of symbolic links)"
    return f"cannot read {what}: {exc.strerror or exc}"
