"""A pass with a bug and a stall, for the crash-isolation and time-budget tests.

On a file containing ``# BUG`` it raises (what a bug in a real pass looks like); on one
containing ``# SLOW`` it spins until the per-file budget interrupts it. The spin is bounded, so
a broken budget fails the test instead of hanging it. Installed with :func:`install_faulty_pass`
after the sample pass (``tests/report/sample_pass.py``), which gives the other files findings.
"""

from __future__ import annotations

import time
from typing import Iterator

import pytest

from slimfile.analysis.context import Context
from slimfile.diagnostics import Finding, Rule
from tests.report import sample_pass

FAULTY = Rule(
    code="XT901",
    name="faulty",
    summary="a rule whose pass has a bug",
    fix_title="",
    doc="## What it does\nNothing useful: it exists to fail.\n",
)
RULES = (FAULTY,)
SPIN_LIMIT = 60.0  # seconds: far beyond any budget a test sets


class PassBug(KeyError):
    pass


def check(ctx: Context) -> Iterator[Finding]:
    if b"# BUG" in ctx.source:
        _index_of_a_missing_stage(ctx)
    if b"# SLOW" in ctx.source:
        _spin()
    return iter(())


def _index_of_a_missing_stage(ctx: Context) -> None:
    raise PassBug("stage 'builder' is not in the index")


def _spin() -> None:
    deadline = time.monotonic() + SPIN_LIMIT
    counter = 0
    while time.monotonic() < deadline:  # pure-Python work, as a pathological input would cause
        counter += 1
    raise AssertionError(f"the per-file budget never stopped the pass ({counter} turns)")


def install_faulty_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sample pass, then this one, as the whole pipeline (forked workers inherit it)."""
    import slimfile.engine
    import slimfile.pipeline

    monkeypatch.setattr(slimfile.engine, "default_passes", lambda: (sample_pass.check, check))
    monkeypatch.setattr(slimfile.pipeline, "all_rules", lambda: [*sample_pass.RULES, *RULES])
