"""Which of slimfile's rules removes a piece of measured waste, and what its fix estimates.

The Dockerfile is linted once (``engine.lint``, the user's settings); each finding is indexed
by rule and line, and by rule and stage. A waste item's candidate rules come from the waste
catalog, preferred first: the first one with a finding where the catalog's scope for it says
(the line that made the bytes or hid them, the stage, or the whole file) is shown with its
estimate. When none fires, the first candidate is still named: "does not fire here" for a rule
slimfile has, "not in this slimfile yet" for a code reserved for a rule that is being written,
so that the report is right once it lands.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from slimfile.diagnostics import Finding, Rule
from slimfile.syntax.nodes import Dockerfile

FIRES, SILENT, PENDING = "fires", "silent", "pending"


@dataclass(frozen=True)
class RuleMatch:
    code: str
    status: str  # fires, silent (the rule exists but has no finding here), pending (not in slimfile yet)
    name: str | None = None
    fix_title: str | None = None
    estimate: str | None = None  # the finding's estimated saving, as its label says it
    estimate_bytes: int | None = None
    estimate_basis: str | None = None
    line: int | None = None  # where the finding is
    fixable: bool = False
    safety: str | None = None

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "status": self.status,
            "fix": self.fix_title,
            "estimate": self.estimate,
            "estimate_bytes": self.estimate_bytes,
            "estimate_basis": self.estimate_basis,
            "line": self.line,
            "fixable": self.fixable,
            "safety": self.safety,
        }


def match_from_finding(finding: Finding) -> RuleMatch:
    saving = finding.saving
    return RuleMatch(
        code=finding.rule.code,
        status=FIRES,
        name=finding.rule.name,
        fix_title=finding.rule.fix_title,
        estimate=saving.label if saving else None,
        estimate_bytes=saving.bytes if saving else None,
        estimate_basis=saving.basis if saving else None,
        line=finding.line,
        fixable=finding.fix is not None,
        safety=finding.fix.safety.value if finding.fix else None,
    )


class RuleIndex:
    """The findings of one Dockerfile, indexed for waste items; built once per report."""

    def __init__(self, findings: Iterable[Finding], dockerfile: Dockerfile | None, rules: Sequence[Rule], scopes: Mapping[str, str]) -> None:
        self.known = {rule.code: rule for rule in rules}
        self.scopes = scopes
        self._stage_starts = [s.from_instruction.start_line for s in dockerfile.stages.stages] if dockerfile else []
        self.by_line: dict[tuple[str, int], Finding] = {}
        self.by_stage: dict[tuple[str, int], Finding] = {}
        self.by_code: dict[str, Finding] = {}
        self.findings = list(findings)
        for finding in self.findings:
            code = finding.rule.code
            self.by_line.setdefault((code, finding.line), finding)
            self.by_stage.setdefault((code, self.stage_of(finding.line)), finding)
            self.by_code.setdefault(code, finding)

    def stage_of(self, line: int) -> int:
        return bisect.bisect_right(self._stage_starts, line) - 1

    def resolve(self, candidates: Sequence[str], lines: Sequence[int | None], stage: int | None) -> RuleMatch | None:
        """The rule shown for a waste item made (or hidden) at ``lines`` in stage ``stage``."""
        for code in candidates:
            finding = self._finding(code, lines, stage)
            if finding is not None:
                return match_from_finding(finding)
        if not candidates:
            return None
        code = candidates[0]
        rule = self.known.get(code)
        if rule is None:
            return RuleMatch(code, PENDING)
        return RuleMatch(code, SILENT, rule.name, rule.fix_title)

    def _finding(self, code: str, lines: Sequence[int | None], stage: int | None) -> Finding | None:
        scope = self.scopes.get(code, "line")
        if scope == "file":
            return self.by_code.get(code)
        for line in lines:
            if line is not None and (found := self.by_line.get((code, line))) is not None:
                return found
        if scope == "stage" and stage is not None:
            return self.by_stage.get((code, stage))
        return None

    def on_lines(self, start: int, end: int) -> list[RuleMatch]:
        """Every finding on an instruction's lines (its other fixes, shown with the layer)."""
        return [match_from_finding(f) for f in self.findings if start <= f.line <= end]
