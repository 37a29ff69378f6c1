"""A build that fails for a moment (a package index that answers 503, a mirror that drops the
connection) must not decide verify's verdict: a failed build is run once more, and a rewrite
that fails twice is a problem of the rewrite only if the original still builds.

The real builds (marker ``docker``) fetch from an HTTP server in this process that answers each
request with the next status of a script, so the fault is exact and repeatable: the builds run
on the host network (``--network host``), where the server listens on 127.0.0.1.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from rich.console import Console

import slimfile.verify.build as build_module
from slimfile.engine import Settings
from slimfile.verify import VerifyRequest, verify
from slimfile.verify.build import BUILD_TRIES, RETRY_PAUSE, run_build
from slimfile.verify.docker_engine import BuildOutput
from slimfile.verify.render import render
from slimfile.verify.report import ImageFacts, VerifyReport


@pytest.fixture(autouse=True)
def pauses(monkeypatch) -> list[float]:
    """The pauses before a second try, recorded instead of waited for."""
    waited: list[float] = []
    monkeypatch.setattr(build_module, "time", type("Clock", (), {"sleep": staticmethod(waited.append)}))
    return waited


# --- run_build with an engine that fails on cue (no Docker) ----------------------------------


@dataclass
class ScriptedEngine:
    """``build`` fails while ``failures`` lasts, then succeeds; it records each call's options."""

    failures: int
    calls: list[dict] = field(default_factory=list)

    def build(self, dockerfile, context, tag, *, target=None, no_cache=False, on_line=None, workdir) -> BuildOutput:
        self.calls.append({"tag": tag, "no_cache": no_cache, "target": target})
        number = len(self.calls)
        if number <= self.failures:
            return BuildOutput(1, [f"#5 [2/2] RUN fetch (try {number})", f"#5 ERROR: 503 Service Unavailable (try {number})"], 9.0, None)
        return BuildOutput(0, ["#5 [2/2] RUN fetch", "#5 DONE 1.0s"], 2.5, f"sha256:{number}")


def build(engine: ScriptedEngine, **options):
    return run_build(engine, Path("Dockerfile"), Path("."), "slimfile-verify:x", workdir=Path("."), **options)  # type: ignore[arg-type]


def test_a_build_that_fails_once_is_run_again_with_the_same_options(pauses):
    engine = ScriptedEngine(failures=1)
    said: list[str] = []
    result = build(engine, no_cache=True, target="release", on_line=said.append)
    assert pauses == [RETRY_PAUSE] and RETRY_PAUSE >= 10  # longer than pip's own retries
    assert said == [f"the build failed: trying once more in {RETRY_PAUSE:.0f} s"]
    assert result.ok and result.built_on_retry and result.tries == 2
    assert engine.calls == [{"tag": "slimfile-verify:x", "no_cache": True, "target": "release"}] * 2
    assert result.first_failure[-1] == "#5 ERROR: 503 Service Unavailable (try 1)"
    assert (result.seconds, result.image_id, result.log_tail) == (2.5, "sha256:2", [])  # the try that built
    assert result.to_dict()["first_failure_tail"] == result.first_failure


def test_a_build_that_fails_every_try_keeps_the_last_log_and_the_first(pauses):
    engine = ScriptedEngine(failures=5)
    result = build(engine)
    assert pauses == [RETRY_PAUSE]  # none after the last try
    assert not result.ok and result.tries == BUILD_TRIES == len(engine.calls) == 2
    assert result.log_tail[-1].endswith("(try 2)") and result.first_failure[-1].endswith("(try 1)")
    assert not result.built_on_retry
    assert result.retry_note() == "failed, and failed again when run once more (first try ended: #5 ERROR: 503 Service Unavailable (try 1))"


def test_a_build_that_succeeds_is_run_once_and_tries_can_be_one(pauses):
    engine = ScriptedEngine(failures=0)
    result = build(engine)
    assert (result.ok, result.tries, result.first_failure, len(engine.calls)) == (True, 1, [], 1)
    assert "first_failure_tail" not in result.to_dict() and result.retry_note() is None
    engine = ScriptedEngine(failures=1)
    result = build(engine, tries=1)
    assert (result.ok, result.tries, len(engine.calls)) == (False, 1, 1)
    assert pauses == []


def test_the_report_names_the_retried_build_and_how_its_first_try_ended():
    retried = build(ScriptedEngine(failures=1), no_cache=True)
    once = build(ScriptedEngine(failures=0), no_cache=True)
    report = VerifyReport("Dockerfile", "/ctx", None, False)
    report.before = ImageFacts(tag="slimfile-verify:x-before", build=once, size=1000, layers=2)
    report.after = ImageFacts(tag="slimfile-verify:x-after", build=retried, size=900, layers=1)
    assert [label for label, _build in report.retried_builds()] == ["rewritten (cold)"]
    assert report.to_dict()["retried_builds"] == ["rewritten (cold)"]
    console = Console(record=True, width=200)
    render(report, console)
    text = console.export_text()
    assert (
        "the rewritten (cold) build failed once and built when run again "
        "(first try ended: #5 ERROR: 503 Service Unavailable (try 1))"
    ) in text


# --- real builds against a scripted server ----------------------------------------------------

DOCKERFILE = """\
FROM python:3.11-slim
RUN python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:{port}/package')"
RUN echo one > /one
RUN echo two > /two
CMD ["cat", "/one"]
"""


class ScriptedServer:
    """Answers the n-th request with ``statuses[n]`` (200 once the script is spent)."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.answered: list[int] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status = server.statuses.pop(0) if server.statuses else 200
                server.answered.append(status)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.http.server_address[1]


@pytest.fixture
def scripted_server() -> Iterator[Callable[[list[int]], ScriptedServer]]:
    """``scripted_server(statuses)``: a server answering with ``statuses``, stopped after the test."""
    started: list[ScriptedServer] = []

    def start(statuses: list[int]) -> ScriptedServer:
        server = ScriptedServer(statuses)
        threading.Thread(target=server.http.serve_forever, daemon=True).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.http.shutdown()
        server.http.server_close()


def verify_with(tmp_path: Path, engine, server: ScriptedServer) -> VerifyReport:
    (tmp_path / "Dockerfile").write_text(DOCKERFILE.format(port=server.port))
    return verify(VerifyRequest(dockerfile=tmp_path / "Dockerfile", settings=Settings()), engine=engine)


@pytest.mark.docker
@pytest.mark.xdist_group("docker-builds")
def test_a_rewrite_whose_first_build_meets_a_503_is_verified(tmp_path, engine, scripted_server, pauses):
    """Requests: the original's cold build, the rewrite's (503), the rewrite's second try."""
    server = scripted_server([200, 503])
    report = verify_with(tmp_path, engine, server)
    assert pauses == [RETRY_PAUSE]
    assert report.verdict == "verified", (report.error, report.error_log, [p.message for p in report.problems])
    assert [fix["code"] for fix in report.rewrite.applied] == ["SF502", "SF502"]
    assert server.answered[:3] == [200, 503, 200]
    assert (report.before.build.tries, report.after.build.tries) == (1, 2)
    assert any("503" in line for line in report.after.build.first_failure), report.after.build.first_failure
    assert report.to_dict()["retried_builds"] == ["rewritten (cold)"]


@pytest.mark.docker
@pytest.mark.xdist_group("docker-builds")
def test_when_the_original_fails_too_the_verdict_is_an_error_not_the_rewrite(tmp_path, engine, scripted_server):
    """The rewrite fails both tries, and the original, built again, fails as well: exit 2."""
    server = scripted_server([200, 503, 503, 503])
    report = verify_with(tmp_path, engine, server)
    assert (report.verdict, report.exit_code) == ("error", 2), [p.message for p in report.problems]
    assert "the original no longer builds either" in report.error
    assert report.problems == [] and any("503" in line for line in report.error_log)
    assert server.answered == [200, 503, 503, 503]


@pytest.mark.docker
@pytest.mark.xdist_group("docker-builds")
def test_when_the_original_still_builds_the_rewrite_does_not(tmp_path, engine, scripted_server):
    """The same two failures of the rewrite, but the original builds again: the rewrite's fault."""
    server = scripted_server([200, 503, 503, 200])
    report = verify_with(tmp_path, engine, server)
    assert (report.verdict, report.exit_code) == ("rewrite-does-not-build", 1), (report.error, report.error_log)
    assert server.answered == [200, 503, 503, 200]
    assert report.after.build.tries == 2 and not report.after.build.ok
