"""Every RUN of every shared Dockerfile is modelled or reported opaque with a reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from slimfile.shell.analyze import analyze_run
from slimfile.shell.model import ShellScript
from slimfile.syntax import ParseError, parse
from tests.conftest import all_inputs

from .conftest import runs

INPUTS = all_inputs()
pytestmark = pytest.mark.shared
# RUN texts that are not valid shell: opaque is the right answer for them
KNOWN_UNPARSABLE = {"06_directive_after_comment_ignored.Dockerfile": "echo `"}


def _dockerfile(path: Path):
    try:
        return parse(path.read_bytes(), path=str(path))
    except ParseError as exc:
        # only files buildkit itself rejects may be skipped, and only for that reason
        assert "heredoc" in exc.message or "directive" in exc.message or "escape" in exc.message, exc
        pytest.skip(f"file does not parse at the Dockerfile level: {exc.message}")


@pytest.mark.parametrize("path", INPUTS, ids=[p.name for p in INPUTS])
def test_every_run_is_modelled_or_opaque_with_reason(path: Path) -> None:
    dockerfile = _dockerfile(path)
    for instruction in runs(dockerfile):
        result = analyze_run(dockerfile, instruction)
        if isinstance(result, ShellScript):
            _check_spans(dockerfile.source, result)
        else:
            assert result.reason and len(result.reason) > 10
            if "tree-sitter" in result.reason:
                assert KNOWN_UNPARSABLE.get(path.name) == instruction.args_text


def _check_spans(source: bytes, script: ShellScript) -> None:
    """Word spans point at the word's own bytes: the first and last byte match the raw text,
    and the span lies inside the instruction."""
    instruction = script.instruction
    low = instruction.start if instruction.lines else 0
    for command in script.commands:
        assert command.start <= command.end
        for word in command.words:
            raw = word.raw.encode("utf-8", "surrogateescape")
            assert low <= word.start < word.end <= len(source)
            assert source[word.start] == raw[0], (word, source[word.start : word.end])
            assert source[word.end - 1] == raw[-1], (word, source[word.start : word.end])
        # facts are computed without error and point into the command
        for fact in script.packages:
            assert script.commands[fact.command].start == fact.start
    script.cleanups, script.state_changes, script.exits


def test_corpus_is_mostly_understood() -> None:
    """Guards against a regression that would turn many RUNs opaque silently."""
    total = modelled = 0
    for path in INPUTS:
        dockerfile = parse(path.read_bytes())
        for instruction in runs(dockerfile):
            total += 1
            modelled += isinstance(analyze_run(dockerfile, instruction), ShellScript)
    assert total > 1200
    # the opaque ones: PowerShell/cmd/Windows stages (74), JSON exec form (7), one invalid script
    assert total - modelled <= 82
