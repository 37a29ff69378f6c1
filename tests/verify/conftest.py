"""Real-build fixtures: the engine (tests fail without one, see tests/docker_engine.py)."""

from __future__ import annotations

import pytest

from tests.docker_engine import ensure_engine


@pytest.fixture(scope="session")
def docker_host() -> str:
    return ensure_engine()


@pytest.fixture(scope="session")
def engine(docker_host):
    from slimfile.verify.docker_engine import Engine

    return Engine.connect()
