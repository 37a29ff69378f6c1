"""The composite GitHub Action: its structure, and its "Run slimfile" step executed for real
with bash (inputs passed through the environment, as the action does; ``slimfile`` on PATH is
a shim that runs this worktree)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.cli.conftest import write
from tests.conftest import ROOT, SCHEMAS

ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
STEPS = ACTION["runs"]["steps"]


def step(step_id: str) -> dict:
    return next(s for s in STEPS if s.get("id") == step_id)


def test_is_a_composite_action_with_documented_inputs():
    assert ACTION["runs"]["using"] == "composite"
    for name, spec in ACTION["inputs"].items():
        assert spec.get("description"), name
    assert ACTION["inputs"]["report"]["default"] == "sarif"


def test_every_input_used_is_declared_and_scripts_take_none_inline():
    text = (ROOT / "action.yml").read_text()
    used = set(re.findall(r"inputs\.([a-z-]+)", text))
    assert used <= set(ACTION["inputs"])
    for s in STEPS:
        if "run" in s:
            assert s["shell"] == "bash"
            assert "${{" not in s["run"], f"step {s.get('name')!r} pastes an expression into its script"


def test_reports_go_to_code_scanning_or_reviewdog():
    uses = [s.get("uses", "") for s in STEPS]
    assert "github/codeql-action/upload-sarif@v3" in uses
    assert "reviewdog/action-setup@v1" in uses
    reviewdog = next(s for s in STEPS if "reviewdog -f=rdjson" in s.get("run", ""))
    assert "-reporter=" in reviewdog["run"]


@pytest.fixture
def shim(tmp_path) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "slimfile"
    script.write_text(f'#!/bin/sh\nPYTHONPATH="{ROOT}" exec "{sys.executable}" -m slimfile "$@"\n')
    script.chmod(0o755)
    return bin_dir


def run_check_step(workspace: Path, shim: Path, **inputs: str) -> tuple[subprocess.CompletedProcess, dict[str, str]]:
    defaults = {name: str(spec.get("default", "")) for name, spec in ACTION["inputs"].items()}
    values = {**defaults, **inputs}
    check = step("check")
    env = dict(os.environ, PATH=f"{shim}:{os.environ['PATH']}")
    output = workspace / "github_output"
    summary = workspace / "step_summary"
    env.update(GITHUB_OUTPUT=str(output), GITHUB_STEP_SUMMARY=str(summary))
    for key, expression in check["env"].items():
        name = re.fullmatch(r"\$\{\{ inputs\.([a-z-]+) \}\}", expression).group(1)
        env[key] = values[name]
    result = subprocess.run(["bash", "-c", check["run"]], cwd=workspace, env=env, capture_output=True, text=True)
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    return result, outputs


def test_sarif_report_is_written_and_valid(tmp_path, shim):
    write(tmp_path, {"app/Dockerfile": "FROM scratch\n", "broken/Dockerfile": "FROM x\nRUN <<EOF\n"})
    result, outputs = run_check_step(tmp_path, shim)
    assert result.returncode == 0  # the step itself never fails: the last step decides
    assert outputs == {"exit-code": "2", "report-file": "slimfile.sarif"}
    document = json.loads((tmp_path / "slimfile.sarif").read_text())
    schema = json.loads((SCHEMAS / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(document)
    assert "slimfile could not check every file" in result.stdout
    assert (tmp_path / "step_summary").read_text().startswith("## slimfile report")


def test_annotations_and_args(tmp_path, shim):
    write(tmp_path, {"app/Dockerfile": "FROM scratch\n", "legacy/Dockerfile": "FROM x\nRUN <<EOF\n"})
    result, outputs = run_check_step(tmp_path, shim, report="annotations")
    assert outputs["exit-code"] == "2"
    assert result.stdout.startswith("::error file=legacy/Dockerfile,line=2,")
    result, outputs = run_check_step(
        tmp_path, shim, report="annotations", args="--extend-exclude legacy/", paths="app ."
    )
    assert outputs["exit-code"] == "0", result.stderr
    assert result.stdout.strip() == ""


def test_rdjson_for_reviewdog(tmp_path, shim):
    write(tmp_path, {"Dockerfile": "FROM scratch\n"})
    _, outputs = run_check_step(tmp_path, shim, report="reviewdog")
    assert outputs == {"exit-code": "0", "report-file": "slimfile.rdjson"}
    assert json.loads((tmp_path / "slimfile.rdjson").read_text())["source"] == {"name": "slimfile"}


def test_unknown_report_kind_fails(tmp_path, shim):
    result = subprocess.run(
        ["bash", "-c", step("check")["run"]],
        cwd=tmp_path,
        env=dict(
            os.environ,
            SLIMFILE_PATHS=".",
            SLIMFILE_ARGS="",
            SLIMFILE_REPORT="email",
            SLIMFILE_SARIF_FILE="x",
            SLIMFILE_JOB_SUMMARY="false",
        ),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "unknown report 'email'" in result.stdout
