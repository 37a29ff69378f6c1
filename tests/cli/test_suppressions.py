"""Inline suppressions: ``# slimfile: ignore[...]`` on the comment lines right above an
instruction, and ``# slimfile: skip-file``."""

from __future__ import annotations

import pytest

from slimfile.engine import Settings, check_source, fix_source
from slimfile.suppressions import unknown_codes
from tests.cli.conftest import write
from tests.report import sample_pass

RUN = "RUN apt-get install -y curl && sudo ls\n"


def reported(text: str) -> list[tuple[int, str]]:
    findings = check_source(text.encode(), "Dockerfile", Settings(), passes=(sample_pass.check,))
    return [(f.line, f.rule.code) for f in findings]


def test_ignore_one_rule_on_the_next_instruction():
    text = "FROM x\n# slimfile: ignore[XT101]\n" + RUN + RUN
    assert reported(text) == [(3, "XT103"), (4, "XT101"), (4, "XT103")]


def test_several_codes_and_prefixes():
    assert reported("FROM x\n# slimfile: ignore[XT101, xt103]\n" + RUN) == []
    assert reported("FROM x\n# slimfile: ignore[XT10]\n" + RUN) == []


def test_bare_ignore_silences_every_rule():
    assert reported("FROM x\n#slimfile:ignore\n" + RUN) == []


def test_every_comment_line_of_the_block_counts():
    text = "FROM x\n# slimfile: ignore[XT101]\n# why: the image needs recommends\n# slimfile: ignore[XT103]\n" + RUN
    assert reported(text) == []


def test_a_blank_line_ends_the_block():
    assert reported("FROM x\n# slimfile: ignore[XT101]\n\n" + RUN) == [(4, "XT101"), (4, "XT103")]


def test_suppression_covers_the_whole_continued_instruction():
    text = "FROM x\n# slimfile: ignore[XT103]\nRUN apt-get update && \\\n    sudo ls\n"
    assert reported(text) == []


def test_skip_file_anywhere():
    assert reported("FROM x\n" + RUN + "# slimfile: skip-file\n") == []


def test_suppressed_findings_are_not_fixed():
    source = b"FROM x\n# slimfile: ignore[XT101]\nRUN apt-get install -y a\nRUN apt-get install -y b\n"
    result = fix_source(source, "Dockerfile", Settings(), passes=(sample_pass.check,))
    assert result.output == source.replace(b"-y b", b"--no-install-recommends -y b")


def test_unknown_codes_in_suppressions_are_found():
    source = b"FROM x\n# slimfile: ignore[XT101, XT9]\nRUN a\n  # slimfile: ignore[ZZ]\nRUN b\n"
    assert unknown_codes(source, ["XT101", "XT102"]) == [(2, "XT9"), (4, "ZZ")]


@pytest.mark.usefixtures("sample_rules")
def test_cli_warns_about_unknown_codes_in_suppressions(cli, tmp_path):
    write(tmp_path, {"Dockerfile": "FROM x\n# slimfile: ignore[XT110]\n" + RUN})
    result = cli("check", ".", cwd=tmp_path)
    assert "warning: Dockerfile:2: unknown rule code 'XT110' in a suppression comment" in result.stderr
    assert result.exit_code == 1  # a warning, not an error: the findings still decide
