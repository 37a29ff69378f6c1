"""Docker's path patterns: the verify ignore list and .dockerignore (no Docker needed)."""

import pytest

from slimfile.analysis.globs import DockerIgnore, clean_path, matches, matches_or_parent


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
        ("[!ab].py", "a.py", False),
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


def test_dockerignore_reinclude_inside_an_excluded_directory():
    ignore = DockerIgnore.from_text("docs\n!docs/keep.txt\n")
    assert ignore.excludes("docs/other.txt")
    assert not ignore.excludes("docs/keep.txt")
