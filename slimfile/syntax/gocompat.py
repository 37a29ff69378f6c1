"""Small ports of Go and buildkit behaviour that the Dockerfile lexer must match exactly.

buildkit is written in Go, so "whitespace", "JSON" and "a word" mean what Go's standard
library and buildkit's shell lexer say they mean. Python's ``str.isspace`` and ``json``
differ in corner cases, and those corners decide where an instruction ends.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache

# Go's unicode.IsSpace: ASCII \t \n \v \f \r and space, plus U+0085, U+00A0 and the
# Unicode White_Space characters above Latin-1.
_GO_SPACE = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)
_ASCII_SPACE = frozenset(b"\t\n\v\f\r ")


def is_go_space(ch: str) -> bool:
    """unicode.IsSpace for one character."""
    return ch in _GO_SPACE


_ASCII_SPACE_RUN = re.compile(rb"[\t\n\v\f\r ]*")


def lstrip_go_space(data: bytes, start: int = 0, end: int | None = None) -> int:
    """Index of the first byte in ``data[start:end]`` that does not begin a Go space rune."""
    end = len(data) if end is None else end
    i = _ASCII_SPACE_RUN.match(data, start, end).end()  # the common case, in C
    if i >= end or data[i] < 0x80:
        return i
    while i < end:
        b = data[i]
        if b in _ASCII_SPACE:
            i += 1
            continue
        if b < 0x80:
            return i
        width = _utf8_width(b)
        ch = data[i : i + width].decode("utf-8", "replace")
        if len(ch) == 1 and ch in _GO_SPACE and i + width <= end:
            i += width
            continue
        return i
    return i


def rstrip_go_space(data: bytes, start: int = 0, end: int | None = None) -> int:
    """Index just after the last byte in ``data[start:end]`` that is not part of a Go space rune."""
    end = len(data) if end is None else end
    i = end
    while i > start:
        b = data[i - 1]
        if b in _ASCII_SPACE:
            i -= 1
            continue
        if b < 0x80:
            return i
        # walk back to the start of a multibyte rune
        j = i - 1
        while j > start and (data[j] & 0xC0) == 0x80 and i - j < 4:
            j -= 1
        ch = data[j:i].decode("utf-8", "replace")
        if len(ch) == 1 and ch in _GO_SPACE:
            i = j
            continue
        return i
    return i


def _utf8_width(lead: int) -> int:
    if lead >= 0xF0:
        return 4
    if lead >= 0xE0:
        return 3
    if lead >= 0xC0:
        return 2
    return 1


# buildkit's reWhitespace: `[\t\v\f\r ]+` (no newline, no Unicode spaces).
RE_WHITESPACE = re.compile(rb"[\t\v\f\r ]+")


def go_split_whitespace(text: bytes, limit: int = -1) -> list[bytes]:
    """regexp.Split(reWhitespace, n): keeps empty leading/trailing pieces like Go."""
    if limit == 0:
        return []
    pieces: list[bytes] = []
    pos = 0
    for match in RE_WHITESPACE.finditer(text):
        if limit > 0 and len(pieces) == limit - 1:
            break
        if match.end() == 0:
            continue
        pieces.append(text[pos : match.start()])
        pos = match.end()
    pieces.append(text[pos:])
    return pieces


class JSONArrayError(ValueError):
    """The text looks like a JSON array but is not one buildkit accepts."""


class NotStringArrayError(JSONArrayError):
    """buildkit's errDockerfileNotStringArray: a JSON array with a non-string element."""


def _reject_constant(name: str) -> object:
    raise ValueError(f"invalid JSON constant {name}")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def parse_json_array(rest: str, *, strict: bool) -> list[str]:
    """buildkit's parseJSON. ``strict`` is json.Unmarshal (current buildkit); otherwise
    json.Decoder.Decode, which ignores trailing data (buildkit v0.12)."""
    text = rest.lstrip("".join(_GO_SPACE))
    if not text.startswith("["):
        raise JSONArrayError("not a JSON array")
    try:
        if strict:
            value = _DECODER.decode(text)
        else:
            value, _ = _DECODER.raw_decode(text)
    except ValueError as exc:
        raise JSONArrayError(str(exc)) from None
    if not isinstance(value, list):
        raise JSONArrayError("not a JSON array")
    if not all(isinstance(item, str) for item in value):
        raise NotStringArrayError("when using JSON array syntax, arrays must be comprised of strings only")
    return value


@dataclass(frozen=True, slots=True)
class Word:
    """One word of buildkit's shell lexer with its character span in the lexed text."""

    value: str
    start: int
    end: int


class ShellLexError(ValueError):
    pass


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def next(self) -> str:
        if self.pos >= len(self.text):
            return ""
        ch = self.text[self.pos]
        self.pos += 1
        return ch


class _Words:
    """buildkit's wordsStruct, recording where each word starts and ends."""

    def __init__(self) -> None:
        self.buf: list[str] = []
        self.words: list[Word] = []
        self.in_word = False
        self.start = 0

    def _begin(self, at: int) -> None:
        if not self.buf:
            self.start = at

    def add_char(self, ch: str, at: int) -> None:
        if is_go_space(ch) and self.in_word:
            if self.buf:
                self.words.append(Word("".join(self.buf), self.start, at))
                self.buf = []
                self.in_word = False
        elif not is_go_space(ch):
            self.add_raw_char(ch, at)

    def add_raw_char(self, ch: str, at: int) -> None:
        self._begin(at)
        self.buf.append(ch)
        self.in_word = True

    def add_string(self, text: str, at: int) -> None:
        for ch in text:
            self.add_char(ch, at)

    def add_raw_string(self, text: str, at: int) -> None:
        self._begin(at)
        self.buf.append(text)
        self.in_word = True

    def finish(self, end: int) -> list[Word]:
        if self.buf:
            self.words.append(Word("".join(self.buf), self.start, end))
            self.buf = []
            self.in_word = False
        return self.words


_SPECIAL_PARAMS = frozenset("@*#?-$!0")


@lru_cache(maxsize=64)
def _ordinary_run(escape: str, heredoc_aware: bool, stop: str) -> re.Pattern[str]:
    excluded = "".join(_GO_SPACE) + "$'\"" + escape + stop + ("<" if heredoc_aware else "")
    return re.compile("[^" + "".join(sorted({re.escape(c) for c in excluded})) + "]*")


class ShellWordLexer:
    """The subset of buildkit's ``shell.Lex.ProcessWords`` used to find heredoc words.

    With no environment and ``SkipUnsetEnv``, variable references stay as written, so the
    result is word splitting with quote and escape handling; errors mirror buildkit's.
    """

    def __init__(
        self,
        *,
        raw_quotes: bool,
        raw_escapes: bool,
        heredoc_aware: bool = True,
        escape: str = "\\",
    ) -> None:
        self.raw_quotes = raw_quotes
        self.raw_escapes = raw_escapes
        self.heredoc_aware = heredoc_aware
        self.escape = escape

    def words(self, text: str) -> list[Word]:
        scanner = _Scanner(text)
        _, words = self._process_stop_on(scanner, "", self.raw_escapes)
        return words

    def _process_stop_on(self, sc: _Scanner, stop: str, raw_escapes: bool) -> tuple[str, list[Word]]:
        result: list[str] = []
        words = _Words()
        while sc.peek() != "":
            ch = sc.peek()
            at = sc.pos
            if stop and ch == stop:
                sc.next()
                return "".join(result), words.finish(at)
            run = self._ordinary_run(stop).match(sc.text, at)
            if run.end() > at:  # characters that are neither special nor spaces: one word piece
                words.add_raw_string(run.group(), at)
                result.append(run.group())
                sc.pos = run.end()
                continue
            special = self._special(ch)
            if special is not None:
                tmp = special(sc)
                result.append(tmp)
                if ch == "$":
                    words.add_string(tmp, at)
                else:
                    words.add_raw_string(tmp, at)
                continue
            ch = sc.next()
            if ch == self.escape:
                if raw_escapes:
                    words.add_raw_char(ch, at)
                    result.append(ch)
                ch = sc.next()
                if ch == "":
                    break
                words.add_raw_char(ch, at)
            else:
                words.add_char(ch, at)
            result.append(ch)
        if stop:
            raise ShellLexError(f"unexpected end of statement while looking for matching {stop}")
        return "".join(result), words.finish(sc.pos)

    def _ordinary_run(self, stop: str) -> re.Pattern[str]:
        """Characters the loop of :meth:`_process_stop_on` would add one by one with
        ``add_char`` (not a space, not special, not the escape or ``stop``): taken in one piece."""
        return _ordinary_run(self.escape, self.heredoc_aware, stop)

    def _special(self, ch: str):
        if ch == "$":
            return self._dollar
        if ch == "<" and self.heredoc_aware:
            return self._possible_heredoc
        if ch == "'":
            return self._single_quote
        if ch == '"':
            return self._double_quote
        return None

    def _single_quote(self, sc: _Scanner) -> str:
        out = []
        ch = sc.next()
        if self.raw_quotes:
            out.append(ch)
        while True:
            ch = sc.next()
            if ch == "":
                raise ShellLexError("unexpected end of statement while looking for matching single-quote")
            if ch == "'":
                if self.raw_quotes:
                    out.append(ch)
                return "".join(out)
            out.append(ch)

    def _double_quote(self, sc: _Scanner) -> str:
        out = []
        ch = sc.next()
        if self.raw_quotes:
            out.append(ch)
        while True:
            peek = sc.peek()
            if peek == "":
                raise ShellLexError("unexpected end of statement while looking for matching double-quote")
            if peek == '"':
                ch = sc.next()
                if self.raw_quotes:
                    out.append(ch)
                return "".join(out)
            if peek == "$":
                out.append(self._dollar(sc))
                continue
            ch = sc.next()
            if ch == self.escape:
                if self.raw_escapes:
                    out.append(ch)
                nxt = sc.peek()
                if nxt == "":
                    continue
                if nxt in ('"', "$", self.escape):
                    ch = sc.next()
            out.append(ch)

    def _dollar(self, sc: _Scanner) -> str:
        sc.next()
        if sc.peek() != "{":
            name = self._name(sc)
            return "$" + name if name else "$"
        sc.next()
        peek = sc.peek()
        if peek == "":
            raise ShellLexError("syntax error: missing '}'")
        if peek in "{}:":
            raise ShellLexError("syntax error: bad substitution")
        name = self._name(sc)
        ch = sc.next()
        chs = ch
        if ch == "}":
            return "${%s}" % name
        null_is_unset = False
        if ch == ":":
            null_is_unset = True
            ch = sc.next()
            chs += ch
        if null_is_unset or ch in ("+", "-", "?", "#", "%"):
            raw = ch in ("#", "%")
            if null_is_unset and raw:
                raise ShellLexError(f"unsupported modifier ({chs}) in substitution")
            word = self._nested(sc, "}", raw, "syntax error: missing '}'")
            return "${%s%s%s}" % (name, chs, word)
        if ch == "/":
            if sc.peek() == "/":
                sc.next()
            pattern = self._nested(sc, "/", True, "syntax error: missing '/' in ${}")
            replacement = self._nested(sc, "}", True, "syntax error: missing '}'")
            return "${%s/%s/%s}" % (name, pattern, replacement)
        raise ShellLexError(f"unsupported modifier ({chs}) in substitution")

    def _nested(self, sc: _Scanner, stop: str, raw_escapes: bool, eof_message: str) -> str:
        try:
            word, _ = self._process_stop_on(sc, stop, raw_escapes)
        except ShellLexError:
            if sc.peek() == "":
                raise ShellLexError(eof_message) from None
            raise
        return word

    @staticmethod
    def _name(sc: _Scanner) -> str:
        name: list[str] = []
        while sc.peek() != "":
            ch = sc.peek()
            if not name and ch.isdecimal():
                while sc.peek() != "" and sc.peek().isdecimal():
                    name.append(sc.next())
                return "".join(name)
            if not name and ch in _SPECIAL_PARAMS:
                return sc.next()
            if not (ch.isalpha() or ch.isdecimal() or ch == "_"):
                break
            name.append(sc.next())
        return "".join(name)

    @staticmethod
    def _possible_heredoc(sc: _Scanner) -> str:
        sc.next()
        if sc.peek() != "<":
            return "<"
        sc.next()
        space = []
        while sc.peek() in ("\t", "\r", " ") and sc.peek() != "":
            space.append(sc.next())
        return "<<" + "".join(space)


_PLAIN_WORDS = re.compile(r"[\x21\x23-\x26\x28-\x5b\x5d-\x5f\x61-\x7e \t]*\Z")


# ASCII words whose quotes all close and that have no escape character: one regex splits them
# exactly as the loop below does (quotes stay in the words, `""` is a word). The whole-text
# pattern must be unambiguous (blanks required between words, a quote char never matches the
# single-char branch), or a failing match backtracks exponentially: `aaaa…"` once took minutes.
_QUOTED_WORD = r"""(?:[^ \t\n\v\f\r"']|"[^"]*"|'[^']*')+"""
_QUOTED_WORDS = re.compile(_QUOTED_WORD)
_ONLY_QUOTED_WORDS = re.compile(
    rf"[ \t\n\v\f\r]*(?:{_QUOTED_WORD}(?:[ \t\n\v\f\r]+{_QUOTED_WORD})*)?[ \t\n\v\f\r]*\Z"
)


def parse_words(rest: str, escape: str) -> list[str]:
    """buildkit's parseWords: split on spaces, keeping quotes and escapes in the words
    (used by ENV, LABEL and ARG)."""
    if _PLAIN_WORDS.match(rest):
        return rest.split()  # no quotes, escapes or exotic spaces: plain splitting is exact
    if rest.isascii() and escape not in rest and _ONLY_QUOTED_WORDS.match(rest):
        return _QUOTED_WORDS.findall(rest)  # ENV A="x y": quotes, but nothing tricky
    return _parse_words_slowly(rest, escape)


def _parse_words_slowly(rest: str, escape: str) -> list[str]:
    """parseWords character by character, as buildkit's loop goes."""
    words: list[str] = []
    buf: list[str] = []
    in_word = in_quote = False
    quote = ""
    blank_ok = False
    n = len(rest)
    pos = 0
    while pos <= n:
        ch = rest[pos] if pos < n else ""
        if not in_word and not in_quote:
            if pos == n:
                break
            if is_go_space(ch):
                pos += 1
                continue
            in_word = True
        if pos == n:
            if blank_ok or buf:
                words.append("".join(buf))
            break
        if in_word and not in_quote:
            if is_go_space(ch):
                in_word = False
                if blank_ok or buf:
                    words.append("".join(buf))
                buf = []
                blank_ok = False
                pos += 1
                continue
            if ch in ("'", '"'):
                quote = ch
                blank_ok = True
                in_quote = True
            if ch == escape:
                if pos + 1 == n:
                    pos += 1
                    continue
                buf.append(ch)
                pos += 1
                ch = rest[pos]
            buf.append(ch)
            pos += 1
            continue
        # inside a quote
        if ch == quote:
            in_quote = False
        if ch == escape and quote != "'":
            if pos + 1 == n:
                in_quote = False
                pos += 1
                continue
            pos += 1
            buf.append(ch)
            ch = rest[pos]
        buf.append(ch)
        pos += 1
    return words
