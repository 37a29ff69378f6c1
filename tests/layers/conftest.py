"""Real-image fixtures for the layer tests (marker ``docker``): the engine, as for verify."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def docker_host() -> str:
    from tests.docker_engine import ensure_engine

    return ensure_engine()


@pytest.fixture(scope="session")
def engine(docker_host):
    from slimfile.verify.docker_engine import Engine

    return Engine.connect()
