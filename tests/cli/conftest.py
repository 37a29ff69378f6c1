"""CLI fixtures: an in-process runner and a pipeline made of test-only passes."""

from __future__ import annotations

import types

import pytest
from typer.testing import CliRunner

from tests import test_passes as tp


@pytest.fixture
def cli():
    from slimfile.cli import app

    runner = CliRunner()

    def invoke(*args: str, input: bytes | str | None = None):
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    return invoke


@pytest.fixture
def test_pipeline(monkeypatch):
    """Replace the real pipeline with test passes (uppercase keywords: safe; echo: unsafe)."""
    upper = types.SimpleNamespace(RULES=(tp.UPPER,), check=tp.uppercase_keywords)
    unsafe = types.SimpleNamespace(RULES=(tp.UNSAFE,), check=tp.unsafe_echo)
    monkeypatch.setattr("slimfile.pipeline.PIPELINE", (upper, unsafe))
    return (upper, unsafe)
