"""Human output in ruff's shape: ``path:line:col: CODE [*] message`` and a closing summary."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Sequence

from slimfile.diagnostics import Finding
from slimfile.textformats import visible

if TYPE_CHECKING:
    from slimfile.report.model import Report


def finding_line(finding: Finding, *, fixable_marker: bool) -> str:
    """One line per finding, whatever the path or a name in the message holds: a line break
    would split it, and an escape sequence would reach the terminal."""
    marker = "[*] " if fixable_marker else ""
    return f"{visible(finding.path)}:{finding.line}:{finding.column}: {finding.rule.code} {marker}{visible(finding.message)}"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def render(report: "Report") -> str:
    findings = [finding for _, finding in report.items()]
    unsafe = report.unsafe_fixes
    lines = [finding_line(f, fixable_marker=f.fix_allowed(unsafe or file.unsafe_fixes)) for file, f in report.items()]
    if not report.quiet:
        lines.extend(check_summary(findings, report.unsafe_fixes, failed=len(report.errors)))
        lines.extend(new_files_lines(report))
        if any(f.saving for f in findings):
            lines.append("Estimated savings if fixed (measure with `slimfile verify`):")
            lines.extend(savings_lines(findings))
    return "".join(line + "\n" for line in lines)


def new_files_lines(report: "Report") -> list[str]:
    """The files the offered fixes would create (the finding lines cannot show them)."""
    paths = [new.path for file, f in report.items() if (fix := report.offered_fix(file, f)) is not None for new in fix.creates]
    return [f"`slimfile fix` would create {visible(path)}" for path in paths]


def check_summary(findings: Sequence[Finding], unsafe_fixes: bool, failed: int = 0) -> list[str]:
    failed_note = f" {plural(failed, 'file')} could not be checked." if failed else ""
    if not findings:
        return [f"No findings.{failed_note}" if failed else "All checks passed!"]
    fixable = sum(1 for f in findings if f.fix_allowed(unsafe_fixes))
    hidden = sum(1 for f in findings if f.fix is not None and not f.fix_allowed(unsafe_fixes))
    lines = [f"Found {plural(len(findings), 'finding')}.{failed_note}"]
    if fixable:
        lines.append(f"[*] {fixable} fixable with `slimfile fix`{' --unsafe-fixes' if unsafe_fixes else ''}.")
    if hidden:
        lines.append(f"({plural(hidden, 'hidden fix', 'hidden fixes')} can be enabled with the `--unsafe-fixes` option.)")
    return lines


def savings_lines(findings: Sequence[Finding]) -> list[str]:
    """Estimated savings grouped by rule (labels, not sums: they are estimates)."""
    by_rule: dict[str, list[Finding]] = {}
    for f in findings:
        if f.saving is not None:
            by_rule.setdefault(f.rule.code, []).append(f)
    lines = []
    for code in sorted(by_rule):
        items = by_rule[code]
        labels = Counter(f.saving.label for f in items)
        text = ", ".join(f"{label} x{count}" if count > 1 else label for label, count in labels.items())
        lines.append(f"  {code} {items[0].rule.name}: {text}")
    return lines
