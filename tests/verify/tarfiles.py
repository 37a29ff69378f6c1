"""Synthetic image exports for the filesystem-diff tests: tar streams built in memory."""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass


@dataclass(frozen=True)
class Item:
    path: str
    content: bytes | None = None  # a regular file when set
    kind: str = "file"  # file, dir, symlink, hardlink
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    link: str = ""
    mtime: int = 1_700_000_000


def tar_stream(*items: Item) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for item in items:
            info = tarfile.TarInfo(item.path)
            info.mode, info.uid, info.gid, info.mtime = item.mode, item.uid, item.gid, item.mtime
            data = None
            if item.kind == "dir":
                info.type = tarfile.DIRTYPE
            elif item.kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, item.link
            elif item.kind == "hardlink":
                info.type, info.linkname = tarfile.LNKTYPE, item.link
            else:
                data = item.content or b""
                info.size = len(data)
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    buffer.seek(0)
    return buffer
