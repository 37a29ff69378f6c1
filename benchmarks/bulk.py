"""Monorepo benchmark: ``slimfile check`` and ``slimfile fix --diff`` against ``hadolint``.

Builds a monorepo of N Dockerfiles (10,000 by default) in a temporary directory by copying the
shared corpus round-robin (``teamNNN/svcNNNNN/<name>``), then times, from a cold process each
time (wall time, and CPU time of all processes: on a busy machine wall times swing, CPU times
much less):

- ``slimfile check .`` and ``slimfile fix --diff .`` (discovery included, all CPUs);
- ``hadolint`` on the same files, serially (one process at a time, as ``hadolint FILE...``
  runs) and with as many concurrent processes as slimfile has workers (the fair comparison).

Usage: python benchmarks/bulk.py [--files 10000] [--repeat 3] [--jobs N] [--skip-hadolint]
Results are recorded in docs/benchmarks.md (section "Bulk").
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from slimfile.files import is_dockerfile_name  # noqa: E402

CORPUS = Path(os.environ.get("SLIMFILE_SHARED", ROOT.parent / "shared")) / "corpus" / "files"
HADOLINT_BATCH = 500  # files per hadolint process (keeps command lines far below ARG_MAX)


def build_monorepo(root: Path, count: int) -> list[Path]:
    """Copy corpus files round-robin into ``root``; returns the files in creation order."""
    sources = sorted(p for p in CORPUS.iterdir() if p.is_file() and p.name != "NOTICE")
    files = []
    for i in range(count):
        source = sources[i % len(sources)]
        original = source.name.rsplit("__", 1)[-1]
        name = original if is_dockerfile_name(original) else "Dockerfile"
        target = root / f"team{i // 100:03d}" / f"svc{i:05d}" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        files.append(target)
    (root / ".gitignore").write_text("*.tmp\n")
    return files


@dataclass(frozen=True, order=True)
class Timing:
    wall: float  # seconds, what a user waits
    cpu: float  # user + system seconds of every process involved (robust to a busy machine)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(run) -> Timing:
    cpu, start = children_cpu(), time.perf_counter()
    run()
    return Timing(time.perf_counter() - start, children_cpu() - cpu)


def timed(command: list[str], cwd: Path) -> Timing:
    """Time a slimfile run; a run that failed (exit 2, a traceback) would time nothing useful."""
    results = []
    timing = measure(
        lambda: results.append(subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    )
    if results[0].returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed ({results[0].returncode}):\n{results[0].stderr.decode()[-2000:]}")
    return timing


def best_of(repeat: int, run) -> Timing:
    return min(run() for _ in range(repeat))


def slimfile_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "slimfile", *args]


def hadolint_batches(files: list[Path]) -> list[list[str]]:
    names = [str(f) for f in files]
    return [names[i : i + HADOLINT_BATCH] for i in range(0, len(names), HADOLINT_BATCH)]


def run_hadolint(files: list[Path], processes: int, cwd: Path) -> Timing:
    """hadolint over every file with ``processes`` concurrent hadolint processes."""
    batches = hadolint_batches(files)
    command = [shutil.which("hadolint") or "hadolint", "--no-fail", "--no-color"]

    def lint(batch: list[str]) -> None:
        subprocess.run(command + batch, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def run() -> None:
        with ThreadPoolExecutor(max_workers=processes) as pool:
            list(pool.map(lint, batches))

    return measure(run)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="slimfile runs per measurement (best is kept)")
    parser.add_argument("--jobs", type=int, default=None, help="slimfile workers (default: all CPUs)")
    parser.add_argument("--skip-hadolint", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the generated monorepo")
    args = parser.parse_args()
    workers = args.jobs or len(os.sched_getaffinity(0))
    env_note = f"{args.files} files, {workers} slimfile workers, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}"

    tmp = Path(tempfile.mkdtemp(prefix="slimfile-bulk-"))
    try:
        files = build_monorepo(tmp, args.files)
        total_bytes = sum(f.stat().st_size for f in files)
        print(f"monorepo: {tmp} ({len(files)} files, {total_bytes / 1e6:.1f} MB); {env_note}")
        os.environ["PYTHONPATH"] = str(ROOT)
        jobs = ["--jobs", str(workers)]
        results: dict[str, Timing] = {}
        results["slimfile check"] = best_of(
            args.repeat, lambda: timed(slimfile_command("check", "-q", *jobs, "."), tmp)
        )
        results["slimfile fix --diff"] = best_of(
            args.repeat, lambda: timed(slimfile_command("fix", "--diff", "-q", *jobs, "."), tmp)
        )
        if not args.skip_hadolint:
            results["hadolint (1 process)"] = run_hadolint(files, 1, tmp)
            results[f"hadolint ({workers} processes)"] = run_hadolint(files, workers, tmp)
        print(f"\n{'command':<28}{'wall s':>9}{'CPU s':>9}{'files/s':>9}")
        for name, timing in results.items():
            print(f"{name:<28}{timing.wall:>9.2f}{timing.cpu:>9.2f}{len(files) / timing.wall:>9.0f}")
        if not args.skip_hadolint:
            print("\nratios (hadolint time / slimfile time), wall and CPU:")
            for hadolint in (k for k in results if k.startswith("hadolint")):
                for ours in ("slimfile check", "slimfile fix --diff"):
                    wall = results[hadolint].wall / results[ours].wall
                    cpu = results[hadolint].cpu / results[ours].cpu
                    print(f"  {hadolint} / {ours}: {wall:.1f}x wall, {cpu:.1f}x CPU")
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
