"""Hunt superlinear paths with real files: each corpus file's last stage, its steps repeated.

``benchmarks/pairs.py`` pairs lines someone wrote for the hunt; real files mix steps nobody
thought to pair. This script takes each file of the shared corpus (or the sample under
``tests/data/corpus-sample`` without it), keeps everything up to its last ``FROM`` and repeats
the rest, the steps of the stage the image is built from, k times and then 4k times (k brings
the file to about ``--lines`` lines, and is at least 2: one copy alone can need fewer fix
rounds than several, which is no growth), over the small build context of ``pairs.py``. It counts
the lines of Python that ``slimfile check`` (or ``fix --diff`` with ``--fix``) executes for
both, as ``tests/test_scaling.py`` does: work linear in the steps grows by about 4 (less, for
the part that does not repeat); a ratio above 4.6 is flagged with ``!!!``.

    python benchmarks/tiles.py [--fix | --unsafe] [--distinct] [--lines 100] [--only NAME,NAME] [--limit N]

With ``--distinct`` each tile's absolute paths get a root of their own (``/usr/bin`` becomes
``/t3usr/bin`` in the fourth tile): identical tiles share every memo keyed by a step's text,
which hides work that grows with the steps.

Results: docs/benchmarks.md ("Hostile files, a twentieth pass").
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.pairs import CONTEXT, FLAG, add_command_options, chosen_command, count_lines
from slimfile.syntax import parse
from slimfile.syntax.errors import DockerfileError
from tests.conftest import CORPUS, corpus_sample, shared_files


def corpus_files() -> list[Path]:
    """The shared corpus (``../shared`` or SLIMFILE_SHARED), else the sample the tests carry."""
    return shared_files(CORPUS) or corpus_sample()


def split_last_stage(source: bytes) -> tuple[bytes, bytes] | None:
    """(the text up to and including the last FROM line, the rest ending with a newline), or
    None for a file with no step after its last FROM or one that does not parse."""
    try:
        dockerfile = parse(source)
    except DockerfileError:
        return None
    froms = [i for i in dockerfile.instructions if i.name == "FROM"]
    if not froms:
        return None
    cut = froms[-1].end
    head, body = source[:cut], source[cut:]
    if not head.endswith(b"\n"):
        newline = body.find(b"\n")
        if newline < 0:
            return None
        head, body = source[: cut + newline + 1], source[cut + newline + 1 :]
    if not body.strip():
        return None
    return head, body if body.endswith(b"\n") else body + b"\n"


_PATH_ROOT = re.compile(rb"(?<![\w.$/-])/(?=[A-Za-z_])")


def tile(body: bytes, index: int, distinct: bool) -> bytes:
    """The body, or with ``distinct`` each absolute path's root renamed after the tile
    (``/usr/bin`` -> ``/t3usr/bin``): steps that differ, which no memo of a text can share."""
    return _PATH_ROOT.sub(b"/t%d" % index, body) if distinct and index else body


def write(directory: Path, head: bytes, body: bytes, times: int, distinct: bool = False) -> Path:
    """The tiled Dockerfile in a build context of its own."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in CONTEXT.items():
        (directory / name).write_text(text)
    path = directory / "Dockerfile"
    path.write_bytes(head + b"".join(tile(body, index, distinct) for index in range(times)))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_command_options(parser)
    parser.add_argument("--lines", type=int, default=100, help="lines of the smaller file (about)")
    parser.add_argument("--only", default="", help="comma-separated corpus file names")
    parser.add_argument("--limit", type=int, default=0, help="only the first N files")
    parser.add_argument("--distinct", action="store_true", help="rename each tile's absolute paths")
    args = parser.parse_args(argv)
    command = chosen_command(args)
    only = {name for name in args.only.split(",") if name}
    files = [p for p in corpus_files() if not only or p.name in only]
    if args.limit:
        files = files[: args.limit]
    flagged = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        command(write(root / "warm-up", b"FROM node:20\n", b"RUN npm install p\n", 1))
        for index, path in enumerate(files):
            parts = split_last_stage(path.read_bytes())
            if parts is None:
                continue
            head, body = parts
            times = max(2, -(-args.lines // max(1, body.count(b"\n"))))
            try:
                counts = [count_lines(command, write(root / f"{index}-{k}", head, body, k, args.distinct)) for k in (times, 4 * times)]
            except AssertionError as error:  # slimfile reported an error for the file
                failed += 1
                print(f"{path.name}: error {str(error)[:200]}", flush=True)
                continue
            ratio = counts[1] / counts[0]
            mark = "  !!!" if ratio > 4 * FLAG else ""
            flagged += bool(mark)
            print(f"{path.name} x{times}/x{4 * times}: {counts[0]:,} -> {counts[1]:,} lines of Python, x{ratio:.2f}{mark}", flush=True)
    print(f"{flagged} file(s) flagged, {failed} reported an error")
    return 1 if flagged or failed else 0


if __name__ == "__main__":
    sys.exit(main())
