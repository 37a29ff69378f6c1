"""How far slimfile follows variable values: ``$NAME`` in ENV/ARG lines, in build-time words
and in a RUN's own ``export``.

A value made of other values can double at every line (``ARG A=$A$A``: 34 lines asked for
16 GiB), and a long value copied into every word that reads it costs a copy per read. So one
expansion substitutes at most ``MAX_SUBSTITUTED`` bytes, and the values kept for later
lines (the ENV/ARG state of every step, the variables a script sets) may grow by at most
``BUDGET_PER_BYTE`` bytes per byte of their source, in all. Past either limit the value is
unknown: every analysis already treats an unknown value as a fact it does not have (it
refuses, or assumes the worst), so no answer becomes wrong, only less precise, and only in
files far from real ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable

MAX_SUBSTITUTED = 16 * 1024  # bytes of variable values one expansion may bring in
BUDGET_PER_BYTE = 16  # bytes kept values may grow by expansion, per byte of their source


class TooLong(Exception):
    """Raised inside a substitution that brings in more than ``MAX_SUBSTITUTED`` bytes."""


def substitute(pattern: re.Pattern[str], text: str, value: Callable[[re.Match[str]], str]) -> str:
    """``pattern.sub(value, text)``, raising :class:`TooLong` once the values brought in pass
    ``MAX_SUBSTITUTED`` bytes (checked as they come, before the result is built). ``value``
    may raise (KeyError for an unknown variable): the caller decides what that means."""
    brought = 0

    def counted(match: re.Match[str]) -> str:
        nonlocal brought
        found = value(match)
        if found != match.group(0):  # a reference left as written brings nothing in
            brought += len(found)
            if brought > MAX_SUBSTITUTED:
                raise TooLong
        return found

    return pattern.sub(counted, text)


class ExpansionBudget:
    """What the values kept from expansions may add to their source, in all."""

    def __init__(self, source_size: int) -> None:
        self.left = BUDGET_PER_BYTE * source_size + MAX_SUBSTITUTED

    def keep(self, written: str, expanded: str | None) -> str | None:
        """``expanded`` (the value of ``written``) when the budget still holds what it adds,
        else None (unknown)."""
        if expanded is None:
            return None
        added = len(expanded) - len(written)
        if added > self.left:
            self.left = 0
            return None
        self.left -= max(added, 0)
        return expanded
