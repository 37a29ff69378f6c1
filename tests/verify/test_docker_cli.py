"""Choosing the docker client that can build with BuildKit (fake clients, no Docker needed)."""

import io
import os
import stat

import pytest

from slimfile.verify.docker_engine import CLI_ENV, ChunkStream, EngineError, find_cli


def fake_client(directory, version: str, buildx: bool):
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "docker"
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = version ]; then echo "{version}"; exit 0; fi\n'
        f'if [ "$1" = buildx ]; then exit {0 if buildx else 1}; fi\n'
        "exit 2\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


@pytest.fixture
def path_of(monkeypatch):
    monkeypatch.delenv(CLI_ENV, raising=False)

    def set_path(*directories):
        monkeypatch.setenv("PATH", os.pathsep.join(str(d) for d in directories))

    return set_path


def test_a_new_client_without_buildx_is_passed_over_for_an_old_one(tmp_path, path_of):
    fake_client(tmp_path / "new", "28.2.2", buildx=False)
    old = fake_client(tmp_path / "old", "20.10.24+dfsg1", buildx=False)
    path_of(tmp_path / "new", tmp_path / "old")
    assert find_cli() == old


def test_a_new_client_with_buildx_is_taken(tmp_path, path_of):
    new = fake_client(tmp_path / "new", "28.2.2", buildx=True)
    path_of(tmp_path / "new")
    assert find_cli() == new


def test_no_usable_client_says_what_to_do(tmp_path, path_of):
    fake_client(tmp_path / "new", "27.0.1", buildx=False)
    path_of(tmp_path / "new")
    with pytest.raises(EngineError, match="install the buildx plugin or set SLIMFILE_DOCKER_CLI"):
        find_cli()
    path_of(tmp_path / "empty")
    with pytest.raises(EngineError, match="no `docker` command found"):
        find_cli()


def test_the_environment_variable_wins(tmp_path, path_of, monkeypatch):
    chosen = fake_client(tmp_path / "chosen", "28.2.2", buildx=False)
    monkeypatch.setenv(CLI_ENV, chosen)
    assert find_cli() == chosen
    monkeypatch.setenv(CLI_ENV, str(tmp_path / "missing"))
    with pytest.raises(EngineError, match="is not a file"):
        find_cli()


def test_chunk_stream_reads_across_chunk_boundaries():
    stream = io.BufferedReader(ChunkStream([b"ab", b"", b"cde", b"f"]), buffer_size=2)
    assert stream.read(3) == b"abc" and stream.read() == b"def" and stream.read() == b""
