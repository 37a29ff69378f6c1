"""Which build-context file an image path holds when a step runs (analysis/image_files.py)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from slimfile.analysis.context import Context
from slimfile.analysis.image_files import ABSENT, FromContext, Unknown, origins, tree_origin
from slimfile.engine import Settings
from slimfile.syntax.parser import parse
from tests.cli.conftest import write

FILES = {"package.json": "{}", "package-lock.json": "{}", "web/package.json": "{}", "node_modules/a/x.js": ""}


def at_last(tmp_path: Path, text: str, paths: list[str]):
    """Origins of ``paths`` when the last instruction of the last stage runs."""
    write(tmp_path, FILES)
    dockerfile = parse(text.encode())
    ctx = Context(dockerfile, Settings(build_context=str(tmp_path)))
    stage = dockerfile.stages.stages[-1]
    return ctx, stage, origins(ctx, stage, stage.instructions[-1], paths)


def test_named_files_a_glob_and_a_folder_copy(tmp_path: Path):
    _, _, found = at_last(tmp_path, "FROM node\nWORKDIR /app\nCOPY package*.json ./\nRUN true\n", ["/app/package.json", "/app/package-lock.json", "/app/x"])
    assert found == {"/app/package.json": FromContext("package.json", 3), "/app/package-lock.json": FromContext("package-lock.json", 3), "/app/x": ABSENT}
    _, _, found = at_last(tmp_path, "FROM node\nCOPY web /srv\nCOPY package.json /srv/root.json\nRUN true\n", ["/srv/package.json", "/srv/root.json"])
    assert found == {"/srv/package.json": FromContext("web/package.json", 2), "/srv/root.json": FromContext("package.json", 3)}
    # a file copied onto the WORKDIR without a trailing slash lands inside it
    _, _, found = at_last(tmp_path, "FROM node\nWORKDIR /app\nCOPY package.json /app\nRUN true\n", ["/app/package.json"])
    assert found["/app/package.json"] == FromContext("package.json", 3)


def test_a_later_copy_wins_and_base_stages_count(tmp_path: Path):
    text = "FROM node AS deps\nWORKDIR /app\nCOPY package.json ./\nFROM deps\nCOPY web/package.json ./\nRUN true\n"
    _, _, found = at_last(tmp_path, text, ["/app/package.json"])
    assert found["/app/package.json"] == FromContext("web/package.json", 5)


def test_unknown_writers(tmp_path: Path):
    _, _, found = at_last(tmp_path, "FROM node\nWORKDIR /app\nCOPY . .\nRUN rm package-lock.json\nRUN true\n", ["/app/package-lock.json"])
    assert found["/app/package-lock.json"] == Unknown("line 4 writes /app/package-lock.json")
    _, _, found = at_last(tmp_path, "FROM node\nWORKDIR /app\nCOPY --from=build /out/ ./\nRUN true\n", ["/app/package.json"])
    assert "another stage" in found["/app/package.json"].reason
    _, _, found = at_last(tmp_path, "FROM node\nWORKDIR /app\nCOPY . .\nRUN ./generate.sh\nRUN true\n", ["/app/package.json"])
    assert isinstance(found["/app/package.json"], Unknown)
    # a RUN that writes elsewhere changes nothing
    _, _, found = at_last(tmp_path, "FROM node\nWORKDIR /app\nCOPY . .\nRUN mkdir -p /app/logs\nRUN true\n", ["/app/package.json"])
    assert found["/app/package.json"] == FromContext("package.json", 3)


def test_dockerignore_and_folders(tmp_path: Path):
    write(tmp_path, {".dockerignore": "package-lock.json\n"})
    ctx, stage, found = at_last(tmp_path, "FROM node\nWORKDIR /app\nCOPY . .\nRUN true\n", ["/app/package-lock.json"])
    assert found["/app/package-lock.json"] == ABSENT
    assert tree_origin(ctx, stage, stage.instructions[-1], "/app/node_modules") == FromContext("node_modules", 3)
    assert tree_origin(ctx, stage, stage.instructions[-1], "/srv/node_modules") == ABSENT


def test_copy_flags_that_change_what_lands_where_make_it_unknown(tmp_path: Path):
    _, _, found = at_last(tmp_path, "FROM node\nWORKDIR /app\nCOPY --exclude=*.lock . .\nRUN true\n", ["/app/package.json"])
    assert "`--exclude`" in found["/app/package.json"].reason
    _, _, found = at_last(tmp_path, "FROM node\nWORKDIR /app\nCOPY --chown=node:node --chmod=644 package.json ./\nRUN true\n", ["/app/package.json"])
    assert found["/app/package.json"] == FromContext("package.json", 3)


def _walked(ctx, stage, before, paths, tree: bool):
    """The walk the writers' index replaced (every earlier step, latest first)."""
    from slimfile.analysis import image_files
    from slimfile.analysis.steps import stage_steps, step_index

    def steps_back():
        start, end = stage, None
        for member in stage.lineage():
            index = step_index(ctx, member).get(id(before))
            if index is not None:
                start, end = member, index
                break
        for member in start.lineage():
            steps = stage_steps(ctx, member)
            for i in range(len(steps) if end is None else end, 0, -1):
                yield steps[i - 1]
            end = None

    found = {}
    for path in paths:
        change = image_files._tree_change if tree else image_files._file_change
        found[path] = next((c for step in steps_back() if (c := change(ctx, step, path)) is not None), ABSENT)
    return found


_LINES = st.sampled_from(
    [
        "COPY . .", "COPY package.json ./", "COPY web /srv", "COPY web/package.json /app/", "COPY package*.json /app/",
        "COPY --from=base /app /app", "RUN rm -f /app/package.json", "RUN mkdir -p /app/logs /srv/x", "RUN ./gen.sh",
        "RUN npm install", "RUN cp -r /usr/lib/python3* /app/", "LABEL a=b", "WORKDIR /srv", "WORKDIR /app",
        "ADD https://example.com/x.tgz /app/", "RUN touch /app/node_modules/x", "COPY node_modules /app/node_modules",
        "FROM base AS next", "ENV D=/app", "COPY web $D/web", "RUN apt-get install -y curl", "COPY web /usr/src/linux-x",
        "ONBUILD RUN touch /app/x", "FROM node AS other",
    ]
)
_PATHS = ["/app/package.json", "/app/package-lock.json", "/srv/package.json", "/app/web/package.json", "/app/x", "/app/logs/a", "/usr/src/linux-x/package.json"]
_TREES = ["/app/node_modules", "/app", "/srv", "/app/logs", "/", "/usr/src", "/usr/src/linux-x"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_LINES, min_size=1, max_size=14))
def test_the_writers_index_answers_as_the_walk_over_every_step(tmp_path, lines):
    write(tmp_path, FILES)
    dockerfile = parse(("FROM node AS base\nWORKDIR /app\n" + "\n".join(lines) + "\nRUN true\n").encode())
    ctx = Context(dockerfile, Settings(build_context=str(tmp_path)))
    triggers = [i.inner for s in dockerfile.stages.stages for i in s.instructions if i.name == "ONBUILD" and i.inner is not None]
    for stage in dockerfile.stages.stages:
        for before in (*stage.instructions, dockerfile.stages.stages[0].instructions[-1], *triggers):
            assert origins(ctx, stage, before, _PATHS) == _walked(ctx, stage, before, _PATHS, tree=False), lines
            for folder in _TREES:
                assert tree_origin(ctx, stage, before, folder) == _walked(ctx, stage, before, [folder], tree=True)[folder], (lines, folder)


@st.composite
def _lineages(draw) -> str:
    """Up to 8 stages, each FROM one of the three before it or an image, with a few lines."""
    lines = ["FROM node AS s0", "WORKDIR /app"]
    for index in range(1, draw(st.integers(2, 8))):
        near = [f"s{i}" for i in range(max(index - 3, 0), index)]
        lines.append(f"FROM {draw(st.sampled_from(near)) if draw(st.integers(0, 9)) else 'node'} AS s{index}")
        lines.extend(line for line in draw(st.lists(_LINES, max_size=3)) if not line.startswith("FROM"))
    return "\n".join(lines) + "\nRUN true\n"


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_lineages(), st.sampled_from([0, 1, 32]))
def test_base_stages_that_write_nothing_there_are_skipped_as_the_walk_meets_them(tmp_path, text, max_skipped):
    """From a stage straight to the nearest base stage whose writers answer for the path (the
    stages beside the lineage told apart, or the lineage walked when many write there): the
    answers of the walk over every step of every base stage."""
    from slimfile.analysis import stage_tree

    write(tmp_path, FILES)
    kept = stage_tree.MAX_SKIPPED
    stage_tree.MAX_SKIPPED = max_skipped
    try:
        dockerfile = parse(text.encode())
        ctx = Context(dockerfile, Settings(build_context=str(tmp_path)))
        for stage in dockerfile.stages.stages:
            for before in stage.instructions:
                assert origins(ctx, stage, before, _PATHS) == _walked(ctx, stage, before, _PATHS, tree=False), text
                for folder in _TREES:
                    assert tree_origin(ctx, stage, before, folder) == _walked(ctx, stage, before, [folder], tree=True)[folder], (text, folder)
    finally:
        stage_tree.MAX_SKIPPED = kept


def test_steps_with_the_same_writes_are_indexed_from_one_set_of_keys(tmp_path, monkeypatch):
    """Every apt install writes the same few dozen system paths: the writers' index and the
    lineage's first writers made their keys for each install again (5,000 apt RUNs before
    5,000 yarn installs: 3.8 s of a profiled 27 s `fix --diff`); once per set of writes now,
    with the same answers."""
    from slimfile.analysis import image_files, lineage_files

    keys, first_writes = [], []
    real_keys, real_add = image_files._index_keys, lineage_files._StageIndex._add_write
    monkeypatch.setattr(image_files, "_index_keys", lambda writes: keys.append(writes) or real_keys(writes))
    monkeypatch.setattr(lineage_files._StageIndex, "_add_write", lambda self, *a: first_writes.append(a) or real_add(self, *a))
    write(tmp_path, FILES)
    installs = "".join(f"RUN apt-get install -y q{i}\n" for i in range(50))
    dockerfile = parse(f"FROM node\nWORKDIR /app\n{installs}COPY . .\nRUN apt-get install -y q\n".encode())
    ctx = Context(dockerfile, Settings(build_context=str(tmp_path)))
    stage = dockerfile.stages.stages[0]
    found = origins(ctx, stage, stage.instructions[-1], ["/app/package.json", "/usr/lib/x/y"])
    assert isinstance(found["/app/package.json"], FromContext) and found["/app/package.json"].context_path == "package.json"
    assert found["/usr/lib/x/y"] != ABSENT  # the apt installs may have written it
    assert len(keys) == len({s.effects.writes for s in image_files.stage_steps(ctx, stage) if s.instruction.name in ("RUN", "COPY")}) < 5
    assert lineage_files.LineageFiles(ctx, {0: None}).copied_from(0, "/app/package.json", 10**9) == "package.json"
    assert 0 < len(first_writes) < 100  # the first install's writes and the copy's


def test_a_question_at_a_trigger_looks_up_no_lineage(tmp_path, monkeypatch):
    """A question asked at an ONBUILD trigger's RUN (no step of any stage) walked the whole
    lineage looking for the stage that holds it: a chain of n stages, each asking there, cost
    n x n. It is looked up by the instruction now."""
    from slimfile.analysis import image_files

    chain = "".join(f"FROM s{k - 1} AS s{k}\nONBUILD RUN cat /app/package.json\n" for k in range(1, 60))
    write(tmp_path, FILES)
    dockerfile = parse(f"FROM node AS s0\nWORKDIR /app\nCOPY . .\n{chain}".encode())
    ctx = Context(dockerfile, Settings(build_context=str(tmp_path)))
    looked = []
    real = image_files.step_index
    monkeypatch.setattr(image_files, "step_index", lambda ctx, stage: looked.append(stage.index) or real(ctx, stage))
    last = dockerfile.stages.stages[-1]
    found = origins(ctx, last, last.instructions[-1].inner, ["/app/package.json"])
    assert isinstance(found["/app/package.json"], FromContext)
    assert len(looked) <= 1
