"""The pre-commit hooks, run for real through ``pre-commit try-repo``.

try-repo needs the hook repository as a git repository: a temporary one is made from a copy of
this worktree's files and committed (no network). pre-commit then builds the hook's own
virtualenv by pip-installing that repository, which fetches slimfile's dependencies from PyPI
(or the local wheel cache pip is configured with). The environment is built once per session
in a temporary PRE_COMMIT_HOME and shared by both hooks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

GIT_ENV = {
    "GIT_AUTHOR_NAME": "slimfile tests",
    "GIT_AUTHOR_EMAIL": "tests@slimfile.invalid",
    "GIT_COMMITTER_NAME": "slimfile tests",
    "GIT_COMMITTER_EMAIL": "tests@slimfile.invalid",
}


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env={**os.environ, **GIT_ENV})


def _worktree_files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    return [name for name in out.decode().split("\0") if name and (ROOT / name).is_file()]


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory) -> Path:
    repo = tmp_path_factory.mktemp("hook-repo")
    for name in _worktree_files():
        target = repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "snapshot for try-repo")
    return repo


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def pre_commit_executable() -> str:
    candidate = Path(sys.executable).with_name("pre-commit")
    if candidate.exists():
        return str(candidate)
    found = shutil.which("pre-commit")
    if found is None:
        pytest.fail("pre-commit is not installed (it is in the `test` extra)")
    return found


def try_repo(project: Path, hook_repo: Path, home: Path, hook: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **GIT_ENV, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never"}
    env.pop("PYTHONPATH", None)  # the hook must run the slimfile installed in its own venv
    return subprocess.run(
        [pre_commit_executable(), "try-repo", str(hook_repo), hook, "--all-files", "--verbose"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.fixture
def project(tmp_path) -> Path:
    git(tmp_path, "init", "-q")
    (tmp_path / "Dockerfile").write_text('FROM python:3.12-slim\nCOPY . /app\nCMD ["python", "/app/main.py"]\n')
    (tmp_path / "notes.md").write_text("RUN <<EOF (not a Dockerfile: never passed to the hook)\n")
    (tmp_path / ".dockerignore").write_text(".git\n")  # COPY . /app sends the context: keep .git out (SF704)
    git(tmp_path, "add", "-A")
    return tmp_path


@pytest.mark.parametrize("hook", ["slimfile-check", "slimfile-fix"])
def test_hook_passes_on_a_clean_dockerfile(project, hook_repo, pre_commit_home, hook):
    result = try_repo(project, hook_repo, pre_commit_home, hook)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Passed" in result.stdout
    assert "notes.md" not in result.stdout


@pytest.mark.parametrize("hook", ["slimfile-check", "slimfile-fix"])
def test_hook_fails_on_a_broken_dockerfile(project, hook_repo, pre_commit_home, hook):
    (project / "worker.Dockerfile").write_text("FROM alpine\nRUN <<EOF\necho never terminated\n")
    git(project, "add", "-A")
    result = try_repo(project, hook_repo, pre_commit_home, hook)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Failed" in result.stdout
    assert "worker.Dockerfile:2: unterminated heredoc" in result.stdout
    assert "notes.md" not in result.stdout


@pytest.mark.parametrize("hook", ["slimfile-check", "slimfile-fix"])
def test_hooks_leave_templates_alone(project, hook_repo, pre_commit_home, hook):
    """identify tags `Dockerfile.j2` `dockerfile`: the hooks' exclude keeps it out, as
    slimfile's own walk does (its `{{ ... }}` line was an SF001 error)."""
    template = "FROM {{ base_image }}\n{% if dev %}\nRUN apt-get update\n{% endif %}\n"
    (project / "Dockerfile.j2").write_text(template)
    git(project, "add", "-A")
    result = try_repo(project, hook_repo, pre_commit_home, hook)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (project / "Dockerfile.j2").read_text() == template


def test_hook_honours_the_configuration_excludes(project, hook_repo, pre_commit_home):
    (project / "vendor").mkdir()
    (project / "vendor" / "Dockerfile").write_text("FROM alpine\nRUN <<EOF\nbroken but excluded\n")
    (project / "slimfile.toml").write_text('extend-exclude = ["vendor/"]\n')
    git(project, "add", "-A")
    result = try_repo(project, hook_repo, pre_commit_home, "slimfile-check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_fix_hook_rewrites_and_stops_the_commit(project, hook_repo, pre_commit_home):
    """With the real rules: the hook rewrites the file, so pre-commit reports the modification and
    fails; run again on the rewritten file, it changes nothing and passes."""
    original = "FROM debian:12\nRUN apt-get update\nRUN apt-get install -y curl\n"
    (project / "api.Dockerfile").write_text(original)
    git(project, "add", "-A")
    result = try_repo(project, hook_repo, pre_commit_home, "slimfile-fix")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "files were modified by this hook" in result.stdout
    fixed = (project / "api.Dockerfile").read_text()
    assert fixed != original and "apt-get update" in fixed
    git(project, "add", "-A")
    assert try_repo(project, hook_repo, pre_commit_home, "slimfile-fix").returncode == 0
