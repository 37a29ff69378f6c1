"""The edit engine: byte-range edits, conflicts, and new text in the file's own style."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slimfile.syntax import edits as edits_module
from slimfile.syntax import parse
from slimfile.syntax.edits import (
    Edit,
    Fix,
    Safety,
    apply_edits,
    apply_fixes,
    compose_changes,
    select_compatible,
    select_with_blockers,
    tightened,
)
from slimfile.syntax.style import continuation_indent, eol_of, line_break


def test_apply_edits_keeps_untouched_bytes():
    src = b"FROM x\r\nRUN a\r\n"
    out = apply_edits(src, [Edit.insert(src.index(b"a\r"), b"b "), Edit(0, 4, b"from")])
    assert out == b"from x\r\nRUN b a\r\n"


def test_edits_are_validated():
    with pytest.raises(ValueError):
        Edit(5, 2)
    with pytest.raises(TypeError):
        Edit(0, 0, "text")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        apply_edits(b"abc", [Edit(0, 2, b"x"), Edit(1, 3, b"y")])
    with pytest.raises(ValueError):
        apply_edits(b"abc", [Edit(2, 9, b"x")])


def test_overlap_rules():
    assert Edit(0, 5).overlaps(Edit(4, 6))
    assert not Edit(0, 5).overlaps(Edit(5, 6))  # touching replacements are fine
    assert Edit.insert(3, b"a").overlaps(Edit.insert(3, b"b"))  # same point: no defined order
    assert Edit.insert(3, b"a").overlaps(Edit(3, 5))
    assert not Edit.insert(5, b"a").overlaps(Edit(3, 5))  # insertion right after a replacement
    with pytest.raises(ValueError):
        Fix((Edit(0, 3), Edit(2, 4)))


def test_conflicting_fixes_wait_for_the_next_round():
    first = Fix((Edit(0, 4, b"from"),), Safety.SAFE, "lower")
    clash = Fix((Edit(2, 6, b"X"),), Safety.SAFE, "clash")
    apart = Fix((Edit.insert(10, b"!"),), Safety.UNSAFE, "apart")
    accepted, deferred = select_compatible([first, clash, apart])
    assert accepted == [0, 2] and deferred == [1]
    assert apply_fixes(b"FROM x\nRUN a\n", [first, apart]) == b"from x\nRUN! a\n"


def test_deletions_that_only_touch_go_in_one_round():
    """Two deletions that meet at a point remove both sides of it, as one deletion would; a
    deletion still waits for an edit that writes at its end, and for one that overlaps it."""
    line2, line3 = Fix((Edit.delete(7, 13),)), Fix((Edit.delete(13, 19),))
    assert not line2.conflicts_with(line3) and not line3.conflicts_with(line2)
    assert select_compatible([line2, line3]) == ([0, 1], [])
    source = b"FROM x\nRUN a\nRUN b\nRUN c\n"
    assert apply_fixes(source, [line2, line3]) == b"FROM x\nRUN c\n"
    writes_at_the_end = Fix((Edit.insert(13, b"RUN z\n"),))
    replaces_after = Fix((Edit(13, 16, b"run"),))
    overlapping = Fix((Edit.delete(10, 16),))
    for other in (writes_at_the_end, replaces_after, overlapping):
        assert line2.conflicts_with(other) and other.conflicts_with(line2)
        assert select_compatible([line2, other]) == ([0], [1])


def test_fix_edits_sorted_and_span():
    fix = Fix((Edit(9, 9, b"b"), Edit(1, 2, b"a")))
    assert [e.start for e in fix.edits] == [1, 9]
    assert (fix.start, fix.end) == (1, 9)


def test_style_helpers_follow_crlf_backtick_and_indent():
    text = b"# escape=`\r\nFROM x\r\nRUN a `\r\n\t  b\r\n"
    tree = parse(text)
    run = tree.instructions[1]
    assert eol_of(tree, run.lines[0]) == b"\r\n"
    assert continuation_indent(tree, run) == b"\t  "
    assert line_break(tree, run) == b" `\r\n\t  "


def test_insertion_inside_a_continuation_reparses():
    text = b"FROM x\r\nRUN apt-get install \\\r\n    # the compiler\r\n    gcc\r\n"
    tree = parse(text)
    run = tree.instructions[1]
    logical = run.logical
    at = logical.to_source(logical.text.index(b"install") + len(b"install"), at_end=True)
    out = apply_edits(text, [Edit.insert(at, b" --no-install-recommends")])
    new = parse(out)
    assert new.instructions[1].args == b"apt-get install --no-install-recommends     gcc"
    assert out.count(b"\r\n") == text.count(b"\r\n")
    assert b"# the compiler" in out


def test_appending_a_continuation_line_in_file_style():
    text = b"FROM x\nRUN apt-get update \\\n  && apt-get install -y gcc\n"
    tree = parse(text)
    run = tree.instructions[1]
    end = run.lines[-1].content_end
    out = apply_edits(text, [Edit.insert(end, line_break(tree, run, run.lines[-1]) + b"&& rm -rf /var/lib/apt/lists/*")])
    assert out.endswith(b"gcc \\\n  && rm -rf /var/lib/apt/lists/*\n")
    assert parse(out).instructions[1].args.endswith(b"&& rm -rf /var/lib/apt/lists/*")


def test_fixes_bringing_the_same_cleanup_into_one_run_conflict():
    lists = Fix((Edit.insert(40, b" && rm -rf /var/lib/apt/lists/*"),), brings=((10, "/var/lib/apt/lists"),))
    moved = Fix((Edit.insert(60, b" && rm -rf /var/lib/apt/lists/*"), Edit.delete(70, 90)), brings=((10, "/var/lib/apt/lists"),))
    elsewhere = Fix((Edit.insert(60, b" && rm -rf /var/lib/apt/lists/*"),), brings=((50, "/var/lib/apt/lists"),))
    other_cache = Fix((Edit.insert(60, b" && apt-get clean"),), brings=((10, "/var/cache/apt"),))
    assert lists.conflicts_with(moved) and moved.conflicts_with(lists)
    assert not lists.conflicts_with(elsewhere)
    assert not lists.conflicts_with(other_cache)
    assert select_compatible([lists, moved, elsewhere]) == ([0, 2], [1])


def test_a_merge_conflicts_with_bringing_what_the_other_run_removes():
    merge = Fix((Edit(45, 46, b" \\"), Edit(47, 51, b"    && ")), joins=((10, "/var/lib/apt/lists"),))
    adds_lists = Fix((Edit.insert(30, b" && rm -rf /var/lib/apt/lists/*"),), brings=((10, "/var/lib/apt/lists"),))
    adds_other = Fix((Edit.insert(30, b" && apt-get clean"),), brings=((10, "/var/cache/apt"),))
    assert merge.conflicts_with(adds_lists) and adds_lists.conflicts_with(merge)
    assert not merge.conflicts_with(adds_other)


# -- conflicts between many fixes, and where rounds of fixes changed the text -------------------

EDITS = st.lists(st.tuples(st.integers(0, 30), st.sampled_from([0, 0, 1, 2, 3, 6]), st.binary(max_size=3)), max_size=4)


def _fix_from(raw, claims=()) -> Fix | None:
    edits: list[Edit] = []
    for start, length, content in raw:
        candidate = Edit(start, start + length, content)
        if not any(candidate.overlaps(e) for e in edits):
            edits.append(candidate)
    return Fix(tuple(edits), claims=tuple((start, start + length) for start, length, _ in claims)) if edits else None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(EDITS, EDITS | st.just([])), max_size=10))
def test_select_with_blockers_is_the_pairwise_rule(raw_fixes):
    """The claimed-point tree gives what comparing every pair gives: a fix waits when it
    conflicts with an accepted one, and its blocker is the first such accepted fix. Both ways
    the tree is read (leaf by leaf for a few points, by its nodes for more) give it."""
    fixes = [fix for fix in (_fix_from(raw, claims) for raw, claims in raw_fixes) if fix is not None]
    accepted: list[int] = []
    blockers: dict[int, int] = {}
    for i, fix in enumerate(fixes):
        clashing = [j for j in accepted if fixes[j].conflicts_with(fix)]
        if clashing:
            blockers[i] = clashing[0]
        else:
            accepted.append(i)
    few = edits_module._FEW_POINTS
    try:
        for edits_module._FEW_POINTS in (0, 2, few):
            assert select_with_blockers(fixes) == (accepted, blockers)
            assert select_compatible(fixes) == (accepted, sorted(blockers))
    finally:
        edits_module._FEW_POINTS = few


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=30), st.lists(st.lists(st.tuples(st.integers(0, 40), st.sampled_from([0, 1, 2, 5]), st.binary(max_size=3)), max_size=4), min_size=1, max_size=4))
def test_compose_changes_describes_the_output(original, rounds):
    """Outside the composed changes the output is the original, in order, at the same shift."""
    current, changes = original, ()
    for raw in rounds:
        edits: list[Edit] = []
        for start, length, content in sorted(raw):
            if start + length <= len(current) and not any(Edit(start, start + length).overlaps(e) for e in edits):
                edits.append(Edit(start, start + length, content))
        changes = compose_changes(changes, edits)
        current = apply_edits(current, edits)
    at_old = at_new = 0
    for old_start, old_end, new_start, new_end in changes:
        assert old_start - at_old == new_start - at_new >= 0
        assert original[at_old:old_start] == current[at_new:new_start]
        assert old_start <= old_end and new_start <= new_end
        at_old, at_new = old_end, new_end
    assert original[at_old:] == current[at_new:]


def test_ten_thousand_touching_fixes():
    """Each fix touches the next: every other one waits, blocked by the one before it."""
    fixes = [Fix((Edit(10 * i, 10 * i + 10, b"x"), Edit(10 * i + 10, 10 * i + 10, b"y"))) for i in range(10_000)]
    accepted, blockers = select_with_blockers(fixes)
    assert accepted == list(range(0, 10_000, 2))
    assert blockers == {i: i - 1 for i in range(1, 10_000, 2)}


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.data())
def test_a_tightened_edit_makes_the_same_text_and_changes_only_what_differs(source, data):
    start = data.draw(st.integers(0, len(source)))
    end = data.draw(st.integers(start, len(source)))
    # content that keeps some of the replaced bytes at either end, as a split that writes lines again
    kept_head = data.draw(st.integers(0, end - start))
    kept_tail = data.draw(st.integers(0, end - start - kept_head))
    middle = data.draw(st.binary(max_size=20))
    content = source[start : start + kept_head] + middle + source[end - kept_tail : end]
    edit = Edit(start, end, content)
    tight = tightened(source, edit)
    assert apply_edits(source, [tight]) == apply_edits(source, [edit])
    assert start <= tight.start <= tight.end <= end
    old = source[tight.start : tight.end]
    if old and tight.content:  # nothing left that both sides share at either end
        assert old[:1] != tight.content[:1] and old[-1:] != tight.content[-1:]


def test_a_tightened_edit_of_a_long_stretch_written_again():
    tail = b"SHELL [\"/bin/bash\", \"-c\"]\n" * 5000
    source = b"FROM a\nRUN make\n" + tail
    edit = Edit(16, len(source), b"\nFROM b AS release\n" + tail)
    assert tightened(source, edit) == Edit(16, 16, b"\nFROM b AS release\n")
