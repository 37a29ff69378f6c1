"""The unified diff of ``fix --diff``: applying it to the old file must give the new file, byte
for byte (CRLF, missing final newline, invalid UTF-8), and git must accept it."""

from __future__ import annotations

import difflib
import re
import shutil
import subprocess
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slimfile.engine import Settings, fix_source
import slimfile.report.diff as diff_module
from slimfile.report.diff import NO_NEWLINE, unified_diff
from slimfile.syntax.edits import Edit, apply_edits, compose_changes
from tests.conftest import CORPUS, corpus_files, shared_files

HUNK = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@$")


def apply_unified(before: bytes, diff: bytes) -> bytes:
    """A strict patch: every context and removed line must be where the hunk header says."""
    old = before.split(b"\n")
    old_lines = [line + b"\n" for line in old[:-1]] + ([old[-1]] if old[-1] else [])
    lines = diff.split(b"\n")[:-1]
    assert lines[0].startswith(b"--- a/") and lines[1].startswith(b"+++ b/")
    out: list[bytes] = []
    cursor = 0
    i = 2
    while i < len(lines):
        header = HUNK.match(lines[i])
        assert header is not None, lines[i]
        old_start, old_len = int(header[1]), int(header[2] or b"1")
        new_len = int(header[4] or b"1")
        first = old_start - 1 if old_len else old_start
        assert first >= cursor, "hunks overlap or go backwards"
        out.extend(old_lines[cursor:first])
        cursor = first
        i += 1
        seen_old = seen_new = 0
        while i < len(lines) and not lines[i].startswith(b"@@"):
            tag, text = lines[i][:1], lines[i][1:] + b"\n"
            i += 1
            if i < len(lines) and lines[i] + b"\n" == NO_NEWLINE.encode():
                text = text[:-1]
                i += 1
            if tag in (b" ", b"-"):
                assert old_lines[cursor] == text, (cursor, old_lines[cursor], text)
                cursor += 1
                seen_old += 1
            if tag in (b" ", b"+"):
                out.append(text)
                seen_new += 1
        assert (seen_old, seen_new) == (old_len, new_len), "hunk header counts"
    out.extend(old_lines[cursor:])
    return b"".join(out)


LINES = st.lists(
    st.sampled_from([b"FROM a\n", b"RUN x\n", b"RUN y\r\n", b"\n", b"# c\n", b"CMD z\n", b"\xff\xfe\n", b"RUN x"]),
    max_size=40,
)


@settings(max_examples=400, deadline=None)
@given(LINES, LINES, LINES)
def test_applying_the_diff_gives_the_new_text(head, middle, tail):
    # the common head and tail are what the diff skips over: exercise them on purpose
    before = b"".join(head) + b"RUN old\n" + b"".join(tail)
    after = b"".join(head) + b"".join(middle) + b"".join(tail)
    diff = unified_diff(before, after, "Dockerfile")
    assert (diff == b"") == (before == after)
    if diff:
        assert apply_unified(before, diff) == after


def test_hunk_headers_count_the_lines_that_were_skipped():
    before = b"".join(b"ENV N%d=1\n" % n for n in range(100))
    after = before.replace(b"ENV N50=1\n", b"ENV N50=2\n").replace(b"ENV N90=1\n", b"")
    diff = unified_diff(before, after, "Dockerfile")
    assert re.findall(rb"^@@.*@@$", diff, re.MULTILINE) == [b"@@ -48,7 +48,7 @@", b"@@ -88,7 +88,6 @@"]
    assert apply_unified(before, diff) == after


def test_a_change_at_the_very_end_without_final_newline():
    before = b"FROM a\nRUN b\nRUN c\nRUN d\nRUN e\nCMD x"
    after = b"FROM a\nRUN b\nRUN c\nRUN d\nRUN e\nCMD y"
    diff = unified_diff(before, after, "Dockerfile")
    assert diff.endswith(b"-CMD x\n" + NO_NEWLINE.encode() + b"+CMD y\n" + NO_NEWLINE.encode())
    assert b"@@ -3,4 +3,4 @@" in diff
    assert apply_unified(before, diff) == after


@pytest.mark.shared
@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_applies_the_diffs_of_the_whole_corpus(tmp_path: Path):
    """Every corpus file fixed with --unsafe-fixes: git apply takes the diffs, and the result is
    the fixed file."""
    files = corpus_files()
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    expected = {}
    patch = []
    for index, source_path in enumerate(files):
        source = source_path.read_bytes()
        result = fix_source(source, source_path.name, Settings(unsafe_fixes=True))
        name = f"f{index:03d}.Dockerfile"
        (tmp_path / name).write_bytes(source)
        expected[name] = result.output
        patch.append(unified_diff(source, result.output, name, changes=result.changes))  # as fix --diff
    assert sum(1 for part in patch if part) >= 100  # about half of the corpus gets some fix
    (tmp_path / "all.patch").write_bytes(b"".join(patch))
    subprocess.run(["git", "apply", "--whitespace=nowarn", "all.patch"], cwd=tmp_path, check=True)
    for name, output in expected.items():
        assert (tmp_path / name).read_bytes() == output, name


# -- the diff of fix --diff: difflib only around what the fixes changed ---------------------------


@pytest.mark.shared
def test_diffs_around_the_changes_apply_on_the_corpus(monkeypatch):
    """Every corpus file (safe and unsafe fixes): an ordinary file is given to difflib whole (its diff byte
    for byte), and the diff of the pieces around the engine's changes (forced here; used only
    for very long middles) applies and gives the fixed file."""
    compared = 0
    for source_path in shared_files(CORPUS):
        source = source_path.read_bytes()
        for unsafe in (False, True):
            result = fix_source(source, source_path.name, Settings(unsafe_fixes=unsafe))
            if result.changed:
                whole = unified_diff(source, result.output, source_path.name, changes=result.changes)
                assert whole == _difflib_diff(source, result.output, source_path.name)
                with monkeypatch.context() as patched:
                    patched.setattr(diff_module, "WHOLE_FILE", 0)
                    pieces = unified_diff(source, result.output, source_path.name, changes=result.changes)
                assert apply_unified(source, pieces) == result.output, source_path.name
                compared += 1
    assert compared >= 200


def _difflib_diff(before: bytes, after: bytes, name: str) -> bytes:
    """What difflib itself prints for the whole texts (git's paths and missing-newline mark)."""
    lines = difflib.unified_diff(_lines(before), _lines(after), f"a/{name}", f"b/{name}")
    out = "".join(l if l.endswith("\n") else l + "\n" + NO_NEWLINE for l in lines)
    return out.encode("utf-8", "surrogateescape")


def _lines(data: bytes) -> list[str]:
    parts = data.decode("utf-8", "surrogateescape").split("\n")
    return [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def test_changes_far_apart_and_close_together():
    """Generated: one changed line every 10 lines (comments between RUNs that merge), and
    changes on neighbouring lines; the diff applies and is difflib's."""
    source = b"FROM debian:12\n" + b"".join(
        b"RUN echo %d\n" % i if i % 10 == 0 else b"# comment %d\n" % i for i in range(600)
    )
    result = fix_source(source, "Dockerfile")
    assert result.changed and len(result.changes) > 50
    with mock.patch.object(diff_module, "WHOLE_FILE", 0):  # the pieces, as for a long file
        diff = unified_diff(source, result.output, "Dockerfile", changes=result.changes)
    assert apply_unified(source, diff) == result.output
    assert diff == unified_diff(source, result.output, "Dockerfile")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([b"RUN a\n", b"RUN b\r\n", b"\n", b"# c\n", b"RUN x", b"\xff\n"]), max_size=30), st.data())
def test_diffs_from_changes_apply(lines, data):
    """Any edits, in rounds: the diff built from the composed changes applies."""
    before = b"".join(lines)
    current, changes = before, ()
    for _ in range(data.draw(st.integers(1, 3))):
        points = sorted(data.draw(st.lists(st.integers(0, len(current)), max_size=6, unique=True)))
        edits = []
        for a, b in zip(points[::2], points[1::2]):
            edits.append(Edit(a, b, data.draw(st.sampled_from([b"", b"x", b"\n", b"y\n", b"RUN a\n", b"\r\n"]))))
        changes = compose_changes(changes, edits)
        current = apply_edits(current, edits)
    with mock.patch.object(diff_module, "WHOLE_FILE", 0):  # the pieces, as for a long file
        diff = unified_diff(before, current, "Dockerfile", changes=changes)
    assert (diff == b"") == (before == current)
    if diff:
        assert apply_unified(before, diff) == current


# -- names git quotes ----------------------------------------------------------------------------

ODD_NAMES = ["line\nbreak", 'quote"d', "back\\slash", "esc\x1b[31m", "tab\there", "bell\x07", "café"]


def test_header_paths_are_quoted_as_git_quotes_them():
    assert diff_module.header_path("a/plain name/Dockerfile") == "a/plain name/Dockerfile"
    assert diff_module.header_path("a/café") == "a/café"  # as git with core.quotePath=false
    assert diff_module.header_path("a/b\nc") == '"a/b\\nc"'
    assert diff_module.header_path('a/q"\\') == '"a/q\\"\\\\"'
    assert diff_module.header_path("a/e\x1b[0m\x7f") == '"a/e\\033[0m\\177"'
    diff = unified_diff(b"RUN a\n", b"RUN b\n", "x\ny/Dockerfile")
    assert diff.splitlines()[:2] == [b'--- "a/x\\ny/Dockerfile"', b'+++ "b/x\\ny/Dockerfile"']
    assert diff_module.new_file_diff("x\ny/.dockerignore", b".git\n").splitlines()[1] == b'+++ "b/x\\ny/.dockerignore"'


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_and_patch_apply_the_diffs_of_oddly_named_files(tmp_path: Path):
    """A folder name with a line break, a quote, a backslash or an escape sequence: the diff's
    headers are quoted, so git apply (and GNU patch, when installed) change exactly those files;
    unquoted, the line break ended the header and the patch was corrupt."""
    source = b"FROM debian:bookworm\nRUN apt-get update\nRUN apt-get install -y curl\n"
    expected, patch = {}, []
    for name in ODD_NAMES:
        (tmp_path / name).mkdir()
        (tmp_path / name / "Dockerfile").write_bytes(source)
        result = fix_source(source, "Dockerfile", Settings())
        assert result.output != source
        expected[name] = result.output
        patch.append(unified_diff(source, result.output, f"{name}/Dockerfile", changes=result.changes))
    (tmp_path / "all.patch").write_bytes(b"".join(patch))
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "apply", "--whitespace=nowarn", "all.patch"], cwd=tmp_path, check=True)
    for name, output in expected.items():
        assert (tmp_path / name / "Dockerfile").read_bytes() == output, name
    if shutil.which("patch") is None:
        return
    for name in ODD_NAMES:
        (tmp_path / name / "Dockerfile").write_bytes(source)
    subprocess.run(["patch", "-s", "-p1", "-i", "all.patch"], cwd=tmp_path, check=True)
    for name, output in expected.items():
        assert (tmp_path / name / "Dockerfile").read_bytes() == output, name
