"""Fixtures for CLI tests: run ``slimfile`` in-process (so the sample pass installed by
``sample_rules`` is the pipeline; forked workers inherit it) or as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.report.conftest import install_sample_rules


@dataclass
class Result:
    exit_code: int
    stdout: bytes
    stderr: str

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8", "surrogateescape")


@pytest.fixture
def sample_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    install_sample_rules(monkeypatch)


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch):
    """``cli(*args, cwd=..., stdin=b"")`` runs the typer app in this process."""
    from typer.testing import CliRunner

    from slimfile.cli import app

    def run(*args: str, cwd: Path | None = None, stdin: bytes = b"") -> Result:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        result = CliRunner().invoke(app, list(args), input=stdin, catch_exceptions=False)
        return Result(result.exit_code, result.stdout_bytes, result.stderr)

    return run


def run_slimfile(*args: str, cwd: Path, stdin: bytes = b"") -> subprocess.CompletedProcess:
    """The real command line, in a subprocess, from the worktree (no installation needed)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "slimfile", *args], cwd=cwd, input=stdin, capture_output=True, env=env, timeout=120
    )


def write(root: Path, files: dict[str, bytes | str]) -> None:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
