"""Filesystem comparison of two exported images: path, type, mode, owner and content hash.

Images are compared as flattened root filesystems (``docker export`` of a created, never started
container), read as a tar stream so that a large image never has to fit in memory. Modification
times are never compared: two builds of the same Dockerfile always differ in them.
"""

from __future__ import annotations

import hashlib
import tarfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import BinaryIO

from slimfile.analysis.globs import clean_path
from slimfile.verify.ignore_rules import IgnoreRules

_KINDS = {
    tarfile.REGTYPE: "file",
    tarfile.AREGTYPE: "file",
    tarfile.CONTTYPE: "file",
    tarfile.LNKTYPE: "file",  # a hard link is the same file as its target
    tarfile.DIRTYPE: "dir",
    tarfile.SYMTYPE: "symlink",
    tarfile.CHRTYPE: "char-device",
    tarfile.BLKTYPE: "block-device",
    tarfile.FIFOTYPE: "fifo",
}
_CHUNK = 1 << 20


@dataclass(frozen=True)
class FileEntry:
    path: str  # relative to the image root, no leading "/"
    kind: str
    mode: int  # permission bits, setuid/setgid/sticky included
    uid: int
    gid: int
    size: int = 0
    digest: str | None = None  # sha256 of a regular file's content
    link: str | None = None  # a symlink's target

    def to_dict(self) -> dict:
        data = {"kind": self.kind, "mode": f"{self.mode:04o}", "owner": f"{self.uid}:{self.gid}", "size": self.size}
        if self.digest:
            data["sha256"] = self.digest
        if self.link is not None:
            data["link"] = self.link
        return data


Manifest = dict[str, FileEntry]


def read_manifest(stream: BinaryIO) -> Manifest:
    """Every entry of an uncompressed tar stream, regular files hashed as they stream past."""
    manifest: Manifest = {}
    with tarfile.open(fileobj=stream, mode="r|") as archive:
        for member in archive:
            entry = _entry(archive, member, manifest)
            if entry is not None:
                manifest[entry.path] = entry
    return manifest


def _entry(archive: tarfile.TarFile, member: tarfile.TarInfo, seen: Manifest) -> FileEntry | None:
    path = clean_path(member.name)
    kind = _KINDS.get(member.type)
    if not path or kind is None:
        return None
    digest, size, link = None, 0, None
    if member.islnk():
        target = seen.get(clean_path(member.linkname))
        digest, size = (target.digest, target.size) if target else (None, 0)
    elif member.isreg():
        digest, size = _hash(archive, member), member.size
    elif member.issym():
        link = member.linkname
    return FileEntry(path, kind, member.mode & 0o7777, member.uid, member.gid, size, digest, link)


def _hash(archive: tarfile.TarFile, member: tarfile.TarInfo) -> str:
    sha = hashlib.sha256()
    handle = archive.extractfile(member)
    assert handle is not None
    while chunk := handle.read(_CHUNK):
        sha.update(chunk)
    return sha.hexdigest()


@dataclass(frozen=True)
class FileChange:
    path: str
    change: str  # "added", "removed" or "changed"
    category: str  # "app" (copied in by the Dockerfile) or "system" (everything else)
    fields: tuple[str, ...]  # for "changed": kind, mode, owner, content, link
    before: FileEntry | None
    after: FileEntry | None

    def describe(self) -> str:
        if self.change != "changed":
            return f"/{self.path} {self.change}"
        return f"/{self.path} changed ({', '.join(self.fields)})"

    def to_dict(self) -> dict:
        data = {"path": "/" + self.path, "change": self.change, "category": self.category}
        if self.fields:
            data["fields"] = list(self.fields)
        data["before"] = self.before.to_dict() if self.before else None
        data["after"] = self.after.to_dict() if self.after else None
        return data


@dataclass
class IgnoredTotals:
    """How much one ignored group holds in each image (what the fixes removed stays visible)."""

    reason: str
    files_before: int = 0
    bytes_before: int = 0
    files_after: int = 0
    bytes_after: int = 0


@dataclass
class FsDiff:
    changes: list[FileChange] = field(default_factory=list)
    ignored: dict[str, IgnoredTotals] = field(default_factory=dict)
    compared: int = 0  # paths compared (present in either image, not ignored)
    # differences that a second build of the original shows too: the build is not reproducible
    # there, so they say nothing about the rewrite (None: no control build was needed)
    nondeterministic: list[FileChange] | None = None
    # application files removed because an ignore file a fix creates keeps them out of the
    # build context: declared by that fix (``build-context``), not counted as changes
    excluded: list[FileChange] = field(default_factory=list)

    def by_category(self, category: str) -> list[FileChange]:
        return [c for c in self.changes if c.category == category]

    def to_dict(self) -> dict:
        return {
            "compared": self.compared,
            "app": [c.to_dict() for c in self.by_category("app")],
            "system": [c.to_dict() for c in self.by_category("system")],
            "nondeterministic": None if self.nondeterministic is None else [c.to_dict() for c in self.nondeterministic],
            "excluded_by_dockerignore": ["/" + c.path for c in self.excluded],
            "app_changes": len(self.by_category("app")),
            "system_changes": len(self.by_category("system")),
            "ignored": {
                name: {
                    "reason": t.reason,
                    "files_before": t.files_before,
                    "bytes_before": t.bytes_before,
                    "files_after": t.files_after,
                    "bytes_after": t.bytes_after,
                }
                for name, t in self.ignored.items()
            },
        }


def diff_manifests(
    before: Manifest,
    after: Manifest,
    rules: IgnoreRules,
    is_app_path: Callable[[str], bool] = lambda _path: False,
) -> FsDiff:
    """Differences between two manifests, paths in sorted order, ignored groups tallied."""
    result = FsDiff()
    for path in sorted(before.keys() | after.keys()):
        old, new = before.get(path), after.get(path)
        group = rules.ignored_group(path)
        if group is not None:
            _tally(result, group.name, group.reason, old, new)
            continue
        result.compared += 1
        change = _compare(path, old, new, rules.compares_content(path))
        if change is not None:
            category = "app" if is_app_path(path) else "system"
            result.changes.append(FileChange(path, change[0], category, change[1], old, new))
    return result


def _compare(path: str, old: FileEntry | None, new: FileEntry | None, with_content: bool):
    if old is None:
        return ("added", ())
    if new is None:
        return ("removed", ())
    fields = tuple(name for name in _changed_fields(old, new, with_content))
    return ("changed", fields) if fields else None


def _changed_fields(old: FileEntry, new: FileEntry, with_content: bool) -> Iterable[str]:
    if old.kind != new.kind:
        yield "kind"
    if old.mode != new.mode:
        yield "mode"
    if (old.uid, old.gid) != (new.uid, new.gid):
        yield "owner"
    if with_content and old.kind == new.kind == "file" and old.digest != new.digest:
        yield "content"
    if old.link != new.link:
        yield "link"


def _tally(result: FsDiff, name: str, reason: str, old: FileEntry | None, new: FileEntry | None) -> None:
    totals = result.ignored.setdefault(name, IgnoredTotals(reason))
    if old is not None:
        totals.files_before += 1
        totals.bytes_before += old.size
    if new is not None:
        totals.files_after += 1
        totals.bytes_after += new.size


def remove_noise(diff: FsDiff, control: FsDiff) -> FsDiff:
    """``diff`` without what ``control`` (the original against a second build of itself) also
    shows: the same path added or removed, or the same fields of a path changed."""
    noisy_fields: dict[str, set[str]] = {}
    noisy_presence: set[tuple[str, str]] = set()
    for change in control.changes:
        if change.change == "changed":
            noisy_fields.setdefault(change.path, set()).update(change.fields)
        else:
            noisy_presence.add((change.path, change.change))
    kept, noise = [], []
    for change in diff.changes:
        if change.change != "changed":
            (noise if (change.path, change.change) in noisy_presence else kept).append(change)
            continue
        remaining = tuple(f for f in change.fields if f not in noisy_fields.get(change.path, ()))
        if remaining:
            kept.append(FileChange(change.path, change.change, change.category, remaining, change.before, change.after))
        else:
            noise.append(change)
    return FsDiff(kept, diff.ignored, diff.compared, noise, diff.excluded)
