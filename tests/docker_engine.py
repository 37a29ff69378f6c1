"""A Docker engine with the zoo's offline base images, for the real-build tests.

``DOCKER_HOST`` (by default the harness socket that ``../shared/docker-zoo/env.sh`` names) is
used when it answers and has the base images. Otherwise, as root and with
``../shared/docker-zoo/setup.sh`` present, that script is run (installs docker.io, starts the
private daemon, builds the images; idempotent). Otherwise the tests **fail**: in CI a missing
engine must never turn into skipped tests that look like a pass.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

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
    done = subprocess.run(["bash", str(SETUP)], capture_output=True, text=True, timeout=SETUP_TIMEOUT)
    return (done.stdout + done.stderr)[-3000:] if done.returncode != 0 else ""


def ensure_engine() -> str:
    """The DOCKER_HOST to use, with DOCKER_HOST and DOCKER_BUILDKIT exported for verify."""
    settings = harness_settings()
    harness = settings["DOCKER_HOST"]
    candidates = list(dict.fromkeys(filter(None, [os.environ.get("DOCKER_HOST"), harness])))
    problems = []
    for host in candidates:
        missing = missing_images(host)
        if missing == []:
            return _export(host, settings)
        problems.append(f"{host}: " + ("does not answer" if missing is None else f"lacks {', '.join(missing)}"))
    if os.geteuid() == 0 and SETUP.is_file():
        failure = _run_setup()
        if not failure and missing_images(harness) == []:
            return _export(harness, settings)
        problems.append(f"{SETUP} did not provide them: {failure or 'images still missing'}")
    else:
        problems.append(f"cannot run {SETUP} (needs root and the file)")
    pytest.fail("no Docker engine with the zoo base images for the real-build tests:\n  " + "\n  ".join(problems), pytrace=False)


def _export(host: str, settings: dict[str, str]) -> str:
    os.environ["DOCKER_HOST"] = host
    os.environ["DOCKER_BUILDKIT"] = settings.get("DOCKER_BUILDKIT", "1")
    return host


def fixture_apps_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "fixtures" / "apps"
