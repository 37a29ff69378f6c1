"""``--output-format markdown``: a pull-request comment.

A headline, a summary table by rule (findings, fixable, estimated savings), then per file one
section per finding with its estimated saving and, when a fix is offered, a
```` ```suggestion ```` block holding the changed lines in full (so a bot can post it as a review
comment on ``lines a-b`` and GitHub can apply it as it is), and each file the fix creates in a
block of its own (a review suggestion cannot add a file).
"""

from __future__ import annotations

from collections import Counter

from slimfile.diagnostics import Finding
from slimfile.report.model import FileFindings, Report
from slimfile.report.suggestions import code_fence, code_span, line_suggestion, message_markdown
from slimfile.report.text import plural


def render(report: Report) -> str:
    parts = ["## slimfile report", "", _headline(report), ""]
    if report.finding_count:
        parts.extend(_summary_table(report))
        parts.append("")
    for file in report.files:
        if file.findings:
            parts.extend(_file_section(report, file))
    if report.errors:
        parts.extend(_errors_section(report))
    while parts and parts[-1] == "":
        parts.pop()
    return "\n".join(parts) + "\n"


def _headline(report: Report) -> str:
    count = report.finding_count
    seen = plural(len(report.files), "file")
    if not count:
        text = f"No findings in {seen}."
    else:
        with_findings = sum(1 for f in report.files if f.findings)
        fixable = sum(1 for file, f in report.items() if report.offered_fix(file, f) is not None)
        text = f"**{plural(count, 'finding')}** in {with_findings} of {seen}, {fixable} with a suggested fix."
    if report.errors:
        text += f" {plural(len(report.errors), 'file')} could not be checked."
    return text


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def savings_text(findings: list[Finding]) -> str:
    """Saving labels with counts (``~20 MB ×2``): labels, never sums, as they are estimates."""
    labels = Counter(f.saving.label for f in findings if f.saving is not None)
    return ", ".join(f"{label} ×{n}" if n > 1 else label for label, n in labels.items())


def _summary_table(report: Report) -> list[str]:
    rows = ["| Rule | Name | Findings | Fixable | Estimated saving |", "| --- | --- | ---: | ---: | --- |"]
    by_rule: dict[str, list[tuple[FileFindings, Finding]]] = {}
    for file, finding in report.items():
        by_rule.setdefault(finding.rule.code, []).append((file, finding))
    for code in sorted(by_rule):
        pairs = by_rule[code]
        findings = [finding for _, finding in pairs]
        fixable = sum(1 for file, f in pairs if report.offered_fix(file, f) is not None)
        saving = savings_text(findings) or "–"
        rows.append(f"| `{code}` | {_cell(findings[0].rule.name)} | {len(findings)} | {fixable} | {_cell(saving)} |")
    return rows


def _file_section(report: Report, file: FileFindings) -> list[str]:
    lines = [f"### {code_span(report.relative_path(file.path))}", ""]
    for finding in file.findings:
        lines.extend(_finding_section(report, file, finding))
    return lines


def _finding_section(report: Report, file: FileFindings, finding: Finding) -> list[str]:
    line, _ = file.index.position(finding.start)
    lines = [f"**`{finding.rule.code}`** {finding.rule.name} (line {line}): {message_markdown(finding.message)}", ""]
    if finding.saving is not None:
        lines.extend([f"Estimated saving: {message_markdown(finding.saving.label)} ({message_markdown(finding.saving.basis)})", ""])
    fix = report.offered_fix(file, finding)
    if fix is None:
        if "waits_for" in finding.extra:
            blocker = finding.extra["waits_for"]
            lines.extend([f"Its fix overlaps the `{blocker}` fix; `slimfile fix` applies them in order.", ""])
        elif finding.fix is not None:
            lines.extend(["An unsafe fix is available with `slimfile fix --unsafe-fixes`.", ""])
        return lines
    title = fix.title or finding.rule.fix_title
    if fix.edits:
        suggestion = line_suggestion(fix, file.index)
        span = (
            f"line {suggestion.start_line}"
            if suggestion.start_line == suggestion.end_line
            else f"lines {suggestion.start_line}-{suggestion.end_line}"
        )
        lines.append(f"Suggested fix ({span}){': ' + message_markdown(title) if title else ''}")
        lines.append("")
        fence = code_fence(suggestion.new_text)
        lines.append(f"{fence}suggestion")
        if suggestion.new_text:
            lines.append(suggestion.new_text)
        lines.extend([fence, ""])
    elif title:
        lines.extend([f"Suggested fix: {message_markdown(title)}", ""])
    for new in fix.creates:
        lines.extend(_new_file(report, new))
    return lines


def _new_file(report: Report, new) -> list[str]:
    """A file the fix creates: shown whole (a review suggestion cannot add a file; `slimfile
    fix` writes it)."""
    text = new.content.decode("utf-8", "surrogateescape").replace("\r\n", "\n").rstrip("\n")
    fence = code_fence(text)
    path = report.relative_path(new.path)
    return [f"New file {code_span(path)} (`slimfile fix` creates it):", "", f"{fence}{_language(path)}", text, fence, ""]


def _language(path: str) -> str:
    """The fence's language: ignore files read like .gitignore (GitHub highlights both)."""
    return "gitignore" if path.endswith(".dockerignore") else ""


def _errors_section(report: Report) -> list[str]:
    lines = ["### Could not be checked", ""]
    for error in report.errors:
        where = report.relative_path(error.path) if error.path else "<input>"
        if error.line:
            where += f":{error.line}"
        lines.append(f"- {code_span(where)}: {message_markdown(error.message)}")
    lines.append("")
    return lines
