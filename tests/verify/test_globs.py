"""Docker's path patterns: the verify ignore list and .dockerignore (no Docker needed)."""

import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slimfile.analysis.globs import (
    _PATH_OR_FOLDER,
    _WHOLE_PATH,
    DockerIgnore,
    _compile,
    _literal_ending,
    _literal_start,
    _translate,
    _translate_plainly,
    clean_path,
    matches,
    matches_or_parent,
)
from slimfile.isolation import time_limit


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("/usr//lib/./x", "usr/lib/x"), ("./app/", "app"), ("/", ""), (".", ""), ("a/../b", "b")],
)
def test_clean_path(raw, clean):
    assert clean_path(raw) == clean


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("*.md", "README.md", True),
        ("*.md", "docs/README.md", False),  # "*" never crosses a "/"
        ("**/*.md", "docs/deep/README.md", True),
        ("**/*.md", "README.md", True),  # "**/" also matches no directory at all
        ("var/log/**", "var/log/apt/history.log", True),
        ("var/log/**", "var/logs", False),
        ("file?.txt", "file1.txt", True),
        ("file?.txt", "file10.txt", False),
        ("[ab].py", "a.py", True),
        ("[^ab].py", "a.py", False),
        ("[^ab].py", "c.py", True),
        ("[!ab].py", "a.py", True),  # Docker's matcher: `!` is a member of the class, `^` negates
        ("[!ab].py", "!.py", True),
        ("[!ab].py", "c.py", False),
        ("/tests", "tests", True),
    ],
)
def test_matches(pattern, path, expected):
    assert matches(pattern, path) is expected


def test_a_matching_parent_directory_matches_its_contents():
    assert matches_or_parent("tests", "tests/unit/test_x.py")
    assert not matches_or_parent("tests", "src/tests.py")


def test_dockerignore_last_matching_pattern_wins():
    ignore = DockerIgnore.from_text("# comment\n*.md\n!README.md\n\nnotes/\n")
    assert ignore.excludes("CHANGES.md")
    assert not ignore.excludes("README.md")
    assert ignore.excludes("notes/a/b.txt")
    assert not ignore.excludes("src/notes.txt")
    assert not ignore.excludes("docs/guide.md")  # "*.md" is anchored at the context root


def test_classes_are_read_as_docker_reads_them():
    """What Docker 20.10 (the zoo's engine) sent of a context holding ``axc``, ``abc``, ``a!c``,
    ``a/c``, ``q/z``, ``qz``, ``q1z`` and ``q^z`` under each .dockerignore (``COPY . /ctx``,
    then ``find /ctx``). slimfile read ``[!b]`` as a negation, as a shell does: it counted
    ``axc`` and ``a/c`` out and ``abc`` in, the other way round."""
    context = ["axc", "abc", "a!c", "a/c", "q/z", "qz", "q1z", "q^z"]
    sent = {
        "a[!b]c\nq[^/]z\n": ["axc", "a/c", "q/z", "qz"],
        "a[^b]c\n": ["abc", "q/z", "qz", "q1z", "q^z"],
    }
    for text, expected in sent.items():
        ignore = DockerIgnore.from_text(text)
        assert [path for path in context if not ignore.excludes(path)] == expected, text


def test_classes_python_reads_as_sets_are_plain_members_without_a_warning():
    """``[[ab]`` or ``x[&&b]`` in a repository's .dockerignore printed Python's FutureWarning
    ("Possible nested set") on slimfile's stderr; their characters are members, as in Go."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ignore = DockerIgnore.from_text("[[ab]\nx[&&b]\ny[~|]\nz[a--b]\n")
        assert [ignore.excludes(p) for p in ("[", "a", "x&", "xb", "y~", "y|", "c", "x")] == [True] * 6 + [False] * 2


def test_dockerignore_reinclude_inside_an_excluded_directory():
    ignore = DockerIgnore.from_text("docs\n!docs/keep.txt\n")
    assert ignore.excludes("docs/other.txt")
    assert not ignore.excludes("docs/keep.txt")


def _deciding_rule_by_trying_every_rule(ignore: DockerIgnore, path: str):
    """The rule loop before the index: every pattern, every folder of the path."""
    decided = None
    for index, (pattern, exclude) in enumerate(ignore.rules):
        if (decided is not None) != exclude and matches_or_parent(pattern, path):
            decided = index if exclude else None
    return None if decided is None else ignore.written[decided]


_PATTERN_PIECES = st.sampled_from(["a", "b", "ab", "*", "**", "?", "[ab]", "[!a]", "[^a]", "[", "]", "\\", "\\*", "/", ".", ".."])


@settings(max_examples=2000, deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.lists(_PATTERN_PIECES, min_size=1, max_size=6).map("".join)), max_size=8),
    st.lists(st.lists(st.sampled_from(["a", "b", "ab", "ba", "*", "a.b", "[", "x"]), min_size=1, max_size=5).map("/".join), min_size=1, max_size=6),
)
def test_the_rule_index_decides_as_trying_every_rule(lines, paths):
    """Only the rules keyed by one of a path's components (or keyed by none) are tried, with
    one regex per rule for the path and its folders: the deciding line is the one the plain
    loop over every rule and every folder finds."""
    ignore = DockerIgnore([("!" if negated else "") + pattern for negated, pattern in lines])
    for path in paths:
        assert ignore.deciding_rule(path) == _deciding_rule_by_trying_every_rule(ignore, path), path


def test_thousands_of_rules_are_tried_only_where_they_can_match():
    """A generated .dockerignore of a rule pair per folder: each file meets the two rules of
    its folder and the unkeyed ones that match it, not all 4,000."""
    text = "*.log\n" + "".join(f"dir{k}/**/*.tmp\n!dir{k}/keep{k}.tmp\n" for k in range(2_000))
    ignore = DockerIgnore.from_text(text)
    assert ignore.excludes("dir1500/deep/x.tmp") and not ignore.excludes("dir1500/keep1500.tmp")
    assert ignore.excludes("a.log") and not ignore.excludes("dir3/a.py")
    assert ignore._index is not None and ignore._index.candidates("dir1500/deep/x.tmp") == [3001]
    assert ignore._index.candidates("dir1500/keep1500.tmp") == [3001, 3002]
    assert ignore._index.candidates("x.log/dir1500/keep1500.tmp") == [0, 3001, 3002]


def test_rules_without_a_literal_component_are_tried_only_on_paths_they_match():
    """A .dockerignore made from a big .gitignore: a hundred ``*.ext`` lines (no component of
    the path to key them by). Each is keyed by the text it ends with, so a file meets only the
    rules whose ending one of its components has; one that ends with a star by the text it
    starts with (``tmp*``); the rules with neither (``**/[ab]``, ``*q*``) are tried one by one
    only on the paths one of them matches."""
    text = "".join(f"*.e{k}\n!keep.e{k}\n" for k in range(150)) + "src\ntmp*\n**/[ab]\n*q*\n"
    ignore = DockerIgnore.from_text(text)
    assert ignore._index is None and not ignore.excludes("app.py")
    index = ignore._index
    assert index is not None and index.candidates("app.py") == []
    assert index.candidates("src/app.py") == [300]
    assert index.candidates("x.e7") == [14] and index.candidates("keep.e7") == [14, 15]
    assert index.candidates("x.e7/d.e9/app.py") == [14, 18]
    assert index.candidates("tmp1/app.py") == [301] and index.candidates("d/b") == [302, 303]
    assert index.candidates("aq/x") == [302, 303] and index.candidates("d/tmp") == []
    assert ignore.deciding_rule("x.e7") == ("*.e7", 15) and ignore.deciding_rule("x.e7/app.py") == ("*.e7", 15)
    assert not ignore.excludes("keep.e7") and ignore.deciding_rule("src/x.e7") == ("src", 301)
    assert ignore.deciding_rule("tmp1/app.py") == ("tmp*", 302) and ignore.deciding_rule("d/b") == ("**/[ab]", 303)


@pytest.mark.parametrize(
    ("pattern", "start"), [("tmp*", "tmp"), ("src/a*", "src/a"), ("*.log", ""), ("a\\*b", "a"), ("x[ab]", "x")]
)
def test_the_text_a_pattern_starts_with(pattern, start):
    assert _literal_start(pattern) == start


@pytest.mark.parametrize(
    ("pattern", "ending"),
    [("*.log", ".log"), ("**/*.pyc", ".pyc"), ("a/b*c", "c"), ("tmp*", ""), ("x[ab]", ""), ("a\\*b", "b"), ("d/**", "")],
)
def test_the_text_a_pattern_ends_with(pattern, ending):
    assert _literal_ending(pattern) == ending


_GLOB_PIECES = st.sampled_from(
    ["a", "b", "ab", "*", "**", "?", "[ab]", "[!a]", "[^a]", "[a-b]", "[", "]", "[]", "\\", "\\*", "\\/", "/", "**/", "/**/", ".", ".."]
)
_GLOB_PATHS = st.lists(st.sampled_from(["a", "b", "ab", "ba", "aab", "bab", "abab", "*", "a.b", "[", "x", ""]), min_size=1, max_size=6)


@settings(max_examples=3000, deadline=None)
@given(st.lists(_GLOB_PIECES, min_size=1, max_size=8).map("".join), st.lists(_GLOB_PATHS.map("/".join), min_size=1, max_size=5))
def test_the_translation_that_cannot_backtrack_matches_what_the_plain_one_matches(pattern, paths):
    """Stars and ``**/`` placed at the first place they fit, for good (atomic groups), match
    exactly the paths the plain translation matches, for the whole path and for a path or a
    folder it is in (patterns the new one does not take get the plain one)."""
    pattern = clean_path(pattern)
    for end in (_WHOLE_PATH, _PATH_OR_FOLDER):
        careful, plain = _compile(_translate(pattern, end)), _compile(_translate_plainly(pattern) + end)
        for path in paths:
            assert (careful.match(path) is None) == (plain.match(path) is None), (pattern, end, path, careful.pattern)


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("*a" * 12 + "*b*", "a" * 200, False),
        ("*a" * 12 + "*b*", "a" * 200 + "b", True),
        ("**/" * 12 + "[b]/y*", "a/" * 60 + "zz", False),
        ("**/" * 12 + "[b]/y*", "a/" * 60 + "b/yz", True),
        ("**/a*/" * 8 + "**/b", "a/" * 60 + "c", False),
        ("**/a*/" * 8 + "**/b", "a/" * 60 + "b", True),
        ("**/*a*a*a*a*a*a*a*b/**/c", "/".join(["a" * 50] * 40), False),
    ],
)
def test_patterns_that_made_the_plain_translation_backtrack_for_ever(pattern, path, expected):
    """The plain regex of ``*a*a*a*a*a*a*b*`` took 63 s on one name of 100 a's (each added star
    multiplies it): these cases would never end. The per-file budget interrupts Python's
    ``re``, but every Dockerfile of that context would time out. (The limit only turns a
    regression into a failure instead of a hang; nothing here measures time.)"""
    with time_limit(120):
        assert DockerIgnore.from_text(pattern + "\n").excludes(path) is expected
        assert matches(pattern, path) is expected


@pytest.mark.parametrize("pattern", ["[z-a]", "[]", "a/[]b/**"])
def test_a_pattern_docker_refuses_matches_nothing(pattern):
    """``docker build`` stops at such a line ("syntax error in pattern"); here it matches no
    path, and the other lines still count (it was an internal error for the whole file)."""
    ignore = DockerIgnore.from_text(f"{pattern}\n*.log\n")
    assert ignore.excludes("a.log") and not ignore.excludes("z") and not ignore.excludes("a/b/c")
    assert not matches(pattern, "a") and not matches_or_parent(pattern, "a/b")
