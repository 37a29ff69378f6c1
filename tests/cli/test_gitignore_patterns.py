""".gitignore lines as the directory walk matches them: pathspec's reading, with regexes that
cannot backtrack for ever (``slimfile.ignore._spec``). No Docker, no shared files."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import warnings
from pathlib import Path

import pathspec
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from slimfile.files import Discovered, discover
from slimfile.ignore import _spec, _without_backtracking
from slimfile.isolation import time_limit
from tests.cli.conftest import write

_PIECES = st.sampled_from(
    ["a", "b", "ab", "*", "**", "?", "[ab]", "[a-b]", "[b-a]", "[[a]", "[]]", "[a\\]]", "[a\\\\]", "[a/b]", "[", "]", "\\", "\\*", "\\[", "/", ".", "!", "#", " ", "**/", "/**/", "\n"]
)
_PATHS = st.lists(st.sampled_from(["a", "b", "ab", "ba", "aab", "bab", "*", "a.b", "[", "x", "#", "!a", " a"]), min_size=1, max_size=6)


def _accepted_alone(line: str) -> bool:
    try:
        _pathspec_alone([line])
    except (ValueError, re.error):
        return False
    return True


def _pathspec_alone(lines: list[str]) -> pathspec.GitIgnoreSpec:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pathspec.GitIgnoreSpec.from_lines(lines, backend="simple")


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.lists(_PIECES, min_size=1, max_size=8).map("".join), min_size=1, max_size=4), st.lists(_PATHS.map("/".join), min_size=1, max_size=6))
def test_the_rewritten_regexes_match_what_pathspec_matches(lines, paths):
    """Each pattern's rewritten regex matches the files and folders pathspec's matches, with
    the same folder mark (pathspec ranks a match by it), and the spec decides the same
    (negated classes aside: git's reading, tested below)."""
    assume(not any("[!" in line or "[^" in line for line in lines))
    ours = _spec(lines)
    try:
        plain = _pathspec_alone(lines)
    except (ValueError, re.error):  # a line pathspec or Python refuses (`a\\`, `[b-a]`): left out
        plain = _pathspec_alone([line for line in lines if _accepted_alone(line)])
    for theirs, mine in zip(plain.patterns, ours.patterns):
        if theirs.regex is None:
            continue
        for path in paths:
            for candidate in (path, path + "/"):
                expected, found = theirs.regex.search(candidate), mine.regex.search(candidate)
                assert (expected is None) == (found is None), (lines, candidate, mine.regex.pattern)
                assert expected is None or expected.groupdict() == found.groupdict()
    for path in paths:
        for candidate in (path, path + "/"):
            assert plain.check_file(candidate).include == ours.check_file(candidate).include


@pytest.mark.parametrize(
    ("line", "path", "expected"),
    [
        ("*a*a*a*a*a*a*a*a*a*b*", "a" * 200, False),
        ("*a*a*a*a*a*a*a*a*a*b*", "a" * 200 + "b", True),
        ("x/" + "**/a/" * 8 + "**/b", "x/" + "a/" * 60 + "zz", False),
        ("x/" + "**/a/" * 8 + "**/b", "x/" + "a/" * 60 + "b", True),
        ("**/*a*a*a*a*a*a*b/**/c/", "/".join(["a" * 50] * 40) + "/", False),
        ("*[]]*[]]*[]]*[]]*[]]*[]]*[]]*b*", "]" * 200, False),
        ("*[a\\]]*[a\\]]*[a\\]]*[a\\]]*[a\\]]*[a\\]]*b*", "a" * 200, False),
    ],
)
def test_lines_that_made_the_walk_backtrack_for_ever(line, path, expected):
    """``*a*a*a*a*a*a*a*b*`` took 14 s on one folder named with 60 a's and ``x/**/a/**/.../b``
    7 s on a path 40 deep, each more star multiplying it, in the walk, which no file's
    budget covers: these cases would never end. (The limit only turns a regression into a
    failure instead of a hang; nothing here measures time.)"""
    with time_limit(120):
        assert _spec([line]).match_file(path) is expected


def test_a_negated_class_never_matches_a_slash_as_git_reads_it(tmp_path):
    """git matches with FNM_PATHNAME: ``a[!b]c`` ignores ``axc`` but not ``a/c`` (pathspec's
    own regex let the class match the ``/``)."""
    assert _pathspec_alone(["a[!b]c"]).match_file("a/c")  # what pathspec alone says
    spec = _spec(["a[!b]c", "x/y[!b]z"])
    assert [spec.match_file(p) for p in ("axc", "a/c", "x/ydz", "x/y/z")] == [True, False, True, False]
    if shutil.which("git") is None:
        return
    write(tmp_path, {".gitignore": "a[!b]c\nx/y[!b]z\n", "axc": "", "a/c": "", "x/ydz": "", "x/y/z": ""})
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    ignored = subprocess.run(
        ["git", "check-ignore", "axc", "a/c", "x/ydz", "x/y/z"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert ignored.stdout.split() == ["axc", "x/ydz"]


def test_only_regexes_that_cannot_backtrack_are_left_as_they_are():
    """Of 300,000 random lines of stars, classes (``[]]``, ``[a\\]]``, ``[^^]``), escapes
    and ``**``, the rewrite took every regex but ``.`` and ``(?P<ps_d>/)`` (checked while
    writing it); here, lines of each kind."""
    lines = ["*[]]*x*", "*[a\\]]*x*", "*[!^]*x*", "a/**/b*c*d/**/e", "**/x*y*z", "*\\**x*", "a b\\ *c*"]
    for line in lines:
        for pattern in _pathspec_alone([line]).patterns:
            assert _without_backtracking(pattern.regex.pattern) is not None, (line, pattern.regex.pattern)


def test_regexes_with_pieces_it_does_not_know_are_left_as_they_are():
    assert _without_backtracking(".") is None  # pathspec's regex for `*`
    assert _without_backtracking("^a(?:x|y)") is None
    assert _without_backtracking("^a/[^/]+(?:(?P<ps_d>/)|$)") == "^a/[^/]+(?:(?P<ps_d>/)|$)"


def test_a_walk_under_such_a_gitignore_ends_and_skips_what_it_ignores(tmp_path):
    """A repository whose .gitignore holds a line made to backtrack, and a folder whose name
    feeds it: the walk finishes, and the folder the line ignores is skipped."""
    deep = "a" * 120
    write(tmp_path, {".gitignore": "*a*a*a*a*a*a*a*a*b*\n", f"{deep}/Dockerfile": "FROM x\n", f"{deep}b/Dockerfile": "FROM x\n"})
    (tmp_path / ".git").mkdir()
    with time_limit(120):
        found = [item for item in discover([str(tmp_path)]) if isinstance(item, Discovered)]
    assert [Path(item.path).parent.name for item in found] == [deep]


def test_lines_pathspec_or_python_refuses_leave_the_walk_going(cli, tmp_path):
    """``a\\`` (pathspec: "Invalid git pattern"), ``[z-a]`` and ``z[a--b]`` (a range that runs
    backwards: re.error) stopped ``slimfile check .`` with a traceback, and ``[[ab]`` or
    ``x[&&b]`` printed Python's FutureWarnings. Now such a line is left out (it ignores nothing)
    and the others still count; stderr stays clean."""
    lines = "a\\\n[z-a]\nz[a--b]\n[[ab]\nx[&&b]\nskipped/\n"
    dockerfile = "FROM debian:bookworm\n"  # one finding: SF801
    write(tmp_path, {".gitignore": lines, "app/Dockerfile": dockerfile, "skipped/Dockerfile": dockerfile, "b/Dockerfile": dockerfile})
    (tmp_path / ".git").mkdir()
    result = cli("check", "--output-format", "json", "--exit-zero", ".", cwd=tmp_path)
    assert result.exit_code == 0 and result.stderr == ""
    assert sorted({item["filename"] for item in json.loads(result.out)}) == ["app/Dockerfile"]
    spec = _spec(lines.splitlines())
    assert [spec.match_file(p) for p in ("a\\", "z", "za", "[", "x&", "skipped/x")] == [False, False, False, True, True, True]


def test_a_negated_class_ending_with_a_dash_keeps_its_meaning():
    """The rewrite kept ``/`` out of a negated class by appending it: ``[!a-]`` became
    ``[^a-/]``, a range that runs backwards, and the walk stopped with re.error (a random
    search found it). The ``/`` is kept out by a look-ahead now."""
    spec = _spec(["x[!a-]", "y[^[a-]z"])
    assert [spec.match_file(p) for p in ("xb", "xa", "x-", "x/")] == [True, False, False, False]
    assert [spec.match_file(p) for p in ("ybz", "y[z", "yaz", "y/z")] == [True, False, False, False]
