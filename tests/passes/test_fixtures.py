"""Before/after fixture pairs under fixtures/passes/<CODE>-<name>/<case>/.

Each case has ``before.Dockerfile`` and ``after.Dockerfile``, optionally ``case.toml``
(``unsafe-fixes``, ``select`` (default: the rule the directory is named after), ``context``
(a directory of the case used as build context; default ``context/`` when it exists), and
``[files]``: paths of the case written before the run, for what git cannot hold or this
repository ignores (``context/.git/HEAD``, ``context/.venv/pyvenv.cfg``, ``__pycache__``)).
Files a fix creates are expected under ``created/``, at their path in the case
(``created/context/.dockerignore``); a case without ``created/`` creates nothing.
``xfail`` in ``case.toml``: a known bug (the reason); the case must fail until the bug is
fixed, then the key goes.
For every case: fixing ``before`` gives exactly ``after`` and the files under ``created/``;
with those files written, fixing ``after`` changes nothing and creates nothing; the output
parses and agrees with buildkit's parser. A case with ``[files]`` or ``created/`` runs on a
copy of itself (the fixtures are never written).
"""

from __future__ import annotations

import shutil
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


def prepared(case: Path, tmp_path: Path) -> Path:
    """The case itself, or a copy with its ``[files]`` written (and room for created files)."""
    options = tomllib.loads((case / "case.toml").read_text()) if (case / "case.toml").exists() else {}
    files = options.get("files", {})
    if not files and not (case / "created").is_dir():
        return case
    work = tmp_path / case.parent.name / case.name  # case_settings reads the rule from the parent
    shutil.copytree(case, work, symlinks=True, ignore=shutil.ignore_patterns("created"))
    for relative, text in files.items():
        path = work / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return work


def expected_files(case: Path) -> dict[str, bytes]:
    created = case / "created"
    if not created.is_dir():
        return {}
    return {p.relative_to(created).as_posix(): p.read_bytes() for p in sorted(created.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("case", CASES, ids=[f"{c.parent.name}/{c.name}" for c in CASES])
def test_fixture(case: Path, tmp_path: Path, request):
    known_bug = _options(case).get("xfail")
    if known_bug:
        request.applymarker(pytest.mark.xfail(reason=known_bug, strict=True))
    work = prepared(case, tmp_path)
    before = (work / "before.Dockerfile").read_bytes()
    after = (work / "after.Dockerfile").read_bytes()
    settings = case_settings(work)
    result = fix_source(before, str(work / "before.Dockerfile"), settings)
    assert result.rejected == [], [r.reason for r in result.rejected]
    assert result.output.decode("utf-8", "surrogateescape") == after.decode("utf-8", "surrogateescape")
    assert result.output == after
    created = {Path(new.path).relative_to(work).as_posix(): new.content for new in result.created}
    expected = expected_files(case)
    assert {k: v.decode() for k, v in created.items()} == {k: v.decode() for k, v in expected.items()}
    for relative, content in created.items():  # as `slimfile fix` writes them
        (work / relative).write_bytes(content)
    again = fix_source(after, str(work / "before.Dockerfile"), settings)
    assert again.output == after, "fixing the fixed file changed it again"
    assert again.created == [], "fixing the fixed file creates files again"
    parse(after)
    from tests.syntax.oracle import assert_agrees

    assert_agrees(after)
