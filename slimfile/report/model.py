"""What every output format reports: findings per file (with the text their offsets refer to),
the files that could not be processed, and the run's counts.

Formats never decide anything; they only lay this out. Building it once keeps them consistent
(the same findings, in the same order, with the same fixes offered).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

from slimfile.diagnostics import Finding
from slimfile.memo import cached_property
from slimfile.report.positions import LineIndex
from slimfile.syntax.errors import DockerfileError


@dataclass
class FileFindings:
    path: str  # as the user named it or discovery found it
    source: bytes  # the text the findings' byte offsets refer to
    findings: list[Finding]
    unsafe_fixes: bool = False  # this file's settings allow unsafe fixes

    @cached_property
    def index(self) -> LineIndex:
        return LineIndex(self.source)


@dataclass
class Report:
    files: list[FileFindings]
    errors: list[DockerfileError] = field(default_factory=list)
    unsafe_fixes: bool = False
    quiet: bool = False
    root: Path = field(default_factory=Path.cwd)  # relative paths in reports are relative to this

    @classmethod
    def from_outcomes(cls, outcomes: Sequence, *, errors: Sequence[DockerfileError] = (), **kwargs) -> "Report":
        """Check outcomes report their findings on the input; fix outcomes on the fixed output."""
        files = []
        for outcome in outcomes:
            unsafe = bool(getattr(outcome, "unsafe_fixes", False)) or kwargs.get("unsafe_fixes", False)
            if outcome.fix is not None:
                files.append(FileFindings(outcome.path, outcome.fix.output, list(outcome.fix.remaining), unsafe))
            elif outcome.findings is not None:
                files.append(FileFindings(outcome.path, outcome.source, list(outcome.findings), unsafe))
        return cls(files=files, errors=list(errors), **kwargs)

    def items(self) -> Iterator[tuple[FileFindings, Finding]]:
        for file in self.files:
            for finding in file.findings:
                yield file, finding

    @property
    def finding_count(self) -> int:
        return sum(len(f.findings) for f in self.files)

    def offered_fix(self, file: FileFindings, finding: Finding):
        """The fix a report may offer: safe ones, and unsafe ones only under --unsafe-fixes (or
        the file's ``unsafe-fixes`` setting); never one that overlaps a fix offered before it
        (``waits_for``: it applies after that one, in the next round of ``slimfile fix``)."""
        if "waits_for" in finding.extra:
            return None
        return finding.fix if finding.fix_allowed(self.unsafe_fixes or file.unsafe_fixes) else None

    def relative_path(self, path: str) -> str:
        """``path`` relative to the report root with '/' separators (absolute when outside it)."""
        if path == "-":
            return path
        absolute = Path(os.path.abspath(path))
        try:
            return absolute.relative_to(self.root.absolute()).as_posix()
        except ValueError:
            return absolute.as_posix()

    def rules(self) -> list:
        """The rules that have findings, sorted by code."""
        by_code = {finding.rule.code: finding.rule for _, finding in self.items()}
        return [by_code[code] for code in sorted(by_code)]
