"""Where a stage stands among the stages it is built FROM, and which stages of a list are its
base stages, in log time.

Questions about a file at a step of a stage are answered by its own steps or else by its base
stages', nearest first. Walking the base stages one by one per question cost the length of
the chain for every question: a generated file of n stages, each ``FROM`` the one before and
each asking about a file of its own, did n x n. The analyses instead index the stages by the
paths their steps reach and ask here for the nearest base stage among those indexed under a
path's keys (:meth:`StageTree.nearest_base`): a stage beside the lineage (a sibling, a
cousin) is told apart by lifting the asking stage to the candidate's depth along its base
stages 1, 2, 4, 8... steps up.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import Any, NamedTuple


class Line(NamedTuple):
    """A stage's place in its lineage: its base stage, how many stages are above it, whether
    every base stage comes before the stage built on it in the file, and its base stages 1, 2,
    4, 8... steps up."""

    parent: int | None
    depth: int
    ordered: bool
    jumps: tuple[int, ...]


class WalkInstead(Exception):
    """Too many stages beside the lineage use a key: walking the lineage costs less."""


MAX_SKIPPED = 32  # stages using a key beside the lineage looked at before walking it instead


class StageTree:
    """The lineages of the stages, placed once each. It holds no function of its owner (a
    bound method would make a reference cycle that outlives the round: ``Context.release``
    frees a round's facts by dropping them, not by the cycle collector): each call to
    :meth:`line` says how to find a stage's base stage and what to do with a stage placed."""

    def __init__(self) -> None:
        self._lines: dict[int, Line] = {}

    def line(self, stage: int, parent_of: Callable[[int], int | None], placed: Callable[[int], Any] | None = None) -> Line:
        """The stage's line, placing it and the base stages not placed yet (once each: the walk
        up stops at the first stage already placed; a loop of stages, which no valid file has,
        ends at a root). ``parent_of``: a stage index -> the index of the stage it is built
        FROM, or None; ``placed`` is told of each stage placed, base stages first (an analysis
        indexes its steps then)."""
        known = self._lines.get(stage)
        if known is not None:
            return known
        pending: list[int] = []
        seen: set[int] = set()
        current: int | None = stage
        while current is not None and current not in self._lines and current not in seen:
            pending.append(current)
            seen.add(current)
            current = parent_of(current)
        for member in reversed(pending):
            self._lines[member] = self._placed(member, parent_of(member))
            if placed is not None:
                placed(member)
        return self._lines[stage]

    def _placed(self, member: int, parent: int | None) -> Line:
        above = self._lines.get(parent) if parent is not None else None
        if parent is None or above is None:
            return Line(None, 0, True, ())
        jumps = [parent]
        while len(jumps) <= len(self._lines[jumps[-1]].jumps):
            jumps.append(self._lines[jumps[-1]].jumps[len(jumps) - 1])
        return Line(parent, above.depth + 1, above.ordered and parent < member, tuple(jumps))

    def is_base(self, candidate: int, stage: int) -> bool:
        """``candidate`` is a base stage (at any distance) of ``stage``; both are placed."""
        target = self._lines.get(candidate)
        if target is None:
            return False
        steps = self._lines[stage].depth - target.depth
        if steps <= 0:
            return False
        current, k = stage, 0
        while steps:
            if steps & 1:
                current = self._lines[current].jumps[k]
            steps >>= 1
            k += 1
        return current == candidate

    def nearest_base(self, stage: int, indexed: list[list[int]]) -> int | None:
        """The nearest base stage of ``stage`` among the stages of the ascending lists
        ``indexed`` (the stages indexed under some keys), or None. Needs a lineage in file
        order (``line(stage).ordered``): a base stage then has a smaller index. Raises
        :class:`WalkInstead` past ``MAX_SKIPPED`` stages beside the lineage in one list."""
        best: int | None = None
        for stages in indexed:
            i = bisect.bisect_left(stages, stage) - 1
            skipped = 0
            while i >= 0 and (best is None or stages[i] > best):
                if self.is_base(stages[i], stage):
                    best = stages[i]
                    break
                skipped += 1
                if skipped > MAX_SKIPPED:
                    raise WalkInstead
                i -= 1
        return best
