"""The output formats: JSON, Markdown for a PR comment, and the HTML page (validated here
without a browser; tests/layers/test_browser.py opens it in headless Chromium)."""

from __future__ import annotations

import json

from slimfile.layers.render import as_html, as_json, as_markdown, as_text
from tests.layers.html_checks import assert_chart_matches, assert_self_contained, embedded_data, parse
from tests.layers.sample import sample_report


def test_json_carries_every_figure(tmp_path):
    report = sample_report(tmp_path)
    data = json.loads(as_json(report))
    assert data["schema"] == "slimfile-layers/1" and data["exit_code"] == 0
    assert data["waste_bytes"] == report.waste_bytes and data["total_bytes"] == report.total_bytes
    assert data["efficiency"] == round(report.efficiency, 6)
    assert [l["line"] for l in data["layers"]] == [1, 2, 3, 4, 5]
    lists = next(w for w in data["waste"] if w["category"] == "apt")
    assert lists["line"] == 2 and lists["other_line"] == 4 and lists["rule"]["code"] == "SF501" and lists["rule"]["status"] == "fires"
    assert {r["code"] for r in data["rules"]} >= {"SF501", "SF401", "SF704", "SF801"}


def test_html_is_well_formed_self_contained_and_its_chart_is_the_report(tmp_path):
    report = sample_report(tmp_path)
    html = as_html(report)
    root = parse(html)
    assert_self_contained(root, html)
    assert_chart_matches(root, report)
    assert embedded_data(root) == json.loads(as_json(report))
    # text from the image is escaped, never markup
    assert "<hi>" not in html


def test_html_of_an_error_is_a_page_too(tmp_path):
    report = sample_report(tmp_path)
    report.error = "image not found: nope:1 <x>"
    html = as_html(report)
    assert_self_contained(parse(html), html)
    assert "image not found" in html


def test_markdown_tables_have_their_columns(tmp_path):
    text = as_markdown(sample_report(tmp_path))
    assert text.startswith("## slimfile layers: sample:1\n")
    for table in _tables(text):
        widths = {_columns(row) for row in table}
        assert len(widths) == 1, table
    assert "SF501 cleanup-in-later-layer" in text and "deleted by line 4" in text
    assert "<details>" in text and "</details>" in text


def test_text_report_for_a_file(tmp_path):
    text = as_text(sample_report(tmp_path))
    assert "efficiency" in text and "SF501" in text and "\x1b[" not in text


def _tables(text: str) -> list[list[str]]:
    tables, current = [], []
    for line in text.splitlines():
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    return tables + ([current] if current else [])


def _columns(row: str) -> int:
    return len([c for c in row.replace("\\|", "").split("|")]) - 2


def test_text_report_says_when_the_build_needed_a_second_try(tmp_path):
    from slimfile.verify.build import BuildResult

    report = sample_report(tmp_path)
    report.build = BuildResult("slimfile-layers:x", True, 2.0, "sha256:1", tries=2, first_failure=["#5 ERROR: 503 (PyPI)"])
    text = as_text(report)
    assert "the build failed once and built when run again (first try ended: #5 ERROR: 503 (PyPI))" in text
    assert json.loads(as_json(report))["build"]["first_failure_tail"] == ["#5 ERROR: 503 (PyPI)"]
    report.build = BuildResult("slimfile-layers:x", True, 2.0, "sha256:1")
    assert "run again" not in as_text(report) and "first try" not in as_text(report)
