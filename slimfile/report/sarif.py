"""``--output-format sarif``: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

Conventions (documented in docs/output-formats.md):

- URIs are relative to the current directory under ``uriBaseId: %SRCROOT%`` (which is given
  in ``originalUriBaseIds``), so code scanning can match them to the repository.
- Every region, in result locations and in fixes alike, carries both its line/column form
  (columns in Unicode code points, declared with ``columnKind``; the end column is exclusive)
  and its ``byteOffset``/``byteLength`` form; the two always describe the same bytes.
- A fix is offered only when it is allowed (safe, or unsafe under ``--unsafe-fixes``); its
  edits become ``replacements`` of one ``artifactChange``, and each file it creates an
  ``artifactChange`` of its own: one insertion at line 1, column 1 of the new artifact.
- Files that could not be processed become ``toolExecutionNotifications``.
"""

from __future__ import annotations

import base64
from pathlib import Path
from urllib.parse import quote

from slimfile import __version__
from slimfile.diagnostics import Finding, Rule
from slimfile.report.fingerprints import FINGERPRINT_KEY, fingerprints
from slimfile.report.json_text import dumps_indented
from slimfile.report.model import FileFindings, Report
from slimfile.report.positions import LineIndex

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"
SECURITY_SEVERITY = "7.0"  # GitHub code scanning: 7.0-8.9 is "high" (a secret in an image)


def render(report: Report) -> str:
    rules = report.rules()
    rule_index = {rule.code: i for i, rule in enumerate(rules)}
    results = []
    for file in report.files:
        prints = fingerprints(file.findings, file.index)
        for finding, fingerprint in zip(file.findings, prints):
            results.append(_result(report, file, finding, fingerprint, rule_index))
    run = {
        "tool": {"driver": {"name": "slimfile", "version": __version__, "rules": [_rule(r) for r in rules]}},
        "originalUriBaseIds": {SRCROOT: {"uri": _directory_uri(report.root)}},
        "columnKind": "unicodeCodePoints",
        "invocations": [_invocation(report)],
        "results": results,
    }
    document = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}
    return dumps_indented(document) + "\n"


def _rule(rule: Rule) -> dict:
    descriptor: dict = {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": first_paragraph(rule.doc) or rule.summary},
        "defaultConfiguration": {"level": rule.severity},
        "properties": {"fixSafety": rule.safety.value, "tags": ["dockerfile", "image-size", *rule.tags]},
    }
    if "security" in rule.tags:
        descriptor["properties"]["security-severity"] = SECURITY_SEVERITY
    if rule.doc.strip():
        descriptor["help"] = {"text": rule.doc.strip(), "markdown": rule.doc.strip()}
    if rule.fix_title:
        descriptor["properties"]["fixTitle"] = rule.fix_title
    if rule.related:
        descriptor["properties"]["related"] = list(rule.related)
    url = getattr(rule, "url", None)
    if url:
        descriptor["helpUri"] = url
    return descriptor


def first_paragraph(doc: str) -> str:
    """The first paragraph of prose in a rule doc (headings and code blocks skipped)."""
    paragraph: list[str] = []
    in_code = False
    for line in doc.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            in_code = not in_code
            if paragraph:
                break
            continue
        if in_code or stripped.startswith("#"):
            if paragraph:
                break
            continue
        if not stripped:
            if paragraph:
                break
            continue
        paragraph.append(stripped)
    return " ".join(paragraph)


def _result(report: Report, file: FileFindings, finding: Finding, fingerprint: str, rule_index: dict) -> dict:
    location = _artifact_location(report, file.path)
    result: dict = {
        "ruleId": finding.rule.code,
        "ruleIndex": rule_index[finding.rule.code],
        "level": finding.rule.severity,
        "message": {"text": finding.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": location,
                    "region": region(file.index, finding.start, finding.end),
                }
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
    }
    properties: dict = {"ruleName": finding.rule.name}
    if finding.fix is not None:
        properties["fixSafety"] = finding.fix.safety.value
    if finding.saving is not None:
        properties["estimatedSaving"] = {
            "label": finding.saving.label,
            "basis": finding.saving.basis,
            "kind": finding.saving.kind,
        }
        if finding.saving.bytes is not None:
            properties["estimatedSaving"]["bytes"] = finding.saving.bytes
    result["properties"] = properties
    fix = report.offered_fix(file, finding)
    if fix is not None:
        changes = []
        if fix.edits:
            replacements = [
                {"deletedRegion": region(file.index, e.start, e.end), "insertedContent": _content(e.content)}
                for e in fix.edits
            ]
            changes.append({"artifactLocation": location, "replacements": replacements})
        changes.extend(_new_artifact(report, new) for new in fix.creates)
        result["fixes"] = [
            {
                "description": {"text": fix.title or finding.rule.fix_title or "Apply slimfile's fix"},
                "artifactChanges": changes,
            }
        ]
    return result


def _new_artifact(report: Report, new) -> dict:
    """A file the fix creates: one insertion at the start of an empty artifact."""
    empty = {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 1, "byteOffset": 0, "byteLength": 0}
    return {
        "artifactLocation": _artifact_location(report, new.path),
        "replacements": [{"deletedRegion": empty, "insertedContent": _content(new.content)}],
    }


def region(index: LineIndex, start: int, end: int) -> dict:
    """A SARIF region for bytes ``[start, end)``: line/column and byte forms of the same span."""
    start_line, start_column = index.position(start)
    end_line, end_column = index.position(end)
    return {
        "startLine": start_line,
        "startColumn": start_column,
        "endLine": end_line,
        "endColumn": end_column,
        "byteOffset": start,
        "byteLength": end - start,
    }


def _content(data: bytes) -> dict:
    try:
        return {"text": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {"binary": base64.b64encode(data).decode("ascii")}


def _artifact_location(report: Report, path: str) -> dict:
    relative = report.relative_path(path)
    if relative.startswith("/"):
        return {"uri": Path(relative).as_uri()}
    return {"uri": quote(relative), "uriBaseId": SRCROOT}


def _directory_uri(root: Path) -> str:
    uri = root.absolute().as_uri()
    return uri if uri.endswith("/") else uri + "/"


def _invocation(report: Report) -> dict:
    notifications = []
    for error in report.errors:
        notification: dict = {"level": "error", "message": {"text": error.message}}
        if error.path:
            physical: dict = {"artifactLocation": _artifact_location(report, error.path)}
            if error.line:
                physical["region"] = {"startLine": error.line}
            notification["locations"] = [{"physicalLocation": physical}]
        notifications.append(notification)
    invocation: dict = {"executionSuccessful": not report.errors}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return invocation
