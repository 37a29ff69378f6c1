"""The build context as the builder sends it: .dockerignore applied, files read once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from slimfile.analysis.build_context import BuildContext, ContextTooLarge, list_context, load_dockerignore
from tests.cli.conftest import write


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
