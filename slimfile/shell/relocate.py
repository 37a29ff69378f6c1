"""Move a RUN's shell model to where the same RUN now stands, instead of building it again.

``fix`` works in rounds, and a fix early in a file shifts every RUN after it: their bytes are
the same, only their offsets moved. The model of such a RUN is the old model with every source
offset moved by the same distance (a RUN's heredoc bodies are inside its byte range, so one
distance fits all). Building it again was most of a second round's cost.

What holds source offsets, and is moved here: ``start``/``end`` of commands, assignments,
redirects, joints, scopes, comments and function definitions; ``body_start``/``body_end`` of
heredoc bodies; the segments of each script text's map; each word's ``to_source``. Offsets
into a script text (``text_start``/``text_end``) do not change. The script's instruction and
its heredocs become those of the new tree. Facts (packages, cleanups, state) are derived again
on first use, from the moved commands. tests/shell/test_relocate.py checks the result equals a
model built from scratch, for every RUN of every shared Dockerfile.
"""

from __future__ import annotations

from collections.abc import Callable

from slimfile.shell.model import (
    Assignment,
    Command,
    Comment,
    FunctionDef,
    HeredocBody,
    Joint,
    OpaqueRun,
    Redirect,
    RunShell,
    Scope,
    ScriptText,
    ShellScript,
    Word,
    new_command,
    new_word,
)
from slimfile.syntax.nodes import Instruction, LogicalLine, Segment


class CannotRelocate(Exception):
    """The model holds something this module does not know how to move: build it anew."""


def relocate(model: RunShell, instruction: Instruction, distance: int) -> RunShell:
    """``model`` (of a RUN with the same bytes, ``distance`` bytes earlier) for ``instruction``.
    Raises :class:`CannotRelocate` when that cannot be done safely."""
    if len(model.instruction.heredocs) != len(instruction.heredocs):
        raise CannotRelocate("the instructions have different heredocs")
    if isinstance(model, OpaqueRun):
        return OpaqueRun(instruction, model.reason, model.shell)
    return _Mover(model, instruction, distance).script()


class _Mover:
    def __init__(self, model: ShellScript, instruction: Instruction, distance: int) -> None:
        self.model = model
        self.instruction = instruction
        self.d = distance
        # joints and scopes are shared between commands: move each once, keep the sharing
        self.joints: dict[int, Joint] = {}
        self.scopes: dict[int, Scope] = {}
        self.spans: dict[int, Callable[[int, int], tuple[int, int]]] = {}
        old_heredocs = model.instruction.heredocs
        self.heredocs = {id(old): new for old, new in zip(old_heredocs, instruction.heredocs)}

    def script(self) -> ShellScript:
        m = self.model
        return ShellScript(
            instruction=self.instruction,
            shell=m.shell,
            origin=m.origin,
            texts=tuple(self.text(t) for t in m.texts),
            commands=tuple(self.command(c) for c in m.commands),
            comments=tuple(Comment(c.start + self.d, c.end + self.d, c.text_start, c.text_end, c.text) for c in m.comments),
            functions=tuple(FunctionDef(f.name, f.start + self.d, f.end + self.d, f.in_child_process) for f in m.functions),
            errexit_at_start=m.errexit_at_start,
        )

    def text(self, text: ScriptText) -> ScriptText:
        d = self.d
        segments = tuple(Segment(s.logical_start, s.source_start + d, s.length) for s in text.map.segments)
        heredoc = None
        if text.heredoc is not None:
            heredoc = self.heredocs.get(id(text.heredoc))
            if heredoc is None:
                raise CannotRelocate("a script text comes from a heredoc of another instruction")
        return ScriptText(text.kind, text.text, LogicalLine(text.map.text, segments), heredoc, text.shell)

    def command(self, c: Command) -> Command:
        d = self.d
        return new_command(
            index=c.index,
            kind=c.kind,
            words=tuple(self.word(w) for w in c.words),
            name_index=c.name_index,
            wrappers=c.wrappers,
            assignments=tuple(self.assignment(a) for a in c.assignments),
            redirects=tuple(self.redirect(r) for r in c.redirects),
            before=self.joint(c.before),
            after=self.joint(c.after),
            scopes=tuple(self.scope(s) for s in c.scopes),
            errexit=c.errexit,
            start=c.start + d,
            end=c.end + d,
            text_start=c.text_start,
            text_end=c.text_end,
            text=c.text,
        )

    def word(self, w: Word | None) -> Word | None:
        if w is None:
            return None
        return new_word(w.value, w.raw, w.static, w.quoted, w.text_start, w.text_end, self.span(w.to_source))

    def span(self, old: Callable[[int, int], tuple[int, int]]) -> Callable[[int, int], tuple[int, int]]:
        """The old text-to-source function, followed by the move (one per script text)."""
        moved = self.spans.get(id(old))
        if moved is None:
            moved = _Shifted.of(old, self.d)
            self.spans[id(old)] = moved
        return moved

    def assignment(self, a: Assignment) -> Assignment:
        return Assignment(a.name, self.word(a.value), a.raw, a.start + self.d, a.end + self.d)

    def redirect(self, r: Redirect) -> Redirect:
        body = r.heredoc
        if body is not None:
            d = self.d
            body = HeredocBody(body.delimiter, body.strip_tabs, body.quoted, body.body_start + d, body.body_end + d, body.content)
        return Redirect(r.operator, r.fd, self.word(r.target), r.start + self.d, r.end + self.d, body)

    def joint(self, j: Joint | None) -> Joint | None:
        if j is None:
            return None
        moved = self.joints.get(id(j))
        if moved is None:
            moved = Joint(j.operator, j.start + self.d, j.end + self.d, j.text_start, j.text_end)
            self.joints[id(j)] = moved
        return moved

    def scope(self, s: Scope) -> Scope:
        moved = self.scopes.get(id(s))
        if moved is None:
            moved = Scope(
                s.kind, s.role, s.id, s.start + self.d, s.end + self.d, s.text_start, s.text_end,
                self.joint(s.before), self.joint(s.after),
            )
            self.scopes[id(s)] = moved
        return moved


class _Shifted:
    """A text-to-source function followed by a move. Moving it again adds to the distance
    instead of wrapping it once more: a file with thousands of copies of one RUN relocates
    the model from copy to copy, and nested wrappers made each look-up cost one call per copy
    (quadratic, and deeper than Python's recursion limit)."""

    __slots__ = ("base", "distance")

    def __init__(self, base: Callable[[int, int], tuple[int, int]], distance: int) -> None:
        self.base = base
        self.distance = distance

    @classmethod
    def of(cls, old: Callable[[int, int], tuple[int, int]], distance: int) -> "_Shifted":
        if isinstance(old, _Shifted):
            return cls(old.base, old.distance + distance)
        return cls(old, distance)

    def __call__(self, start: int, end: int) -> tuple[int, int]:
        a, b = self.base(start, end)
        return a + self.distance, b + self.distance


__all__ = ["CannotRelocate", "relocate"]
