"""``dumps_indented`` writes exactly what ``json.dumps(value, indent=2, ensure_ascii=False)``
writes (``slimfile parse --json`` uses it for its large output)."""

from __future__ import annotations

import json
import os
from enum import IntEnum

from hypothesis import given, settings
from hypothesis import strategies as st

from slimfile.report.json_text import dumps_indented
from slimfile.shell.dump import add_run_facts
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
    data = to_dict(tree)
    add_run_facts(tree, data)
    assert dumps_indented(data) == json.dumps(data, indent=2, ensure_ascii=False)
