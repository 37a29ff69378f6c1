"""Byte offsets to 1-based (line, column) positions.

Two column conventions are needed: characters (what editors, SARIF with
``columnKind: unicodeCodePoints`` and GitHub annotations count) and UTF-8 bytes (what
reviewdog's rdjson counts). A UTF-8 BOM is not a character, so character columns on line 1
start after it; byte columns count it, as the bytes are in the file.
"""

from __future__ import annotations

import bisect

from slimfile.syntax.columns import CharColumns

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
        self._columns = CharColumns(source)

    def line_number(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)

    @property
    def line_count(self) -> int:
        """Lines with content: a final EOL ends the last line, it does not start a new one."""
        count = len(self.starts)
        return count - 1 if count > 1 and self.starts[-1] == len(self.source) else count

    def line_start(self, line: int) -> int:
        return self.starts[line - 1]

    def line_end(self, line: int) -> int:
        """Offset just past the line's EOL (or the end of the file)."""
        return self.starts[line] if line < len(self.starts) else len(self.source)

    def position(self, offset: int) -> tuple[int, int]:
        """(line, character column)."""
        line = self.line_number(offset)
        start = self.starts[line - 1]
        if line == 1 and self.source.startswith(BOM):
            start = min(offset, len(BOM))
        return line, self._columns.characters(start, offset, self.line_end(line)) + 1

    def byte_position(self, offset: int) -> tuple[int, int]:
        """(line, UTF-8 byte column)."""
        line = self.line_number(offset)
        return line, offset - self.starts[line - 1] + 1

    def line_text(self, line: int) -> bytes:
        return self.source[self.line_start(line) : self.line_end(line)]
