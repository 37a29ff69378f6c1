"""Exit codes as the README documents them: 0 clean, 1 findings or changes under ``check``,
``fix --check`` and ``fix --diff``, 2 errors. The sample pass (tests/report/sample_pass.py)
provides findings whatever the real pipeline holds."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.cli.conftest import run_slimfile, write
from tests.conftest import ROOT

CLEAN = "FROM scratch\nCOPY app /app\n"
DIRTY = "FROM debian\nRUN apt-get install -y curl\n"


@pytest.fixture
def project(tmp_path):
    write(tmp_path, {"clean/Dockerfile": CLEAN, "dirty/Dockerfile": DIRTY})
    return tmp_path


@pytest.mark.usefixtures("sample_rules")
class TestWithFindings:
    def test_check_clean_is_0(self, cli, project):
        result = cli("check", "clean", cwd=project)
        assert result.exit_code == 0
        assert "All checks passed!" in result.out

    def test_check_with_findings_is_1(self, cli, project):
        result = cli("check", ".", cwd=project)
        assert result.exit_code == 1
        assert "dirty/Dockerfile:2:5: XT101 [*] `apt-get install` without `--no-install-recommends`" in result.out

    def test_check_exit_zero(self, cli, project):
        assert cli("check", ".", "--exit-zero", cwd=project).exit_code == 0

    @pytest.mark.parametrize("fmt", ["json", "sarif", "rdjson", "github", "markdown", "diff"])
    def test_check_every_format_is_1_with_findings(self, cli, project, fmt):
        assert cli("check", "dirty", "--output-format", fmt, cwd=project).exit_code == 1
        assert cli("check", "clean", "--output-format", fmt, cwd=project).exit_code == 0

    def test_fix_check_is_1_and_writes_nothing(self, cli, project):
        result = cli("fix", "--check", ".", cwd=project)
        assert result.exit_code == 1
        assert "Would fix: dirty/Dockerfile" in result.stderr
        assert (project / "dirty/Dockerfile").read_text() == DIRTY

    def test_fix_diff_is_1_and_writes_nothing(self, cli, project):
        result = cli("fix", "--diff", ".", cwd=project)
        assert result.exit_code == 1
        assert result.out.startswith("--- a/dirty/Dockerfile\n+++ b/dirty/Dockerfile\n")
        assert (project / "dirty/Dockerfile").read_text() == DIRTY

    def test_fix_writes_and_is_0_then_clean(self, cli, project):
        assert cli("fix", ".", cwd=project).exit_code == 0
        assert "--no-install-recommends" in (project / "dirty/Dockerfile").read_text()
        assert cli("fix", "--check", ".", cwd=project).exit_code == 0
        assert cli("check", ".", cwd=project).exit_code == 0

    def test_errors_win_over_findings(self, cli, project):
        write(project, {"broken/Dockerfile": "FROM x\nRUN <<EOF\nno end\n"})
        result = cli("check", ".", cwd=project)
        assert result.exit_code == 2
        assert "error: broken/Dockerfile:2: unterminated heredoc" in result.stderr
        assert "XT101" in result.out  # the other files were still checked

    def test_a_name_with_control_characters_is_escaped_on_stderr(self, cli, project):
        """Errors and fix lines name the file on one line, with no escape sequence for the
        terminal, whatever its folder is called."""
        write(project, {"b\x1b[2J\nroken/Dockerfile": "FROM x\nRUN <<EOF\nno end\n"})
        write(project, {"d\rirty/Dockerfile": DIRTY})
        result = cli("check", ".", cwd=project)
        assert "error: b\\x1b[2J\\nroken/Dockerfile:2: unterminated heredoc" in result.stderr
        assert cli("fix", "--check", ".", cwd=project).stderr.count("Would fix: d\\rirty/Dockerfile\n") == 1

    def test_fix_reports_errors_and_still_fixes_the_rest(self, cli, project):
        write(project, {"broken/Dockerfile": "# escape=x\nFROM x\n"})
        result = cli("fix", ".", cwd=project)
        assert result.exit_code == 2
        assert "--no-install-recommends" in (project / "dirty/Dockerfile").read_text()

    def test_unknown_rule_in_select_is_2(self, cli, project):
        result = cli("check", "--select", "XT1,NOPE9", ".", cwd=project)
        assert result.exit_code == 2
        assert "unknown rule code 'NOPE9' in --select" in result.stderr


def test_missing_path_is_2(tmp_path):
    result = run_slimfile("check", "nowhere/Dockerfile", cwd=tmp_path)
    assert result.returncode == 2
    assert b"nowhere/Dockerfile: no such file or directory" in result.stderr


@pytest.mark.parametrize("mode", [("check",), ("fix",), ("fix", "--diff")])
@pytest.mark.parametrize("context", ["nowhere", "Dockerfile", ""])
def test_a_context_that_is_not_a_directory_is_2(tmp_path, mode, context):
    """A mistyped --context quietly made every finding about COPY sources say "the build
    context is not known"; docker build refuses it too."""
    write(tmp_path, {"Dockerfile": DIRTY})
    result = run_slimfile(*mode, "--context", context, "Dockerfile", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == f"error: --context {context}: the build context is not a directory\n".encode()
    assert not result.stdout
    assert (tmp_path / "Dockerfile").read_text() == DIRTY


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("args", [("check",), ("check", "-o", "sarif"), ("fix", "--diff"), ("rules",), ("explain", "SF101")])
def test_output_that_cannot_be_written_is_2_without_a_traceback(tmp_path, args):
    """A report sent to a full disk was a traceback and exit 1, which reads as "findings"."""
    write(tmp_path, {"Dockerfile": "FROM debian:bookworm\nRUN apt-get update\nRUN apt-get install -y curl\n"})
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    with open("/dev/full", "wb") as full:
        result = subprocess.run(
            [sys.executable, "-m", "slimfile", *args], cwd=tmp_path, stdout=full, stderr=subprocess.PIPE, env=env, timeout=120, check=False
        )
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == b"error: cannot write the output: No space left on device"
    assert b"Traceback" not in result.stderr


def test_unknown_output_format_is_2(tmp_path):
    write(tmp_path, {"Dockerfile": CLEAN})
    result = run_slimfile("check", "-o", "xml", cwd=tmp_path)
    assert result.returncode == 2
    assert b"unknown output format 'xml'" in result.stderr


def test_bad_option_is_2(tmp_path):
    assert run_slimfile("check", "--no-such-option", cwd=tmp_path).returncode == 2


def test_bad_config_is_2(tmp_path):
    write(tmp_path, {"Dockerfile": CLEAN, "slimfile.toml": "select = [\n"})
    result = run_slimfile("check", cwd=tmp_path)
    assert result.returncode == 2
    assert b"slimfile.toml: invalid TOML" in result.stderr


def test_clean_directory_is_0_in_a_real_process(tmp_path):
    write(tmp_path, {"Dockerfile": CLEAN})
    assert run_slimfile("check", cwd=tmp_path).returncode == 0
    assert run_slimfile("fix", "--check", cwd=tmp_path).returncode == 0
    assert run_slimfile("fix", "--diff", cwd=tmp_path).returncode == 0
