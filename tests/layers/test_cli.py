"""``slimfile layers`` on the command line without an engine: help, bad arguments and a
missing engine all say what is wrong and exit 2."""

from __future__ import annotations

from typer.testing import CliRunner

from slimfile.cli import app

runner = CliRunner()


def test_help_names_both_forms_and_the_exit_codes():
    result = runner.invoke(app, ["layers", "--help"])
    assert result.exit_code == 0
    for text in ("--dockerfile", "--context", "--fail-under", "--output-format", "Exit codes", "never pulled"):
        assert text in result.output


def test_unknown_output_format_is_an_error(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM debian:bookworm-slim\n")
    result = runner.invoke(app, ["layers", str(tmp_path / "Dockerfile"), "-o", "yaml"])
    assert result.exit_code == 2 and "unknown output format" in result.output


def test_a_missing_dockerfile_is_an_error(tmp_path):
    result = runner.invoke(app, ["layers", "some:image", "--dockerfile", str(tmp_path / "nope")])
    assert result.exit_code == 2 and "no such Dockerfile" in result.output


def test_no_engine_is_exit_2_with_the_reason(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    (tmp_path / "Dockerfile").write_text("FROM debian:bookworm-slim\n")
    result = runner.invoke(app, ["layers", "some:image", "--dockerfile", str(tmp_path / "Dockerfile")])
    assert result.exit_code == 2 and "cannot reach the Docker engine" in result.output


def test_fail_under_is_a_percentage():
    result = runner.invoke(app, ["layers", "x", "--fail-under", "150"])
    assert result.exit_code == 2
