"""Garbage-collector settings for slimfile's own processes (the CLI and its workers).

A run allocates millions of small objects that live as long as one file's analysis, while the
results it keeps only grow: with Python's default thresholds the cycle collector rescans that
heap thousands of times, 5-8% of a monorepo ``fix``. Its young generation is collected far
less often here. Measured with ``benchmarks/bulk.py`` (docs/benchmarks.md).

While one file is checked or fixed the collector does not run at all: the pipeline makes no
reference cycles (each round's facts are released with
:meth:`~slimfile.analysis.context.Context.release`; ``tests/test_gc.py`` holds it to that), so
reference counting frees everything, and a collection could only rescan the file's live model:
10-15% of ``fix`` on a long file. It runs again between files.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

THRESHOLDS = (100_000, 50, 100)

_tuned = False  # set by tune_garbage_collector: only slimfile's own processes pause the collector


def tune_garbage_collector() -> None:
    """Freeze what exists now (modules, rules, data tables: never garbage) and raise the
    collection thresholds. A process-wide choice: made by the ``slimfile`` program at start
    and by each worker process, never by library calls (a host program keeps its own)."""
    global _tuned
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
    _tuned = True


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cycle collection while one file is processed, in a process that was tuned (a host
    program that calls the library keeps its collector as it set it)."""
    if not _tuned or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
