"""The fix loop: rounds, conflicts, safety, the re-parse guard and the semantic guard."""

from __future__ import annotations

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
