"""Byte-range edits and fixes.

An :class:`Edit` replaces ``source[start:end]`` with new bytes; a :class:`Fix` groups the edits
one finding needs, with its safety, and any :class:`NewFile` it adds next to the Dockerfile (a
proposed ``.dockerignore``). Edits are applied from the end of the file backwards so
offsets stay valid (pyupgrade's trick), and fixes that touch the same bytes are never applied
in the same round (ruff's rule): the later one waits for the next round, after a re-parse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from operator import attrgetter
from typing import Iterable, Sequence


class Safety(str, Enum):
    """ruff's applicability: safe fixes run by default, unsafe ones need ``--unsafe-fixes``."""

    SAFE = "safe"
    UNSAFE = "unsafe"


@dataclass(frozen=True, slots=True, order=True)
class Edit:
    start: int
    end: int
    content: bytes = b""

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.end:
            raise ValueError(f"bad edit range {self.start}..{self.end}")
        if isinstance(self.content, str):
            raise TypeError("Edit.content must be bytes")

    @classmethod
    def insert(cls, at: int, content: bytes) -> "Edit":
        return cls(at, at, content)

    @classmethod
    def delete(cls, start: int, end: int) -> "Edit":
        return cls(start, end, b"")

    @property
    def is_insertion(self) -> bool:
        return self.start == self.end

    @property
    def is_deletion(self) -> bool:
        """Removes bytes and writes none."""
        return not self.content and self.start < self.end

    def touches(self, other: "Edit") -> bool:
        return self.end == other.start or other.end == self.start

    def meets(self, other: Edit) -> bool:
        """The two edits overlap, or touch where the text written at the point would depend on
        both. Two deletions that touch only remove what lies on both sides: they meet not."""
        return self.overlaps(other) or (self.touches(other) and not (self.is_deletion and other.is_deletion))

    def overlaps(self, other: "Edit") -> bool:
        """True when the two edits cannot both be applied unambiguously."""
        if self.start < other.end and other.start < self.end:
            return True
        # two insertions at one point, or an insertion at the start of a replacement, have no order
        if self.start == other.start and (self.is_insertion or other.is_insertion):
            return True
        return False


_EDIT_ORDER = attrgetter("start", "end", "content")  # the fields Edit's generated order compares


@dataclass(frozen=True, slots=True)
class NewFile:
    """A file a fix creates. ``path`` is written like the Dockerfile's own path (relative to
    the current directory when that one is), so reports and diffs name it the same way. A new
    file never replaces an existing one: the engine refuses the fix, and ``fix`` writes it
    with an exclusive create."""

    path: str
    content: bytes

    def __post_init__(self) -> None:
        if isinstance(self.content, str):
            raise TypeError("NewFile.content must be bytes")
        if not self.path or self.path.endswith("/"):
            raise ValueError(f"bad new file path {self.path!r}")


@dataclass(frozen=True, slots=True)
class Fix:
    """The edits that fix one finding. ``declares`` names what the fix is allowed to change
    beyond the bytes it edits (for example ``"base-image"``), ``runs_removed`` how many RUN
    instructions it folds into others (negative when it splits one) and ``adds`` which new
    instructions a reorder brings: the semantic guard checks all three after every round.
    ``creates`` are files the fix adds beside the Dockerfile; a fix that creates one must
    declare ``build-context`` (it changes what the build sends), and may have no edits."""

    edits: tuple[Edit, ...]
    safety: Safety = Safety.SAFE
    title: str = ""
    declares: frozenset[str] = field(default_factory=frozenset)
    runs_removed: int = 0  # RUN instructions the fix folds into others (merges, moved cleanups)
    # instructions the fix adds, for a fix that declares "reorder" (their text, normalised as the
    # guard normalises instructions; "RUN" for a RUN split off another one)
    adds: tuple[str, ...] = ()
    # byte ranges the fix depends on beyond its edits: a fix that moves an instruction claims
    # all of it, so no other fix edits inside it in the same round (its premise may change)
    claims: tuple[tuple[int, int], ...] = ()
    creates: tuple[NewFile, ...] = ()
    # what the fix brings into RUNs that must not be there twice (a cleanup, see
    # ``shell.cleanup.command_cleanup_keys``): (offset of the RUN's first byte, key). Each pass
    # checks what the RUN already does; two fixes of one round bringing the same key into
    # one RUN conflict, so the second waits and sees the first's work
    brings: tuple[tuple[int, str], ...] = ()
    # for a merge: what another fix of the round must not bring into one of the two RUNs,
    # (RUN offset, key) as in ``brings``: a key the other RUN removes with nothing in between
    # writing it again (brought in the same round, it would be removed twice in a row)
    joins: tuple[tuple[int, str], ...] = ()

    def __post_init__(self) -> None:
        if self.creates:
            if len({new.path for new in self.creates}) != len(self.creates):
                raise ValueError("a fix creates the same file twice")
            if "build-context" not in self.declares:
                raise ValueError("a fix that creates files must declare `build-context`")
        elif not self.edits:
            raise ValueError("a fix needs at least one edit or new file")
        ordered = tuple(sorted(self.edits, key=_EDIT_ORDER))  # Edit's own order, compared in C
        for a, b in zip(ordered, ordered[1:]):
            if a.overlaps(b):
                raise ValueError(f"overlapping edits inside one fix: {a} / {b}")
        object.__setattr__(self, "edits", ordered)

    @property
    def start(self) -> int:
        """Where the first edit starts (a fix that only creates files has no position)."""
        return self.edits[0].start

    @property
    def end(self) -> int:
        return max(e.end for e in self.edits)

    def conflicts_with(self, other: "Fix") -> bool:
        """Fixes of different findings conflict when their edits overlap or even touch: two
        rules writing at the same spot in one round could each invalidate the other's premise.
        Two deletions that only touch remove the lines on both sides of a point, as one would
        (n adjacent redundant RUNs go in one round, not every other one per round). A claimed
        range counts as touched by its fix; two fixes that create the same file conflict too."""
        if {new.path for new in self.creates} & {new.path for new in other.creates}:
            return True
        if any(a.meets(b) for a in self.edits for b in other.edits):
            return True
        if _claimed(self.claims, other.edits) or _claimed(other.claims, self.edits):
            return True
        return _brings_twice(self, other) or _brings_twice(other, self)


def _claimed(claims: tuple[tuple[int, int], ...], edits: tuple[Edit, ...]) -> bool:
    return any(start <= edit.end and edit.start <= end for start, end in claims for edit in edits)


def _brings_twice(fix: Fix, other: Fix) -> bool:
    """``fix`` brings something into a RUN that ``other`` brings too, or that the RUN ``other``
    merges it with already removes."""
    if not fix.brings or not (other.brings or other.joins):
        return False
    return not set(fix.brings).isdisjoint(other.brings + other.joins)


def apply_edits(source: bytes, edits: Iterable[Edit]) -> bytes:
    """Apply non-overlapping edits; untouched bytes are copied as they are."""
    ordered = sorted(edits)
    out = []
    pos = 0
    for edit in ordered:
        if edit.start < pos:
            raise ValueError(f"overlapping edits at {edit.start}")
        if edit.end > len(source):
            raise ValueError(f"edit {edit.start}..{edit.end} past end of source ({len(source)})")
        out.append(source[pos : edit.start])
        out.append(edit.content)
        pos = edit.end
    out.append(source[pos:])
    return b"".join(out)


def apply_fixes(source: bytes, fixes: Sequence[Fix]) -> bytes:
    return apply_edits(source, (e for fix in fixes for e in fix.edits))


def select_compatible(fixes: Sequence[Fix]) -> tuple[list[int], list[int]]:
    """Indices of fixes to apply now (in the given priority order) and of those that wait."""
    accepted, blockers = select_with_blockers(fixes)
    return accepted, sorted(blockers)


def select_with_blockers(fixes: Sequence[Fix]) -> tuple[list[int], dict[int, int]]:
    """Indices of fixes to apply now (in the given priority order), and for each fix that
    waits, the first accepted fix it conflicts with (:meth:`Fix.conflicts_with`).

    Two edits conflict when they overlap or touch, that is when their closed ranges
    ``[start, end]`` meet; two deletions when their open ranges ``(start, end)`` do. The
    sorted end points and the stretches between them are slots (an end point's rank ``r`` is
    slot ``2r``): the accepted edits meet no slot twice but at shared end points, so a fix
    conflicts with an accepted one exactly when one of its edits' slots is claimed by that fix.
    A tree of the first claimant over the slots answers that in logarithmic time, where
    comparing every pair of fixes was quadratic (10,000 merge findings: 50 million
    comparisons). Every edit's closed slots are in ``edited``; ``kept`` holds the closed slots of
    the edits that write text, ``deleted`` the open slots of the deletions, which a deletion
    asks instead of ``edited``. Claimed ranges (``Fix.claims``) have a tree of their own,
    created files and brought cleanups a dict each.
    """
    points = sorted({p for fix in fixes for start, end in _ranges(fix) for p in (start, end)})
    rank = {p: 2 * i for i, p in enumerate(points)}
    slots = 2 * len(points)
    edited, claimed = _FirstClaim(slots), _FirstClaim(slots)
    kept, deleted = _FirstClaim(slots), _FirstClaim(slots)
    created: dict[str, int] = {}
    brought: dict[tuple[int, str], int] = {}  # brought by the first accepted fix
    brought_or_joined: dict[tuple[int, str], int] = {}
    accepted: list[int] = []
    blockers: dict[int, int] = {}
    for i, fix in enumerate(fixes):
        edits = [(rank[edit.start], rank[edit.end], edit.is_deletion) for edit in fix.edits]
        claims = [(rank[start], rank[end]) for start, end in fix.claims]
        blocker = _FREE
        for low, high, deletes in edits:
            if deletes:
                blocker = min(blocker, kept.first(low, high), deleted.first(low + 1, high - 1))
            else:
                blocker = min(blocker, edited.first(low, high))
            if claimed.used:  # most rounds claim nothing: no look-up
                blocker = min(blocker, claimed.first(low, high))
        for low, high in claims:
            blocker = min(blocker, edited.first(low, high))
        if fix.creates or fix.brings or fix.joins:
            blocker = min(
                [blocker]
                + [created.get(new.path, _FREE) for new in fix.creates]
                + [brought_or_joined.get(key, _FREE) for key in fix.brings]
                + [brought.get(key, _FREE) for key in fix.brings + fix.joins]
            )
        if blocker < _FREE:
            blockers[i] = blocker
            continue
        accepted.append(i)
        for low, high, deletes in edits:
            edited.claim(low, high, i)
            if deletes:
                deleted.claim(low + 1, high - 1, i)
            else:
                kept.claim(low, high, i)
        for low, high in claims:
            claimed.claim(low, high, i)
        for new in fix.creates:
            created.setdefault(new.path, i)
        for key in fix.brings:
            brought.setdefault(key, i)
        for key in fix.brings + fix.joins:
            brought_or_joined.setdefault(key, i)
    return accepted, blockers


def _ranges(fix: Fix) -> Iterable[tuple[int, int]]:
    yield from ((edit.start, edit.end) for edit in fix.edits)
    yield from fix.claims


_FREE = 1 << 62  # no fix has claimed the point
_FEW_POINTS = 16  # ranges of up to this many points are read leaf by leaf


class _FirstClaim:
    """The smallest claimant over ranges of points: a bottom-up segment tree of minima.
    Claimants only grow (fixes are accepted in order), so a claim stops climbing as soon as
    an ancestor already holds a smaller one."""

    __slots__ = ("size", "tree", "used")

    def __init__(self, count: int) -> None:
        self.size = 1 << max(count - 1, 0).bit_length()
        self.tree = [_FREE] * (2 * self.size)
        self.used = False  # something was claimed

    def first(self, low: int, high: int) -> int:
        """The smallest claimant of the points ``low..high`` (inclusive), or ``_FREE``."""
        tree = self.tree
        low += self.size
        high += self.size + 1
        if high - low <= _FEW_POINTS:  # an edit's two end points, usually: the leaves themselves
            return min(tree[low:high], default=_FREE)
        best = _FREE
        while low < high:
            if low & 1:
                best = min(best, tree[low])
                low += 1
            if high & 1:
                high -= 1
                best = min(best, tree[high])
            low >>= 1
            high >>= 1
        return best

    def claim(self, low: int, high: int, owner: int) -> None:
        self.used = True
        tree = self.tree
        for point in range(low + self.size, high + self.size + 1):
            if tree[point] != _FREE:
                continue  # an end point shared by two edits of this fix
            tree[point] = owner
            node = point >> 1
            while node and tree[node] > owner:
                tree[node] = owner
                node >>= 1


# (start, end) in the original text and (start, end) in the rewritten one of a stretch that
# differs; every byte outside the changes is the original's, in the same order
Change = tuple[int, int, int, int]


def tightened(source: bytes, edit: Edit) -> Edit:
    """The same change without the bytes it writes again unchanged at either end: a stage
    split that writes a stage's last lines again as they were changes only what it puts
    before them. For the map of what changed (:func:`compose_changes`), so that the diff
    aligns only that (difflib's matching is quadratic in what it is given); fixes keep their
    own edits, whose ranges decide their conflicts."""
    old = source[edit.start : edit.end]
    new = edit.content
    if not old or not new:
        return edit
    head = _common_length(old, new, from_end=False)
    tail = _common_length(old[head:], new[head:], from_end=True)
    if not head and not tail:
        return edit
    return Edit(edit.start + head, edit.end - tail, new[head : len(new) - tail])


def _common_length(a: bytes, b: bytes, *, from_end: bool) -> int:
    """How many bytes ``a`` and ``b`` share at the start (or the end), compared a stretch at a
    time in C: doubling the stretch while it matches, then halving it."""
    limit = min(len(a), len(b))
    if from_end:
        a, b = a[len(a) - limit :][::-1], b[len(b) - limit :][::-1]
    same, step = 0, 64
    while same < limit:
        step = min(step, limit - same)
        if a[same : same + step] == b[same : same + step]:
            same += step
            step *= 2
        elif step == 1:
            break
        else:
            step //= 2
    return same


def compose_changes(changes: Sequence[Change], edits: Iterable[Edit]) -> tuple[Change, ...]:
    """Where the text after ``edits`` differs from the original, given ``changes`` (where the
    current text, which ``edits`` apply to, differs from it).

    ``fix`` keeps this across its rounds, so that its diff compares only the lines around
    what the fixes changed, never the whole file (difflib's matching is quadratic on a file
    with many changes). Overlapping or touching stretches merge; linear in their number.
    """
    items = sorted(
        [(c[2], c[3], 0, c) for c in changes] + [(e.start, e.end, 1, e) for e in edits],
        key=lambda item: (item[0], item[1], item[2]),
    )
    out: list[Change] = []
    delta = 0  # current offset minus original offset, outside the changes seen so far
    growth = 0  # new offset minus current offset, after the edits seen so far
    i = 0
    while i < len(items):
        start, end = items[i][0], items[i][1]
        group_delta, group_growth = delta, 0
        while i < len(items) and items[i][0] <= end:
            item_start, item_end, kind, item = items[i]
            end = max(end, item_end)
            if kind == 0:
                group_delta = item[3] - item[1]  # the offset after this change
            else:
                group_growth += len(item.content) - (item.end - item.start)
            i += 1
        out.append((start - delta, end - group_delta, start + growth, end + growth + group_growth))
        delta = group_delta
        growth += group_growth
    return tuple(out)
