"""Garbage-collector settings for slimfile's own processes (the CLI and its workers).

A run allocates millions of small objects that live as long as one file's analysis, while the
results it keeps only grow: with Python's default thresholds the cycle collector rescans that
heap thousands of times, 5-8% of a monorepo ``fix``. Its young generation is collected far
less often here. Measured with ``benchmarks/bulk.py`` (docs/benchmarks.md).
"""

from __future__ import annotations

import gc

THRESHOLDS = (100_000, 50, 100)


def tune_garbage_collector() -> None:
    """Freeze what exists now (modules, rules, data tables: never garbage) and raise the
    collection thresholds. A process-wide choice: made by the ``slimfile`` program at start
    and by each worker process, never by library calls (a host program keeps its own)."""
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
