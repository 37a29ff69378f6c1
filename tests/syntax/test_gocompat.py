"""The Go/buildkit ports and their fast paths agree with the general code."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from slimfile.syntax import parser as parser_module
from slimfile.syntax.gocompat import (
    ShellLexError,
    ShellWordLexer,
    go_split_whitespace,
    lstrip_go_space,
    parse_json_array,
    _parse_words_slowly,
    parse_words,
    rstrip_go_space,
)
from slimfile.syntax.nodes import LogicalLine, Segment

PLAIN = st.text(alphabet="ab-=<>|&; \t/.:", max_size=40)


@settings(max_examples=500, deadline=None)
@given(PLAIN)
def test_plain_heredoc_word_fast_path_matches_the_lexer(text):
    lexer = ShellWordLexer(raw_quotes=True, raw_escapes=True)
    slow = [(w.value, w.start, w.end) for w in lexer.words(text)]
    fast = [(m.group(), m.start(), m.end()) for m in parser_module._PLAIN_SHELL_WORD.finditer(text)]
    assert [v for v, _, _ in fast] == [v for v, _, _ in slow]


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="ab-=-- \t,/", max_size=40))
def test_plain_flag_fast_path_matches_the_port(text):
    data = text.encode()
    logical = LogicalLine(data, (Segment(0, 0, len(data)),) if data else ())
    if not data:
        return
    p = parser_module._Parser(b"", parser_module.RULES["current"], "current")
    fast = p._extract_plain_flags(logical, 0, len(data))
    slow = p._extract_flags_general(logical, 0, len(data), 0x5C)
    assert [f.value for f in fast[0]] == [f.value for f in slow[0]]
    assert data[fast[1]:].strip() == data[slow[1]:].strip()


def test_go_whitespace_rules():
    data = "\u00a0\u2003 x \u3000".encode()
    assert data[lstrip_go_space(data) :].startswith(b"x")
    assert data[: rstrip_go_space(data)].endswith(b"x")
    assert lstrip_go_space(b"\x1cx") == 0  # not a space in Go, although Python's isspace says so
    assert go_split_whitespace(b"a  b\tc", 2) == [b"a", b"b\tc"]


def test_json_array_rules():
    assert parse_json_array('["a", "b"]', strict=True) == ["a", "b"]
    assert parse_json_array('["a"] tail', strict=False) == ["a"]
    for bad in ('["a"] tail', "[NaN]", "['a']", "[a]"):
        try:
            parse_json_array(bad, strict=True)
        except ValueError:
            continue
        raise AssertionError(bad)


def test_shell_lexer_quotes_escapes_and_errors():
    lexer = ShellWordLexer(raw_quotes=False, raw_escapes=False)
    assert [w.value for w in lexer.words("'a b' \"c $X\" d\\ e ${Y:-z}")] == ["a b", "c $X", "d e", "${Y:-z}"]
    for bad in ("'open", '"open', "${", "${:x}"):
        try:
            lexer.words(bad)
        except ShellLexError:
            continue
        raise AssertionError(bad)


def test_parse_words_keeps_quotes_like_buildkit():
    assert parse_words('A="x y" B=2', "\\") == ['A="x y"', "B=2"]
    assert parse_words("A=x\\ y", "\\") == ["A=x\\ y"]
    assert parse_words("plain words here", "\\") == ["plain", "words", "here"]


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet="ab= \t\"'\\`\u00a0\x1c", max_size=80), st.sampled_from(["\\", "`"]))
def test_parse_words_shortcuts_agree_with_the_character_loop(rest, escape):
    assert parse_words(rest, escape) == _parse_words_slowly(rest, escape)


def test_parse_words_quoted_values_and_empty_quotes():
    assert parse_words('A="" B=\'x y\' C=a"b c"d', "\\") == ['A=""', "B='x y'", 'C=a"b c"d']
    assert parse_words('A="open', "\\") == ['A="open']  # an unclosed quote runs to the end


def test_parse_words_on_long_words_with_an_unclosed_quote():
    """The shortcut's regex once backtracked exponentially when a long word ended in an
    unclosed quote (`aaaa…"`: minutes for 30 characters); these must finish at once."""
    for rest in ("a" * 5000 + '"', "a " * 2000 + "'", 'A="' + "x" * 5000, ("w" * 40 + " ") * 200 + '"'):
        assert parse_words(rest, "\\") == _parse_words_slowly(rest, "\\")


class _CharByChar(ShellWordLexer):
    """The lexer without its runs of ordinary characters: every character through the loop,
    as buildkit's lexer reads them."""

    def _ordinary_run(self, stop):
        import re

        return re.compile("")


@settings(max_examples=2000, deadline=None)
@given(
    st.text(alphabet="ab0É<$'\"\\`{}() \t\u00a0\u3000-=", max_size=60),
    st.booleans(), st.booleans(), st.booleans(), st.sampled_from(["\\", "`"]),
)
def test_runs_of_ordinary_characters_lex_as_the_character_loop(text, raw_quotes, raw_escapes, heredoc_aware, escape):
    """Taking ordinary characters in one piece gives the same words, spans and errors."""

    def lexed(lexer_class):
        lexer = lexer_class(raw_quotes=raw_quotes, raw_escapes=raw_escapes, heredoc_aware=heredoc_aware, escape=escape)
        try:
            return lexer.words(text)
        except ShellLexError as exc:
            return str(exc)

    assert lexed(ShellWordLexer) == lexed(_CharByChar)
