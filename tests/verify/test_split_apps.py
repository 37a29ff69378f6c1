"""Multi-stage splits (SF901) on fixture apps, with real builds (marker: docker).

Each app is a common single-stage Dockerfile; `slimfile verify --unsafe-fixes` builds the
original and the split, and the split must build, run the same, keep the config the
Dockerfile sets and the application's runtime files, and be far smaller. The expected sizes
are the issue's magnitudes on the offline images (static Go about 1% of the original, cgo
under 10%, Node with a build step well under half); the expert's hand-written rewrites (`expert.Dockerfile`) are measured by
`benchmarks/experts.py`.
"""

from __future__ import annotations

import shutil

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
    # loads a Go plugin: both builds keep cgo (-buildmode=plugin links externally), libc release
    "go-plugin": (0.10, "debian:bookworm-slim", "hello, slimfile, from a plugin"),
    "python-compiled": (0.5, "python:3.11-slim", "psycopg2 2.9.10 libpq 15"),
    # issue 8's trap: pip compiles netifaces with the full image's own gcc (no build tools
    # installed): the full image stays the build stage (653 MB -> 171 MB, as the expert)
    "python-source-build": (0.35, "python:3.11-slim", "lo ipv4 127.0.0.1"),
    # the project's own C extension (`pip install .` of a setup.py with ext_modules): a naive
    # swap fails the same way (gcc missing); the split builds on the full image
    "python-c-extension": (0.35, "python:3.11-slim", "fastx 42"),
    # the zoo's JRE stand-in is Debian's openjdk-17-jre-headless on bookworm-slim (324.8 MB);
    # upstream eclipse-temurin:17-jre is about 260 MB against 400 MB for the JDK
    "java-jar": (0.8, "eclipse-temurin:17-jre", "java 17"),
    "rust-cli": (0.10, "debian:bookworm-slim", "words 3"),
    # npm's default install script compiles the project's addon (binding.gyp): the build stage
    # keeps make, g++ and python3; the release gets node_modules and build/ (759 -> 302 MB)
    "node-addon": (0.45, "node:18-slim", "slimfile 3030710329 after 2 minutes"),
    # npm ci compiles a dependency's addon (node-expat, no prebuilt binary), and nothing else is
    # built: the install is the build, the compiled node_modules ship, and jq, which the
    # service runs, is installed in the release again
    "node-native-dep": (0.45, "node:18-slim", "jq counts 3 elements"),
    "node-typescript": (0.45, "node:18-slim", '/uptime?after=90s 200 {"greeting":"hello from node-typescript","after":"90s","words":"2 minutes"}'),
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


# -- setup shared by build and release: a base stage ------------------------------------------


def test_shared_setup_is_written_once_in_a_base_stage(split):
    """python-slim-user builds on the slim image it runs on: ENV, the user and WORKDIR go into
    a base stage that build and release are built FROM, and the split is verified as the
    others (same files, config and output; the user exists in the release)."""
    report = split("python-slim-user")
    assert report.error is None, (report.error, report.error_log)
    assert report.problems == [] and report.verdict == "verified", [p.message for p in report.problems]
    assert report.size_ratio < 0.5, report.size_ratio  # 454.8 -> 174.3 MB on the zoo (= the expert)
    assert report.after.config["User"] == "app" and report.run.differences() == []
    dockerfile = APPS_DIR / "python-slim-user" / "Dockerfile"
    output = fix_source(dockerfile.read_bytes(), str(dockerfile), Settings(unsafe_fixes=True)).output.decode()
    assert "FROM python:3.11-slim AS base\n" in output and "FROM base AS build\n" in output and "FROM base AS release\n" in output
    assert output.count("useradd") == 1 and output.count("ENV PYTHONUNBUFFERED") == 1


# -- a static front end: the release serves it with nginx --------------------------------------

# app -> (largest size ratio after/before, the port both images listen on, paths to ask)
SITES = {
    "node-static-site": (
        0.2,
        5173,
        [
            "/", "/index.html", "/index", "/about", "/about.html", "/docs/setup", "/docs/setup/", "/assets", "/assets/",
            "/favicon.svg", "/robots.txt", "/missing.js", "/x.html?q=1", "/a/index", "/.hidden", "/favicon.svg/",
            "/about?x=1", "/a%20b", "/assets/../robots.txt", "/ASSETS/x.JS",
        ],
    ),
}


@pytest.fixture(scope="module")
def site(engine):
    """verify's report (images kept) and each image's answers, per app; images removed after."""
    cache = {}

    def get(app: str):
        if app not in cache:
            request = VerifyRequest(dockerfile=APPS_DIR / app / "Dockerfile", settings=Settings(unsafe_fixes=True), keep=True)
            report = verify(request, engine=engine)
            try:
                assert report.error is None, (report.error, report.error_log)
                _ratio, port, paths = SITES[app]
                assets = _asset_paths(engine, report.after.tag)
                answers = {role: _answers(engine, getattr(report, role).tag, port, paths + assets) for role in ("before", "after")}
            finally:
                engine.remove_images(report.kept_images)
            cache[app] = (report, answers, assets)
        return cache[app]

    return get


@pytest.mark.parametrize("app", sorted(SITES))
def test_the_static_site_moves_to_nginx_and_is_verified(app, site):
    report, _answers, _assets = site(app)
    assert "SF901" in [fix["code"] for fix in report.rewrite.applied]
    assert report.problems == [] and report.verdict == "verified", [p.message for p in report.problems]
    assert report.size_ratio < SITES[app][0], report.size_ratio
    dockerfile = APPS_DIR / app / "Dockerfile"
    output = fix_source(dockerfile.read_bytes(), str(dockerfile), Settings(unsafe_fixes=True)).output.decode()
    assert "FROM nginx:1 AS release" in output and 'CMD ["nginx", "-g", "daemon off;"]' in output
    # the change of command and the port nginx's image adds are what the split declares
    assert {"config:Cmd", "config:ExposedPorts"} <= set(report.rewrite.declares)
    assert report.after.config["ExposedPorts"] == {**report.before.config["ExposedPorts"], "80/tcp": {}}


@pytest.mark.parametrize("app", sorted(SITES))
def test_nginx_answers_every_path_as_serve_did(app, site):
    _report, answers, assets = site(app)
    assert assets, "the bundle's files were found in the image"
    before, after = answers["before"], answers["after"]
    assert before["/"][0] == 200 and before["/index.html"][0] == 301 and before["/about"] == before["/"]
    for path in before:
        assert after[path] == before[path], (path, before[path], after[path])


def _asset_paths(engine, ref: str) -> list[str]:
    """The URL paths of the files the build wrote (hashed bundle names included)."""
    out = engine.run(ref, ["find", "/usr/share/nginx/html", "-type", "f"], 60)
    assert out.exit_code == 0, out.stderr
    root = "/usr/share/nginx/html"
    return sorted(line[len(root) :] for line in out.stdout.split() if line.startswith(root + "/") and not line.endswith("50x.html"))


def _answers(engine, ref: str, port: int, paths: list[str]) -> dict[str, tuple]:
    """(status, Location, Content-Type, body digest) of each path; redirect bodies are left
    out (serve sends none, nginx a short page)."""
    import hashlib
    import http.client
    import time

    api = engine.client.api
    container = api.create_container(ref, host_config=api.create_host_config(network_mode="host"))
    try:
        api.start(container["Id"])
        deadline = time.monotonic() + 90
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection.request("GET", "/")
                connection.getresponse().read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"{ref} does not answer on port {port}: {api.logs(container['Id']).decode()[-2000:]}")
                time.sleep(0.5)
        answers = {}
        for path in paths:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", path, headers={"Accept-Encoding": "identity"})
            response = connection.getresponse()
            body = response.read()
            location = response.getheader("Location")
            digest = hashlib.sha256(body).hexdigest() if location is None else None
            answers[path] = (response.status, location, response.getheader("Content-Type") if location is None else None, digest)
        return answers
    finally:
        api.remove_container(container["Id"], force=True, v=True)


# -- the prune of a stage whose install is its build ------------------------------------------


def test_the_prune_before_the_sources_stays_cached_after_a_source_edit(split):
    """node-native-dep: `npm ci` compiles node-expat and is the build; only `COPY . .` follows.
    The prune goes right after the install (before the copy of the sources), so verify's warm
    rebuild after an edit of index.js takes the install, the prune and the release's copy of
    node_modules from the cache (the prune ran again when it followed `COPY . .`)."""
    report = split("node-native-dep")
    warm = report.after.warm.build
    assert warm.ok, warm.steps
    prune = [step for step in warm.steps if "npm prune" in step.instruction]
    modules = [step for step in warm.steps if step.instruction.startswith("COPY") and "/app/node_modules" in step.instruction]
    assert prune and all(step.cached for step in prune), warm.steps
    assert modules and all(step.cached for step in modules), warm.steps
    assert any(not step.cached and step.instruction.startswith("COPY . ") for step in warm.steps), warm.steps


def test_node_gyps_python_stays_in_the_build_stage(tmp_path, engine):
    """node-native-dep on node:18-slim, which has no compiler: the stage installs node-gyp's
    toolchain itself (`python3 make g++`) beside jq. python3 runs gyp, as make and g++ run the
    compile: the release installs jq again and none of the three (upstream node:18-slim has no
    python3, a 44 MB layer on debian:bookworm-slim; the zoo's stand-in, Debian's Node.js, has
    it already, so the saving does not show here). The rewrite is verified and runs the same."""
    shutil.copytree(APPS_DIR / "node-native-dep", tmp_path / "app")
    dockerfile = tmp_path / "app" / "Dockerfile"
    dockerfile.write_text(
        "FROM node:18-slim\n"
        "ENV npm_config_nodedir=/usr\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ jq && rm -rf /var/lib/apt/lists/*\n"
        "WORKDIR /app\n"
        "COPY package.json package-lock.json ./\n"
        "RUN npm ci\n"
        "COPY . .\n"
        'CMD ["node", "index.js"]\n'
    )
    output = fix_source(dockerfile.read_bytes(), str(dockerfile), Settings(unsafe_fixes=True)).output.decode()
    release = output.split(" AS release\n")[1]
    assert "apt-get install -y --no-install-recommends jq &&" in release, output
    report = verify(VerifyRequest(dockerfile=dockerfile, settings=Settings(unsafe_fixes=True), run=""), engine=engine)
    assert report.error is None, (report.error, report.error_log)
    assert "SF901" in [fix["code"] for fix in report.rewrite.applied]
    assert report.problems == [] and report.verdict == "verified", [p.message for p in report.problems]
    assert report.run.differences() == [] and "jq counts 3 elements" in report.run.after.stdout.splitlines()
