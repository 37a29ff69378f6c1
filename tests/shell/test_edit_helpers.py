"""Edit helpers: exact output for each style rule, and agreement with buildkit's parser."""

from __future__ import annotations

from typing import Callable

import pytest

from slimfile.shell import edit_helpers as eh
from slimfile.shell.analyze import analyze_run
from slimfile.shell.model import ShellScript
from slimfile.syntax import parse
from slimfile.syntax.edits import Edit, apply_edits

oracle = pytest.importorskip("dockerfile")

CLEANUP = "rm -rf /var/lib/apt/lists/*"


def edit(text: str, make: Callable[..., Edit | tuple[Edit, ...]]) -> str:
    """Apply the edits ``make(dockerfile, script)`` returns to the first RUN of ``text``, check
    the result parses (ours and buildkit's) and that both read every RUN the same way."""
    source = text.encode()
    dockerfile = parse(source)
    run = next(i for i in dockerfile.walk() if i.name == "RUN")
    script = analyze_run(dockerfile, run)
    assert isinstance(script, ShellScript)
    edits = make(dockerfile, script)
    output = apply_edits(source, edits if isinstance(edits, tuple) else (edits,))
    check_agrees_with_buildkit(output)
    return output.decode()


def check_agrees_with_buildkit(output: bytes) -> None:
    ours = parse(output, buildkit="0.12")
    theirs = [c for c in oracle.parse_string(output.decode("utf-8")) if c.cmd.upper() == "RUN"]
    mine = [i for i in ours.instructions if i.name == "RUN"]
    assert [c.value[0] if c.value else "" for c in theirs] == [i.args_text for i in mine]
    assert [[h.content for h in c.heredocs] for c in theirs] == [[h.body_text() for h in i.heredocs] for i in mine]


def named(script: ShellScript, name: str, occurrence: int = -1):
    return [c for c in script.commands if c.name == name][occurrence]


def after_install(dockerfile, script):
    return eh.append_command(dockerfile, script, named(script, "apt-get"), CLEANUP)


# -- append: one-line, leading and trailing styles ------------------------------------------------


def test_append_on_a_one_line_run_stays_on_the_line() -> None:
    out = edit("FROM d\nRUN apt-get update && apt-get install -y curl\n", after_install)
    assert out == f"FROM d\nRUN apt-get update && apt-get install -y curl && {CLEANUP}\n"


def test_append_after_last_command_in_leading_operator_style() -> None:
    text = "FROM d\nRUN apt-get update \\\n    # refresh\n    && apt-get install -y \\\n        curl\n"
    assert edit(text, after_install) == (
        "FROM d\nRUN apt-get update \\\n    # refresh\n    && apt-get install -y \\\n        curl \\\n"
        f"    && {CLEANUP}\n"
    )


def test_append_after_last_command_in_trailing_operator_style() -> None:
    text = "FROM d\nRUN apt-get update && \\\n    apt-get install -y curl\n"
    assert edit(text, after_install) == f"FROM d\nRUN apt-get update && \\\n    apt-get install -y curl && \\\n    {CLEANUP}\n"


def test_append_in_the_middle_keeps_each_joints_style() -> None:
    leading = "FROM d\nRUN apt-get update \\\n    && apt-get install -y curl \\\n    # then build\n    && make\n"
    assert edit(leading, after_install) == (
        "FROM d\nRUN apt-get update \\\n    && apt-get install -y curl \\\n"
        f"    && {CLEANUP} \\\n    # then build\n    && make\n"
    )
    trailing = "FROM d\nRUN apt-get update && \\\n    apt-get install -y curl && \\\n    make\n"
    assert edit(trailing, after_install) == (
        f"FROM d\nRUN apt-get update && \\\n    apt-get install -y curl && \\\n    {CLEANUP} && \\\n    make\n"
    )


def test_append_keeps_crlf_and_backtick_escape() -> None:
    text = "# escape=`\r\nFROM d\r\nRUN apt-get update `\r\n    && apt-get install -y curl\r\n"
    out = edit(text, after_install)
    assert out == f"# escape=`\r\nFROM d\r\nRUN apt-get update `\r\n    && apt-get install -y curl `\r\n    && {CLEANUP}\r\n"


def test_append_when_more_follows_on_the_same_line() -> None:
    text = "FROM d\nRUN apt-get install -y curl && make \\\n    && make install\n"
    assert edit(text, after_install) == f"FROM d\nRUN apt-get install -y curl && {CLEANUP} && make \\\n    && make install\n"


def test_append_after_a_statement_keeps_set_e_meaningful() -> None:
    out = edit("FROM d\nRUN set -e; apt-get install -y curl; make\n", after_install)
    assert out == f"FROM d\nRUN set -e; apt-get install -y curl; {CLEANUP}; make\n"


def test_append_before_a_trailing_separator_keeps_the_runs_status() -> None:
    # `install; rm ...;` would end with rm's status: a failed install would pass the build
    out = edit("FROM d\nRUN apt-get update && apt-get install -y curl;\n", after_install)
    assert out == f"FROM d\nRUN apt-get update && apt-get install -y curl && {CLEANUP};\n"
    out = edit("FROM d\nRUN if true; then apt-get install -y curl; fi;\n", after_install)
    assert out == f"FROM d\nRUN if true; then apt-get install -y curl && {CLEANUP}; fi;\n"


def test_append_at_the_end_of_a_compound_under_set_e_is_a_statement() -> None:
    # `set -e` ignores every command of an AND-OR list but the last, and then the `if` failing
    # does not stop the shell either: `install && rm` would let `make` run after a failed install
    out = edit("FROM d\nRUN set -e; if true; then apt-get install -y curl; fi; make\n", after_install)
    assert out == f"FROM d\nRUN set -e; if true; then apt-get install -y curl; {CLEANUP}; fi; make\n"
    out = edit("FROM d\nRUN set -e; { apt-get install -y curl; }\n", after_install)  # nothing after: `&&`
    assert out == f"FROM d\nRUN set -e; {{ apt-get install -y curl && {CLEANUP}; }}\n"
    out = edit("FROM d\nRUN set -e; (apt-get install -y curl); make\n", after_install)  # a subshell's failure counts
    assert out == f"FROM d\nRUN set -e; (apt-get install -y curl && {CLEANUP}); make\n"
    # where set -e is ignored anyway (the loop is on the left of `&&`), `&&` keeps the status
    out = edit("FROM d\nRUN set -e; for i in 1 2; do apt-get install -y curl; done && make\n", after_install)
    assert out == f"FROM d\nRUN set -e; for i in 1 2; do apt-get install -y curl && {CLEANUP}; done && make\n"
    # `a && install` in a loop under set -e: neither operator keeps what a failure does
    with pytest.raises(eh.EditRefused, match="set -e"):
        edit("FROM d\nRUN set -e; for i in 1 2; do true && apt-get install -y curl; done\n", after_install)
    # a loop body's list is followed by the next iteration, even at the end of a subshell
    out = edit("FROM d\nRUN set -e; (for i in 1 2; do apt-get install -y curl; done)\n", after_install)
    assert out == f"FROM d\nRUN set -e; (for i in 1 2; do apt-get install -y curl; {CLEANUP}; done)\n"


def test_append_after_the_last_stage_of_a_pipeline_goes_after_the_pipeline() -> None:
    out = edit("FROM d\nRUN curl -fsSL x | tar xz && make\n", lambda d, s: eh.append_command(d, s, named(s, "tar"), "true"))
    assert out == "FROM d\nRUN curl -fsSL x | tar xz && true && make\n"


def test_append_in_a_heredoc_script_uses_a_new_line() -> None:
    text = "FROM d\nRUN <<-EOF\n\tset -e\n\tapt-get install -y curl\n\tmake\nEOF\n"
    assert edit(text, after_install) == f"FROM d\nRUN <<-EOF\n\tset -e\n\tapt-get install -y curl\n\t{CLEANUP}\n\tmake\nEOF\n"


def test_append_in_crlf_heredoc_script() -> None:
    text = "FROM d\r\nRUN <<EOF\r\napt-get install -y curl\r\nEOF\r\n"
    out = edit(text, after_install)
    assert out == f"FROM d\r\nRUN <<EOF\r\napt-get install -y curl && {CLEANUP}\r\nEOF\r\n"


def test_append_before_a_heredoc_body_stays_on_the_line() -> None:
    text = "FROM d\nRUN <<EOF\ncat <<X > /f\nbody\nX\nmake\nEOF\n"
    out = edit(text, lambda d, s: eh.append_command(d, s, named(s, "cat"), "true"))
    assert out == "FROM d\nRUN <<EOF\ncat <<X > /f; true\nbody\nX\nmake\nEOF\n"


def test_append_after_a_shell_form_heredoc_command() -> None:
    text = "FROM d\nRUN apt-get update \\\n && cat <<EOF > /etc/x\nline\nEOF\n"
    out = edit(text, lambda d, s: eh.append_command(d, s, named(s, "cat"), "true"))
    assert out == "FROM d\nRUN apt-get update \\\n && cat <<EOF > /etc/x \\\n && true\nline\nEOF\n"


@pytest.mark.parametrize(
    "text, name, reason",
    [
        ("FROM d\nRUN curl x | tar xz\n", "curl", "pipeline"),
        ("FROM d\nRUN if grep -q x f; then y; fi\n", "grep", "condition"),
        ("FROM d\nRUN a || b\n", "a", "'||'"),
        ("FROM d\nRUN echo $(id -u)\n", "id", "substitution"),
        ("FROM d\nRUN sleep 1 & wait\n", "sleep", "background"),
        ("FROM d\nRUN npm ci; echo $?\n", "npm", r"reads `\$\?`"),
        ("FROM d\nRUN npm ci; if [ ${?} -ne 0 ]; then exit 1; fi\n", "npm", r"reads `\$\?`"),
    ],
)
def test_append_refusals(text: str, name: str, reason: str) -> None:
    dockerfile = parse(text.encode())
    script = analyze_run(dockerfile, dockerfile.instructions[1])
    with pytest.raises(eh.EditRefused, match=reason):
        eh.append_command(dockerfile, script, named(script, name), "true")


def test_opaque_runs_are_never_edited() -> None:
    dockerfile = parse(b'FROM d\nRUN ["apt-get", "install", "x"]\n')
    result = analyze_run(dockerfile, dockerfile.instructions[1])
    with pytest.raises(eh.EditRefused, match="opaque"):
        eh.wrap_in_subshell(dockerfile, result, None, None)


# -- options ----------------------------------------------------------------------------------------


def test_insert_option_after_subcommand() -> None:
    def add(dockerfile, script):
        return eh.insert_option(dockerfile, script, script.packages[-1].anchor, "--no-install-recommends")

    assert edit("FROM d\nRUN apt-get install -y curl\n", add) == "FROM d\nRUN apt-get install --no-install-recommends -y curl\n"
    multi = "# escape=`\r\nFROM d\r\nRUN apt-get update `\r\n  # c\r\n  && apt-get install `\r\n    curl\r\n"
    assert edit(multi, add) == "# escape=`\r\nFROM d\r\nRUN apt-get update `\r\n  # c\r\n  && apt-get install --no-install-recommends `\r\n    curl\r\n"
    heredoc = "FROM d\nRUN <<EOF\napt-get update\napt-get install -y curl\nEOF\n"
    assert edit(heredoc, add) == "FROM d\nRUN <<EOF\napt-get update\napt-get install --no-install-recommends -y curl\nEOF\n"


def test_insert_option_quotes_when_needed() -> None:
    out = edit("FROM d\nRUN pip install x\n", lambda d, s: eh.insert_option(d, s, s.packages[0].anchor, "--index-url=a b"))
    assert out == "FROM d\nRUN pip install '--index-url=a b' x\n"


# -- remove -----------------------------------------------------------------------------------------


def test_remove_takes_the_operator_on_its_own_line_and_the_emptied_line() -> None:
    text = "FROM d\nRUN a \\\n    && b \\\n    && c\n"
    assert edit(text, lambda d, s: eh.remove_command(d, s, named(s, "b"))) == "FROM d\nRUN a \\\n    && c\n"
    trailing = "FROM d\nRUN a && \\\n    b && \\\n    c\n"
    assert edit(trailing, lambda d, s: eh.remove_command(d, s, named(s, "b"))) == "FROM d\nRUN a && \\\n    c\n"


def test_remove_last_line_drops_the_marker_and_keeps_comments() -> None:
    text = "FROM d\r\nRUN a \\\r\n    # keep me\r\n    && b\r\nCMD x\r\n"
    out = edit(text, lambda d, s: eh.remove_command(d, s, named(s, "b")))
    assert out == "FROM d\r\nRUN a\r\n    # keep me\r\nCMD x\r\n"


def test_remove_keeps_and_or_binding() -> None:
    assert edit("FROM d\nRUN a && b; c\n", lambda d, s: eh.remove_command(d, s, named(s, "b"))) == "FROM d\nRUN a; c\n"
    assert edit("FROM d\nRUN a; b && c\n", lambda d, s: eh.remove_command(d, s, named(s, "b"))) == "FROM d\nRUN a; c\n"


def test_remove_with_backtick_escape() -> None:
    text = "# escape=`\nFROM d\nRUN a `\n    && b `\n    && c\n"
    assert edit(text, lambda d, s: eh.remove_command(d, s, named(s, "c"))) == "# escape=`\nFROM d\nRUN a `\n    && b\n"


def test_remove_in_heredoc_script_deletes_the_line() -> None:
    text = "FROM d\nRUN <<EOF\n  a\n  # note\n  b\n  c\nEOF\n"
    assert edit(text, lambda d, s: eh.remove_command(d, s, named(s, "b"))) == "FROM d\nRUN <<EOF\n  a\n  # note\n  c\nEOF\n"


@pytest.mark.parametrize(
    "text, name, reason",
    [
        ("FROM d\nRUN a\n", "a", "only one"),
        ("FROM d\nRUN if x; then y; fi\n", "y", "only one"),
        ("FROM d\nRUN a || b\n", "b", "'||'"),
        ("FROM d\nRUN a | b && c\n", "b", "pipeline"),
        ("FROM d\nRUN cat <<EOF > f && x\nbody\nEOF\n", "cat", "heredoc"),
        ("FROM d\nRUN set -e; (a) && b; c\n", "b", "set -e"),
        ("FROM d\nRUN a; b\n", "b", "status of the command before"),
        ("FROM d\nRUN (a; b;) && c\n", "b", "status of the command before"),
    ],
)
def test_remove_refusals(text: str, name: str, reason: str) -> None:
    dockerfile = parse(text.encode())
    script = analyze_run(dockerfile, dockerfile.instructions[1])
    assert isinstance(script, ShellScript)
    with pytest.raises(eh.EditRefused, match=reason):
        eh.remove_command(dockerfile, script, named(script, name))


# -- subshell ---------------------------------------------------------------------------------------


def test_wrap_in_subshell() -> None:
    text = "FROM d\nRUN cd /app \\\n    # build\n    && make\n"
    out = edit(text, lambda d, s: eh.wrap_in_subshell(d, s, s.commands[0], s.commands[-1]))
    assert out == "FROM d\nRUN (cd /app \\\n    # build\n    && make)\n"
    dockerfile = parse(out.encode())
    wrapped = analyze_run(dockerfile, dockerfile.instructions[1])
    assert [s.persists for s in wrapped.state_changes] == [False]


def test_wrap_refuses_commands_of_different_lists() -> None:
    dockerfile = parse(b"FROM d\nRUN a && (b; c)\n")
    script = analyze_run(dockerfile, dockerfile.instructions[1])
    with pytest.raises(eh.EditRefused):
        eh.wrap_in_subshell(dockerfile, script, script.commands[0], script.commands[2])
