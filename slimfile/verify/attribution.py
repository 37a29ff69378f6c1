"""``--per-fix``: the rewrite applied one rule at a time, each built, so that every rule's saving
is a measured number of bytes rather than an estimate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from slimfile.engine import FixResult, PassFunction, Settings, fix_source
from slimfile.verify.build import BuildResult


def applied_codes(result: FixResult) -> list[str]:
    """Rule codes of the applied fixes, in the order they were first applied."""
    return list(dict.fromkeys(finding.rule.code for finding in result.applied))


def single_rule_settings(settings: Settings, code: str) -> Settings:
    return replace(settings, select=frozenset({code}), extend_select=frozenset())


def single_rule_rewrites(
    source: bytes, path: str, settings: Settings, codes: Sequence[str], passes: Sequence[PassFunction] | None = None
) -> list[tuple[str, FixResult]]:
    """For each rule code, the rewrite that applies that rule's fixes and nothing else."""
    return [(code, fix_source(source, path, single_rule_settings(settings, code), passes)) for code in codes]


@dataclass
class RuleSaving:
    code: str
    name: str
    fixes: int
    declares: tuple[str, ...]
    build: BuildResult | None
    size: int | None  # image size with only this rule applied
    saved: int | None  # original size minus that size (negative: the rule made it bigger)

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "fixes": self.fixes,
            "declares": list(self.declares),
            "build_ok": self.build.ok if self.build else None,
            "size": self.size,
            "saved_bytes": self.saved,
            "log_tail": self.build.log_tail if self.build and not self.build.ok else None,
        }


def rule_saving(code: str, result: FixResult, build: BuildResult | None, size: int | None, original_size: int | None) -> RuleSaving:
    applied = [f for f in result.applied if f.rule.code == code]
    declares = sorted({name for f in applied if f.fix is not None for name in f.fix.declares})
    saved = original_size - size if size is not None and original_size is not None else None
    name = applied[0].rule.name if applied else ""
    return RuleSaving(code, name, len(applied), tuple(declares), build, size, saved)
