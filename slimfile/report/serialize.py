"""Findings as plain data (the JSON output, and the base of SARIF/rdjson/markdown)."""

from __future__ import annotations

from slimfile.diagnostics import Finding
from slimfile.report.positions import LineIndex


def edit_dicts(finding: Finding, index: LineIndex) -> list[dict]:
    edits = []
    for edit in finding.fix.edits if finding.fix else ():
        row, col = index.position(edit.start)
        end_row, end_col = index.position(edit.end)
        edits.append(
            {
                "content": edit.content.decode("utf-8", "surrogateescape"),
                "location": {"row": row, "column": col},
                "end_location": {"row": end_row, "column": end_col},
                "start_byte": edit.start,
                "end_byte": edit.end,
            }
        )
    return edits


def new_file_dicts(finding: Finding) -> list[dict]:
    """Files the fix creates beside the Dockerfile: path (as the Dockerfile's path is written)
    and content."""
    return [
        {"path": new.path, "content": new.content.decode("utf-8", "surrogateescape")}
        for new in (finding.fix.creates if finding.fix else ())
    ]


def finding_dict(finding: Finding, index: LineIndex) -> dict:
    fix = None
    if finding.fix is not None:
        fix = {
            "applicability": finding.fix.safety.value,
            "message": finding.fix.title or finding.rule.fix_title,
            "edits": edit_dicts(finding, index),
            "new_files": new_file_dicts(finding),
        }
    saving = None
    if finding.saving is not None:
        saving = {
            "label": finding.saving.label,
            "basis": finding.saving.basis,
            "bytes": finding.saving.bytes,
            "kind": finding.saving.kind,
        }
    return {
        "code": finding.rule.code,
        "name": finding.rule.name,
        "message": finding.message,
        "filename": finding.path,
        "location": {"row": finding.line, "column": finding.column},
        "end_location": {"row": finding.end_line, "column": finding.end_column},
        "fix": fix,
        "saving": saving,
    }
