"""What each layer of an image holds, read from ``docker save``: one tar per layer, streamed.

``docker save`` writes a tar of tars: every layer's own tar (``<id>/layer.tar`` from Docker's
classic store, ``blobs/sha256/<digest>`` in the OCI layout of newer engines), the image config
(JSON) and ``manifest.json``, which names the config and lists the layers oldest first. The
manifest comes after the layers, so each layer is read as it streams past, keyed by its name
in the archive, and put in order at the end.

A layer tar is a diff: the files it adds or changes, and *whiteouts* for what it deletes from
the layers below (``dir/.wh.name`` deletes ``dir/name``; ``dir/.wh..wh..opq`` hides everything
that lower layers had in ``dir``). Regular files are hashed as they stream past (duplicates
across layers are found by content); no file's content is kept, except the small hidden npm
lockfiles that say which packages are development dependencies.
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from slimfile.analysis.globs import clean_path
from slimfile.textformats import json_loads

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
NPM_HIDDEN_LOCKFILE = "node_modules/.package-lock.json"
_SMALL_MEMBER = 4 << 20  # archive members up to this size are read whole (configs, small layers)
_LOCKFILE_LIMIT = 32 << 20
_CHUNK = 1 << 20

# file kinds as the walk needs them: "dir" (merges with a lower dir), "link" (a hard link: no
# bytes of its own), anything else replaces what a lower layer had at that path
_KINDS = {
    tarfile.REGTYPE: "file",
    tarfile.AREGTYPE: "file",
    tarfile.CONTTYPE: "file",
    tarfile.LNKTYPE: "link",
    tarfile.DIRTYPE: "dir",
    tarfile.SYMTYPE: "symlink",
}


class SavedImageError(Exception):
    """The ``docker save`` stream is not an image archive slimfile can read."""


@dataclass(frozen=True, slots=True)
class FileRecord:
    size: int  # a regular file's bytes; a symlink's target length; 0 otherwise
    kind: str  # file, link, dir, symlink, other
    digest: bytes | None = None  # sha256 of a non-empty regular file


@dataclass
class LayerContents:
    """One layer's diff: what it adds (path -> record, paths relative to the root without a
    leading ``/``) and what it hides in the layers below."""

    name: str
    files: dict[str, FileRecord] = field(default_factory=dict)
    whiteouts: list[str] = field(default_factory=list)  # paths deleted from lower layers
    opaque: list[str] = field(default_factory=list)  # directories whose lower contents are hidden
    # the package directories that a hidden npm lockfile of this layer marks "dev": true,
    # per lockfile path
    dev_packages: dict[str, frozenset[str]] = field(default_factory=dict)

    @property
    def file_bytes(self) -> int:
        """Bytes of the regular files this layer adds (what its tar carries)."""
        return sum(r.size for r in self.files.values() if r.kind == "file")

    @property
    def symlink_bytes(self) -> int:
        return sum(r.size for r in self.files.values() if r.kind == "symlink")


@dataclass
class SavedImage:
    layers: list[LayerContents]  # oldest first, as the manifest lists them
    config: dict  # the image config: history (with empty_layer), rootfs, container config


def read_saved_image(stream: BinaryIO, on_layer: Callable[[str], None] | None = None) -> SavedImage:
    """Every layer of a ``docker save`` stream, in manifest order, with the image config."""
    layers: dict[str, LayerContents] = {}
    documents: dict[str, object] = {}
    try:
        with tarfile.open(fileobj=stream, mode="r|") as archive:
            for member in archive:
                if member.isreg():
                    _read_member(archive, member, layers, documents, on_layer)
    except tarfile.TarError as exc:
        raise SavedImageError(f"the image archive cannot be read: {exc}") from None
    return _ordered(layers, documents)


def _read_member(archive, member, layers, documents, on_layer) -> None:
    name = clean_path(member.name)
    handle = archive.extractfile(member)
    assert handle is not None
    source: BinaryIO = handle
    if member.size <= _SMALL_MEMBER:
        data = handle.read()
        if data[:1] in (b"{", b"["):
            try:
                documents[name] = json_loads(data)
                return
            except ValueError:
                pass
        source = io.BytesIO(data)
    if on_layer is not None and member.size > _SMALL_MEMBER:
        on_layer(name)
    try:
        layers[name] = read_layer(name, source)
    except tarfile.ReadError:
        return  # VERSION files, or a blob that is neither JSON nor a tar


def _ordered(layers: dict[str, LayerContents], documents: dict[str, object]) -> SavedImage:
    manifest = documents.get("manifest.json")
    if not isinstance(manifest, list) or not manifest or not isinstance(manifest[0], dict):
        raise SavedImageError("the image archive has no manifest.json")
    entry = manifest[0]
    config = documents.get(clean_path(str(entry.get("Config", ""))))
    if not isinstance(config, dict):
        raise SavedImageError(f"the image archive lacks its config {entry.get('Config')!r}")
    ordered = []
    for layer_name in entry.get("Layers") or []:
        layer = layers.get(clean_path(layer_name))
        if layer is None:
            raise SavedImageError(f"the image archive lacks the layer {layer_name!r}")
        ordered.append(layer)
    return SavedImage(ordered, config)


def read_layer(name: str, source: BinaryIO) -> LayerContents:
    """One layer tar (plain or compressed), streamed: records, whiteouts, npm dev packages."""
    layer = LayerContents(name)
    with tarfile.open(fileobj=source, mode="r|*") as archive:
        for member in archive:
            path = clean_path(member.name)
            if not path:
                continue
            directory, base = posixpath.split(path)
            if base.startswith(WHITEOUT):
                _whiteout(layer, directory, base)
                continue
            layer.files[path] = _record(archive, member, layer, path)
    return layer


def _whiteout(layer: LayerContents, directory: str, base: str) -> None:
    if base == OPAQUE:
        layer.opaque.append(directory)
    elif not base.startswith(WHITEOUT + WHITEOUT):  # .wh..wh.plnk and the like: aufs bookkeeping
        layer.whiteouts.append(posixpath.join(directory, base[len(WHITEOUT) :]))


def _record(archive: tarfile.TarFile, member: tarfile.TarInfo, layer: LayerContents, path: str) -> FileRecord:
    kind = _KINDS.get(member.type, "other")
    if kind == "symlink":
        return FileRecord(len(member.linkname.encode("utf-8", "surrogateescape")), kind)
    if kind != "file" or member.size == 0:
        return FileRecord(0, kind)
    handle = archive.extractfile(member)
    assert handle is not None
    if path.endswith(NPM_HIDDEN_LOCKFILE) and member.size <= _LOCKFILE_LIMIT:
        data = handle.read()
        layer.dev_packages[path] = dev_packages(path, data)
        return FileRecord(member.size, kind, hashlib.sha256(data).digest())
    sha = hashlib.sha256()
    while chunk := handle.read(_CHUNK):
        sha.update(chunk)
    return FileRecord(member.size, kind, sha.digest())


def dev_packages(lockfile_path: str, data: bytes) -> frozenset[str]:
    """The package directories (image paths) that npm's hidden lockfile marks as development
    dependencies: ``"dev": true`` means only devDependencies need them (npm 7 and later)."""
    try:
        packages = json_loads(data).get("packages") or {}
    except (ValueError, AttributeError):
        return frozenset()
    project = lockfile_path[: -len(NPM_HIDDEN_LOCKFILE)].rstrip("/")
    found = set()
    for key, spec in packages.items():
        if isinstance(spec, dict) and spec.get("dev") is True and key.startswith("node_modules/"):
            found.add(posixpath.join(project, key) if project else key)
    return frozenset(found)
