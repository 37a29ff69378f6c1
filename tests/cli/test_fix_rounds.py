"""``fix`` lints the final text once: the round that finds nothing left to fix already gave the
remaining findings (this halves the cost of ``fix`` on files that need no change)."""

from __future__ import annotations

from pathlib import Path

import pytest

from slimfile.engine import Settings, fix_source, lint
from slimfile.syntax.parser import parse
from tests.conftest import corpus_sample
from tests.report import sample_pass


def counting(check):
    calls = []

    def counted(ctx):
        calls.append(ctx.source)
        return check(ctx)

    return counted, calls


@pytest.mark.parametrize(
    "source, rounds_linted",
    [
        (b"FROM x\nRUN sudo ls\n", 1),  # nothing to fix: one lint
        (b"FROM x\nRUN apt-get install -y a && sudo ls\n", 2),  # one round of fixes, then the check
    ],
)
def test_each_text_is_linted_once(source, rounds_linted):
    check, calls = counting(sample_pass.check)
    result = fix_source(source, "Dockerfile", Settings(), passes=(check,))
    assert len(calls) == rounds_linted
    assert len(set(calls)) == len(calls)
    assert [f.rule.code for f in result.remaining] == ["XT103"]


@pytest.mark.parametrize("path", corpus_sample(), ids=lambda p: p.name)
def test_remaining_findings_are_those_of_the_output(path: Path):
    """With the real pipeline: what fix reports as remaining is exactly a fresh lint (of the
    output and the files the fixes create)."""
    settings = Settings(unsafe_fixes=True)
    result = fix_source(path.read_bytes(), str(path), settings)
    created = {new.path: new.content for new in result.created}  # the output includes the files fix creates
    fresh = lint(parse(result.output, path=str(path)), settings, created=created)
    key = lambda f: (f.start, f.end, f.rule.code, f.message)  # noqa: E731
    assert [key(f) for f in result.remaining] == [key(f) for f in fresh]
