"""``--output-format json``: a list of findings (ruff's shape), each with its fix edits and saving."""

from __future__ import annotations

from slimfile.report.json_text import dumps_indented
from slimfile.report.model import Report
from slimfile.report.serialize import finding_dict


def render(report: Report) -> str:
    items = [finding_dict(finding, file.index) for file, finding in report.items()]
    return dumps_indented(items) + "\n"
