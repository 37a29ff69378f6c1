"""Run check or fix over many files: in a process pool for big runs, in order always.

One bad file never stops the others: its error is kept in its :class:`FileOutcome` and
reported, and the exit code says so.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from itertools import chain, islice

from slimfile.diagnostics import Finding
from slimfile.engine import FixResult, Settings, check_source, fix_source
from slimfile.files import STDIN, check_input, read_dockerfile, read_limited
from slimfile.gc_tuning import collector_paused, tune_garbage_collector
from slimfile.isolation import FileTimeout, blame, default_budget, internal_error, time_limit, timeout_error
from slimfile.signals import STOP_SIGNALS, stop_signals_raise
from slimfile.syntax.errors import DockerfileError

POOL_THRESHOLD = 16  # below this many files a process pool costs more than it saves
MAX_JOBS_PER_CPU = 4  # --jobs beyond this many workers per CPU are not started
CHUNK = 32  # jobs per task sent to a worker (about 0.1 s of work with the full pipeline)


@dataclass
class FileOutcome:
    path: str
    source: bytes = b""
    findings: list[Finding] | None = None  # check mode
    fix: FixResult | None = None  # fix and diff modes
    diff: bytes | None = None  # diff mode: the unified diff, made in the worker (in parallel)
    error: DockerfileError | None = None
    skipped: DockerfileError | None = None  # why a file found by walking was left alone
    unsafe_fixes: bool = False  # whether this file's settings allow unsafe fixes

    @property
    def changed(self) -> bool:
        return self.fix is not None and self.fix.changed


@dataclass(frozen=True)
class Job:
    path: str
    mode: str  # "check", "fix", or "diff" (fix, and render the unified diff too)
    settings: Settings
    stdin_data: bytes | None = None
    display_path: str | None = None
    explicit: bool = True  # named on the command line (a refusal is an error, not a skip)


def run_job(job: Job) -> FileOutcome:
    """Check or fix one file within its time budget; every failure becomes the outcome's error
    (a timeout and a bug in a pass included), never an exception."""
    name = job.display_path or job.path
    try:
        with time_limit(_budget(job)), collector_paused():
            return _process(job, name)
    except FileTimeout as exc:
        return _failed(job, timeout_error(exc, name))
    except DockerfileError as exc:
        if exc.path is None or exc.path == job.path:
            exc.path = name
        if getattr(exc, "skip_when_walked", False) and not job.explicit:
            return FileOutcome(name, skipped=exc)
        return _failed(job, exc)
    except RecursionError:
        return _failed(job, DockerfileError("input too deeply nested to analyse", path=name))
    except Exception as exc:  # a bug in a pass must cost one file, not the run
        return _failed(job, internal_error(exc, name))


def _failed(job: Job, error: DockerfileError) -> FileOutcome:
    """A failed job's outcome; standard input's keeps what was read, for ``fix -`` to give
    back unchanged (a filter that printed nothing would lose the text it was given)."""
    return FileOutcome(job.display_path or job.path, job.stdin_data or b"", error=error)


def _budget(job: Job) -> float | None:
    """The job's time budget: the one set, else the default for the file's size."""
    if not job.settings.timeout_by_size:
        return job.settings.timeout
    if job.stdin_data is not None:
        return default_budget(len(job.stdin_data))
    try:
        return default_budget(os.stat(job.path).st_size)
    except (OSError, ValueError):  # reading it will say what is wrong
        return default_budget(0)


def _process(job: Job, name: str) -> FileOutcome:
    if job.stdin_data is not None:
        source = job.stdin_data
        check_input(source, name)
    else:
        source = read_dockerfile(job.path)
    unsafe = job.settings.unsafe_fixes
    if job.mode == "check":
        return FileOutcome(name, source, findings=check_source(source, name, job.settings), unsafe_fixes=unsafe)
    result = fix_source(source, name, job.settings)
    diff = _diff(result, name) if job.mode == "diff" else None
    return FileOutcome(name, source, fix=result, diff=diff, unsafe_fixes=unsafe)


def _diff(result: FixResult, name: str) -> bytes:
    from slimfile.report.diff import fix_diff

    with blame("rendering the diff"):
        return fix_diff(result, name)


def _run_chunk(jobs: Sequence[Job]) -> list[FileOutcome]:
    return [run_job(job) for job in jobs]


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def worker_count(requested: int | None) -> tuple[int, str | None]:
    """The workers ``--jobs`` asks for, and a warning when they are more than are useful.

    The pool forks every worker at once (the ``fork`` start method), so ``--jobs 5000``
    forked 5,000 interpreters; checking is CPU-bound, so more than ``MAX_JOBS_PER_CPU`` per
    CPU only costs memory. Below 1 is a ValueError."""
    if requested is None:
        return default_jobs(), None
    if requested < 1:
        raise ValueError(f"--jobs must be at least 1 (got {requested}; the default is one per CPU)")
    most = MAX_JOBS_PER_CPU * default_jobs()
    if requested > most:
        return most, f"--jobs {requested} is more than {MAX_JOBS_PER_CPU} per CPU; {most} workers are used"
    return requested, None


def chunks(jobs: Iterable[Job], size: int = CHUNK) -> Iterator[list[Job]]:
    batch: list[Job] = []
    for job in jobs:
        batch.append(job)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def run_jobs(
    jobs: Iterable[Job],
    *,
    workers: int | None = None,
    on_done: Callable[[FileOutcome], None] | None = None,
    on_queued: Callable[[int], None] | None = None,
) -> list[FileOutcome]:
    """Results in the order of ``jobs``, whatever order the workers finish in.

    ``jobs`` may be lazy (discovery still walking the tree): jobs go to the workers as they
    come, so walking and checking overlap. ``on_queued(n)`` tells how many more jobs are known.
    """
    workers = default_jobs() if workers is None else workers
    iterator = iter(jobs)
    first = list(islice(iterator, POOL_THRESHOLD))
    if on_queued and first:
        on_queued(len(first))
    if workers <= 1 or len(first) < POOL_THRESHOLD:
        return _run_serially(chain(first, _announced(iterator, on_queued)), on_done)
    return _run_in_pool(chain(first, _announced(iterator, on_queued)), workers, on_done)


def _announced(jobs: Iterator[Job], on_queued: Callable[[int], None] | None) -> Iterator[Job]:
    for job in jobs:
        if on_queued:
            on_queued(1)
        yield job


def _run_serially(jobs: Iterable[Job], on_done) -> list[FileOutcome]:
    """In this process; SIGTERM/SIGHUP stop it as Ctrl-C does (one line, exit 143/129), not
    as Python's default (killed without a word)."""
    outcomes = []
    with stop_signals_raise():
        for job in jobs:
            outcome = run_job(job)
            if on_done:
                on_done(outcome)
            outcomes.append(outcome)
    return outcomes


def _run_in_pool(jobs: Iterable[Job], workers: int, on_done) -> list[FileOutcome]:
    """Chunks of CHUNK jobs per task: enough to amortise a round trip to the worker, few enough
    that the workers finish together and progress moves smoothly."""
    from concurrent.futures import ProcessPoolExecutor

    submitted: list[Job] = []
    outcomes: list[FileOutcome | None] = []
    crashed: list[int] = []
    pending: dict = {}

    def collect(done) -> None:
        for future in done:
            indices = pending.pop(future)
            try:
                results = future.result()
            except Exception:  # the worker died (a crash in native code, or killed): retry alone
                crashed.extend(indices)
                continue
            for i, outcome in zip(indices, results):
                outcomes[i] = outcome
                if on_done:
                    on_done(outcome)

    pool = ProcessPoolExecutor(max_workers=workers, initializer=_start_worker)
    try:
        with stop_signals_raise():  # SIGTERM/SIGHUP too: a dead parent left its workers running
            _feed(pool, jobs, submitted, outcomes, pending, collect)
    except BaseException:  # Ctrl-C or a stop signal: stop now, not after every file
        _stop(pool)
        raise
    pool.shutdown(wait=True)
    crashed.sort()
    for i, outcome in zip(crashed, _run_isolated([submitted[i] for i in crashed])):
        outcomes[i] = outcome
        if on_done:
            on_done(outcome)
    return [o for o in outcomes if o is not None]


def _feed(pool, jobs: Iterable[Job], submitted: list[Job], outcomes: list, pending: dict, collect) -> None:
    """Send chunks to the pool as discovery finds them, collecting what is done meanwhile."""
    from concurrent.futures import FIRST_COMPLETED, wait

    for batch in chunks(jobs):
        indices = range(len(submitted), len(submitted) + len(batch))
        submitted.extend(batch)
        outcomes.extend([None] * len(batch))
        pending[pool.submit(_run_chunk, batch)] = indices
        collect(wait(list(pending), timeout=0, return_when=FIRST_COMPLETED).done)
    while pending:
        collect(wait(list(pending), return_when=FIRST_COMPLETED).done)


def _start_worker() -> None:
    """A worker ignores Ctrl-C (the terminal sends it to the whole process group): the main
    process decides, and stops the workers. Left to them, each worker caught it as one chunk's
    error and went on with the next, and the run went on until every file was done. SIGTERM
    ends a worker at once (it inherited the parent's handler, which would only raise)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for stop in STOP_SIGNALS:
        signal.signal(stop, signal.SIG_DFL)
    tune_garbage_collector()


def _stop(pool) -> None:
    """Cancel what has not started and end the workers now, in the middle of their chunk (the
    pool has no public way to; a worker only ever writes its results back to this process)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())  # shutdown forgets them
    manager = getattr(pool, "_executor_manager_thread", None)  # and this
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=5)
    # the pool's manager thread notices the ended workers and closes its wake-up pipe; waited
    # for here, since at exit Python wakes that thread through the same pipe, and a close in
    # between printed "Exception ignored in: <module 'threading'>" after "error: interrupted"
    # (a race of concurrent.futures, cpython#109047)
    if manager is not None:
        manager.join(timeout=5)


def _run_isolated(jobs: Sequence[Job]) -> list[FileOutcome]:
    """Run jobs one at a time in a worker of their own, so a file that kills its worker process
    is reported as failed and every other file still gets its result."""
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    outcomes = []
    pool = None
    try:
        for job in jobs:
            pool = pool or ProcessPoolExecutor(max_workers=1)
            try:
                outcomes.append(pool.submit(run_job, job).result())
            except BrokenProcessPool:
                name = job.display_path or job.path
                outcomes.append(_failed(job, DockerfileError("the worker process crashed while processing this file", path=name)))
                pool.shutdown(wait=True)
                pool = None
            except Exception as exc:  # e.g. a result that cannot be sent back
                name = job.display_path or job.path
                outcomes.append(_failed(job, DockerfileError(f"internal error: {exc}", path=name)))
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    return outcomes


_stdin_read: list[bytes] = []  # what read_stdin took, for a run that stops before its job runs


def read_stdin() -> bytes:
    data = read_limited(sys.stdin.buffer)
    _stdin_read.append(data)
    return data


def stdin_read() -> bytes:
    """What :func:`read_stdin` has taken from standard input so far (empty before)."""
    return b"".join(_stdin_read)


def job_for(
    path: str, mode: str, settings: Settings, *, explicit: bool = True, stdin_filename: str | None = None
) -> Job:
    if path == STDIN:
        # the fixed text goes to stdout, and nothing else is written: fixes create no files
        settings = replace(settings, create_files=False)
        return Job(STDIN, mode, settings, stdin_data=read_stdin(), display_path=stdin_filename or STDIN)
    return Job(path, mode, settings, explicit=explicit)


def jobs_for(paths: Iterable[str], mode: str, settings: Settings, stdin_filename: str | None = None) -> list[Job]:
    return [job_for(path, mode, settings, stdin_filename=stdin_filename) for path in paths]
