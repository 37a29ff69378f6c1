"""Findings whose fix overlaps an earlier fix are marked, and suggestion formats skip them."""

from __future__ import annotations

from slimfile.engine import Settings, check_source

SRC = b"FROM debian:bookworm\nRUN apt-get update\nRUN apt-get install -y curl\n"


def test_overlapping_fix_is_marked_with_the_rule_it_waits_for():
    findings = {f.rule.code: f for f in check_source(SRC, "Dockerfile", Settings())}
    assert "waits_for" not in findings["SF101"].extra
    assert findings["SF502"].extra["waits_for"] == "SF101"


