"""Plain scripts (words joined by ``&&``, ``||``, ``;`` or newlines) are read without tree-sitter:
the model must be exactly the one the tree-sitter walk builds, for every script the tokenizer
accepts, and every other script must go to tree-sitter."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slimfile.shell.model import ScriptText
from slimfile.shell.parse import ParsedScript, ShellParseError, _plain_commands, parse_script
from slimfile.shell.source import run_args_text
from slimfile.syntax import ParseError, parse
from slimfile.syntax.nodes import LogicalLine, Segment
from tests.conftest import corpus_files, corpus_sample

EXAMPLES = int(os.environ.get("SLIMFILE_HYPOTHESIS_EXAMPLES", "2000"))

# words a plain script may hold, the ones tree-sitter reads specially among them
WORDS = [
    "echo", "1", "-y", "apt-get", "install", "--no-install-recommends", "pip", "--opt=x", "a.b", "/usr/bin/x",
    "%s", "@x", "a,b", "+x", ":", ".", "true", "false", "x=1", "A=b", "-", "--",
    "sudo", "env", "nice", "-n", "5", "exec", "command", "xargs", "sh", "-c", "nohup", "timeout", "10", "eval",
    "builtin", "let", "test", "source", "cd", "set", "-e", "exit", "umask", "022", "trap",
    "if", "then", "else", "elif", "fi", "for", "in", "do", "done", "case", "esac", "while", "until", "function",
    "select", "time", "coproc", "export", "declare", "local", "readonly", "typeset", "unset", "unsetenv",
    "*", "/var/lib/apt/lists/*", "*.txt", "a*b", "**", "-*",
]
# non-ASCII characters are word characters to tree-sitter-bash, Unicode blanks included
non_ascii = st.characters(min_codepoint=0x80, max_codepoint=0x10FFFF, blacklist_categories=("Cs",))
word = (
    st.sampled_from(WORDS)
    | st.text("abcz019_./:=@%+,-*", min_size=1, max_size=6)
    | st.text(st.sampled_from("az0-./*") | non_ascii, min_size=1, max_size=4)
)
blank = st.sampled_from([" ", "  ", "\t", " \t"])
operator = st.sampled_from(["&&", "||", ";", "\n"])
# what may stand around an operator: blanks, and the newlines and blank lines of a heredoc script
around = st.sampled_from(["", " ", "\t", "\n", "\n\n", " \n\t"])


@st.composite
def plain_like_scripts(draw) -> bytes:
    """Words and operators with any blanks and newlines, sometimes with an operator misplaced."""
    commands = draw(st.lists(st.lists(word, min_size=1, max_size=4), min_size=1, max_size=4))
    text = draw(st.sampled_from(["", " ", "\t", "\n", "\n "]))
    for i, words in enumerate(commands):
        if i:
            text += draw(st.sampled_from(["", " ", "\n"])) + draw(operator) + draw(around)
        text += draw(blank).join(words)
    text += draw(st.sampled_from(["", " ", ";", " ;", " &&", "||", ";;", " &", " | x", "; ;", "\n", " \n\n", ";\n", " &&\n"]))
    return text.encode()


def _piece(text: bytes, cuts: list[int]) -> ScriptText:
    """``text`` mapped to source bytes in pieces, with a gap after each cut (as continuation
    lines are), starting at byte 9."""
    segments, source, previous = [], 9, 0
    for cut in [*sorted({c for c in cuts if 0 < c < len(text)}), len(text)]:
        segments.append(Segment(previous, source, cut - previous))
        source += cut - previous + 3
        previous = cut
    return ScriptText("run", text, LogicalLine(text, tuple(segments)), None, None)


def _model(piece: ScriptText, tree_sitter_only: bool) -> ParsedScript | str:
    try:
        return parse_script(piece, {}, tree_sitter_only=tree_sitter_only)
    except ShellParseError as exc:
        return f"opaque: {exc}"


def _same_model(piece: ScriptText) -> None:
    fast, slow = _model(piece, False), _model(piece, True)
    assert fast == slow
    if isinstance(fast, ParsedScript):  # spans are not compared by ==: compare them too
        assert isinstance(slow, ParsedScript)
        for a, b in zip(fast.commands, slow.commands):
            assert [(w.start, w.end) for w in a.words] == [(w.start, w.end) for w in b.words]
            assert (a.start, a.end, a.before, a.after) == (b.start, b.end, b.before, b.after)


@settings(max_examples=EXAMPLES, deadline=None)
@given(plain_like_scripts(), st.lists(st.integers(0, 60), max_size=3))
def test_plain_scripts_get_the_tree_sitter_model(text: bytes, cuts: list[int]) -> None:
    _same_model(_piece(text, cuts))


PLAIN = [
    b"echo 1",
    b"apt-get update && apt-get install -y --no-install-recommends curl && apt-get clean",
    b"a;b", b"a ;", b"  make\t-j4 || true  ", b"sudo -u app env A=1 ./run.sh", b"echo x=1",
    b"a\nb", b"echo 1\n", b"\napt-get update\n\napt-get install -y curl\n", b"a;\nb", b"a \n\t b ;\n",
    b"apt-get install -y x && rm -rf /var/lib/apt/lists/*", b"cp *.txt /x",
    "echo é naïve \u00a0 \u2028 \u3000 x".encode(), b"echo \xff\xfe \xc3 && echo \xe2\x80",
]
NOT_PLAIN = [
    b"", b"   ", b"echo 'a'", b'echo "a"', b"echo $HOME", b"echo `id`", b"echo $(id)",
    b"ls ?", b"echo a > f", b"cat < f", b"a | b", b"a &", b"a & b", b"# note", b"echo a # note",
    b"a &&\nb", b"a ||\n\nb", b"a\n&& b", b"a\n;b", b"\n", b"echo \\x", b"if true; then x; fi", b"export A=1",
    b"A=1 make", b"A=1", b"{ a; }", b"(a)",
    b"! a", b"[ -f x ]", b"a && ", b"&& a", b"a ; ; b", b"a ;; b", b"echo ~/x", b"echo {a,b}", b"time make",
    b"git@host:x", b"a+: x", b"x% y", b"- a%", b"echo ==", b"echo a == && b", "é x".encode(),
]


@pytest.mark.parametrize("text", PLAIN)
def test_plain_scripts_take_the_tokenizer(text: bytes) -> None:
    assert _plain_commands(text) is not None
    _same_model(_piece(text, []))


@pytest.mark.parametrize("text", NOT_PLAIN)
def test_other_scripts_go_to_tree_sitter(text: bytes) -> None:
    assert _plain_commands(text) is None


def _runs_of(paths: list[Path]):
    for path in paths:
        try:
            dockerfile = parse(path.read_bytes(), path=str(path))
        except ParseError:
            continue
        for instruction in dockerfile.instructions:
            if instruction.name == "RUN" and instruction.json is None and not instruction.heredocs:
                yield run_args_text(instruction)


def _check_runs(paths: list[Path]) -> None:
    pieces = list(_runs_of(paths))
    plain = [piece for piece in pieces if _plain_commands(piece.text) is not None]
    assert plain, "no plain RUN among the files: the comparison would hold nothing"
    for piece in pieces:
        _same_model(piece)


def test_corpus_sample_runs_get_the_same_model() -> None:
    _check_runs(corpus_sample())


@pytest.mark.shared
def test_corpus_runs_get_the_same_model() -> None:
    _check_runs(corpus_files())
