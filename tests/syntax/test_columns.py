"""Character columns without decoding each line up to each offset (slimfile/syntax/columns.py):
exactly what decoding gives, invalid UTF-8 and a BOM included."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from slimfile.report.positions import LineIndex
from slimfile.syntax import parse
from slimfile.syntax.columns import CharColumns

PIECES = [b"a", b" ", b"\n", b"\r\n", b"\xc3\xa9", b"\xe2\x82\xac", b"\xf0\x9f\x98\x80", b"\xc3", b"\xe2\x82", b"\x80", b"\xff", b"\xed\xa0\x80"]
TEXTS = st.lists(st.sampled_from(PIECES), max_size=40).map(b"".join)


def decoded_column(source: bytes, start: int, offset: int) -> int:
    return len(source[start:offset].decode("utf-8", "replace"))


@settings(max_examples=400, deadline=None)
@given(TEXTS, st.booleans())
def test_line_index_positions_are_decoded_lengths(text, bom):
    source = (b"\xef\xbb\xbf" if bom else b"") + text
    index = LineIndex(source)
    for offset in range(len(source) + 1):
        line = index.line_number(offset)
        start = index.starts[line - 1]
        if line == 1 and bom:
            start = min(offset, 3)
        assert index.position(offset) == (line, decoded_column(source, start, offset) + 1)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([b"RUN echo ", b"\xc3\xa9", b"\xff", b"x", b" && ", b"\\\n  "]), max_size=30).map(b"".join))
def test_dockerfile_positions_are_decoded_lengths(body):
    source = b"FROM a\nRUN " + body + b"\n"
    tree = parse(source)
    for offset in range(len(source)):
        line = tree.line_of(offset)
        assert tree.position(offset) == (line.number, decoded_column(source, line.start, offset) + 1)


def test_a_long_line_is_read_once():
    """Columns on one 1 MB line: each look-up bisects the runs of non-ASCII bytes."""
    line = b"echo \xc3\xa9 && " * 80_000
    columns = CharColumns(line)
    assert columns.characters(0, len(line), len(line)) == len(line.decode("utf-8", "replace"))
    for offset in range(0, len(line), 97_003):
        assert columns.characters(0, offset, len(line)) == decoded_column(line, 0, offset)
