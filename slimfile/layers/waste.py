"""Waste in an image, measured from its layers' contents.

The layers are replayed oldest first, as overlayfs stacks them. Before a layer's files go on,
its whiteouts and opaque directories hide what lower layers had there: those bytes are still
shipped, in the layer that wrote them ("deleted by a later layer"). A file replaced by a later
layer's file at the same path is "overwritten". What is left visible at the end is the final
filesystem; each of its files is checked against the waste categories (caches, toolchains,
docs, VCS folders, npm dev packages...) and, failing that, against the files of earlier layers
with the same content ("duplicate").

Cost: every entry is placed once and hidden at most once (a children index finds a deleted
directory's subtree without scanning), so the walk is linear in the image's file count.
"""

from __future__ import annotations

import heapq
import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from slimfile.layers.catalog import Catalog, Category, Classifier
from slimfile.layers.contents import FileRecord, LayerContents

EXAMPLES = 3  # largest paths kept per waste item


@dataclass
class WasteBucket:
    """Waste of one kind and category that one layer added (and, for hidden bytes and
    duplicates, the other layer involved)."""

    layer: int  # index of the layer that holds the bytes (oldest first)
    kind: str  # "deleted", "overwritten", "present" or "duplicate"
    category: Category
    other_layer: int | None = None  # the layer that hid the bytes / that has the first copy
    bytes: int = 0
    files: int = 0
    _largest: list[tuple[int, str]] = field(default_factory=list, repr=False)

    def add(self, path: str, size: int) -> None:
        self.bytes += size
        self.files += 1
        entry = (size, path)
        if len(self._largest) < EXAMPLES:
            heapq.heappush(self._largest, entry)
        elif entry > self._largest[0]:
            heapq.heapreplace(self._largest, entry)

    @property
    def examples(self) -> list[tuple[str, int]]:
        """The largest paths, biggest first (``/``-rooted)."""
        return [("/" + path, size) for size, path in sorted(self._largest, reverse=True)]


@dataclass
class WasteResult:
    buckets: list[WasteBucket]
    final_bytes: int  # bytes of the files left visible (the final filesystem)
    final_files: int
    hidden_bytes: int  # bytes shipped in a layer but hidden by a later one

    @property
    def waste_bytes(self) -> int:
        return sum(b.bytes for b in self.buckets)


@dataclass(slots=True)
class _Placed:
    layer: int
    record: FileRecord


class _Walk:
    def __init__(self, catalog: Catalog, classifier: Classifier) -> None:
        self.catalog = catalog
        self.classifier = classifier
        self.visible: dict[str, _Placed] = {}
        self.children: dict[str, set[str]] = {}
        self.buckets: dict[tuple, WasteBucket] = {}
        self.hidden_bytes = 0

    # placing and hiding ---------------------------------------------------------------------

    def apply(self, index: int, layer: LayerContents) -> None:
        for path in layer.whiteouts:
            self._hide_tree(path, index, "deleted")
        for directory in layer.opaque:
            for child in list(self.children.get(directory, ())):
                self._hide_tree(child, index, "deleted")
        for path, record in layer.files.items():
            self._place(index, path, record)

    def _place(self, index: int, path: str, record: FileRecord) -> None:
        old = self.visible.get(path)
        if record.kind != "dir" and path in self.children:
            self._hide_tree(path, index, "deleted")  # a file or link replaces a directory
        elif old is not None:
            if old.record.kind == "dir" and record.kind == "dir":
                return  # directories merge; the lower one stays the owner
            if old.layer != index:
                self._hidden(path, old, index, "overwritten")
        self.visible[path] = _Placed(index, record)
        self._link(path)

    def _link(self, path: str) -> None:
        """Enter ``path`` under its parent, and the parent under its own, up to the first one
        already there (a tar need not list every directory): each link is made once."""
        while path:
            parent = posixpath.dirname(path)
            siblings = self.children.setdefault(parent, set())
            if path in siblings:
                return
            siblings.add(path)
            path = parent

    def _hide_tree(self, root: str, by_layer: int, kind: str) -> None:
        """Hide ``root`` and everything under it (a whiteout, an opaque directory, a file
        that replaces a directory)."""
        siblings = self.children.get(posixpath.dirname(root))
        if siblings is not None:
            siblings.discard(root)
        pending = [root]
        while pending:
            path = pending.pop()
            placed = self.visible.pop(path, None)
            if placed is not None:
                self._hidden(path, placed, by_layer, kind)
            pending.extend(self.children.pop(path, ()))

    def _hidden(self, path: str, placed: _Placed, by_layer: int, kind: str) -> None:
        size = _bytes(placed.record)
        if size == 0:
            return
        self.hidden_bytes += size
        category = self.classifier.classify(path) or self.catalog.hidden[kind]
        self._bucket(placed.layer, kind, category, by_layer).add(path, size)

    def _bucket(self, layer: int, kind: str, category: Category, other: int | None = None) -> WasteBucket:
        key = (layer, kind, category.name, other)
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = WasteBucket(layer, kind, category, other)
        return bucket

    # the final filesystem ----------------------------------------------------------------

    def final(self, layers: Sequence[LayerContents]) -> tuple[int, int]:
        """Classify every visible file, layer by layer so that the first copy of a content is
        the oldest one; returns the final filesystem's bytes and file count."""
        dev = _dev_package_index(self.visible, layers)
        dev_category = next((c for c in self.catalog.categories if c.matcher == "npm-dev-packages"), None)
        first_copy: dict[bytes, int] = {}
        total = count = 0
        for index, layer in enumerate(layers):
            for path, record in layer.files.items():
                placed = self.visible.get(path)
                if placed is None or placed.layer != index or placed.record is not record:
                    continue
                size = _bytes(record)
                if size == 0:
                    continue
                total += size
                count += 1
                self._classify_visible(index, path, record, size, dev, dev_category, first_copy)
        return total, count

    def _classify_visible(self, index, path, record, size, dev, dev_category, first_copy) -> None:
        category = dev_category if dev_category is not None and _in_dev_package(path, dev) else None
        category = category or self.classifier.classify(path)
        if category is not None:
            self._bucket(index, "present", category).add(path, size)
            return
        if record.digest is None:
            return
        first = first_copy.setdefault(record.digest, index)
        if first != index:
            self._bucket(index, "duplicate", self.catalog.duplicate, first).add(path, size)


def _bytes(record: FileRecord) -> int:
    """Bytes a record occupies: regular files only (symlinks are counted by the layer totals,
    hard links share their target's bytes, directories have none)."""
    return record.size if record.kind == "file" else 0


def _dev_package_index(visible: dict[str, _Placed], layers: Sequence[LayerContents]) -> frozenset[str]:
    """The npm dev package directories of the hidden lockfiles that are in the final image."""
    found: set[str] = set()
    for index, layer in enumerate(layers):
        for lockfile, packages in layer.dev_packages.items():
            placed = visible.get(lockfile)
            if placed is not None and placed.layer == index:
                found |= packages
    return frozenset(found)


def _in_dev_package(path: str, dev: frozenset[str]) -> bool:
    """Whether ``path`` lies in one of the package directories (``.../node_modules/name`` or
    ``.../node_modules/@scope/name``); checks each node_modules level once."""
    if not dev or "node_modules/" not in path:
        return False
    start = 0
    while (at := path.find("node_modules/", start)) >= 0:
        rest = path[at + len("node_modules/") :].split("/")
        depth = 2 if rest and rest[0].startswith("@") else 1
        if len(rest) > depth and path[: at + len("node_modules/")] + "/".join(rest[:depth]) in dev:
            return True
        start = at + 1
    return False


def measure_waste(layers: Sequence[LayerContents], catalog: Catalog, classifier: Classifier) -> WasteResult:
    walk = _Walk(catalog, classifier)
    for index, layer in enumerate(layers):
        walk.apply(index, layer)
    final_bytes, final_files = walk.final(layers)
    buckets = sorted(walk.buckets.values(), key=lambda b: (b.layer, -b.bytes))
    return WasteResult(buckets, final_bytes, final_files, walk.hidden_bytes)


def largest_files(layer: LayerContents, count: int) -> list[tuple[str, int]]:
    files = ((size, path) for path, r in layer.files.items() if (size := _bytes(r)))
    return [("/" + path, size) for size, path in heapq.nlargest(count, files)]


def largest_folders(layer: LayerContents, count: int, depth: int) -> list[tuple[str, int, int]]:
    """The folders (cut at ``depth`` path components) that hold most of the layer's bytes:
    (path, bytes, files), like ``du --max-depth``."""
    totals: dict[str, list[int]] = {}
    for path, record in layer.files.items():
        size = _bytes(record)
        if not size:
            continue
        folder = "/".join(posixpath.dirname(path).split("/")[:depth])
        entry = totals.setdefault(folder, [0, 0])
        entry[0] += size
        entry[1] += 1
    ranked = heapq.nlargest(count, totals.items(), key=lambda item: item[1][0])
    return [("/" + folder, sizes[0], sizes[1]) for folder, sizes in ranked]


def waste_by_layer(buckets: Iterable[WasteBucket]) -> dict[int, int]:
    out: dict[int, int] = {}
    for bucket in buckets:
        out[bucket.layer] = out.get(bucket.layer, 0) + bucket.bytes
    return out
