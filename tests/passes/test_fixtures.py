"""Before/after fixture pairs under fixtures/passes/<CODE>-<name>/<case>/.

Each case has ``before.Dockerfile`` and ``after.Dockerfile``, optionally ``case.toml``
(``unsafe-fixes``, ``select`` (default: the rule the directory is named after), ``context``
(a directory of the case used as build context; default ``context/`` when it exists),
``xfail`` (a known bug: the reason; the case must fail until the bug is fixed, then the key
goes)).
For every case: fixing ``before`` gives exactly ``after``; fixing ``after`` changes nothing;
the output parses and agrees with buildkit's parser.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from slimfile.engine import Settings, fix_source
from slimfile.syntax import parse
from tests.conftest import FIXTURES

CASES = sorted(p.parent for p in (FIXTURES / "passes").glob("*/*/before.Dockerfile"))


def _options(case: Path) -> dict:
    return tomllib.loads((case / "case.toml").read_text()) if (case / "case.toml").exists() else {}


def case_settings(case: Path) -> Settings:
    options = _options(case)
    code = case.parent.name.split("-", 1)[0]
    select = options.get("select", [code])
    context = options.get("context", "context" if (case / "context").is_dir() else None)
    return Settings(
        unsafe_fixes=options.get("unsafe-fixes", False),
        select=None if select == ["ALL"] else frozenset(select),
        build_context=str(case / context) if context else str(case / "no-such-context"),
        options=options.get("preferences", {}),
    )


def test_there_are_fixtures():
    assert len(CASES) >= 5


@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.name}" for c in CASES])
def test_fixture(case: Path, request):
    known_bug = _options(case).get("xfail")
    if known_bug:
        request.applymarker(pytest.mark.xfail(reason=known_bug, strict=True))
    before = (case / "before.Dockerfile").read_bytes()
    after = (case / "after.Dockerfile").read_bytes()
    settings = case_settings(case)
    result = fix_source(before, str(case / "before.Dockerfile"), settings)
    assert result.rejected == [], [r.reason for r in result.rejected]
    assert result.output.decode("utf-8", "surrogateescape") == after.decode("utf-8", "surrogateescape")
    assert result.output == after
    again = fix_source(after, str(case / "after.Dockerfile"), settings)
    assert again.output == after, "fixing the fixed file changed it again"
    parse(after)
    from tests.syntax.oracle import assert_agrees

    assert_agrees(after)
