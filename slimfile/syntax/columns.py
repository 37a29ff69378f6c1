"""Character columns of byte offsets, at a cost that does not grow with the line's length.

Editors, SARIF (``unicodeCodePoints``) and GitHub count a column in characters: the length of
``source[line_start:offset].decode("utf-8", "replace")``. Decoding the line up to every offset
costs the line's length per call, so a generated file with one long line and thousands of
findings on it took time quadratic in its size. Here each line is looked at once: an ASCII line
answers by subtraction; any other line keeps its runs of non-ASCII bytes with the bytes each run
saves when decoded, and answers with a bisection.

Exact, invalid UTF-8 included: an ASCII byte never belongs to a multi-byte sequence (the
decoder ends a broken sequence before it), so a line decodes run by run to the same characters
as in one piece, and a run cut by ``offset`` decodes as the whole prefix would end there.
"""

from __future__ import annotations

import bisect
import re

_NON_ASCII = re.compile(rb"[\x80-\xff]+")


class CharColumns:
    """Counts characters between a line's start and an offset on that line."""

    __slots__ = ("_source", "_lines")

    def __init__(self, source: bytes) -> None:
        self._source = source
        # text start of a line -> None (ASCII) or (run starts, run ends, bytes saved before each run)
        self._lines: dict[int, tuple[list[int], list[int], list[int]] | None] = {}

    def characters(self, start: int, offset: int, line_end: int) -> int:
        """``len(source[start:offset].decode("utf-8", "replace"))`` for ``start <= offset <= line_end``,
        where ``start`` is where the line's text starts and ``line_end`` where the line ends."""
        if offset <= start:
            return 0
        runs = self._runs(start, line_end)
        if runs is None:
            return offset - start
        run_starts, run_ends, saved_before = runs
        i = bisect.bisect_left(run_starts, offset) - 1  # the last run starting before offset
        if i < 0:
            return offset - start
        if offset >= run_ends[i]:
            saved = saved_before[i + 1]
        else:  # offset cuts run i: decode its first part as the prefix would end there
            part = self._source[run_starts[i] : offset]
            saved = saved_before[i] + len(part) - len(part.decode("utf-8", "replace"))
        return offset - start - saved

    def _runs(self, start: int, line_end: int):
        if start in self._lines:
            return self._lines[start]
        source = self._source
        first = _NON_ASCII.search(source, start, line_end)
        runs = None
        if first is not None:
            run_starts: list[int] = []
            run_ends: list[int] = []
            saved_before = [0]
            for match in _NON_ASCII.finditer(source, first.start(), line_end):
                run_start, run_end = match.span()
                run_starts.append(run_start)
                run_ends.append(run_end)
                chars = len(source[run_start:run_end].decode("utf-8", "replace"))
                saved_before.append(saved_before[-1] + (run_end - run_start) - chars)
            runs = (run_starts, run_ends, saved_before)
        self._lines[start] = runs
        return runs
