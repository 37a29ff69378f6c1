"""The stage model: FROM lines, image references, names, platforms and global ARGs."""

from __future__ import annotations

import pytest

from slimfile.syntax import parse
from slimfile.syntax.stages import parse_image_ref


@pytest.mark.parametrize(
    "text, registry, repository, tag, digest",
    [
        ("python:3.11-slim", None, "python", "3.11-slim", None),
        ("debian", None, "debian", None, None),
        ("gcr.io/distroless/static-debian12", "gcr.io", "distroless/static-debian12", None, None),
        ("localhost:5000/team/app:1.2@sha256:" + "a" * 64, "localhost:5000", "team/app", "1.2", "sha256:" + "a" * 64),
        ("node:24@sha256:" + "b" * 64, None, "node", "24", "sha256:" + "b" * 64),
        ("library/ubuntu:22.04", None, "library/ubuntu", "22.04", None),
        ("python:${PY}-slim", None, "python", "${PY}-slim", None),
        ("${REGISTRY}/app:${TAG:-latest}", "${REGISTRY}", "app", "${TAG:-latest}", None),
        ("$BASE", None, "$BASE", None, None),
        ("scratch", None, "scratch", None, None),
        ("my.registry:443/x/y", "my.registry:443", "x/y", None, None),
    ],
)
def test_image_reference_parts(text, registry, repository, tag, digest):
    ref = parse_image_ref(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (registry, repository, tag, digest)
    assert ref.text == text


def test_short_repository_drops_library_prefix():
    assert parse_image_ref("docker.io/library/python:3").short_repository == "python"
    assert parse_image_ref("ghcr.io/library/python:3").short_repository == "library/python"


def test_stages_names_platforms_and_membership():
    text = (
        "ARG PY=3.11\n"
        "ARG BASE=debian\n"
        "FROM --platform=$BUILDPLATFORM python:${PY} AS Build\n"
        "RUN pip install x\n"
        "FROM build AS test\n"
        "RUN pytest\n"
        "FROM scratch\n"
        "COPY --from=Build /x /x\n"
    )
    tree = parse(text.encode())
    model = tree.stages
    assert [a.args for a in model.global_args] == [b"PY=3.11", b"BASE=debian"]
    assert [(s.name, s.alias, s.image_text, s.platform) for s in model.stages] == [
        ("Build", "build", "python:${PY}", "$BUILDPLATFORM"),
        ("test", "test", "build", None),
        (None, None, "scratch", None),
    ]
    assert model.stages[1].base_stage is model.stages[0]
    assert model.by_name("BUILD") is model.stages[0]
    assert model.by_name("2") is model.stages[2]
    run = tree.instructions[3]
    assert model.stage_of(run) is model.stages[0]
    assert model.final is model.stages[2]
    assert model.stages[2].image.is_scratch


def test_from_with_wrong_word_count_is_reported_not_fatal():
    tree = parse(b"FROM a b\n")
    assert tree.stages.stages[0].problem


def test_lineage_is_the_stage_and_its_bases_nearest_first():
    text = (
        "FROM debian:12 AS base\n"
        "FROM base AS tools\n"
        "FROM debian:12 AS other\n"
        "FROM tools AS build\n"
        "FROM build\n"
    )
    stages = parse(text.encode()).stages.stages
    assert [s.index for s in stages[4].lineage()] == [4, 3, 1, 0]
    assert [s.index for s in stages[2].lineage()] == [2]


def test_lineage_of_a_long_chain_compares_no_stage():
    """A chain of stages is walked by index: comparing whole stages (dataclass equality, field
    by field) at each step made the guard's config summary n x n (8,000 stages: 24 s)."""
    lines = ["FROM debian:12 AS s0"] + [f"FROM s{i - 1} AS s{i}" for i in range(1, 300)]
    stages = parse(("\n".join(lines) + "\n").encode()).stages.stages
    compared = 0
    original = type(stages[0]).__eq__

    def counting(self, other):
        nonlocal compared
        compared += 1
        return original(self, other)

    type(stages[0]).__eq__ = counting
    try:
        chain = stages[-1].lineage()
    finally:
        type(stages[0]).__eq__ = original
    assert [s.index for s in chain] == list(range(299, -1, -1))
    assert compared == 0
