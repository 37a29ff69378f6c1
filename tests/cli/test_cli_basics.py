"""The CLI contract of the foundation: commands, exit codes, diffs, stdin, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests import test_passes as tp
from tests.cli.conftest import run_slimfile
from tests.conftest import HAND_CASES, ROOT


@pytest.fixture
def invoke():
    """Run the typer app in this process; ``.stdout``/``.stdout_bytes``/``.stderr`` apart."""
    from slimfile.cli import app

    runner = CliRunner()

    def run(*args: str, input: bytes | str | None = None):
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    return run


@pytest.fixture
def test_pipeline(monkeypatch):
    """Replace the real pipeline with test passes (uppercase keywords: safe; echo: unsafe)."""
    upper = types.SimpleNamespace(RULES=(tp.UPPER,), check=tp.uppercase_keywords)
    unsafe = types.SimpleNamespace(RULES=(tp.UNSAFE,), check=tp.unsafe_echo)
    monkeypatch.setattr("slimfile.pipeline.PIPELINE", (upper, unsafe))
    return (upper, unsafe)


LOWER = b'from debian\r\nrun echo hi\r\nCMD ["x"]\r\n'
FIXED = b'FROM debian\r\nRUN echo hi\r\nCMD ["x"]\r\n'


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_version_and_module_entry_point():
    out = subprocess.run([sys.executable, "-m", "slimfile", "--version"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0 and out.stdout.startswith("slimfile ")


def test_fix_writes_in_place_keeping_crlf(invoke, test_pipeline, tmp_path):
    path = write(tmp_path, "Dockerfile", LOWER)
    result = invoke("fix", str(path))
    assert result.exit_code == 0
    assert path.read_bytes() == FIXED
    assert "1 file seen: 1 changed." in result.stderr and "Fixed 2 findings (1 remaining)" in result.stderr
    assert "1 hidden fix can be enabled with the `--unsafe-fixes` option" in result.stderr
    assert not [p for p in tmp_path.iterdir() if p.name != "Dockerfile"]  # no temp files left


def test_fix_writes_through_a_link_and_keeps_mode_and_owner(invoke, test_pipeline, tmp_path):
    """A Dockerfile that is a symbolic link: the file it points to gets the fix and the link
    stays, as with ruff and black (the atomic replace turned the link into a fixed copy and
    left the real file as it was). Mode and owner stay those of the real file."""
    real = write(tmp_path, "real.Dockerfile", LOWER)
    real.chmod(0o640)
    link = tmp_path / "Dockerfile"
    link.symlink_to("real.Dockerfile")
    owner = (os.getuid() + 1, os.getgid() + 1) if os.getuid() == 0 else (os.getuid(), os.getgid())
    os.chown(real, *owner)
    assert invoke("fix", str(link)).exit_code == 0
    assert link.is_symlink() and os.readlink(link) == "real.Dockerfile"
    assert real.read_bytes() == FIXED
    assert (real.stat().st_mode & 0o777, real.stat().st_uid, real.stat().st_gid) == (0o640, *owner)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Dockerfile", "real.Dockerfile"]


def test_fix_keeps_hard_links(invoke, test_pipeline, tmp_path):
    """A Dockerfile with a second hard link (a monorepo's shared file): both names see the fix,
    as with ruff and black (the atomic replace gave the fixed name a new file and left the
    other name with the old text). No temporary file is left."""
    path = write(tmp_path, "Dockerfile", LOWER)
    other = tmp_path / "other.Dockerfile"
    os.link(path, other)
    assert invoke("fix", str(path)).exit_code == 0
    assert path.read_bytes() == FIXED and other.read_bytes() == FIXED
    assert path.stat().st_ino == other.stat().st_ino and path.stat().st_nlink == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Dockerfile", "other.Dockerfile"]


def test_fix_unsafe(invoke, test_pipeline, tmp_path):
    path = write(tmp_path, "Dockerfile", LOWER)
    assert invoke("fix", "--unsafe-fixes", str(path)).exit_code == 0
    assert b"RUN echo hi!\r\n" in path.read_bytes()


def test_fix_diff_writes_nothing_and_exits_1(invoke, test_pipeline, tmp_path):
    path = write(tmp_path, "Dockerfile", LOWER)
    result = invoke("fix", "--diff", str(path))
    assert result.exit_code == 1
    assert path.read_bytes() == LOWER
    name = str(path).lstrip("/")
    assert f"--- a/{name}\n+++ b/{name}\n" in result.stdout
    assert b"-from debian\r\n-run echo hi\r\n+FROM debian\r\n+RUN echo hi\r\n CMD" in result.stdout_bytes
    assert "1 file seen: 1 would be changed." in result.stderr and "Would fix 2 findings" in result.stderr


def test_fix_check_exit_codes(invoke, test_pipeline, tmp_path):
    dirty = write(tmp_path, "Dockerfile", LOWER)
    clean = write(tmp_path, "clean.Dockerfile", FIXED)
    assert invoke("fix", "--check", str(dirty)).exit_code == 1
    assert dirty.read_bytes() == LOWER
    assert invoke("fix", "--check", str(clean)).exit_code == 0
    assert invoke("fix", "--diff", str(clean)).exit_code == 0


def test_stdin_to_stdout(invoke, test_pipeline):
    result = invoke("fix", "-", input=LOWER)
    assert result.exit_code == 0
    assert result.stdout_bytes == FIXED
    unchanged = invoke("fix", "-", input=FIXED)
    assert unchanged.stdout_bytes == FIXED


@pytest.mark.parametrize(
    "given",
    [
        b"FROM x\nRUN <<EOF\nno end\n",  # a parse error
        b"from debian\n\0binary",  # not a Dockerfile
        b"from debian\n" + b"run echo hi\n" * 400_000,  # past the 4 MiB limit, read only up to it
    ],
    ids=["parse-error", "binary", "too-large"],
)
def test_stdin_that_cannot_be_fixed_comes_back_unchanged(given, tmp_path):
    """``fix -`` is a filter (an editor pipes its buffer through it): on input it cannot fix it
    printed nothing, and a filter that prints nothing empties the buffer. As ruff does, the
    input comes back unchanged, and the exit code says it failed."""
    result = run_slimfile("fix", "-", cwd=tmp_path, stdin=given)
    assert result.returncode == 2
    assert result.stdout == given
    assert b"error: -" in result.stderr


@pytest.mark.parametrize("paths", [("-",), ("-", "bad"), ("bad", "-")])
def test_stdin_comes_back_unchanged_when_the_configuration_is_bad(paths, tmp_path):
    """A bad configuration stops the run before or after standard input was read: either way
    what was given comes back."""
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "Dockerfile").write_bytes(b"FROM x\n")
    (tmp_path / "bad" / "slimfile.toml").write_text("select = 5\n")
    if paths == ("-",):
        (tmp_path / "slimfile.toml").write_text("select = 5\n")
    given = b"from debian\nrun apt-get update\n" * 1000
    result = run_slimfile("fix", *paths, cwd=tmp_path, stdin=given)
    assert result.returncode == 2
    assert result.stdout == given
    assert b"'select' must be a list of rule codes" in result.stderr


def test_stdin_past_its_budget_comes_back_unchanged(invoke, test_pipeline):
    result = invoke("fix", "--timeout", "1e-9", "-", input=LOWER)
    assert result.exit_code == 2
    assert result.stdout_bytes == LOWER
    assert "timed out" in result.stderr


def test_check_lists_findings_ruff_style(invoke, test_pipeline, tmp_path):
    path = write(tmp_path, "Dockerfile", LOWER)
    result = invoke("check", str(path))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == f"{path}:1:1: ZZ001 [*] `from` should be `FROM`"
    assert lines[2] == f"{path}:2:12: ZZ003 say it louder"
    assert "Found 3 findings." in result.stdout
    assert invoke("check", str(write(tmp_path, "ok.Dockerfile", b"FROM x\n"))).exit_code == 0


def test_check_json(invoke, test_pipeline, tmp_path):
    path = write(tmp_path, "Dockerfile", LOWER)
    data = json.loads(invoke("check", "--output-format", "json", str(path)).stdout)
    assert data[0]["code"] == "ZZ001" and data[0]["location"] == {"row": 1, "column": 1}
    assert data[0]["fix"]["applicability"] == "safe"
    assert data[0]["fix"]["edits"][0]["content"] == "FROM"


def test_parse_json_fields(invoke):
    result = invoke("parse", "--json", str(HAND_CASES / "26_run_mount_cache_secret.Dockerfile"))
    data = json.loads(result.stdout)
    assert data["escape"] == "\\"
    assert data["directives"][0]["name"] == "syntax"
    run = data["instructions"][1]
    assert (run["keyword"], run["start_line"], run["end_line"]) == ("RUN", 3, 5)
    assert run["flags"] == [
        "--mount=type=cache,target=/root/.cache/pip",
        "--mount=type=secret,id=pipconf,target=/etc/pip.conf",
    ]
    assert run["logical"] == "pip install --no-cache-dir -r requirements.txt"
    source = (HAND_CASES / "26_run_mount_cache_secret.Dockerfile").read_bytes()
    assert source[run["start"] : run["end"]].startswith(b"RUN --mount")


def test_parse_heredocs_in_json(invoke):
    data = json.loads(invoke("parse", "--json", str(HAND_CASES / "20_heredoc_multiple.Dockerfile")).stdout)
    assert [(h["name"], h["body"]) for h in data["instructions"][1]["heredocs"]] == [
        ("FILE1", "I am\nfirst\n"),
        ("FILE2", "I am\nsecond\n"),
    ]


@pytest.mark.parametrize(
    "data, message",
    [
        (b"FROM x\nRUN <<EOF\necho\n", ":2: unterminated heredoc"),
        (b"# escape=`\n# escape=`\nFROM x\n", ":2: only one escape parser directive can be used"),
        (b"# escape=x\nFROM x\n", ":1: invalid escape token"),
        (b"FROM x\nRUN a\x00b\n", ":2: binary file"),
    ],
)
def test_bad_input_is_named_with_file_and_line(invoke, tmp_path, data, message):
    path = write(tmp_path, "Dockerfile", data)
    for args in (("parse", str(path)), ("check", str(path)), ("fix", str(path))):
        result = invoke(*args)
        assert result.exit_code == 2
        assert f"{path}{message}" in result.stderr
    assert path.read_bytes() == data


def test_missing_path_and_directory(invoke, tmp_path):
    missing = invoke("check", str(tmp_path / "nope"))
    assert missing.exit_code == 2 and "no such file or directory" in missing.stderr
    directory = invoke("parse", str(tmp_path))
    assert directory.exit_code == 2 and "is a directory" in directory.stderr


def test_one_bad_file_does_not_stop_the_others(invoke, test_pipeline, tmp_path):
    bad = write(tmp_path, "bad.Dockerfile", b"FROM x\nRUN <<EOF\n")
    good = write(tmp_path, "good.Dockerfile", LOWER)
    result = invoke("fix", str(bad), str(good))
    assert result.exit_code == 2
    assert good.read_bytes() == FIXED
    assert bad.read_bytes() == b"FROM x\nRUN <<EOF\n"
    assert "unterminated heredoc" in result.stderr


def test_invalid_utf8_bytes_are_preserved(invoke, test_pipeline, tmp_path):
    data = b'from x\nLABEL note="caf\xe9"\r\nrun echo \xff\n'
    path = write(tmp_path, "Dockerfile", data)
    assert invoke("fix", str(path)).exit_code == 0
    assert path.read_bytes() == b'FROM x\nLABEL note="caf\xe9"\r\nRUN echo \xff\n'
    parsed = invoke("parse", "--json", str(path))
    assert parsed.exit_code == 0 and json.loads(parsed.stdout)["instructions"][1]["keyword"] == "LABEL"


def test_parse_json_of_a_too_deeply_nested_run_writes_nothing(invoke, tmp_path):
    """``parse --json`` makes the shell facts while it writes: a RUN nested past Python's
    recursion limit is an error (exit 2) with no partial JSON on stdout; the listing, which
    needs no shell facts, still lists it."""
    opens, closes = '  "$(echo \\\n' * 2000, '  )" \\\n' * 1999 + '  )"\n'
    path = write(tmp_path, "Dockerfile", ("FROM debian:12\nRUN echo \\\n" + opens + "  x \\\n" + closes).encode())
    parsed = invoke("parse", "--json", str(path))
    assert parsed.exit_code == 2 and parsed.stdout == ""
    assert "input too deeply nested to analyse" in parsed.stderr
    listed = invoke("parse", str(path))
    assert listed.exit_code == 0 and listed.stdout.splitlines()[1].split()[:2] == ["2-4003", "RUN"]


def test_directory_is_walked_for_dockerfiles(invoke, test_pipeline, tmp_path):
    (tmp_path / "svc").mkdir()
    one = write(tmp_path / "svc", "Dockerfile", LOWER)
    two = write(tmp_path, "api.Dockerfile", LOWER)
    write(tmp_path, "notes.txt", b"from x\n")
    result = invoke("fix", "--check", str(tmp_path))
    assert result.exit_code == 1
    assert f"Would fix: {two}" in result.stderr and f"Would fix: {one}" in result.stderr


def test_write_failure_leaves_the_original(invoke, test_pipeline, tmp_path, monkeypatch):
    path = write(tmp_path, "Dockerfile", LOWER)

    def fail(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    result = invoke("fix", str(path))
    assert result.exit_code == 2 and "No space left on device" in result.stderr
    assert path.read_bytes() == LOWER
    assert [p.name for p in tmp_path.iterdir()] == ["Dockerfile"]


def test_rules_and_explain(invoke, test_pipeline):
    listing = invoke("rules")
    assert "ZZ001" in listing.stdout and "test-uppercase-keyword" in listing.stdout
    explained = invoke("explain", "ZZ003")
    assert explained.exit_code == 0 and "# test-unsafe-echo (ZZ003)" in explained.stdout
    assert "unsafe" in explained.stdout
    assert invoke("explain", "NOPE1").exit_code == 2


def test_context_option_lets_add_to_copy_check_sources(invoke, tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "hello.txt").write_text("hi\n")
    (tmp_path / "svc").mkdir()
    dockerfile = write(tmp_path / "svc", "Dockerfile", b"FROM debian\nADD app/hello.txt /x\n")
    unchecked = invoke("fix", "--isolated", "--select", "SF601", str(dockerfile))
    assert dockerfile.read_bytes() == b"FROM debian\nADD app/hello.txt /x\n"  # unsafe without the context
    assert "hidden fix" in unchecked.stderr
    checked = invoke("fix", "--isolated", "--select", "SF601", "--context", str(tmp_path), str(dockerfile))
    assert checked.exit_code == 0
    assert dockerfile.read_bytes() == b"FROM debian\nCOPY app/hello.txt /x\n"
