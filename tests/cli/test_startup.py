"""Start-up stays fast because the heavy modules are imported only by the commands that need
them. Checked structurally (which modules a fresh interpreter has loaded), never by timing."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT

HEAVY = (
    "rich",
    "tree_sitter",
    "tree_sitter_bash",
    "pathspec",
    "slimfile.syntax",
    "slimfile.engine",
    "slimfile.commands",
)


def modules_after(code: str) -> set[str]:
    script = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, check=True, text=True).stdout
    return set(json.loads(out.splitlines()[-1]))


def heavy_in(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_importing_the_cli_loads_nothing_heavy():
    assert heavy_in(modules_after("import slimfile.cli")) == []


def test_version_loads_nothing_heavy():
    code = "import slimfile.cli\ntry:\n    slimfile.cli.app(['--version'])\nexcept SystemExit:\n    pass"
    assert heavy_in(modules_after(code)) == []


def test_version_output():
    result = subprocess.run([sys.executable, "-m", "slimfile", "--version"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0
    assert result.stdout.startswith("slimfile ")


def complete(words: str, cword: int) -> list[str]:
    env = {
        "_SLIMFILE_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(cword),
        "PYTHONPATH": str(ROOT),
    }
    result = subprocess.run(
        [sys.executable, "-m", "slimfile"], cwd=ROOT, capture_output=True, text=True, env={**os.environ, **env}
    )
    return result.stdout.split()


def test_shell_completion_of_commands_and_output_formats():
    assert complete("slimfile ch", 1) == ["check"]
    assert complete("slimfile check --output-format r", 3) == ["rdjson"]


def test_completion_script_uses_the_program_name():
    """typer picks the shell from the processes above the program (shellingham), as when a
    user types the command in bash: run it from a bash that stays its parent (not ``exec``),
    or a test runner started by no shell (a service, ``setsid``) gets "Shell  not supported"."""
    script = '"$0" -m slimfile --show-completion bash; status=$?; exit "$status"'
    result = subprocess.run(["bash", "-c", script, sys.executable], cwd=ROOT, capture_output=True, text=True)
    assert "complete -o default -F _slimfile_completion slimfile" in result.stdout, result.stderr


def test_completion_formats_match_the_report_formats():
    from slimfile.cli import OUTPUT_FORMATS
    from slimfile.report import FORMATS

    assert OUTPUT_FORMATS == FORMATS
