"""Every shared input round-trips byte for byte and agrees with buildkit's parser."""

from __future__ import annotations

from pathlib import Path

import pytest

from slimfile.syntax import LineRole, parse
from slimfile.syntax.errors import ParseError
from slimfile.syntax.nodes import Instruction
from tests.conftest import HAND_CASES, all_inputs

INPUTS = all_inputs()
IDS = [f"{p.parent.name}/{p.name}" for p in INPUTS]


@pytest.mark.shared
def test_inputs_are_there():
    assert len(INPUTS) >= 207 + 47 + 30


def _parse_or_none(data: bytes, mode: str):
    try:
        return parse(data, buildkit=mode)
    except ParseError:
        return None


@pytest.mark.shared
@pytest.mark.parametrize("path", INPUTS, ids=IDS)
@pytest.mark.parametrize("mode", ["current", "0.12"])
def test_round_trip_and_tiling(path: Path, mode: str):
    data = path.read_bytes()
    tree = _parse_or_none(data, mode)
    if tree is None:
        # only buildkit's own negative test files may fail to parse
        assert path.name.startswith("neg_") or "unterminated" in path.name, path
        return
    assert tree.unparse() == data
    # items tile the file: each starts where the previous ended
    pos = 0
    for item in tree.items:
        assert item.start == pos
        pos = item.end
    assert pos == len(data)
    # physical lines tile the file too, numbered 1..n
    assert [line.number for line in tree.lines] == list(range(1, len(tree.lines) + 1))
    assert b"".join(data[line.start : line.end] for line in tree.lines) == data


@pytest.mark.shared
@pytest.mark.parametrize("path", INPUTS, ids=IDS)
def test_logical_line_maps_back_to_source(path: Path):
    data = path.read_bytes()
    tree = _parse_or_none(data, "current")
    if tree is None:
        return
    for node in tree.walk():
        _check_logical_map(data, node)


def _check_logical_map(data: bytes, node: Instruction) -> None:
    logical = node.logical
    for seg in logical.segments:
        assert logical.text[seg.logical_start : seg.logical_end] == data[seg.source_start : seg.source_end]
    # keyword, flags and args come from the source bytes they claim
    ks, ke = node.keyword_source_span()
    assert data[ks:ke] == node.keyword.encode("utf-8", "surrogateescape")
    for flag in node.flags:
        raw = data[flag.start : flag.end]
        assert raw.startswith(b"--")
    if node.args:
        start, end = node.args_source_span()
        joined = b"".join(
            data[max(s.source_start, start) : min(s.source_end, end)]
            for s in logical.segments
            if s.source_end > start and s.source_start < end
        )
        assert joined == node.args
    for heredoc in node.heredocs:
        assert data[heredoc.body_start : heredoc.body_end] == heredoc.content
        terminator = data[heredoc.terminator_start : heredoc.terminator_end].rstrip(b"\r\n")
        if heredoc.chomp:
            terminator = terminator.lstrip(b"\t")
        assert terminator == heredoc.name.encode("utf-8", "surrogateescape")


@pytest.mark.shared
@pytest.mark.parametrize("path", INPUTS, ids=IDS)
def test_agrees_with_buildkit_oracle(path: Path):
    from tests.syntax.oracle import assert_agrees

    assert_agrees(path.read_bytes())


def test_line_roles_cover_continuations():
    data = (HAND_CASES / "08_continuation_with_comments.Dockerfile").read_bytes()
    run = parse(data).instructions[1]
    roles = [line.role for line in run.lines]
    assert roles == [
        LineRole.FIRST,
        LineRole.INNER_COMMENT,
        LineRole.CONTINUATION,
        LineRole.INNER_COMMENT,
        LineRole.INNER_COMMENT,
        LineRole.CONTINUATION,
    ]
