"""SF704 with real builds (marker: docker): a copy of fixtures/apps/broad-copy gets what a
developer's folder holds — a git repository, a virtualenv made on the host, bytecode caches,
a .env — and ``slimfile verify --unsafe-fixes`` builds the original and the rewrite with the
proposed ``.dockerignore``: the image no longer has them, every removal is declared by the
fix, the app prints the same, and the user's folder is left exactly as it was."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from slimfile.engine import Settings
from slimfile.verify import VerifyRequest, verify
from tests.docker_engine import fixture_apps_dir
from tests.verify.test_fixture_apps import tree_digest

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("docker-builds")]


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Path:
    app = tmp_path_factory.mktemp("apps") / "broad-copy"
    shutil.copytree(fixture_apps_dir() / "broad-copy", app)
    git = ["git", "-c", "user.name=slimfile", "-c", "user.email=tests@slimfile.invalid"]
    subprocess.run([*git, "init", "-q"], cwd=app, check=True)
    subprocess.run([*git, "add", "-A"], cwd=app, check=True)
    subprocess.run([*git, "commit", "-qm", "the app"], cwd=app, check=True)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", ".venv"], cwd=app, check=True)
    subprocess.run([sys.executable, "-m", "compileall", "-q", "greeter"], cwd=app, check=True)
    (app / ".env").write_text("GREETING_TOKEN=fake-token-for-the-test\n")
    return app


@pytest.fixture(scope="module")
def verified(engine, app: Path):
    before = tree_digest(app)
    report = verify(VerifyRequest(dockerfile=app / "Dockerfile", settings=Settings(unsafe_fixes=True), run=""), engine=engine)
    return report, before, tree_digest(app)


def test_the_rewrite_with_the_proposed_ignore_file_is_verified(verified):
    report, _, _ = verified
    assert report.error is None, (report.error, report.error_log)
    assert report.exit_code == 0 and report.verdict == "verified", [p.message for p in report.problems]
    codes = {fix["code"] for fix in report.rewrite.applied}
    assert "SF704" in codes and "build-context" in report.rewrite.declares and report.rewrite.unsafe_applied


def test_the_image_no_longer_has_what_the_ignore_file_leaves_out(verified):
    report, _, _ = verified
    excluded = {change.path for change in report.files.excluded}
    for path in ("app/.git/HEAD", "app/.git/config", "app/.venv/pyvenv.cfg", "app/.env"):
        assert path in excluded, path
    assert any(p.startswith("app/greeter/__pycache__/") for p in excluded)
    assert all(change.change == "removed" for change in report.files.excluded)
    # nothing else of the application changed, and nothing outside it
    assert report.files.by_category("app") == [] and report.files.by_category("system") == []
    assert not any(p.startswith(("app/greeter/__init__", "app/requirements")) for p in excluded)
    assert report.after.size < report.before.size
    data = report.to_dict()["comparison"]["files"]
    assert "/app/.git/HEAD" in data["excluded_by_dockerignore"] and data["app_changes"] == 0


def test_the_app_runs_the_same(verified):
    report, _, _ = verified
    assert report.run.differences() == []
    assert "hello slimfile, from broad-copy" in report.run.after.stdout.splitlines()
    assert report.config_changes == []


def test_the_warm_rebuild_changes_a_file_both_builds_receive(verified):
    report, _, _ = verified
    assert report.before.warm.probe.context_path == "greeter/__init__.py"
    assert report.after.warm.build.ok


def test_the_folder_is_untouched_and_every_image_removed(verified, engine, app: Path):
    report, before, after = verified
    assert after == before and not (app / ".dockerignore").exists()
    assert [tag for tag in report.built_images if engine.has_image(tag)] == []


CLASS_CONTEXT = ["axc", "abc", "a!c", "a/c", "q/z", "qz", "q1z", "q^z", "[c", "ac"]


@pytest.mark.parametrize("ignore", ["a[!b]c\nq[^/]z\n", "a[^b]c\n", "[[a]c\n*[!q]z\n"])
def test_the_files_a_dockerignore_keeps_out_are_the_ones_the_engine_keeps_out(engine, tmp_path, ignore):
    """Character classes as the engine reads them: ``[!b]`` is the class of ``!`` and ``b``,
    ``[^b]`` is negated and matches ``/`` (slimfile read ``[!b]`` as a negation)."""
    from slimfile.analysis.globs import DockerIgnore

    for name in CLASS_CONTEXT:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x\n")
    (tmp_path / ".dockerignore").write_text(ignore)
    (tmp_path / "Dockerfile").write_text("FROM debian:bookworm-slim\nCOPY . /ctx\n")
    tag = "slimfile-test-dockerignore-classes"
    built = engine.build(tmp_path / "Dockerfile", tmp_path, tag, no_cache=True, workdir=tmp_path)
    try:
        assert built.returncode == 0, built.lines[-5:]
        listed = engine.run(tag, ["find", "/ctx", "-type", "f"], timeout=60)
        sent = sorted(path.removeprefix("/ctx/") for path in listed.stdout.split())
    finally:
        engine.remove_images([tag])
    rules = DockerIgnore.from_text(ignore)
    expected = sorted(name for name in [*CLASS_CONTEXT, ".dockerignore", "Dockerfile"] if not rules.excludes(name))
    assert sent == expected
