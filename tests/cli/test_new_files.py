"""Files a fix creates (SF704's .dockerignore) through the command line: ``fix`` writes them,
``--check`` counts them, ``--diff`` shows them as new-file diffs that ``git apply`` takes,
standard input creates nothing, and every report format carries them."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from pathlib import Path

import jsonschema
import pytest

from slimfile.files import create_atomic
from tests.cli.conftest import write

APP = {
    "Dockerfile": 'FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt\nCMD ["python", "app.py"]\n',
    "app.py": "print('hi')\n",
    "requirements.txt": "bottle\n",
    ".venv/pyvenv.cfg": "home = /usr/bin\n",
    "app/__pycache__/m.pyc": "b\n",
    ".env": "API_KEY=never-printed\n",
}
ONLY = ("--select", "SF704,SF705")


@pytest.fixture
def app(tmp_path: Path) -> Path:
    write(tmp_path, APP)
    return tmp_path


def expected_ignore(app: Path) -> str:
    from slimfile.engine import Settings, fix_source

    path = str(app / "Dockerfile")
    result = fix_source((app / "Dockerfile").read_bytes(), path, Settings(unsafe_fixes=True, select=frozenset({"SF704"})))
    (new,) = result.created
    return new.content.decode()


def test_fix_writes_the_new_file_and_leaves_the_dockerfile(cli, app: Path):
    content = expected_ignore(app)
    result = cli("fix", "--unsafe-fixes", *ONLY, "Dockerfile", cwd=app)
    assert result.exit_code == 0, result.stderr
    assert (app / ".dockerignore").read_text() == content
    assert (app / "Dockerfile").read_text() == APP["Dockerfile"]
    assert "Created .dockerignore" in result.stderr and "SF704 dockerignore-missing" in result.stderr
    mode = stat.S_IMODE((app / ".dockerignore").stat().st_mode)
    assert mode == 0o666 & ~_umask()
    assert [p.name for p in app.iterdir() if p.name.endswith(".slimfile.tmp")] == []
    # a second run: the file exists, nothing to create, nothing to change
    again = cli("fix", "--unsafe-fixes", *ONLY, "Dockerfile", cwd=app)
    assert again.exit_code == 0 and "Created" not in again.stderr
    assert (app / ".dockerignore").read_text() == content


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_safe_fixes_create_nothing(cli, app: Path):
    result = cli("fix", *ONLY, "Dockerfile", cwd=app)
    assert result.exit_code == 0 and not (app / ".dockerignore").exists()
    assert "1 hidden fix can be enabled with the `--unsafe-fixes` option" in result.stderr


def test_check_mode_counts_a_new_file_as_a_change(cli, app: Path):
    result = cli("fix", "--check", "--unsafe-fixes", *ONLY, "Dockerfile", cwd=app)
    assert result.exit_code == 1
    assert "Would fix: Dockerfile" in result.stderr and "Would create .dockerignore" in result.stderr
    assert not (app / ".dockerignore").exists()


def test_diff_shows_a_new_file_that_git_apply_creates(cli, app: Path):
    if shutil.which("git") is None:
        pytest.fail("git is needed to check that the diff applies")
    content = expected_ignore(app)
    result = cli("fix", "--diff", "--unsafe-fixes", *ONLY, "Dockerfile", cwd=app)
    assert result.exit_code == 1
    lines = result.out.splitlines()
    assert lines[:3] == ["--- /dev/null", "+++ b/.dockerignore", f"@@ -0,0 +1,{len(content.splitlines())} @@"]
    assert lines[3:] == ["+" + line for line in content.splitlines()]
    assert not (app / ".dockerignore").exists()
    git = lambda *args: subprocess.run(["git", *args], cwd=app, capture_output=True, text=True, check=True)
    git("init", "-q")
    (app / "fix.patch").write_bytes(result.stdout)
    git("apply", "--check", "fix.patch")
    git("apply", "fix.patch")
    assert (app / ".dockerignore").read_text() == content


def test_diff_of_a_rewrite_and_a_new_file_applies_as_one_patch(cli, tmp_path: Path):
    write(
        tmp_path,
        {
            "svc/package.json": '{"name": "a", "version": "1.0.0"}\n',
            "svc/node_modules/x/index.js": "1\n",
            "svc/Dockerfile": 'FROM node:18\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD ["node", "index.js"]\n',
        },
    )
    result = cli("fix", "--diff", "--unsafe-fixes", "--select", "SF701,SF704", "svc/Dockerfile", cwd=tmp_path)
    assert result.exit_code == 1
    assert "+++ b/svc/Dockerfile" in result.out and "+++ b/svc/.dockerignore" in result.out
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "fix.patch").write_bytes(result.stdout)
    subprocess.run(["git", "apply", "fix.patch"], cwd=tmp_path, check=True)
    # the patch gives exactly what `fix` writes
    (tmp_path / "svc" / ".dockerignore").rename(tmp_path / "applied.dockerignore")
    applied = (tmp_path / "svc" / "Dockerfile").read_text()
    (tmp_path / "svc" / "Dockerfile").write_text('FROM node:18\nWORKDIR /app\nCOPY . .\nRUN npm ci\nCMD ["node", "index.js"]\n')
    assert cli("fix", "--unsafe-fixes", "--select", "SF701,SF704", "svc/Dockerfile", cwd=tmp_path).exit_code == 0
    assert (tmp_path / "svc" / "Dockerfile").read_text() == applied
    assert (tmp_path / "svc" / ".dockerignore").read_text() == (tmp_path / "applied.dockerignore").read_text()


def test_standard_input_creates_nothing(cli, app: Path):
    result = cli("fix", "--unsafe-fixes", *ONLY, "--stdin-filename", "Dockerfile", "-", cwd=app, stdin=APP["Dockerfile"].encode())
    assert result.exit_code == 0 and result.stdout == APP["Dockerfile"].encode()
    assert not (app / ".dockerignore").exists()
    assert "no fix: the Dockerfile comes from standard input" in result.stderr


def test_create_atomic_never_replaces_a_file(tmp_path: Path):
    target = tmp_path / "x"
    create_atomic(str(target), b"first\n")
    with pytest.raises(FileExistsError):
        create_atomic(str(target), b"second\n")
    assert target.read_bytes() == b"first\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x"]


# -- every report format -----------------------------------------------------------------------


def check(cli, app: Path, fmt: str):
    result = cli("check", "--unsafe-fixes", *ONLY, "-o", fmt, "Dockerfile", cwd=app)
    assert result.exit_code == 1, result.stderr
    assert "never-printed" not in result.out  # a secret's content is never reported
    return result.out


def test_text_and_github_name_the_new_file(cli, app: Path):
    text = check(cli, app, "text")
    assert "SF704 [*]" in text and "`slimfile fix` would create .dockerignore" in text
    github = check(cli, app, "github")
    assert "it creates .dockerignore)" in github


def test_json_carries_path_and_content(cli, app: Path):
    items = json.loads(check(cli, app, "json"))
    (sf704,) = [i for i in items if i["code"] == "SF704"]
    assert sf704["fix"]["edits"] == [] and sf704["fix"]["applicability"] == "unsafe"
    assert sf704["fix"]["new_files"] == [{"path": ".dockerignore", "content": expected_ignore(app)}]


@pytest.mark.shared
def test_sarif_adds_the_new_artifact(cli, app: Path, shared_dir: Path):
    document = json.loads(check(cli, app, "sarif"))
    schema = json.loads((shared_dir / "schemas" / "sarif-schema-2.1.0.json").read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(document)
    (result,) = [r for r in document["runs"][0]["results"] if r["ruleId"] == "SF704"]
    (change,) = result["fixes"][0]["artifactChanges"]
    assert change["artifactLocation"] == {"uri": ".dockerignore", "uriBaseId": "%SRCROOT%"}
    (replacement,) = change["replacements"]
    assert replacement["deletedRegion"]["byteLength"] == 0 and replacement["deletedRegion"]["startLine"] == 1
    assert replacement["insertedContent"]["text"] == expected_ignore(app)


@pytest.mark.shared
def test_rdjson_adds_a_diagnostic_in_the_new_file(cli, app: Path, shared_dir: Path):
    document = json.loads(check(cli, app, "rdjson"))
    schema = json.loads((shared_dir / "schemas" / "rdjson" / "DiagnosticResult.json").read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(document)
    finding, new = [d for d in document["diagnostics"] if d["code"]["value"] == "SF704"]
    assert finding["location"]["path"] == "Dockerfile" and "suggestions" not in finding
    assert new["location"]["path"] == ".dockerignore"
    (suggestion,) = new["suggestions"]
    assert suggestion["range"] == {"start": {"line": 1, "column": 1}, "end": {"line": 1, "column": 1}}
    assert suggestion["text"] == expected_ignore(app)
    assert new["related_locations"][0]["location"]["path"] == "Dockerfile"


def test_markdown_shows_the_proposed_file(cli, app: Path):
    markdown = check(cli, app, "markdown")
    content = expected_ignore(app).rstrip("\n")
    assert f"New file `.dockerignore` (`slimfile fix` creates it):\n\n```gitignore\n{content}\n```" in markdown
    assert "Suggested fix: Create .dockerignore" in markdown


def test_diff_format_of_check_shows_it_too(cli, app: Path):
    out = check(cli, app, "diff")
    assert out.startswith("--- /dev/null\n+++ b/.dockerignore\n")


def test_two_dockerfiles_proposing_the_same_file_in_one_run(cli, tmp_path: Path):
    """Both files were fixed against the same context before either was written: the first
    creates the file, the second is left unchanged and reported (never an overwrite)."""
    dockerfile = "FROM python:3.11-slim\nCOPY . /app\n"
    write(tmp_path, {"a/Dockerfile": dockerfile, "b/Dockerfile": dockerfile, ".env": "A=1\n"})
    result = cli("fix", "--unsafe-fixes", *ONLY, "--context", ".", "a/Dockerfile", "b/Dockerfile", cwd=tmp_path)
    assert result.exit_code == 2
    assert "Created .dockerignore" in result.stderr
    assert "error: .dockerignore: not created: the file exists now" in result.stderr
    assert "b/Dockerfile left unchanged, run slimfile fix again" in result.stderr
    assert cli("fix", "--unsafe-fixes", *ONLY, "--context", ".", "a/Dockerfile", "b/Dockerfile", cwd=tmp_path).exit_code == 0


def test_sarif_files_secrets_as_security_alerts(cli, app: Path):
    rules = {r["id"]: r for r in json.loads(check(cli, app, "sarif"))["runs"][0]["tool"]["driver"]["rules"]}
    assert "security" in rules["SF705"]["properties"]["tags"] and rules["SF705"]["properties"]["security-severity"] == "7.0"
    assert "security" not in rules["SF704"]["properties"]["tags"]
