"""SF801/SF802 as users meet them: the CLI option and the configuration preference, the
finding's message and saving, the documentation (fixture pairs are in fixtures/passes/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from slimfile.cli import app
from slimfile.engine import Settings, check_source, fix_source


def run(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "requirements.txt").write_text("flask==3.0.3\n")
    (tmp_path / "Dockerfile").write_text(
        "FROM python:3.11\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\nCOPY . .\n"
        'HEALTHCHECK CMD curl -f http://localhost:8000/ || exit 1\nCMD ["python", "app.py"]\n'
    )
    return tmp_path


def test_check_reports_the_swap_with_its_saving(project):
    result = run("check", "--isolated", "--select", "SF8", "-o", "json", str(project / "Dockerfile"))
    assert result.exit_code == 1
    (finding,) = json.loads(result.stdout)
    assert finding["code"] == "SF801"
    assert "`python:3.11-slim`" in finding["message"] and "curl (HEALTHCHECK (line 6) runs curl)" in finding["message"]
    assert finding["fix"]["applicability"] == "unsafe"
    saving = json.dumps(finding)
    assert "data/images.toml" in saving and "before adding curl" in saving


def test_fix_needs_unsafe_fixes(project):
    assert run("fix", "--isolated", "--diff", "--select", "SF8", str(project / "Dockerfile")).exit_code == 0
    result = run("fix", "--isolated", "--diff", "--unsafe-fixes", "--select", "SF8", str(project / "Dockerfile"))
    assert result.exit_code == 1
    assert "+FROM python:3.11-slim\n" in result.stdout
    assert "+RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n" in result.stdout


def test_base_variant_alpine_on_the_command_line(project):
    result = run("check", "--isolated", "--select", "SF8", "--base-variant", "alpine", str(project / "Dockerfile"))
    assert "SF802" in result.stdout and "python:3.11-alpine" in result.stdout
    assert "SF801" in result.stdout  # the slim swap is still offered beside it
    result = run("check", "--isolated", "--select", "SF8", "--base-variant", "none", str(project / "Dockerfile"))
    assert result.exit_code == 0 and "SF80" not in result.stdout


def test_base_variant_must_be_known(project):
    result = CliRunner().invoke(app, ["check", "--base-variant", "tiny", str(project / "Dockerfile")])
    assert result.exit_code == 2 and "slim, alpine or none" in result.output


def test_base_variant_in_the_configuration(project):
    (project / "slimfile.toml").write_text('[preferences]\nbase-variant = "alpine"\n')
    result = run("check", "--select", "SF8", str(project / "Dockerfile"))
    assert "SF802" in result.stdout
    (project / "slimfile.toml").write_text('[preferences]\nbase-variant = "distroless"\n')
    result = CliRunner().invoke(app, ["check", str(project / "Dockerfile")])
    assert result.exit_code == 2 and "base-variant" in result.output


def test_the_default_never_goes_to_alpine():
    source = b"FROM node:18\nCMD [\"node\"]\n"
    findings = check_source(source, "Dockerfile", Settings(unsafe_fixes=True))
    assert [f.code for f in findings if f.code.startswith("SF8")] == ["SF801"]
    assert b"alpine" not in fix_source(source, "Dockerfile", Settings(unsafe_fixes=True)).output


def test_the_message_says_what_the_full_image_carries_per_repository():
    """debian's full image differs from slim by docs and locales, the language images by their
    compilers and headers (images.toml `carries`)."""

    def message(source: bytes) -> str:
        findings = check_source(source, "Dockerfile", Settings(unsafe_fixes=True))
        return next(f.message for f in findings if f.code == "SF801")

    debian = message(b"FROM debian:12\nCMD [\"bash\"]\n")
    assert "carries man pages, documentation and translations" in debian and "compilers" not in debian
    assert "carries compilers, headers and tools" in message(b"FROM node:18\nCMD [\"node\"]\n")


def test_the_split_comes_first_when_the_stage_compiles(tmp_path):
    """python-compiled's shape: SF901 splits, and the release already stands on the slim base."""
    (tmp_path / "requirements.txt").write_text("psycopg2==2.9.9\n")
    (tmp_path / "app.py").write_text("import psycopg2\n")
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "FROM python:3.11\nRUN apt-get update && apt-get install -y gcc libpq-dev\nWORKDIR /app\nCOPY requirements.txt .\n"
        "RUN pip install -r requirements.txt\nCOPY . .\nCMD [\"python\", \"app.py\"]\n"
    )
    result = fix_source(dockerfile.read_bytes(), str(dockerfile), Settings(unsafe_fixes=True))
    output = result.output.decode()
    assert "FROM python:3.11 AS build" in output and "FROM python:3.11-slim AS release" in output
    assert "SF801" not in [f.code for f in result.applied]


def test_explain_has_ruffs_sections():
    result = run("explain", "SF801")
    for section in ("## What it does", "## Why is this bad?", "## Example", "## Use instead", "## Fix safety"):
        assert section in result.stdout
    assert "SF901" in result.stdout
    assert "No Alpine image is available offline" in " ".join(run("explain", "SF802").stdout.split())


def test_a_reason_the_base_stays_is_given_once(tmp_path):
    """Two include chains of requirements files that both go too deep at the same file gave
    the same reason twice in one message."""
    files = {"requirements.txt": "-r r0.txt\n"}
    for i in range(25):
        files[f"r{i}.txt"] = f"-r r{i + 1}.txt\n-c c{i}.txt\n"
        files[f"c{i}.txt"] = f"-c c{i + 1}.txt\n"
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    source = b"FROM python:3.12\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\nCMD [\"python\", \"a.py\"]\n"
    findings = check_source(source, str(tmp_path / "Dockerfile"), Settings(build_context=str(tmp_path), select=frozenset({"SF801"})))
    message = findings[0].message
    reasons = message.split("stays: ", 1)[1].split("; ")
    assert len(reasons) == len(set(reasons)) and "includes nested more than 20 deep" in message
