"""Per-fix attribution: which rewrites get built for each rule (no Docker needed)."""

from slimfile.engine import Settings, fix_source
from slimfile.verify.attribution import applied_codes, describe_rule, plan_rewrites, selecting

from tests.verify.fake_passes import replacing

SOURCE = b"FROM debian\nRUN echo one\nRUN echo two\n"
# XT952 only applies once XT951 has made "uno": the two rules interact
FIRST = replacing("XT951", b"echo one", b"echo uno", name="first")
SECOND = replacing("XT952", b"echo uno", b"echo eins", name="second")
OTHER = replacing("XT953", b"echo two", b"echo deux", name="other")
PASSES = [FIRST, SECOND, OTHER]


def test_codes_keep_the_order_they_were_applied_in_for_rules_outside_the_pipeline():
    result = fix_source(SOURCE, "Dockerfile", Settings(), PASSES)
    assert result.output == b"FROM debian\nRUN echo eins\nRUN echo deux\n"
    assert applied_codes(result) == ["XT951", "XT953", "XT952"]


def test_selecting_replaces_the_selection_and_keeps_the_rest():
    settings = selecting(Settings(unsafe_fixes=True, extend_select=frozenset({"SF1"})), ["XT952"])
    assert settings.select == {"XT952"} and settings.extend_select == frozenset() and settings.unsafe_fixes


def test_each_rule_alone_and_in_sequence():
    full = fix_source(SOURCE, "Dockerfile", Settings(), PASSES)
    codes = ["XT951", "XT952", "XT953"]
    plan = plan_rewrites(SOURCE, "Dockerfile", Settings(), codes, PASSES)
    assert [r.output for r in plan.alone] == [
        b"FROM debian\nRUN echo uno\nRUN echo two\n",
        SOURCE,  # XT952 alone finds nothing: it needs XT951 first
        b"FROM debian\nRUN echo one\nRUN echo deux\n",
    ]
    assert [r.output for r in plan.in_sequence] == [
        b"FROM debian\nRUN echo uno\nRUN echo two\n",
        b"FROM debian\nRUN echo eins\nRUN echo two\n",
        full.output,  # the last step is the whole rewrite
    ]
    second = describe_rule("XT952", full, plan.alone[1])
    assert (second.name, second.fixes_alone) == ("second", 0)
    assert describe_rule("XT951", full, plan.alone[0]).fixes_alone == 1
