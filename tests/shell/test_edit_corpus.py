"""Edit helpers on every RUN of the shared corpus: each edit that is not refused gives a file
that buildkit's parser (the oracle) reads exactly as ours does, and whose new model is the old
one plus or minus exactly what the edit claims."""

from __future__ import annotations

from pathlib import Path

import pytest

from slimfile.shell import edit_helpers as eh
from slimfile.shell.analyze import analyze_run
from slimfile.shell.model import Command, CommandKind, ShellScript
from slimfile.syntax import parse
from slimfile.syntax.edits import Edit, apply_edits
from tests.conftest import all_inputs

from .conftest import runs

oracle = pytest.importorskip("dockerfile")

INPUTS = [p for p in all_inputs() if not p.name.startswith("neg_")]


def shell_run_values(source: bytes, ours=None) -> tuple[list[str], list[str]]:
    """The shell-form RUN texts as buildkit's parser and ours (v0.12 rules) read them."""
    theirs = oracle.parse_string(source.decode("utf-8", "surrogateescape"))
    ours = ours or parse(source, buildkit="0.12")
    return (
        [c.value[0] for c in theirs if c.cmd.upper() == "RUN" and not c.json],
        [i.args_text for i in ours.instructions if i.name == "RUN" and i.json is None],
    )


class Checker:
    def __init__(self, path: Path) -> None:
        self.source = path.read_bytes()
        self.dockerfile = parse(self.source, path=str(path), buildkit="0.12")

    def apply(self, run_index: int, edits: tuple[Edit, ...]) -> ShellScript:
        output = apply_edits(self.source, edits)
        edited = parse(output, buildkit="0.12")
        theirs, ours = shell_run_values(output, edited)
        assert theirs == ours
        result = analyze_run(edited, runs(edited)[run_index])
        assert isinstance(result, ShellScript), result.opaque
        return result


def _names(commands) -> list[str | None]:
    return [c.name for c in commands]


def _check_append(checker: Checker, index: int, script: ShellScript, command: Command) -> None:
    try:
        edit = eh.append_command(checker.dockerfile, script, command, "true")
    except eh.EditRefused:
        return
    position = sum(1 for c in script.commands if c.start < edit.start)
    expected = _names(script.commands)
    expected.insert(position, "true")
    assert _names(checker.apply(index, (edit,)).commands) == expected


def _check_remove(checker: Checker, index: int, script: ShellScript, command: Command) -> None:
    try:
        edits = eh.remove_command(checker.dockerfile, script, command)
    except eh.EditRefused:
        return
    expected = [c.name for c in script.commands if not command.start <= c.start < command.end]
    assert _names(checker.apply(index, edits).commands) == expected


def _check_option(checker: Checker, index: int, script: ShellScript, command: Command) -> None:
    edit = eh.insert_option(checker.dockerfile, script, command.words[command.name_index], "--slimfile-test")
    edited = checker.apply(index, (edit,))
    assert _names(edited.commands) == _names(script.commands)
    argv = command.argv
    assert edited.commands[command.index].argv == (argv[0], "--slimfile-test", *argv[1:])


@pytest.mark.shared
@pytest.mark.parametrize("path", INPUTS, ids=[p.name for p in INPUTS])
def test_edits_on_corpus_runs(path: Path) -> None:
    checker = Checker(path)
    theirs, ours = shell_run_values(checker.source, checker.dockerfile)
    if theirs != ours:
        pytest.skip("the original file already reads differently in buildkit v0.12")
    for index, instruction in enumerate(runs(checker.dockerfile)):
        script = analyze_run(checker.dockerfile, instruction)
        if not isinstance(script, ShellScript) or not script.commands:
            continue
        # one edit of each kind per RUN, on the commands passes care about most
        package_commands = [script.commands[fact.command] for fact in script.packages]
        _check_append(checker, index, script, (package_commands or script.commands)[-1])
        _check_append(checker, index, script, script.commands[-1])
        _check_remove(checker, index, script, (package_commands or script.commands[1:2] or script.commands)[0])
        named = [c for c in package_commands or script.commands if c.kind is CommandKind.SIMPLE and c.name_index is not None]
        if named:
            _check_option(checker, index, script, named[0])
