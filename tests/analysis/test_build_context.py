"""The build context as the builder sends it: .dockerignore applied, files read once."""

from __future__ import annotations

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
