"""Per-RUN questions answered from indexes built once per round (they were scans of every
earlier or later RUN, quadratic on generated files): each index gives what the scan gave, on
random multi-stage files."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from slimfile.analysis.context import Context
from slimfile.engine import Settings, check_source
from slimfile.passes import apk, apt, move_cleanup
from slimfile.passes.common import env_value, layers_are_reused, runs, stage_env
from slimfile.shell.data import load
from slimfile.syntax import parse
from slimfile.syntax.nodes import Instruction

LINES = [
    "RUN apt-get update",
    "RUN apt-get install -y curl",
    "RUN apt-get update && apt-get install -y gcc",
    "RUN apt-get install -y x && apt-get update",
    "RUN echo hi",
    "RUN apk add gcc musl-dev && gcc -o /x x.c",
    "RUN make",
    "RUN pip install flask",
    "ENV PIP_NO_CACHE_DIR=1",
    "ENV PIP_NO_CACHE_DIR=0 A=1",
    "ARG PIP_NO_CACHE_DIR",
    "ENV PIP_NO_CACHE_DIR yes",
    "ONBUILD RUN apt-get update",
    "COPY . /app",
]


@st.composite
def dockerfiles(draw) -> bytes:
    lines = []
    for index in range(draw(st.integers(1, 5))):
        base = draw(st.sampled_from(["debian:12", "alpine:3"] + [f"s{i}" for i in range(index)]))
        lines.append(f"FROM {base} AS s{index}")
        lines.extend(draw(st.lists(st.sampled_from(LINES), max_size=8)))
    return ("\n".join(lines) + "\n").encode()


def _lineage(info, other) -> bool:
    """``other`` runs on top of ``info``'s layer (the scan's own test)."""
    if other.stage is None or info.stage is None:
        return False
    stage = other.stage
    while stage is not None:
        if stage is info.stage:
            return True
        stage = stage.base_stage
    return False


@settings(max_examples=300, deadline=None)
@given(dockerfiles())
def test_apt_lists_timeline(source):
    ctx = Context(parse(source), Settings())
    infos = list(runs(ctx))
    timeline = apt._ListsTimeline(ctx, infos)
    for position, info in enumerate(infos):
        earlier_update = any(apt._runs_update(o) and _lineage(o, info) for o in infos[:position])
        assert timeline.update_before(position) == earlier_update
        needs = False
        for other in infos[position + 1 :]:
            if not _lineage(info, other):
                continue
            if apt._relies_on_earlier_lists(other):
                needs = True
                break
            if apt._runs_update(other):
                break
        assert timeline.later_install_needs_these_lists(position) == needs


@settings(max_examples=300, deadline=None)
@given(dockerfiles())
def test_env_value_and_base_stages_and_apk_build_runs(source):
    ctx = Context(parse(source), Settings())
    infos = list(runs(ctx))
    tools = set(load("apk")["build_commands"])
    for position, info in enumerate(infos):
        assert env_value(ctx, info.stage, info.outer, "PIP_NO_CACHE_DIR") == stage_env(ctx, info.stage, info.outer).get("PIP_NO_CACHE_DIR")
        built_later = any(o.stage is info.stage and any(c.name in tools for c in o.script.commands) for o in infos[position + 1 :])
        assert apk._needed_later(ctx, infos, position) == built_later
    for stage in ctx.stages.stages:
        scanned = stage.index in _final_chain(ctx) or any(o.base_stage is stage for o in ctx.stages.stages)
        assert layers_are_reused(ctx, stage) == scanned


def _final_chain(ctx) -> set[int]:
    chain, stage = set(), ctx.stages.stages[-1]
    while stage is not None:
        chain.add(stage.index)
        stage = stage.base_stage
    return chain


def test_stage_names_by_dict():
    model = parse(b"FROM a AS one\nFROM b AS One\nFROM one AS two\n").stages
    assert model.by_name("ONE") is model.stages[0]  # the first of a name, as buildkit
    assert model.stages[2].base_stage is model.stages[0]
    assert model.by_name("1") is model.stages[1] and model.by_name("nope") is None


def _cleanup_finding(distance: int) -> bool:
    source = b"FROM debian:12\nRUN mkdir /opt/build && make -C /opt/build\n" + b"RUN echo step\n" * distance
    source += b"RUN rm -rf /opt/build\n"
    return any(f.rule.code == "SF501" for f in check_source(source, "Dockerfile"))


def test_a_cleanup_finds_its_maker_within_the_lookback():
    """SF501 looks for the RUN that made the files among the MAX_LOOKBACK RUNs before the
    cleanup (an unbounded look was quadratic on generated files)."""
    assert _cleanup_finding(move_cleanup.MAX_LOOKBACK - 1)
    assert not _cleanup_finding(move_cleanup.MAX_LOOKBACK)


CLEANUP_LINES = [
    "RUN mkdir /opt/build && make -C /opt/build",
    "RUN mkdir -p /opt/build/sub /srv/cache",
    "RUN rm -rf /opt/build",
    "RUN rm -rf /opt/build /srv/cache",
    "RUN rm -rf /srv/cache/*",
    "RUN ls /opt",
    "RUN echo /opt/buildx",
    "RUN apt-get update && apt-get install -y gcc",
    "RUN apt-get install -y curl",
    "RUN rm -rf /var/lib/apt/lists/*",
    "RUN apt-get clean",
    "RUN pip install flask",
    "RUN pip cache purge",
    "RUN echo step",
    "USER app",
    "COPY . /opt/build",
]


@st.composite
def cleanup_files(draw) -> bytes:
    lines = []
    for index in range(draw(st.integers(1, 3))):
        lines.append(f"FROM debian:12 AS s{index}")
        lines.extend(draw(st.lists(st.sampled_from(CLEANUP_LINES), max_size=14)))
    return ("\n".join(lines) + "\n").encode()


def _scanned_between_is_safe(ctx, maker, cleaner, cleanup) -> bool:
    """The instructions between the two RUNs, one by one (what the prefix counts answer)."""
    items = ctx.dockerfile.items
    between = items[ctx.dockerfile.item_index(maker) + 1 : ctx.dockerfile.item_index(cleaner)]
    names = [node.name for node in between if isinstance(node, Instruction)]
    return not any(name in ("USER", "ONBUILD", "SHELL") or (cleanup.uses_home and name in ("ENV", "ARG")) for name in names)


def _scanned_maker(ctx, infos, position, cleanup):
    """SF501's walk back over the RUNs, one by one (what the index answers): over the whole
    stage for a cleanup of package managers' files alone, over the lookback for other paths."""
    cleanup_run = infos[position]
    roots = [move_cleanup._path_root(path).encode() for path in cleanup.paths]
    lookback = move_cleanup.MAX_LOOKBACK if cleanup.paths else position
    for earlier in range(position - 1, max(position - lookback, 0) - 1, -1):
        candidate = infos[earlier]
        if candidate.stage is not cleanup_run.stage:
            return None
        text = candidate.instruction.logical.text
        mentions_any = any(root in text for root in roots)
        if not cleanup.managers and not mentions_any:
            continue
        managers = {f.manager for f in candidate.script.packages}
        made = move_cleanup._made_by(candidate, cleanup, managers) and all(root in text for root in roots)
        if made and _scanned_between_is_safe(ctx, candidate.instruction, cleanup_run.instruction, cleanup):
            return candidate
        if cleanup.managers & managers or mentions_any:
            return None
    return None


@settings(max_examples=400, deadline=None)
@given(cleanup_files(), st.sampled_from([1, 2, 3, 64]))
def test_cleanup_maker_index(source, lookback):
    """The maker index (joined texts, positions per package manager) finds the RUN the walk
    back found, with the lookback window cut short to reach its edge."""
    original = move_cleanup.MAX_LOOKBACK
    move_cleanup.MAX_LOOKBACK = lookback
    try:
        ctx = Context(parse(source), Settings())
        infos = list(runs(ctx, include_onbuild=False))
        makers = move_cleanup._MakerIndex(infos)
        for position, info in enumerate(infos):
            cleanup = move_cleanup._cleanup_only(info.script)
            if cleanup is not None:
                found = move_cleanup._maker(ctx, makers, position, cleanup)
                assert found is _scanned_maker(ctx, infos, position, cleanup)
    finally:
        move_cleanup.MAX_LOOKBACK = original
