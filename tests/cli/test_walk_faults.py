"""A directory walk never aborts the run: symlink loops, links back to an ancestor, unreadable
directories and files that vanish meanwhile are warned about and skipped, every other Dockerfile
is checked, and each real file is checked once."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import slimfile.commands
import slimfile.files
from slimfile.files import Discovered, WalkWarning, discover
from tests.cli.conftest import run_slimfile, write

pytestmark = pytest.mark.usefixtures("sample_rules")

# findings from the real pipeline and from the sample pass alike: the report lists every file checked
SUDO = "FROM debian\nRUN apt-get install -y curl && sudo true\n"


def checked(result) -> list[str]:
    return sorted({item["filename"] for item in json.loads(result.out)})


def warnings(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("warning:")]


@pytest.fixture
def tangled(tmp_path: Path) -> Path:
    """Real Dockerfiles, with a symlink loop, links to the parent and to the root, a link to a
    sibling directory (a second path to the same files) and a link to a Dockerfile."""
    root = tmp_path / "repo"
    write(root, {"Dockerfile": SUDO, "a/Dockerfile": SUDO, "a/deep/api.Dockerfile": SUDO, "b/Dockerfile.dev": SUDO})
    (root / "loop1").symlink_to("loop2")
    (root / "loop2").symlink_to("loop1")
    (root / "a" / "self").symlink_to("self")
    (root / "a" / "deep" / "up").symlink_to("..", target_is_directory=True)
    (root / "a" / "root").symlink_to(root, target_is_directory=True)
    (root / "c").symlink_to("b", target_is_directory=True)  # walked after b: the same files, once
    (root / "a" / "same.Dockerfile").symlink_to("Dockerfile")  # the same file as a/Dockerfile
    return root


def test_a_tangled_tree_is_checked_without_a_traceback(tangled):
    done = run_slimfile("check", "--output-format", "json", ".", cwd=tangled)
    assert done.returncode == 1, done.stderr  # findings, no error
    stderr = done.stderr.decode()
    assert "Traceback" not in stderr
    assert sorted({item["filename"] for item in json.loads(done.stdout)}) == [
        "Dockerfile",
        "a/Dockerfile",
        "a/deep/api.Dockerfile",
        "b/Dockerfile.dev",
    ]
    assert sorted(line for line in stderr.splitlines() if line.startswith("warning:")) == [
        "warning: a/deep/up: symbolic link to a directory that contains it (a loop); not followed",
        "warning: a/root: symbolic link to a directory that contains it (a loop); not followed",
        "warning: a/self: symlink loop (too many levels of symbolic links); not followed",
        "warning: loop1: symlink loop (too many levels of symbolic links); not followed",
        "warning: loop2: symlink loop (too many levels of symbolic links); not followed",
    ]


def test_fix_in_a_tangled_tree_writes_each_real_file_once(cli, tangled):
    result = cli("fix", ".", cwd=tangled)
    assert result.exit_code == 0, result.stderr
    assert "4 files seen: 4 changed." in result.stderr
    assert (tangled / "a" / "Dockerfile").read_text() == "FROM debian\nRUN apt-get install --no-install-recommends -y curl && sudo true\n"
    assert (tangled / "a" / "same.Dockerfile").is_symlink()  # written through the real path, link kept


def test_a_hard_link_is_one_file(cli, tmp_path):
    write(tmp_path, {"a/Dockerfile": SUDO})
    (tmp_path / "b").mkdir()
    os.link(tmp_path / "a" / "Dockerfile", tmp_path / "b" / "Dockerfile")
    assert checked(cli("check", "-o", "json", ".", cwd=tmp_path)) == ["a/Dockerfile"]


def test_a_symlink_named_on_the_command_line_is_read(cli, tmp_path):
    write(tmp_path, {"real/Dockerfile": SUDO})
    (tmp_path / "link.Dockerfile").symlink_to(tmp_path / "real" / "Dockerfile")
    result = cli("check", "-o", "json", "link.Dockerfile", cwd=tmp_path)
    assert checked(result) == ["link.Dockerfile"]


def test_an_unreadable_directory_is_skipped_with_a_warning(cli, tmp_path, monkeypatch):
    """Root reads everything, so the refusal is simulated where the walk lists a directory."""
    write(tmp_path, {"open/Dockerfile": SUDO, "secret/Dockerfile": SUDO, "z/Dockerfile": SUDO})
    refuse_listing(monkeypatch, tmp_path / "secret", PermissionError(13, "Permission denied"))
    result = cli("check", "-o", "json", ".", cwd=tmp_path)
    assert result.exit_code == 1
    assert checked(result) == ["open/Dockerfile", "z/Dockerfile"]
    assert warnings(result) == ["warning: secret: cannot read directory: Permission denied; skipped"]


def test_a_directory_that_vanishes_during_the_walk_is_skipped(tmp_path, monkeypatch):
    write(tmp_path, {"a/Dockerfile": SUDO, "gone/Dockerfile": SUDO})
    refuse_listing(monkeypatch, tmp_path / "gone", FileNotFoundError(2, "No such file or directory"))
    items = list(discover([str(tmp_path)]))
    assert [os.path.relpath(i.path, tmp_path) for i in items if isinstance(i, Discovered)] == ["a/Dockerfile"]
    assert [str(i) for i in items if isinstance(i, WalkWarning)] == [f"{tmp_path / 'gone'}: directory vanished during the walk; skipped"]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_file_deleted_between_discovery_and_reading_is_skipped(cli, tmp_path, monkeypatch, jobs):
    names = [f"d{i:02d}/Dockerfile" for i in range(20)]
    write(tmp_path, {name: SUDO for name in names})
    real_discover = slimfile.commands.discover

    def discover_then_delete(*args, **kwargs):
        for item in real_discover(*args, **kwargs):
            yield item
            if isinstance(item, Discovered) and item.path == names[3]:
                os.remove(tmp_path / names[3])  # after discovery, before the job reads it

    monkeypatch.setattr(slimfile.commands, "discover", discover_then_delete)
    result = cli("check", "-o", "json", "--jobs", jobs, ".", cwd=tmp_path)
    assert result.exit_code == 1  # findings; the vanished file is no error
    assert checked(result) == sorted(n for n in names if n != names[3])
    assert warnings(result) == [f"warning: skipped {names[3]}: no such file or directory"]


def test_a_broken_symlink_with_a_dockerfile_name_is_warned_about(cli, tmp_path):
    write(tmp_path, {"a/Dockerfile": SUDO})
    (tmp_path / "b.Dockerfile").symlink_to(tmp_path / "missing")
    (tmp_path / "notes").symlink_to(tmp_path / "missing")  # not a Dockerfile name: nothing to say
    result = cli("check", "-o", "json", ".", cwd=tmp_path)
    assert checked(result) == ["a/Dockerfile"]
    assert warnings(result) == ["warning: b.Dockerfile: broken symbolic link; skipped"]


def test_an_unreadable_directory_named_on_the_command_line_is_an_error(cli, tmp_path, monkeypatch):
    write(tmp_path, {"secret/Dockerfile": SUDO, "open/Dockerfile": SUDO})
    refuse_listing(monkeypatch, tmp_path / "secret", PermissionError(13, "Permission denied"))
    result = cli("check", "-o", "json", "secret", "open", cwd=tmp_path)
    assert result.exit_code == 2
    assert checked(result) == ["open/Dockerfile"]
    assert "error: secret: cannot read directory: Permission denied" in result.stderr.splitlines()


def refuse_listing(monkeypatch, directory: Path, error: OSError) -> None:
    """``os.scandir`` of ``directory`` fails with ``error``; every other listing works."""
    real_scandir = os.scandir
    refused = str(directory)

    def scandir(path="."):
        if os.fspath(path) == refused:
            raise error
        return real_scandir(path)

    monkeypatch.setattr(slimfile.files.os, "scandir", scandir)
