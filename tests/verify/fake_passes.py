"""Passes made up for the tests: each replaces one piece of text, so a test can inject exactly
the rewrite it needs (a bad one, to prove verify catches it, or a good one, to measure it)."""

from __future__ import annotations

from slimfile.analysis.context import Context
from slimfile.diagnostics import Finding, Rule
from slimfile.syntax.edits import Edit, Fix, Safety


def replacing(code: str, old: bytes, new: bytes, declares: frozenset[str] = frozenset(), name: str = ""):
    """A pass whose rule ``code`` turns every ``old`` into ``new`` (``old`` must not occur in
    ``new``, or the fix would apply again in the next round)."""
    assert old not in new
    rule = Rule(code, name or f"test-{code.lower()}", f"{old!r} found", f"replace with {new!r}", "made up for a test")

    def check(context: Context):
        start = context.source.find(old)
        while start >= 0:
            fix = Fix((Edit(start, start + len(old), new),), Safety.SAFE, rule.fix_title, declares)
            yield Finding(rule, rule.summary, start, start + len(old), fix=fix)
            start = context.source.find(old, start + len(old))

    return check
