"""tree-sitter-bash -> command model.

The walker visits statements in source order and records every simple command with its words,
prefix assignments, redirects, the operators on either side of it (``before``/``after``) and
the scopes it sits in. Three tree-sitter-bash weaknesses are worked around, each offset-neutral:

* heredocs: ``cat <<EOF > f && next`` is mis-nested (the rest of the line ends up inside the
  redirect) and ``<<EOF cat`` does not parse. Every ``<<WORD`` is rewritten to ``<  WORD``
  (same length) before parsing and the bodies are blanked; the heredoc facts come from
  buildkit (for the RUN line) or from :func:`slimfile.shell.lexer.find_heredocs` (in scripts).
* backquoted comments (`` `# note` ``) are blanked: they expand to nothing.
* a word split around ``\\ `` or backslash-newline is joined again (see :func:`_joins`).

A plain script (words of letters, digits and ``_./:=@%+,-`` joined by ``&&``, ``||`` or ``;``:
half of the corpus's RUNs, and most lines of a long generated file) is read by a tokenizer to
the same model, at half the cost; ``tests/shell/test_plain_scripts.py`` holds it to tree-sitter's.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import tree_sitter
import tree_sitter_bash

from slimfile.shell import lexer
from slimfile.shell.interpreter import program_dialect, shell_from_argv
from slimfile.shell.model import (
    CHILD_PROCESS_SCOPES,
    Assignment,
    Command,
    CommandKind,
    Comment,
    FunctionDef,
    HeredocBody,
    Joint,
    Operator,
    Redirect,
    Scope,
    ScopeKind,
    ScriptText,
    Word,
    new_command,
    new_word,
)
from slimfile.shell.names import resolve
from slimfile.shell.source import heredoc_script_text, nested_text
from slimfile.syntax.nodes import Heredoc

MAX_NESTED_SCRIPTS = 3  # `bash <<EOF` inside `sh <<EOF` inside RUN <<EOF: deeper is opaque

_PARSER: tree_sitter.Parser | None = None

OPERATORS = {
    "&&": Operator.AND,
    "||": Operator.OR,
    ";": Operator.SEMICOLON,
    "\n": Operator.NEWLINE,
    "&": Operator.BACKGROUND,
    "|": Operator.PIPE,
    "|&": Operator.PIPE_ALL,
    ";;": Operator.CASE_BREAK,
    ";&": Operator.CASE_FALLTHROUGH,
    ";;&": Operator.CASE_CONTINUE,
}
SIMPLE_KINDS = {
    "command": CommandKind.SIMPLE,
    "declaration_command": CommandKind.DECLARATION,
    "unset_command": CommandKind.UNSET,
    "test_command": CommandKind.TEST,
    "variable_assignment": CommandKind.ASSIGNMENT,
    "variable_assignments": CommandKind.ASSIGNMENT,
}
REDIRECT_TYPES = frozenset({"file_redirect", "herestring_redirect", "heredoc_redirect"})
SUBSTITUTIONS = {
    "command_substitution": ScopeKind.COMMAND_SUBSTITUTION,
    "process_substitution": ScopeKind.PROCESS_SUBSTITUTION,
}


class ShellParseError(Exception):
    """The script cannot be modelled; the message is the opacity reason."""


@dataclass(frozen=True)
class HeredocSource:
    """A heredoc redirect of the text being walked: its public body, and where to read the
    body as a script if a shell reads it (a span of this text, or a Dockerfile heredoc)."""

    body: HeredocBody
    text_span: tuple[int, int] | None = None
    dockerfile_heredoc: Heredoc | None = None


def ts_parser() -> tree_sitter.Parser:
    """One tree-sitter parser for the process (creating it costs more than parsing a RUN)."""
    global _PARSER
    if _PARSER is None:
        _PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_bash.language()))
    return _PARSER


# -- drafts: mutable while walking, frozen at the end ------------------------------------------


@dataclass
class _Compound:
    """A compound command (or pipeline, substitution...) while walking; its joints are known
    only once the statement after it is seen, so it is frozen into Scopes at the end."""

    kind: ScopeKind
    id: int
    start: int
    end: int
    text_start: int
    text_end: int
    before: Joint | None = None
    after: Joint | None = None
    frozen: dict[str | None, Scope] = field(default_factory=dict)

    def scope(self, role: str | None) -> _ScopeRef:
        return _ScopeRef(self, role)

    def freeze(self, role: str | None) -> Scope:
        if role not in self.frozen:
            self.frozen[role] = Scope(
                self.kind, role, self.id, self.start, self.end, self.text_start, self.text_end, self.before, self.after
            )
        return self.frozen[role]


@dataclass(frozen=True)
class _ScopeRef:
    compound: _Compound
    role: str | None


@dataclass
class _CommandDraft:
    """A command while walking (its ``after`` joint comes later)."""

    kind: CommandKind
    words: tuple[Word, ...]
    name_index: int | None
    wrappers: tuple[str, ...]
    assignments: tuple[Assignment, ...]
    redirects: tuple[Redirect, ...]
    scopes: tuple[_ScopeRef, ...]
    start: int
    end: int
    text_start: int
    text_end: int
    text: int
    before: Joint | None = None
    after: Joint | None = None

    def freeze(self, index: int) -> Command:
        return new_command(
            index=index,
            kind=self.kind,
            words=self.words,
            name_index=self.name_index,
            wrappers=self.wrappers,
            assignments=self.assignments,
            redirects=self.redirects,
            before=self.before,
            after=self.after,
            scopes=tuple(ref.compound.freeze(ref.role) for ref in self.scopes),
            errexit=False,
            start=self.start,
            end=self.end,
            text_start=self.text_start,
            text_end=self.text_end,
            text=self.text,
        )


@dataclass
class ParsedScript:
    """What the walker found in a script and its nested heredoc scripts."""

    texts: list[ScriptText]
    commands: list[Command]
    comments: list[Comment]
    functions: list[FunctionDef]


# -- entry point --------------------------------------------------------------------------------


def parse_script(
    main: ScriptText, known_heredocs: dict[int, HeredocSource] | None = None, *, tree_sitter_only: bool = False
) -> ParsedScript:
    """Model ``main`` (and the nested heredoc scripts it feeds to shells).

    ``known_heredocs`` maps the text offset of each ``[n]<<WORD`` that buildkit already
    resolved (shell-form RUN) to its body; in other texts heredocs are found by scanning.
    A plain script (:func:`_plain_commands`) is read without tree-sitter, to the same model;
    ``tree_sitter_only`` reads it with tree-sitter (the tests compare the two).
    """
    walker = _Walker()
    plain = None if known_heredocs or tree_sitter_only else _plain_commands(main.text)
    if plain is not None:
        return ParsedScript([main], walker.walk_plain(main, plain), [], [])
    walker.walk_text(main, known_heredocs or {}, (), depth=0)
    drafts = sorted(walker.drafts, key=lambda d: (d.start, len(d.scopes)))
    commands = [draft.freeze(i) for i, draft in enumerate(drafts)]
    return ParsedScript(walker.texts, commands, walker.comments, walker.functions)


class _Walker:
    def __init__(self) -> None:
        self.texts: list[ScriptText] = []
        self.drafts: list[_CommandDraft] = []
        self.comments: list[Comment] = []
        self.functions: list[FunctionDef] = []
        self.next_id = 0
        # per text being walked
        self.text_index = 0
        self.piece: ScriptText | None = None
        self.src = b""
        self.heredocs: dict[int, HeredocSource] = {}
        self.depth = 0
        self.span = _span_function(None)

    # -- texts ----------------------------------------------------------------------------
    def walk_text(self, piece: ScriptText, known: dict[int, HeredocSource], scopes: tuple, depth: int) -> None:
        saved = (self.text_index, self.piece, self.src, self.heredocs, self.depth, self.span)
        self.texts.append(piece)
        self.text_index = len(self.texts) - 1
        self.piece, self.src, self.depth = piece, piece.text, depth
        self.span = _span_function(piece)
        masked = bytearray(piece.text)
        self.heredocs = dict(known)
        for start in known:
            lexer.mask_heredoc_operator(masked, start, lexer.heredoc_word_start(piece.text, start))
        if not known:
            self._find_script_heredocs(piece, masked)
        for start, end in lexer.comment_substitutions(piece.text):
            lexer.blank_out(masked, start, end)
        root = ts_parser().parse(bytes(masked)).root_node
        if root.has_error:
            raise ShellParseError(_error_reason(root, piece))
        self.walk_sequence(root.children, scopes)
        self.text_index, self.piece, self.src, self.heredocs, self.depth, self.span = saved

    def walk_plain(self, piece: ScriptText, plain: list[tuple[list[tuple[int, int]], bytes | None, int]]) -> list[Command]:
        """The commands of a plain script (see :func:`_plain_commands`), as :meth:`walk_text`
        models them, without tree-sitter: most RUNs of a long generated file are plain. They
        are made in order and final at once (no drafts to sort: nothing nests)."""
        self.piece, self.src, self.span = piece, piece.text, _span_function(piece)
        span = self.span
        commands: list[Command] = []
        before: Joint | None = None
        for index, (word_spans, operator, operator_start) in enumerate(plain):
            words = self._words_at(word_spans)
            after = None
            if operator is not None:
                operator_end = operator_start + len(operator)
                start, end = span(operator_start, operator_end)
                after = Joint(OPERATORS[operator.decode()], start, end, operator_start, operator_end)
            commands.append(self._plain_command(index, words, word_spans[0][0], word_spans[-1][1], before, after))
            before = after
        return commands

    def _plain_command(
        self, index: int, words: list[Word], text_start: int, text_end: int, before: Joint | None, after: Joint | None
    ) -> Command:
        resolved = resolve([w.value for w in words])
        assignments = tuple(self._assignment_from_word(words[i]) for i in resolved.env_word_indexes)
        start, end = self.span(text_start, text_end)
        return new_command(
            index, CommandKind.SIMPLE, tuple(words), resolved.name_index, resolved.wrappers, assignments, (),
            before, after, (), False, start, end, text_start, text_end, 0,
        )

    def _find_script_heredocs(self, piece: ScriptText, masked: bytearray) -> None:
        for found in lexer.find_heredocs(piece.text):
            if not found.terminated:
                raise ShellParseError(f"heredoc <<{found.delimiter} in the script is not terminated")
            lexer.mask_heredoc_operator(masked, found.operator_start, found.word_start)
            lexer.blank_out(masked, found.body_start, found.end)
            body_start, body_end = piece.source_span(found.body_start, found.body_end)
            content = piece.text[found.body_start : found.body_end]
            body = HeredocBody(found.delimiter, found.strip_tabs, found.quoted, body_start, body_end, content)
            self.heredocs[found.operator_start] = HeredocSource(body, (found.body_start, found.body_end))

    # -- sequences --------------------------------------------------------------------------
    def walk_sequence(self, children, scopes: tuple, trailing_redirects: tuple = ()) -> None:
        """Statements separated by operators (or newlines); sets each item's joints."""
        items = self._flatten(children)
        if trailing_redirects:
            items = _attach_to_last_statement(items, trailing_redirects)
        previous: _CommandDraft | _Compound | None = None
        previous_end = None
        pending: Joint | None = None
        for item in items:
            if item[0] == "op":
                pending = self._joint(item[1])
                if previous is not None and previous.after is None:
                    previous.after = pending
                continue
            node, redirects = item[1], item[2]
            if pending is None and previous is not None:
                pending = self._newline_joint(previous_end, node.start_byte)
                if previous.after is None:
                    previous.after = pending
            handle = self.statement(node, redirects, scopes)
            if handle is not None:
                handle.before = pending
                previous = handle
                previous_end = node.end_byte
            pending = None

    def _flatten(self, children) -> list[tuple]:
        """Statements and operators in order, with nested ``list`` nodes opened. tree-sitter
        nests ``a && b && c`` to the left, one level per operator, and ``a > f && b > g`` as a
        redirected list inside a redirected list: the walk keeps its own stack (recursion was
        quadratic through the generators, and stopped at Python's limit: a RUN of 330
        ``cmd > file`` joined by ``&&``, as SF502 merges them, was "too deeply nested")."""
        out: list[tuple] = []
        # per open list: its children still to read, and the redirects that tree-sitter put
        # after it (they belong to its last statement), and where its items start in ``out``
        stack: list[tuple[Iterator, tuple, int]] = [(iter(children), (), 0)]
        while stack:
            unread, redirects, first = stack[-1]
            for child in unread:
                kind = child.type
                if kind == "list":
                    stack.append((iter(child.children), (), len(out)))
                    break
                if kind == "redirected_statement":
                    body = child.child_by_field_name("body")
                    attached = tuple(c for c in child.children if c.type in REDIRECT_TYPES)
                    if body is None:
                        out.append(("stmt", child, ()))
                    elif body.type == "list":
                        # tree-sitter attaches a redirect after `a && b` to the list; it belongs to `b`
                        stack.append((iter(body.children), attached, len(out)))
                        break
                    else:
                        out.append(("stmt", body, attached))
                elif kind in OPERATORS:
                    out.append(("op", child))
                elif kind == "comment":
                    self._comment(child)
                elif child.is_named:
                    out.append(("stmt", child, ()))
            else:
                stack.pop()
                if redirects:
                    _attach_to_last_statement(out, redirects, first)
        return out

    def _joint(self, token) -> Joint:
        start, end = self.span(token.start_byte, token.end_byte)
        return Joint(OPERATORS[token.type], start, end, token.start_byte, token.end_byte)

    def _newline_joint(self, after: int, before: int) -> Joint:
        nl = self.src.find(b"\n", after, before)
        pos = nl if nl >= 0 else after
        width = 1 if nl >= 0 else 0
        start, end = self.span(pos, pos + width)
        return Joint(Operator.NEWLINE, start, end, pos, pos + width)

    def _comment(self, node) -> None:
        start, end = self.span(node.start_byte, node.end_byte)
        self.comments.append(Comment(start, end, node.start_byte, node.end_byte, self.text_index))

    # -- statements ---------------------------------------------------------------------------
    def statement(self, node, redirects: tuple, scopes: tuple) -> _CommandDraft | _Compound:
        kind = node.type
        if kind in SIMPLE_KINDS:
            return self.simple_command(node, redirects, scopes)
        if kind == "redirected_statement":  # only redirects, no command: `> file`
            return self.simple_command(node, (), scopes)
        if kind == "compound_statement" and node.child_count and node.children[0].type == "((":
            return self.simple_command(node, redirects, scopes, CommandKind.ARITHMETIC)
        handler = _COMPOUND_HANDLERS.get(kind)
        if handler is None:
            raise ShellParseError(f"unsupported shell construct {kind!r} at {self._where(node)}")
        compound = self._compound(_SCOPE_OF.get(kind, ScopeKind.BRACE_GROUP), node)
        handler(self, node, compound, scopes, redirects)
        return compound

    def _compound(self, kind: ScopeKind, node) -> _Compound:
        self.next_id += 1
        start, end = self.span(node.start_byte, node.end_byte)
        return _Compound(kind, self.next_id, start, end, node.start_byte, node.end_byte)

    def _pipeline(self, node, compound: _Compound, scopes: tuple, redirects: tuple) -> None:
        self.walk_sequence(node.children, scopes + (compound.scope(None),), redirects)

    def _block(self, node, compound: _Compound, scopes: tuple, redirects: tuple, role: str | None = None) -> None:
        """Subshell, brace group and negation: one body of statements."""
        children = [c for c in node.children if c.type not in ("(", ")", "{", "}", "!")]
        self.walk_sequence(children, scopes + (compound.scope(role),))

    def _if(self, node, compound: _Compound, scopes: tuple, redirects: tuple) -> None:
        roles = {"if": "condition", "elif": "condition", "then": "body", "else": "body", "fi": None}
        self._keyword_groups(node.children, roles, compound, scopes)

    def _keyword_groups(self, children, roles: dict, compound: _Compound, scopes: tuple) -> None:
        group: list = []
        role = None
        for child in children:
            if child.type in roles:
                self._walk_group(group, role, compound, scopes)
                group, role = [], roles[child.type]
            elif child.type in ("elif_clause", "else_clause"):
                self._walk_group(group, role, compound, scopes)
                group = []
                self._keyword_groups(child.children, roles, compound, scopes)
            else:
                group.append(child)
        self._walk_group(group, role, compound, scopes)

    def _walk_group(self, group: list, role: str | None, compound: _Compound, scopes: tuple) -> None:
        if group and role is not None:
            self.walk_sequence(group, scopes + (compound.scope(role),))

    def _while(self, node, compound: _Compound, scopes: tuple, redirects: tuple) -> None:
        if node.children and node.children[0].type == "until":
            compound.kind = ScopeKind.UNTIL
        condition = [c for c in node.children[1:] if c.type != "do_group"]
        self.walk_sequence(condition, scopes + (compound.scope("condition"),))
        for child in node.children:
            if child.type == "do_group":
                self._do_group(child, compound, scopes)

    def _do_group(self, node, compound: _Compound, scopes: tuple) -> None:
        body = [c for c in node.children if c.type not in ("do", "done")]
        self.walk_sequence(body, scopes + (compound.scope("body"),))

    def _for(self, node, compound: _Compound, scopes: tuple, redirects: tuple) -> None:
        for child in node.children:
            if child.type == "do_group":
                self._do_group(child, compound, scopes)
            elif child.type == "compound_statement":  # `for ((;;)) { ...; }`
                self._block(child, compound, scopes, (), role="body")
            elif child.is_named and child.type != "variable_name":
                self.walk_substitutions(child, scopes + (compound.scope("words"),))

    def _case(self, node, compound: _Compound, scopes: tuple, redirects: tuple) -> None:
        subject = node.child_by_field_name("value")
        if subject is not None:
            self.walk_substitutions(subject, scopes + (compound.scope("subject"),))
        for item in node.children:
            if item.type != "case_item":
                continue
            patterns = {c.id for c in _field_children(item, "value")}
            body = [c for c in item.children if c.id not in patterns and c.type not in (")", "(", "|")]
            self.walk_sequence(body, scopes + (compound.scope("body"),))

    def _function(self, node, compound: _Compound, scopes: tuple, redirects: tuple) -> None:
        name = node.child_by_field_name("name")
        body = node.child_by_field_name("body")
        start, end = self.span(node.start_byte, node.end_byte)
        in_child = any(ref.compound.kind in CHILD_PROCESS_SCOPES for ref in scopes)
        self.functions.append(FunctionDef(lexer.decode(self.src[name.start_byte : name.end_byte]), start, end, in_child))
        if body is None:
            return
        inner = scopes + (compound.scope("body"),)
        if body.type == "compound_statement":
            self._block(body, self._compound(ScopeKind.BRACE_GROUP, body), inner, ())
        else:
            self.walk_sequence([body], inner)

    # -- simple commands -------------------------------------------------------------------------
    def simple_command(self, node, redirects: tuple, scopes: tuple, kind: CommandKind | None = None) -> _CommandDraft:
        kind = kind or SIMPLE_KINDS.get(node.type, CommandKind.SIMPLE)
        children = node.children
        typed = [(c, c.type) for c in children]
        redirect_nodes = list(redirects) + [c for c, t in typed if t in REDIRECT_TYPES]
        if kind is CommandKind.ASSIGNMENT:
            parts = [node] if node.type == "variable_assignment" else list(node.named_children)
            assignments = [self._assignment(part) for part in parts if part.type == "variable_assignment"]
            words: list[Word] = []
        elif kind in (CommandKind.TEST, CommandKind.ARITHMETIC):
            assignments = []
            words = self._split_words(node)
        else:
            prefix, rest = _prefix_assignments(typed)
            assignments = [self._assignment(c) for c in prefix]
            words = self._words([c for c, t in typed[rest:] if t not in REDIRECT_TYPES and t != "comment"])
        resolved = resolve([w.value for w in words]) if kind is CommandKind.SIMPLE else None
        if resolved is not None:
            assignments.extend(self._assignment_from_word(words[i]) for i in resolved.env_word_indexes)
        span_start = min([node.start_byte] + [r.start_byte for r in redirect_nodes])
        span_end = max([node.end_byte] + [r.end_byte for r in redirect_nodes])
        start, end = self.span(span_start, span_end)
        draft = _CommandDraft(
            kind=kind,
            words=tuple(words),
            name_index=resolved.name_index if resolved is not None else (0 if words else None),
            wrappers=resolved.wrappers if resolved is not None else (),
            assignments=tuple(assignments),
            redirects=tuple(self._redirect(r) for r in redirect_nodes),
            scopes=scopes,
            start=start,
            end=end,
            text_start=span_start,
            text_end=span_end,
            text=self.text_index,
        )
        self.drafts.append(draft)
        self.walk_substitutions(node, scopes)
        for redirect in redirects:
            self.walk_substitutions(redirect, scopes)
        self._nested_script(draft, redirect_nodes, scopes)
        return draft

    def _words(self, nodes: list) -> list[Word]:
        """Words from argument nodes, joining nodes that tree-sitter split inside one word."""
        spans: list[list[int]] = []
        src = self.src
        for node in nodes:
            start = node.start_byte
            if spans:
                gap = spans[-1][1]
                # usually one blank between words: not joined, and no need to look further
                if gap == start or (src[gap] not in b" \t\n" and _joins(src[gap:start])):
                    spans[-1][1] = node.end_byte
                    continue
            spans.append([start, node.end_byte])
        return self._words_at(spans)

    def _words_at(self, spans) -> list[Word]:
        """The words at these (start, end) offsets of the current text."""
        parts, span, src = lexer.word_parts, self.span, self.src  # self._word, inlined: the hottest loop
        return [new_word(*parts(src[a:b]), a, b, span) for a, b in spans]

    def _split_words(self, node) -> list[Word]:
        return [self._word(a, b) for a, b in lexer.split_words(self.src, node.start_byte, node.end_byte)]

    def _word(self, a: int, b: int) -> Word:
        value, raw, static, quoted = lexer.word_parts(self.src[a:b])
        return new_word(value, raw, static, quoted, a, b, self.span)

    def _assignment(self, node) -> Assignment:
        name_node = node.child_by_field_name("name")
        value_node = node.child_by_field_name("value")
        name = lexer.decode(self.src[name_node.start_byte : name_node.end_byte]) if name_node else ""
        value = self._word(value_node.start_byte, value_node.end_byte) if value_node is not None else None
        start, end = self.span(node.start_byte, node.end_byte)
        return Assignment(name, value, lexer.decode(self.src[node.start_byte : node.end_byte]), start, end)

    def _assignment_from_word(self, word: Word) -> Assignment:
        """``NAME=value`` given to ``env``/``sudo`` as a word."""
        name, _, _ = word.value.partition("=")
        eq = word.text_start + word.raw.encode("utf-8", "surrogateescape").index(b"=")
        value = self._word(eq + 1, word.text_end) if eq + 1 < word.text_end else None
        return Assignment(name, value, word.raw, word.start, word.end)

    def _redirect(self, node) -> Redirect:
        source = self.heredocs.get(node.start_byte)
        target_node = node.child_by_field_name("destination")
        if target_node is None:
            named = [c for c in node.named_children if c.type != "file_descriptor"]
            target_node = named[0] if named else None
        op_end = target_node.start_byte if target_node is not None else node.end_byte
        written = lexer.decode(self.src[node.start_byte : op_end]).strip()
        digits = len(written) - len(written.lstrip("0123456789"))
        fd = int(written[:digits]) if digits else None
        target = self._word(target_node.start_byte, target_node.end_byte) if target_node is not None else None
        start, end = self.span(node.start_byte, node.end_byte)
        return Redirect(written[digits:].strip(), fd, target, start, end, source.body if source else None)

    # -- nesting ------------------------------------------------------------------------------
    def walk_substitutions(self, node, scopes: tuple) -> None:
        """Commands inside ``$( )``, backquotes and ``<( )`` within ``node``."""
        text = self.src[node.start_byte : node.end_byte]
        if b"(" not in text and b"`" not in text:
            return
        for sub in _substitutions(node):
            compound = self._compound(SUBSTITUTIONS[sub.type], sub)
            children = [c for c in sub.children if c.type not in ("$(", ")", "`", "<(", ">(")]
            self.walk_sequence(children, scopes + (compound.scope(None),))

    def _nested_script(self, draft: _CommandDraft, redirect_nodes: list, scopes: tuple) -> None:
        """``bash <<EOF`` (no script operand): the heredoc body is a script run by that shell."""
        stdin = [
            self.heredocs[r.start_byte]
            for r, parsed in zip(redirect_nodes, draft.redirects)
            if r.start_byte in self.heredocs and parsed.fd in (None, 0)
        ]
        if draft.name_index is None or not stdin:
            return
        argv = tuple(w.value for w in draft.words[draft.name_index :])
        if program_dialect(argv[0]) not in ("sh", "bash", "ksh", "zsh") or not reads_script_from_stdin(list(argv[1:])):
            return
        if self.depth + 1 > MAX_NESTED_SCRIPTS:
            raise ShellParseError("heredoc scripts nested too deeply")
        body = self._body_text(stdin[-1])
        body = ScriptText(body.kind, body.text, body.map, body.heredoc, shell_from_argv(argv, "command"))
        self.next_id += 1
        compound = _Compound(
            ScopeKind.HEREDOC_SCRIPT, self.next_id, draft.start, draft.end, draft.text_start, draft.text_end
        )
        self.walk_text(body, {}, scopes + (compound.scope(None),), self.depth + 1)

    def _body_text(self, source: HeredocSource) -> ScriptText:
        if source.text_span is not None:
            return nested_text(self.piece, source.text_span[0], source.text_span[1], source.body.strip_tabs)
        assert source.dockerfile_heredoc is not None
        return heredoc_script_text(source.dockerfile_heredoc, "nested-heredoc", source.body.strip_tabs)

    def _where(self, node) -> str:
        return f"line {node.start_point[0] + 1} of the script"


_COMPOUND_HANDLERS = {
    "pipeline": _Walker._pipeline,
    "subshell": _Walker._block,
    "compound_statement": _Walker._block,
    "negated_command": _Walker._block,
    "if_statement": _Walker._if,
    "while_statement": _Walker._while,
    "for_statement": _Walker._for,
    "c_style_for_statement": _Walker._for,
    "case_statement": _Walker._case,
    "function_definition": _Walker._function,
}
_SCOPE_OF = {
    "pipeline": ScopeKind.PIPELINE,
    "subshell": ScopeKind.SUBSHELL,
    "compound_statement": ScopeKind.BRACE_GROUP,
    "negated_command": ScopeKind.NEGATION,
    "if_statement": ScopeKind.IF,
    "while_statement": ScopeKind.WHILE,
    "for_statement": ScopeKind.FOR,
    "c_style_for_statement": ScopeKind.FOR,
    "case_statement": ScopeKind.CASE,
    "function_definition": ScopeKind.FUNCTION,
}


def _span_function(piece: ScriptText | None):
    """``piece.source_span``, as a plain offset shift when the text is one piece of the source
    (most RUNs on one line, heredoc scripts without ``<<-``)."""
    if piece is None:
        return lambda start, end: (start, end)
    segments = piece.map.segments
    if len(segments) == 1 and segments[0].logical_start == 0 and segments[0].length == len(piece.text):
        shift = segments[0].source_start
        return lambda start, end: (start + shift, end + shift)
    if not segments:
        return piece.map.source_span
    # LogicalLine.to_source for both ends, inlined: called for every command, word and joint
    starts = [seg.logical_start for seg in segments]
    ends = [seg.logical_end for seg in segments]
    sources = [seg.source_start for seg in segments]
    source_ends = [seg.source_end for seg in segments]
    find = bisect.bisect_right

    def span(start: int, end: int) -> tuple[int, int]:
        j = find(starts, end) - 1
        if j < 0:
            j = 0
        if end == starts[j] and j > 0:  # an end at a segment's start belongs to the one before
            last = source_ends[j - 1]
        else:
            last = sources[j] + (min(end, ends[j]) - starts[j])
        if start == end:
            return last, last
        i = find(starts, start) - 1
        if i < 0:
            i = 0
        return sources[i] + (min(start, ends[i]) - starts[i]), last

    return span


# A plain script: words of these bytes only (any non-ASCII byte among them: tree-sitter-bash
# reads them as word characters, even invalid UTF-8), separated by blanks, joined by `&&`,
# `||`, `;` or a newline.
_PLAIN_TEXT = re.compile(rb"[A-Za-z0-9_./:=@%+,*\x80-\xff\- \t\n&|;]*")
_PLAIN_TOKEN = re.compile(rb"[ \t]*(?:(&&|\|\||;|\n)|([A-Za-z0-9_./:=@%+,*\x80-\xff\-]+))")
# a command's name: tree-sitter-bash rejects `a+:`, `x%`, `git@x:y` or `-` then `a%` there
_PLAIN_NAME = re.compile(rb"[A-Za-z0-9_./][A-Za-z0-9_./-]*")
# first words tree-sitter-bash reads as something other than a simple command's name
_NOT_PLAIN_NAMES = frozenset(
    b"if then else elif fi do done case esac while until for in function select time coproc"
    b" declare typeset export readonly local unset unsetenv".split()
)


def _plain_commands(text: bytes) -> list[tuple[list[tuple[int, int]], bytes | None, int]] | None:
    """The commands of ``text`` when it is a plain script: for each, its word spans and the
    operator after it with its offset (a newline that ends a command is its operator, as in
    the tree-sitter walk; blank lines and a newline after `;` are only space). None for
    anything else (quotes, expansions, globs, redirects, pipes, comments, keywords,
    assignments, a newline after `&&` or `||`, and the plain words tree-sitter-bash cannot
    read), which tree-sitter reads."""
    if not _PLAIN_TEXT.fullmatch(text):
        return None
    commands: list[tuple[list[tuple[int, int]], bytes | None, int]] = []
    words: list[tuple[int, int]] = []
    and_or_before = False  # the last token was `&&` or `||`
    pos, end = 0, len(text.rstrip(b" \t\n"))
    while pos < end:
        token = _PLAIN_TOKEN.match(text, pos)
        if token is None:  # a lone `&` or `|`
            return None
        operator = token.group(1)
        if operator is None:
            value = token.group(2)
            if words and value == b"==":  # tree-sitter-bash rejects `echo ==` (a test operator)
                return None
            if not words and (not _PLAIN_NAME.fullmatch(value) or value in _NOT_PLAIN_NAMES):
                return None
            words.append(token.span(2))
            and_or_before = False
        elif operator == b"\n":
            if words:  # something follows (trailing newlines are stripped): the joint
                commands.append((words, operator, token.start(1)))
                words = []
            elif and_or_before:
                return None  # `a &&` continued on the next line: tree-sitter reads it
        elif not words or (operator != b";" and token.end() >= end):
            return None  # an operator with nothing before it, or `&&`/`||` with nothing after
        else:
            commands.append((words, operator, token.start(1)))
            words = []
            and_or_before = operator != b";"
        pos = token.end()
    if words:
        commands.append((words, None, 0))
    return commands or None


def _attach_to_last_statement(items: list[tuple], redirects: tuple, first: int = 0) -> list[tuple]:
    """The redirects given to the last statement of ``items[first:]``."""
    for i in range(len(items) - 1, first - 1, -1):
        if items[i][0] == "stmt":
            items[i] = ("stmt", items[i][1], items[i][2] + tuple(redirects))
            break
    return items


def _field_children(node, name: str) -> list:
    return [c for i, c in enumerate(node.children) if node.field_name_for_child(i) == name]


def _substitutions(node) -> list:
    """Command/process substitutions in ``node`` (``node`` itself included), outermost only,
    in source order."""
    stack = [node]
    found = []
    while stack:
        current = stack.pop()
        if current.type in SUBSTITUTIONS:
            found.append(current)
            continue
        stack.extend(current.children)
    return sorted(found, key=lambda n: n.start_byte)


def _prefix_assignments(typed: list[tuple]) -> tuple[list, int]:
    """The ``NAME=value`` children before the command name (``typed``: (child, type) pairs;
    redirects may stand between them), and the index of the first child after them."""
    found = []
    for index, (child, kind) in enumerate(typed):
        if kind == "variable_assignment":
            found.append(child)
        elif kind not in REDIRECT_TYPES:
            return found, index
    return found, len(typed)


def _joins(gap: bytes) -> bool:
    """True when the text between two argument nodes does not separate words: it is empty
    or only escaped characters (``\\ ``) and backslash-newline continuations."""
    i = 0
    while i < len(gap):
        if gap[i] == 0x5C and i + 1 < len(gap):
            i += 2
            continue
        if gap[i] in b" \t\n":
            return False
        i += 1
    return True


def reads_script_from_stdin(args: list[str]) -> bool:
    """True for shell arguments that leave the script to stdin: options only (not ``-c``),
    ``-s``, or operands after ``--`` or ``-s`` (which become the positional parameters)."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return True
        if len(arg) > 1 and arg[0] in "-+":
            letters = arg[1:]
            if "c" in letters and arg[0] == "-":
                return False
            if "s" in letters:
                return True
            if "o" in letters:
                i += 1
            i += 1
            continue
        return False
    return True


def _error_reason(root, piece: ScriptText) -> str:
    node = _first_error(root)
    if node is None:
        return "tree-sitter-bash cannot parse the script"
    line = node.start_point[0] + 1
    snippet = piece.text[node.start_byte : node.start_byte + 40].split(b"\n", 1)[0]
    return f"tree-sitter-bash cannot parse the script (line {line} of the script, near {lexer.decode(snippet)!r})"


def _first_error(node):
    if node.type == "ERROR" or node.is_missing:
        return node
    for child in node.children:
        if child.has_error or child.is_missing:
            found = _first_error(child)
            if found is not None:
                return found
    return None
