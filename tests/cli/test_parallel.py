"""Parallel runs: the same output in the same order whatever the number of workers, one bad
file (even one that kills its worker process) never stops the others, progress and summary."""

from __future__ import annotations

import io
import os

import pytest

import slimfile.engine
from slimfile.commands import PROGRESS_MIN_FILES, ProgressDisplay, show_progress
from slimfile.engine import Settings
from slimfile.runner import CHUNK, POOL_THRESHOLD, Job, chunks, run_jobs
from tests.cli.conftest import write
from tests.report import sample_pass

VARIANTS = [
    "FROM debian\nRUN apt-get install -y curl\n",
    "FROM x\nADD a /a\nRUN sudo ls\n",
    "FROM x\nRUN pip install flask\n",
    "FROM scratch\n",
    "FROM x\nRUN <<EOF\nno terminator\n",  # a parse error
]


@pytest.fixture
def monorepo(tmp_path):
    files = {
        f"svc{i:03d}/{'Dockerfile' if i % 3 else 'app.Dockerfile'}": VARIANTS[i % len(VARIANTS)] for i in range(60)
    }
    write(tmp_path, files)
    return tmp_path


@pytest.mark.usefixtures("sample_rules")
@pytest.mark.parametrize("args", [("check",), ("check", "-o", "sarif"), ("check", "-o", "markdown"), ("fix", "--diff")])
def test_output_is_identical_with_one_or_two_workers(cli, monorepo, args):
    serial = cli(*args, "--jobs", "1", ".", cwd=monorepo)
    parallel = cli(*args, "--jobs", "2", ".", cwd=monorepo)
    assert serial.exit_code == parallel.exit_code == 2  # the parse errors
    assert parallel.stdout == serial.stdout
    assert parallel.stderr == serial.stderr
    assert serial.stdout  # there was something to compare


@pytest.mark.usefixtures("sample_rules")
def test_fix_summary(cli, monorepo):
    result = cli("fix", "--jobs", "2", ".", cwd=monorepo)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    summary = lines[lines.index("60 files seen: 24 changed, 12 failed.") :]
    assert summary == [
        "60 files seen: 24 changed, 12 failed.",
        "Fixed 24 findings (24 remaining):",
        "  XT101 apt-install-recommends     12",
        "  XT102 add-local-path             12",
        "Estimated savings (measure with `slimfile verify`):",
        "  XT101 apt-install-recommends: ~20 MB x12",
        "(12 hidden fixes can be enabled with the `--unsafe-fixes` option.)",
    ]


def _crash_in_worker(parent: int):
    def check(ctx):
        if b"CRASH" in ctx.source:
            if os.getpid() == parent:
                raise AssertionError("the crashing file must run in a worker process")
            os._exit(3)  # what a segfault in native code looks like to the pool
        if b"BUG" in ctx.source:
            raise KeyError("a bug in a pass")
        yield from sample_pass.check(ctx)

    return check


def test_a_file_that_kills_its_worker_only_fails_itself(tmp_path, monkeypatch):
    crashing_pass = _crash_in_worker(os.getpid())
    monkeypatch.setattr(slimfile.engine, "default_passes", lambda: (crashing_pass,))
    sources = ["FROM x\nRUN sudo ls\n"] * 40
    sources[7] = "FROM x\n# CRASH\n"
    sources[20] = "FROM x\n# BUG\n"
    write(tmp_path, {f"d{i:02d}/Dockerfile": s for i, s in enumerate(sources)})
    jobs = [Job(str(tmp_path / f"d{i:02d}/Dockerfile"), "check", Settings()) for i in range(40)]
    outcomes = run_jobs(jobs, workers=2)
    assert [o.path for o in outcomes] == [j.path for j in jobs]
    failed = {i: str(o.error) for i, o in enumerate(outcomes) if o.error is not None}
    assert sorted(failed) == [7, 20]
    assert "the worker process crashed while processing this file" in failed[7]
    assert "internal error in pass test_parallel: KeyError: 'a bug in a pass'" in failed[20]
    assert all(len(o.findings) == 1 for i, o in enumerate(outcomes) if i not in failed)


def test_progress_only_on_a_terminal_and_for_long_runs():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert show_progress(PROGRESS_MIN_FILES, Terminal())
    assert not show_progress(PROGRESS_MIN_FILES - 1, Terminal())
    assert not show_progress(10_000, io.StringIO())


def test_progress_bar_starts_once_enough_files_are_known():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    progress = ProgressDisplay(stream)
    progress.queued(PROGRESS_MIN_FILES - 1)
    assert progress.bar is None
    progress.done(None)
    progress.queued(1)
    assert progress.bar is not None
    for _ in range(PROGRESS_MIN_FILES - 1):
        progress.done(None)
    progress.stop()
    task = progress.bar.tasks[0]
    assert (task.total, task.completed) == (PROGRESS_MIN_FILES, PROGRESS_MIN_FILES)
    assert "slimfile" in stream.getvalue()


def test_chunks():
    jobs = [Job(str(i), "check", Settings()) for i in range(2 * CHUNK + 1)]
    assert [len(c) for c in chunks(iter(jobs))] == [CHUNK, CHUNK, 1]


@pytest.mark.parametrize("workers", [1, 2])
def test_lazy_jobs_are_announced_and_kept_in_order(tmp_path, workers):
    write(tmp_path, {f"d{i:03d}/Dockerfile": "FROM scratch\n" for i in range(100)})
    queued = []
    done = []
    lazy = (Job(str(tmp_path / f"d{i:03d}/Dockerfile"), "check", Settings()) for i in range(100))
    outcomes = run_jobs(lazy, workers=workers, on_queued=queued.append, on_done=done.append)
    assert sum(queued) == len(done) == 100 >= POOL_THRESHOLD
    assert [o.path for o in outcomes] == [str(tmp_path / f"d{i:03d}/Dockerfile") for i in range(100)]


@pytest.mark.usefixtures("sample_rules")
def test_jobs_below_one_is_an_error(cli, monorepo):
    for jobs in ("0", "-3"):
        result = cli("check", "--jobs", jobs, ".", cwd=monorepo)
        assert result.exit_code == 2
        assert result.stderr == f"error: --jobs must be at least 1 (got {jobs}; the default is one per CPU)\n"
        assert not result.stdout


@pytest.mark.usefixtures("sample_rules")
def test_jobs_far_beyond_the_cpus_start_only_four_workers_per_cpu(cli, monorepo, monkeypatch):
    """The pool forks all its workers at once: --jobs 5000 forked 5,000 interpreters."""
    import concurrent.futures

    import slimfile.runner

    started = []
    real = concurrent.futures.ProcessPoolExecutor

    def counting(max_workers, **kwargs):
        started.append(max_workers)
        return real(max_workers=max_workers, **kwargs)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", counting)
    monkeypatch.setattr(slimfile.runner, "default_jobs", lambda: 2)
    result = cli("check", "--jobs", "5000", ".", cwd=monorepo)
    assert started == [8]
    assert result.stderr.startswith("warning: --jobs 5000 is more than 4 per CPU; 8 workers are used\n")
    assert result.stdout == cli("check", "--jobs", "1", ".", cwd=monorepo).stdout
