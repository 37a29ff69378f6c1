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


def _links_images_html(text: str) -> list[str]:
    from markdown_it import MarkdownIt

    found = []
    for block in MarkdownIt("commonmark").parse(text):
        for token in block.children or ():
            if token.type in ("link_open", "image", "html_inline"):
                found.append(token.type)
        if block.type == "html_block":
            found.append(block.type)
    return found


def test_text_of_the_dockerfile_in_a_message_cannot_become_a_link_an_image_or_html(tmp_path, monkeypatch):
    """Messages quote the Dockerfile and the pull request's names, some outside code spans (a
    shell parse error's `near '...'`, an ENV value in parentheses), and a backtick among them
    shifts which backticks pair: the comment rendered a link the PR's author wrote."""
    monkeypatch.undo()  # the whole pipeline, not the sample rules: SF801 quotes the parse error
    dockerfile = b'FROM debian:12\nRUN cat "a`[x](https://e.example)`b ![i](https://t.example/p.png) <img src=x>" && apt-get install -y curl\n'
    text = markdown.render(make_report(tmp_path, {"Dockerfile": dockerfile}))
    assert "near " in text and "e.example" in text
    assert _links_images_html(text) == []


@pytest.mark.parametrize(
    ("message", "rendered"),
    [
        ("`node_modules` stays", "`node_modules` stays"),
        ("COPY of `a`b` is [x](http://e)", "COPY of `a`b\\` is \\[x\\](http://e)"),
        ("``a`b`` and <b>", "``a`b`` and \\<b\\>"),
        ("a \\ b ` c", "a \\\\ b \\` c"),
    ],
)
def test_message_markdown_escapes_only_outside_code_spans(message, rendered):
    from slimfile.report.suggestions import message_markdown

    assert message_markdown(message) == rendered
    assert _links_images_html(rendered) == []


def _text_outside_code(text: str) -> str:
    from markdown_it import MarkdownIt

    return "".join(
        token.content for block in MarkdownIt("commonmark").parse(text) for token in block.children or () if token.type == "text"
    )


@pytest.mark.parametrize(
    ("message", "rendered"),
    [
        ("the devDependencies (@types/node, eslint) stay", "the devDependencies (`@types/node`, eslint) stay"),
        ("needs @babel/core.", "needs `@babel/core`."),
        ("@@x and ` @y", "@`@x` and \\` `@y`"),
        ("mail root@example.com", "mail root@example.com"),
        ("`@scope/pkg` already code", "`@scope/pkg` already code"),
    ],
)
def test_a_name_github_would_read_as_a_mention_goes_into_a_code_span(message, rendered):
    """A PR comment that mentions `@types/node` outside code notifies GitHub's user or team
    `types`: the bot must mention nobody. Scoped npm packages reach messages (the
    devDependencies SF901 leaves behind); in a code span GitHub mentions no one."""
    import re

    from slimfile.report.suggestions import message_markdown

    assert message_markdown(message) == rendered
    assert not re.search(r"(?<!\w)@\w", _text_outside_code(rendered))
