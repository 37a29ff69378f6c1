"""verify accepts exactly the removals a created ignore file explains (no engine needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from slimfile.engine import FixResult
from slimfile.syntax.edits import NewFile
from slimfile.verify.fs_diff import FileChange, FileEntry, FsDiff
from slimfile.verify.session import Session, UsageError, created_ignore
from slimfile.verify.verdict import allowed_differences, declared_removals, file_problems

ENTRY = FileEntry("x", "file", 0o644, 0, 0, 1, "d")


def change(path: str, kind: str = "removed", category: str = "app") -> FileChange:
    return FileChange(path, kind, category, (), ENTRY if kind != "added" else None, ENTRY if kind != "removed" else None)


def test_only_removed_app_files_the_ignore_file_excludes_are_declared():
    diff = FsDiff(
        [
            change("app/.git/HEAD"),
            change("app/main.py"),  # removed, but not by the ignore file
            change("app/.git/new", "added"),
            change("app/.env", "changed"),
            change("usr/lib/x", category="system"),
        ],
        compared=5,
    )
    result = declared_removals(diff, {"app/.git/HEAD", "app/.git/new", "app/.env", "usr/lib/x"})
    assert [c.path for c in result.excluded] == ["app/.git/HEAD"]
    assert [c.path for c in result.changes] == ["app/main.py", "app/.git/new", "app/.env", "usr/lib/x"]
    problems = file_problems(result, allowed_differences(["build-context"]))
    assert {p.kind for p in problems} == {"app-files", "system-files"}
    assert file_problems(declared_removals(FsDiff([change("app/.git/HEAD")]), {"app/.git/HEAD"}), allowed_differences(["build-context"])) == []


def result_with(*created: NewFile) -> FixResult:
    return FixResult("Dockerfile", b"", b"", [], [], [], 1, True, list(created))


def test_the_created_ignore_file_of_this_build_is_found(tmp_path: Path):
    dockerfile = tmp_path / "Dockerfile"
    assert created_ignore(result_with(), tmp_path, dockerfile) is None
    assert created_ignore(result_with(NewFile(str(tmp_path / ".dockerignore"), b".git\n")), tmp_path, dockerfile) == b".git\n"
    own = NewFile(str(tmp_path / "Dockerfile.dockerignore"), b".venv\n")
    assert created_ignore(result_with(own), tmp_path, dockerfile) == b".venv\n"
    with pytest.raises(UsageError, match="cannot build with"):
        created_ignore(result_with(NewFile(str(tmp_path / "other.txt"), b"x")), tmp_path, dockerfile)


def test_the_rewrite_gets_the_created_ignore_file_next_to_it(tmp_path: Path):
    original = tmp_path / "ctx" / "Dockerfile"
    original.parent.mkdir()
    original.write_text("FROM scratch\n")
    (tmp_path / "ctx" / "Dockerfile.dockerignore").write_text("theirs\n")
    fixed = tmp_path / "Dockerfile.slimfile"
    Session._place_ignore_file(original, fixed, b"created\n")
    assert (tmp_path / "Dockerfile.slimfile.dockerignore").read_text() == "created\n"
    Session._place_ignore_file(original, fixed, None)  # none created: the original's own goes along
    assert (tmp_path / "Dockerfile.slimfile.dockerignore").read_text() == "theirs\n"


def test_verify_refuses_a_context_whose_ignore_file_it_does_not_read(tmp_path: Path, monkeypatch):
    """What either build would send is unknown: an error before any build, not a verdict
    (the read limit is patched down; the real one is 16 MiB)."""
    from slimfile.analysis import build_context
    from slimfile.verify.session import VerifyRequest, prepare

    monkeypatch.setattr(build_context, "MAX_READ", 100)
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY . /app\n")
    (tmp_path / ".dockerignore").write_text(".git\n" * 30)
    with pytest.raises(UsageError, match=r": \.dockerignore is over 100 bytes, more than slimfile reads$"):
        prepare(VerifyRequest(tmp_path / "Dockerfile"), tmp_path, None)
    (tmp_path / ".dockerignore").write_text(".git\n")
    assert prepare(VerifyRequest(tmp_path / "Dockerfile"), tmp_path, None).ignore.excludes(".git")


def test_a_cleans_declaration_excuses_changes_under_its_folder_outside_the_application_only():
    """SF402-SF404 clean a cache the install was told to keep at an absolute folder and
    declare `cleans:` for it (verify ignores only the default cache folders); the cleanup's
    own log there is excused too. Elsewhere, and application files, still count."""
    declares = ["cleans:/tmp/npm", "cleans:/tmp/npm/**"]
    diff = FsDiff(
        [
            change("tmp/npm/_cacache", category="system"),
            change("tmp/npm/_cacache/index-v5/ab", category="system"),
            change("tmp/npm/_logs/debug-0.log", "added", category="system"),
            change("tmp/npmx/y", category="system"),
            change("tmp/npm/app.js"),  # an application file under it is not the fix's to excuse
        ],
        compared=5,
    )
    problems = file_problems(diff, allowed_differences(declares), declares)
    assert [(p.kind, p.message.split(": ")[1].split(" (no applied")[0]) for p in problems] == [
        ("app-files", "/tmp/npm/app.js removed"),
        ("system-files", "/tmp/npmx/y removed"),
    ]
    assert file_problems(FsDiff([change("tmp/npm/_cacache", category="system")], compared=1), allowed_differences([]), []) != []
