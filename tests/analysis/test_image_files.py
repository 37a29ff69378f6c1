"""Which build-context file an image path holds when a step runs (analysis/image_files.py)."""

from __future__ import annotations

from pathlib import Path

from slimfile.analysis.context import Context
from slimfile.analysis.image_files import ABSENT, FromContext, Unknown, origins, tree_origin
from slimfile.engine import Settings
from slimfile.syntax.parser import parse
from tests.cli.conftest import write

FILES = {"package.json": "{}", "package-lock.json": "{}", "web/package.json": "{}", "node_modules/a/x.js": ""}


def at_last(tmp_path: Path, text: str, paths: list[str]):
    """Origins of ``paths`` when the last instruction of the last stage runs."""
    write(tmp_path, FILES)
    dockerfile = parse(text.encode())
    ctx = Context(dockerfile, Settings(build_context=str(tmp_path)))
    stage = dockerfile.stages.stages[-1]
    return ctx, stage, origins(ctx, stage, stage.instructions[-1], paths)


def test_named_files_a_glob_and_a_folder_copy(tmp_path: Path):
    _, _, found = at_last(tmp_path, "FROM node\nWORKDIR /app\nCOPY package*.json ./\nRUN true\n", ["/app/package.json", "/app/package-lock.json", "/app/x"])
    assert found == {"/app/package.json": FromContext("package.json", 3), "/app/package-lock.json": FromContext("package-lock.json", 3), "/app/x": ABSENT}
    _, _, found = at_last(tmp_path, "FROM node\nCOPY web /srv\nCOPY package.json /srv/root.json\nRUN true\n", ["/srv/package.json", "/srv/root.json"])
    assert found == {"/srv/package.json": FromContext("web/package.json", 2), "/srv/root.json": FromContext("package.json", 3)}
    # a file copied onto the WORKDIR without a trailing slash lands inside it
    _, _, found = at_last(tmp_path, "FROM node\nWORKDIR /app\nCOPY package.json /app\nRUN true\n", ["/app/package.json"])
    assert found["/app/package.json"] == FromContext("package.json", 3)


def test_a_later_copy_wins_and_base_stages_count(tmp_path: Path):
    text = "FROM node AS deps\nWORKDIR /app\nCOPY package.json ./\nFROM deps\nCOPY web/package.json ./\nRUN true\n"
    _, _, found = at_last(tmp_path, text, ["/app/package.json"])
    assert found["/app/package.json"] == FromContext("web/package.json", 5)


def test_unknown_writers(tmp_path: Path):
    _, _, found = at_last(tmp_path, "FROM node\nWORKDIR /app\nCOPY . .\nRUN rm package-lock.json\nRUN true\n", ["/app/package-lock.json"])
    assert found["/app/package-lock.json"] == Unknown("line 4 writes /app/package-lock.json")
    _, _, found = at_last(tmp_path, "FROM node\nWORKDIR /app\nCOPY --from=build /out/ ./\nRUN true\n", ["/app/package.json"])
    assert "another stage" in found["/app/package.json"].reason
    _, _, found = at_last(tmp_path, "FROM node\nWORKDIR /app\nCOPY . .\nRUN ./generate.sh\nRUN true\n", ["/app/package.json"])
    assert isinstance(found["/app/package.json"], Unknown)
    # a RUN that writes elsewhere changes nothing
    _, _, found = at_last(tmp_path, "FROM node\nWORKDIR /app\nCOPY . .\nRUN mkdir -p /app/logs\nRUN true\n", ["/app/package.json"])
    assert found["/app/package.json"] == FromContext("package.json", 3)


def test_dockerignore_and_folders(tmp_path: Path):
    write(tmp_path, {".dockerignore": "package-lock.json\n"})
    ctx, stage, found = at_last(tmp_path, "FROM node\nWORKDIR /app\nCOPY . .\nRUN true\n", ["/app/package-lock.json"])
    assert found["/app/package-lock.json"] == ABSENT
    assert tree_origin(ctx, stage, stage.instructions[-1], "/app/node_modules") == FromContext("node_modules", 3)
    assert tree_origin(ctx, stage, stage.instructions[-1], "/srv/node_modules") == ABSENT


def test_copy_flags_that_change_what_lands_where_make_it_unknown(tmp_path: Path):
    _, _, found = at_last(tmp_path, "FROM node\nWORKDIR /app\nCOPY --exclude=*.lock . .\nRUN true\n", ["/app/package.json"])
    assert "`--exclude`" in found["/app/package.json"].reason
    _, _, found = at_last(tmp_path, "FROM node\nWORKDIR /app\nCOPY --chown=node:node --chmod=644 package.json ./\nRUN true\n", ["/app/package.json"])
    assert found["/app/package.json"] == FromContext("package.json", 3)
