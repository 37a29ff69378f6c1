"""The text format's positions and summary."""

from __future__ import annotations

import pytest

from slimfile.report import text
from tests.report.conftest import make_report

pytestmark = pytest.mark.usefixtures("sample_rules")


def test_end_column_after_a_multibyte_character():
    from slimfile.diagnostics import Finding
    from slimfile.engine import locate
    from slimfile.syntax.parser import parse
    from tests.report.sample_pass import SUDO

    source = "FROM x\nRUN echo ü\n".encode()
    start = source.index("ü".encode())
    finding = Finding(SUDO, "m", start, start + 2)  # exactly the two bytes of "ü"
    locate(parse(source), finding)
    assert (finding.line, finding.column, finding.end_line, finding.end_column) == (2, 10, 2, 11)


def test_summary_and_savings(tmp_path):
    report = make_report(tmp_path, {"Dockerfile": b"FROM x\nRUN apt-get install -y a && sudo x\n"})
    assert text.render(report).splitlines() == [
        f"{tmp_path}/Dockerfile:2:5: XT101 [*] `apt-get install` without `--no-install-recommends`",
        f"{tmp_path}/Dockerfile:2:29: XT103 `sudo` is not needed: the build runs as root",
        "Found 2 findings.",
        "[*] 1 fixable with `slimfile fix`.",
        "Estimated savings if fixed (measure with `slimfile verify`):",
        "  XT101 apt-install-recommends: ~20 MB",
    ]


def test_failed_files_are_not_called_passing(tmp_path):
    from slimfile.syntax.errors import DockerfileError

    report = make_report(tmp_path, {"Dockerfile": b"FROM x\n"}, errors=[DockerfileError("bad", path="x")])
    assert text.render(report) == "No findings. 1 file could not be checked.\n"


def test_a_name_with_a_line_break_or_an_escape_sequence_stays_on_its_finding_line(tmp_path):
    """A folder of the repository named with a line break and an escape sequence: each finding
    is still one line (tools read ``path:line:col:``), and nothing reaches the terminal as a
    control character."""
    name = "svc\n\x1b[2Jx/Dockerfile"
    report = make_report(tmp_path, {name: b"FROM x\nRUN apt-get install -y a && sudo x\n"})
    lines = text.render(report).splitlines()
    assert lines[:2] == [
        f"{tmp_path}/svc\\n\\x1b[2Jx/Dockerfile:2:5: XT101 [*] `apt-get install` without `--no-install-recommends`",
        f"{tmp_path}/svc\\n\\x1b[2Jx/Dockerfile:2:29: XT103 `sudo` is not needed: the build runs as root",
    ]
    assert not any(ord(char) < 0x20 for line in lines for char in line)
