"""Snapshot what slimfile prints for every shared input, to prove a change kept behaviour.

For each file of ``../shared/corpus/files``, ``../shared/parsing/cases`` and
``../shared/parsing/buildkit-testfiles`` it runs, in-process through the CLI's own entry
(``slimfile.cli.app``, argument parsing included):

- ``parse --json FILE``
- ``check FILE``, and ``check --output-format F FILE`` for json, sarif, rdjson, github and
  markdown (with ``--unsafe-fixes``, so that it shows suggestions for every fix)
- ``fix --diff FILE`` and ``fix --diff --unsafe-fixes FILE``

and writes stdout, stderr and the exit code of each to ``OUT/<dir>/<file>/<command>``. Paths are
given relative to the shared directory, so snapshots of two checkouts compare with ``diff -r``:

    python benchmarks/output_snapshot.py /tmp/after
    python benchmarks/output_snapshot.py --root /path/to/other/checkout /tmp/before
    diff -r /tmp/before /tmp/after && echo identical

(``--compare DIR`` does that diff itself and prints the files that differ.)
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SLIMFILE_SHARED", HERE.parent / "shared"))
DIRECTORIES = ("corpus/files", "parsing/cases", "parsing/buildkit-testfiles")
COMMANDS = {
    "parse-json": ["parse", "--json"],
    "check": ["check"],
    "check-json": ["check", "--output-format", "json"],
    "check-sarif": ["check", "--output-format", "sarif"],
    "check-rdjson": ["check", "--output-format", "rdjson"],
    "check-github": ["check", "--output-format", "github"],
    "check-markdown": ["check", "--output-format", "markdown", "--unsafe-fixes"],
    "fix-diff": ["fix", "--diff"],
    "fix-diff-unsafe": ["fix", "--diff", "--unsafe-fixes"],
}


def run_cli(args: list[str]) -> tuple[bytes, bytes, int]:
    """stdout, stderr and exit code of ``slimfile ARGS``, run in this process."""
    from slimfile.cli import app

    out, err = io.BytesIO(), io.BytesIO()
    saved = sys.stdout, sys.stderr
    sys.stdout = io.TextIOWrapper(out, encoding="utf-8", errors="surrogateescape", write_through=True)
    sys.stderr = io.TextIOWrapper(err, encoding="utf-8", errors="surrogateescape", write_through=True)
    try:
        app(args=args, prog_name="slimfile")
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
            stream.detach()  # keep the BytesIO open when the wrapper goes away
        sys.stdout, sys.stderr = saved
    return out.getvalue(), err.getvalue(), code


def snapshot(out_dir: Path, base: Path = SHARED, directories: tuple[str, ...] = DIRECTORIES) -> int:
    os.chdir(base)  # relative paths: the snapshot does not name the checkout
    count = 0
    for directory in directories:
        for path in sorted(Path(directory).iterdir()):
            if not path.is_file() or path.name == "NOTICE":
                continue
            target = out_dir / path
            target.mkdir(parents=True, exist_ok=True)
            for name, command in COMMANDS.items():
                stdout, stderr, code = run_cli([*command, "--isolated", str(path)] if command[0] != "parse" else [*command, str(path)])
                (target / name).write_bytes(b"exit %d\n--- stdout\n%s--- stderr\n%s" % (code, stdout, stderr))
            count += 1
    return count


def compare(before: Path, after: Path) -> list[str]:
    names = {p.relative_to(before) for p in before.rglob("*") if p.is_file()}
    names |= {p.relative_to(after) for p in after.rglob("*") if p.is_file()}
    differ = []
    for name in sorted(names):
        a, b = before / name, after / name
        if not (a.is_file() and b.is_file() and a.read_bytes() == b.read_bytes()):
            differ.append(str(name))
    return differ


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path, help="directory to write the snapshot to")
    parser.add_argument("--root", type=Path, default=HERE, help="the checkout whose slimfile runs (default: this one)")
    parser.add_argument("--compare", type=Path, help="a snapshot to compare the new one with")
    parser.add_argument("--inputs", type=Path, help="a directory of Dockerfiles to use instead of the shared ones")
    args = parser.parse_args()
    sys.path.insert(0, str(args.root.resolve()))
    out_dir = args.out.resolve()
    if args.inputs is not None:
        count = snapshot(out_dir, args.inputs.resolve().parent, (args.inputs.resolve().name,))
    else:
        count = snapshot(out_dir)
    print(f"{count} files x {len(COMMANDS)} commands written to {out_dir}")
    if args.compare is not None:
        differ = compare(args.compare.resolve(), out_dir)
        for name in differ:
            print(f"differs: {name}")
        print(f"{len(differ)} of {count * len(COMMANDS)} outputs differ")
        raise SystemExit(1 if differ else 0)


if __name__ == "__main__":
    main()
