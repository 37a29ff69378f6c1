"""FROM references: stages, scratch, images, ARG-driven references, digests, and the one edit a
base-image swap makes (slimfile/analysis/from_images.py)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from slimfile.analysis import from_images as from_images_module
from slimfile.analysis.context import Context
from slimfile.analysis.from_images import descendants, final_chain, from_images, rewrite
from slimfile.engine import Settings
from slimfile.syntax import parse
from slimfile.syntax.edits import apply_edits


def entries(source: str):
    ctx = Context(parse(source.encode()), Settings())
    return ctx, from_images(ctx)


def swapped(source: str, index: int, new: str) -> str:
    _, found = entries(source)
    edit = rewrite(found[index], new)
    assert not isinstance(edit, str), edit
    return apply_edits(source.encode(), [edit]).decode()


def test_kinds_of_from():
    ctx, found = entries(
        "FROM python:3.11 AS base\nFROM base AS app\nFROM scratch\nFROM myorg/tool:1\nFROM ${UNSET}\nCOPY --from=app / /\n"
    )
    assert [e.kind for e in found] == ["image", "stage", "scratch", "image", "unresolved"]
    assert found[0].image.repository == "python" and found[3].image is None  # unknown images stay None
    assert found[1].base_stage is found[0].stage
    assert "no default" in found[4].problem


def test_the_edit_touches_the_image_word_only():
    source = "from  --platform=linux/amd64   python:3.11   as   Build\nRUN true\n"
    assert swapped(source, 0, "python:3.11-slim") == "from  --platform=linux/amd64   python:3.11-slim   as   Build\nRUN true\n"


def test_crlf_and_registry_prefix_are_kept():
    source = "FROM docker.io/library/node:18\r\nCMD [\"node\"]\r\n"
    assert swapped(source, 0, "docker.io/library/node:18-slim") == "FROM docker.io/library/node:18-slim\r\nCMD [\"node\"]\r\n"


def test_a_pinned_digest_is_reported_never_edited():
    _, found = entries("FROM python:3.11@sha256:0123abcd\n")
    assert found[0].image is not None and "pinned by digest" in found[0].problem
    assert isinstance(rewrite(found[0], "python:3.11-slim"), str)


def test_an_arg_driven_reference_edits_the_arg_default():
    source = 'ARG PY="3.11"\nFROM python:${PY}\nRUN true\n'
    _, found = entries(source)
    assert found[0].resolved == "python:3.11" and found[0].binding.name == "PY"
    assert swapped(source, 0, "python:3.11-slim") == 'ARG PY="3.11-slim"\nFROM python:${PY}\nRUN true\n'


def test_an_arg_that_is_part_of_the_tag():
    source = "ARG PY=3.11\nFROM python:$PY-bookworm\n"
    assert swapped(source, 0, "python:3.11-slim-bookworm") == "ARG PY=3.11-slim\nFROM python:$PY-bookworm\n"
    # node puts slim after the suite: changing ${V} alone cannot write it
    _, found = entries("ARG V=18\nFROM node:${V}-bookworm\n")
    assert "cannot be written" in rewrite(found[0], "node:18-bookworm-slim")


def test_an_arg_used_elsewhere_is_only_reported():
    _, found = entries("ARG PY=3.11\nFROM python:${PY}\nARG PY\nLABEL python=${PY}\n")
    assert "also used at line 4 (LABEL)" in found[0].problem
    _, found = entries("ARG PY=3.11\nFROM python:${PY} AS build\nFROM python:${PY}\n")
    assert "line 3 (FROM)" in found[0].problem and "line 2 (FROM)" in found[1].problem
    # declared again in a stage but never read there: not a use
    _, found = entries("ARG PY=3.11\nFROM python:${PY}\nARG PY\nRUN true\n")
    assert found[0].problem is None


def test_many_other_uses_are_counted_not_listed():
    # each stage's refusal names five other places and counts the rest (one walk of the file
    # finds them all: a file of thousands of such stages stays linear)
    stages = "".join(f"FROM python:${{PY}} AS s{i}\nARG PY\nLABEL v=${{PY}}\n" for i in range(8))
    _, found = entries("ARG PY=3.11\n" + stages)
    problem = found[0].problem
    assert problem == "ARG PY is also used at line 4 (LABEL), line 5 (FROM), line 7 (LABEL), line 8 (FROM), line 10 (LABEL) and 10 more places"
    assert "line 2 (FROM)" not in problem  # its own FROM is not another use
    assert found[3].problem.startswith("ARG PY is also used at line 2 (FROM), line 4 (LABEL), line 5 (FROM), line 7 (LABEL), line 8 (FROM) and 10 more")


def test_a_stage_named_through_an_arg_is_a_stage():
    ctx, found = entries("ARG BASE=builder\nFROM python:3.11 AS builder\nFROM ${BASE}\n")
    assert found[1].kind == "stage" and found[1].base_stage is found[0].stage
    assert [s.index for s in final_chain(ctx)] == [0, 1]


def test_descendants_and_the_final_chain():
    ctx, _ = entries("FROM python:3.11 AS base\nFROM base AS test\nFROM golang:1.21 AS go\nFROM base AS app\nFROM app\n")
    stages = ctx.stages.stages
    assert [s.index for s in descendants(ctx, stages[0])] == [1, 3, 4]
    assert [s.index for s in final_chain(ctx)] == [0, 3, 4]


def test_an_image_word_cut_by_a_continuation_is_not_edited():
    _, found = entries("FROM pyth\\\non:3.11\n")
    assert found[0].word is None and found[0].problem


ARG_WORDS = [
    "V", "V=debian:12", 'V="debian:12"', "V='a b'", "V=$X", "VX=1", "XV=2", '"V=3"', "W", "W=x", "V\t", "\\\n  V=4",
    'X="a V=1"', 'V="a"x', "V=", 'V=a"b', "V=V=1", "\tV=5", 'V=`x`', "V=a\\b", "W=V=6",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.sampled_from(ARG_WORDS), min_size=1, max_size=4), min_size=1, max_size=6))
def test_declarations_looked_up_by_name_are_the_scan(args):
    """The global ARGs indexed by the names they declare give the declaration the scan of every
    global ARG gave (the last ``NAME=value``, a value span only for a plain word)."""
    source = "".join(f"ARG {' '.join(words)}\n" for words in args) + "FROM $V\n"
    ctx = Context(parse(source.encode()), Settings())
    for name in ("V", "W", "X"):
        found: tuple = (None, None)
        pattern = re.compile(rb"(?:^|\s)" + re.escape(name.encode()) + rb"=(?:\"([^\"$\\`]*)\"|'([^'$\\`]*)'|([^\s\"'$\\`]*))(?=\s|$)")
        for node in ctx.stages.global_args:  # the scan
            segment = node.logical.text[node.args_start : node.args_end]
            match = pattern.search(segment)
            if match is None:
                if re.search(rb"(?:^|\s)" + re.escape(name.encode()) + rb"(?:=|\s|$)", segment):
                    found = (node, None)
                continue
            group = next(i for i in (1, 2, 3) if match.group(i) is not None)
            start, end = node.args_start + match.start(group), node.args_start + match.end(group)
            span = node.logical.source_span(start, end)
            found = (node, span if span[1] - span[0] == end - start else None)
        assert from_images_module._declaration(ctx, name) == found
