"""``--output-format json``: a list of findings, each with its fix edits and saving."""

from __future__ import annotations

import json
from typing import Iterable

from slimfile.report.positions import LineIndex
from slimfile.report.serialize import finding_dict


def render(outcomes: Iterable) -> str:
    items = []
    for outcome in outcomes:
        if outcome.findings is None and outcome.fix is None:
            continue
        if outcome.fix is not None:
            index = LineIndex(outcome.fix.output)
            findings = outcome.fix.remaining
        else:
            index = LineIndex(outcome.source)
            findings = outcome.findings
        items.extend(finding_dict(f, index) for f in findings)
    return json.dumps(items, indent=2, ensure_ascii=False) + "\n"
