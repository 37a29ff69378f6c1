"""Microseconds per RUN for the shell model over the shared corpus.

    python benchmarks/shell.py [--repeat N] [DIR ...]

Prints the median and mean time per RUN for three steps: tree-sitter parsing of the script
alone, the command model (``analyze_run``: script text, parse, walk, ``set -e``), and the model
plus every fact (packages, cleanups, state changes, exits). Each RUN is timed ``--repeat``
times and its fastest run is kept, which removes most scheduling noise. Figures only: no test
asserts on time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from slimfile.shell.analyze import analyze_run  # noqa: E402
from slimfile.shell.interpreter import run_shells  # noqa: E402
from slimfile.shell.model import ShellScript  # noqa: E402
from slimfile.shell.parse import ts_parser  # noqa: E402
from slimfile.syntax import parse  # noqa: E402

DEFAULT_DIRS = [ROOT.parent / "shared" / "corpus" / "files"]


def corpus_runs(directories: list[Path]):
    """(dockerfile, instruction, shells) for every RUN of every file."""
    for directory in directories:
        for path in sorted(p for p in directory.iterdir() if p.is_file()):
            try:
                dockerfile = parse(path.read_bytes(), path=str(path))
            except Exception:
                continue
            shells = run_shells(dockerfile)
            for instruction in dockerfile.walk():
                if instruction.name == "RUN":
                    yield dockerfile, instruction, shells


def best_of(repeat: int, work) -> float:
    """Fastest of ``repeat`` runs of ``work()``, in microseconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter_ns()
        work()
        best = min(best, time.perf_counter_ns() - start)
    return best / 1000


def model_only(dockerfile, instruction, shells):
    return analyze_run(dockerfile, instruction, shells)


def model_and_facts(dockerfile, instruction, shells):
    result = analyze_run(dockerfile, instruction, shells)
    return result.packages, result.cleanups, result.state_changes, result.exits


def report(name: str, times: list[float]) -> None:
    print(f"{name:<28} median {statistics.median(times):8.1f} µs   mean {statistics.fmean(times):8.1f} µs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dirs", nargs="*", type=Path, default=DEFAULT_DIRS)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    runs = list(corpus_runs(args.dirs))
    modelled = [r for r in runs if isinstance(model_only(*r), ShellScript)]
    ts = ts_parser()
    tree_sitter_times = [best_of(args.repeat, lambda r=r: ts.parse(r[1].args)) for r in modelled]
    model_times = [best_of(args.repeat, lambda r=r: model_only(*r)) for r in modelled]
    fact_times = [best_of(args.repeat, lambda r=r: model_and_facts(*r)) for r in modelled]
    commands = sum(len(model_only(*r).commands) for r in modelled)
    print(f"{len(runs)} RUNs, {len(modelled)} modelled (the rest opaque), {commands} commands")
    report("tree-sitter parse of args", tree_sitter_times)
    report("parse (command model)", model_times)
    report("parse + facts", fact_times)


if __name__ == "__main__":
    main()
