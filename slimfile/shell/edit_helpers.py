"""Byte-range edits inside RUN scripts, written the way the file already writes things.

Every helper returns :class:`~slimfile.syntax.edits.Edit` objects on the Dockerfile's source
bytes and refuses (:class:`EditRefused`) rather than produce an edit whose shell meaning it
cannot vouch for. Style rules (see ``docs/shell-model.md``):

* new text never moves or drops existing bytes: comment lines inside continuations stay where
  they are, CRLF stays CRLF, a backtick-escape file gets backtick continuations;
* a one-line RUN stays one line (``a && b`` -> ``a && b && new``);
* in a multi-line RUN a new command goes on its own continuation line right after the line
  the anchor command ends on, with that RUN's indentation and operator placement (leading
  ``\\n    && new`` or trailing ``&& \\\\n    new``, whichever the author uses at that spot);
* in a heredoc script a command that ends its line gets the new command on the next line with
  the same indentation.
"""

from __future__ import annotations

import bisect
import re
import shlex
from dataclasses import dataclass
from operator import attrgetter

from slimfile.memo import cached

from slimfile.shell.model import (
    CHILD_PROCESS_SCOPES,
    Command,
    Joint,
    Operator,
    RunShell,
    ScopeKind,
    ScriptText,
    ShellScript,
    Word,
)
from slimfile.syntax import style
from slimfile.syntax.edits import Edit
from slimfile.syntax.nodes import Dockerfile, Instruction, LineRole, PhysicalLine

_SAFE_WORD = re.compile(r"[A-Za-z0-9_@%+=:,./-]+")
_SEPARATORS = (Operator.SEMICOLON, Operator.NEWLINE)
_HEREDOC_TEXTS = ("heredoc", "nested-heredoc")
_LOOPS = (ScopeKind.FOR, ScopeKind.WHILE, ScopeKind.UNTIL)


class EditRefused(ValueError):
    """The helper will not make this edit; the message says why."""


# -- options ------------------------------------------------------------------------------------


def insert_option(dockerfile: Dockerfile, script: RunShell, after: Word, option: str) -> Edit:
    """Insert `` option`` right after ``after`` (``--no-install-recommends`` after ``install``).

    The option is quoted when it is not a plain shell word. Inserting at the word's end keeps
    a continuation marker after it where it was: ``install \\`` -> ``install --opt \\``.
    """
    _modelled(script)
    return Edit.insert(after.end, b" " + _shell_word(option))


def _shell_word(text: str) -> bytes:
    word = text if _SAFE_WORD.fullmatch(text) else shlex.quote(text)
    return word.encode("utf-8")


# -- appending a command ------------------------------------------------------------------------


def append_operator(script: ShellScript, command: Command) -> str:
    """The operator that adds a command after ``command`` without changing what runs when.

    ``&&`` when the command ends its list or is followed by ``&&`` (the new command runs only if
    it succeeded, and the list's status is unchanged on failure); a new statement (``;``, or a
    newline in heredoc scripts) when it is followed by ``;``/newline, where ``&&`` would make
    ``set -e`` ignore the command's failure.
    """
    item = _item(script, command)
    after = item.after
    text = script.texts[command.text]
    statement = "\n" if text.kind in _HEREDOC_TEXTS else ";"
    ends_list = (
        after is None
        or after.operator is Operator.CASE_BREAK
        or (after.operator in _SEPARATORS and not _has_next(script, after))
    )
    if ends_list:
        # `x;` at the end: `x && new;` keeps x's status as the list's (`x; new;` would not)
        if not (command.errexit and not _errexit_ignored(command) and _errexit_needs_statement(script, command)):
            return "&&"
        if item.before is not None and item.before.operator in (Operator.AND, Operator.OR):
            # `a && x`: `a && x && new` ignores x's failure, `a && x; new` runs new (and
            # ends the list with its status) after a's ignored failure
            raise EditRefused("under set -e, no operator keeps this AND-OR list's failures")
        return statement
    if after.operator is Operator.AND:
        return "&&"
    if after.operator in _SEPARATORS:
        if _next_reads_status(script, command, after):
            raise EditRefused("the next command reads `$?`, which the new command would change")
        return statement
    raise EditRefused(f"cannot append after a command followed by {after.operator.value!r}")


def _next_reads_status(script: ShellScript, command: Command, after: Joint) -> bool:
    """True when the text from ``after`` to the end of the next command mentions ``$?``
    (``x; echo $?``, ``x; if [ $? -ne 0 ]``, ``x; case $? in``)."""
    text = script.texts[command.text].text
    starts, first_ends = cached(script, ("command-ends", command.text), lambda: _command_ends(script, command.text))
    i = bisect.bisect_left(starts, after.text_end)
    end = first_ends[i] if i < len(starts) else len(text)
    region = text[after.text_end : end]
    return b"$?" in region or b"${?" in region


def _command_ends(script: ShellScript, text: int) -> tuple[list[int], list[int]]:
    """The text starts of the commands of one script text, sorted, and for each position the
    smallest text end of the commands from there on (a command inside ``$( )`` starts after
    the command around it but ends before it)."""
    spans = sorted((c.text_start, c.text_end) for c in script.commands if c.text == text)
    first_ends = [0] * len(spans)
    smallest = None
    for i in range(len(spans) - 1, -1, -1):
        smallest = spans[i][1] if smallest is None else min(smallest, spans[i][1])
        first_ends[i] = smallest
    return [start for start, _ in spans], first_ends


def _errexit_ignored(command: Command) -> bool:
    """``set -e`` does not apply here: the command sits in a compound that is on the left of
    ``&&``/``||``, in a condition or under ``!`` (subshells included: the shell passes the
    exemption down), so its list's failure never stops the shell."""
    for scope in command.scopes:
        if scope.role == "condition" or scope.kind is ScopeKind.NEGATION:
            return True
        if scope.after is not None and scope.after.operator in (Operator.AND, Operator.OR):
            return True
    return False


def _errexit_needs_statement(script: ShellScript, command: Command) -> bool:
    """Under ``set -e``, ``b`` ending a list inside ``if``/``for``/``{ }``/a function body stops the
    shell when it fails; ``b && new`` would not (``set -e`` ignores every command of an AND-OR
    list but the last, and the compound's failure then does not count either), so the commands
    after the compound would run. True when something can run after the compound (a function
    body: after each call; a loop body: the next iteration)."""
    for scope in reversed(command.scopes):
        if scope.kind in (ScopeKind.PIPELINE, ScopeKind.NEGATION):
            continue
        if scope.kind in CHILD_PROCESS_SCOPES:
            return False  # the subshell ends with the list's status, and a failed subshell counts
        if scope.kind is ScopeKind.FUNCTION:
            return True
        if scope.kind in _LOOPS:
            return True  # the next iteration runs after the body's list
        after = scope.after
        if after is not None and not (after.operator in _SEPARATORS and not _has_next(script, after)):
            return after.operator in _SEPARATORS
    return False


def append_command(
    dockerfile: Dockerfile, script: RunShell, command: Command, text: str, *, operator: str | None = None
) -> Edit:
    """Add ``text`` (a shell command, as written) after ``command``.

    ``operator`` is ``"&&"``, ``";"`` or ``"\\n"`` (heredoc scripts); by default
    :func:`append_operator` picks the one that keeps behaviour. A command that is the last
    stage of a pipeline is appended after the whole pipeline.
    """
    script = _modelled(script)
    item = _item(script, command)
    operator = operator or append_operator(script, command)
    if operator not in ("&&", ";", "\n"):
        raise EditRefused(f"unsupported operator {operator!r}")
    piece = script.texts[command.text]
    new = text.encode("utf-8")
    if piece.kind in _HEREDOC_TEXTS:
        return _append_in_heredoc(dockerfile, script, item, piece, operator, new)
    if operator == "\n":
        operator = ";"
    return _append_in_run_line(dockerfile, script.instruction, item, operator, new)


@dataclass(frozen=True, slots=True)
class _Item:
    """What a new command is joined to: the command, or the pipeline/negation it ends."""

    start: int  # source offsets of the item
    end: int
    after: Joint | None
    text_end: int
    before: Joint | None = None


def _item(script: ShellScript, command: Command) -> _Item:
    _check_appendable(command)
    scopes = command.scopes
    if scopes and scopes[-1].kind in (ScopeKind.PIPELINE, ScopeKind.NEGATION):
        if command.after is not None:
            raise EditRefused("the command is not the last stage of its pipeline")
        scope = scopes[-1]
        if len(scopes) > 1 and scopes[-2].kind is ScopeKind.PIPELINE and scope.kind is ScopeKind.NEGATION:
            scope = scopes[-2]
        return _Item(scope.start, scope.end, scope.after, scope.text_end, scope.before)
    return _Item(command.start, command.end, command.after, command.text_end, command.before)


def _check_appendable(command: Command) -> None:
    for scope in command.scopes:
        if scope.kind in (ScopeKind.COMMAND_SUBSTITUTION, ScopeKind.PROCESS_SUBSTITUTION):
            raise EditRefused("the command is inside a command or process substitution")
        if scope.role == "condition":
            raise EditRefused("appending inside an if/while condition would change the condition")
    if command.after is not None and command.after.operator is Operator.BACKGROUND:
        raise EditRefused("the command runs in the background")


def _append_in_run_line(dockerfile: Dockerfile, instruction: Instruction, item: _Item, operator: str, new: bytes) -> Edit:
    src = dockerfile.source
    line = dockerfile.line_of(max(item.end - 1, 0))
    rest = _line_rest(dockerfile, line, item.end)
    multi_line = cached(dockerfile, ("multi-line", id(instruction)), lambda: _has_continuation(instruction))
    same_line = _same_line_text(operator, new)
    if not multi_line or (rest and not _is_trailing_operator(rest, item.after, operator)):
        return Edit.insert(item.end, same_line)
    if operator != "&&" and item.after is not None:
        return Edit.insert(item.end, same_line)
    indent = _indent_for(dockerfile, instruction, line, dockerfile.line_of(item.start))
    spacing = cached(dockerfile, ("marker-spacing", id(instruction)), lambda: style.marker_spacing(dockerfile, instruction))
    breaker = spacing + style.escape_byte(dockerfile) + style.eol_of(dockerfile, line) + indent
    op = operator.encode()
    if rest:  # `cmd && \` : the author puts operators at line ends here
        spacing_start = _marker_spacing_start(src, line)
        return Edit.insert(spacing_start, breaker + new + b" " + op)
    trailing = cached(dockerfile, ("trailing-style", id(instruction)), lambda: _trailing_style(dockerfile, instruction))
    if line.marker_start is not None or not trailing:
        return Edit.insert(item.end, breaker + op + b" " + new)
    return Edit.insert(item.end, b" " + op + breaker + new)


def _has_continuation(instruction: Instruction) -> bool:
    return any(line.role is LineRole.CONTINUATION for line in instruction.lines)


def _same_line_text(operator: str, new: bytes) -> bytes:
    return (b" && " if operator == "&&" else b"; ") + new


def _line_rest(dockerfile: Dockerfile, line: PhysicalLine, pos: int) -> bytes:
    """What follows ``pos`` on its line, without the continuation marker and blanks."""
    end = line.marker_start if line.marker_start is not None else line.content_end
    return dockerfile.source[pos:end].strip(b" \t")


def _is_trailing_operator(rest: bytes, after: Joint | None, operator: str) -> bool:
    return after is not None and operator == "&&" and after.operator is Operator.AND and rest == b"&&"


def _marker_spacing_start(src: bytes, line: PhysicalLine) -> int:
    pos = line.marker_start if line.marker_start is not None else line.content_end
    while pos > line.start and src[pos - 1] in (0x20, 0x09):
        pos -= 1
    return pos


def _indent_for(dockerfile: Dockerfile, instruction: Instruction, line: PhysicalLine, first: PhysicalLine) -> bytes:
    """Indentation for a new continuation line after ``line``: the next text line's (where the
    next operator is), else that of the line the anchor command starts on, else the RUN's."""
    lines = instruction.lines
    index = bisect.bisect_left(lines, line.start, key=_line_start)
    following = cached(dockerfile, ("next-continuation", id(instruction)), lambda: _next_continuations(lines))
    if following[index] is not None:
        return _leading_blanks(dockerfile.source, lines[following[index]])
    if first.role is LineRole.CONTINUATION:
        return _leading_blanks(dockerfile.source, first)
    return cached(dockerfile, ("indent", id(instruction)), lambda: style.continuation_indent(dockerfile, instruction))


_line_start = attrgetter("start")


def _next_continuations(lines: tuple[PhysicalLine, ...]) -> list[int | None]:
    """For each line of an instruction, the index of the first continuation line after it."""
    following: list[int | None] = [None] * len(lines)
    nearest = None
    for i in range(len(lines) - 1, -1, -1):
        following[i] = nearest
        if lines[i].role is LineRole.CONTINUATION:
            nearest = i
    return following


def _leading_blanks(src: bytes, line: PhysicalLine) -> bytes:
    i = line.start
    while i < line.content_end and src[i] in (0x20, 0x09):
        i += 1
    return src[line.start : i]


def _trailing_style(dockerfile: Dockerfile, instruction: Instruction) -> bool:
    """True when the RUN's line breaks mostly come after an operator (``&& \\``) rather than
    before one (``\\n    && next``); ties go to the leading style."""
    src = dockerfile.source
    trailing = leading = 0
    for line in instruction.lines:
        if line.role is LineRole.CONTINUATION and src[line.start : line.content_end].lstrip(b" \t")[:2] in (b"&&", b"||"):
            leading += 1
        if line.marker_start is not None:
            before = src[line.start : line.marker_start].rstrip(b" \t")
            if before.endswith((b"&&", b"||", b";", b"|")):
                trailing += 1
    return trailing > leading


def _append_in_heredoc(
    dockerfile: Dockerfile, script: ShellScript, item: _Item, piece: ScriptText, operator: str, new: bytes
) -> Edit:
    """In a heredoc script lines are statements: a command ending its line gets the new one on
    the next line; otherwise the new command joins on the same line."""
    src = dockerfile.source
    line = dockerfile.line_of(max(item.end - 1, 0))
    rest = src[item.end : line.content_end].strip(b" \t")
    if operator == "\n":
        if rest or _heredoc_body_follows(script, line):
            operator = ";"
        else:
            indent = _leading_blanks(src, line)
            return Edit.insert(line.content_end, style.eol_of(dockerfile, line) + indent + new)
    return Edit.insert(item.end, _same_line_text(operator, new))


def _heredoc_body_follows(script: ShellScript, line: PhysicalLine) -> bool:
    """A heredoc redirect on this line reads the next lines: nothing may go between."""
    starts = cached(script, "heredoc-body-starts", lambda: _heredoc_body_starts(script))
    return line.end in starts


def _heredoc_body_starts(script: ShellScript) -> frozenset[int]:
    return frozenset(r.heredoc.body_start for c in script.commands for r in c.redirects if r.heredoc is not None)


# -- removing a command --------------------------------------------------------------------------


def remove_command(dockerfile: Dockerfile, script: RunShell, command: Command) -> tuple[Edit, ...]:
    """Remove ``command`` with one joining operator; lines left empty go too.

    Which operator goes keeps the rest of the script meaning what it meant: in ``a && b; c``
    removing ``b`` takes ``&& b`` (``a; c``), not ``b;`` (``a && c``). Commands joined by
    ``||``, ``|`` or ``&``, the only command of a list, and commands with heredocs are refused.
    When the removal empties the RUN's last line, the continuation marker before it goes too.
    """
    script = _modelled(script)
    if command.scopes and command.scopes[-1].kind in (ScopeKind.PIPELINE, ScopeKind.NEGATION):
        raise EditRefused("the command is part of a pipeline")
    if any(r.heredoc is not None for r in command.redirects):
        raise EditRefused("the command reads a heredoc")
    ends_and_or = command.after is None or command.after.operator not in (Operator.AND, Operator.OR)
    after = command.after
    ends_list = (
        after is None
        or after.operator is Operator.CASE_BREAK
        or (after.operator in _SEPARATORS and not _has_next(script, after))
    )
    if ends_list and command.before is not None and command.before.operator in _SEPARATORS:
        # `x; b` minus b: the list (a subshell, a body, the RUN) would end with x's status
        raise EditRefused("the list would end with the status of the command before it")
    if _is_and(command.before) and ends_and_or and command.errexit and not _errexit_ignored(command):
        # `a && b` minus b under set -e: a becomes the last of its list, and its failure,
        # ignored before, now stops the shell
        raise EditRefused("under set -e the command before it would become the last of its AND-OR list")
    piece = script.texts[command.text]
    start, end = _removal_range(script, piece, command)
    pieces = _source_pieces(piece, start, end)
    return _line_aware_deletions(dockerfile, script.instruction, piece, pieces)


def _removal_range(script: ShellScript, piece: ScriptText, command: Command) -> tuple[int, int]:
    """The text range to delete: the command plus the operator that goes with it."""
    before, after = command.before, command.after
    for joint in (before, after):
        if joint is not None and joint.operator not in (Operator.AND, *_SEPARATORS):
            raise EditRefused(f"the command is joined by {joint.operator.value!r}")
    allowed = _removable_joints(script, command)
    if not allowed:
        raise EditRefused("the command is the only one in its list")
    same_line = [j for j in allowed if _same_source_line(piece, j, command)]
    joint = (same_line or allowed)[0]
    text = piece.text
    if joint.operator is Operator.NEWLINE:
        return command.text_start, command.text_end  # the emptied line goes as a whole
    if joint is after:
        return command.text_start, _skip_blanks(text, after.text_end, piece)
    return _skip_blanks_back(text, before.text_start, piece), command.text_end


def _removable_joints(script: ShellScript, command: Command) -> list[Joint]:
    """Joints that may go with the command. ``&&`` binds tighter than ``;``/newline, so in
    ``a && b; c`` only ``&& b`` may go (``b;`` would leave ``a && c``)."""
    before, after = command.before, command.after
    allowed: list[Joint] = []
    if after is not None and (after.operator is Operator.AND or (_has_next(script, after) and not _is_and(before))):
        allowed.append(after)
    if before is not None and (before.operator is Operator.AND or not _is_and(after)):
        allowed.append(before)
    return allowed


def _is_and(joint: Joint | None) -> bool:
    return joint is not None and joint.operator is Operator.AND


def _same_source_line(piece: ScriptText, joint: Joint, command: Command) -> bool:
    """The joint and the command come from the same source line (removing both then leaves
    the neighbours' lines alone)."""
    low, high = sorted((joint.text_start, command.text_start))
    start, end = _source_line_bounds(piece, low)
    return start <= high < end


def _has_next(script: ShellScript, joint: Joint) -> bool:
    """True when an item follows the joint (a trailing ``;`` before ``}``/``fi`` has none)."""
    return joint in cached(script, "joints-before-items", lambda: _joints_before_items(script))


def _joints_before_items(script: ShellScript) -> frozenset[Joint]:
    joints = {command.before for command in script.commands}
    joints.update(scope.before for command in script.commands for scope in command.scopes)
    return frozenset(joints)


def _skip_blanks(text: bytes, pos: int, piece: ScriptText) -> int:
    """Past the blanks after ``pos`` on the same source line (the next line's indent stays)."""
    _, limit = _source_line_bounds(piece, max(pos - 1, 0))
    while pos < limit and text[pos] in (0x20, 0x09):
        pos += 1
    return pos


def _skip_blanks_back(text: bytes, pos: int, piece: ScriptText) -> int:
    limit, _ = _source_line_bounds(piece, pos)
    while pos > limit and text[pos - 1] in (0x20, 0x09):
        pos -= 1
    return pos


def _source_line_bounds(piece: ScriptText, pos: int) -> tuple[int, int]:
    """Text range around ``pos`` that comes from one source line."""
    for seg in piece.map.segments:
        if seg.logical_start <= pos < seg.logical_end:
            start = piece.text.rfind(b"\n", seg.logical_start, pos) + 1 or seg.logical_start
            end = piece.text.find(b"\n", pos, seg.logical_end)
            return max(start, seg.logical_start), (seg.logical_end if end < 0 else end)
    return pos, pos


def _source_pieces(piece: ScriptText, start: int, end: int) -> list[tuple[int, int]]:
    pieces = []
    for seg in piece.map.segments:
        lo, hi = max(start, seg.logical_start), min(end, seg.logical_end)
        if lo < hi:
            pieces.append((seg.source_start + lo - seg.logical_start, seg.source_start + hi - seg.logical_start))
    return pieces


def _line_aware_deletions(
    dockerfile: Dockerfile, instruction: Instruction, piece: ScriptText, pieces: list[tuple[int, int]]
) -> tuple[Edit, ...]:
    """Delete ``pieces``; a continuation or heredoc line left blank is deleted whole, and when
    the RUN's last text lines go, the continuation marker of the last line that stays goes."""
    src = dockerfile.source
    deletions: list[tuple[int, int]] = []
    emptied: list[PhysicalLine] = []
    for line in _lines_touched(dockerfile, pieces):
        on_line = [(max(a, line.start), min(b, line.end)) for a, b in pieces if a < line.end and b > line.start]
        kept = _kept(src, line, on_line)
        if line.role in (LineRole.CONTINUATION, LineRole.HEREDOC_BODY) and not kept:
            emptied.append(line)
            deletions.append((line.start, line.end))
        else:
            if line.role is LineRole.CONTINUATION and kept.startswith(b"#") and on_line:
                # `    && b # note` minus `&& b`: buildkit would read the rest as a comment
                # line and join the next instruction to the RUN
                raise EditRefused("a shell comment would be left alone on its line")
            deletions.extend(on_line)
    deletions.extend(_orphaned_marker(dockerfile, instruction, {line.start for line in emptied}))
    return tuple(Edit.delete(a, b) for a, b in _merge(deletions))


def _orphaned_marker(dockerfile: Dockerfile, instruction: Instruction, emptied: set[int]) -> list[tuple[int, int]]:
    """When every text line after some line is deleted, that line's continuation marker would
    join the next instruction to this one: delete it (and keep a missing final EOL missing)."""
    text_lines = [l for l in instruction.lines if l.role in (LineRole.FIRST, LineRole.CONTINUATION)]
    if not text_lines or text_lines[-1].start not in emptied:
        return []
    survivors = [l for l in text_lines if l.start not in emptied]
    last = survivors[-1]
    if last.marker_start is None:
        return []
    deletions = [(_marker_spacing_start(dockerfile.source, last), last.content_end)]
    final = text_lines[-1]
    if final.end == final.content_end and final is instruction.lines[-1]:
        deletions.append((last.content_end, last.end))  # the file ended without EOL: keep it so
    return deletions


def _lines_touched(dockerfile: Dockerfile, pieces: list[tuple[int, int]]) -> list[PhysicalLine]:
    lines: dict[int, PhysicalLine] = {}
    for a, b in pieces:
        line = dockerfile.line_of(a)
        while True:
            lines[line.start] = line
            if line.end >= b or line.end >= len(dockerfile.source):
                break
            line = dockerfile.line_of(line.end)
    return [lines[k] for k in sorted(lines)]


def _kept(src: bytes, line: PhysicalLine, removed: list[tuple[int, int]]) -> bytes:
    """What stays of the line's text (without its continuation marker), blanks stripped."""
    keep_end = line.marker_start if line.marker_start is not None else line.content_end
    kept = bytearray()
    pos = line.start
    for a, b in sorted(removed):
        kept += src[pos:a]
        pos = max(pos, b)
    kept += src[pos:keep_end] if pos < keep_end else b""
    return bytes(kept.strip(b" \t"))


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[list[int]] = []
    for a, b in sorted(ranges):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged if b > a]


def remove_leading_commands(dockerfile: Dockerfile, script: RunShell, count: int) -> tuple[Edit, ...]:
    """Remove the first ``count`` commands of a top-level ``&&`` chain with the ``&&`` after
    them, up to the next command, continuation lines included (``RUN a \\ && b`` becomes
    ``RUN b``). Used to split a RUN: the removed commands become a RUN of their own. Refused
    when a comment line sits between them (it would be lost) or the chain is not plain."""
    script = _modelled(script)
    if not 0 < count < len(script.commands):
        raise EditRefused("nothing would be left of the RUN")
    rest = script.commands[count]
    leading = script.commands[: count + 1]
    if script.origin != "run" or any(c.scopes or c.text != 0 or c.redirects for c in leading):
        raise EditRefused("the commands are not a plain chain")
    if rest.before is None or rest.before.operator is not Operator.AND:
        raise EditRefused("the rest is not joined by `&&`")
    start, end = script.commands[0].start, rest.start
    for line in script.instruction.lines:
        if start < line.end and line.start < end and line.role in (LineRole.INNER_COMMENT, LineRole.INNER_EMPTY):
            raise EditRefused("a comment line sits between the commands")
    return (Edit.delete(start, end),)


# -- subshells ------------------------------------------------------------------------------------


def wrap_in_subshell(dockerfile: Dockerfile, script: RunShell, first: Command, last: Command) -> tuple[Edit, Edit]:
    """Put ``( ... )`` around the commands from ``first`` to ``last`` (same list), so their
    ``cd``/``export``/``set`` stop at the parenthesis, e.g. before merging another RUN after
    them. Both must sit in the same list, outside pipelines."""
    script = _modelled(script)
    if first.scopes != last.scopes or first.text != last.text or first.index > last.index:
        raise EditRefused("the commands are not in the same list")
    if first.scopes and first.scopes[-1].kind in (ScopeKind.PIPELINE, ScopeKind.NEGATION):
        raise EditRefused("the commands are part of a pipeline")
    if last.after is not None and last.after.operator in (Operator.PIPE, Operator.PIPE_ALL, Operator.BACKGROUND):
        raise EditRefused(f"the last command is followed by {last.after.operator.value!r}")
    return Edit.insert(first.start, b"("), Edit.insert(last.end, b")")


def _modelled(script: RunShell) -> ShellScript:
    if not isinstance(script, ShellScript):
        raise EditRefused(f"the RUN is opaque: {script.opaque}")
    return script
