"""Hypothesis strategies for random Dockerfiles that stress buildkit's line rules:
directives, BOM, escape characters, continuations (between words and anywhere), comment and
empty lines inside continuations, trailing blanks after the escape, heredocs (``<<-``,
quoted, several per instruction), JSON forms (valid and not), tabs, case, Unicode, and
LF/CRLF/mixed line endings with or without a final newline."""

from __future__ import annotations

from hypothesis import strategies as st

KEYWORDS = ["FROM", "RUN", "CMD", "COPY", "ADD", "ENV", "ARG", "LABEL", "WORKDIR", "USER", "EXPOSE",
            "ENTRYPOINT", "VOLUME", "SHELL", "HEALTHCHECK", "ONBUILD", "STOPSIGNAL", "MAINTAINER"]
WORDS = ["apt-get", "install", "-y", "curl", "&&", "echo", "hi", "'a b'", '"c d"', "$HOME", "${A:-x}",
         "/app", ".", "foo=bar", "#notcomment", "x#y", "naïve", "日本", "a\\ b", "--flag", "<", ">", "|",
         "`pwd`", "[", "]", '"', "'", "\t", "AS", "build", "<<EOF", "2>&1", "--mount=type=cache,target=/x"]
FLAGS = ["--mount=type=cache,target=/root/.cache", "--network=host", "--from=build", "--chown=1:1",
         "--platform=$BUILDPLATFORM", "--link", '--chmod="755"', "--", "--security=insecure"]
NAMES = ["EOF", "END", "FILE1", "x"]
BODY_LINES = ["echo hi", "# hash", "FROM scratch", "trailing \\", "", "\tindented", "EOF ", "  EOF", "naïve ☃"]


@st.composite
def heredoc_word(draw, name: str) -> str:
    dash = draw(st.sampled_from(["", "-"]))
    quote = draw(st.sampled_from(["", "'", '"']))
    fd = draw(st.sampled_from(["", "", "3"]))
    space = draw(st.sampled_from(["", "", " "]))
    return f"{fd}<<{dash}{space}{quote}{name}{quote}"


@st.composite
def instruction(draw, escape: str, newline_choice) -> list[str]:
    """One instruction as a list of physical lines (without line endings)."""
    kind = draw(st.sampled_from(["words", "words", "json", "badjson", "heredoc", "heredoc"]))
    if kind == "heredoc" and draw(st.integers(0, 9)) < 8:
        keyword = draw(st.sampled_from(["RUN", "COPY", "ADD", "ONBUILD RUN"]))
    else:
        keyword = draw(st.sampled_from(KEYWORDS))
    keyword = draw(st.sampled_from([keyword, keyword.lower(), keyword.capitalize()]))
    prefix = draw(st.sampled_from(["", "", " ", "\t"]))
    flags = draw(st.lists(st.sampled_from(FLAGS), max_size=2))
    heredocs: list[tuple[str, bool]] = []
    if kind == "json":
        items = draw(st.lists(st.sampled_from(["a", "b c", "\\\\", "é", '\\"q\\"']), max_size=3))
        words = ["[" + ", ".join(f'"{i}"' for i in items) + "]"]
    elif kind == "badjson":
        words = [draw(st.sampled_from(["[a, b]", "['x']", '["a"', '["a"] tail', "[1, 2]"]))]
    elif kind == "heredoc":
        count = draw(st.integers(1, 2))
        words = []
        for _ in range(count):
            name = draw(st.sampled_from(NAMES))
            word = draw(heredoc_word(name))
            heredocs.append((name, "-" in word.split(name)[0]))
            words += [word, draw(st.sampled_from(["cat", "sh", "python3", "/dst", ">", "&&"]))]
    else:
        words = draw(st.lists(st.sampled_from(WORDS), max_size=6))
    tokens = [keyword] + flags + words
    lines = [prefix]
    exotic = draw(st.booleans())
    for i, token in enumerate(tokens):
        if i and draw(st.integers(0, 4)) == 0:
            lines[-1] += " " + escape + draw(st.sampled_from(["", "", " ", "\t", "  "]))
            for _ in range(draw(st.integers(0, 2))):
                lines.append(draw(st.sampled_from(["# inner comment", "  # indented", "", "   ", "#ends " + escape])))
            lines.append(draw(st.sampled_from(["", "  ", "\t"])))
        sep = "" if i == 0 and lines[-1] in ("", " ", "\t") else " "
        if exotic and len(token) > 2 and draw(st.integers(0, 6)) == 0:
            cut = draw(st.integers(1, len(token) - 1))
            lines[-1] += sep + token[:cut] + escape
            lines.append(token[cut:])
            continue
        lines[-1] += sep + token
    for name, chomp in heredocs:
        lines.extend(draw(st.lists(st.sampled_from(BODY_LINES), max_size=3)))
        terminated = draw(st.integers(0, 20)) > 0
        if terminated:
            lines.append(("\t" if chomp and draw(st.booleans()) else "") + name)
    return lines


@st.composite
def dockerfiles(draw) -> bytes:
    escape = "\\"
    header: list[str] = []
    directive_pool = ["# syntax=docker/dockerfile:1", "# check=skip=all", "#escape=`", "# escape=\\", "#  ESCAPE = `"]
    for directive in draw(st.lists(st.sampled_from(directive_pool), max_size=3, unique=True)):
        is_escape = "escape" in directive.lower()
        if is_escape and any("escape" in d.lower() for d in header) and draw(st.integers(0, 9)) > 0:
            continue  # a duplicate escape directive is an error; keep it rare
        header.append(directive)
    if draw(st.integers(0, 5)) == 0:
        header.insert(0, "# a comment first")
    # our generator needs to know which escape is in force; mirror buildkit: first escape directive
    # before any non-directive line wins (duplicates are an error, which is fine to test too)
    for line in header:
        text = line.lstrip("#").strip().lower().replace(" ", "")
        if line.startswith("# a comment"):
            break
        if text.startswith("escape="):
            escape = text.split("=", 1)[1]
            break
    body: list[str] = []
    for _ in range(draw(st.integers(1, 6))):
        block = draw(st.sampled_from(["instruction", "instruction", "instruction", "comment", "blank"]))
        if block == "comment":
            body.append(draw(st.sampled_from(["# comment", "   # indented comment", "# ends with " + escape, "#"])))
        elif block == "blank":
            body.append(draw(st.sampled_from(["", "  ", "\t"])))
        else:
            body.extend(draw(instruction(escape, None)))
    lines = header + body
    style = draw(st.sampled_from(["lf", "crlf", "mixed"]))
    out = []
    for line in lines:
        eol = {"lf": "\n", "crlf": "\r\n"}.get(style) or draw(st.sampled_from(["\n", "\r\n"]))
        out.append(line + eol)
    text = "".join(out)
    ending = draw(st.sampled_from(["keep", "keep", "strip", "escape"]))
    if ending == "strip":
        text = text.rstrip("\r\n")
    elif ending == "escape":
        text = text.rstrip("\r\n") + " " + escape + draw(st.sampled_from(["", "\n"]))
    bom = "\ufeff" if draw(st.integers(0, 8)) == 0 else ""
    return (bom + text).encode("utf-8")
