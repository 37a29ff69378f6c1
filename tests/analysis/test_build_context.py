"""The build context as the builder sends it: .dockerignore applied, files read once."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from slimfile.analysis.build_context import (
    BuildContext,
    ContextTooLarge,
    IgnoreFileUnread,
    list_context,
    load_dockerignore,
    read_bytes_limited,
)
from slimfile.analysis.context import Context
from slimfile.engine import Settings
from slimfile.syntax.parser import parse
from tests.cli.conftest import run_slimfile, write


@pytest.fixture
def context(tmp_path: Path) -> Path:
    write(
        tmp_path,
        {
            "Dockerfile": "FROM x\nCOPY . .\n",
            "package.json": "{}",
            "src/index.js": "1",
            "node_modules/a/index.js": "x",
            ".git/HEAD": "ref",
            ".dockerignore": "node_modules\n.git\n*.md\n!README.md\n",
            "README.md": "r",
            "NOTES.md": "n",
        },
    )
    return tmp_path


def test_ignored_files_are_not_sent(context: Path):
    files = BuildContext(context, context / "Dockerfile")
    assert files.is_file("package.json") and files.is_file("./src/index.js") and files.is_file("/README.md")
    assert files.ignored("node_modules/a/index.js") and not files.is_file("node_modules/a/index.js")
    assert files.on_disk("node_modules/a/index.js")
    assert files.read_text("NOTES.md") is None and files.read_text("README.md") == "r"
    assert files.is_dir("src") and not files.is_dir(".git")


def test_dockerfile_specific_ignore_wins(context: Path):
    (context / "Dockerfile.dockerignore").write_text("src\n")
    files = BuildContext(context, context / "Dockerfile")
    assert files.ignore_file == context / "Dockerfile.dockerignore"
    assert files.ignored("src/index.js") and not files.ignored("node_modules")


def test_glob_uses_docker_matching(context: Path):
    files = BuildContext(context, context / "Dockerfile")
    assert files.glob("*.json") == ["package.json"]
    assert files.glob("*.md") == ["README.md"]
    assert files.glob("src") == ["src"]
    assert files.glob("missing.txt") == []


def test_each_file_is_read_once(context: Path, monkeypatch: pytest.MonkeyPatch):
    files = BuildContext(context, None)
    reads = []
    original = files._read
    monkeypatch.setattr(files, "_read", lambda key: reads.append(key) or original(key))
    for _ in range(3):
        files.read_text("package.json")
    assert reads == ["package.json"]


def test_listing_is_bounded(tmp_path: Path):
    for i in range(30):
        (tmp_path / f"f{i}").write_text("x")
    with pytest.raises(ContextTooLarge):
        list_context(tmp_path, load_dockerignore(tmp_path), limit=10)
    assert len(list_context(tmp_path, load_dockerignore(tmp_path), limit=100).files) == 30


def test_what_a_path_is_is_looked_up_once_and_as_the_filesystem_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Files, folders, links to either, dangling and looping links, ignored and missing paths:
    each answer is pathlib's (minus what .dockerignore keeps out), and each path is looked at
    once however often it is asked about."""
    write(tmp_path, {"a.txt": "x", "src/m.py": "", "secret.env": "k", ".dockerignore": "*.env\n"})
    (tmp_path / "to-file").symlink_to("a.txt")
    (tmp_path / "to-dir").symlink_to("src")
    (tmp_path / "dangling").symlink_to("nowhere")
    (tmp_path / "loop").symlink_to("loop")
    names = ("a.txt", "src", "./src/m.py", "secret.env", "to-file", "to-dir", "dangling", "loop", "missing", "")
    expected = {}
    for name in names:
        path, sent = tmp_path / name, name != "secret.env"
        expected[name] = (path.is_file() and sent, path.is_dir() and sent, path.exists() and sent, path.exists())
    context = BuildContext(tmp_path)
    calls = []
    real_stat = os.stat
    monkeypatch.setattr(os, "stat", lambda path, *a, **k: calls.append(str(path)) or real_stat(path, *a, **k))
    for _ in range(3):
        for name in names:
            assert (context.is_file(name), context.is_dir(name), context.exists(name), context.on_disk(name)) == expected[name]
    assert len(calls) == len(names)


def _nested(root: Path, depth: int) -> Path:
    """``root/d/d/.../d`` ``depth`` folders deep, made one level at a time (pathlib's own
    ``mkdir(parents=True)`` recurses once per level)."""
    folder = root
    for _ in range(depth):
        folder = folder / "d"
        os.mkdir(folder)
    return folder


def test_the_context_walk_goes_as_deep_as_the_tree_without_recursing(tmp_path: Path):
    """Python 3.11's os.walk recurses once per level: a context folder 1,200 levels deep made
    every check of its Dockerfile fail with "input too deeply nested" (the context, not the
    file, was deep). The walk now keeps a stack; the file is checked and its context read."""
    from slimfile.engine import Settings, check_source

    deepest = _nested(tmp_path, 1200)
    try:
        (deepest / "app.py").write_text("print(1)\n")
        write(tmp_path, {"requirements.txt": "flask\n", ".git/HEAD": "ref: refs/heads/main\n"})
        source = b"FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nCMD [\"python\", \"app.py\"]\n"
        codes = {f.rule.code for f in check_source(source, str(tmp_path / "Dockerfile"), Settings(build_context=str(tmp_path)))}
        assert {"SF701", "SF704"} <= codes  # the context was walked: a .dockerignore for its .git is proposed
        listing = list_context(tmp_path, load_dockerignore(tmp_path))
        assert str(deepest.relative_to(tmp_path) / "app.py") in listing.files
    finally:
        (deepest / "app.py").unlink(missing_ok=True)
        _remove_nested(tmp_path, 1200)  # pytest's own clean-up (shutil.rmtree) recurses too


def _remove_nested(root: Path, depth: int) -> None:
    folder = os.path.join(root, *["d"] * depth)
    for _ in range(depth):
        os.rmdir(folder)
        folder = os.path.dirname(folder)


def test_the_context_walk_visits_what_os_walk_visits_in_the_same_order(tmp_path: Path):
    """Entries, order, pruning, links to folders (listed, not entered), unreadable folders."""
    from slimfile.analysis.build_context import walk_tree

    write(tmp_path, {"a/x": "1", "a/b/y": "2", "c/z": "3", "c/skip/w": "4", "top": "5"})
    os.symlink("a", tmp_path / "link")
    os.symlink("..", tmp_path / "a" / "up")
    os.symlink("missing", tmp_path / "dangling")
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "secret").write_text("s")
    locked.chmod(0)
    try:

        def visits(walk) -> list[tuple[str, list[str], list[str]]]:
            out = []
            for top, dirnames, filenames in walk:
                out.append((top, sorted(dirnames), sorted(filenames)))
                dirnames[:] = [d for d in dirnames if d != "skip"]
            return out

        assert visits(walk_tree(tmp_path)) == visits(os.walk(tmp_path))
    finally:
        locked.chmod(0o755)


def test_a_file_that_is_not_read_is_named_for_why(tmp_path: Path, monkeypatch):
    """read_text gives None for several reasons; a refusal names the one that holds (a file
    over the read limit was "missing from the build context")."""
    from slimfile.analysis import build_context

    write(tmp_path, {"big.sh": "x" * 2000, "left-out.sh": "echo hi\n", ".dockerignore": "left-out.sh\n"})
    (tmp_path / "folder").mkdir()
    monkeypatch.setattr(build_context, "MAX_READ", 1000)
    files = BuildContext(tmp_path)
    assert [files.read_text(name) for name in ("big.sh", "left-out.sh", "folder", "gone.sh")] == [None] * 4
    assert files.why_unread("big.sh") == "over 1,000 bytes, more than slimfile reads"
    assert files.why_unread("left-out.sh") == "that .dockerignore leaves out of the build context"
    assert files.why_unread("folder") == "that is not a regular file"
    assert files.why_unread("gone.sh") == "missing from the build context"


def test_a_file_is_read_up_to_the_limit_whatever_its_size_says(tmp_path: Path):
    """The size ``stat`` gives is not always the size read: files of /proc say 0 (a context
    may link to one), a file may grow after the stat. One byte past the limit is the most read."""
    status = Path("/proc/self/status")
    if not status.is_file():
        pytest.skip("needs Linux's /proc (a regular file whose stat size is 0)")
    assert status.stat().st_size == 0
    assert read_bytes_limited(status, 100) is None
    assert b"Name:" in (read_bytes_limited(status, 1_000_000) or b"")
    (tmp_path / "status").symlink_to(status)
    files = BuildContext(tmp_path)
    assert files.is_file("status") and files.read_text("status") is not None
    write(tmp_path, {"big.txt": "x" * 101})
    assert read_bytes_limited(tmp_path / "big.txt", 100) is None and read_bytes_limited(tmp_path / "big.txt", 101) == b"x" * 101


def test_an_ignore_file_over_the_read_limit_leaves_the_context_unknown(tmp_path: Path, monkeypatch):
    """A repository's .dockerignore of gigabytes was read whole: 300 MB took 3.6 GB and the
    file's whole budget. Past the read limit (patched down here) what the build sends is
    unknown, so the context is (as for standard input), and the passes say why."""
    from slimfile.analysis import build_context

    monkeypatch.setattr(build_context, "MAX_READ", 1000)
    write(tmp_path, {"Dockerfile": "FROM x\nCOPY . .\n", ".dockerignore": "*.log\n" * 200, "app.py": "1"})
    with pytest.raises(IgnoreFileUnread, match=r"^\.dockerignore is over 1,000 bytes, more than slimfile reads$"):
        BuildContext(tmp_path, tmp_path / "Dockerfile")
    ctx = Context(parse(b"FROM x\nCOPY . .\n", path=str(tmp_path / "Dockerfile")), Settings())
    assert ctx.build_context == tmp_path.resolve() and ctx.build_files is None
    assert ctx.context_unread == "the build context was not read (.dockerignore is over 1,000 bytes, more than slimfile reads)"
    # the Dockerfile's own ignore file is the one the build reads: the big one does not matter
    write(tmp_path, {"Dockerfile.dockerignore": "*.log\n"})
    assert BuildContext(tmp_path, tmp_path / "Dockerfile").ignored("a.log")
    assert Context(parse(b"FROM x\n", path=str(tmp_path / "Dockerfile")), Settings()).build_files is not None


def test_without_a_context_the_reason_names_no_ignore_file():
    ctx = Context(parse(b"FROM x\n", path="-"), Settings())
    assert ctx.build_files is None and ctx.context_unread == "the build context was not read"


def test_an_ignore_file_that_cannot_be_read_leaves_the_context_unknown(tmp_path: Path):
    """A .dockerignore linked to /proc/self/mem (a regular file that fails when read) was an
    internal error for the Dockerfile: now its context is unknown, and why is said."""
    mem = Path("/proc/self/mem")
    if not mem.is_file():
        pytest.skip("needs Linux's /proc/self/mem")
    write(tmp_path, {"Dockerfile": "FROM x\nCOPY . .\n"})
    (tmp_path / ".dockerignore").symlink_to(mem)
    with pytest.raises(IgnoreFileUnread, match=r"^slimfile cannot read \.dockerignore: "):
        load_dockerignore(tmp_path)


def test_a_huge_ignore_file_is_not_read_and_the_findings_say_why(tmp_path: Path):
    """The real limit, end to end: a 17 MiB .dockerignore is not read (300 MB took 3.6 GB and
    stopped at the budget); the findings that needed the context say why they stay."""
    write(
        tmp_path,
        {
            "Dockerfile": "FROM node:20\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\nRUN npm run build\n",
            "package.json": '{"name": "a", "version": "1.0.0", "scripts": {"build": "tsc"}}',
            "package-lock.json": '{"lockfileVersion": 3, "packages": {}}',
        },
    )
    line = b"build/some/long/path/name/*.tmp\n"
    (tmp_path / ".dockerignore").write_bytes(line * (17 * 1024 * 1024 // len(line) + 1))
    done = run_slimfile("check", "--output-format", "json", "Dockerfile", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    messages = {item["code"]: item["message"] for item in json.loads(done.stdout)}
    why = "(.dockerignore is over 16 MiB, more than slimfile reads)"
    assert messages["SF801"].endswith(f"and the build context is not known {why}")
    assert f"the build context was not read {why}" in messages["SF901"]
