"""Output formats. Each module turns outcomes into text; none of them decides anything."""

from __future__ import annotations

from typing import Sequence

FORMATS = ("text", "json", "diff")


def render_outcomes(outcomes: Sequence, output_format: str, *, unsafe_fixes: bool, quiet: bool) -> tuple[str | bytes, bool]:
    """The report for ``check`` in one format, and whether it reported anything."""
    if output_format == "diff":
        from slimfile.report.diff import unified_diff

        chunks = [unified_diff(o.fix.source, o.fix.output, o.path) for o in outcomes if o.fix is not None]
        return b"".join(chunks), any(chunks)
    findings = [f for o in outcomes for f in (o.findings or [])]
    if output_format == "json":
        from slimfile.report import json_format

        return json_format.render(outcomes), bool(findings)
    from slimfile.report.text import check_summary, finding_line

    lines = [finding_line(f, fixable_marker=f.fix_allowed(unsafe_fixes)) for f in findings]
    if not quiet:
        lines.extend(check_summary(findings, unsafe_fixes))
    return ("\n".join(lines) + "\n") if lines else "", bool(findings)
