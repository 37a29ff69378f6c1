"""data/waste.toml: loads, and names only rules that exist or are reserved for this round's
passes (SF704 .dockerignore, SF801 slim base image, SF901 multi-stage split)."""

from __future__ import annotations

from slimfile.layers.catalog import default_catalog
from slimfile.pipeline import all_rules

RESERVED = {"SF704", "SF801", "SF901"}


def test_every_rule_in_the_catalog_exists_or_is_reserved():
    catalog = default_catalog()
    known = {rule.code for rule in all_rules()}
    named = {code for c in (*catalog.categories, *catalog.hidden.values(), catalog.duplicate) for codes in c.fix.values() for code in codes}
    assert named - known <= RESERVED, named - known - RESERVED
    assert set(catalog.rule_scope) <= known | RESERVED
    assert set(catalog.rule_scope.values()) <= {"line", "stage", "file"}


def test_category_names_are_unique_and_each_matches_something():
    catalog = default_catalog()
    names = [c.name for c in catalog.categories]
    assert len(names) == len(set(names))
    assert all(c.patterns or c.cache_family or c.matcher for c in catalog.categories)
