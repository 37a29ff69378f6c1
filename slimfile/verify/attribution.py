"""``--per-fix``: what each rule's fixes save, measured with real builds.

Two figures per rule, because fixes interact (``rm -rf /var/lib/apt/lists/*`` only becomes
possible once ``apt-get update`` has joined its install):

- **alone**: the rewrite with that rule selected and no other, built and compared with the
  original ("what does this rule save by itself?"). A rule whose fixes only apply after other
  rules' fixes has no "alone" figure;
- **in sequence**: the rules are added one by one, in pipeline order, and each is credited with
  the bytes its addition saved; these figures add up to the whole rewrite's saving.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from slimfile.engine import FixResult, PassFunction, Settings, fix_source
from slimfile.verify.build import BuildResult


def applied_codes(result: FixResult) -> list[str]:
    """Rule codes of the applied fixes: pipeline order for slimfile's own rules, then any other
    rule (a test's made-up pass) in the order its fixes were first applied."""
    from slimfile.pipeline import all_rules

    order = {rule.code: index for index, rule in enumerate(all_rules())}
    first_applied = list(dict.fromkeys(finding.rule.code for finding in result.applied))
    return sorted(first_applied, key=lambda code: (order.get(code, len(order)), first_applied.index(code)))


def selecting(settings: Settings, codes: Sequence[str]) -> Settings:
    """The user's settings with only ``codes`` selected."""
    return replace(settings, select=frozenset(codes), extend_select=frozenset())


@dataclass(frozen=True)
class Rewrites:
    """Per rule: the rewrite with that rule alone, and with it and every rule before it."""

    alone: list[FixResult]
    in_sequence: list[FixResult]


def plan_rewrites(
    source: bytes, path: str, settings: Settings, codes: Sequence[str], passes: Sequence[PassFunction] | None = None
) -> Rewrites:
    alone = [fix_source(source, path, selecting(settings, [code]), passes) for code in codes]
    in_sequence = [fix_source(source, path, selecting(settings, codes[: i + 1]), passes) for i in range(len(codes))]
    return Rewrites(alone, in_sequence)


@dataclass
class RuleSaving:
    code: str
    name: str
    declares: tuple[str, ...]
    fixes_alone: int  # 0: the rule's fixes only apply after other rules' fixes
    size_alone: int | None = None
    saved_alone: int | None = None  # original size minus size_alone (negative: it grew)
    saved_in_sequence: int | None = None  # what adding this rule to the rules before it saved
    failed_builds: list[tuple[str, BuildResult]] | None = None  # (what was built, its build)

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "declares": list(self.declares),
            "fixes_alone": self.fixes_alone,
            "size_alone": self.size_alone,
            "saved_alone_bytes": self.saved_alone,
            "saved_in_sequence_bytes": self.saved_in_sequence,
            "failed_builds": [{"built": label, "log_tail": b.log_tail} for label, b in self.failed_builds or []],
        }


def describe_rule(code: str, full: FixResult, alone: FixResult) -> RuleSaving:
    """The rule's name and declarations from the whole rewrite, its fix count from ``alone``."""
    applied = [f for f in full.applied if f.rule.code == code]
    declares = sorted({name for f in applied if f.fix is not None for name in f.fix.declares})
    name = applied[0].rule.name if applied else ""
    return RuleSaving(code, name, tuple(declares), sum(1 for f in alone.applied if f.rule.code == code))
