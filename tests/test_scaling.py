"""Work grows linearly with the input: counted, never timed.

Each generated shape of ``benchmarks/scaling.py`` (many small RUNs, one RUN with thousands of
continuation lines, suppressions, stages, heredocs...) goes through the code paths of
``slimfile parse --json``, ``slimfile check``, ``slimfile fix --diff`` and ``fix --diff
--unsafe-fixes`` (base swaps, stage splits, the release user) at 200 and at 800 lines, while
a trace function counts the lines of Python the interpreter executes (slimfile's and the
standard library's: difflib, json). Linear work makes the count grow 4 times; the
quadratic paths this guards against (line starts rebuilt per position, every pair of fixes
compared, a scan of all earlier RUNs per RUN, difflib over a whole file of changes) gave 5 to
14 times at these sizes. The count is deterministic: no clock is read, the cycle collector is
off while counting, and a warm-up run loads every module and data table first.

What a line count cannot see: work done in C by one line, such as a slice that copies a RUN's
whole logical line once per heredoc (quadratic, found by timing; guarded by a count of those
slices in ``tests/shell/test_large_scripts.py``). ``benchmarks/scaling.py --sizes 25000,100000``
times every shape at sizes where such copies show.
"""

from __future__ import annotations

import gc
import re
import sys
from pathlib import Path

import pytest

from benchmarks.scaling import SHAPES, write_case
from slimfile.engine import Settings
from slimfile.report import render_outcomes
from slimfile.report.diff import outcome_diff
from slimfile.runner import Job, run_job
from slimfile.analysis import globs
from slimfile.shell import cleanup, effects, lexer
from slimfile.shell.dump import parse_json_chunks
from slimfile.syntax.parser import parse

SMALL, LARGE = 200, 800
LINEAR = LARGE / SMALL
# nesting 100 levels deep under a trace function reaches Python's recursion limit (the CLI then
# reports "input too deeply nested"): this shape is counted at a quarter of the size
NESTED = ("nested-subshells",)
# each command of the shell model lists every scope around it (and parse --json prints them):
# work grows with commands x depth, and one RUN nested n/2 deep is quadratic by nature, up to
# the recursion limit, where the file is refused as too deeply nested. nested-runs (many RUNs
# nested 20 deep) is the linear case of the same constructs
BY_NATURE = ("nested-quotes",)
TOLERANCE = 1.1  # measured: 1.0 to 4.03 times here; the quadratic paths gave 4.9 to 13.5


def forget_memoized_words() -> None:
    """Empty the memos keyed by text (word values, cache-path matches, path components, glob
    and ``re`` patterns). A test that ran the same shape earlier (tests/test_gc.py does)
    leaves its first lines' words memoized, which makes the small size cheaper than the large
    one and the ratio look superlinear (``re`` keeps 512 compiled patterns: a .dockerignore
    of 400 rules compiled earlier cost nothing at 200 lines, one of 1,600 all at 800)."""
    lexer._WORD_PARTS.clear()
    lexer._WORD_VALUES.clear()
    cleanup.match_cache_paths.cache_clear()
    effects._components.cache_clear()
    globs.compile_glob.cache_clear()
    re.purge()


def executed_lines(work) -> int:
    """How many lines of Python run during ``work()``, from the same memo state every time."""
    forget_memoized_words()
    count = 0

    def local(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
        return local

    gc.collect()
    gc.disable()
    sys.settrace(lambda frame, event, arg: local)
    try:
        work()
    finally:
        sys.settrace(None)
        gc.enable()
    return count


def parse_json(path: Path) -> None:
    """What ``slimfile parse --json`` does (commands.run_parse), without printing."""
    "".join(parse_json_chunks(parse(path.read_bytes(), path=str(path))))


def check(path: Path) -> None:
    """What ``slimfile check`` does for one file: the worker's job, then the text report."""
    outcome = run_job(Job(str(path), "check", Settings()))
    assert outcome.error is None, outcome.error
    render_outcomes([outcome], "text", unsafe_fixes=False, quiet=False)


def fix_diff(path: Path) -> None:
    """What ``slimfile fix --diff`` does for one file: fix and diff (in the worker), printed."""
    outcome = run_job(Job(str(path), "diff", Settings()))
    assert outcome.error is None, outcome.error
    outcome_diff(outcome)


def fix_diff_unsafe(path: Path) -> None:
    """``slimfile fix --diff --unsafe-fixes``: the base swaps and stage splits as well."""
    outcome = run_job(Job(str(path), "diff", Settings(unsafe_fixes=True)))
    assert outcome.error is None, outcome.error
    outcome_diff(outcome)


COMMANDS = {"parse --json": parse_json, "check": check, "fix --diff": fix_diff, "fix --diff --unsafe-fixes": fix_diff_unsafe}


@pytest.fixture(scope="module")
def warmed(tmp_path_factory) -> Path:
    """Every command once on a file unlike the shapes: imports, data tables and caches load."""
    directory = tmp_path_factory.mktemp("warm-up")
    path = directory / "Dockerfile"
    path.write_bytes(b"FROM debian:12\nRUN apt-get update && apt-get install -y curl\nRUN pip install x\n")
    for command in COMMANDS.values():
        command(path)
    return directory


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("shape", [shape for shape in SHAPES if shape not in BY_NATURE])
def test_work_grows_linearly(shape: str, command: str, warmed: Path, tmp_path: Path):
    generate = SHAPES[shape][0]
    counts = []
    sizes = (SMALL // 4, LARGE // 4) if shape in NESTED else (SMALL, LARGE)
    for size in sizes:
        path = write_case(tmp_path / str(size), shape, generate(size), size)
        counts.append(executed_lines(lambda: COMMANDS[command](path)))
    ratio = counts[1] / counts[0]
    assert ratio <= LINEAR * TOLERANCE, (
        f"{shape}, {command}: {counts[0]:,} lines of Python at {sizes[0]} lines of input, "
        f"{counts[1]:,} at {sizes[1]} (x{ratio:.2f}; linear work gives x{LINEAR:g})"
    )


def test_tiles_repeat_the_last_stage_of_a_corpus_file():
    """``benchmarks/tiles.py`` (the hunt over corpus files) keeps everything up to the last
    FROM, repeats the rest, and with ``distinct`` gives each copy paths of its own."""
    from benchmarks.tiles import split_last_stage, tile

    source = b"FROM node:20 AS build\nRUN npm ci\nFROM debian:12\nCOPY --from=build /app /app\nRUN <<EOF\ncat /app/x\nEOF"
    head, body = split_last_stage(source)
    assert head == b"FROM node:20 AS build\nRUN npm ci\nFROM debian:12\n"
    assert body == b"COPY --from=build /app /app\nRUN <<EOF\ncat /app/x\nEOF\n"
    tiled = head + b"".join(tile(body, k, True) for k in range(3))
    dockerfile = parse(tiled)
    assert [i.name for i in dockerfile.instructions].count("RUN") == 4
    assert b"COPY --from=build /t2app /t2app\n" in tiled and b"cat /t1app/x" in tiled
    assert tile(b"ADD https://e.com/a /opt/\nENV P=$HOME/bin:/usr/bin\n", 1, True) == b"ADD https://e.com/a /t1opt/\nENV P=$HOME/bin:/t1usr/bin\n"
    assert split_last_stage(b"FROM a\nRUN x\nFROM b") is None  # nothing after the last FROM
    assert split_last_stage(b"RUN x\n") is None
