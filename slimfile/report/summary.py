"""The closing summary of ``slimfile fix``: files seen / changed / failed, fixes by rule and
estimated savings. It goes to stderr, so stdout stays the diff (or the fixed stdin)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from slimfile.diagnostics import Finding
from slimfile.report.text import plural, savings_lines


@dataclass
class FixSummary:
    files_seen: int = 0
    files_changed: int = 0
    files_failed: int = 0
    applied: list[Finding] = field(default_factory=list)
    remaining: int = 0
    hidden_unsafe: int = 0
    created: list[str] = field(default_factory=list)  # files the fixes create (or would)

    def fixes_by_rule(self) -> list[tuple[str, str, int]]:
        """(code, name, count) per rule, by code."""
        counts = Counter(f.rule.code for f in self.applied)
        names = {f.rule.code: f.rule.name for f in self.applied}
        return [(code, names[code], counts[code]) for code in sorted(counts)]

    def lines(self, *, dry_run: bool) -> list[str]:
        would = "would be " if dry_run else ""
        head = f"{plural(self.files_seen, 'file')} seen: {self.files_changed} {would}changed"
        head += f", {self.files_failed} failed." if self.files_failed else "."
        verb = "Would fix" if dry_run else "Fixed"
        fixed = f"{verb} {plural(len(self.applied), 'finding')}"
        fixed += f" ({self.remaining} remaining)" if self.remaining else ""
        lines = [head, fixed + (":" if self.applied else ".")]
        width = max((len(code) + len(name) for code, name, _ in self.fixes_by_rule()), default=0) + 1
        for code, name, count in self.fixes_by_rule():
            lines.append(f"  {code} {name}".ljust(width + 3) + f" {count:>5}")
        for path in self.created:
            lines.append(f"{'Would create' if dry_run else 'Created'} {path}")
        if any(f.saving for f in self.applied):
            lines.append("Estimated savings (measure with `slimfile verify`):")
            lines.extend(savings_lines(self.applied))
        if self.hidden_unsafe:
            hidden = plural(self.hidden_unsafe, "hidden fix", "hidden fixes")
            lines.append(f"({hidden} can be enabled with the `--unsafe-fixes` option.)")
        return lines
