"""What a pass reports: a rule, a finding at a byte span, an optional fix and a saving."""

from __future__ import annotations

from dataclasses import dataclass, field

from slimfile.syntax.edits import Fix, Safety


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule with a stable id users can select, ignore and suppress (ruff style)."""

    code: str  # e.g. "SF101"
    name: str  # e.g. "apt-no-install-recommends"
    summary: str  # one line: what is wrong
    fix_title: str  # one line: what the fix does
    doc: str  # markdown with ruff's sections (What it does / Why / Example / Use instead / Fix safety)
    safety: Safety = Safety.SAFE  # the usual safety; each finding decides its own
    related: tuple[str, ...] = ()  # e.g. hadolint rule ids
    tags: tuple[str, ...] = ()  # extra report tags: "security" makes SARIF viewers file it as a security alert
    # "error" for what stops the build (SF001): the level of its SARIF results, rdjson
    # diagnostics and GitHub annotations; every other rule is a "warning"
    severity: str = "warning"

    def __str__(self) -> str:
        return self.code


@dataclass(frozen=True, slots=True)
class Saving:
    """An estimated saving, with the basis of the estimate stated (verify measures it)."""

    label: str  # e.g. "~20 MB" or "one layer"
    basis: str  # why we think so
    bytes: int | None = None  # a number when the estimate has one
    kind: str = "size"  # "size" (image bytes) or "layers" or "cache" (rebuild time)


@dataclass(slots=True)
class Finding:
    rule: Rule
    message: str
    start: int  # byte span in the source the finding was made on
    end: int
    fix: Fix | None = None
    saving: Saving | None = None
    line: int = 0  # 1-based positions, filled in from the Dockerfile
    column: int = 0
    end_line: int = 0
    end_column: int = 0
    path: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def code(self) -> str:
        return self.rule.code

    @property
    def fixable(self) -> bool:
        return self.fix is not None

    def fix_allowed(self, unsafe_fixes: bool) -> bool:
        return self.fix is not None and (unsafe_fixes or self.fix.safety is Safety.SAFE)

    def sort_key(self) -> tuple:
        return (self.path, self.line, self.column, self.rule.code)
