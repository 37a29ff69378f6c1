"""buildkit's parser (v0.12.5, through the ``dockerfile`` package) as a test oracle.

Compares what both parsers say about each instruction: keyword as written, ONBUILD's inner
keyword, start/end line, flags, exec-form values, the shell-form value (logical args) and
heredocs (name, body). Known, intended differences are normalised here and nowhere else.
"""

from __future__ import annotations

import pytest

dockerfile = pytest.importorskip("dockerfile", reason="buildkit oracle wheel exists for x86_64 Linux only")

from slimfile.syntax import parse  # noqa: E402
from slimfile.syntax.errors import ParseError  # noqa: E402

# errors buildkit raises while splitting lines (we must raise them too)
LEXICAL_ERRORS = ("unterminated heredoc", "parser directive can be used", "invalid escape token")


def oracle(source: bytes):
    """The oracle's instructions, or the error message it raised."""
    try:
        return [
            (
                c.cmd or "",
                c.sub_cmd,
                c.start_line,
                c.end_line,
                tuple(c.flags),
                c.json,
                c.value if c.json else None,
                c.value[0] if (not c.json and (c.cmd or "").upper() in ("RUN", "CMD", "ENTRYPOINT", "SHELL") and c.value) else None,
                tuple((h.name, h.content) for h in c.heredocs),
            )
            for c in dockerfile.parse_string(source.decode("utf-8", "surrogateescape"))
        ]
    except dockerfile.GoParseError as exc:
        return str(exc)


def _buildkit_flag(value: str) -> str:
    """buildkit reads flag bytes as Latin-1 runes; re-encode ours the same way to compare."""
    return value.encode("utf-8", "surrogateescape").decode("latin-1")


def ours(source: bytes):
    tree = parse(source, buildkit="0.12")
    out = []
    for node in tree.instructions:
        eff = node.effective
        shell_value = None
        # the oracle shows ONBUILD's inner exec form, but not its shell form or heredocs
        if node.inner is None and eff.json is None and eff.name in ("RUN", "CMD", "ENTRYPOINT", "SHELL") and eff.args:
            shell_value = eff.args_text
        heredocs = () if node.inner is not None else tuple((h.name, h.body_text()) for h in node.heredocs)
        # the oracle's strings stop at a NUL character (C strings in the wrapper)
        exec_values = tuple(v.split("\x00")[0] for v in eff.json) if eff.json is not None else None
        if eff.name == "HEALTHCHECK" and exec_values is not None:
            exec_values = (eff.args_text.split()[0], *exec_values)  # buildkit lists the type first
        out.append(
            (
                node.keyword,
                node.inner.keyword if node.inner is not None else None,
                node.start_line,
                node.end_line,
                tuple(_buildkit_flag(f.value) for f in node.flags),
                eff.json is not None,
                exec_values,
                shell_value,
                heredocs,
            )
        )
    return out


def assert_agrees(source: bytes) -> None:
    expected = oracle(source)
    if isinstance(expected, str):
        if any(marker in expected for marker in LEXICAL_ERRORS):
            with pytest.raises(ParseError):
                parse(source, buildkit="0.12")
            return
        # a semantic error (ENV without value, non-string JSON array, empty file): we keep the
        # file and must at least split it; the instruction that buildkit rejects carries a problem
        try:
            tree = parse(source, buildkit="0.12")
        except ParseError as exc:
            # buildkit stopped at the semantic error before reaching our lexical one: the part
            # of the file before our error must hold the problem buildkit reported
            lines = source.split(b"\n")
            cut = sum(len(line) + 1 for line in lines[: (exc.line or 1) - 1])
            tree = parse(source[:cut], buildkit="0.12")
        else:
            assert tree.unparse() == source
        if "file with no instructions" in expected:
            assert not tree.instructions
        else:
            assert any(node.problems or (node.inner and node.inner.problems) for node in tree.instructions), expected
        return
    got = ours(source)
    # the oracle hides heredocs of ONBUILD instructions; ours are checked elsewhere
    expected = [e if e[1] is None else (*e[:8], ()) for e in expected]
    expected = [(*e[:6], tuple(e[6]) if e[6] is not None else None, *e[7:]) for e in expected]
    assert got == expected
