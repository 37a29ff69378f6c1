"""A lossless Dockerfile parser that splits instructions exactly as buildkit does.

The line rules follow buildkit's ``frontend/dockerfile/parser`` (``Parse``,
``trimContinuationCharacter``, ``isComment``, ``isEmptyContinuationLine``, ``splitCommand``,
``extractBuilderFlags``, ``parseJSON``, ``heredocsFromLine``) and its directive parser, but
instead of throwing the trivia away every physical line is kept with its role and EOL bytes.

``buildkit="current"`` follows buildkit HEAD; ``buildkit="0.12"`` follows v0.12.5, the version
inside the ``dockerfile`` package that the tests use as an oracle. They differ in the ``check``
directive, JSON strictness, the heredoc regex and the escape token used in flags.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from slimfile.syntax.errors import ParseError
from slimfile.syntax.gocompat import (
    RE_WHITESPACE,
    JSONArrayError,
    NotStringArrayError,
    ShellLexError,
    ShellWordLexer,
    Word,
    lstrip_go_space,
    parse_json_array,
    parse_words,
    rstrip_go_space,
)
from slimfile.syntax.nodes import (
    BOM,
    Directive,
    Dockerfile,
    Flag,
    Heredoc,
    Instruction,
    Item,
    LineRole,
    LogicalLine,
    ParseWarning,
    PhysicalLine,
    Segment,
    Trivia,
)


@dataclass(frozen=True)
class BuildkitRules:
    """The parser details that changed between buildkit releases."""

    directives: frozenset[str]
    heredoc_re: re.Pattern[str]
    json_strict: bool
    flags_use_file_escape: bool
    lexer_sees_heredocs: bool
    directive_space_is_unicode: bool


RULES = {
    "current": BuildkitRules(
        directives=frozenset({"syntax", "escape", "check"}),
        heredoc_re=re.compile(r"^(\d*)<<(-?)[\t\n\f\r ]*([^<]*)\Z", re.S),
        json_strict=True,
        flags_use_file_escape=True,
        lexer_sees_heredocs=True,
        directive_space_is_unicode=True,
    ),
    "0.12": BuildkitRules(
        directives=frozenset({"syntax", "escape"}),
        heredoc_re=re.compile(r"^(\d*)<<(-?)([^<]*)\Z", re.S),
        json_strict=False,
        flags_use_file_escape=False,
        lexer_sees_heredocs=False,
        directive_space_is_unicode=False,
    ),
}

_DIRECTIVE_RE = re.compile(rb"([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*\Z")
_DIRECTIVE_RE_012 = re.compile(rb"#[\t\n\f\r ]*([a-zA-Z][a-zA-Z0-9]*)[\t\n\f\r ]*=[\t\n\f\r ]*(.+?)[\t\n\f\r ]*\Z")

HEREDOC_KEYWORDS = frozenset({"ADD", "COPY", "RUN"})
# bytes that buildkit's extractBuilderFlags treats as spaces (it tests single bytes as runes)
_FLAG_SPACE_BYTES = frozenset(b"\t\n\v\f\r \x85\xa0")
_FLAG_SPECIAL = re.compile(rb"[\"']")
_PLAIN_WORD = re.compile(rb"[^\t\n\v\f\r ]+")
# heredoc words when the line has no quotes, variables or escapes: `<<` glues to what follows
_PLAIN_SHELL_WORD = re.compile(r"(?:<<[\t\r ]*|[^\t\n\v\f\r ])+")
_SHELL_SPECIAL = re.compile(r"[\"'$\\]")


def parse(source: bytes, *, path: str | None = None, buildkit: str = "current") -> Dockerfile:
    """Parse ``source`` into a lossless tree. Raises :class:`ParseError` on lexical errors."""
    if isinstance(source, str):
        raise TypeError("parse() takes bytes; encode the text first")
    try:
        return _Parser(source, RULES[buildkit], buildkit).run(path)
    except ParseError as exc:
        if path is not None and exc.path is None:
            exc.path = path
        raise


def parse_text(text: str, **kwargs) -> Dockerfile:
    return parse(text.encode("utf-8", "surrogateescape"), **kwargs)


def split_lines(src: bytes) -> list[tuple[int, int, int]]:
    """(start, content_end, end) of every line; the EOL is ``[content_end, end)``."""
    out = []
    pos = 0
    n = len(src)
    find = src.find
    while pos < n:
        nl = find(b"\n", pos)
        end = n if nl < 0 else nl + 1
        content_end = end
        while content_end > pos and src[content_end - 1] in (10, 13):
            content_end -= 1
        out.append((pos, content_end, end))
        pos = end
    return out


class _Parser:
    def __init__(self, src: bytes, rules: BuildkitRules, mode: str) -> None:
        self.src = src
        self.rules = rules
        self.mode = mode
        self.raw = split_lines(src)
        self.escape = "\\"
        self.escape_byte = 0x5C
        self.directives_done = False
        self.seen_directives: set[str] = set()
        self.directives: list[Directive] = []
        self.items: list[Item] = []
        self.lines: list[PhysicalLine] = []
        self.warnings: list[ParseWarning] = []
        self.i = 0

    # -- top level -------------------------------------------------------------------------
    def run(self, path: str | None) -> Dockerfile:
        src = self.src
        bom = src.startswith(BOM)
        while self.i < len(self.raw):
            start, content_end, end = self.raw[self.i]
            number = self.i + 1
            text_start = start + len(BOM) if (self.i == 0 and bom) else start
            body = lstrip_go_space(src, text_start, content_end)
            is_comment = body < content_end and src[body] == 0x23  # '#'
            directive = self._possible_directive(src[body:content_end], number)
            if is_comment:
                role = LineRole.DIRECTIVE if directive else LineRole.COMMENT
                line = self._line(number, start, content_end, end, role)
                if directive:
                    node = Directive(directive[0], directive[1], line)
                    self.directives.append(node)
                    self.items.append(node)
                else:
                    self.items.append(Trivia(line))
                self.i += 1
                continue
            kept_end, marker = self._trim_continuation(body, content_end)
            if marker is None and kept_end == body:
                self.items.append(Trivia(self._line(number, start, content_end, end, LineRole.BLANK)))
                self.i += 1
                continue
            self.items.append(self._instruction(start, body, kept_end, marker))
        return Dockerfile(
            source=src,
            items=tuple(self.items),
            escape=self.escape,
            directives=tuple(self.directives),
            lines=tuple(self.lines),
            warnings=tuple(self.warnings),
            path=path,
            buildkit=self.mode,
        )

    def _line(self, number: int, start: int, content_end: int, end: int, role: LineRole, marker: int | None = None):
        line = PhysicalLine(number, start, content_end, end, role, marker)
        self.lines.append(line)
        return line

    def _possible_directive(self, token: bytes, number: int) -> tuple[str, str] | None:
        """buildkit's DirectiveParser.ParseLine: directives only until the first other line."""
        if self.directives_done:
            return None
        if self.rules.directive_space_is_unicode:
            if not token.startswith(b"#"):
                self.directives_done = True
                return None
            rest = token[lstrip_go_space(token, 1) :]
            match = _DIRECTIVE_RE.match(rest)
        else:
            match = _DIRECTIVE_RE_012.match(token)
        if match is None:
            self.directives_done = True
            return None
        name = match.group(1).decode("ascii").lower()
        if name not in self.rules.directives:
            self.directives_done = True
            return None
        if name in self.seen_directives:
            raise ParseError(f"only one {name} parser directive can be used", number)
        self.seen_directives.add(name)
        value = match.group(2).decode("utf-8", "surrogateescape")
        if name == "escape":
            if value not in ("\\", "`"):
                raise ParseError(f"invalid escape token '{value}' does not match ` or \\", number)
            self.escape = value
            self.escape_byte = ord(value)
        return name, value

    def _trim_continuation(self, start: int, end: int) -> tuple[int, int | None]:
        """buildkit's continuation regex ``([^E])E[ \\t]*$|^E[ \\t]*$`` on ``src[start:end]``:
        (end of the kept text, start of the continuation marker or None)."""
        src = self.src
        p = end
        while p > start and src[p - 1] in (0x20, 0x09):
            p -= 1
        esc = self.escape_byte
        if p > start and src[p - 1] == esc and (p - 1 == start or src[p - 2] != esc):
            return p - 1, p - 1
        return end, None

    # -- instructions ----------------------------------------------------------------------
    def _instruction(self, start: int, body: int, kept_end: int, marker: int | None) -> Instruction:
        src = self.src
        first_number = self.i + 1
        _, content_end, end = self.raw[self.i]
        lines = [self._line(first_number, start, content_end, end, LineRole.FIRST, marker)]
        segments: list[Segment] = []
        logical = bytearray()
        self._append_segment(segments, logical, body, kept_end)
        self.i += 1
        has_empty = False
        end_of_line = marker is None
        while not end_of_line and self.i < len(self.raw):
            l_start, l_content_end, l_end = self.raw[self.i]
            number = self.i + 1
            self.i += 1
            first = lstrip_go_space(src, l_start, l_content_end)
            if first < l_content_end and src[first] == 0x23:
                lines.append(self._line(number, l_start, l_content_end, l_end, LineRole.INNER_COMMENT))
                continue
            if first == l_content_end:
                has_empty = True
                lines.append(self._line(number, l_start, l_content_end, l_end, LineRole.INNER_EMPTY))
                continue
            kept, marker = self._trim_continuation(l_start, l_content_end)
            end_of_line = marker is None
            self._append_segment(segments, logical, l_start, kept)
            lines.append(self._line(number, l_start, l_content_end, l_end, LineRole.CONTINUATION, marker))
        text = bytes(logical)
        if not segments:
            # a lone continuation marker: keep a zero-length anchor at the marker
            segments.append(Segment(0, kept_end, 0))
        logical_line = LogicalLine(text, tuple(segments))
        if has_empty:
            self.warnings.append(
                ParseWarning(lines[-1].number, "empty continuation line (buildkit warns; a future release rejects it)")
            )
        node = self._split(logical_line, 0, len(text), lines[0].number)
        node.lines = tuple(lines)
        node.start = start
        node.has_empty_continuation_line = has_empty
        effective = node.inner if node.inner is not None else node
        if self._can_contain_heredoc(node, effective):
            node.heredocs = self._read_heredocs(logical_line, lines, first_number)
        node.lines = tuple(lines)
        node.end = lines[-1].end
        if node.inner is not None:
            # ONBUILD's inner instruction spans the same lines and reads the same heredocs
            node.inner.lines, node.inner.start, node.inner.end = node.lines, node.start, node.end
            node.inner.heredocs = node.heredocs
            node.inner.has_empty_continuation_line = has_empty
        return node

    def _append_segment(self, segments: list[Segment], logical: bytearray, start: int, end: int) -> None:
        if end > start:
            segments.append(Segment(len(logical), start, end - start))
            logical += self.src[start:end]

    def _can_contain_heredoc(self, node: Instruction, effective: Instruction) -> bool:
        if effective.name not in HEREDOC_KEYWORDS or effective.json is not None:
            return False
        if node.name == "ONBUILD" and node.inner is None:
            return False
        return (not self.rules.lexer_sees_heredocs) or b"<<" in node.logical.text

    # -- splitCommand / extractBuilderFlags / dispatch ----------------------------------------
    def _split(self, logical: LogicalLine, start: int, end: int, line_number: int) -> Instruction:
        """buildkit's newNodeFromLine on ``logical.text[start:end]``."""
        text = logical.text
        t_start = lstrip_go_space(text, start, end)
        t_end = rstrip_go_space(text, t_start, end)
        ws = RE_WHITESPACE.search(text, t_start, t_end)
        if ws is None:
            kw_end = t_end
            flags: tuple[Flag, ...] = ()
            args_start = args_end = t_end
        else:
            kw_end = ws.start()
            flags, rest_start = self._extract_flags(logical, ws.end(), t_end)
            args_start = lstrip_go_space(text, rest_start, t_end)
            args_end = rstrip_go_space(text, args_start, t_end)
        keyword = text[t_start:kw_end].decode("utf-8", "surrogateescape")
        node = Instruction(
            keyword=keyword,
            start=0,
            end=0,
            lines=(),
            logical=logical,
            keyword_start=t_start,
            keyword_end=kw_end,
            flags=flags,
            args_start=args_start,
            args_end=args_end,
        )
        self._dispatch(node, line_number)
        return node

    def _extract_flags(self, logical: LogicalLine, start: int, end: int) -> tuple[tuple[Flag, ...], int]:
        """buildkit's extractBuilderFlags over ``text[start:end]``: (flags, where the args start)."""
        text = logical.text
        escape = ord(self.escape) if self.rules.flags_use_file_escape else 0x5C
        first = start
        while first < end and text[first] in _FLAG_SPACE_BYTES:
            first += 1
        if not text.startswith(b"--", first, end):
            return (), first  # the common case: no flags at all
        region = text[start:end]
        if region.isascii() and not _FLAG_SPECIAL.search(region) and escape not in region:
            return self._extract_plain_flags(logical, start, end)
        return self._extract_flags_general(logical, start, end, escape)

    def _extract_flags_general(
        self, logical: LogicalLine, start: int, end: int, escape: int
    ) -> tuple[tuple[Flag, ...], int]:
        """A line-by-line port of extractBuilderFlags (quotes, escapes, Latin-1 byte quirks)."""
        text = logical.text
        flags: list[Flag] = []
        buf = bytearray()
        pos = start
        in_word = in_quote = False
        quote = 0
        blank_ok = False
        word_start = start

        def emit(word_end: int) -> None:
            value = bytes(buf).decode("utf-8", "surrogateescape")
            src_start, src_end = logical.source_span(word_start, word_end)
            flags.append(Flag(value, word_start, word_end, src_start, src_end))

        while pos <= end:
            ch = text[pos] if pos < end else -1
            if not in_word and not in_quote:
                if pos == end:
                    return tuple(flags), end
                if ch in _FLAG_SPACE_BYTES:
                    pos += 1
                    continue
                if ch != 0x2D or pos + 1 == end or text[pos + 1] != 0x2D:
                    return tuple(flags), pos
                in_word = True
                word_start = pos
            if pos == end:
                if bytes(buf) != b"--" and (blank_ok or buf):
                    emit(end)
                return tuple(flags), end
            if not in_quote:
                if ch in _FLAG_SPACE_BYTES:
                    in_word = False
                    if bytes(buf) == b"--":
                        return tuple(flags), pos
                    if blank_ok or buf:
                        emit(pos)
                    buf.clear()
                    blank_ok = False
                    pos += 1
                    continue
                if ch in (0x22, 0x27):
                    quote = ch
                    blank_ok = True
                    in_quote = True
                    pos += 1
                    continue
                if ch == escape:
                    if pos + 1 == end:
                        pos += 1
                        continue
                    pos += 1
                    ch = text[pos]
                buf.append(ch)
                pos += 1
                continue
            if ch == quote:
                in_quote = False
                pos += 1
                continue
            if ch == escape:
                if pos + 1 == end:
                    in_quote = False
                    pos += 1
                    continue
                pos += 1
                ch = text[pos]
            buf.append(ch)
            pos += 1
        return tuple(flags), end

    @staticmethod
    def _extract_plain_flags(logical: LogicalLine, start: int, end: int) -> tuple[tuple[Flag, ...], int]:
        """extractBuilderFlags when the words hold no quotes or escapes: plain splitting."""
        text = logical.text
        flags = []
        for match in _PLAIN_WORD.finditer(text, start, end):
            word = match.group()
            if not word.startswith(b"--"):
                return tuple(flags), match.start()
            if word == b"--":
                return tuple(flags), match.end()
            src_start, src_end = logical.source_span(match.start(), match.end())
            flags.append(Flag(word.decode("ascii"), match.start(), match.end(), src_start, src_end))
        return tuple(flags), end

    def _dispatch(self, node: Instruction, line_number: int) -> None:
        """What buildkit's per-keyword line parser decides: exec form, ONBUILD inner, errors."""
        name = node.name
        rest = node.args_text
        problems: list[str] = []
        if name in ("ADD", "COPY", "VOLUME") or (name in ("CMD", "ENTRYPOINT", "RUN", "SHELL") and rest):
            node.json = self._maybe_json(rest, problems)
        elif name == "HEALTHCHECK" and rest:
            sep = 0
            while sep < len(rest) and not rest[sep].isspace():
                sep += 1
            cmd = rest[sep:].lstrip()
            if cmd:
                node.json = self._maybe_json(cmd, problems)
        elif name in ("ENV", "LABEL"):
            problem = _name_val_problem(rest, name, self.escape)
            if problem:
                problems.append(problem)
        elif name == "ONBUILD" and rest:
            node.inner = self._split(node.logical, node.args_start, node.args_end, line_number)
        node.problems = tuple(problems)

    def _maybe_json(self, rest: str, problems: list[str]) -> tuple[str, ...] | None:
        try:
            return tuple(parse_json_array(rest, strict=self.rules.json_strict))
        except NotStringArrayError as exc:
            problems.append(str(exc))
        except JSONArrayError:
            pass
        return None

    # -- heredocs ----------------------------------------------------------------------------
    def _read_heredocs(self, logical: LogicalLine, lines: list[PhysicalLine], first_number: int) -> tuple[Heredoc, ...]:
        found = self._heredoc_words(logical, first_number)
        docs: list[Heredoc] = []
        for name, fd, chomp, expand, w_start, w_end in found:
            terminator = name.encode("utf-8", "surrogateescape")
            body_start = self.raw[self.i][0] if self.i < len(self.raw) else len(self.src)
            body_end = body_start
            while True:
                if self.i >= len(self.raw):
                    raise ParseError("unterminated heredoc", first_number)
                l_start, l_content_end, l_end = self.raw[self.i]
                number = self.i + 1
                self.i += 1
                candidate = self.src[l_start:l_content_end]
                if chomp:
                    candidate = candidate.lstrip(b"\t")
                if candidate == terminator:
                    lines.append(self._line(number, l_start, l_content_end, l_end, LineRole.HEREDOC_END))
                    docs.append(
                        Heredoc(
                            name=name,
                            fd=fd,
                            chomp=chomp,
                            expand=expand,
                            word_logical_start=w_start,
                            word_logical_end=w_end,
                            body_start=body_start,
                            body_end=body_end,
                            terminator_start=l_start,
                            terminator_end=l_end,
                            content=self.src[body_start:body_end],
                        )
                    )
                    break
                lines.append(self._line(number, l_start, l_content_end, l_end, LineRole.HEREDOC_BODY))
                body_end = l_end
        return tuple(docs)

    def _heredoc_words(self, logical: LogicalLine, line_number: int):
        """buildkit's heredocsFromLine: (name, fd, chomp, expand, logical start, logical end)."""
        text = logical.decode()
        if self.rules.lexer_sees_heredocs and text.isascii() and not _SHELL_SPECIAL.search(text):
            words = [Word(m.group(), m.start(), m.end()) for m in _PLAIN_SHELL_WORD.finditer(text)]
        else:
            lexer = ShellWordLexer(raw_quotes=True, raw_escapes=True, heredoc_aware=self.rules.lexer_sees_heredocs)
            try:
                words = lexer.words(text)
            except ShellLexError:
                return []
        found = []
        to_bytes = _ByteOffsets(text)
        for word in words:
            match = self.rules.heredoc_re.match(word.value)
            if not match:
                continue
            try:
                doc = _heredoc_from_match(match)
            except ShellLexError as exc:
                raise ParseError(str(exc), line_number) from None
            if doc is None:
                continue
            found.append((*doc, to_bytes(word.start), to_bytes(word.end)))
        return found


class _ByteOffsets:
    """UTF-8 offsets of increasing character offsets into ``text``, each counted from the last
    one (encoding the whole prefix per heredoc word was quadratic in the line's length)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.ascii = text.isascii()
        self.char = self.byte = 0

    def __call__(self, char: int) -> int:
        if self.ascii:
            return char
        if char < self.char:
            self.char = self.byte = 0
        self.byte += len(self.text[self.char : char].encode("utf-8", "surrogateescape"))
        self.char = char
        return self.byte


def parse_heredoc_word(text: str, buildkit: str = "current") -> tuple[str, int, bool, bool] | None:
    """buildkit's ``ParseHeredoc`` on a whole string: (name, fd, chomp, expand) when ``text`` is
    exactly one heredoc word such as ``<<EOF`` or ``<<-'EOT'``, else None. buildkit uses it to
    decide that ``RUN <<EOF`` runs the heredoc body itself as the script."""
    match = RULES[buildkit].heredoc_re.match(text)
    if match is None:
        return None
    try:
        return _heredoc_from_match(match)
    except ShellLexError:
        return None


# a heredoc name the shell lexer reads as itself: no quotes, escapes, expansions or blanks
_PLAIN_HEREDOC_NAME = re.compile(r"[A-Za-z0-9_.-]+")


def _heredoc_from_match(match: re.Match[str]) -> tuple[str, int, bool, bool] | None:
    fd = int(match.group(1)) if match.group(1) else 0
    chomp = match.group(2) == "-"
    rest = match.group(3)
    if not rest:
        return None
    if _PLAIN_HEREDOC_NAME.fullmatch(rest):  # `<<EOF`, nearly every heredoc: not worth two lexer runs
        return rest, fd, chomp, True
    return _lexed_heredoc(rest, fd, chomp)


def _lexed_heredoc(rest: str, fd: int, chomp: bool) -> tuple[str, int, bool, bool] | None:
    """buildkit's reading of the heredoc word: its name unquoted, expanded unless quoted."""
    plain = ShellWordLexer(raw_quotes=False, raw_escapes=False).words(rest)
    if len(plain) != 1:
        return None
    raw = ShellWordLexer(raw_quotes=True, raw_escapes=False).words(rest)
    if len(raw) != len(plain):
        raise ShellLexError(f"internal lexing of heredoc produced inconsistent results: {rest}")
    word = plain[0].value
    quotes = word.count("'") + word.count('"')
    raw_quotes = raw[0].value.count("'") + raw[0].value.count('"')
    return word, fd, chomp, quotes == raw_quotes


def _name_val_problem(rest: str, key: str, escape: str) -> str | None:
    """buildkit's parseNameVal errors for ENV and LABEL (reported, not fatal)."""
    words = parse_words(rest, escape)
    if not words:
        return None
    if "=" not in words[0]:
        parts = RE_WHITESPACE.split(rest.encode("utf-8", "surrogateescape"), maxsplit=1)
        if len(parts) < 2:
            return f"{key} must have two arguments"
        return None
    for word in words:
        if "=" not in word:
            return f"Syntax error - can't find = in {word!r}. Must be of the form: name=value"
    return None
