"""The markdown PR comment, compared with a reviewed snapshot.

To update the snapshot after an intended change: ``SLIMFILE_UPDATE_SNAPSHOTS=1 python -m pytest
tests/report/test_markdown.py`` and review the diff of ``tests/report/snapshots/``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from slimfile.report import markdown
from slimfile.syntax.errors import DockerfileError
from tests.report.conftest import SAMPLE, make_report

pytestmark = pytest.mark.usefixtures("sample_rules")
SNAPSHOTS = Path(__file__).parent / "snapshots"


def assert_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("SLIMFILE_UPDATE_SNAPSHOTS"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_pr_comment_snapshot(tmp_path):
    files = {
        "services/api/Dockerfile": SAMPLE,
        "services/web/web.Dockerfile": b"FROM node:20\nRUN apt-get install -y git\n",
        "tools/Dockerfile": b"FROM scratch\n",
    }
    errors = [DockerfileError("unterminated heredoc", 2, path=str(tmp_path / "legacy" / "Dockerfile"))]
    assert_snapshot("pr-comment.md", markdown.render(make_report(tmp_path, files, errors=errors)))


def test_clean_run(tmp_path):
    text = markdown.render(make_report(tmp_path, {"Dockerfile": b"FROM scratch\n"}))
    assert text == "## slimfile report\n\nNo findings in 1 file.\n"


def test_suggestion_fence_outgrows_backticks_in_the_text(tmp_path):
    text = markdown.render(make_report(tmp_path, {"Dockerfile": b"FROM x\nRUN echo ``` && apt-get install -y a\n"}))
    assert "````suggestion\nRUN echo ``` && apt-get install --no-install-recommends -y a\n````\n" in text


def test_unsafe_fix_is_mentioned_not_suggested(tmp_path):
    text = markdown.render(make_report(tmp_path, {"Dockerfile": b"FROM x\nRUN pip install a\n"}))
    assert "```suggestion" not in text
    assert "An unsafe fix is available with `slimfile fix --unsafe-fixes`." in text
    unsafe = markdown.render(make_report(tmp_path, {"Dockerfile": b"FROM x\nRUN pip install a\n"}, unsafe_fixes=True))
    assert "```suggestion\nRUN pip install --no-cache-dir a\n```" in unsafe


def test_a_file_name_cannot_end_its_code_span_or_break_its_heading(tmp_path):
    """Names from a pull request: a backtick would close the heading's code span (the rest read
    as markdown: a link in the bot's comment), a line break would end the heading."""
    files = {"a`[x](x.png)`\nb/Dockerfile": SAMPLE}
    text = markdown.render(make_report(tmp_path, files))
    heading = next(line for line in text.splitlines() if line.startswith("### "))
    assert heading == "### ``a`[x](x.png)`\\nb/Dockerfile``"


@pytest.mark.parametrize(
    ("name", "span"),
    [("a/b", "`a/b`"), ("a`b", "``a`b``"), ("`a", "`` `a ``"), ("a``b`", "``` a``b` ```"), ("a\tb", "`a\\tb`")],
)
def test_code_spans(name, span):
    from slimfile.report.suggestions import code_span

    assert code_span(name) == span
