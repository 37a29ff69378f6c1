"""Every rule is documented in ruff's sections, and docs/rules.md is up to date."""

from __future__ import annotations

import re

import pytest

from slimfile.pipeline import PIPELINE, all_rules, rule_by_code
from slimfile.report.rule_docs import render
from tests.conftest import ROOT

SECTIONS = ("## What it does", "## Why is this bad?", "## Example", "## Use instead", "## Fix safety")


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.code)
def test_rule_has_all_sections_and_a_stable_id(rule):
    assert re.fullmatch(r"SF\d{3}", rule.code)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.name)
    positions = [rule.doc.find(section) for section in SECTIONS]
    assert all(p >= 0 for p in positions), (rule.code, positions)
    assert positions == sorted(positions)
    assert rule.summary and rule.fix_title
    assert rule_by_code(rule.code) is rule and rule_by_code(rule.name) is rule


def test_codes_and_names_are_unique():
    rules = all_rules()
    assert len({r.code for r in rules}) == len(rules)
    assert len({r.name for r in rules}) == len(rules)


def test_every_pass_module_has_a_before_after_example():
    for module in PIPELINE:
        doc = module.__doc__ or ""
        assert "Before::" in doc and "After" in doc, module.__name__


def test_rules_markdown_is_up_to_date():
    expected = render(all_rules())
    actual = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    assert actual == expected, "run: python -m slimfile.report.rule_docs > docs/rules.md"


def test_every_rule_has_fixtures():
    names = {p.name.split("-", 1)[0] for p in (ROOT / "fixtures" / "passes").iterdir()}
    missing = [r.code for r in all_rules() if r.code not in names]
    assert missing == []
