"""A report made from an image archive and its Dockerfile: layers matched to lines, waste
items with their rules (linted for real), the efficiency, and the exit code."""

from __future__ import annotations

from slimfile.layers.fixes import FIRES, PENDING
from slimfile.pipeline import all_rules
from tests.layers.sample import sample_report

KNOWN = {rule.code for rule in all_rules()}


def item(report, line, category, kind):
    found = [i for i in report.waste if i.line == line and i.category == category and i.kind == kind]
    assert len(found) == 1, [(i.line, i.category, i.kind) for i in report.waste]
    return found[0]


def test_layers_are_matched_to_lines_and_the_base_image(tmp_path):
    report = sample_report(tmp_path)
    assert [(l.origin.origin, l.origin.line, l.origin.keyword) for l in report.layers] == [
        ("base", 1, "FROM"), ("dockerfile", 2, "RUN"), ("dockerfile", 3, "COPY"), ("dockerfile", 4, "RUN"), ("dockerfile", 5, "RUN"),
    ]
    assert report.base_image == "debian:bookworm-slim" and report.base_line == 1
    assert report.mismatches == []
    assert [l.file_bytes for l in report.layers] == [4500, 23100, 1517, 0, 3200]


def test_lists_deleted_later_are_waste_at_the_installing_line_with_SF501(tmp_path):
    lists = item(sample_report(tmp_path), 2, "apt", "deleted")
    assert lists.bytes == 20000 and lists.other_line == 4
    assert lists.rule.code == "SF501" and lists.rule.status == FIRES and lists.rule.line == 4 and lists.rule.fixable


def test_pip_cache_is_waste_at_its_line_with_SF401_and_its_estimate(tmp_path):
    pip = item(sample_report(tmp_path), 5, "pip", "present")
    assert pip.bytes == 2500
    assert pip.rule.code == "SF401" and pip.rule.status == FIRES and pip.rule.line == 5 and pip.rule.estimate


def test_vcs_folder_copied_in_names_the_dockerignore_rule(tmp_path):
    git = item(sample_report(tmp_path), 3, "vcs", "present")
    assert git.bytes == 1500 and git.rule.code == "SF704"
    assert git.rule.status == (PENDING if "SF704" not in KNOWN else git.rule.status)


def test_base_image_docs_name_the_slim_base_rule(tmp_path):
    docs = item(sample_report(tmp_path), 1, "docs", "present")
    assert docs.from_base and docs.bytes == 500 and docs.rule.code == "SF801"


def test_efficiency_recoverable_and_rule_totals(tmp_path):
    report = sample_report(tmp_path)
    waste = 20000 + 2500 + 1500 + 500 + 100  # lists, pip cache, .git, base docs, jq docs
    assert report.waste_bytes == waste
    assert report.total_bytes == 4500 + 23100 + 1517 + 3200
    assert abs(report.efficiency - (report.total_bytes - waste) / report.total_bytes) < 1e-12
    assert report.recoverable_bytes == 20000 + 2500 + (1500 if "SF704" in KNOWN else 0)
    totals = {t.code: t for t in report.rule_totals()}
    assert totals["SF501"].measured_bytes == 20000 and totals["SF401"].measured_bytes == 2500
    assert report.exit_code == 0


def test_fail_under_gives_exit_code_1(tmp_path):
    below = sample_report(tmp_path, fail_under=99.0)
    assert below.exit_code == 1
    assert sample_report(tmp_path, fail_under=10.0).exit_code == 0


def test_the_layer_fixes_list_every_finding_on_its_lines(tmp_path):
    report = sample_report(tmp_path)
    codes = {f.code for f in report.layers[1].fixes}
    assert "SF104" not in codes  # --no-install-recommends is there already
    assert {"SF105"} <= codes or "SF105" not in KNOWN
