"""``--output-format rdjson``: reviewdog's DiagnosticResult, for ``reviewdog -f=rdjson``.

Conventions, following reviewdog's ``rdf`` definitions:

- paths are relative to the current directory (reviewdog resolves them from where it runs);
- positions are 1-based with columns counted in UTF-8 bytes, and range ends are exclusive;
- each fix becomes one *line-based* suggestion (start and end lines, no columns) whose text is
  the changed lines in full. ``github-pr-review`` posts exactly such suggestions as a
  ```` ```suggestion ```` block and anchors the comment on the suggestion's lines, which
  column-based suggestions cannot always do (they need the source lines from the diff);
- a fix that creates a file (a proposed ``.dockerignore``) adds, after its finding, one
  diagnostic located in the new file whose suggestion inserts the whole content at line 1,
  column 1 (reviewdog's zero-width range), with ``related_locations`` pointing back at the
  finding;
- files that could not be processed are reported as ERROR diagnostics without a code;
- messages are markdown that reads as written (``message_markdown``, as the PR comment's):
  ``github-pr-review`` posts a message as it is inside its markdown comment, so a scoped npm
  package (``@types/node``) would notify a GitHub user or team and a folder name of the pull
  request could make a link or HTML there.
"""

from __future__ import annotations

from slimfile.diagnostics import Finding
from slimfile.report.json_text import dumps_indented
from slimfile.report.model import FileFindings, Report
from slimfile.report.suggestions import line_suggestion, message_markdown
from slimfile.report.text import finding_line

SOURCE = {"name": "slimfile"}


def render(report: Report) -> str:
    diagnostics = []
    for file, finding in report.items():
        diagnostics.append(_diagnostic(report, file, finding))
        diagnostics.extend(_new_file_diagnostics(report, file, finding))
    diagnostics.extend(_error_diagnostic(report, error) for error in report.errors)
    document = {"source": SOURCE, "severity": "WARNING", "diagnostics": diagnostics}
    return dumps_indented(document) + "\n"


def _diagnostic(report: Report, file: FileFindings, finding: Finding) -> dict:
    start_line, start_column = file.index.byte_position(finding.start)
    end_line, end_column = file.index.byte_position(finding.end)
    diagnostic: dict = {
        "message": message_markdown(finding.message),
        "location": {
            "path": report.relative_path(file.path),
            "range": {
                "start": {"line": start_line, "column": start_column},
                "end": {"line": end_line, "column": end_column},
            },
        },
        "severity": finding.rule.severity.upper(),
        "source": SOURCE,
        "code": {"value": finding.rule.code},
        "original_output": finding_line(finding, fixable_marker=finding.fix_allowed(report.unsafe_fixes)),
    }
    url = getattr(finding.rule, "url", None)
    if url:
        diagnostic["code"]["url"] = url
    fix = report.offered_fix(file, finding)
    if fix is not None and fix.edits:
        suggestion = line_suggestion(fix, file.index)
        diagnostic["suggestions"] = [
            {
                "range": {"start": {"line": suggestion.start_line}, "end": {"line": suggestion.end_line}},
                "text": suggestion.new_text,
            }
        ]
    return diagnostic


def _new_file_diagnostics(report: Report, file: FileFindings, finding: Finding) -> list[dict]:
    """One diagnostic per file the offered fix creates, located in that (new) file, whose
    suggestion inserts its whole content at line 1, column 1; ``related_locations`` points
    back at the finding."""
    fix = report.offered_fix(file, finding)
    if fix is None:
        return []
    start_line, start_column = file.index.byte_position(finding.start)
    finding_location = {"path": report.relative_path(file.path), "range": {"start": {"line": start_line, "column": start_column}}}
    empty = {"start": {"line": 1, "column": 1}, "end": {"line": 1, "column": 1}}
    return [
        {
            "message": message_markdown(f"new file: {fix.title or finding.rule.fix_title} ({finding.rule.code}, {report.relative_path(file.path)}:{start_line})"),
            "location": {"path": report.relative_path(new.path), "range": empty},
            "severity": finding.rule.severity.upper(),
            "source": SOURCE,
            "code": {"value": finding.rule.code},
            "suggestions": [{"range": empty, "text": new.content.decode("utf-8", "surrogateescape")}],
            "related_locations": [{"message": message_markdown(finding.message), "location": finding_location}],
        }
        for new in fix.creates
    ]


def _error_diagnostic(report: Report, error) -> dict:
    location: dict = {"path": report.relative_path(error.path) if error.path else ""}
    if error.line:
        location["range"] = {"start": {"line": error.line}}
    return {
        "message": message_markdown(f"slimfile could not process this file: {error.message}"),
        "location": location,
        "severity": "ERROR",
        "source": SOURCE,
    }
