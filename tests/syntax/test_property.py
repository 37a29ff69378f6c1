"""Property tests: random Dockerfiles round-trip byte for byte and split like buildkit.

CI runs at least 5,000 examples (``SLIMFILE_HYPOTHESIS_EXAMPLES``, default 5000)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings

from slimfile.syntax import parse
from slimfile.syntax.errors import ParseError
from tests.syntax.dockerfile_strategy import dockerfiles

EXAMPLES = int(os.environ.get("SLIMFILE_HYPOTHESIS_EXAMPLES", "5000"))
PROFILE = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROFILE
@given(dockerfiles())
def test_round_trip(source: bytes):
    for mode in ("current", "0.12"):
        try:
            tree = parse(source, buildkit=mode)
        except ParseError:
            continue
        assert tree.unparse() == source
        assert b"".join(source[line.start : line.end] for line in tree.lines) == source


@PROFILE
@given(dockerfiles())
def test_agrees_with_buildkit(source: bytes):
    from tests.syntax.oracle import assert_agrees

    assert_agrees(source)
