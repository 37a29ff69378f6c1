"""What a fixed Dockerfile must look like next to its input, as a reviewer would judge it.

Used by the corpus test (``test_composition.py``), the fuzzing test (``test_fuzz_pipeline.py``)
and ``benchmarks/fuzz.py``. Each check returns a list of problems (empty when all is well):

* :func:`introduced_duplicates`: no fix brings a command into a RUN where it does nothing.
  A command is what it does (see :func:`command_keys`: a package-manager command is its family
  and action, ``rm`` its operands, anything else its words). A copy does nothing when the copy
  before it in the RUN always ran first (no ``||`` after it, not in an ``if``/loop body the
  later one is not in) and nothing between them makes it worth doing again (for a cleanup, a
  package command of its family writing more; for an ``apt-get update`` or an install, a
  cleanup of the family's caches). In each RUN of the output, a command that occurs ``k``
  times with ``k > max(k_in, 1)``, where ``k_in`` is how often it occurs in the RUNs of the
  same stage of the input, must not have more copies that do nothing than those RUNs had. An
  output RUN is made of input RUNs of its stage (kept, merged, or with commands moved in)
  plus the commands fixes add, so more copies than ``k_in`` means a fix brought one, and a new
  copy that does nothing is one no fix should have brought; the author's own repetitions
  (``apt-get update`` in two RUNs that a merge joins) stay allowed, and so do copies that each
  do work (``rm -rf /var/lib/apt/lists/* && apt-get update && ... && rm -rf
  /var/lib/apt/lists/*``). It cannot see a fix that adds a command the stage already has as
  often elsewhere: a bound that never blames the author, not a complete oracle.
* :func:`introduced_space_runs`: no fix leaves a run of two or more blanks inside a line
  (between two non-blank characters: leading indentation does not count) that does not follow
  the file's own spacing: the input must have the same blanks after the same word or before
  the same word (alignment before a continuation marker, ``curl   \\``, stays the author's
  when an option goes in before it, and new lines may copy it).
* :func:`lost_comment_lines`: every comment line of the input (a line whose first non-blank
  character is ``#``, directives and comment lines inside continuations included) is still in
  the output, as many times.
* :func:`line_endings_changed`: an LF file stays LF, a CRLF file stays CRLF, a mixed file only
  uses the endings it had.
"""

from __future__ import annotations

import re
import traceback
from collections import Counter
from pathlib import Path
from dataclasses import dataclass

from slimfile.analysis.context import Context
from slimfile.engine import Settings, fix_source
from slimfile.syntax.errors import DockerfileError
from slimfile.shell.cleanup import rm_operands
from slimfile.shell.model import Operator, ScopeKind, ShellScript
from slimfile.syntax import parse
from slimfile.syntax.nodes import Dockerfile

_GAP = re.compile(rb"([^ \t]+)([ \t]{2,})(?=([^ \t]+))")
_BLANKS = re.compile(r"\s+")
_CONDITIONAL = frozenset({ScopeKind.IF, ScopeKind.WHILE, ScopeKind.UNTIL, ScopeKind.FOR, ScopeKind.CASE,
                          ScopeKind.FUNCTION})
_UNDOING = frozenset({"remove", "autoremove", "clean"})  # actions that write nothing new


@dataclass(frozen=True)
class RunCommand:
    key: str  # what the command does (see command_keys)
    families: frozenset[str]  # package managers whose files it removes (cleanups)
    writes: str | None  # the package manager whose files it writes (``apt-get update`` included)
    or_after: bool  # `||` follows it (or a compound it is in): what comes next may run without it
    conditional: frozenset[int]  # the if/loop/case/function bodies it is in (scope ids)


def command_keys(script: ShellScript) -> list[RunCommand]:
    """What each command of the script does, in order. A package-manager command is its family
    and action (and, for removals and cleanups, what it removes), so that fixes rewriting it in
    place (``apt`` -> ``apt-get``, a new option, ``ca-certificates`` added) do not make it
    another command; ``rm`` is its operands; any other command its words as written."""
    facts = {fact.command: fact for fact in script.packages}
    removes: dict[int, set[str]] = {}
    for cleanup in script.cleanups:
        if cleanup.manager != "tmp":
            removes.setdefault(cleanup.command, set()).add(cleanup.manager)
    out = []
    for command in script.commands:
        fact = facts.get(command.index)
        writes = None
        if fact is not None:
            removed = sorted(w.value for w in fact.packages) if fact.action in _UNDOING else []
            key = " ".join([fact.manager, fact.action, *removed])
            writes = fact.manager if fact.action not in _UNDOING else None
        elif command.name == "rm":
            key = " ".join(["rm", *sorted(w.value for w in rm_operands(command))])
        else:
            key = _BLANKS.sub(" ", " ".join(w.raw for w in command.words)).strip()
        joints = [command.after, *(scope.after for scope in command.scopes)]
        or_after = any(j is not None and j.operator is Operator.OR for j in joints)
        conditional = frozenset(scope.id for scope in command.scopes if scope.kind in _CONDITIONAL)
        out.append(RunCommand(key, frozenset(removes.get(command.index, ())), writes, or_after, conditional))
    return out


def run_commands(dockerfile: Dockerfile) -> list[tuple[int, int, list[RunCommand]]]:
    """(stage index, line, commands) for every RUN the shell model reads (ONBUILD RUNs
    included; opaque RUNs have none)."""
    context = Context(dockerfile, Settings())
    out = []
    for node in dockerfile.instructions:
        inner = node.effective
        if inner.name != "RUN":
            continue
        script = context.shell(inner)
        if not isinstance(script, ShellScript):
            continue
        stage = context.stage_of(node)
        index = stage.index if stage is not None else -1
        out.append((index, node.start_line, command_keys(script)))
    return out


def useless_repeats(commands: list[RunCommand], key: str) -> int:
    """Copies of ``key`` that do nothing: the copy before always ran before it (no ``||``
    after it, not in an ``if``/loop body this one is not in) and nothing between them makes it
    worth doing again (for a cleanup, a package command of the family writing more; for a
    refresh or an install, a cleanup of the family's caches)."""
    count = 0
    previous: int | None = None
    for position, command in enumerate(commands):
        if command.key != key:
            continue
        if previous is not None:
            first, between = commands[previous], commands[previous:position]
            if command.families:  # a cleanup: worth doing again after the family wrote more
                rewritten = any(c.writes is not None and c.writes in command.families for c in between[1:])
            else:  # a refresh, an install: worth doing again after the family's caches went
                rewritten = command.writes is not None and any(command.writes in c.families for c in between[1:])
            skippable = any(c.or_after for c in between) or not first.conditional <= command.conditional
            count += not rewritten and not skippable
        previous = position
    return count


def introduced_duplicates(before: bytes, after: bytes) -> list[str]:
    if before == after:
        return []
    copies: dict[int, Counter] = {}
    useless: dict[int, Counter] = {}
    for stage, _, commands in run_commands(parse(before)):
        copies.setdefault(stage, Counter()).update(c.key for c in commands)
        for key in {c.key for c in commands}:
            useless.setdefault(stage, Counter())[key] += useless_repeats(commands, key)
    problems = []
    for stage, line, commands in run_commands(parse(after)):
        allowed, author = copies.get(stage, Counter()), useless.get(stage, Counter())
        for key, count in Counter(c.key for c in commands).items():
            if count > max(allowed[key], 1) and useless_repeats(commands, key) > author[key]:
                problems.append(f"line {line}: `{key}` {count} times in one RUN (the input stage has it {allowed[key]} times)")
    return problems


def _gaps(source: bytes) -> list[tuple[int, bytes, bytes, bytes]]:
    """(line number, word before, blanks, word after) for every run of two or more blanks
    between two non-blank characters."""
    found = []
    for number, line in enumerate(source.splitlines(), 1):
        for match in _GAP.finditer(line):
            found.append((number, match.group(1), match.group(2), match.group(3)))
    return found


def introduced_space_runs(before: bytes, after: bytes) -> list[str]:
    """A run of blanks in the output follows the file's own spacing when the input has the same
    blanks after the same word or before the same word: the author's alignment (a fix may
    write next to it, an option after ``install`` in ``install    curl``, a ``(`` before the
    script in ``RUN      cd``), or the spacing before a continuation marker that new lines copy
    (``&& new  \\`` in a file that writes ``cmd  \\``)."""
    if before == after:
        return []
    lefts = {(left, blanks) for _, left, blanks, _ in _gaps(before)}
    rights = {(blanks, right) for _, _, blanks, right in _gaps(before)}
    lines = after.splitlines()
    return [
        f"line {number}: {lines[number - 1].decode('utf-8', 'replace')!r}"
        for number, left, blanks, right in _gaps(after)
        if (left, blanks) not in lefts and (blanks, right) not in rights
    ]


def comment_lines(source: bytes) -> Counter:
    if source.startswith(b"\xef\xbb\xbf"):
        source = source[3:]
    return Counter(s for s in (line.strip(b" \t\r") for line in source.splitlines()) if s.startswith(b"#"))


def lost_comment_lines(before: bytes, after: bytes) -> list[str]:
    lost = comment_lines(before) - comment_lines(after)
    return [line.decode("utf-8", "replace") for line in lost.elements()]


def line_endings(source: bytes) -> set[str]:
    crlf = source.count(b"\r\n")
    kinds = set()
    if crlf:
        kinds.add("CRLF")
    if source.count(b"\n") > crlf:
        kinds.add("LF")
    return kinds


def line_endings_changed(before: bytes, after: bytes) -> str | None:
    old, new = line_endings(before), line_endings(after)
    if not new <= old and old:
        return f"line endings {sorted(old)} became {sorted(new)}"
    return None


def review(before: bytes, after: bytes) -> list[str]:
    """Every problem a reviewer would raise about ``after`` as the fix of ``before``."""
    problems = [f"duplicate: {p}" for p in introduced_duplicates(before, after)]
    problems += [f"new run of blanks: {p}" for p in introduced_space_runs(before, after)]
    problems += [f"lost comment: {c!r}" for c in lost_comment_lines(before, after)]
    endings = line_endings_changed(before, after)
    if endings:
        problems.append(endings)
    return problems


# the build context the generated Dockerfiles copy from (fixtures/fuzz-context/README.md)
FUZZ_CONTEXT = Path(__file__).resolve().parents[2] / "fixtures" / "fuzz-context"
FUZZ_SETTINGS = Settings(unsafe_fixes=True, build_context=str(FUZZ_CONTEXT))


def pipeline_problems(source: bytes, settings: Settings = FUZZ_SETTINGS) -> list[str] | None:
    """What goes wrong when the whole pipeline fixes ``source`` (None: the input itself is not
    a Dockerfile slimfile reads, so there is nothing to judge). A crash is any exception but a
    :class:`DockerfileError` for the input; the output must parse, fixing it again must change
    nothing, no fix may be dropped by the engine's guard (a pass offered what it should not),
    and :func:`review` must find nothing."""
    try:
        parse(source)
    except DockerfileError:
        return None
    try:
        result = fix_source(source, "Dockerfile", settings)
    except Exception as exc:  # noqa: BLE001 - any exception is the finding
        return [f"crash: {type(exc).__name__}: {exc} ({_where(exc)})"]
    problems = [f"dropped fix {r.finding.rule.code}: {r.reason}" for r in result.rejected]
    if not result.converged:
        problems.append("did not converge")
    try:
        parse(result.output)
    except DockerfileError as exc:
        return problems + [f"output does not parse: {exc}"]
    try:
        again = fix_source(result.output, "Dockerfile", settings)
    except Exception as exc:  # noqa: BLE001
        return problems + [f"crash on the output: {type(exc).__name__}: {exc} ({_where(exc)})"]
    if again.output != result.output:
        problems.append("not idempotent: fixing the output changes it again")
    return problems + review(source, result.output)


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    frame = frames[-1] if frames else None
    return f"{Path(frame.filename).name}:{frame.lineno} in {frame.name}" if frame else "?"


def category(problem: str) -> str:
    """What kind of failure a problem is (for counting): its text up to the first detail."""
    head = problem.split(":", 1)[0]
    if head in ("crash", "crash on the output"):
        return ":".join(problem.split(":", 2)[:2]) + " " + problem.rsplit("(", 1)[-1].rstrip(")")
    return head
