"""Joining two consecutive RUNs into one, without changing what runs or where it fails.

Used by the merge pass (SF502) and by the apt pass (an ``apt-get update`` RUN joins the
install it feeds). ``A`` is the earlier RUN, ``B`` the next one:

* ``A`` and ``B`` must be shell-form RUNs of the same stage with the same flags, no heredocs,
  nothing but comments and blank lines between them, and a shell model (not opaque);
* ``A && B`` fails exactly where the two RUNs failed: if ``A`` fails, ``B`` never runs and the
  status is ``A``'s; ``A``'s own lists (``x; y``, ``x || y``) bind tighter than the ``&&``;
* ``A`` runs in a subshell when it changes shell state (``cd``, ``export``, ``set``, ``umask``,
  ``source``, functions, traps...) or can end the shell early (``exit``, ``exec``), or ends with a
  separator: ``(A) && B``;
* ``B`` runs in a subshell unless it is a plain ``&&`` list, so ``A && x; y`` never runs ``y``
  after ``A`` failed: ``A && (x; y)``;
* ``A`` ending with a comment or a background job (``x &``) is never merged;
* nor is ``A`` when ``set -e`` is in force in a part of it that would become the left side of
  the ``&&`` inside a subshell or compound command (the shell ignores ``set -e`` there);
* nor when ``B`` starts by removing what ``A`` (with the RUNs the same round merges into it)
  already removed, with nothing in between writing it again: the merged RUN would remove it
  twice in a row (``shell.cleanup.cleanup_profile``). The fix also declares (``Fix.joins``) the
  cleanups another fix of the round must not bring into either RUN for the same reason.

The join keeps every byte of both RUNs except ``B``'s ``RUN`` keyword and flags: ``A``'s last
line gets a continuation marker, comment lines between the RUNs become comment lines inside the
continuation (shifted by its indentation when one started at column 0), blank lines between
them go (empty continuation lines are deprecated), and ``B`` starts a continuation line
``&& ...`` (or ``A && \\`` when the file puts operators at line ends), in the file's newline,
escape character and indentation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from slimfile.analysis.context import Context
from slimfile.passes.common import RunInfo
from slimfile.shell.cleanup import CleanupProfile, after_writes, cleanup_profile
from slimfile.shell.model import Command, Operator, ScopeKind, ShellScript
from slimfile.syntax import style
from slimfile.syntax.edits import Edit
from slimfile.syntax.nodes import Dockerfile, Instruction, Item, LineRole, Trivia

_SEPARATORS = (Operator.SEMICOLON, Operator.NEWLINE)


@dataclass(frozen=True)
class MergePlan:
    first: RunInfo
    second: RunInfo
    wrap_first: str | None  # why the first RUN goes into a subshell, if it does
    wrap_second: bool
    cleanups: CleanupProfile  # of the merged RUN: a merge after this one is checked against it
    between: tuple[Trivia, ...]  # the comment and blank lines between the RUNs

    # what no other fix of the round may bring into the RUNs (``Fix.joins``)
    joins: tuple[tuple[int, str], ...] = ()


def plan_merge(ctx: Context, first: RunInfo, second: RunInfo, before: CleanupProfile | None = None) -> MergePlan | str:
    """A plan to join ``second`` onto ``first``, or the reason they cannot be joined.

    ``before`` is the cleanup profile of the RUN ``first`` will be part of when an earlier
    merge of the same round joins it to the RUN before it (a chain of merges is one RUN)."""
    between = _items_between(ctx.dockerfile, first.instruction, second.instruction)
    reason = _structural_obstacle(ctx, first, second, between)
    if reason:
        return reason
    a, b = first.script, second.script
    head = before if before is not None else cleanup_profile(a)
    tail = cleanup_profile(b)
    again = head.done & tail.leading
    if again:
        # `... && rm -rf X && rm -rf X`: nothing in between writes X again
        return f"the second RUN starts by doing what the first already did ({min(k.key for k in again)})"
    if a.comments and script_has_comment(a):
        return "the first RUN ends with a shell comment"
    if _has_top_level_background(a):
        return "the first RUN starts a background job"
    wrap_second = not is_and_list(b)
    if wrap_second and script_has_comment(b):
        return "the second RUN needs a subshell but ends with a shell comment"
    wrap_first = _why_wrap_first(a)
    if _errexit_would_be_ignored(a, wrap_first is not None):
        return "the first RUN relies on `set -e`, which is ignored on the left of `&&`"
    # brought into the first RUN, a key the second starts by removing would be removed twice
    # in a row; brought into the second, one the first leaves removed and the second does
    # not write again
    joins = [(first.outer.start, key.key) for key in tail.leading]
    joins += [(second.outer.start, key.key) for key in head.done
              if key.refresh or key.family is None or key.family not in tail.writes]
    cleanups = after_writes(head, tail)
    trivia = tuple(item for item in between or () if isinstance(item, Trivia))  # every item: checked above
    return MergePlan(first, second, wrap_first, wrap_second, cleanups, trivia, tuple(sorted(set(joins))))


def _structural_obstacle(ctx: Context, first: RunInfo, second: RunInfo, between: tuple[Item, ...] | None) -> str | None:
    """Why the two RUNs cannot be one whatever their scripts say; ``between`` is what stands
    between them (:func:`_items_between`)."""
    a, b = first.instruction, second.instruction
    if first.onbuild or second.onbuild:
        return "ONBUILD RUNs run in another build"
    if first.stage is None or first.stage is not second.stage:
        return "the RUNs are in different stages"
    if a.json is not None or b.json is not None:
        return "exec-form RUN"
    if a.heredocs or b.heredocs:
        return "heredoc RUN"
    if a.flag_values() != b.flag_values():
        return "the RUNs have different flags"
    if a.problems or b.problems:
        return "buildkit would reject one of the RUNs"
    if first.script.origin != "run" or second.script.origin != "run":
        return "heredoc script"
    if first.script.shell != second.script.shell:
        return "the RUNs run under different shells"
    if between is None or not all(isinstance(item, Trivia) for item in between):
        return "another instruction stands between the RUNs"
    if any(isinstance(item, Trivia) and _is_linter_directive(ctx.dockerfile, item) for item in between):
        return "a linter directive comment (e.g. `# hadolint ignore=...`) belongs to the second RUN"
    if not a.args or not b.args:
        return "an empty RUN"
    return None


def _items_between(dockerfile: Dockerfile, a: Instruction, b: Instruction) -> tuple[Item, ...] | None:
    """The items (comment and blank lines, instructions) between ``a`` and ``b``; None when
    ``b`` does not come after ``a``. The items tile the file in order."""
    i, j = dockerfile.item_index(a), dockerfile.item_index(b)
    return dockerfile.items[i + 1 : j] if j > i else None


_LINTER_DIRECTIVE = re.compile(
    rb"#\s*(hadolint\s|hadolint:|slimfile:|tally|checkov:|trivy:|kics|noqa|nosec|dockle|syntax=|escape=|check=)", re.I
)


def _is_linter_directive(dockerfile: Dockerfile, item: Trivia) -> bool:
    """Comments that tools read as instructions for the *next* instruction."""
    text = dockerfile.source[item.line.start : item.line.content_end].strip()
    return item.is_comment and _LINTER_DIRECTIVE.match(text) is not None


def script_has_comment(script: ShellScript) -> bool:
    main = [c for c in script.comments if script.texts[c.text].kind == "run"]
    return bool(main)


def _has_top_level_background(script: ShellScript) -> bool:
    return any(
        c.after is not None and c.after.operator is Operator.BACKGROUND and not c.in_child_process
        for c in script.commands
    ) or any(
        c.scopes and c.scopes[0].after is not None and c.scopes[0].after.operator is Operator.BACKGROUND
        for c in script.commands
    )


def _why_wrap_first(script: ShellScript) -> str | None:
    persistent = [s for s in script.state_changes if s.persists]
    if persistent:
        return f"it changes shell state ({persistent[0].kind})"
    if any(e.ends_script for e in script.exits):
        return "it can end the shell early"
    last = _last_top_level_joint(script)
    if last is not None and last.operator in _SEPARATORS:
        return "it ends with a separator"
    return None


def _errexit_would_be_ignored(script: ShellScript, wrapped: bool) -> bool:
    """``set -e`` is ignored in every command of an AND-OR list but the last, subshells and
    compound commands included: ``(set -e; false; echo x) && B`` prints x, while the RUN alone
    stopped at ``false``. True when a command that runs under ``set -e`` would end up on the
    left of the new ``&&`` inside a subshell or compound command (the whole first RUN when it is
    wrapped, else its last top-level item when that is a compound command). A simple command
    there is fine: its failure still ends the merged RUN with its status, as nothing follows."""
    tops = [(c.end, c) for c in script.commands if not c.scopes]
    tops += [(c.scopes[0].end, c.scopes[0]) for c in script.commands if c.scopes]
    if not tops:
        return False
    last = max(tops, key=lambda item: item[0])[1]
    if wrapped:  # `(set -e; make) && B` is fine: make's failure still ends the subshell
        return any(c.errexit for c in script.commands if c is not last)
    if isinstance(last, Command):
        return False
    # a pipeline of simple commands (`curl | tar`) fails as a whole: only compounds inside count
    depth = 2 if last.kind in (ScopeKind.PIPELINE, ScopeKind.NEGATION) else 1
    return any(c.errexit for c in script.commands if c.scopes and c.scopes[0].id == last.id and len(c.scopes) >= depth)


def _last_top_level_joint(script: ShellScript):
    """The operator after the script's last top-level item (a trailing ``;``), if any."""
    tops = [c for c in script.commands if not c.scopes]
    compounds = [c.scopes[0] for c in script.commands if c.scopes]
    items = [(c.end, c.after) for c in tops] + [(s.end, s.after) for s in compounds]
    if not items:
        return None
    return max(items, key=lambda item: item[0])[1]


def is_and_list(script: ShellScript) -> bool:
    """Every top-level joint is ``&&`` (pipelines inside are fine)."""
    for command in script.commands:
        outer = command.scopes[0] if command.scopes else command
        for joint in (outer.before, outer.after):
            if joint is not None and joint.operator is not Operator.AND:
                return False
    return True


def merge_edits(ctx: Context, plan: MergePlan) -> tuple[Edit, ...]:
    """The edits that turn the two RUNs of ``plan`` into one."""
    dockerfile = ctx.dockerfile
    a, b = plan.first.instruction, plan.second.instruction
    a_start, a_end = a.args_source_span()
    b_start, b_end = b.args_source_span()
    a_last = a.lines[-1]
    escape = style.escape_byte(dockerfile)
    if any(line.role is LineRole.CONTINUATION for line in a.lines):
        indent = style.continuation_indent(dockerfile, a)
    else:  # the file's usual indentation: one scan of the file per round, not one per merge
        indent = ctx.memo("style.file_indent", lambda: style.file_indent(dockerfile))
    trailing = ctx.memo("run_merge.operators_trail", lambda: operators_trail(dockerfile))
    edits: list[Edit] = []
    if plan.wrap_first:
        edits.append(Edit.insert(a_start, b"("))
    close = b")" if plan.wrap_first else b""
    marker = style.marker_spacing(dockerfile, a) + escape
    # A's last line: close the subshell, add the operator (trailing style) and the marker
    edits.append(Edit(a_end, a_last.content_end, close + (b" &&" if trailing else b"") + marker))
    # blank lines between the RUNs go; comment lines stay as comments inside the continuation,
    # shifted by its indentation when one started at column 0 (each keeps its place relative
    # to the others); comments the author indented already keep their indentation
    comments = [item for item in plan.between if item.is_comment]
    edits.extend(Edit.delete(item.start, item.end) for item in plan.between if not item.is_comment)
    if not all(_leading_blank(dockerfile.source, item.start) for item in comments):
        edits.extend(Edit.insert(item.start, indent) for item in comments)
    opener = b"" if trailing else b"&& "
    if plan.wrap_second:
        opener += b"("
    b_first = b.lines[0]
    if b_start < b_first.content_end:
        edits.append(Edit(b.start, b_start, indent + opener))
    else:
        # `RUN \` with the script on later lines: drop the keyword line, open at the script
        edits.append(Edit.delete(b.start, b_first.end))
        edits.append(Edit.insert(b_start, opener))
    if plan.wrap_second:
        edits.append(Edit.insert(b_end, b")"))
    return tuple(edits)


def _leading_blank(source: bytes, start: int) -> bool:
    """The line at ``start`` begins with a space or a tab."""
    return source[start : start + 1] in (b" ", b"\t")


def operators_trail(dockerfile: Dockerfile) -> bool:
    """True when the file writes ``&& \\`` at line ends rather than ``&&`` at line starts."""
    src = dockerfile.source
    leading = trailing = 0
    for line in dockerfile.lines:
        if line.role is LineRole.CONTINUATION and src[line.start : line.content_end].lstrip().startswith((b"&&", b"||")):
            leading += 1
        if line.marker_start is not None and src[line.start : line.marker_start].rstrip().endswith((b"&&", b"||")):
            trailing += 1
    return trailing > leading
