"""The base-image swap (SF801) on fixture apps, with real builds (marker: docker).

Where the swap applies (python-full, ruby-full, node-patch), `slimfile verify --unsafe-fixes`
must build the rewrite on the slim variant, keep the config the Dockerfile sets and the
application files, run the same, and be far smaller. Where a naive swap breaks the build
(python-source-build compiles netifaces with the full image's gcc; node-patch runs `patch`),
the naive swap must really fail on the zoo's slim images, and slimfile's output must build and
run the same: by refusing the swap and splitting the stage instead (python-source-build: SF901
keeps the full image as the build stage, tests/verify/test_split_apps.py) or by installing
what is missing (node-patch: `patch`, and `curl` for its HEALTHCHECK).

SF902 (USER node) is left out: the zoo's node stand-ins have no `node` user (upstream ones do).
"""

from __future__ import annotations

import pytest

from slimfile.diagnostics import Finding, Rule
from slimfile.engine import Settings, check_source, fix_source
from slimfile.syntax.edits import Edit, Fix, Safety
from slimfile.verify import VerifyRequest, verify
from tests.docker_engine import fixture_apps_dir

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("docker-builds")]

APPS_DIR = fixture_apps_dir()
SETTINGS = Settings(unsafe_fixes=True, ignore=frozenset({"SF902"}))
# app -> (base of the rewrite, largest size ratio after/before, a line the app prints)
SWAPS = {
    "python-full": ("python:3.11-slim", 0.3, "releases: 4"),
    "ruby-full": ("ruby:3.1-slim", 0.3, "total value 27.75"),
    "node-patch": ("node:18-slim", 0.5, '/format?ms=1209600000 200 {"ms":1209600000,"short":"2w","long":"14 days"}'),
    # microtime 3.1.1 is a native addon with prebuilt N-API binaries in its package: npm ci on
    # the slim image compiles nothing (764 -> 305 MB); microtime 2.x would compile and stay
    "node-prebuilt-addon": ("node:18-slim", 0.5, "sum 500500, timed by microtime: true"),
}
# app -> (full image, slim image, what the naive build's log says)
TRAPS = {
    "python-source-build": ("python:3.11", "python:3.11-slim", "netifaces"),
    "python-c-extension": ("python:3.11", "python:3.11-slim", "failed: No such file or directory"),
    "node-patch": ("node:18", "node:18-slim", "patch: not found"),
}
NAIVE = Rule("XP801", "naive-swap", "a blind base swap", "Swap the base blindly", "")


def naive_pass(full: str, slim: str):
    """What a blind swap writes (OpenRewrite's ChangeFrom): the image word, nothing else."""

    def check(ctx):
        old = f"FROM {full}\n".encode()
        at = ctx.source.find(old)
        if at < 0:
            return
        edit = Edit(at + 5, at + 5 + len(full), slim.encode())
        yield Finding(NAIVE, "naive", at, at + len(old), Fix((edit,), Safety.UNSAFE, "naive", frozenset({"base-image"})))

    return check


@pytest.fixture(scope="module")
def verified(engine):
    cache = {}

    def get(app: str, kind: str = "slimfile"):
        key = (app, kind)
        if key not in cache:
            dockerfile = APPS_DIR / app / "Dockerfile"
            if kind == "naive":
                full, slim, _ = TRAPS[app]
                request = VerifyRequest(dockerfile=dockerfile, settings=Settings(unsafe_fixes=True), run="")
                cache[key] = verify(request, engine=engine, passes=(naive_pass(full, slim),))
            else:
                cache[key] = verify(VerifyRequest(dockerfile=dockerfile, settings=SETTINGS, run=""), engine=engine)
        return cache[key]

    return get


@pytest.mark.parametrize("app", sorted(SWAPS))
def test_the_swap_is_applied_and_verified(app, verified):
    report = verified(app)
    assert report.error is None, (report.error, report.error_log)
    assert "SF801" in [fix["code"] for fix in report.rewrite.applied]
    assert {"base-image", "packages"} <= set(report.rewrite.declares)
    assert report.problems == [] and report.verdict == "verified", [p.message for p in report.problems]


@pytest.mark.parametrize("app", sorted(SWAPS))
def test_the_slim_image_is_smaller_and_runs_the_same(app, verified):
    report = verified(app)
    base, ratio, line = SWAPS[app]
    assert report.size_ratio < ratio, report.size_ratio
    dockerfile = APPS_DIR / app / "Dockerfile"
    assert f"FROM {base}\n" in fix_source(dockerfile.read_bytes(), str(dockerfile), SETTINGS).output.decode()
    assert report.run.differences() == [] and line in report.run.after.stdout.splitlines()


@pytest.mark.parametrize("app", sorted(SWAPS))
def test_the_config_and_the_app_files_are_kept(app, verified):
    report = verified(app)
    assert report.config_changes == [] and report.after.config == report.before.config
    assert report.files.by_category("app") == []
    assert report.files.by_category("system")  # the base image did change


@pytest.mark.parametrize("app", sorted(TRAPS))
def test_a_naive_swap_breaks_the_build(app, verified):
    report = verified(app, "naive")
    assert report.before.build.ok
    assert not report.after.build.ok and report.exit_code == 1
    assert TRAPS[app][2] in "\n".join(report.after.build.log_tail)


@pytest.mark.parametrize("app", sorted(TRAPS))
def test_slimfile_keeps_it_building_and_running_the_same(app, verified):
    report = verified(app)
    assert report.after.build.ok and report.exit_code == 0, [p.message for p in report.problems]
    assert report.run.differences() == []


def test_the_source_build_is_refused_with_the_reason():
    dockerfile = APPS_DIR / "python-source-build" / "Dockerfile"
    findings = [f for f in check_source(dockerfile.read_bytes(), str(dockerfile), SETTINGS) if f.code == "SF801"]
    assert len(findings) == 1 and findings[0].fix is None
    assert "pip builds netifaces from source" in findings[0].message and "SF901" in findings[0].message
    output = fix_source(dockerfile.read_bytes(), str(dockerfile), SETTINGS).output.decode()
    assert "FROM python:3.11 AS build\n" in output and "FROM python:3.11-slim AS release\n" in output


def test_the_project_s_own_c_extension_is_refused_with_the_reason():
    dockerfile = APPS_DIR / "python-c-extension" / "Dockerfile"
    findings = [f for f in check_source(dockerfile.read_bytes(), str(dockerfile), SETTINGS) if f.code == "SF801"]
    assert len(findings) == 1 and findings[0].fix is None
    assert "builds the project at ., which holds native sources (fastx.c)" in findings[0].message
    output = fix_source(dockerfile.read_bytes(), str(dockerfile), SETTINGS).output.decode()
    assert "FROM python:3.11 AS build\n" in output and "FROM python:3.11-slim AS release\n" in output


def test_node_patch_gets_the_tools_it_uses(verified):
    dockerfile = APPS_DIR / "node-patch" / "Dockerfile"
    output = fix_source(dockerfile.read_bytes(), str(dockerfile), SETTINGS).output.decode()
    assert "RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl patch && rm -rf /var/lib/apt/lists/*\n" in output
