"""Parse speed over the shared corpus: files per second, and the median time for the largest
file (target: under 2 ms per 300-line file). Prints figures; asserts nothing.

    python benchmarks/parse.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from slimfile.syntax import parse  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "files"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args()
    files = [p.read_bytes() for p in sorted(args.corpus.iterdir()) if p.is_file()]
    total_lines = sum(f.count(b"\n") + 1 for f in files)
    for data in files:  # warm-up
        parse(data)
    rounds = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        for data in files:
            parse(data)
        rounds.append(time.perf_counter() - start)
    best = min(rounds)
    median = statistics.median(rounds)
    print(f"corpus: {len(files)} files, {total_lines} lines, {args.repeat} rounds")
    print(f"  files/s (median round): {len(files) / median:,.0f}   (best round: {len(files) / best:,.0f})")
    print(f"  lines/s (median round): {total_lines / median:,.0f}")
    largest = max(files, key=len)
    lines = largest.count(b"\n") + 1
    times = []
    for _ in range(max(50, args.repeat * 5)):
        start = time.perf_counter()
        parse(largest)
        times.append(time.perf_counter() - start)
    per_file = statistics.median(times) * 1000
    print(f"largest file: {lines} lines, {len(largest):,} bytes")
    print(f"  median parse time: {per_file:.2f} ms  ->  {per_file * 300 / lines:.2f} ms per 300 lines (target < 2 ms)")


if __name__ == "__main__":
    main()
