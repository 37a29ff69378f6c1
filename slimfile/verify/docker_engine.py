"""The Docker engine verify talks to: the ``docker`` Python SDK for inspect, history, export,
run and remove, and the ``docker`` command line for builds, because the SDK only drives the
classic builder and verify measures what BuildKit does.

Everything the engine makes is tagged or named ``slimfile-verify…`` (``slimfile-layers…`` for
``slimfile layers``) so that it can be found and
removed; nothing is ever pushed. Containers are named before they are asked for and builds are
tracked while they run, so that an interrupted verify (Ctrl-C in the middle of an API call or a
build) can still stop and remove all of it.
"""

from __future__ import annotations

import io
import os
import re
import secrets
import signal
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

CLI_ENV = "SLIMFILE_DOCKER_CLI"  # path of the docker client to build with
_BUILTIN_BUILDKIT_BEFORE = 23  # clients before 23.0 have BuildKit inside `docker build`
_EXPORT_CHUNK = 1 << 20


class EngineError(Exception):
    """The engine cannot be reached or refused something verify needs (exit code 2)."""


@dataclass
class BuildOutput:
    returncode: int
    lines: list[str]
    seconds: float
    image_id: str | None


@dataclass
class RunOutput:
    exit_code: int | None  # None when the command timed out
    stdout: str
    stderr: str
    timed_out: bool = False


def find_cli() -> str:
    """The first ``docker`` client that can build with BuildKit (``$SLIMFILE_DOCKER_CLI`` wins).

    A client from 23.0 on needs the buildx plugin for BuildKit; an older one has it built in.
    """
    chosen = os.environ.get(CLI_ENV)
    if chosen:
        if not Path(chosen).is_file():
            raise EngineError(f"{CLI_ENV}={chosen} is not a file")
        return chosen
    candidates = _all_on_path("docker")
    for candidate in candidates:
        if _builds_with_buildkit(candidate):
            return candidate
    if not candidates:
        raise EngineError("no `docker` command found on PATH (verify builds with the Docker CLI)")
    raise EngineError(
        f"no docker client on PATH can build with BuildKit ({', '.join(candidates)}): install the buildx plugin "
        f"or set {CLI_ENV} to a client that can"
    )


def _all_on_path(name: str) -> list[str]:
    seen: dict[str, str] = {}
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        path = Path(directory or ".") / name
        if path.is_file() and os.access(path, os.X_OK):
            seen.setdefault(os.path.realpath(path), str(path))
    return list(seen.values())


def _builds_with_buildkit(cli: str) -> bool:
    version = _client_version(cli)
    if version is None:
        return False
    if version < _BUILTIN_BUILDKIT_BEFORE:
        return True
    return _quiet([cli, "buildx", "version"]) == 0


def _client_version(cli: str) -> int | None:
    try:
        done = subprocess.run(
            [cli, "version", "--format", "{{.Client.Version}}"], capture_output=True, text=True, timeout=20
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.match(r"\s*(\d+)\.", done.stdout)
    return int(match.group(1)) if match else None


def _quiet(argv: list[str]) -> int:
    try:
        return subprocess.run(argv, capture_output=True, timeout=20).returncode
    except (OSError, subprocess.TimeoutExpired):
        return -1


class ChunkStream(io.RawIOBase):
    """A readable file over an iterator of byte chunks (the SDK's export stream)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


@dataclass
class Engine:
    client: Any  # docker.DockerClient
    cli: str
    # containers are named <prefix>-<n>; a verify session sets a prefix of its own
    container_prefix: str = field(default_factory=lambda: f"slimfile-verify-{secrets.token_hex(4)}")
    containers: list[str] = field(default_factory=list)  # every name asked for, removed or not
    _builds: list[subprocess.Popen] = field(default_factory=list)  # build processes still running

    @classmethod
    def connect(cls) -> Engine:
        try:
            import docker
        except ImportError:
            raise EngineError("verify needs the docker Python SDK: pip install 'slimfile[verify]'") from None
        host = os.environ.get("DOCKER_HOST") or "the default socket"
        try:
            client = docker.from_env(timeout=600)
            client.ping()
        except Exception as exc:  # the SDK raises several unrelated types here
            raise EngineError(f"cannot reach the Docker engine at {host}: {root_cause(exc)}") from None
        return cls(client=client, cli=find_cli())

    def versions(self) -> dict[str, str]:
        info = self.client.version()
        return {"engine": info.get("Version", "?"), "api": info.get("ApiVersion", "?"), "cli": self.cli}

    # builds -------------------------------------------------------------------------------

    def build(
        self,
        dockerfile: Path,
        context: Path,
        tag: str,
        *,
        target: str | None = None,
        no_cache: bool = False,
        on_line: Callable[[str], None] | None = None,
        workdir: Path,
    ) -> BuildOutput:
        """``docker build`` with BuildKit and the host network; the output is plain progress."""
        iidfile = workdir / f"iid-{re.sub(r'[^A-Za-z0-9_.-]', '_', tag)}"
        argv = [self.cli, "build", "--network", "host", "--progress", "plain", "-f", str(dockerfile), "-t", tag]
        argv += ["--iidfile", str(iidfile)]
        if target:
            argv += ["--target", target]
        if no_cache:
            argv.append("--no-cache")
        argv.append(str(context))
        started = time.monotonic()
        returncode, lines = _stream(argv, {**os.environ, "DOCKER_BUILDKIT": "1"}, on_line, self._builds)
        seconds = time.monotonic() - started
        image_id = iidfile.read_text().strip() if returncode == 0 and iidfile.is_file() else None
        return BuildOutput(returncode, lines, seconds, image_id)

    # inspection -----------------------------------------------------------------------------

    def inspect(self, ref: str) -> dict:
        return self._api("inspect", lambda: self.client.api.inspect_image(ref))

    def history(self, ref: str) -> list[dict]:
        return self._api("history", lambda: self.client.api.history(ref))

    def has_image(self, ref: str) -> bool:
        try:
            self.client.api.inspect_image(ref)
            return True
        except Exception:
            return False

    @contextmanager
    def exported_filesystem(self, ref: str) -> Iterator[BinaryIO]:
        """The image's root filesystem as a tar stream, from a container that is never started."""
        name = self._container_name()
        container = self._api(
            "create",
            lambda: self.client.api.create_container(
                ref, command=["/slimfile-verify-never-runs"], network_disabled=True, name=name
            ),
        )
        try:
            chunks = self._api("export", lambda: self.client.api.export(container["Id"], chunk_size=_EXPORT_CHUNK))
            yield io.BufferedReader(ChunkStream(chunks), buffer_size=_EXPORT_CHUNK)
        finally:
            self._remove_container(container["Id"])

    @contextmanager
    def saved_image(self, ref: str) -> Iterator[BinaryIO]:
        """``docker save`` of one image as a tar stream: its config, manifest and every layer's
        own tar (what ``slimfile layers`` reads), streamed, never held in memory."""
        chunks = self._api("save", lambda: self.client.api.get_image(ref, chunk_size=_EXPORT_CHUNK))
        yield io.BufferedReader(ChunkStream(chunks), buffer_size=_EXPORT_CHUNK)

    def run(self, ref: str, command: Sequence[str] | None, timeout: float) -> RunOutput:
        """Run once on the host network, no ports published; the container is removed after."""
        api = self.client.api
        host_config = api.create_host_config(network_mode="host")
        name = self._container_name()
        container = self._api(
            "create",
            lambda: api.create_container(ref, command=list(command) if command else None, host_config=host_config, name=name),
        )
        try:
            self._api("start", lambda: api.start(container["Id"]))
            exit_code, timed_out = self._wait(container["Id"], timeout)
            stdout = api.logs(container["Id"], stdout=True, stderr=False).decode("utf-8", "replace")
            stderr = api.logs(container["Id"], stdout=False, stderr=True).decode("utf-8", "replace")
            return RunOutput(exit_code, stdout, stderr, timed_out)
        finally:
            self._remove_container(container["Id"])

    def _wait(self, container_id: str, timeout: float) -> tuple[int | None, bool]:
        try:
            result = self.client.api.wait(container_id, timeout=timeout)
            return int(result.get("StatusCode", -1)), False
        except Exception:  # requests' ReadTimeout, wrapped differently across SDK versions
            self.client.api.kill(container_id)
            return None, True

    # clean-up ------------------------------------------------------------------------------

    def _container_name(self) -> str:
        """Recorded before the create call: if verify is stopped while the engine creates the
        container, the clean-up still knows its name."""
        name = f"{self.container_prefix}-{len(self.containers) + 1}"
        self.containers.append(name)
        return name

    def stop_builds(self) -> None:
        """Stop the builds still running (an interrupt can leave one behind) and wait for them, so
        that none tags an image after the clean-up removed the tags."""
        for process in list(self._builds):
            _stop(process)
        self._builds.clear()

    def remove_containers(self) -> list[str]:
        """Remove every container verify named (normally gone already); returns the names that
        could not be removed."""
        failed = []
        for name in self.containers:
            try:
                self.client.api.remove_container(name, force=True, v=True)
            except Exception as exc:
                if getattr(exc, "status_code", None) != 404:
                    failed.append(name)
        return failed

    def remove_images(self, refs: Iterable[str]) -> list[str]:
        """Remove by tag; returns the refs that could not be removed (already gone is fine)."""
        failed = []
        for ref in dict.fromkeys(refs):
            try:
                self.client.api.remove_image(ref, force=False, noprune=False)
            except Exception as exc:
                if getattr(exc, "status_code", None) != 404:
                    failed.append(ref)
        return failed

    def _remove_container(self, container_id: str) -> None:
        try:
            self.client.api.remove_container(container_id, force=True, v=True)
        except Exception:
            pass

    def _api(self, what: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except Exception as exc:
            raise EngineError(f"docker {what} failed: {exc}") from None


def _stream(
    argv: list[str], env: dict[str, str], on_line: Callable[[str], None] | None, running: list[subprocess.Popen]
) -> tuple[int, list[str]]:
    """Run a command, passing each output line on as it comes; stdout and stderr merged. The
    process is in ``running`` until it has ended."""
    lines: list[str] = []
    try:
        process = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, text=True, errors="replace"
        )
    except OSError as exc:
        raise EngineError(f"cannot run {argv[0]}: {exc}") from None
    running.append(process)
    try:
        assert process.stdout is not None
        for line in process.stdout:
            line = line.rstrip("\n")
            lines.append(line)
            if on_line is not None:
                on_line(line)
        return process.wait(), lines
    finally:
        _stop(process)  # an interrupt lands here with the build still running
        running.remove(process)


def _stop(process: subprocess.Popen) -> None:
    """End a build the way Ctrl-C in a terminal does (the client cancels it in the engine), then
    wait for it; a client that does not exit is killed."""
    if process.poll() is not None:
        return
    for send in (lambda: process.send_signal(signal.SIGINT), process.terminate, process.kill):
        send()
        try:
            process.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


def root_cause(exc: BaseException) -> str:
    """One line for an SDK connection error: the innermost OS error when there is one
    ("No such file or directory", "Connection refused"), else the message's first line."""
    seen: set[int] = set()
    pending: list[object] = [exc]
    while pending:
        current = pending.pop(0)
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.strerror:
            return current.strerror
        pending.extend([current.__cause__, current.__context__, *current.args])
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
