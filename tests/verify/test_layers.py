"""History entries -> Dockerfile instructions, and what a rewrite did to the layers (no Docker)."""

import pytest

from slimfile.syntax import parse
from slimfile.verify.layers import LayerRow, attribute, compare_layers, instruction_text, rows_from_history


@pytest.mark.parametrize(
    ("created_by", "instruction"),
    [
        ("RUN /bin/sh -c apt-get update # buildkit", "RUN apt-get update"),
        ("RUN |1 GREETING=hi /bin/sh -c pip install -r req.txt # buildkit", "RUN pip install -r req.txt"),
        ("RUN |2 A=1 B=2 /bin/sh -c make # buildkit", "RUN make"),
        ("COPY app.py . # buildkit", "COPY app.py ."),
        ("WORKDIR /app", "WORKDIR /app"),
        ('CMD ["python" "app.py"]', 'CMD ["python" "app.py"]'),
        ("/bin/sh -c #(nop)  ENV LANG=C.UTF-8", "ENV LANG=C.UTF-8"),  # classic builder
        ("/bin/sh -c #(nop) COPY file:abc in /app ", "COPY file:abc in /app"),
        ("/bin/sh -c apt-get update", "RUN apt-get update"),
        ("|1 X=y /bin/sh -c make", "RUN make"),
        ("", ""),
    ],
)
def test_instruction_text(created_by, instruction):
    assert instruction_text(created_by) == instruction


# what the engine returns for a python:3.11-slim based image: newest first
HISTORY = [
    {"CreatedBy": 'CMD ["python" "app.py"]', "Size": 0},
    {"CreatedBy": "COPY app.py . # buildkit", "Size": 15},
    {"CreatedBy": "RUN |1 V=1 /bin/sh -c pip install -r req.txt # buildkit", "Size": 84600},
    {"CreatedBy": "COPY req.txt . # buildkit", "Size": 12},
    {"CreatedBy": "WORKDIR /app", "Size": 0},
    {"CreatedBy": "ENV A=1", "Size": 0},
    {"CreatedBy": "ARG V=1", "Size": 0},
    {"CreatedBy": 'CMD ["python3"]', "Size": 0},
    {"CreatedBy": "RUN /bin/sh -c apt-get update && apt-get install -y python3 # buildkit", "Size": 74000000},
    {"CreatedBy": "ENV LANG=C.UTF-8", "Size": 0},
    {"CreatedBy": "", "Size": 75300000},
]
DOCKERFILE = b"""ARG BASE=python:3.11-slim
FROM $BASE
ARG V=1
ENV A=1
WORKDIR /app
COPY req.txt .
RUN pip install -r req.txt
COPY app.py .
CMD ["python", "app.py"]
"""


def test_rows_are_oldest_first_and_know_which_make_layers():
    rows = rows_from_history(HISTORY)
    assert [r.instruction for r in rows[:2]] == ["", "ENV LANG=C.UTF-8"]
    assert [r.creates_layer for r in rows] == [True, False, True, False, False, False, True, True, True, True, False]


def test_rows_are_attributed_to_dockerfile_lines_from_the_end():
    rows = attribute(rows_from_history(HISTORY), parse(DOCKERFILE), None)
    mine = [(r.line, r.instruction) for r in rows if r.origin == "dockerfile"]
    assert mine == [
        (3, "ARG V=1"),
        (4, "ENV A=1"),
        (5, "WORKDIR /app"),
        (6, "COPY req.txt ."),
        (7, "RUN pip install -r req.txt"),
        (8, "COPY app.py ."),
        (9, 'CMD ["python" "app.py"]'),
    ]
    assert all(r.origin == "base" for r in rows[:4])


def test_attribution_follows_a_stage_built_from_another_stage():
    dockerfile = parse(b"FROM debian AS base\nRUN make\nFROM base AS final\nCOPY x /x\n")
    history = [{"CreatedBy": "COPY x /x # buildkit", "Size": 1}, {"CreatedBy": "RUN /bin/sh -c make # buildkit", "Size": 9}, {"CreatedBy": "", "Size": 100}]
    rows = attribute(rows_from_history(history), dockerfile, None)
    assert [(r.origin, r.line, r.stage) for r in rows] == [("base", None, None), ("dockerfile", 2, "base"), ("dockerfile", 4, "final")]


def test_attribution_stops_where_the_keywords_disagree():
    dockerfile = parse(b"FROM debian\nRUN a\nCOPY x /x\n")
    history = [{"CreatedBy": "COPY x /x # buildkit", "Size": 1}, {"CreatedBy": "ONBUILD RUN z", "Size": 0}, {"CreatedBy": "", "Size": 100}]
    rows = attribute(rows_from_history(history), dockerfile, None)
    assert [r.origin for r in rows] == ["base", "base", "dockerfile"]


def test_attribution_uses_the_target_stage():
    dockerfile = parse(b"FROM debian AS build\nRUN make\nFROM debian\nCOPY --from=build /out /out\n")
    history = [{"CreatedBy": "RUN /bin/sh -c make # buildkit", "Size": 9}, {"CreatedBy": "", "Size": 100}]
    rows = attribute(rows_from_history(history), dockerfile, "build")
    assert rows[-1].line == 2


def row(text, size, origin="dockerfile"):
    return LayerRow(text, size, True, origin)


def test_merged_runs_are_removed_and_added_and_unchanged_layers_are_paired():
    before = [row("", 100, "base"), row("RUN apt-get update", 20), row("RUN apt-get install -y curl", 17), row("COPY a /a", 1)]
    after = [row("", 100, "base"), row("RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*", 17), row("COPY a /a", 1)]
    kinds = [(c.kind, c.delta) for c in compare_layers(before, after)]
    assert kinds == [("unchanged", 0), ("removed", -20), ("removed", -17), ("added", 17), ("unchanged", 0)]


def test_a_rewritten_instruction_in_place_shrinks_or_grows():
    before = [row("RUN pip install -r r.txt", 900), row("RUN npm ci", 50)]
    after = [row("RUN pip install --no-cache-dir -r r.txt", 850), row("RUN npm ci && npm cache clean --force", 60)]
    assert [(c.kind, c.delta) for c in compare_layers(before, after)] == [("shrank", -50), ("grew", 10)]


def test_rows_without_a_layer_are_left_out_of_the_comparison():
    before = [LayerRow("ENV A=1", 0, False, "dockerfile"), row("RUN x", 5)]
    after = [row("RUN x", 5)]
    assert [c.kind for c in compare_layers(before, after)] == ["unchanged"]
