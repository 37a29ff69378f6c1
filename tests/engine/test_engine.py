"""The fix loop: rounds, conflicts, safety, the re-parse guard and the semantic guard."""

from __future__ import annotations

import pytest

from slimfile.diagnostics import Finding
from slimfile.engine import Settings, check_source, fix_source
from slimfile.syntax.edits import Edit, Fix
from tests import test_passes as tp

SRC = b"from debian\nrun echo hi\nCMD [\"bash\"]\n"


def test_safe_fixes_apply_and_result_is_idempotent():
    result = fix_source(SRC, "Dockerfile", Settings(), passes=[tp.uppercase_keywords])
    assert result.output == b"FROM debian\nRUN echo hi\nCMD [\"bash\"]\n"
    assert [f.rule.code for f in result.applied] == ["ZZ001", "ZZ001"]
    assert result.remaining == [] and result.converged
    again = fix_source(result.output, "Dockerfile", Settings(), passes=[tp.uppercase_keywords])
    assert again.output == result.output and not again.applied


def test_unsafe_fixes_need_opt_in_and_are_counted_as_hidden():
    safe = fix_source(SRC, "Dockerfile", Settings(), passes=[tp.unsafe_echo])
    assert safe.output == SRC
    assert safe.hidden_unsafe() == 1
    unsafe = fix_source(SRC, "Dockerfile", Settings(unsafe_fixes=True), passes=[tp.unsafe_echo])
    assert b"run echo hi!" in unsafe.output


def test_fix_whose_output_does_not_parse_is_dropped_and_reported():
    result = fix_source(SRC, "Dockerfile", Settings(), passes=[tp.break_the_file, tp.uppercase_keywords])
    assert result.output == b"FROM debian\nRUN echo hi\nCMD [\"bash\"]\n"  # the good fixes still land
    assert [r.finding.rule.code for r in result.rejected] == ["ZZ002"]
    assert "does not parse" in result.rejected[0].reason and "unterminated heredoc" in result.rejected[0].reason


def test_undeclared_config_change_is_refused():
    result = fix_source(SRC, "Dockerfile", Settings(), passes=[tp.change_cmd])
    assert result.output == SRC
    assert "config" in result.rejected[0].reason


def test_overlapping_fixes_wait_for_the_next_round():
    def first(ctx):
        node = ctx.dockerfile.instructions[1]
        if node.keyword == "run":
            s, e = node.keyword_source_span()
            yield Finding(tp.UPPER, "upper", s, e, Fix((Edit(s, e, b"RUN"),)))

    def second(ctx):
        node = ctx.dockerfile.instructions[1]
        if b"hello" in node.args:
            return
        s, e = node.keyword_source_span()
        # rewrites the keyword and the first word: overlaps `first`, so it waits a round
        yield Finding(tp.UNSAFE, "greet", s, e + 5, Fix((Edit(s, e + 5, node.keyword.encode() + b" echo hello"),)))

    result = fix_source(SRC, "Dockerfile", Settings(), passes=[first, second])
    assert result.output == b"from debian\nRUN echo hello hi\nCMD [\"bash\"]\n"
    assert [f.message for f in result.applied] == ["upper", "greet"]
    assert result.rounds == 3 and result.converged


def test_select_ignore_and_suppression_comment():
    src = b"from x\n# slimfile: ignore[ZZ001]\nrun echo\nrun echo\n"
    findings = check_source(src, "Dockerfile", Settings(), passes=[tp.uppercase_keywords])
    assert [f.line for f in findings] == [1, 4]
    assert check_source(src, "Dockerfile", Settings(ignore=frozenset({"ZZ"})), passes=[tp.uppercase_keywords]) == []
    assert check_source(src, "Dockerfile", Settings(select=frozenset({"ZZ9"})), passes=[tp.uppercase_keywords]) == []
    skip = b"# slimfile: skip-file\nfrom x\n"
    assert check_source(skip, "Dockerfile", Settings(), passes=[tp.uppercase_keywords]) == []


def test_findings_are_located_in_lines_and_columns():
    findings = check_source(b"\xef\xbb\xbffrom x\n  run  a\n", "D", Settings(), passes=[tp.uppercase_keywords])
    assert [(f.line, f.column, f.end_line, f.end_column) for f in findings] == [(1, 1, 1, 5), (2, 3, 2, 6)]


def test_a_fix_declaring_stages_still_cannot_change_the_final_config():
    def restructure(ctx):
        node = ctx.dockerfile.instructions[-1]  # CMD ["bash"]
        start, end = node.args_source_span()
        if b"changed" not in node.args:
            yield Finding(tp.CMD, "restructure", start, end,
                          Fix((Edit(start, end, b'["changed"]'),), declares=frozenset({"stages"})))

    result = fix_source(SRC, "Dockerfile", Settings(), passes=[restructure])
    assert result.output == SRC
    assert "config" in result.rejected[0].reason


def test_a_fix_that_swallows_a_run_is_refused():
    src = b"FROM debian\nRUN echo a\nRUN echo b\nCOPY x /x\n"

    def swallow(ctx):
        first = ctx.dockerfile.instructions[1]
        if first.lines[0].marker_start is None and len(ctx.dockerfile.instructions) == 4:
            end = first.lines[0].content_end
            # a continuation marker turns the next RUN into part of this one, undeclared
            yield Finding(tp.UNSAFE, "swallow", end, end, Fix((Edit.insert(end, b" \\"),)))

    def drop_copy(ctx):
        copy = ctx.dockerfile.instructions[-1]
        if copy.name == "COPY":
            yield Finding(tp.UPPER, "drop", copy.start, copy.end, Fix((Edit.delete(copy.start, copy.end),)))

    result = fix_source(src, "Dockerfile", Settings(unsafe_fixes=True), passes=[swallow, drop_copy])
    assert result.output == src
    reasons = sorted(r.reason for r in result.rejected)
    assert "COPY/ADD/other instructions changed" in reasons[0]
    assert "RUN instructions: expected 2, found 1" in reasons[1]


def test_a_declared_merge_may_remove_a_run():
    src = b"FROM debian\nRUN echo a\nRUN echo b\n"

    def merge(ctx):
        first, second = ctx.dockerfile.instructions[1:3] if len(ctx.dockerfile.instructions) == 3 else (None, None)
        if first is not None:
            end = first.lines[0].content_end
            yield Finding(tp.UPPER, "merge", end, second.start + 4,
                          Fix((Edit(end, second.start + 4, b" \\\n    && "),), runs_removed=1))

    result = fix_source(src, "Dockerfile", Settings(), passes=[merge])
    assert result.output == b"FROM debian\nRUN echo a \\\n    && echo b\n" and result.rejected == []


def test_fixes_unsound_together_are_isolated_with_few_verifications(monkeypatch):
    # 40 fixes, each sound alone except the one on line 31; those on lines 11 and 21 are not
    # sound together. A verification re-parses the whole file: isolating the culprits must not
    # cost one per fix (a 4 MiB file with thousands of fixes took minutes that way)
    from slimfile import engine

    # (the engine refuses a fix by its rule and text: the unsound one is written differently)
    src = b"FROM debian\n" + b"".join(b"%s echo %d\n" % (b"rUN" if i == 29 else b"run", i) for i in range(40))
    real_verify = engine._verify
    calls = []

    def verify(before, output, chosen, path, settings, created):
        lines = {f.line for f in chosen}
        calls.append(len(chosen))
        if 31 in lines:
            return "line 31 is unsound"
        if {11, 21} <= lines:
            return "lines 11 and 21 are unsound together"
        return real_verify(before, output, chosen, path, settings, created)

    monkeypatch.setattr(engine, "_verify", verify)
    result = fix_source(src, "Dockerfile", Settings(), passes=[tp.uppercase_keywords])
    assert result.output.count(b"RUN echo") == 39 and b"rUN echo 29\n" in result.output  # line 31
    assert [(r.finding.line, r.reason) for r in result.rejected] == [(31, "line 31 is unsound")]
    # round 1: all 40 fail together; runs of 1, 3, 7, 15 are sound, 31 is not, halving finds
    # 19; line 21 alone is sound and waits; galloping and halving again up to line 31, which
    # alone is not; the last 9. Round 2 applies line 21 (its partner landed); round 3 is clean
    assert result.rounds == 3 and result.converged
    assert len(calls) < 40, calls


def test_an_add_to_copy_fix_and_a_reorder_in_another_stage_land_together():
    # the reorder guard compared ADD and COPY as different instructions: SF601 in one stage
    # and SF703 in another were refused together, and the engine fell back to one fix a round
    from slimfile import engine

    src = (
        b"FROM node:16\nWORKDIR /usr/src/app\nCOPY package*.json ./\nRUN npm install\nCOPY . .\n"
        b"RUN useradd --create-home appuser\nUSER appuser\nCMD [\"npm\", \"start\"]\n"
        b"FROM python:3.4\nWORKDIR /var/app\nADD . /var/app\nCMD [\"/start.sh\"]\n"
    )
    before = engine.parse(src)
    from slimfile.engine import _collect

    found = [f for _, f in _collect(before, Settings(build_context="no-such-context"), None) if f.rule.code in ("SF601", "SF703")]
    assert sorted(f.rule.code for f in found) == ["SF601", "SF703"]
    output = engine.apply_fixes(src, [f.fix for f in found])
    verdict = engine._verify(before, output, found, "Dockerfile", Settings(), {})
    assert not isinstance(verdict, str), verdict


@pytest.mark.parametrize("n", [50, 300])
def test_adjacent_redundant_cleanups_go_in_one_round(n: int):
    """n RUNs that each clean apt's lists again, one after the other: SF501 deletes them all in
    one round (their deletions touch, and touching deletions do not wait; the last install is
    found among the stage's apt RUNs, not only the 64 before), where every other one went per
    round, and only those within 64 RUNs (7 rounds at 50; 12 at 200, and the 12-round cap at
    400 without converging)."""
    installs = [f"RUN apt-get update && apt-get install -y p{i} && rm -rf /var/lib/apt/lists/*" for i in range(n)]
    cleanups = ["RUN rm -rf /var/lib/apt/lists/*"] * n
    source = ("\n".join(["FROM debian:12", *installs, *cleanups]) + "\n").encode()
    result = fix_source(source, "Dockerfile", Settings())
    assert result.converged and result.rounds == 2  # the deletions, then a round that finds nothing
    assert result.output == ("\n".join(["FROM debian:12", *installs]) + "\n").encode()
    assert [f.rule.code for f in result.applied] == ["SF501"] * n


@pytest.mark.parametrize("n", [60, 240])
def test_a_round_looks_at_few_breakers_one_by_one(monkeypatch, n: int):
    """The fix on line 2 is sound with none of the others, which are sound alone and together
    (the guard read a reorder and n trigger fixes of one round that way). Each of them failed
    with the line-2 fix, then was verified alone: 2n parses of the whole file in round 1. Now
    a round takes at most MAX_BREAKERS of them one by one and the rest wait: they land in
    round 2, after line 2's fix, in one verification."""
    from slimfile import engine

    src = b"FROM debian\n" + b"".join(b"run echo %d\n" % i for i in range(n))
    real_verify = engine._verify
    calls = []

    def verify(before, output, chosen, path, settings, created):
        lines = {f.line for f in chosen}
        calls.append(len(chosen))
        if 2 in lines and len(lines) > 1:
            return "line 2 is unsound with any other"
        return real_verify(before, output, chosen, path, settings, created)

    monkeypatch.setattr(engine, "_verify", verify)
    result = fix_source(src, "Dockerfile", Settings(), passes=[tp.uppercase_keywords])
    assert result.output.count(b"RUN echo") == n and result.rejected == []
    assert result.converged and result.rounds == 3
    assert len(calls) <= 40, len(calls)  # 2 x MAX_BREAKERS, a few runs; 2n + 3 before


def test_a_reorder_and_a_fix_of_a_trigger_land_together():
    # the reorder guard compared ONBUILD lines by their text, which a trigger fix (declared
    # "onbuild") changes: each trigger fix failed with SF703's move, and was verified again
    # alone, two parses of the whole file per trigger (800 lines: 39 s)
    from slimfile import engine
    from slimfile.engine import _collect

    src = (
        b"FROM debian:12\nWORKDIR /app\nCOPY . .\nRUN apt-get install -y git\n"
        b"ONBUILD RUN apt-get install -y p0\nRUN apt-get install -y git\nONBUILD RUN apt-get install -y p1\n"
    )
    before = engine.parse(src)
    found = [f for _, f in _collect(before, Settings(unsafe_fixes=True, build_context="no-such-context"), None)]
    move = [f for f in found if f.rule.code == "SF703"]
    triggers = [f for f in found if f.fix is not None and "onbuild" in f.fix.declares]
    assert len(move) == 1 and len(triggers) == 2
    together = move + triggers
    output = engine.apply_fixes(src, [f.fix for f in together])
    verdict = engine._verify(before, output, together, "Dockerfile", Settings(), {})
    assert not isinstance(verdict, str), verdict
    # a trigger may still neither move nor disappear
    moved = output.replace(b"ONBUILD RUN apt-get install --no-install-recommends -y p1\n", b"").replace(b"COPY . .\n", b"COPY . .\nONBUILD RUN apt-get install -y p1\n")
    verdict = engine._verify(before, moved, together, "Dockerfile", Settings(), {})
    assert isinstance(verdict, str) and "changed order" in verdict, verdict
