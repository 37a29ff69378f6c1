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


def fingerprints(findings: Iterable[Finding], index: LineIndex) -> list[str]:
    """One fingerprint per finding of one file, in the given order.

    The fingerprint is ``sha256(code \\0 lines \\0 own text \\0 ordinal)``. The normalised text of
    each line range is made and hashed once: many findings on one long line (a generated
    file) would otherwise normalise and hash that line once each."""
    seen: Counter[tuple[str, bytes, bytes]] = Counter()
    prefixes: dict[tuple[str, int, int], tuple[bytes, object]] = {}
    out = []
    for finding in findings:
        first = index.line_number(finding.start)
        last = index.line_number(max(finding.start, finding.end - 1))
        key = (finding.rule.code, first, last)
        if key not in prefixes:
            lines = _normalise(index.source[index.line_start(first) : index.line_end(last)])
            prefixes[key] = (lines, hashlib.sha256(finding.rule.code.encode() + b"\0" + lines + b"\0"))
        lines, prefix = prefixes[key]
        own = _normalise(index.source[finding.start : finding.end])
        identity = (finding.rule.code, lines, own)
        ordinal = seen[identity]
        seen[identity] += 1
        digest = prefix.copy()
        digest.update(own + b"\0" + str(ordinal).encode())
        out.append(digest.hexdigest()[:32])
    return out
