"""A Docker engine with the zoo's offline base images, for the real-build tests (marker ``docker``).

``DOCKER_HOST`` (by default the harness socket that ``../shared/docker-zoo/env.sh`` names) is
used when it answers and has the base images and the extras the fixture apps use. Otherwise,
as root and with ``../shared/docker-zoo/setup.sh`` present, that script is run with
``ZOO_EXTRA=1`` (installs docker.io, starts the private daemon, builds the images;
idempotent): that is how CI gets its engine.
``SLIMFILE_NO_DOCKER_SETUP=1`` forbids it. Otherwise the tests are skipped with the reason, or,
under ``SLIMFILE_REQUIRE_ALL=1`` (CI), they fail: a missing engine must never look like a pass
there. A fresh clone has no setup script, so on a user's machine nothing is ever installed.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path


from tests.conftest import SHARED

ZOO = SHARED / "docker-zoo"
ENV_FILE = ZOO / "env.sh"
SETUP = ZOO / "setup.sh"
SETUP_TIMEOUT = 45 * 60
BASE_IMAGES = (
    "debian:bookworm",
    "debian:bookworm-slim",
    "python:3.11-slim",
    "node:18-slim",
    "golang:1.19",
    # the zoo's optional extras (built with ZOO_EXTRA=1) that fixture apps and their rewrites
    # use: without them those builds fail with "the original Dockerfile does not build",
    # not with a reason that says what is missing
    "ruby:3.1",
    "ruby:3.1-slim",
    "eclipse-temurin:17-jdk",
    "eclipse-temurin:17-jre",
    "rust:1",
    "nginx:1",
)


def harness_settings() -> dict[str, str]:
    """The ``export NAME=value`` lines of the zoo's env.sh (DOCKER_HOST, DOCKER_BUILDKIT)."""
    try:
        text = ENV_FILE.read_text()
    except OSError:
        return {"DOCKER_HOST": "unix:///run/slimfile-harness/docker.sock", "DOCKER_BUILDKIT": "1"}
    return dict(re.findall(r"^export (\w+)=(\S+)", text, re.MULTILINE))


def missing_images(host: str) -> list[str] | None:
    """The base images the engine at ``host`` lacks; ``None`` when it does not answer."""
    import docker

    try:
        client = docker.DockerClient(base_url=host, timeout=30)
        client.ping()
    except Exception:
        return None
    try:
        present = {tag for image in client.images.list() for tag in image.tags}
    finally:
        client.close()
    wanted = [name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest" for name in BASE_IMAGES]
    return [name for name in wanted if name not in present]


def _run_setup() -> str:
    environment = {**os.environ, "ZOO_EXTRA": "1"}  # the extras too (idempotent: builds what is missing)
    done = subprocess.run(["bash", str(SETUP)], capture_output=True, text=True, timeout=SETUP_TIMEOUT, env=environment)
    return (done.stdout + done.stderr)[-3000:] if done.returncode != 0 else ""


NO_SETUP = "SLIMFILE_NO_DOCKER_SETUP"
DEFAULT_SOCKET = "unix:///var/run/docker.sock"  # the Docker SDK's and CLI's default
_search: dict[str, object] = {}  # "host" and "problems", once looked for


def engine_problem() -> str | None:
    """Why there is no engine with the base images (``None``: there is one, and DOCKER_HOST and
    DOCKER_BUILDKIT are exported for verify). Looked for once per process."""
    if not _search:
        _search["host"], _search["problems"] = _find_engine()
    return None if _search["host"] is not None else "; ".join(_search["problems"])  # type: ignore[arg-type]


def _candidates() -> list[str]:
    """DOCKER_HOST (else the default socket), then the zoo's harness socket when the zoo is there."""
    hosts = [os.environ.get("DOCKER_HOST") or DEFAULT_SOCKET]
    if ENV_FILE.is_file():
        hosts.append(harness_settings()["DOCKER_HOST"])
    return list(dict.fromkeys(hosts))


def _find_engine() -> tuple[str | None, list[str]]:
    try:
        import docker  # noqa: F401
    except ImportError:
        return None, ["the docker Python SDK is not installed (pip install -e '.[test]')"]
    settings = harness_settings()
    problems = []
    for host in _candidates():
        missing = missing_images(host)
        if missing == []:
            return _export(host, settings), []
        problems.append(f"{host} " + ("does not answer" if missing is None else f"lacks {', '.join(missing)}"))
    if os.environ.get(NO_SETUP, "") not in ("", "0"):
        problems.append(f"{NO_SETUP} is set, so {SETUP} is not run")
    elif not SETUP.is_file():
        problems.append(f"no {SETUP} to start one")
    elif os.geteuid() != 0:
        problems.append(f"{SETUP} needs root")
    else:
        failure = _run_setup()
        harness = harness_settings()["DOCKER_HOST"]
        if not failure and missing_images(harness) == []:
            return _export(harness, harness_settings()), []
        problems.append(f"{SETUP} did not provide them: {failure or 'images still missing'}")
    return None, problems


def ensure_engine() -> str:
    """The DOCKER_HOST to use; skips the test (fails it under SLIMFILE_REQUIRE_ALL=1) without one."""
    from tests.conftest import missing_docker, skip_or_fail

    problem = missing_docker()
    if problem is not None:
        skip_or_fail(problem)
    return os.environ["DOCKER_HOST"]


def _export(host: str, settings: dict[str, str]) -> str:
    os.environ["DOCKER_HOST"] = host
    os.environ["DOCKER_BUILDKIT"] = settings.get("DOCKER_BUILDKIT", "1")
    return host


def fixture_apps_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "fixtures" / "apps"
