"""The command model: names, words, operators, scopes, redirects, heredocs, opacity, set -e."""

from __future__ import annotations

from slimfile.shell.model import CommandKind, Operator, ScopeKind

from .conftest import model, names, opaque


def test_commands_in_source_order_with_operators() -> None:
    script = model("RUN a && b || c; d | e & f\n")
    assert names(script) == ["a", "b", "c", "d", "e", "f"]
    ops = [c.operator for c in script.commands]
    # `f` follows the backgrounded pipeline, so `&` joins it to what ran before
    assert ops == [None, Operator.AND, Operator.OR, None, Operator.PIPE, Operator.BACKGROUND]
    assert [c.after.operator if c.after else None for c in script.commands] == [
        Operator.AND,
        Operator.OR,
        Operator.SEMICOLON,
        Operator.PIPE,
        None,
        None,
    ]
    pipeline = script.commands[3].scopes[0]
    assert pipeline.kind is ScopeKind.PIPELINE
    assert pipeline.before.operator is Operator.SEMICOLON
    assert pipeline.after.operator is Operator.BACKGROUND


def test_words_are_unquoted_and_spans_point_at_source() -> None:
    text = "RUN echo 'a b' \"c $HOME\" d\\ e $'x\\ty' >/dev/null 2>&1\n"
    script = model(text)
    source = b"FROM debian:12\n" + text.encode()
    echo = script.commands[0]
    assert [w.value for w in echo.words] == ["echo", "a b", "c $HOME", "d e", "x\ty"]
    assert [w.static for w in echo.words] == [True, True, False, True, True]
    for word in echo.words:
        assert source[word.start : word.end].decode() == word.raw
    assert [(r.operator, r.fd, r.target.value) for r in echo.redirects] == [(">", None, "/dev/null"), (">&", 2, "1")]
    assert source[echo.start : echo.end].endswith(b"2>&1")


def test_spans_map_through_continuations_and_inner_comments() -> None:
    text = "FROM debian\nRUN apt-get update \\\n    # refresh first\n    && apt-get install -y \\\n        curl\n"
    script = model(text)
    source = text.encode()
    install = script.commands[1]
    assert install.argv == ("apt-get", "install", "-y", "curl")
    curl = install.words[-1]
    assert source[curl.start : curl.end] == b"curl"
    # the command's span runs across the continuation, from its name to its last word
    assert source[install.start : install.end] == b"apt-get install -y \\\n        curl"


def test_backtick_escape_files_map_spans() -> None:
    text = "# escape=`\nFROM debian\nRUN apt-get install -y `\n    curl `\n    git\n"
    script = model(text)
    source = text.encode()
    assert script.commands[0].argv == ("apt-get", "install", "-y", "curl", "git")
    git = script.commands[0].words[-1]
    assert source[git.start : git.end] == b"git"


def test_crlf_file_spans() -> None:
    text = "FROM debian\r\nRUN apt-get update && \\\r\n    apt-get install -y curl\r\n"
    script = model(text)
    source = text.encode()
    curl = script.commands[1].words[-1]
    assert source[curl.start : curl.end] == b"curl"


def test_wrappers_and_prefix_assignments() -> None:
    script = model("RUN DEBIAN_FRONTEND=noninteractive sudo -E -u root env A=1 nice -n 5 apt-get update\n")
    command = script.commands[0]
    assert command.name == "apt-get"
    assert command.wrappers == ("sudo", "env", "nice")
    assert [(a.name, a.value_text) for a in command.assignments] == [("DEBIAN_FRONTEND", "noninteractive"), ("A", "1")]
    assert command.argv == ("apt-get", "update")


def test_command_v_is_not_a_wrapper_and_path_is_basename() -> None:
    script = model("RUN command -v curl && /usr/local/bin/pip3 install x && exec nginx\n")
    assert names(script) == ["command", "pip3", "nginx"]
    assert script.commands[2].wrappers == ("exec",)


def test_scopes_of_compound_commands() -> None:
    script = model(
        "RUN if [ -f /x ]; then cd /y && make; else echo no; fi"
        " && for f in $(ls); do rm $f; done"
        " && while read l; do echo $l; done < list"
        " && case $A in a) one;; *) two;; esac"
        " && (sub) && { grp; } && f() { body; } && ! neg\n"
    )
    table = {c.name: [(s.kind.value, s.role) for s in c.scopes] for c in script.commands}
    assert table["["] == [("if", "condition")]
    assert table["cd"] == [("if", "body")]
    assert table["ls"] == [("for", "words"), ("command-substitution", None)]
    assert table["rm"] == [("for", "body")]
    assert table["read"] == [("while", "condition")]
    assert table["one"] == [("case", "body")]
    assert table["sub"] == [("subshell", None)]
    assert table["grp"] == [("brace-group", None)]
    assert table["body"] == [("function", "body"), ("brace-group", None)]
    assert table["neg"] == [("negation", None)]
    assert script.commands[0].kind is CommandKind.TEST
    assert script.commands[0].argv == ("[", "-f", "/x", "]")
    assert [f.name for f in script.functions] == ["f"]


def test_until_and_declarations_and_bare_assignment() -> None:
    script = model("RUN until false; do x; done; export A=1 B; X=2 Y=3; unset Z\n")
    assert script.commands[0].scopes[0].kind is ScopeKind.UNTIL
    export = script.command_named("export")[0]
    assert export.kind is CommandKind.DECLARATION and export.argv == ("export", "A=1", "B")
    bare = [c for c in script.commands if c.kind is CommandKind.ASSIGNMENT][0]
    assert [a.name for a in bare.assignments] == ["X", "Y"]
    assert script.command_named("unset")[0].kind is CommandKind.UNSET


def test_backquoted_comments_in_package_lists_are_ignored() -> None:
    script = model("RUN apt-get install -y libxslt1-dev `# needed by lxml` libcurl4 && apt-get clean\n")
    assert script.commands[0].argv == ("apt-get", "install", "-y", "libxslt1-dev", "libcurl4")
    assert names(script) == ["apt-get", "apt-get"]


def test_heredoc_data_of_a_shell_form_run() -> None:
    text = "FROM debian\nRUN cat <<EOF > /etc/x && echo done\nline $A\nEOF\n"
    script = model(text)
    assert script.origin == "run"
    cat, echo = script.commands
    assert (cat.name, echo.name, echo.operator) == ("cat", "echo", Operator.AND)
    heredoc = cat.redirects[0]
    assert heredoc.operator == "<<" and heredoc.target.value == "EOF"
    assert text.encode()[heredoc.heredoc.body_start : heredoc.heredoc.body_end] == b"line $A\n"
    assert cat.redirects[1].target.value == "/etc/x"


def test_heredoc_before_the_command_name() -> None:
    script = model("FROM debian\nRUN <<FILE1 cat > /file1 && <<FILE2 cat > /file2\nI am\nFILE1\nsecond\nFILE2\n")
    assert names(script) == ["cat", "cat"]
    assert [r.heredoc.delimiter for r in script.commands[1].redirects if r.heredoc] == ["FILE2"]


def test_run_heredoc_body_is_the_script() -> None:
    text = "FROM debian\nRUN <<EOF\nset -e\napt-get update\napt-get install -y curl\nEOF\n"
    script = model(text)
    assert script.origin == "heredoc"
    assert names(script) == ["set", "apt-get", "apt-get"]
    assert [c.operator for c in script.commands] == [None, Operator.NEWLINE, Operator.NEWLINE]
    curl = script.commands[2].words[-1]
    assert text.encode()[curl.start : curl.end] == b"curl"
    assert [c.errexit for c in script.commands] == [False, True, True]


def test_chomped_heredoc_script_maps_past_tabs() -> None:
    text = "FROM debian\nRUN <<-EOT\n\techo one\n\t\techo two\nEOT\n"
    script = model(text)
    two = script.commands[1].words[1]
    assert text.encode()[two.start : two.end] == b"two"


def test_interpreter_heredocs_are_data_but_shell_heredocs_are_scripts() -> None:
    python = model("FROM debian\nRUN python3 <<EOF\nimport os\nprint(os.name)\nEOF\n")
    assert names(python) == ["python3"]
    bash = model("FROM debian\nRUN <<EOF bash\nset -euo pipefail\necho hi\nEOF\n")
    assert names(bash) == ["bash", "set", "echo"]
    assert bash.commands[1].scopes[0].kind is ScopeKind.HEREDOC_SCRIPT
    assert bash.commands[1].in_child_process
    assert bash.texts[1].shell.dialect == "bash"


def test_shebang_heredoc_runs_its_interpreter() -> None:
    assert "#!" in opaque("FROM debian\nRUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF\n").reason
    script = model("FROM debian\nRUN <<EOF\n#!/bin/bash -e\necho hi\nEOF\n")
    assert script.shell.dialect == "bash" and script.shell.origin == "shebang"
    assert script.commands[0].errexit


def test_nested_heredoc_inside_a_heredoc_script() -> None:
    text = "FROM debian\nRUN <<EOF\ncat <<'X' > /f && echo done\n$(not run)\nX\nsh <<Y\ncd /tmp\nY\nEOF\n"
    script = model(text)
    assert names(script) == ["cat", "echo", "sh", "cd"]
    assert script.commands[3].scopes[0].kind is ScopeKind.HEREDOC_SCRIPT
    cd_word = script.commands[3].words[1]
    assert text.encode()[cd_word.start : cd_word.end] == b"/tmp"


def test_json_form_is_opaque() -> None:
    assert opaque('FROM debian\nRUN ["apt-get", "update"]\n').reason.startswith("exec form")


def test_powershell_stage_is_opaque_and_inherited_by_child_stage() -> None:
    text = (
        'FROM debian AS base\nSHELL ["pwsh", "-Command"]\nRUN Write-Host hi\n'
        "FROM base AS child\nRUN Write-Host again\nFROM debian\nRUN echo posix\n"
    )
    assert "powershell" in opaque(text, 0).reason
    assert "powershell" in opaque(text, 1).reason
    assert names(model(text, 2)) == ["echo"]


def test_windows_base_image_defaults_to_cmd() -> None:
    reason = opaque("FROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN dir c:\\\n").reason
    assert "Windows" in reason


def test_shell_dialect_and_options_from_shell_instruction() -> None:
    script = model('FROM debian\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nRUN echo a | cat\n')
    assert script.shell.is_bash and script.shell.options == frozenset({"pipefail"})
    default = model("FROM debian\nRUN echo a\n")
    assert default.shell.dialect == "sh" and not default.shell.is_bash
    ash = model('FROM alpine\nSHELL ["/bin/ash", "-eo", "pipefail", "-c"]\nRUN echo a\n')
    assert ash.shell.dialect == "sh" and ash.errexit_at_start and ash.commands[0].errexit


def test_onbuild_run_is_modelled() -> None:
    script = model("FROM debian\nONBUILD RUN apt-get update && make\n")
    assert names(script) == ["apt-get", "make"]


def test_errexit_tracking() -> None:
    script = model("RUN a; set -eux; b; (c; set +e; d); e; set -o errexit; f; set +o errexit; g; x=$(h)\n")
    flags = {c.name: c.errexit for c in script.commands if c.name}
    assert flags == {"a": False, "set": True, "b": True, "c": True, "d": False, "e": True, "f": True, "g": False, "h": False}


def test_errexit_in_bash_command_substitution_is_reset() -> None:
    script = model('FROM debian\nSHELL ["/bin/bash", "-ec"]\nRUN x=$(inner) && outer\n')
    flags = {c.name: c.errexit for c in script.commands if c.name}
    assert flags == {"outer": True, "inner": False}
