"""``docker save`` archives made in memory for the layer tests: real tar files in the classic
layout (``<id>/layer.tar``, ``<config>.json``, ``manifest.json`` last, as Docker 20.10 writes
them) or the OCI layout (``blobs/sha256/...``) of newer engines."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field

from tests.verify.tarfiles import Item, tar_stream


@dataclass
class Layer:
    items: list[Item] = field(default_factory=list)
    whiteouts: list[str] = field(default_factory=list)  # paths deleted from lower layers
    opaque: list[str] = field(default_factory=list)  # directories made opaque
    created_by: str = ""

    def tar_bytes(self) -> bytes:
        extra = [Item(_whiteout(p)) for p in self.whiteouts] + [Item(f"{d}/.wh..wh..opq") for d in self.opaque]
        return tar_stream(*extra, *self.items).getvalue()


def _whiteout(path: str) -> str:
    directory, _, name = path.rpartition("/")
    return f"{directory}/.wh.{name}" if directory else f".wh.{name}"


def history_and_config(layers: list[Layer], empty: dict[int, list[str]] | None = None, env: list[str] | None = None):
    """The engine API's history (newest first) and the image config for ``layers``; ``empty``
    puts empty-layer entries (ENV, CMD...) before the layer of that index."""
    entries = []
    for index, layer in enumerate(layers):
        for text in (empty or {}).get(index, []):
            entries.append({"created_by": text, "empty_layer": True, "size": 0})
        entries.append({"created_by": layer.created_by, "size": _file_bytes(layer)})
    history = [{"CreatedBy": e["created_by"], "Size": e["size"]} for e in reversed(entries)]
    config = {
        "config": {"Env": env or ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
        "history": [{k: v for k, v in e.items() if k != "size"} for e in entries],
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer.tar_bytes()).hexdigest() for layer in layers]},
    }
    return history, config


def _file_bytes(layer: Layer) -> int:
    return sum(len(item.content or b"") for item in layer.items if item.kind == "file")


def saved_archive(layers: list[Layer], config: dict, layout: str = "classic") -> io.BytesIO:
    buffer = io.BytesIO()
    config_bytes = json.dumps(config).encode()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        names, members = [], {}
        for layer in layers:
            data = layer.tar_bytes()
            digest = hashlib.sha256(data).hexdigest()
            name = f"{digest}/layer.tar" if layout == "classic" else f"blobs/sha256/{digest}"
            names.append(name)
            members[name] = data
        for name in sorted(members):  # as Docker writes them: by name, not in layer order
            _add(archive, name, members[name])
            if layout == "classic":
                _add(archive, name.split("/")[0] + "/VERSION", b"1.0")
        config_name = "config.json" if layout == "classic" else "blobs/sha256/" + hashlib.sha256(config_bytes).hexdigest()
        _add(archive, config_name, config_bytes)
        _add(archive, "manifest.json", json.dumps([{"Config": config_name, "RepoTags": ["t:1"], "Layers": names}]).encode())
    buffer.seek(0)
    return buffer


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))
