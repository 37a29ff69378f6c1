"""Inline suppressions: ``# slimfile: ignore[SF101,SF102]`` on the comment lines right above
an instruction (``# slimfile: ignore`` alone silences every rule there), and
``# slimfile: skip-file`` anywhere in a comment line to leave the whole file alone."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from slimfile.diagnostics import Finding
from slimfile.syntax.nodes import Dockerfile, Instruction, Trivia

_DIRECTIVE = re.compile(rb"#\s*slimfile:\s*(ignore|skip-file)\b(?:\[([^\]]*)\])?", re.I)
ALL = "*"


@dataclass
class Suppressions:
    skip_file: bool
    # (instruction start, instruction end, codes or {"*"})
    ranges: list[tuple[int, int, frozenset[str]]]
    mentioned: list[tuple[int, str]]  # (line, code) for every code a suppression names
    _starts: list[int] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def of(cls, dockerfile: Dockerfile) -> "Suppressions":
        if b"slimfile" not in dockerfile.source.lower():  # most files have none: skip the scan
            return cls(False, [], [])
        skip = False
        ranges: list[tuple[int, int, frozenset[str]]] = []
        pending: set[str] = set()
        lines_with_codes: list[tuple[int, str]] = []
        for item in dockerfile.items:
            if isinstance(item, Trivia) and item.is_comment:
                text = dockerfile.source[item.line.start : item.line.content_end].strip()
                match = _DIRECTIVE.match(text.lstrip(b"\xef\xbb\xbf"))
                if match is None:
                    continue
                if match.group(1).lower() == b"skip-file":
                    skip = True
                    continue
                codes = _codes(match.group(2))
                pending |= codes
                lines_with_codes.extend((item.line.number, c) for c in codes if c != ALL)
            elif isinstance(item, Instruction):
                if pending:
                    ranges.append((item.start, item.end, frozenset(pending)))
                pending = set()
            else:  # a blank line or directive ends the comment block
                pending = set()
        return cls(skip, ranges, lines_with_codes)

    def suppresses(self, finding: Finding) -> bool:
        # the ranges are instructions, in file order and disjoint: one at most holds the finding
        if not self.ranges:
            return False
        if self._starts is None:
            self._starts = [start for start, _, _ in self.ranges]
        i = bisect.bisect_right(self._starts, finding.start) - 1
        if i < 0:
            return False
        _, end, codes = self.ranges[i]
        return finding.start < end and (ALL in codes or any(finding.rule.code.startswith(c) for c in codes))


def _codes(group: bytes | None) -> frozenset[str]:
    if group is None:
        return frozenset({ALL})
    codes = {c.strip().decode("ascii", "replace").upper() for c in group.split(b",") if c.strip()}
    return frozenset(codes) or frozenset({ALL})


_COMMENT_DIRECTIVE = re.compile(rb"^[ \t]*#\s*slimfile:\s*ignore\[([^\]]*)\]", re.I | re.M)


def unknown_codes(source: bytes, known: list[str]) -> list[tuple[int, str]]:
    """(line, code) for each code in an ``ignore[...]`` comment that names no rule (a typo
    would otherwise silently suppress nothing)."""
    if b"slimfile:" not in source:
        return []
    out = []
    line, counted = 1, 0  # lines counted from the previous match, not from the file's start
    for match in _COMMENT_DIRECTIVE.finditer(source):
        line += source.count(b"\n", counted, match.start())
        counted = match.start()
        for code in sorted(_codes(match.group(1)) - {ALL}):
            if not any(k.startswith(code) for k in known):
                out.append((line, code))
    return out
