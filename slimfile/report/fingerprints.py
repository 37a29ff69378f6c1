"""Stable identities for findings, for SARIF ``partialFingerprints``.

Code scanning uses fingerprints to tell a finding that moved from a new one, so they must not
depend on line numbers: adding unrelated lines above a finding must keep its fingerprint. A
fingerprint hashes the rule code, the text of the lines the finding is on (whitespace runs
collapsed, so re-indenting does not matter) and the finding's own text, plus an ordinal that
tells identical findings in one file apart.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from typing import Iterable

from slimfile.diagnostics import Finding
from slimfile.report.positions import LineIndex

FINGERPRINT_KEY = "slimfile/v1"
_SPACES = re.compile(rb"\s+")


def _normalise(data: bytes) -> bytes:
    return _SPACES.sub(b" ", data).strip()


def _identity(finding: Finding, index: LineIndex) -> bytes:
    first = index.line_number(finding.start)
    last = index.line_number(max(finding.start, finding.end - 1))
    lines = index.source[index.line_start(first) : index.line_end(last)]
    own = index.source[finding.start : finding.end]
    return b"\0".join((finding.rule.code.encode(), _normalise(lines), _normalise(own)))


def fingerprints(findings: Iterable[Finding], index: LineIndex) -> list[str]:
    """One fingerprint per finding of one file, in the given order."""
    seen: Counter[bytes] = Counter()
    out = []
    for finding in findings:
        identity = _identity(finding, index)
        ordinal = seen[identity]
        seen[identity] += 1
        digest = hashlib.sha256(identity + b"\0" + str(ordinal).encode()).hexdigest()[:32]
        out.append(digest)
    return out
