"""Run check or fix over many files: in a process pool for big runs, in order always.

One bad file never stops the others: its error is kept in its :class:`FileOutcome` and
reported, and the exit code says so.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from slimfile.diagnostics import Finding
from slimfile.engine import FixResult, Settings, check_source, fix_source
from slimfile.files import STDIN, check_not_binary, read_dockerfile
from slimfile.syntax.errors import DockerfileError

POOL_THRESHOLD = 16  # below this many files a process pool costs more than it saves


@dataclass
class FileOutcome:
    path: str
    source: bytes = b""
    findings: list[Finding] | None = None  # check mode
    fix: FixResult | None = None  # fix mode
    error: DockerfileError | None = None

    @property
    def changed(self) -> bool:
        return self.fix is not None and self.fix.changed


@dataclass(frozen=True)
class Job:
    path: str
    mode: str  # "check" or "fix"
    settings: Settings
    stdin_data: bytes | None = None
    display_path: str | None = None


def run_job(job: Job) -> FileOutcome:
    name = job.display_path or job.path
    try:
        if job.stdin_data is not None:
            source = job.stdin_data
            check_not_binary(source, name)
        else:
            source = read_dockerfile(job.path)
        if job.mode == "check":
            return FileOutcome(name, source, findings=check_source(source, name, job.settings))
        return FileOutcome(name, source, fix=fix_source(source, name, job.settings))
    except DockerfileError as exc:
        if exc.path is None or exc.path == job.path:
            exc.path = name
        return FileOutcome(name, error=exc)
    except RecursionError:
        return FileOutcome(name, error=DockerfileError("input too deeply nested to analyse", path=name))


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def run_jobs(
    jobs: Sequence[Job],
    *,
    workers: int | None = None,
    on_done: Callable[[FileOutcome], None] | None = None,
) -> list[FileOutcome]:
    """Results in the order of ``jobs``, whatever order the workers finish in."""
    workers = default_jobs() if workers is None else workers
    if workers <= 1 or len(jobs) < POOL_THRESHOLD:
        outcomes = []
        for job in jobs:
            outcome = run_job(job)
            if on_done:
                on_done(outcome)
            outcomes.append(outcome)
        return outcomes
    from concurrent.futures import ProcessPoolExecutor

    chunk = max(1, min(64, len(jobs) // (workers * 8) or 1))
    outcomes = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for outcome in pool.map(run_job, jobs, chunksize=chunk):
            if on_done:
                on_done(outcome)
            outcomes.append(outcome)
    return outcomes


def read_stdin() -> bytes:
    return sys.stdin.buffer.read()


def jobs_for(paths: Iterable[str], mode: str, settings: Settings, stdin_filename: str | None = None) -> list[Job]:
    jobs = []
    for path in paths:
        if path == STDIN:
            jobs.append(Job(STDIN, mode, settings, stdin_data=read_stdin(), display_path=stdin_filename or STDIN))
        else:
            jobs.append(Job(path, mode, settings))
    return jobs
