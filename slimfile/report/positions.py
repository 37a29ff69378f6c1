"""Byte offsets to 1-based (line, column) positions, columns in characters as editors count."""

from __future__ import annotations

import bisect

BOM = b"\xef\xbb\xbf"


class LineIndex:
    def __init__(self, source: bytes) -> None:
        self.source = source
        self.starts = [0]
        find = source.find
        pos = find(b"\n")
        while pos >= 0:
            self.starts.append(pos + 1)
            pos = find(b"\n", pos + 1)

    def position(self, offset: int) -> tuple[int, int]:
        i = bisect.bisect_right(self.starts, offset) - 1
        start = self.starts[i]
        if i == 0 and self.source.startswith(BOM):
            start = min(offset, len(BOM))
        column = len(self.source[start:offset].decode("utf-8", "replace")) + 1
        return i + 1, column

    def line_text(self, line: int) -> bytes:
        start = self.starts[line - 1]
        end = self.starts[line] if line < len(self.starts) else len(self.source)
        return self.source[start:end]
