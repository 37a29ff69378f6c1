"""Runs the pass pipeline over one file: lint, or fix in rounds until nothing changes.

Each round parses the current text, runs every pass, applies the allowed fixes that do not
touch each other's bytes, and parses the result again. A round whose output does not parse,
or changes what no fix declared (see :mod:`slimfile.analysis.summary`), is retried one fix at
a time and the offending fixes are dropped and reported; nothing unparsable is ever returned.
"""

from __future__ import annotations

import bisect
import dataclasses
import os
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

from slimfile.analysis.context import Context
from slimfile.analysis.summary import semantic_differences
from slimfile.diagnostics import Finding
from slimfile.isolation import blame, pass_label
from slimfile.suppressions import Suppressions
from slimfile.syntax.edits import (
    Change,
    NewFile,
    apply_fixes,
    compose_changes,
    select_compatible,
    select_with_blockers,
    tightened,
)
from slimfile.syntax.errors import DockerfileError
from slimfile.syntax.nodes import Dockerfile
from slimfile.syntax.parser import parse

MAX_ROUNDS = 12
# fixes of a round that fail to verify with the others, looked at one by one per round (see
# _isolate_sound_fixes); those after the last wait for the next round
MAX_BREAKERS = 16


@dataclass(frozen=True)
class Settings:
    """What the user asked for (CLI flags and configuration merged)."""

    unsafe_fixes: bool = False
    select: frozenset[str] | None = None  # rule codes or prefixes; None selects every rule
    ignore: frozenset[str] = frozenset()
    extend_select: frozenset[str] = frozenset()
    buildkit: str = "current"
    build_context: str | None = None  # default: the Dockerfile's directory
    timeout: float | None = None  # seconds per file, enforced by slimfile.runner (None: no budget)
    timeout_by_size: bool = False  # no budget was set: ``isolation.default_budget`` of each file's size
    # fixes may create files beside the Dockerfile (a proposed .dockerignore); off when the
    # Dockerfile comes from standard input, whose fixed text is all the output there is
    create_files: bool = True
    options: dict = field(default_factory=dict, hash=False, compare=False)

    def selects(self, code: str) -> bool:
        def matches(patterns: Iterable[str]) -> bool:
            return any(p == "ALL" or code.startswith(p) for p in patterns)

        chosen = self.select is None or matches(self.select) or matches(self.extend_select)
        return chosen and not matches(self.ignore)


@dataclass
class RejectedFix:
    finding: Finding
    reason: str


@dataclass
class FixResult:
    path: str
    source: bytes
    output: bytes
    applied: list[Finding]
    remaining: list[Finding]  # findings on the output (positions in the output)
    rejected: list[RejectedFix]
    rounds: int
    converged: bool = True
    created: list[NewFile] = field(default_factory=list)  # files the applied fixes create
    # where ``output`` differs from ``source`` (slimfile.syntax.edits.compose_changes): the diff
    # looks only there; None when unknown
    changes: tuple[Change, ...] | None = None

    @property
    def changed(self) -> bool:
        """The Dockerfile changes, or a fix creates a file beside it."""
        return self.output != self.source or bool(self.created)

    def hidden_unsafe(self) -> int:
        return sum(1 for f in self.remaining if f.fix is not None and not f.fix_allowed(False))


PassFunction = Callable[[Context], Iterable[Finding]]


def default_passes() -> Sequence[PassFunction]:
    from slimfile.pipeline import PIPELINE

    return tuple(p.check for p in PIPELINE)


def lint(
    dockerfile: Dockerfile,
    settings: Settings = Settings(),
    passes: Sequence[PassFunction] | None = None,
    created: dict[str, bytes] | None = None,
) -> list[Finding]:
    """Every finding of the selected rules, located and sorted, minus suppressed ones.
    ``created``: files fixes create (the rounds of ``fix`` pass them on).

    A finding whose fix touches the bytes of a fix that comes first (pipeline order) gets
    ``extra["waits_for"]``: it only applies in a later round, after a re-parse, so reports
    that show fixes one by one (PR suggestions) must not offer both."""
    collected = _collect(dockerfile, settings, passes, created=created)
    _mark_waiting_fixes(collected, settings)
    findings = [finding for _, finding in collected]
    findings.sort(key=lambda f: (f.start, f.rule.code))
    return findings


def _mark_waiting_fixes(collected: list[tuple[int, Finding]], settings: Settings) -> None:
    ordered = [f for _, f in sorted(collected, key=lambda pf: (pf[0], pf[1].start))]
    fixable = [f for f in ordered if f.fix_allowed(settings.unsafe_fixes)]
    _accepted, blockers = select_with_blockers([f.fix for f in fixable])
    for i, blocker in sorted(blockers.items()):
        fixable[i].extra["waits_for"] = fixable[blocker].rule.code


def _collect(
    dockerfile: Dockerfile,
    settings: Settings,
    passes: Sequence[PassFunction] | None,
    shell_models: dict | None = None,
    created: dict[str, bytes] | None = None,
) -> list[tuple[int, Finding]]:
    """(pass position, finding) for every selected, unsuppressed finding, in pipeline order."""
    passes = default_passes() if passes is None else passes
    context = Context(dockerfile, settings, shell_models, created)
    try:
        return _run_passes(context, settings, passes)
    finally:
        context.release()


def _run_passes(context: Context, settings: Settings, passes: Sequence[PassFunction]) -> list[tuple[int, Finding]]:
    dockerfile = context.dockerfile
    with blame("reading suppression comments"):
        suppressions = Suppressions.of(dockerfile)
    if suppressions.skip_file:
        return []
    found: list[tuple[int, Finding]] = []
    onbuilds = _OnbuildSpans(dockerfile)
    selected: dict[str, bool] = {}  # settings.selects, once per rule code, not per finding
    for position, check in enumerate(passes):
        with blame(lambda: pass_label(check)):  # a bug in one pass is reported with its name
            for finding in check(context):
                code = finding.rule.code
                chosen = selected.get(code)
                if chosen is None:
                    chosen = selected[code] = settings.selects(code)
                if not chosen or suppressions.suppresses(finding):
                    continue
                locate(dockerfile, finding)
                _declare_onbuild_edits(onbuilds, finding)
                found.append((position, finding))
    return found


class _OnbuildSpans:
    """The byte spans of the file's ONBUILD instructions, to find the one holding an edit."""

    def __init__(self, dockerfile: Dockerfile) -> None:
        nodes = [node for node in dockerfile.instructions if node.inner is not None]
        self.starts = [node.start for node in nodes]
        self.ends = [node.end for node in nodes]

    def hold(self, edit) -> bool:
        """Some ONBUILD holds ``edit``: instructions are disjoint and in order, so the last one
        starting at or before the edit holds it if any does (an insertion where one ends and
        the next starts is held by both)."""
        i = bisect.bisect_right(self.starts, edit.start) - 1
        return i >= 0 and edit.end <= self.ends[i]


def _declare_onbuild_edits(onbuilds: _OnbuildSpans, finding: Finding) -> None:
    """An edit inside an ONBUILD instruction changes the image's ONBUILD triggers (part of its
    config) by construction; say so, so the semantic guard checks the rest of the config."""
    fix = finding.fix
    if fix is None or "onbuild" in fix.declares or not onbuilds.starts:
        return
    if any(onbuilds.hold(e) for e in fix.edits):
        finding.fix = dataclasses.replace(fix, declares=fix.declares | {"onbuild"})


def locate(dockerfile: Dockerfile, finding: Finding) -> None:
    finding.path = dockerfile.path or ""
    finding.line, finding.column = dockerfile.position(finding.start)
    end = max(finding.start, finding.end - 1) if finding.end > finding.start else finding.start
    source = dockerfile.source
    while end > finding.start and source[end] & 0xC0 == 0x80:  # back to the start of a UTF-8 character
        end -= 1
    finding.end_line, finding.end_column = dockerfile.position(end)
    if finding.end > finding.start:
        finding.end_column += 1


def check_source(
    source: bytes, path: str, settings: Settings = Settings(), passes: Sequence[PassFunction] | None = None
) -> list[Finding]:
    return lint(_parse_input(source, path, settings), settings, passes)


def _parse_input(source: bytes, path: str, settings: Settings) -> Dockerfile:
    """The input's own errors are DockerfileErrors; anything else is a bug in the parser."""
    with blame("the parser", expected=(DockerfileError,)):
        return parse(source, path=path, buildkit=settings.buildkit)


def fix_source(
    source: bytes,
    path: str,
    settings: Settings = Settings(),
    passes: Sequence[PassFunction] | None = None,
) -> FixResult:
    """Apply fixes in rounds. Raises :class:`DockerfileError` only if the input does not parse."""
    passes = default_passes() if passes is None else passes
    current = _parse_input(source, path, settings)
    applied: list[Finding] = []
    rejected: list[RejectedFix] = []
    refused: set[tuple] = set()
    converged = False
    rounds = 0
    remaining: list[Finding] | None = None
    shell_models: dict = {}  # RUN models reused across rounds while a RUN is unchanged
    created: dict[str, bytes] = {}  # files applied fixes create; later rounds see them
    changes: tuple[Change, ...] = ()
    for rounds in range(1, MAX_ROUNDS + 1):
        # earlier passes win conflicts: the pipeline order is the priority order
        collected = _collect(current, settings, passes, shell_models, created)
        ordered = sorted(collected, key=lambda pf: (pf[0], pf[1].start))
        candidates = [
            f for _, f in ordered if f.fix_allowed(settings.unsafe_fixes) and _key(current, f) not in refused
        ]
        if not candidates:
            converged = True
            # these are the findings on the output: no need to run every pass again
            _mark_waiting_fixes(collected, settings)
            remaining = sorted((f for _, f in collected), key=lambda f: (f.start, f.rule.code))
            break
        fixes = [f.fix for f in candidates]
        accepted, _deferred = select_compatible(fixes)
        chosen = [candidates[i] for i in accepted]
        result = _try_apply(current, chosen, path, settings, created)
        if result is None:
            # isolate: keep the runs of fixes that are sound together, refuse the unsound ones
            result, good, bad = _isolate_sound_fixes(current, chosen, path, settings, created)
            for finding, reason in bad:
                refused.add(_key(current, finding))
                rejected.append(RejectedFix(finding, reason))
            chosen = good
            if not chosen:
                continue
        applied.extend(chosen)
        created.update((new.path, new.content) for f in chosen for new in f.fix.creates)
        changes = compose_changes(changes, [tightened(current.source, e) for f in chosen if f.fix is not None for e in f.fix.edits])
        current = result
    if remaining is None:  # did not converge: lint what we ended with
        remaining = lint(current, settings, passes, created)
    return FixResult(
        path=path,
        source=source,
        output=current.source,
        applied=applied,
        remaining=remaining,
        rejected=rejected,
        rounds=rounds,
        converged=converged,
        created=[NewFile(p, content) for p, content in created.items()],
        changes=changes,
    )


def _key(dockerfile: Dockerfile, finding: Finding) -> tuple:
    """Identifies a finding across rounds: rule plus the text it points at."""
    return (finding.rule.code, dockerfile.source[finding.start : finding.end], finding.message)


def _verify(
    before: Dockerfile, output: bytes, chosen: Sequence[Finding], path: str, settings: Settings, created: dict[str, bytes]
) -> Dockerfile | str:
    try:
        after = parse(output, path=path, buildkit=settings.buildkit)
    except DockerfileError as exc:
        return f"output does not parse: {exc.message} (line {exc.line})"
    fixes = [f.fix for f in chosen if f.fix is not None]
    refused = _new_file_problems(fixes, settings, created)
    if refused:
        return refused
    declared = frozenset().union(*(fix.declares for fix in fixes))
    adds = [text for fix in fixes for text in fix.adds]
    in_place = [edit for fix in fixes if "reorder" not in fix.declares for edit in fix.edits] if "reorder" in declared else []
    differences = semantic_differences(before, after, declared, sum(fix.runs_removed for fix in fixes), adds, in_place)
    if differences:
        return "; ".join(differences)
    return after


def _fixes_of(chosen: Sequence[Finding]) -> str:
    return "applying the fixes of " + ", ".join(sorted({f.rule.code for f in chosen}))


def _new_file_problems(fixes: Sequence, settings: Settings, created: dict[str, bytes]) -> str | None:
    """Why the files these fixes create cannot be created: a new file never replaces one that
    exists (on disk, or created by an earlier round), and nothing is created for standard input."""
    for fix in fixes:
        for new in fix.creates:
            if not settings.create_files:
                return f"{new.path}: fixes create no files when the Dockerfile comes from standard input"
            if new.path in created or os.path.lexists(new.path):
                return f"{new.path} already exists; a fix never overwrites a file"
    return None


def _try_apply(
    current: Dockerfile, chosen: Sequence[Finding], path: str, settings: Settings, created: dict[str, bytes]
) -> Dockerfile | None:
    with blame(lambda: _fixes_of(chosen)):
        output = apply_fixes(current.source, [f.fix for f in chosen if f.fix is not None])
        result = _verify(current, output, chosen, path, settings, created)
    return result if isinstance(result, Dockerfile) else None


def _isolate_sound_fixes(current: Dockerfile, chosen: Sequence[Finding], path: str, settings: Settings, created: dict[str, bytes]):
    """The round's fixes are not sound together: keep the longest runs of them that are,
    refuse each fix that is unsound alone, and leave a fix that is sound alone but not with
    the ones before it for the next round.

    Each run is found by galloping, then bisecting: a verification re-parses the whole file,
    and one per fix made a 4 MiB file with thousands of fixes cost minutes. For the same
    reason a round looks at no more than ``MAX_BREAKERS`` fixes one by one (each costs a
    verification of the run before it and one alone): the fixes after the last of them wait
    for the next round unverified, where n trigger fixes that each failed with a reorder of
    the round cost 2n parses of the whole file."""
    good: list[Finding] = []
    bad: list[tuple[Finding, str]] = []
    result = current
    rest = list(chosen)
    for _breakers in range(MAX_BREAKERS):
        count, applied = _longest_sound_run(current, good, rest, path, settings, created)
        if count:
            good.extend(rest[:count])
            result = applied
        if count == len(rest):
            break
        breaker = rest[count]
        with blame(lambda: _fixes_of([breaker])):  # noqa: B023 (used inside this iteration)
            output = apply_fixes(current.source, [breaker.fix])
            verdict = _verify(current, output, [breaker], path, settings, created)
        if not isinstance(verdict, Dockerfile):
            bad.append((breaker, verdict))
        rest = rest[count + 1 :]
        if not rest:
            break
    return result, good, bad


def _longest_sound_run(
    current: Dockerfile, good: list[Finding], rest: list[Finding], path: str, settings: Settings, created: dict[str, bytes]
) -> tuple[int, Dockerfile]:
    """The largest k (found by doubling, then halving) for which ``good`` and the first k of
    ``rest`` verify together, and the file they make (``current`` for k = 0). Each check is a
    real verification: what is returned is sound even where soundness is not monotonic."""
    sound, applied, unsound = 0, current, len(rest) + 1
    step = 1
    while sound + step < unsound:
        size = min(sound + step, len(rest))
        attempt = _try_apply(current, good + rest[:size], path, settings, created)
        if attempt is None:
            unsound = size
            break
        sound, applied = size, attempt
        if size == len(rest):
            return sound, applied
        step *= 2
    while unsound - sound > 1:
        size = (sound + unsound) // 2
        attempt = _try_apply(current, good + rest[:size], path, settings, created)
        if attempt is None:
            unsound = size
        else:
            sound, applied = size, attempt
    return sound, applied
