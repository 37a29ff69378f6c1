"""Where a file of a stage's image came from at one point of the build: the COPY that brought
it from the build context, or the step that wrote it.

The compatibility analysis (:mod:`slimfile.analysis.compat`) asks this for every file a
command reads (package.json at each install, a script a RUN runs, a program looked up on
PATH). Asked by walking every earlier COPY or step of the lineage, it was quadratic: a file
alternating ``COPY package.json ./`` and ``RUN npm install`` took a minute at 2,000 lines.
Here each stage's copies and writes are indexed once by the paths they can reach, and the
answer for one path is computed once per stage and path, then looked up per point of the
build by bisection.

Points of the build are ``order`` integers: :func:`step_order` of the stage index and step
number, plus the command's index in a RUN. Each field has 22 bits, more than a 4 MiB file
can hold (stages, steps or commands).
"""

from __future__ import annotations

import bisect
import fnmatch
import posixpath
from collections.abc import Iterator
from typing import NamedTuple

from slimfile.analysis.context import Context
from slimfile.analysis.globs import clean_path, folders_above
from slimfile.analysis.stage_tree import Line, StageTree, WalkInstead
from slimfile.analysis.steps import Step, expand, stage_steps
from slimfile.syntax.gocompat import parse_words

FIELD_BITS = 22
RUNTIME_ORDER = 1 << (3 * FIELD_BITS + 4)  # HEALTHCHECK, CMD, ENTRYPOINT: after every build step
ONBUILD_ORDER = RUNTIME_ORDER << 1  # triggers run in images built FROM this one
_GLOB_CHARACTERS = "*?["


def step_order(stage_index: int, number: int) -> int:
    """The point of the build at step ``number`` of stage ``stage_index`` (its commands follow
    at +0, +1, ...)."""
    return (stage_index << (2 * FIELD_BITS)) + (number << FIELD_BITS)


def stage_lineage(parents: dict[int, int | None], index: int) -> Iterator[int]:
    """The stage and the stages it is built FROM, nearest first, from a map of each stage to
    its parent (a tuple per stage would be quadratic in a long chain of stages)."""
    current: int | None = index
    seen: set[int] = set()
    while current is not None and current not in seen:
        seen.add(current)
        yield current
        current = parents.get(current)


# -- one COPY -------------------------------------------------------------------------------------


class _CopyWords(NamedTuple):
    destination: str
    sources: tuple[str | None, ...]  # None: a variable whose value is not known
    into_folder: bool  # each source lands inside the destination


def _copy_words(ctx: Context, step: Step) -> _CopyWords | None:
    """A COPY/ADD from the build context as its sources and destination; None when it is not
    a plain one-destination copy slimfile follows."""
    node = step.instruction
    if ctx.build_files is None or node.heredocs or step.effects.unknown or len(step.effects.writes) != 1:
        return None
    (destination,) = step.effects.writes
    words = list(node.json) if node.json is not None else parse_words(node.args_text, ctx.dockerfile.escape)
    sources = tuple(expand(w.strip("\"'"), step.state.env) for w in words[:-1])
    into_folder = len(sources) > 1 or words[-1].endswith("/") or words[-1].strip("\"'") in (".", "./")
    return _CopyWords(destination, sources, into_folder)


def copy_source(ctx: Context, step: Step, image_path: str) -> tuple[str | None, str | None]:
    """The context path a COPY/ADD put at ``image_path`` (when the file is in the context), and
    the context path it would come from by the COPY's paths alone (None: not this COPY)."""
    copy = _copy_words(ctx, step)
    return (None, None) if copy is None else _source_by_words(ctx, copy, image_path)


def _source_by_words(ctx: Context, copy: _CopyWords, image_path: str) -> tuple[str | None, str | None]:
    """:func:`copy_source` of a copy of these words (two copies of the same words answer alike)."""
    files = ctx.build_files
    assert files is not None
    destination, sources, into_folder = copy
    inside = image_path[len(destination) :].lstrip("/") if image_path.startswith(destination.rstrip("/") + "/") else None
    expected = None
    missing: list[str] = []
    for source in reversed(sources):
        if source is None or "://" in source:
            continue
        pattern = clean_path(source)
        matches = files.glob(source) if any(c in source for c in _GLOB_CHARACTERS) else [pattern]
        for match in matches:
            if match == "" or files.is_dir(match):
                if inside is not None:
                    candidate = clean_path(posixpath.join(match, inside))
                    if files.is_file(candidate):
                        return candidate, candidate
                    expected = expected or candidate
            elif files.is_file(match):
                target = posixpath.join(destination, posixpath.basename(match)) if into_folder else destination
                if posixpath.normpath(target) == image_path:
                    return match, match
        if expected is None and not any(m == "" or files.exists(m) for m in matches):
            missing.append(source)
    if expected is None and missing:
        expected = _expected_source(missing, len(sources), image_path, destination, inside, into_folder)
    return None, expected


def _expected_source(missing: list[str], count: int, image_path: str, destination: str, inside: str | None, into_folder: bool) -> str | None:
    """What a COPY whose sources are missing from the context would bring to ``image_path``,
    by its paths alone: a source of that name (or pattern), else the one folder it copies."""
    if not into_folder:
        pattern = clean_path(missing[0])
        return pattern if image_path == destination else (clean_path(posixpath.join(pattern, inside)) if inside else None)
    if inside is None:
        return None
    name = posixpath.basename(image_path)
    for source in missing:
        pattern = clean_path(source)
        if "/" not in inside and fnmatch.fnmatchcase(name, posixpath.basename(pattern)):
            return clean_path(posixpath.join(posixpath.dirname(pattern), name))
    if count == 1 and not any(c in missing[0] for c in _GLOB_CHARACTERS):
        return clean_path(posixpath.join(clean_path(missing[0]), inside))  # a folder copied into the destination
    return None


def _exact_targets(ctx: Context, copy: _CopyWords) -> list[str] | None:
    """The only image paths a copy of existing context files (no folder, no pattern, nothing
    missing) can answer for; None when it may answer for any path under its destination."""
    files = ctx.build_files
    assert files is not None
    targets = []
    for source in copy.sources:
        if source is None or "://" in source:
            continue
        pattern = clean_path(source)
        if pattern == "" or any(c in source for c in _GLOB_CHARACTERS) or not files.is_file(pattern):
            return None
        target = posixpath.join(copy.destination, posixpath.basename(pattern)) if copy.into_folder else copy.destination
        targets.append(posixpath.normpath(target))
    return targets


# -- one stage's index ----------------------------------------------------------------------------


def _prefixes(path: str) -> Iterator[str]:
    """``/a/b/c``, ``/a/b``, ``/a``, ``""``: the text before each ``/`` of the path, and the
    path (a write ``w`` reaches it when ``w.rstrip("/")`` is one of them)."""
    yield path
    end = path.rfind("/")
    while end >= 0:
        yield path[:end]
        end = path.rfind("/", 0, end)


class _StageIndex:
    """One stage's COPYs from the context and its steps' writes, by the paths they reach."""

    def __init__(self, ctx: Context, stage_index: int) -> None:
        # copies by the one path they can reach, or by the folder they copy into; alike copies
        # (the same words: `COPY . .` again and again) are one group
        self.copies_at: dict[str, dict[_CopyWords, _Group]] = {}
        self.copies_under: dict[str, dict[_CopyWords, _Group]] = {}
        self.first_writes: dict[str, int] = {}  # a path a step writes -> the earliest such step
        # the earliest RUN/COPY/ADD writing each path (trailing / removed), and the earliest
        # writing it exactly (``/x/`` is the folder /x: it reaches /x/y but not the file /x)
        self.writes_into: dict[str, tuple[tuple[int, Step], tuple[int, Step] | None]] = {}
        stage = ctx.stages.stages[stage_index]
        # the writes of a RUN, COPY or ADD indexed already: a later step with the same writes
        # (every apt install writes the same few dozen system paths) changes no first writer
        indexed: set[frozenset[str]] = set()
        for number, step in enumerate(stage_steps(ctx, stage)):
            at = step_order(stage_index, number)
            node = step.instruction
            if step.effects.writes not in indexed:
                writer = node.name in ("RUN", "COPY", "ADD")
                for written in step.effects.writes:
                    self.first_writes.setdefault(written, at)
                    if writer:
                        self._add_write(written, at, step)
                if writer:
                    indexed.add(step.effects.writes)
            if node.name in ("COPY", "ADD") and node.flag("from") is None:
                self._add_copy(ctx, at, step)

    def _add_write(self, written: str, at: int, step: Step) -> None:
        key = written.rstrip("/")
        first, exact = self.writes_into.get(key, ((at, step), None))
        if exact is None and written == key:
            exact = (at, step)
        self.writes_into[key] = (first, exact)

    def _add_copy(self, ctx: Context, at: int, step: Step) -> None:
        copy = _copy_words(ctx, step)
        if copy is None:
            return  # it answers for no path
        targets = _exact_targets(ctx, copy)
        if targets is None:
            _add_to_group(self.copies_under.setdefault(posixpath.normpath(copy.destination), {}), copy, at, step)
        else:
            for target in dict.fromkeys(targets):
                _add_to_group(self.copies_at.setdefault(target, {}), copy, at, step)


class _Group(NamedTuple):
    """Copies of one stage with the same words, ascending by where they are."""

    ats: list[int]
    steps: list[Step]


def _add_to_group(groups: dict[_CopyWords, _Group], copy: _CopyWords, at: int, step: Step) -> None:
    group = groups.setdefault(copy, _Group([], []))
    group.ats.append(at)
    group.steps.append(step)


def _latest(groups: list[tuple[_Group, str]], order: int) -> tuple[int, str, Step] | None:
    """(where, answer, COPY) of the latest copy before ``order`` among the groups."""
    best = None
    for group, answer in groups:
        i = bisect.bisect_left(group.ats, order)
        if i and (best is None or group.ats[i - 1] > best[0]):
            best = (group.ats[i - 1], answer, group.steps[i - 1])
    return best


_END = 1 << (3 * FIELD_BITS + 8)  # after every point of the build


class _OwnAnswers(NamedTuple):
    """What one stage's own steps say about one path."""

    found: list[tuple[_Group, str]]  # copies that put a context file there, and which
    expected: list[tuple[_Group, str]]  # copies that would, by their paths alone
    first_write: int | None  # the earliest step that writes exactly this path
    writer: tuple[int, Step] | None  # the earliest RUN/COPY/ADD writing it or a folder above it


class _Inherited(NamedTuple):
    """What the stage's base stages say about one path, summed up: the latest copy that put a
    context file there and the latest that would (where, context path, COPY), the earliest
    exact write, and the earliest writer of the nearest base stage that has one."""

    found: tuple[int, str, Step] | None
    expected: tuple[int, str, Step] | None
    first_write: int | None
    writer: tuple[int, Step] | None
    ordered: bool  # every base stage comes before the stage built on it


_NOTHING = _Inherited(None, None, None, None, True)


class LineageFiles:
    """Answers about the files of a family of stages; ``parents`` maps a stage to the stage
    it is built FROM (filled in as the family is walked).

    A stage's answer for a path is its own steps' (looked up by bisection) or else its base
    stages', summed up once per stage and path from its parent's (a long chain of stages
    asking for the same file costs one step per stage, not its whole lineage). A base stage
    comes before the stages built on it, so what it did is before any point of theirs; the
    lookups check that, and walk the lineage when it does not hold."""

    def __init__(self, ctx: Context, parents: dict[int, int | None]) -> None:
        self.ctx = ctx
        self.parents = parents
        self._stages: dict[int, _StageIndex] = {}
        self._own: dict[tuple[int, str], _OwnAnswers] = {}
        self._inherited: dict[tuple[int, str], _Inherited] = {}
        self._touching: dict[str, list[int]] = {}  # a key of a stage's index -> the stages using it
        self._tree = StageTree()

    def copied_from(self, stage_index: int, image_path: str, order: int) -> str | None:
        """The context path of the file at ``image_path``, through the last COPY before
        ``order`` in the stage's lineage that put it there."""
        found = self.found_copy(stage_index, image_path, order)
        return found[0] if found else None

    def found_copy(self, stage_index: int, image_path: str, order: int) -> tuple[str, Step] | None:
        """(context path, COPY step) of :meth:`copied_from`."""
        found = self._latest_copy(stage_index, image_path, order, "found")
        return (found[1], found[2]) if found else None

    def expected_copy(self, stage_index: int, image_path: str, order: int) -> tuple[str, Step] | None:
        """(context path, COPY step) of the last COPY before ``order`` that would put a file of
        the context there, by its paths alone."""
        found = self._latest_copy(stage_index, image_path, order, "expected")
        return (found[1], found[2]) if found else None

    def _latest_copy(self, stage_index: int, image_path: str, order: int, kind: str) -> tuple[int, str, Step] | None:
        """(where, context path, COPY) of the latest copy before ``order`` in the lineage that
        ``found`` the file (or ``expected`` it)."""
        summary = self._inherited_answers(stage_index, image_path)
        if summary.ordered:
            own = _latest(getattr(self._own_answers(stage_index, image_path), kind), order)
            inherited = getattr(summary, kind)
            if own is not None:
                return own
            if inherited is None or inherited[0] < order:
                return inherited
        # a base stage later in the file than a stage built on it: every stage of the lineage
        latest = [_latest(getattr(self._own_answers(member, image_path), kind), order) for member in self._lineage(stage_index)]
        return max((item for item in latest if item is not None), key=lambda item: item[0], default=None)

    def written_by_build(self, stage_index: int, image_path: str, order: int) -> bool:
        """A step of the lineage at or before ``order`` wrote exactly ``image_path``."""
        firsts = (self._own_answers(stage_index, image_path).first_write, self._inherited_answers(stage_index, image_path).first_write)
        return any(first is not None and first <= order for first in firsts)

    def writer(self, stage_index: int, image_path: str, order: int) -> Step | None:
        """The RUN/COPY/ADD before ``order`` that wrote ``image_path`` or a folder above it:
        in the stage itself the earliest such step, else in its nearest base stage."""
        own = self._own_answers(stage_index, image_path).writer
        if own is not None and own[0] < order:  # the stage's earliest: before order, or none is
            return own[1]
        inherited = self._inherited_answers(stage_index, image_path).writer
        if inherited is None or inherited[0] < order:
            return inherited[1] if inherited else None
        for member in self._lineage(stage_index):
            writer = self._own_answers(member, image_path).writer
            if writer is not None and writer[0] < order:
                return writer[1]
        return None

    # -- building the answers --

    def _lineage(self, stage_index: int) -> Iterator[int]:
        return stage_lineage(self.parents, stage_index)

    def _stage(self, stage_index: int) -> _StageIndex:
        if stage_index not in self._stages:
            index = self._stages[stage_index] = _StageIndex(self.ctx, stage_index)
            for key in {*index.copies_at, *index.copies_under, *index.first_writes, *index.writes_into}:
                bisect.insort(self._touching.setdefault(key, []), stage_index)
        return self._stages[stage_index]

    def _own_answers(self, stage_index: int, image_path: str) -> _OwnAnswers:
        key = (stage_index, image_path)
        if key not in self._own:
            self._own[key] = self._compute_own(stage_index, image_path)
        return self._own[key]

    def _compute_own(self, stage_index: int, image_path: str) -> _OwnAnswers:
        index = self._stage(stage_index)
        groups = list(index.copies_at.get(image_path, {}).items())
        groups.extend(item for folder in (image_path, *folders_above(image_path)) for item in index.copies_under.get(folder, {}).items())
        answers = _OwnAnswers([], [], index.first_writes.get(image_path), _first_write_reaching(index, image_path))
        for copy, group in groups:
            found, expected = _source_by_words(self.ctx, copy, image_path)
            if found is not None:
                answers.found.append((group, found))
            if expected is not None:
                answers.expected.append((group, expected))
        return answers

    def _inherited_answers(self, stage_index: int, image_path: str) -> _Inherited:
        """The summary of the base stages, summed up from the nearest base stage whose own steps
        reach the path (the others add nothing), down to this stage: a loop, not a recursion
        (chains of stages are long in generated files), and one that skips the base stages
        that do not reach the path (a chain of n stages asking each for a file of its own
        walked the whole chain per stage). Where a base stage comes after a stage built on
        it, every base stage is walked, as the summaries it sums up need."""
        pending: list[tuple[int, int | None]] = []  # (stage, the base stage summed up into it)
        seen: set[int] = set()
        current: int | None = stage_index
        while current is not None and (current, image_path) not in self._inherited and current not in seen:
            seen.add(current)
            above = self._nearest_reaching(current, image_path)
            pending.append((current, above))
            current = above
        for member, above in reversed(pending):
            if above is None or (above, image_path) not in self._inherited:
                summary = _NOTHING  # no base stage reaches it (or a loop of stages, which no valid file has)
            else:
                summary = _add(self._inherited[(above, image_path)], self._own_answers(above, image_path), True)
            self._inherited[(member, image_path)] = summary._replace(ordered=self._line(member).ordered)
        return self._inherited[(stage_index, image_path)]

    def _line(self, stage_index: int) -> Line:
        """The stage's place in its lineage; each stage of the lineage indexed as it is placed."""
        return self._tree.line(stage_index, self.parents.get, self._stage)

    def _nearest_reaching(self, stage_index: int, image_path: str) -> int | None:
        """The nearest base stage of the stage whose own steps reach ``image_path`` (copy or
        write it, or a folder above it), or None. Found among the stages indexed under the
        path's keys when the lineage is in file order; else the parent, and so every base
        stage is walked."""
        line = self._line(stage_index)
        if not line.ordered:
            return line.parent
        indexed = [self._touching[key] for key in _keys_reaching(image_path) if key in self._touching]
        try:
            return self._tree.nearest_base(stage_index, indexed)
        except WalkInstead:  # many stages beside the lineage use the path's keys
            return line.parent


def _keys_reaching(image_path: str) -> set[str]:
    """The keys of a stage's index under which a copy or a write can reach ``image_path``."""
    return {image_path, *folders_above(image_path), *_prefixes(image_path)}


def _first_write_reaching(index: _StageIndex, image_path: str) -> tuple[int, Step] | None:
    """The stage's earliest step that writes ``image_path`` itself or a folder above it."""
    found = []
    for prefix in _prefixes(image_path):
        first, exact = index.writes_into.get(prefix, (None, None))
        found.append(exact if prefix == image_path else first)
    return min((item for item in found if item is not None), key=_at, default=None)


def _add(inherited: _Inherited, own: _OwnAnswers, ordered: bool) -> _Inherited:
    """A parent's summary as its children see it: its own answers over what it inherited.
    ``ordered``: the parent comes before the child in the file (so do its own bases when
    ``inherited.ordered``), so the parent's latest copy is the latest of the lineage."""
    ordered = ordered and inherited.ordered
    found = _latest(own.found, _END) or inherited.found
    expected = _latest(own.expected, _END) or inherited.expected
    firsts = [first for first in (own.first_write, inherited.first_write) if first is not None]
    writer = own.writer if own.writer is not None else inherited.writer
    return _Inherited(found, expected, min(firsts) if firsts else None, writer, ordered)


def _at(item: tuple[int, Step]) -> int:
    return item[0]
