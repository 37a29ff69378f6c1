"""The cycle collector pauses while one file is processed (``slimfile/gc_tuning.py``): that is
only sound while the pipeline makes no reference cycles, so reference counting frees each
round's model. These tests hold the pipeline to that on the in-repository corpus sample and
on every generated shape of ``benchmarks/scaling.py``, and pin when the collector pauses."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from benchmarks.scaling import SHAPES, write_case
from slimfile import gc_tuning, runner
from slimfile.engine import Settings, check_source, fix_source
from slimfile.runner import Job, run_job
from slimfile.syntax.errors import DockerfileError
from tests.conftest import corpus_sample

UNSAFE = Settings(unsafe_fixes=True)


def cyclic_garbage(work: Callable[[], object]) -> list[str]:
    """Run ``work`` twice (the first run loads modules, data tables and caches, which may be
    cyclic), then the type names of what only the cycle collector could free after the second."""
    work()
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        work()
        gc.collect()
        found = [type(o).__qualname__ for o in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was_enabled:
            gc.enable()
    return found


def whole_pipeline(source: bytes, path: str) -> Callable[[], None]:
    def work() -> None:
        try:
            fix_source(source, path, UNSAFE)
            check_source(source, path, UNSAFE)
        except DockerfileError:
            pass

    return work


@pytest.mark.parametrize("path", corpus_sample(), ids=lambda p: p.name)
def test_the_pipeline_makes_no_reference_cycles_on_real_files(path: Path):
    garbage = cyclic_garbage(whole_pipeline(path.read_bytes(), str(path)))
    assert not garbage, f"{path.name}: {len(garbage)} objects left to the cycle collector, e.g. {sorted(set(garbage))[:8]}"


@pytest.mark.parametrize("shape", list(SHAPES))
def test_the_pipeline_makes_no_reference_cycles_on_generated_shapes(shape: str, tmp_path: Path):
    path = write_case(tmp_path, shape, SHAPES[shape][0](120), 120)
    garbage = cyclic_garbage(whole_pipeline(path.read_bytes(), str(path)))
    assert not garbage, f"{shape}: {len(garbage)} objects left to the cycle collector, e.g. {sorted(set(garbage))[:8]}"


@pytest.fixture
def collector_state() -> Iterator[None]:
    """Restore the collector and the module's flag, whatever a test does to them."""
    tuned, enabled = gc_tuning._tuned, gc.isenabled()
    yield
    gc_tuning._tuned = tuned
    (gc.enable if enabled else gc.disable)()


def test_a_tuned_process_pauses_the_collector_for_one_file_and_restarts_it(collector_state):
    gc_tuning._tuned = True
    gc.enable()
    with gc_tuning.collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(KeyError), gc_tuning.collector_paused():
        raise KeyError("a bug in a pass")
    assert gc.isenabled()


def test_a_host_program_keeps_its_collector_as_it_set_it(collector_state):
    gc_tuning._tuned = False  # the library is called by another program
    gc.enable()
    with gc_tuning.collector_paused():
        assert gc.isenabled()
    gc_tuning._tuned = True
    gc.disable()  # the host turned it off itself: slimfile must not turn it back on
    with gc_tuning.collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_each_job_runs_with_the_collector_paused(collector_state, monkeypatch, tmp_path: Path):
    seen = []
    process = runner._process

    def recording(job, name):
        seen.append(gc.isenabled())
        return process(job, name)

    monkeypatch.setattr(runner, "_process", recording)
    gc_tuning._tuned = True
    gc.enable()
    path = tmp_path / "Dockerfile"
    path.write_bytes(b"FROM debian:12\nRUN echo 1\nRUN echo 2\n")
    for mode in ("check", "fix", "diff"):
        assert run_job(Job(str(path), mode, Settings())).error is None
    assert seen == [False, False, False]
    assert gc.isenabled()
