"""Multi-stage splits (SF901) on fixture apps, with real builds (marker: docker).

Each app is a common single-stage Dockerfile; `slimfile verify --unsafe-fixes` builds the
original and the split, and the split must build, run the same, keep the config the
Dockerfile sets and the application's runtime files, and be far smaller. The expected sizes
are the issue's magnitudes on the offline images (static Go about 1% of the original, cgo
under 10%); the expert's hand-written rewrites (`expert.Dockerfile`) are measured by
`benchmarks/experts.py`.
"""

from __future__ import annotations

import pytest

from slimfile.engine import Settings, fix_source
from slimfile.verify import VerifyRequest, verify
from tests.docker_engine import fixture_apps_dir

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("docker-builds")]

APPS_DIR = fixture_apps_dir()
# app -> (largest size ratio after/before, base of the release stage, a line the app prints)
SPLITS = {
    "go-single-stage": (0.02, "gcr.io/distroless/static-debian12", '/greet?name=slimfile 200 {"greeting":"hello, slimfile"}'),
    "go-cgo": (0.10, "debian:bookworm-slim", "slimfile b7cb5b6a"),
    "python-compiled": (0.5, "python:3.11-slim", "psycopg2 2.9.10 libpq 15"),
    # the zoo's JRE stand-in is Debian's openjdk-17-jre-headless on bookworm-slim (324.8 MB);
    # upstream eclipse-temurin:17-jre is about 260 MB against 400 MB for the JDK
    "java-jar": (0.8, "eclipse-temurin:17-jre", "java 17"),
    "rust-cli": (0.10, "debian:bookworm-slim", "words 3"),
}


@pytest.fixture(scope="module")
def split(engine):
    cache = {}

    def get(app: str):
        if app not in cache:
            request = VerifyRequest(dockerfile=APPS_DIR / app / "Dockerfile", settings=Settings(unsafe_fixes=True), run="")
            cache[app] = verify(request, engine=engine)
        return cache[app]

    return get


@pytest.mark.parametrize("app", sorted(SPLITS))
def test_the_split_is_applied_and_verified(app, split):
    report = split(app)
    assert report.error is None, (report.error, report.error_log)
    assert "SF901" in [fix["code"] for fix in report.rewrite.applied]
    assert report.problems == [] and report.verdict == "verified", [p.message for p in report.problems]


@pytest.mark.parametrize("app", sorted(SPLITS))
def test_the_release_is_small_and_runs_the_same(app, split):
    report = split(app)
    ratio, base, line = SPLITS[app]
    assert report.size_ratio < ratio, report.size_ratio
    dockerfile = APPS_DIR / app / "Dockerfile"
    output = fix_source(dockerfile.read_bytes(), str(dockerfile), Settings(unsafe_fixes=True)).output.decode()
    assert f"FROM {base} AS release" in output
    assert report.run.differences() == [] and line in report.run.after.stdout.splitlines()


@pytest.mark.parametrize("app", sorted(SPLITS))
def test_the_config_the_dockerfile_sets_is_kept(app, split):
    report = split(app)
    for field in ("Cmd", "Entrypoint", "WorkingDir", "ExposedPorts"):
        assert report.after.config.get(field) == report.before.config.get(field), field
    # Env may differ only where the base images set it (GOPATH of golang, SSL_CERT_FILE of
    # distroless) or where the split says so (PATH for a virtualenv): the verdict holds that
    assert "config:Env" not in report.rewrite.declares
    assert {d for d in report.rewrite.declares if d.startswith("config:")} <= {"config:Env:PATH", "config:Cmd", "config:User"}
