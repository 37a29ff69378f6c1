"""``dumps_indented`` writes exactly what ``json.dumps(value, indent=2, ensure_ascii=False)``
writes (``slimfile parse --json`` uses it for its large output)."""

from __future__ import annotations

import json
import os
from enum import IntEnum

from hypothesis import given, settings
from hypothesis import strategies as st

from slimfile.report.json_text import LazyList, dumps_indented, indented_chunks
from slimfile.shell.dump import instruction_entries, parse_json_chunks
from slimfile.syntax.dump import to_dict
from slimfile.syntax.parser import parse

EXAMPLES = int(os.environ.get("SLIMFILE_HYPOTHESIS_EXAMPLES", "5000"))

leaves = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text()
values = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=4)
    | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    | st.dictionaries(st.integers() | st.booleans() | st.none(), inner, max_size=3),
    max_leaves=30,
)


@settings(max_examples=EXAMPLES, deadline=None)
@given(values)
def test_same_text_as_json_dumps(value) -> None:
    assert dumps_indented(value) == json.dumps(value, indent=2, ensure_ascii=False)


class Level(IntEnum):
    HIGH = 2


def test_edge_values() -> None:
    for value in ({}, [], (), "", "é\n\"\\\x00\u2028", {"a": {}, "b": [[]], "c": [{}]}, Level.HIGH, {"x": [Level.HIGH, 1.5, float("inf")]}, -0.0, 10**30):
        assert dumps_indented(value) == json.dumps(value, indent=2, ensure_ascii=False)


def test_parse_json_of_a_dockerfile() -> None:
    source = (
        b"# syntax=docker/dockerfile:1\nARG V=1\nFROM debian:12 AS build\n"
        b"RUN apt-get update && apt-get install -y curl \\\n    && rm -rf /var/lib/apt/lists/*\n"
        b"RUN cat <<EOF > /x\n\xc3\xa9 \xff\nEOF\nONBUILD RUN echo hi\nCOPY --from=build /x /y\n"
    )
    tree = parse(source, path="Dockerfile")
    data = to_dict(tree, instructions=list(instruction_entries(tree)))
    assert dumps_indented(data) == json.dumps(data, indent=2, ensure_ascii=False)


@settings(max_examples=EXAMPLES // 5, deadline=None)
@given(st.dictionaries(st.text(max_size=5), values, max_size=4), st.text(max_size=5), st.lists(values, max_size=5))
def test_lazy_lists_are_written_as_lists(head, key, items) -> None:
    """A LazyList (as a value of the top dict) is written as the list of its items; each item
    is made only when its turn comes, and is one chunk of its own."""
    made: list[int] = []

    def items_made_one_at_a_time():
        for i, item in enumerate(items):
            made.append(i)
            yield item

    data = {**head, key: LazyList(items_made_one_at_a_time())}
    chunks = indented_chunks(data)
    assert made == []  # nothing made before the text is asked for
    text = "".join(chunks)
    assert text == json.dumps({**head, key: items}, indent=2, ensure_ascii=False)
    assert made == list(range(len(items)))


def test_parse_json_writes_the_same_text_as_the_whole_data(tmp_path) -> None:
    """``parse --json`` makes each instruction's facts while writing: same text as building
    every entry first (the non-ASCII file exercises the UTF-8 clean-up, the ASCII one skips it)."""
    for source in (
        (
            b"FROM debian:12\nRUN apt-get update && apt-get install -y curl\nRUN echo 1 && echo 2 || true\n"
            b"ONBUILD RUN make\nRUN [\"echo\", \"x\"]\nCOPY . /app\n"
        ),
        b"FROM debian:12\nRUN echo \xc3\xa9 \xff && echo 'q' | cat > /x\nRUN <<EOF\necho hi\nEOF\n",
    ):
        tree = parse(source, path="Dockerfile")
        whole = to_dict(tree, instructions=list(instruction_entries(tree)))
        assert "".join(parse_json_chunks(tree)) == json.dumps(whole, indent=2, ensure_ascii=False)
