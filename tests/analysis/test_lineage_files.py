"""Where a file of an image came from at a point of the build, answered from per-stage indexes
(analysis/lineage_files.py, analysis/image_files.py) where it was a walk over every earlier
COPY or step: on random multi-stage files over one build context, each answer is the walk's."""

from __future__ import annotations

import posixpath
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slimfile.analysis import image_files, stage_tree
from slimfile.analysis.context import Context
from slimfile.analysis.lineage_files import FIELD_BITS, LineageFiles, copy_source, step_order
from slimfile.analysis.steps import stage_steps
from slimfile.engine import Settings
from slimfile.syntax.parser import parse
from tests.cli.conftest import write

CONTEXT = {
    "package.json": "{}",
    "package-lock.json": "{}",
    "web/package.json": "{}",
    "src/app.py": "",
    "src/lib/util.py": "",
    "scripts/run.sh": "#!/bin/sh\n",
    "requirements.txt": "flask\n",
}
LINES = [
    "WORKDIR /app",
    "WORKDIR /srv",
    "COPY package.json ./",
    "COPY package*.json ./",
    "COPY package.json /app",
    "COPY . .",
    "COPY web /app",
    "COPY src/ /app/src/",
    "COPY missing.txt /app/",
    "COPY missing /app/data",
    "COPY scripts/run.sh /usr/local/bin/",
    "COPY scripts/run.sh requirements.txt /app/",
    "COPY requirements.txt /app/req.txt",
    "COPY --from=s0 /app /app",
    "ADD src /opt/src",
    "RUN touch /app/package.json",
    "RUN mkdir -p /app/src/out",
    "RUN rm -rf /app",
    "RUN curl -o /usr/local/bin/run.sh https://example.com/run.sh",
    "RUN ./generate.sh",
    "RUN echo hi",
]
PATHS = [
    "/app/package.json",
    "/app/package-lock.json",
    "/app/src/app.py",
    "/app/src/lib/util.py",
    "/app/src/out",
    "/app/missing.txt",
    "/app/data/x",
    "/app/req.txt",
    "/app/requirements.txt",
    "/app/run.sh",
    "/usr/local/bin/run.sh",
    "/srv/package.json",
    "/opt/src/app.py",
    "/app",
]


@pytest.fixture(scope="module")
def context_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("context")
    write(directory, CONTEXT)
    return directory


@st.composite
def dockerfiles(draw) -> bytes:
    lines = []
    for index in range(draw(st.integers(1, 3))):
        base = draw(st.sampled_from(["node:20"] + [f"s{i}" for i in range(index)]))
        lines.append(f"FROM {base} AS s{index}")
        lines.extend(draw(st.lists(st.sampled_from(LINES), max_size=7)))
    return ("\n".join(lines) + "\n").encode()


def _parents(ctx: Context) -> dict[int, int | None]:
    return {s.index: (s.base_stage.index if s.base_stage is not None else None) for s in ctx.stages.stages}


def _lineage(parents: dict[int, int | None], index: int):
    current: int | None = index
    while current is not None:
        yield current
        current = parents[current]


def _walk(ctx: Context, parents, index: int):
    """(order, step) of the lineage's steps: the stage's own first, each stage in file order."""
    for member in _lineage(parents, index):
        for number, step in enumerate(stage_steps(ctx, ctx.stages.stages[member])):
            yield step_order(member, number), step


def _copies(ctx: Context, parents, index: int):
    """The lineage's COPY/ADD from the context, latest first (the walk the index replaced)."""
    found = [(at, s) for at, s in _walk(ctx, parents, index) if s.instruction.name in ("COPY", "ADD") and s.instruction.flag("from") is None]
    return sorted(found, key=lambda item: -item[0])


@settings(max_examples=200, deadline=None)
@given(dockerfiles(), st.randoms(use_true_random=False), st.booleans())
def test_lineage_answers_are_the_walks(context_dir, source, rng, any_parents):
    """With the file's own FROMs, and with any parent map (a base stage later in the file:
    the summed-up answers then give way to walks)."""
    ctx = Context(parse(source), Settings(build_context=str(context_dir)))
    parents = _parents(ctx)
    if any_parents:
        shuffled = [s.index for s in ctx.stages.stages]
        rng.shuffle(shuffled)
        parents = {index: (rng.choice(shuffled[:k]) if k and rng.random() < 0.8 else None) for k, index in enumerate(shuffled)}
    _assert_answers_are_the_walks(ctx, parents)


def _assert_answers_are_the_walks(ctx: Context, parents: dict[int, int | None]) -> None:
    files = LineageFiles(ctx, parents)
    for stage in ctx.stages.stages:
        copies = _copies(ctx, parents, stage.index)
        steps = list(_walk(ctx, parents, stage.index))
        orders = [at + 1 for at, _ in steps] + [step_order(stage.index, 0), 1 << 80]
        for path in PATHS:
            for order in orders:
                answers = [(at, *copy_source(ctx, s, path), s) for at, s in copies if at < order]
                found = next((f for _, f, _, _ in answers if f is not None), None)
                assert files.copied_from(stage.index, path, order) == found
                expected = next(((e, s) for _, _, e, s in answers if e is not None), None)
                assert files.expected_copy(stage.index, path, order) == expected
                written = any(at <= order and path in s.effects.writes for at, s in steps)
                assert files.written_by_build(stage.index, path, order) == written
                writer = next(
                    (s for at, s in steps if at < order and s.instruction.name in ("RUN", "COPY", "ADD")
                     and any(path == w or path.startswith(w.rstrip("/") + "/") for w in s.effects.writes)),
                    None,
                )
                assert files.writer(stage.index, path, order) is writer


@st.composite
def long_lineages(draw) -> bytes:
    """Up to 9 stages, most built FROM the one before or one near it (chains and branches),
    each with a few lines: the base stages that reach a path are found among the stages
    indexed under its keys, the others skipped."""
    lines = []
    for index in range(draw(st.integers(2, 9))):
        near = [f"s{i}" for i in range(max(index - 3, 0), index)]
        base = draw(st.sampled_from(near)) if near and draw(st.integers(0, 9)) else "node:20"
        lines.append(f"FROM {base} AS s{index}")
        lines.extend(draw(st.lists(st.sampled_from(LINES), max_size=3)))
    return ("\n".join(lines) + "\n").encode()


@settings(max_examples=60, deadline=None)
@given(source=long_lineages(), max_skipped=st.sampled_from([0, 1, 32]))
def test_lineage_answers_are_the_walks_on_long_lineages(context_dir, source, max_skipped):
    """Skipping the base stages that do not reach a path (and walking the lineage instead
    when many stages beside it use the path's keys) gives what walking every one gave."""
    kept = stage_tree.MAX_SKIPPED
    stage_tree.MAX_SKIPPED = max_skipped
    try:
        ctx = Context(parse(source), Settings(build_context=str(context_dir)))
        _assert_answers_are_the_walks(ctx, _parents(ctx))
    finally:
        stage_tree.MAX_SKIPPED = kept


@settings(max_examples=150, deadline=None)
@given(dockerfiles())
def test_origins_walked_backwards_are_the_forward_walk(context_dir, source):
    """The last step that changed a file decides its origin: walked backwards from the step,
    stopping at the first change, as the forward walk over every earlier step said."""
    ctx = Context(parse(source), Settings(build_context=str(context_dir)))
    for stage in ctx.stages.stages:
        chain = image_files.chain_steps(ctx, stage)
        for position, step in enumerate(chain):
            if not any(step.instruction is own for own in stage.instructions):
                continue  # a base stage's step
            expected = {path: image_files.ABSENT for path in PATHS}
            for earlier in chain[:position]:
                for path in PATHS:
                    change = image_files._file_change(ctx, earlier, path)
                    if change is not None:
                        expected[path] = change
            assert image_files.origins(ctx, stage, step.instruction, PATHS) == expected
            for folder in ("/app", "/app/src", "/usr/local/bin", "/opt"):
                tree = image_files.ABSENT
                for earlier in chain[:position]:
                    change = image_files._tree_change(ctx, earlier, folder)
                    if change is not None:
                        tree = change
                assert image_files.tree_origin(ctx, stage, step.instruction, folder) == tree


def test_points_of_the_build_keep_their_order_past_4096():
    """Step numbers and command indices past 4,096 (a long stage, a RUN of many commands in a
    generated file) stay below the next step and the next stage: they overflowed before."""
    limit = 1 << FIELD_BITS
    assert step_order(0, 5000) + 5000 < step_order(0, 5001) < step_order(1, 0)
    assert step_order(0, limit - 1) + limit - 1 < step_order(1, 0)
    assert step_order(70000, 0) > step_order(69999, limit - 1)


def test_a_script_copied_after_a_long_run_is_not_read_before_it(tmp_path: Path):
    """A COPY after a RUN of 5,000 commands is after all of them (with 12 bits per command,
    the RUN's last commands were numbered past the COPY and saw the script it brings)."""
    write(tmp_path, {"run.sh": "#!/bin/bash\necho hi\n"})
    run = " && ".join(["true"] * 5000 + ["./run.sh"])
    text = f"FROM debian:12\nWORKDIR /app\nRUN {run}\nCOPY run.sh ./\n"
    ctx = Context(parse(text.encode()), Settings(build_context=str(tmp_path)))
    files = LineageFiles(ctx, {0: None})
    assert files.copied_from(0, "/app/run.sh", step_order(0, 1) + 5000) is None
    assert files.copied_from(0, "/app/run.sh", step_order(0, 3)) == "run.sh"
    assert posixpath.basename(files.expected_copy(0, "/app/run.sh", step_order(0, 3))[0]) == "run.sh"


def test_a_folder_write_with_a_trailing_slash_does_not_write_the_file():
    """``w`` reaches ``path`` when it is the path or a folder above it (``/x/`` is the folder
    /x, not the file /x), whatever the effects write with a trailing slash."""
    from slimfile.analysis.lineage_files import _first_write_reaching, _StageIndex

    index = object.__new__(_StageIndex)
    index.writes_into = {}
    for at, written in ((1, "/app/x/"), (2, "/app/x"), (3, "/app"), (4, "/")):
        index._add_write(written, at, written)
    assert _first_write_reaching(index, "/app/x") == (2, "/app/x")
    assert _first_write_reaching(index, "/app/x/y") == (1, "/app/x/")
    assert _first_write_reaching(index, "/srv") == (4, "/")
