"""`slimfile verify` on the command line where no engine is needed: help, usage errors, an
unreachable engine (exit 2 each time)."""

import json
import subprocess
import sys

from typer.testing import CliRunner

from slimfile.cli import app

runner = CliRunner()


def test_help_says_that_verify_runs_code_and_never_pushes():
    result = runner.invoke(app, ["verify", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "RUNS CODE FROM THE DOCKERFILE" in text
    assert "only when you ask for it, never pushes anything" in text
    for option in ("--context", "--target", "--unsafe-fixes", "--run", "--json", "--per-fix", "--keep"):
        assert option in text


def test_a_missing_dockerfile_is_a_usage_error(tmp_path):
    result = runner.invoke(app, ["verify", str(tmp_path / "Dockerfile"), "--json"])
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert data["verdict"] == "error" and "no such file" in data["error"]


def test_an_unknown_target_is_a_usage_error(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM debian:bookworm-slim AS base\nCMD [\"true\"]\n")
    result = runner.invoke(app, ["verify", str(tmp_path / "Dockerfile"), "--target", "nope"])
    assert result.exit_code == 2
    assert "no stage named 'nope' (stages: base)" in " ".join(result.output.split())


def test_an_unreachable_engine_is_exit_2_with_the_address(tmp_path, monkeypatch):
    (tmp_path / "Dockerfile").write_text("FROM debian:bookworm-slim\n")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    result = runner.invoke(app, ["verify", str(tmp_path / "Dockerfile"), "--json"])
    assert result.exit_code == 2
    assert "cannot reach the Docker engine at unix://" in json.loads(result.stdout)["error"]


def test_the_cli_does_not_load_verify_or_the_docker_sdk_at_start_up():
    code = "import sys, slimfile.cli; print('slimfile.verify' in sys.modules, 'docker' in sys.modules)"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.split() == ["False", "False"]
