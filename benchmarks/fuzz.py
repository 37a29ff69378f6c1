"""Fuzz the passes: run the whole pipeline (``--unsafe-fixes``) on Dockerfiles written from the
grammar (``tests/passes/pipeline_strategy.py``) and judge every output as
``tests/passes/test_fuzz_pipeline.py`` does (no crash, re-parses, idempotent, no fix dropped by
the guard, comments and line endings kept, no repeated command, no new run of blanks).

Prints progress, the count of failures by kind (target: 0) and the first failing example of
each kind, minimized (lines, then words, removed while the same kind of failure remains).
Exits 1 when something failed.

    python benchmarks/fuzz.py [--examples 100000] [--seed 0] [--show 3] [--progress 1000] [--save DIR]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402

from tests.passes.output_checks import category, pipeline_problems  # noqa: E402
from tests.passes.pipeline_strategy import pipeline_dockerfiles  # noqa: E402


class Tally:
    def __init__(self, progress: int, save: Path | None = None) -> None:
        self.progress = progress
        self.save = save  # a folder for every failing input
        self.examples = 0
        self.unreadable = 0  # inputs slimfile refuses: not judged
        self.failed = 0
        self.kinds: Counter = Counter()
        self.first: dict[str, tuple[bytes, list[str]]] = {}
        self.started = time.monotonic()

    def record(self, source: bytes) -> None:
        problems = pipeline_problems(source)
        self.examples += 1
        if problems is None:
            self.unreadable += 1
        elif problems:
            self.failed += 1
            if self.save is not None:
                (self.save / f"failure-{self.failed:05d}.Dockerfile").write_bytes(source)
                (self.save / f"failure-{self.failed:05d}.txt").write_text("\n".join(problems) + "\n")
            for kind in sorted({category(p) for p in problems}):
                self.kinds[kind] += 1
                self.first.setdefault(kind, (source, problems))
        if self.examples % self.progress == 0:
            self.report_progress()

    def report_progress(self) -> None:
        elapsed = time.monotonic() - self.started
        print(f"{self.examples:>9,} examples  {self.examples / elapsed:6.1f}/s  failures: {self.failed}"
              f"  not read: {self.unreadable}", flush=True)


def run(examples: int, seed_value: int, progress: int, save: Path | None = None) -> Tally:
    tally = Tally(progress, save)

    @seed(seed_value)
    @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(pipeline_dockerfiles())
    def body(source: bytes) -> None:
        tally.record(source)

    body()
    return tally


# -- minimizing ------------------------------------------------------------------------------------


def minimize(source: bytes, kind: str, budget: int = 600) -> bytes:
    """Remove chunks of lines, then single words, while a failure of ``kind`` remains."""
    calls = [0]

    def fails(candidate: bytes) -> bool:
        calls[0] += 1
        if calls[0] > budget:
            return False
        problems = pipeline_problems(candidate)
        return bool(problems) and kind in {category(p) for p in problems}

    lines = _reduce(source.splitlines(keepends=True), lambda ls: fails(b"".join(ls)))
    for i in range(len(lines)):
        body = lines[i].rstrip(b"\r\n")
        eol = lines[i][len(body):]
        words = body.split(b" ")

        def line_fails(ws: list[bytes], i: int = i, eol: bytes = eol) -> bool:
            return fails(b"".join(lines[:i] + [b" ".join(ws) + eol] + lines[i + 1:]))

        lines[i] = b" ".join(_reduce(words, line_fails)) + eol
    return b"".join(lines)


def _reduce(items: list, fails: Callable[[list], bool]) -> list:
    """Delta debugging, simplified: drop ever smaller chunks while the failure stays."""
    chunk = max(len(items) // 2, 1)
    while chunk >= 1 and items:
        start = 0
        while start < len(items):
            candidate = items[:start] + items[start + chunk:]
            if candidate and fails(candidate):
                items = candidate
            else:
                start += chunk
        chunk //= 2
    return items


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--show", type=int, default=3, help="failing kinds to minimize and print")
    parser.add_argument("--progress", type=int, default=1000, help="print a line every N examples")
    parser.add_argument("--save", type=Path, help="write every failing input (and its problems) to this folder")
    args = parser.parse_args()
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
    print(f"fuzzing the pipeline: {args.examples:,} examples, seed {args.seed}", flush=True)
    tally = run(args.examples, args.seed, args.progress, args.save)
    elapsed = time.monotonic() - tally.started
    judged = tally.examples - tally.unreadable
    print(f"\n{tally.examples:,} examples in {elapsed:.0f} s ({tally.examples / elapsed:.1f}/s): "
          f"{judged:,} judged, {tally.unreadable:,} not read by slimfile, failures: {tally.failed}")
    for kind, count in tally.kinds.most_common():
        print(f"  {count:>7,}  {kind}")
    for kind, _ in tally.kinds.most_common(args.show):
        source, problems = tally.first[kind]
        small = minimize(source, kind)
        print(f"\n--- first failure of kind {kind!r}, minimized ({len(source)} -> {len(small)} bytes):")
        print(small.decode("utf-8", "replace"))
        print("problems:", *(pipeline_problems(small) or problems), sep="\n  ")
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main())
