"""GitHub workflow-command annotations, with the Actions toolkit's escaping."""

from __future__ import annotations

import pytest

from slimfile.report import github
from slimfile.syntax.errors import DockerfileError
from tests.report.conftest import SAMPLE, make_report

pytestmark = pytest.mark.usefixtures("sample_rules")


def test_one_warning_per_finding(tmp_path):
    text = github.render(make_report(tmp_path, {"app/Dockerfile": SAMPLE}))
    lines = text.splitlines()
    assert len(lines) == 4
    assert lines[0] == (
        "::warning file=app/Dockerfile,line=4,col=5,endLine=4,endColumn=20,"
        "title=slimfile XT101 (apt-install-recommends)"
        "::`apt-get install` without `--no-install-recommends` (fixable with `slimfile fix`)"
    )
    assert lines[1].startswith(
        "::warning file=app/Dockerfile,line=4,col=32,endLine=4,endColumn=36,title=slimfile XT103"
    )
    assert lines[1].endswith("::`sudo` is not needed: the build runs as root")


def test_message_escaping():
    assert github.escape_data("50% done\r\nnext: a,b") == "50%25 done%0D%0Anext: a,b"


def test_control_characters_of_names_are_shown_escaped():
    """An escape sequence in a name (a folder of the pull request) reached the log as it was:
    the log viewer reads it (colours, a cleared line)."""
    assert github.escape_data("`a\x1b[2Kb\tc` ok\nnext") == "`a\\x1b[2Kb\\tc` ok%0Anext"
    line = github.command("warning", {"file": "a\x1bb/Dockerfile", "line": 1}, "m\x07")
    assert "\x1b" not in line and "\x07" not in line
    assert line == "::warning file=a\\x1bb/Dockerfile,line=1::m\\x07"


def test_property_escaping():
    assert github.escape_property("a:b,c%d\ne") == "a%3Ab%2Cc%25d%0Ae"


def test_properties_are_escaped_in_commands():
    line = github.command("warning", {"file": "dir,1/Docker:file", "line": 3, "title": "t"}, "100%\nok")
    assert line == "::warning file=dir%2C1/Docker%3Afile,line=3,title=t::100%25%0Aok"


def test_failed_files_are_errors(tmp_path):
    errors = [DockerfileError("unterminated heredoc", 7, path=str(tmp_path / "svc" / "Dockerfile"))]
    text = github.render(make_report(tmp_path, {}, errors=errors))
    assert (
        text == "::error file=svc/Dockerfile,line=7,title=slimfile could not process this file::unterminated heredoc\n"
    )


def test_no_findings_no_output(tmp_path):
    assert github.render(make_report(tmp_path, {"Dockerfile": b"FROM scratch\n"})) == ""
