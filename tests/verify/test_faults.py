"""``slimfile verify`` under faults: an unreachable engine is one line and exit 2; Ctrl-C or
SIGTERM (a CI time limit) in the middle of a build or a run removes every image and container
that verify made and restores the application file it changed for the warm-rebuild probe.

The real-build tests (marker ``docker``) run ``slimfile verify`` as a subprocess on a copy of a
fixture app whose directory name is unique, so that "its own" images and containers are exactly
those whose tag or name carries that name, whatever else runs on the shared engine.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from slimfile.signals import Interrupted, act_on_held, stop_signals_held, stop_signals_raise
from slimfile.verify.docker_engine import Engine
from tests.conftest import ROOT
from tests.docker_engine import fixture_apps_dir

MANY_RUNS = fixture_apps_dir() / "many-runs"
WAIT = 180.0  # seconds a step may take on a busy machine before the test gives up


def slimfile_verify(*args: str, env: dict[str, str] | None = None, **popen) -> subprocess.Popen:
    environment = dict(os.environ if env is None else env, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "slimfile", "verify", *args], env=environment, **popen)


# --- without an engine ---------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["unix:///nonexistent/docker.sock", "tcp://127.0.0.1:9"])
def test_an_unreachable_engine_is_one_line_and_exit_2(tmp_path, host):
    (tmp_path / "Dockerfile").write_text("FROM debian:bookworm-slim\nRUN apt-get update\nRUN apt-get install -y curl\n")
    env = {k: v for k, v in os.environ.items() if k != "DOCKER_HOST"}
    process = slimfile_verify(
        str(tmp_path / "Dockerfile"), env=dict(env, DOCKER_HOST=host), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 2
    assert stdout == b""
    reason = "No such file or directory" if host.startswith("unix") else "Connection refused"
    assert stderr.decode() == f"error: cannot reach the Docker engine at {host}: {reason}\n"


class FakeApi:
    """The SDK's low-level API, as far as verify's containers go; ``create_container`` can be
    interrupted after the engine made the container, as a Ctrl-C in the HTTP call would be."""

    def __init__(self, interrupt_create: bool = False) -> None:
        self.interrupt_create = interrupt_create
        self.existing: set[str] = set()

    def create_container(self, ref, command=None, name=None, **_options):
        self.existing.add(name)
        if self.interrupt_create:
            raise KeyboardInterrupt
        return {"Id": name}

    def export(self, container_id, chunk_size):
        return iter([b""])

    def remove_container(self, name, force, v):
        if name not in self.existing:
            raise type("NotFound", (Exception,), {"status_code": 404})()
        self.existing.remove(name)


class FakeClient:
    def __init__(self, api: FakeApi) -> None:
        self.api = api


def test_a_container_created_during_an_interrupt_is_still_removed():
    api = FakeApi(interrupt_create=True)
    engine = Engine(client=FakeClient(api), cli="docker", container_prefix="slimfile-verify-test-1234")
    with pytest.raises(KeyboardInterrupt), engine.exported_filesystem("slimfile-verify:test-1234-before"):
        pass
    assert api.existing == {"slimfile-verify-test-1234-1"}  # the create call never returned
    assert engine.remove_containers() == []
    assert api.existing == set()


def test_containers_are_named_after_the_session_and_removed_once():
    api = FakeApi()
    engine = Engine(client=FakeClient(api), cli="docker", container_prefix="slimfile-verify-app-1")
    for _ in range(2):
        with engine.exported_filesystem("some-image"):
            pass
    assert engine.containers == ["slimfile-verify-app-1-1", "slimfile-verify-app-1-2"]
    assert api.existing == set()  # removed as each export ended
    assert engine.remove_containers() == []  # already gone is fine


def test_stop_requests_are_held_back_during_clean_up():
    with stop_signals_held() as held:
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGTERM)
        finished = True  # the clean-up was not cut short
    assert finished and held == ["SIGINT", "SIGTERM"]
    with pytest.raises(KeyboardInterrupt):
        act_on_held(held)
    with pytest.raises(Interrupted):
        act_on_held(["SIGHUP"])
    act_on_held([])


def test_sigterm_becomes_an_exception_and_the_handler_is_put_back():
    previous = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Interrupted), stop_signals_raise():
        os.kill(os.getpid(), signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) == previous


def test_a_build_that_outlives_an_interrupt_is_stopped(tmp_path):
    """The clean-up stops a build client still running (here a stand-in that ignores SIGINT and
    SIGTERM, so it takes the kill) and waits for it before any tag is removed."""
    engine = Engine(client=None, cli="docker")
    stubborn = subprocess.Popen(
        [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); "
         "signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(600)"],
        stdout=subprocess.PIPE,
    )
    assert stubborn.stdout.readline() == b"ready\n"
    engine._builds.append(stubborn)
    engine.stop_builds()
    assert stubborn.returncode == -signal.SIGKILL
    assert engine._builds == []


# --- with an engine ------------------------------------------------------------------------------

SLOW_WARM_REBUILD = (
    # only the warm rebuild (report.sh carries the probe line) takes long: the signal lands in it
    'RUN if grep -q "warm-rebuild probe" /opt/report/report.sh; then sleep 300; fi\n'
)


@pytest.fixture
def app(tmp_path) -> Path:
    """A copy of the many-runs fixture app in a directory with a unique name."""
    copy = tmp_path / f"faults-{secrets.token_hex(4)}"
    shutil.copytree(MANY_RUNS, copy)
    return copy


def its_images(engine: Engine, app: Path) -> list[str]:
    prefix = f"slimfile-verify:{app.name}-"
    return sorted(tag for image in engine.client.images.list() for tag in image.tags if tag.startswith(prefix))


def its_containers(engine: Engine, app: Path) -> list[str]:
    prefix = f"slimfile-verify-{app.name}-"
    containers = engine.client.containers.list(all=True, filters={"name": prefix})
    return sorted(c.name for c in containers if c.name.startswith(prefix))


def wait_for(condition, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"verify ended ({process.returncode}) before {what}: {process.communicate()}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.2)


def stop(process: subprocess.Popen, signum: int) -> tuple[str, str]:
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=WAIT)
    return stdout.decode(), stderr.decode()


@pytest.mark.docker
@pytest.mark.xdist_group("docker-builds")
def test_ctrl_c_during_the_warm_rebuild_removes_everything_and_restores_the_file(engine, app):
    dockerfile = app / "Dockerfile"
    text = dockerfile.read_text()
    dockerfile.write_text(text.replace("RUN chmod 0755", SLOW_WARM_REBUILD + "RUN chmod 0755", 1))
    probe = app / "report.sh"
    original, times = probe.read_bytes(), probe.stat()
    assert its_images(engine, app) == [] and its_containers(engine, app) == []

    process = slimfile_verify(str(dockerfile), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for(lambda: probe.read_bytes() != original, process, "the probe line was appended")
    wait_for(lambda: its_images(engine, app) != [], process, "the cold build's image existed")
    time.sleep(2)  # the warm rebuild is in its long step now
    stdout, stderr = stop(process, signal.SIGINT)

    assert process.returncode == 130, stderr
    assert "interrupted" in stdout
    assert "Traceback" not in stderr
    assert probe.read_bytes() == original
    assert probe.stat().st_mtime_ns == times.st_mtime_ns
    assert its_images(engine, app) == []
    assert its_containers(engine, app) == []


@pytest.mark.docker
@pytest.mark.xdist_group("docker-builds")
def test_sigterm_while_a_container_runs_removes_it_and_the_images(engine, app):
    """SIGTERM is what a CI job limit or timeout(1) sends."""
    process = slimfile_verify(str(app / "Dockerfile"), "--run", "sleep 300", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for(
        lambda: any(c.status == "running" for c in engine.client.containers.list(filters={"name": f"slimfile-verify-{app.name}-"})),
        process,
        "the --run container was running",
    )
    assert its_images(engine, app) != []
    stdout, stderr = stop(process, signal.SIGTERM)

    assert process.returncode == 130, stderr
    assert "interrupted" in stdout
    assert "Traceback" not in stderr
    assert its_containers(engine, app) == []
    assert its_images(engine, app) == []
    assert (app / "report.sh").read_bytes() == (MANY_RUNS / "report.sh").read_bytes()
