"""The test suite itself: on a clone without ../shared or a Docker engine, the tests that need
them are skipped with a reason that says how to enable them (no "got empty parameter set"), the
skipped groups are listed at the end, and SLIMFILE_REQUIRE_ALL=1 (CI) turns those skips into
failures. Runs pytest in a subprocess on a few of the marked tests."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT

SHARED_TESTS = ["tests/syntax/test_roundtrip_shared.py", "tests/shell/test_integration.py"]
DOCKER_TESTS = ["tests/verify/test_faults.py::test_ctrl_c_during_the_warm_rebuild_removes_everything_and_restores_the_file",
                "tests/verify/test_faults.py::test_sigterm_while_a_container_runs_removes_it_and_the_images"]


def pytest_run(*args: str, **env: str) -> subprocess.CompletedProcess:
    # CI (and BUILD_NUMBER) make pytest print whole messages in its short summary: the counts
    # below are of the report body alone
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith(("SLIMFILE_", "PYTEST_", "DOCKER_")) and k not in ("CI", "BUILD_NUMBER")}
    environment.update(SLIMFILE_SHARED="/nonexistent/shared", DOCKER_HOST="unix:///nonexistent/docker.sock", SLIMFILE_HYPOTHESIS_EXAMPLES="10", COLUMNS="80")
    environment.update(env)
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", "-q", *args]
    wrapper = environment.pop("PYTEST_WRAPPER", None)  # shell commands run before pytest starts
    if wrapper:
        command = ["bash", "-c", f'{wrapper}; exec "$@"', "bash", *command]
    return subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=600)


def test_without_shared_data_or_an_engine_the_tests_skip_with_how_to_enable_them():
    done = pytest_run(*SHARED_TESTS, *DOCKER_TESTS)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "empty parameter set" not in done.stdout
    assert "skipped test groups and how to enable them" in done.stdout
    assert "shared (6 tests): needs ../shared (the shared corpus): clone it beside the checkout or set SLIMFILE_SHARED" in done.stdout
    assert "docker (2 tests): needs a Docker engine with the docker-zoo base images and extras: run ZOO_EXTRA=1 ../shared/docker-zoo/setup.sh" in done.stdout
    assert "unix:///nonexistent/docker.sock does not answer" in done.stdout
    assert " passed, 8 skipped" in done.stdout  # what needs neither still runs


def test_under_require_all_a_missing_group_fails():
    done = pytest_run(*SHARED_TESTS, *DOCKER_TESTS, SLIMFILE_REQUIRE_ALL="1")
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.count("SLIMFILE_REQUIRE_ALL=1 and this test needs ../shared") == 6
    assert done.stdout.count("SLIMFILE_REQUIRE_ALL=1 and this test needs a Docker engine") == 2
    assert " skipped" not in done.stdout.splitlines()[-1]


def test_under_require_all_a_run_without_tests_fails():
    assert pytest_run("tests/syntax/test_stages.py", "-k", "no_such_test").returncode == 5
    assert pytest_run("tests/syntax/test_stages.py", "-k", "no_such_test", SLIMFILE_REQUIRE_ALL="1").returncode == 1


def test_ctrl_c_tests_pass_when_the_runner_was_started_with_ctrl_c_ignored():
    # what a script's `.ci/run &` does: bash starts background jobs with SIGINT ignored
    test = "tests/verify/test_cache_probe.py::test_the_file_is_restored_on_ctrl_c"
    done = pytest_run(test, PYTEST_WRAPPER="trap '' INT")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
