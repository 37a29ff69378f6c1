"""buildkit's line rules, one behaviour per test, including where buildkit HEAD and v0.12 differ."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slimfile.syntax import LineRole, ParseError, parse
from tests.conftest import HAND_CASES


def p(text: str, **kwargs):
    return parse(text.encode("utf-8"), **kwargs)


def kinds(tree):
    return [(n.name, n.start_line, n.end_line) for n in tree.instructions]


# -- directives -----------------------------------------------------------------------------


def test_directives_at_top_only():
    tree = p("# syntax=docker/dockerfile:1\n# escape=`\n# comment\n# escape=\\\nFROM x\nRUN a `\n  b\n")
    assert [(d.name, d.value) for d in tree.directives] == [("syntax", "docker/dockerfile:1"), ("escape", "`")]
    assert tree.escape == "`"
    assert kinds(tree) == [("FROM", 5, 5), ("RUN", 6, 7)]


def test_directive_after_comment_is_a_comment():
    tree = p("# hello\n# escape=`\nFROM x\nRUN a `\nRUN b\n")
    assert tree.directives == ()
    assert tree.escape == "\\"
    assert kinds(tree) == [("FROM", 3, 3), ("RUN", 4, 4), ("RUN", 5, 5)]


def test_directive_case_and_spacing():
    tree = p("#  ESCAPE  =  `\n#Syntax = x\nFROM y\n")
    assert [(d.name, d.value) for d in tree.directives] == [("escape", "`"), ("syntax", "x")]


def test_duplicate_directive_is_an_error_with_its_line():
    with pytest.raises(ParseError) as info:
        p("# escape=`\n# escape=\\\nFROM x\n")
    assert info.value.line == 2
    assert "only one escape parser directive" in info.value.message


def test_invalid_escape_token():
    with pytest.raises(ParseError) as info:
        p("# escape=x\nFROM x\n")
    assert info.value.line == 1
    assert "invalid escape token" in info.value.message


def test_bom_then_directive():
    tree = parse(b"\xef\xbb\xbf# escape=`\nFROM x\nRUN a `\n b\n")
    assert tree.bom and tree.escape == "`"
    assert kinds(tree) == [("FROM", 2, 2), ("RUN", 3, 4)]
    assert tree.unparse().startswith(b"\xef\xbb\xbf")


def test_check_directive_current_versus_v012():
    data = (HAND_CASES / "05_check_directive_before_escape.Dockerfile").read_bytes()
    current = parse(data)
    assert [d.name for d in current.directives] == ["syntax", "check", "escape"]
    assert kinds(current) == [("FROM", 5, 5), ("RUN", 6, 7), ("RUN", 8, 8)]
    old = parse(data, buildkit="0.12")
    # buildkit v0.12 does not know `check`: it ends the directives, so the escape is ignored
    assert [d.name for d in old.directives] == ["syntax"]
    assert [n.keyword for n in old.instructions] == ["FROM", "RUN", "two", "RUN"]


def test_json_with_trailing_text_current_versus_v012():
    text = 'FROM x\nCOPY ["a"] <<EOF /x\nbody\nEOF\n'
    current = p(text)
    copy = current.instructions[1]
    assert copy.json is None  # strict JSON fails, so it is shell form and may carry heredocs
    assert [h.name for h in copy.heredocs] == ["EOF"]
    old = p(text, buildkit="0.12")
    copy = old.instructions[1]
    assert copy.json == ("a",)  # Decoder.Decode ignored the trailing text
    assert copy.heredocs == ()
    assert [n.name for n in old.instructions] == ["FROM", "COPY", "BODY", "EOF"]


# -- continuations ---------------------------------------------------------------------------


def test_comment_and_empty_lines_inside_continuation():
    tree = p("FROM x\nRUN a \\\n  # note\n\n   \n  && b\nUSER u\n")
    run = tree.instructions[1]
    assert run.args == b"a   && b"
    assert [line.role for line in run.lines] == [
        LineRole.FIRST, LineRole.INNER_COMMENT, LineRole.INNER_EMPTY, LineRole.INNER_EMPTY, LineRole.CONTINUATION
    ]
    assert run.has_empty_continuation_line
    assert tree.warnings and tree.warnings[0].line == 6


def test_trailing_blanks_after_escape():
    tree = p("FROM x\nRUN echo a \\   \n    b \\\t\n    c\nRUN d\n")
    assert tree.instructions[1].args == b"echo a     b     c"


def test_escape_at_eof_with_and_without_newline():
    for text in ("FROM x\nRUN echo a \\", "FROM x\nRUN echo a \\\n"):
        tree = p(text)
        assert kinds(tree) == [("FROM", 1, 1), ("RUN", 2, 2)]
        assert tree.instructions[1].args == b"echo a"
        assert tree.unparse() == text.encode()


def test_escaped_escape_is_not_a_continuation():
    tree = p("FROM x\nRUN echo foo\\\\\nRUN next\n")
    assert kinds(tree) == [("FROM", 1, 1), ("RUN", 2, 2), ("RUN", 3, 3)]


def test_comment_ending_in_escape_does_not_continue():
    tree = p("FROM x\n# note \\\nRUN a \\\n  # inner \\\n  b\nRUN c\n")
    assert kinds(tree) == [("FROM", 1, 1), ("RUN", 3, 5), ("RUN", 6, 6)]
    assert tree.instructions[1].args == b"a   b"


def test_inline_hash_is_not_a_comment():
    tree = p("FROM x\nWORKDIR /app # not a comment\n   # indented comment\nRUN echo x#y\n")
    assert tree.instructions[1].args == b"/app # not a comment"
    assert len(tree.instructions) == 3


def test_crlf_and_mixed_line_endings_are_kept():
    text = b"FROM x\r\nRUN a \\\r\n  b\nENV A=1\r\n"
    tree = parse(text)
    assert tree.unparse() == text
    assert tree.instructions[1].args == b"a   b"
    assert tree.newline == b"\r\n"
    assert [text[line.content_end : line.end] for line in tree.lines] == [b"\r\n", b"\r\n", b"\n", b"\r\n"]


def test_backtick_escape_windows_paths():
    tree = p("# escape=`\nFROM mcr.microsoft.com/windows\nCOPY c:\\src c:\\dst\nRUN dir `\n  c:\\\n")
    assert tree.instructions[1].args == b"c:\\src c:\\dst"
    assert tree.instructions[2].args == b"dir   c:\\"


def test_lone_continuation_line_starts_an_instruction():
    tree = p("FROM x\n\\\nRUN a\n")
    # buildkit joins the lone marker with the next line: one instruction, keyword RUN
    assert kinds(tree) == [("FROM", 1, 1), ("RUN", 2, 3)]


# -- heredocs --------------------------------------------------------------------------------


def test_heredoc_chomp_quoted_and_several():
    text = "FROM x\nRUN <<-EOT cat && <<'A' cat\n\techo one\n\tEOT\n$NOT\nA\nRUN after\n"
    tree = p(text)
    run = tree.instructions[1]
    assert [(h.name, h.chomp, h.expand) for h in run.heredocs] == [("EOT", True, True), ("A", False, False)]
    assert run.heredocs[0].content == b"\techo one\n"
    assert run.heredocs[1].content == b"$NOT\n"
    assert kinds(tree) == [("FROM", 1, 1), ("RUN", 2, 6), ("RUN", 7, 7)]
    assert [line.role for line in run.lines][1:] == [
        LineRole.HEREDOC_BODY, LineRole.HEREDOC_END, LineRole.HEREDOC_BODY, LineRole.HEREDOC_END
    ]


def test_heredoc_fd_and_interpreter():
    run = p("FROM x\nRUN 3<<EOF cat /dev/fd/3\nfd\nEOF\n").instructions[1]
    assert (run.heredocs[0].fd, run.heredocs[0].name) == (3, "EOF")


@settings(max_examples=500, deadline=None)
@given(st.from_regex(r"[A-Za-z0-9_.][A-Za-z0-9_.-]{0,7}", fullmatch=True), st.sampled_from(["", "3"]), st.booleans())
def test_plain_heredoc_names_skip_the_lexer(name: str, fd: str, chomp: bool):
    """A name of letters, digits, `_`, `.` and `-` is read without the shell lexer, to what the
    lexer reads (quoted and escaped names still go through it)."""
    from slimfile.syntax.parser import RULES, _heredoc_from_match, _lexed_heredoc

    for rules in RULES.values():
        match = rules.heredoc_re.match(f"{fd}<<{'-' if chomp else ''}{name}")
        assert match is not None
        fast = _heredoc_from_match(match)
        assert fast == _lexed_heredoc(match.group(3), int(fd or 0), chomp)
        assert fast == (match.group(3), int(fd or 0), chomp, True)
    assert p("RUN <<'E.1' cat\nx\nE.1\n").instructions[0].heredocs[0].expand is False


def test_heredoc_on_copy_and_add_but_not_on_other_keywords():
    tree = p("FROM x\nCOPY <<a <<b /dir/\n1\na\n2\nb\nCMD <<EOF\n")
    assert [h.name for h in tree.instructions[1].heredocs] == ["a", "b"]
    assert tree.instructions[2].heredocs == ()


def test_heredoc_not_in_exec_form():
    tree = p('FROM x\nRUN ["<<EOF"]\nRUN "<<NOHEREDOC"\n')
    assert tree.instructions[1].json == ("<<EOF",)
    assert tree.instructions[1].heredocs == ()
    assert tree.instructions[2].heredocs == ()


def test_heredoc_after_continuation_and_flags():
    tree = p("FROM x\nRUN --mount=type=cache,target=/c \\\n  <<EOF sh\necho hi\nEOF\n")
    run = tree.instructions[1]
    assert run.flag_values() == ("--mount=type=cache,target=/c",)
    assert run.heredocs[0].content == b"echo hi\n"


def test_heredoc_in_onbuild():
    tree = p("FROM x\nONBUILD RUN <<EOF\necho onbuild\nEOF\nRUN after\n")
    onbuild = tree.instructions[1]
    assert onbuild.inner is not None and onbuild.inner.name == "RUN"
    assert onbuild.heredocs[0].content == b"echo onbuild\n"
    # the inner instruction spans the outer's lines and carries its heredocs too
    inner = onbuild.inner
    assert inner.heredocs == onbuild.heredocs
    assert (inner.lines, inner.start, inner.end) == (onbuild.lines, onbuild.start, onbuild.end)
    assert (inner.start_line, inner.end_line) == (2, 4)


def test_onbuild_inner_instruction_has_the_outer_lines():
    tree = p("FROM x\nONBUILD RUN a \\\n    && b\nRUN c\n")
    onbuild = tree.instructions[1]
    assert len(onbuild.inner.lines) == 2 and onbuild.inner.lines == onbuild.lines
    assert onbuild.inner.has_empty_continuation_line is False


def test_unterminated_heredoc_names_the_instruction_line():
    with pytest.raises(ParseError) as info:
        p("FROM x\nRUN <<EOF\necho\n")
    assert info.value.line == 2 and "unterminated heredoc" in info.value.message


def test_crlf_heredoc_terminator():
    tree = parse(b"FROM x\r\nRUN <<EOF\r\necho\r\nEOF\r\nRUN b\r\n")
    assert tree.instructions[1].heredocs[0].content == b"echo\r\n"
    assert len(tree.instructions) == 3


# -- JSON, flags, keywords -------------------------------------------------------------------


def test_json_forms_and_fallback():
    tree = p('FROM x\nCMD ["a", "b \\"c\\""]\nCMD [not, json]\nENTRYPOINT [\'single\']\nCMD [1, 2]\n')
    assert tree.instructions[1].json == ("a", 'b "c"')
    assert tree.instructions[2].json is None
    assert tree.instructions[3].json is None
    assert tree.instructions[4].problems  # buildkit rejects non-string arrays


def test_json_split_over_continuation():
    tree = p('FROM x\nCMD ["a", \\\n     "b"]\n')
    assert tree.instructions[1].json == ("a", "b")


def test_flags_have_their_own_spans_even_across_lines():
    text = "FROM x\nRUN --mount=type=cache,target=/a \\\n    --network=host   echo hi\n"
    tree = p(text)
    run = tree.instructions[1]
    src = tree.source
    assert [src[f.start : f.end] for f in run.flags] == [b"--mount=type=cache,target=/a", b"--network=host"]
    assert [f.name for f in run.flags] == ["mount", "network"]
    assert run.flag("network").argument == "host"
    assert run.args == b"echo hi"


def test_quoted_flag_value_is_unquoted_and_double_dash_ends_flags():
    tree = p('FROM x\nCOPY --chmod="755" -- --odd /dst\n')
    copy = tree.instructions[1]
    assert copy.flag_values() == ("--chmod=755",)
    assert copy.args == b"--odd /dst"


def test_keywords_in_any_case_and_onbuild_inner():
    tree = p("from x AS Build\nonbuild run echo hi\nOnBuild ADD . /app\n")
    assert [n.name for n in tree.instructions] == ["FROM", "ONBUILD", "ONBUILD"]
    assert tree.instructions[1].inner.name == "RUN"
    assert tree.instructions[1].inner.args == b"echo hi"
    assert tree.instructions[2].inner.keyword == "ADD"


def test_tabs_and_unicode_bytes():
    text = "FROM x\nLABEL\tdesc=\"naïve ☃\"\nRUN\techo \t日本\n"
    tree = p(text)
    assert tree.instructions[1].args_text == 'desc="naïve ☃"'
    run = tree.instructions[2]
    start, end = run.args_source_span()
    assert tree.source[start:end] == "echo \t日本".encode()
    assert tree.position(end) == (3, len("RUN\techo \t日本") + 1)


def test_logical_to_source_at_a_seam():
    text = b"FROM x\nRUN aaa \\\n    bbb\n"
    tree = parse(text)
    run = tree.instructions[1]
    seam = run.logical.text.index(b"    bbb")
    # the seam has two source positions: after "aaa " (before the marker) or at the next line
    assert text[: run.logical.to_source(seam, at_end=True)].endswith(b"aaa ")
    assert text[run.logical.to_source(seam) :].startswith(b"    bbb")
