"""The indexes that answer SF704/SF705's path questions without scanning (issue 12: a 400 KB
Dockerfile of many stages in a large context took ten minutes through those scans).

Each index must give exactly what the scan it replaces gave: ``PathIndex.matching`` what a
``matches`` test of every path gives, in the same order; ``UsesIndex.first_reference`` the first
reference of ``references_between`` that ``names`` the path; ``NamedSourceIndex.first_naming``
the first COPY source that ``names`` an entry; ``CopiedFolders`` the copies whose ``brings``
says yes, in file order."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from slimfile.analysis import context_uses, copies
from slimfile.analysis.build_context import PathIndex
from slimfile.analysis.context_uses import Reference, Uses, UsesIndex
from slimfile.analysis.copies import NamedSource, NamedSourceIndex
from slimfile.analysis.globs import clean_path, matches
from slimfile.analysis.installs import CopyMap
from slimfile.passes.dockerignore import BroadCopy, CopiedFolders

# names that are globs, escapes and dots on purpose: the index must agree on all of them
NAMES = ["a", "b", ".git", "x.py", "node_modules", "a.b", "[x]", "*", "?", "\\"]
PATTERN_PARTS = ["a", "b", "*", "?", "*.py", "[ab]", "x.*", "**", ".git", "\\*", "\\a", "[!a]*", "", "..", "."]

paths = st.lists(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4).map("/".join), max_size=25)
patterns = st.tuples(
    st.sampled_from(["", "/", "./"]), st.lists(st.sampled_from(PATTERN_PARTS), min_size=1, max_size=4).map("/".join)
).map("".join)


@settings(max_examples=600, deadline=None)
@given(paths, st.lists(patterns, min_size=1, max_size=8), st.booleans())
def test_path_index_matches_like_a_scan(found: list[str], queries: list[str], with_folders: bool) -> None:
    if with_folders:  # listings usually name every folder; the index must not rely on it
        found = found + ["/".join(p.split("/")[:k]) for p in found for k in range(1, p.count("/") + 1)]
    index = PathIndex(found)
    for pattern in queries:
        expected = list(dict.fromkeys(p for p in found if matches(pattern, p)))
        assert index.matching(pattern) == expected, pattern


def test_path_index_finds_files_of_unlisted_folders() -> None:
    index = PathIndex(["src/app/main.py", "src/app/util.py", "docs/x.md"])
    assert index.matching("src/*/*.py") == ["src/app/main.py", "src/app/util.py"]
    assert index.matching("*/app") == []  # the folder itself was not listed: not a match
    assert index.matching("**/*.md") == ["docs/x.md"]


COMPONENTS = ["app", "x", ".git", "node_modules", "a.b", "*", "*.py", "?", "[ab]", ".env", "**", "\\*"]
TEXTS = ['"app/x"', ".git", "x/.env", "'node_modules'", "a/b/c"]

references = st.lists(
    st.tuples(
        st.sampled_from([0, 0, 5, 10]),  # the step from the last position (instructions in file order)
        st.one_of(
            st.tuples(st.sampled_from(["/", "//"]), st.lists(st.sampled_from(COMPONENTS), max_size=4).map("/".join)).map("".join),
            st.sampled_from(TEXTS).map(lambda text: (text,)),
        ),
    ),
    max_size=30,
)
image_paths = st.lists(st.sampled_from(["app", "x", ".git", "node_modules", "a.b", ".env", "b"]), max_size=4).map(lambda c: "/" + "/".join(c))


def _uses(found: list) -> Uses:
    uses = Uses()
    position = 0
    for step, target in found:
        position += step
        if isinstance(target, tuple):  # a word slimfile could not resolve: its text only
            uses.references.append(Reference(position, position, None, target[0]))
        else:
            uses.references.append(Reference(position, position, target, target))
    return uses


@settings(max_examples=600, deadline=None)
@given(references, st.lists(st.tuples(image_paths, st.integers(-1, 200), st.one_of(st.none(), st.integers(0, 200))), min_size=1, max_size=8), st.sampled_from([2, 32]))
def test_first_reference_is_the_first_the_scan_finds(found: list, queries: list, depth: int) -> None:
    saved = context_uses.UNDER_DEPTH
    context_uses.UNDER_DEPTH = depth  # 2: deep paths take the "look up at the indexed depth, then check" path
    try:
        uses = _uses(found)
        index = UsesIndex(uses)
        for image_path, after, before in queries:
            name = image_path.rsplit("/", 1)[-1] or "x"
            expected = next((r for r in uses.references_between(after, before) if r.names(image_path, name)), None)
            got = index.first_reference(after, before, image_path, name)
            assert (got.position if got else None) == (expected.position if expected else None), (image_path, after, before)
    finally:
        context_uses.UNDER_DEPTH = saved


def test_first_reference_examples() -> None:
    uses = _uses([(10, "/var/lib/apt/lists/*"), (10, "/app/*.py"), (10, ("x/.env",)), (10, "/app/.git/config")])
    index = UsesIndex(uses)
    assert index.first_reference(0, None, "/app/main.py", "main.py").line == 20  # a glob in its folder
    assert index.first_reference(0, None, "/app/.env", ".env").line == 30  # unresolved, by name
    assert index.first_reference(0, None, "/app/.git", ".git").line == 40  # something inside it
    assert index.first_reference(0, 40, "/app/.git", ".git") is None  # not before the limit
    assert index.first_reference(0, None, "/var/lib", "lib").line == 10  # a glob inside it
    assert index.first_reference(0, None, "/srv", "srv") is None


def test_first_reference_of_a_glob_with_a_leading_double_slash() -> None:
    # POSIX normpath keeps `//`; the glob's components then line up one off with the path's
    uses = _uses([(10, "//.git/**/app/a.b"), (10, "//**/.git")])
    index = UsesIndex(uses)
    for image_path in ("/.git/a.b/.env", "/node_modules/.git"):
        name = image_path.rsplit("/", 1)[-1]
        expected = next((r for r in uses.references if r.names(image_path, name)), None)
        assert expected is not None
        assert index.first_reference(0, None, image_path, name) == expected


# COPY sources as slimfile sees them: a context path, a pattern, or only the written text
sources = st.lists(
    st.one_of(
        st.lists(st.sampled_from(NAMES), min_size=1, max_size=4).map(lambda c: NamedSource("/".join(c), clean_path("/".join(c)))),
        patterns.map(lambda p: NamedSource(p, clean_path(p))),
        st.sampled_from(["$SRC/.git", "${APP}", "x/$A/.env"]).map(lambda w: NamedSource(w, None)),
    ),
    max_size=25,
)


@settings(max_examples=600, deadline=None)
@given(sources, paths, st.sampled_from([2, 32]))
def test_named_source_index_finds_the_first_source_the_scan_finds(named: list[NamedSource], entries: list[str], depth: int) -> None:
    saved = copies.INDEXED_DEPTH
    copies.INDEXED_DEPTH = depth  # 2: deep entries take the "look up at the indexed depth, then check" path
    try:
        index = NamedSourceIndex(named)
        for entry in entries:
            expected = next((i for i, source in enumerate(named) if source.names(entry)), None)
            assert index.first_naming(entry) == expected, entry
    finally:
        copies.INDEXED_DEPTH = saved


def test_named_source_index_examples() -> None:
    named = [NamedSource("src/*.py", "src/*.py"), NamedSource("a/b/c", "a/b/c"), NamedSource("$X/.env", None), NamedSource("a", "a")]
    index = NamedSourceIndex(named)
    assert index.first_naming("src") == 0  # a pattern names the folder it reaches into
    assert index.first_naming("src/main.py") == 0
    assert index.first_naming("a/b") == 1  # a folder holding a named file
    assert index.first_naming("a") == 1  # the first source in the file, not the exact one
    assert index.first_naming("deploy/.env") == 2  # by name when the source is unresolved
    assert index.first_naming("docs") is None


def _broad(source: str) -> BroadCopy:
    return BroadCopy(None, None, CopyMap(source, "/app"))  # only the source matters here


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["", "a", "a/b", ".git", "a/.git", "b"]), min_size=1, max_size=8), paths)
def test_copied_folders_bring_what_each_copy_brings(folders: list[str], entries: list[str]) -> None:
    broad = [_broad(source) for source in folders]
    index = CopiedFolders(broad)
    for entry in entries:
        expected = [i for i, copy in enumerate(broad) if copy.brings(entry)]
        assert list(index.indexes(entry)) == expected, entry
        assert [id(copy) for copy in index.bringing(entry)] == [id(broad[i]) for i in expected]
        assert index.brings(entry) == bool(expected)
    first = next((i for i, copy in enumerate(broad) if any(copy.brings(e) for e in entries)), None)
    assert index.first_bringing_any(entries) is (None if first is None else broad[first])
