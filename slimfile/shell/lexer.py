"""Quote-aware scanning of shell text, on bytes.

tree-sitter-bash gives the structure of a script; this module answers the small lexical
questions it answers badly or not at all: the *value* of a word once quotes and escapes are
removed, where a quoted or ``$( )`` region ends, where the heredocs of a script are (tree-sitter
mis-nests ``cat <<EOF > f && next``), and which backquoted comments (`` `# note` ``) to hide
from it. Every function works on byte offsets so results line up with tree-sitter's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BLANKS = b" \t"
_NAME_START = re.compile(rb"[A-Za-z_]")
_NAME = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")
_SPECIAL_PARAMS = frozenset(b"@*#?$!-0123456789")
_DQUOTE_ESCAPABLE = frozenset(b'$`"\\\n')
_ANSI_C = {
    ord("n"): "\n",
    ord("t"): "\t",
    ord("r"): "\r",
    ord("a"): "\a",
    ord("b"): "\b",
    ord("e"): "\x1b",
    ord("E"): "\x1b",
    ord("f"): "\f",
    ord("v"): "\v",
    ord("\\"): "\\",
    ord("'"): "'",
    ord('"'): '"',
    ord("?"): "?",
}


def decode(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


# -- region ends ----------------------------------------------------------------------------


def single_quote_end(text: bytes, start: int) -> int:
    """End (exclusive) of the ``'...'`` starting at ``start``; the text end if unterminated."""
    close = text.find(b"'", start + 1)
    return len(text) if close < 0 else close + 1


def double_quote_end(text: bytes, start: int) -> int:
    """End of the ``"..."`` at ``start``, skipping escapes and nested expansions."""
    i = start + 1
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == 0x5C:  # backslash
            i += 2
        elif ch == 0x22:  # "
            return i + 1
        elif ch == 0x24:  # $
            i = dollar_end(text, i)
        elif ch == 0x60:  # `
            i = backquote_end(text, i)
        else:
            i += 1
    return n


def ansi_c_end(text: bytes, start: int) -> int:
    """End of ``$'...'`` at ``start`` (backslash escapes apply inside)."""
    i = start + 2
    n = len(text)
    while i < n:
        if text[i] == 0x5C:
            i += 2
        elif text[i] == 0x27:
            return i + 1
        else:
            i += 1
    return n


def backquote_end(text: bytes, start: int) -> int:
    i = start + 1
    n = len(text)
    while i < n:
        if text[i] == 0x5C:
            i += 2
        elif text[i] == 0x60:
            return i + 1
        else:
            i += 1
    return n


def dollar_end(text: bytes, start: int) -> int:
    """End of the expansion starting with ``$`` at ``start`` (``start + 1`` for a lone ``$``)."""
    n = len(text)
    nxt = text[start + 1] if start + 1 < n else -1
    if nxt == 0x28:  # $( or $((
        return _bracket_end(text, start + 2, 0x28, 0x29)
    if nxt == 0x7B:  # ${
        return _bracket_end(text, start + 2, 0x7B, 0x7D)
    if nxt == 0x27:  # $'
        return ansi_c_end(text, start)
    if nxt == 0x22:  # $"
        return double_quote_end(text, start + 1)
    if nxt >= 0 and _NAME_START.match(text, start + 1):
        return _NAME.match(text, start + 1).end()
    if nxt in _SPECIAL_PARAMS:
        return start + 2
    return start + 1


def _bracket_end(text: bytes, i: int, opening: int, closing: int) -> int:
    """End of a bracketed expansion whose body starts at ``i`` (depth 1 already open)."""
    depth = 1
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == 0x5C:
            i += 2
            continue
        if ch == 0x27 and opening == 0x28:
            i = single_quote_end(text, i)
            continue
        if ch == 0x22:
            i = double_quote_end(text, i)
            continue
        if ch == 0x60:
            i = backquote_end(text, i)
            continue
        if ch == 0x24 and i + 1 < n and text[i + 1] in (0x28, 0x7B):
            i = dollar_end(text, i)
            continue
        if ch == opening:
            depth += 1
        elif ch == closing:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return n


# -- word values ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WordValue:
    """What a word means once quoting is removed. Expansions stay as written."""

    value: str
    static: bool  # no parameter, command or arithmetic expansion in it
    quoted: bool  # some part was quoted or escaped


_WORD_VALUES: dict[bytes, WordValue] = {}
_WORD_PARTS: dict[bytes, tuple[str, str, bool, bool]] = {}
_PLAIN_WORD = re.compile(rb"[^\\'\"$`]*")


def word_parts(raw: bytes) -> tuple[str, str, bool, bool]:
    """(value, raw as text, static, quoted) of a word, memoized."""
    found = _WORD_PARTS.get(raw)
    if found is None:
        value = word_value(raw)
        text = value.value if not value.quoted and value.static else decode(raw)
        found = (value.value, text, value.static, value.quoted)
        if len(_WORD_PARTS) > 50_000:
            _WORD_PARTS.clear()
        _WORD_PARTS[raw] = found
    return found


def word_value(raw: bytes) -> WordValue:
    """Remove quotes and escapes from one shell word, keeping ``$VAR``/``$(..)`` text as is
    (memoized: the same words come back in every RUN)."""
    found = _WORD_VALUES.get(raw)
    if found is None:
        if _PLAIN_WORD.fullmatch(raw):
            found = WordValue(decode(raw), True, False)
        else:
            found = _word_value(raw)
        if len(_WORD_VALUES) > 50_000:
            _WORD_VALUES.clear()
        _WORD_VALUES[raw] = found
    return found


def _word_value(raw: bytes) -> WordValue:
    """Remove quotes and escapes from one shell word, keeping ``$VAR``/``$(..)`` text as is.

    Globs (``*``, ``?``) are kept: a cleanup pass wants ``/var/lib/apt/lists/*`` as written.
    A backslash-newline inside the word (heredoc scripts) is a line continuation and vanishes.
    """
    out = bytearray()
    static = True
    quoted = False
    i = 0
    n = len(raw)
    while i < n:
        ch = raw[i]
        if ch == 0x5C:  # backslash
            quoted = True
            if i + 1 < n and raw[i + 1] != 0x0A:
                out += raw[i + 1 : i + 2]
            elif i + 1 >= n:
                out += b"\\"
            i += 2
        elif ch == 0x27:  # '
            quoted = True
            end = single_quote_end(raw, i)
            out += raw[i + 1 : _inner_end(raw, i, end, 0x27)]
            i = end
        elif ch == 0x22 or (ch == 0x24 and raw[i + 1 : i + 2] == b'"'):  # "..." or $"..."
            quoted = True
            open_quote = i if ch == 0x22 else i + 1
            end = double_quote_end(raw, open_quote)
            inner_static = _double_quoted_value(raw, open_quote + 1, _inner_end(raw, open_quote, end, 0x22), out)
            static = static and inner_static
            i = end
        elif ch == 0x24 and raw[i + 1 : i + 2] == b"'":  # $'...'
            quoted = True
            end = ansi_c_end(raw, i)
            out += _ansi_c_value(raw[i + 2 : _inner_end(raw, i + 1, end, 0x27)])
            i = end
        elif ch == 0x24:  # $name, ${..}, $(..), $((..))
            end = dollar_end(raw, i)
            out += raw[i:end]
            static = static and end == i + 1
            i = end
        elif ch == 0x60:  # `...`
            end = backquote_end(raw, i)
            out += raw[i:end]
            static = False
            i = end
        else:
            start = i
            while i < n and raw[i] not in b"\\'\"$`":
                i += 1
            out += raw[start:i]
    return WordValue(decode(bytes(out)), static, quoted)


def _inner_end(raw: bytes, open_at: int, end: int, quote: int) -> int:
    """Where a quoted region's content stops: before its closing quote, if it has one."""
    return end - 1 if end - 1 > open_at and raw[end - 1] == quote else end


def _double_quoted_value(raw: bytes, start: int, end: int, out: bytearray) -> bool:
    """Append the value of ``"..."`` content to ``out``; True when it has no expansion."""
    static = True
    i = start
    while i < end:
        ch = raw[i]
        if ch == 0x5C and i + 1 < end and raw[i + 1] in _DQUOTE_ESCAPABLE:
            if raw[i + 1] != 0x0A:
                out += raw[i + 1 : i + 2]
            i += 2
        elif ch in (0x24, 0x60):
            stop = min(dollar_end(raw, i) if ch == 0x24 else backquote_end(raw, i), end)
            out += raw[i:stop]
            static = static and stop == i + 1 and ch == 0x24
            i = stop
        else:
            out.append(ch)
            i += 1
    return static


def _ansi_c_value(body: bytes) -> bytes:
    out = bytearray()
    i = 0
    n = len(body)
    while i < n:
        ch = body[i]
        if ch != 0x5C or i + 1 >= n:
            out.append(ch)
            i += 1
            continue
        esc = body[i + 1]
        if esc in _ANSI_C:
            out += _ANSI_C[esc].encode()
            i += 2
            continue
        match = re.match(rb"x([0-9A-Fa-f]{1,2})", body[i + 1 :])
        if match:
            out.append(int(match.group(1), 16))
            i += 1 + match.end()
            continue
        out += body[i : i + 2]
        i += 2
    return bytes(out)


# -- word splitting ---------------------------------------------------------------------------


def split_words(text: bytes, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Spans of the blank-separated words in ``text[start:end]``, honouring quotes and escapes."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    i = start
    while i < end:
        while i < end and (text[i] in BLANKS or _is_line_continuation(text, i)):
            i += 2 if _is_line_continuation(text, i) else 1
        if i >= end:
            break
        word_start = i
        while i < end and text[i] not in b" \t\n":
            i = min(_token_end(text, i), end)
            if _is_line_continuation(text, i):
                break
        spans.append((word_start, i))
    return spans


def _is_line_continuation(text: bytes, i: int) -> bool:
    return text[i : i + 2] == b"\\\n"


def _token_end(text: bytes, i: int) -> int:
    """End of the smallest lexical unit at ``i`` (a quoted region, an expansion or one byte)."""
    ch = text[i]
    if ch == 0x5C:
        return i + 2
    if ch == 0x27:
        return single_quote_end(text, i)
    if ch == 0x22:
        return double_quote_end(text, i)
    if ch == 0x24:
        return dollar_end(text, i)
    if ch == 0x60:
        return backquote_end(text, i)
    return i + 1


# -- heredocs inside a script -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScriptHeredoc:
    """A ``<<WORD`` redirect found in a script and the body lines the shell reads for it."""

    operator_start: int  # where ``[n]<<`` starts
    word_start: int
    word_end: int
    delimiter: str
    strip_tabs: bool
    quoted: bool  # the delimiter was quoted: no expansion in the body
    body_start: int
    body_end: int
    end: int  # end of the terminator line (or of the text when unterminated)
    terminated: bool


_HEREDOC_OP = re.compile(rb"(\d*)<<(-?)[ \t]*")


def find_heredocs(text: bytes) -> list[ScriptHeredoc]:
    """Every heredoc of a script, with its body, scanning outside quotes and comments.

    The shell reads a heredoc's body from the line after the one holding its ``<<WORD``
    (after backslash-newline continuations), so bodies are collected at the next real newline.
    """
    found: list[ScriptHeredoc] = []
    if b"<<" not in text:
        return found
    pending: list[tuple[int, int, int, bytes, bool, bool]] = []
    i = 0
    n = len(text)
    at_word_start = True
    while i < n:
        ch = text[i]
        if ch == 0x0A:
            i += 1
            if pending:
                i = _read_bodies(text, i, pending, found)
                pending = []
            at_word_start = True
            continue
        if ch == 0x23 and at_word_start:  # comment to end of line
            while i < n and text[i] != 0x0A:
                i += 1
            continue
        if ch == 0x3C and text[i : i + 3] == b"<<<":  # a here-string, not a heredoc
            i += 3
            at_word_start = False
            continue
        if ch == 0x3C and text[i : i + 2] == b"<<":
            heredoc = _heredoc_word(text, i)
            if heredoc is not None:
                pending.append(heredoc)
                i = heredoc[2]
                at_word_start = False
                continue
        if ch in (0x27, 0x22, 0x24, 0x60, 0x5C):
            i = _token_end(text, i)
            at_word_start = False
            continue
        at_word_start = ch in b" \t;&|()"
        i += 1
    if pending:
        _read_bodies(text, n, pending, found)
    return found


def _heredoc_word(text: bytes, op: int) -> tuple[int, int, int, bytes, bool, bool] | None:
    match = _HEREDOC_OP.match(text, op)
    assert match is not None
    word_start = match.end()
    word_end = word_start
    while word_end < len(text) and text[word_end] not in b" \t\n;&|<>()":
        word_end = _token_end(text, word_end)
    if word_end == word_start:
        return None
    raw = text[word_start:word_end]
    value = word_value(raw)
    # the operator may be preceded by an fd number, which belongs to it
    start = op
    while start > 0 and text[start - 1 : start].isdigit():
        start -= 1
    return (start, word_start, word_end, value.value.encode("utf-8", "surrogateescape"), match.group(2) == b"-", value.quoted)


def _read_bodies(text: bytes, i: int, pending, found: list[ScriptHeredoc]) -> int:
    n = len(text)
    for start, word_start, word_end, delimiter, strip_tabs, quoted in pending:
        body_start = i
        terminated = False
        while i < n:
            line_end = text.find(b"\n", i)
            line_end = n if line_end < 0 else line_end
            line = text[i:line_end].rstrip(b"\r")
            if strip_tabs:
                line = line.lstrip(b"\t")
            next_line = min(line_end + 1, n)
            if line == delimiter:
                found.append(
                    ScriptHeredoc(start, word_start, word_end, decode(delimiter), strip_tabs, quoted, body_start, i, next_line, True)
                )
                terminated = True
                i = next_line
                break
            i = next_line
        if not terminated:
            found.append(ScriptHeredoc(start, word_start, word_end, decode(delimiter), strip_tabs, quoted, body_start, n, n, False))
    return i


# -- masking for tree-sitter ------------------------------------------------------------------


def heredoc_word_start(text: bytes, operator_start: int) -> int:
    """Where the delimiter word of the ``[n]<<[-]WORD`` at ``operator_start`` begins."""
    lt = text.index(b"<<", operator_start)
    match = _HEREDOC_OP.match(text, lt)
    assert match is not None
    return match.end()


def mask_heredoc_operator(text: bytearray, operator_start: int, word_start: int) -> None:
    """Turn ``[n]<<[-] WORD`` into ``[n]<    WORD`` (same length), an input redirect
    tree-sitter parses without the nesting bugs it has for heredocs."""
    lt = text.index(b"<<", operator_start, word_start)
    for j in range(lt + 1, word_start):
        text[j] = 0x20


def blank_out(text: bytearray, start: int, end: int) -> None:
    """Replace ``text[start:end]`` by spaces, keeping newlines so line structure stays."""
    for j in range(start, end):
        if text[j] not in (0x0A,):
            text[j] = 0x20


_COMMENT_SUBSTITUTION = re.compile(rb"`#[^`\n]*`")


def comment_substitutions(text: bytes) -> list[tuple[int, int]]:
    """Spans of backquoted comments such as `` `# needed by lxml` `` standing alone as words.

    Authors use them to annotate package lists; they expand to nothing, and tree-sitter-bash
    cannot parse them, so they are hidden from it (only when blanks surround them, where
    hiding cannot merge or split words).
    """
    spans = []
    quotes = _QuoteScanner(text)
    for match in _COMMENT_SUBSTITUTION.finditer(text):
        start, end = match.span()
        before_ok = start == 0 or text[start - 1] in b" \t\n"
        after_ok = end == len(text) or text[end] in b" \t\n;&|"
        if before_ok and after_ok and not quotes.inside(start):
            spans.append((start, end))
    return spans


class _QuoteScanner:
    """Whether offsets, asked in increasing order, are inside a quoted region or expansion:
    the scan goes on from the last offset asked, so a script with many backquoted comments
    is read once (rescanning from its start for each was quadratic)."""

    def __init__(self, text: bytes) -> None:
        self.text = text
        self.i = 0  # where the scan stands: a token boundary
        self.region_end = 0  # end of the last quoted region or expansion passed

    def inside(self, pos: int) -> bool:
        text = self.text
        if pos < self.region_end:
            return True
        i = self.i
        while i < pos:
            ch = text[i]
            if ch in (0x27, 0x22, 0x60, 0x5C) or (ch == 0x24 and i + 1 < len(text) and text[i + 1] in b"({'\""):
                end = _token_end(text, i)
                self.region_end = end
                if end > pos:
                    self.i = end
                    return True
                i = end
            else:
                i += 1
        self.i = i
        return False
