"""Rewrites that break something must be caught with real builds (marker: docker).

Each test injects a made-up pass (tests/verify/fake_passes.py) that gets past the static check
of ``slimfile fix`` (it parses, and the semantic summary sees nothing or is told it may change)
but does the wrong thing to the built image. verify must exit 1 and say what differs.
"""

from __future__ import annotations

import json

import pytest

from slimfile.commands import VerifyOptions, run_verify
from slimfile.verify import VerifyRequest, verify
from slimfile.verify.progress import SilentProgress
from tests.docker_engine import fixture_apps_dir
from tests.verify.fake_passes import replacing

# one xdist worker does every build (run with --dist loadgroup): the session cache of verify
# results lives in one process, and parallel builds would distort the measured times
pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("docker-builds")]

APPS = fixture_apps_dir()
MANY_RUNS = APPS / "many-runs" / "Dockerfile"
PYTHON_WEB = APPS / "python-web" / "Dockerfile"


def verify_with(dockerfile, *passes, engine, **request):
    report = verify(VerifyRequest(dockerfile=dockerfile, **request), passes=list(passes), engine=engine)
    assert report.error is None, (report.error, report.error_log)
    assert [tag for tag in report.built_images if engine.has_image(tag)] == []
    return report


def kinds(report):
    return [problem.kind for problem in report.problems]


@pytest.fixture
def blind_static_check(monkeypatch):
    """``slimfile fix`` refuses undeclared config and base-image changes itself; to show that
    verify catches what a static check could miss, switch that check off."""
    monkeypatch.setattr("slimfile.engine.semantic_differences", lambda *args, **kwargs: [])


def test_a_cmd_change_no_fix_declared_is_caught(engine, blind_static_check):
    bad = replacing("SF901", b'CMD ["/opt/report/report.sh"]', b'CMD ["cat", "/opt/report/VERSION"]')
    report = verify_with(MANY_RUNS, bad, engine=engine, run="")
    assert report.rewrite.changed and report.rewrite.declares == []
    assert report.exit_code == 1 and report.verdict == "undeclared-differences"
    assert kinds(report) == ["config", "run"]
    assert report.problems[0].message.startswith("config Cmd: ['/opt/report/report.sh'] -> ['cat', '/opt/report/VERSION']")
    assert "standard output differs" in report.problems[1].message


def test_a_deleted_app_file_is_caught(engine):
    # the static check refuses a vanished COPY unless a fix declares `instructions`; that
    # declaration grants nothing in the built image, so verify must still catch it
    bad = replacing("SF902", b"COPY app.py .\n", b"", frozenset({"instructions"}))
    report = verify_with(PYTHON_WEB, bad, engine=engine, run="")
    assert report.exit_code == 1
    assert kinds(report) == ["app-files", "run"]
    assert "application files differ (1): /srv/app.py removed" in report.problems[0].message
    assert report.run.after.exit_code != 0  # python cannot open app.py


def test_a_changed_app_file_mode_is_caught(engine):
    bad = replacing("SF903", b"chmod 0755 /opt/report/report.sh", b"chmod 0644 /opt/report/report.sh")
    report = verify_with(MANY_RUNS, bad, engine=engine)
    assert kinds(report) == ["app-files"]
    assert "/opt/report/report.sh changed (mode)" in report.problems[0].message
    (change,) = report.files.by_category("app")
    assert (change.before.mode, change.after.mode) == (0o755, 0o644)


def test_a_rewrite_that_does_not_build_is_caught_with_its_log(engine):
    bad = replacing("SF904", b"RUN rm /opt/report/data/numbers.txt\n", b"RUN rm /opt/report/data/no-such-file\n")
    report = verify_with(MANY_RUNS, bad, engine=engine)
    assert report.exit_code == 1 and report.verdict == "rewrite-does-not-build"
    assert kinds(report) == ["build"]
    assert "no-such-file" in report.problems[0].message and "No such file or directory" in report.problems[0].message
    assert report.before.build.ok and not report.after.build.ok


def test_a_base_image_swap_is_fine_when_declared_and_caught_when_not(engine, blind_static_check):
    swap = (b"FROM debian:bookworm-slim\n", b"FROM debian:bookworm\n")
    declared = verify_with(MANY_RUNS, replacing("SF905", *swap, frozenset({"base-image"})), engine=engine, run="")
    assert declared.exit_code == 0, [p.message for p in declared.problems]
    assert declared.files.by_category("system")  # distribution files do differ, and may
    assert declared.files.by_category("app") == [] and declared.config_changes == []
    assert any(change.kind != "unchanged" for change in declared.layer_changes)

    undeclared = verify_with(MANY_RUNS, replacing("SF906", *swap), engine=engine)
    assert kinds(undeclared) == ["system-files"]
    assert "distribution files differ" in undeclared.problems[0].message


def test_per_fix_measures_each_rule_alone_through_the_cli(engine, capsys):
    no_cache = replacing("SF907", b"pip install -r", b"pip install --no-cache-dir -r", name="pip-no-cache-dir")
    same_copy = replacing("SF908", b"COPY requirements.txt .\n", b"COPY requirements.txt ./\n", frozenset({"instructions"}), name="explicit-directory")
    options = VerifyOptions(dockerfile=str(PYTHON_WEB), json_output=True, per_fix=True, isolated=True)
    code = run_verify(options, passes=[no_cache, same_copy])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["verdict"] == "verified", data["problems"]
    savings = {item["code"]: item for item in data["per_fix"]}
    assert sorted(savings) == ["SF907", "SF908"]
    assert savings["SF907"]["saved_alone_bytes"] > 0  # the wheel pip built for docopt is not cached
    assert savings["SF908"]["saved_alone_bytes"] == 0
    assert all(item["fixes_alone"] == 1 and item["failed_builds"] == [] for item in savings.values())
    in_sequence = sum(item["saved_in_sequence_bytes"] for item in savings.values())
    assert in_sequence == -data["comparison"]["size_delta"]  # the sequence adds up to the whole saving
    user_caches = data["comparison"]["files"]["ignored"]["user caches"]
    assert user_caches["bytes_before"] > 0 and user_caches["bytes_after"] == 0
    assert [tag for tag in data["images"]["built"] if engine.has_image(tag)] == []


def test_keep_leaves_the_images_for_inspection(engine):
    report = verify(VerifyRequest(dockerfile=MANY_RUNS, keep=True), engine=engine)
    try:
        assert report.exit_code == 0
        assert report.kept_images and all(engine.has_image(tag) for tag in report.kept_images)
        assert report.before.tag in report.kept_images and report.after.tag in report.kept_images
    finally:
        assert engine.remove_images(report.built_images) == []


class InterruptDuringWarmRebuild(SilentProgress):
    """Presses Ctrl-C while the warm rebuild runs, i.e. while the user's file is changed."""

    def __init__(self, probe_path):
        self.probe_path = probe_path
        self.warm = False
        self.seen_changed = False

    def phase(self, text):
        self.warm = "warm" in text

    def build_line(self, line):
        if self.warm and line.startswith("#"):
            self.seen_changed = b"slimfile verify: warm-rebuild probe" in self.probe_path.read_bytes()
            raise KeyboardInterrupt


def test_ctrl_c_restores_the_file_and_removes_the_images(engine):
    probe = MANY_RUNS.parent / "report.sh"
    original = probe.read_bytes()
    progress = InterruptDuringWarmRebuild(probe)
    report = verify(VerifyRequest(dockerfile=MANY_RUNS), engine=engine, progress=progress)
    assert progress.seen_changed  # the interrupt did come while the file was changed
    assert report.exit_code == 130 and report.verdict == "interrupted"
    assert probe.read_bytes() == original
    assert [tag for tag in report.built_images if engine.has_image(tag)] == []
