"""`slimfile verify` on every fixture app, with real builds (marker: docker).

Each app is verified once per session (both images built cold, rebuilt warm, inspected,
exported and run with their own CMD); the tests below assert on that one report. Today the
pass pipeline may leave a Dockerfile unchanged; the assertions hold either way: both builds
succeed, app files and config are identical, the rewrite is not bigger.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from slimfile.verify import VerifyRequest, verify
from tests.docker_engine import fixture_apps_dir

# one xdist worker does every build (run with --dist loadgroup): the session cache of verify
# results lives in one process, and parallel builds would distort the measured times
pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("docker-builds")]

APPS_DIR = fixture_apps_dir()
APPS = sorted(p.name for p in APPS_DIR.iterdir() if (p / "Dockerfile").is_file())

# the file the warm rebuild changes, and a line the app prints
EXPECTED = {
    "apt-tool": ("tool-info.sh", '{"image":"apt-tool","tools":["curl","jq"],"ok":true}'),
    "python-web": ("app.py", "200 OK hello from python-web"),
    "node-app": ("index.js", "60000 ms = 1 minute"),
    "go-service": ("main.go", '/greet?name=slimfile 200 {"greeting":"hello, slimfile"}'),
    "many-runs": ("report.sh", "sum 200010000"),
    "copy-order": ("inventory/__init__.py", "total value 29.50"),
    "build-tools": ("checksum.c", "slimfile b7cb5b6a"),
    "arg-before-from": ("main.py", "files: greeter/__init__.py main.py requirements.txt"),
    "npm-build": ("server.js", "/ 200 Welcome marked"),
    "node-user": ("server.js", "/ 200 Welcome marked"),
    "pnpm-app": ("index.js", "caching-docker-builds-a-field-guide <- Caching Docker builds: a field guide"),
    "pip-nested": ("shelf/__init__.py", "2 overdue on 2024-03-15"),
    "sys-packages": ("sniff.py", "checked by sniffer"),
    "poetry-app": ("sizes/__init__.py", "90 minutes = 1 hour and 30 minutes"),
    "go-stdlib": ("main.go", "1. the 8"),
    "go-single-stage": ("main.go", '/greet?name=slimfile 200 {"greeting":"hello, slimfile"}'),
    "go-cgo": ("main.go", "slimfile b7cb5b6a"),
    "go-plugin": ("main.go", "hello, slimfile, from a plugin"),
    "python-compiled": ("app.py", "psycopg2 2.9.10 libpq 15"),
    "python-slim-user": ("app.py", "psycopg2 2.9.10 libpq 15"),
    "node-typescript": ("src/ms.d.ts", '/uptime?after=90s 200 {"greeting":"hello from node-typescript","after":"90s","words":"2 minutes"}'),
    "node-static-site": ("index.html", "    <title>slimfile static site</title>"),
    "java-jar": ("src/main/Main.java", "java 17"),
    "rust-cli": ("src/main.rs", "words 3"),
    # base-image swaps (SF801): tests/verify/test_base_image_apps.py proves the unsafe rewrites
    "python-full": ("report.py", "releases: 4"),
    "python-source-build": ("ifaces.py", "lo ipv4 127.0.0.1"),
    "python-c-extension": ("fastx.c", "fastx 42"),
    # SF701 must not move `npm install` above the copy: npm's default install script compiles
    # the addon from binding.gyp and addon.cc, which only the copy brings
    "node-addon": ("addon.cc", "slimfile 3030710329 after 2 minutes"),
    "node-native-dep": ("index.js", "jq counts 3 elements"),
    "node-prebuilt-addon": ("index.js", "sum 500500, timed by microtime: true"),
    "node-patch": ("index.js", '/format?ms=90000 200 {"ms":90000,"short":"2m","long":"2 minutes"}'),
    "ruby-full": ("report.rb", "total value 27.75"),
    "broad-copy": ("greeter/__init__.py", "hello slimfile, from broad-copy"),
}

# Cache order (issue 9): apps whose original copies the sources before the dependency install
# (or before steps that do not use them), and what the rewrite's warm rebuild after a source
# edit must take from the cache: the dependency install, the system packages, the user.
CACHE_ORDER = {  # the installs that must come from the cache: the original's command, or (original's, rewrite's)
    "copy-order": ("pip install",),
    "npm-build": (("npm install", "npm ci"),),  # SF702 makes it `npm ci`
    "node-user": ("npm install",),  # as the image's own user `node` (home /home/node)
    "pnpm-app": ("npm install -g pnpm", "pnpm install"),
    "pip-nested": ("pip install",),
    "sys-packages": ("pip install", "apt-get install", "useradd"),
    "poetry-app": ("poetry==1.8.3", ("poetry install", "poetry install --no-root")),
    "go-stdlib": (("go build", "go mod download"),),  # the rewrite's own dependencies-only step
}
# apps whose own CMD is a server that never exits: both images run this instead
RUN_COMMANDS = {"node-static-site": "cat dist/index.html"}


def test_every_app_is_covered():
    assert len(APPS) >= 8 and set(APPS) == set(EXPECTED)


def tree_digest(root: Path) -> dict[str, tuple[str, int, int]]:
    """Content, mode and mtime of every file: verify must leave the user's tree exactly as it was."""
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            stat = path.stat()
            out[str(path.relative_to(root))] = (hashlib.sha256(path.read_bytes()).hexdigest(), stat.st_mode, stat.st_mtime_ns)
    return out


@pytest.fixture(scope="session")
def verified(engine):
    """``verified(app)`` -> (report, tree before, tree after), each app verified once."""
    cache = {}

    def get(app: str):
        if app not in cache:
            directory = APPS_DIR / app
            before = tree_digest(directory)
            report = verify(VerifyRequest(dockerfile=directory / "Dockerfile", run=RUN_COMMANDS.get(app, "")), engine=engine)
            cache[app] = (report, before, tree_digest(directory))
        return cache[app]

    return get


@pytest.mark.parametrize("app", APPS)
def test_both_images_build_and_the_rewrite_is_verified(app, verified):
    report, _, _ = verified(app)
    assert report.error is None, (report.error, report.error_log)
    assert report.before.build.ok and report.after.build.ok
    assert report.problems == [] and report.exit_code == 0 and report.verdict == "verified"


@pytest.mark.parametrize("app", APPS)
def test_app_files_and_config_are_identical(app, verified):
    report, _, _ = verified(app)
    assert report.app_paths["files"] + len(report.app_paths["trees"]) > 0  # the app's files were recognised
    assert report.files.by_category("app") == []
    assert report.files.compared > 100  # a whole root filesystem was compared
    assert report.config_changes == []
    assert report.after.config == report.before.config


@pytest.mark.parametrize("app", APPS)
def test_sizes_layers_and_their_instructions_are_reported(app, verified):
    report, _, _ = verified(app)
    before, after = report.before, report.after
    # a manifest copied first is in the image twice (its own layer and the broad copy's)
    copied_twice = sum(c.after.size for c in report.layer_changes if c.kind == "added" and c.after.keyword == "COPY")
    assert copied_twice < 10_000
    # and a dependencies-only install above the copy (poetry --no-root) leaves a few records the
    # full install below rewrites in a layer of its own
    rewritten_records = 4096
    assert 0 < after.size <= before.size + copied_twice + rewritten_records
    assert report.size_ratio == after.size / before.size
    assert before.layers >= 1 and after.layers >= 1
    final_stage = (APPS_DIR / app / "Dockerfile").read_text().split("\nFROM ")[-1]
    mine = [row for row in before.rows if row.origin == "dockerfile"]
    assert mine and all(row.line for row in mine)
    # every final-stage instruction shows up with the line that made it
    lines = final_stage.splitlines()[1:]
    continued = [False] + [line.endswith("\\") for line in lines[:-1]]  # a continuation is no instruction
    keywords = [line.split()[0] for line, cont in zip(lines, continued) if line and not line.startswith("#") and not cont]
    assert [row.keyword for row in mine][-len(keywords):] == keywords
    assert sum(row.size for row in before.rows) == before.size


@pytest.mark.parametrize("app", APPS)
def test_cold_build_and_warm_rebuild_are_measured(app, verified):
    report, _, _ = verified(app)
    expected_probe = EXPECTED[app][0]
    for facts in (report.before, report.after):
        runs = [step for step in facts.build.steps if step.instruction.startswith("RUN ")]
        assert runs and not any(step.cached for step in runs)  # cold: every RUN ran
        warm = facts.warm
        assert warm.probe.context_path == expected_probe
        assert warm.build.ok
        assert 0 <= warm.build.cached_steps < len(warm.build.steps)  # the change invalidated something


def test_the_copy_order_smell_shows_in_the_warm_rebuild(verified):
    report, _, _ = verified("copy-order")
    steps = {step.instruction: step.cached for step in report.before.warm.build.steps}
    assert steps["RUN pip install -r requirements.txt"] is False  # an edit reinstalls every dependency


def _steps_running(build, fragment: str):
    return [step for step in build.steps if step.instruction.startswith("RUN ") and fragment in step.instruction]


@pytest.mark.parametrize("app", sorted(CACHE_ORDER))
def test_after_a_source_edit_the_rewrite_takes_the_installs_from_the_cache(app, verified):
    """Issue 9's proof: the original re-runs its installs after a one-line source edit; the
    rewrite (SF701/SF703, safe with the build context read) takes them from the cache, and
    more of its steps are cached. Files, config and output are the same (the tests above)."""
    report, _, _ = verified(app)
    assert {fix["code"] for fix in report.rewrite.applied} & {"SF701", "SF703"}
    before, after = report.before.warm.build, report.after.warm.build
    assert before.ok and after.ok
    assert after.cached_steps > before.cached_steps, (before.steps, after.steps)
    for fragment in CACHE_ORDER[app]:
        original, rewritten = fragment if isinstance(fragment, tuple) else (fragment, fragment)
        ran_before, ran_after = _steps_running(before, original), _steps_running(after, rewritten)
        assert ran_before and not any(step.cached for step in ran_before), (fragment, before.steps)
        assert ran_after and all(step.cached for step in ran_after), (fragment, after.steps)
    # what still runs is the broad copy and what reads it, nothing above it
    first_rerun = next(i for i, step in enumerate(after.steps) if not step.cached)
    assert re.match(r"(COPY|ADD)( --\S+)* \. ", after.steps[first_rerun].instruction), after.steps


@pytest.mark.parametrize("app", APPS)
def test_both_images_print_the_same(app, verified):
    report, _, _ = verified(app)
    run = report.run
    assert run.differences() == []
    assert run.before.exit_code == 0
    assert EXPECTED[app][1] in run.before.stdout.splitlines()


@pytest.mark.parametrize("app", APPS)
def test_the_tree_is_untouched_and_every_image_removed(app, verified, engine):
    report, tree_before, tree_after = verified(app)
    assert tree_after == tree_before
    assert len(report.built_images) >= 4  # two cold builds, two warm rebuilds
    assert [tag for tag in report.built_images if engine.has_image(tag)] == []
    assert report.not_removed == [] and report.kept_images == []


@pytest.mark.parametrize("app", APPS)
def test_the_json_report_holds_the_same_facts(app, verified):
    report, _, _ = verified(app)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["verdict"] == "verified" and data["exit_code"] == 0
    assert data["before"]["size"] == report.before.size and data["after"]["layers"] == report.after.layers
    assert data["before"]["warm_rebuild"]["probe"]["file"] == EXPECTED[app][0]
    assert data["comparison"]["files"]["app_changes"] == 0 and data["comparison"]["config_changes"] == []
    assert data["comparison"]["run"]["same"] is True


def test_at_least_five_apps_get_smaller_with_the_same_config_and_files(verified):
    """Issue 4's real-build bar: the fixed Dockerfile builds, the image is smaller, and CMD,
    ENTRYPOINT, ENV, USER, WORKDIR (the whole config) and the app files are the same."""
    smaller = []
    for app in APPS:
        report, _, _ = verified(app)
        assert report.after.build.ok
        assert report.config_changes == [] and report.files.by_category("app") == []
        for field in ("Cmd", "Entrypoint", "Env", "User", "WorkingDir"):
            assert report.after.config.get(field) == report.before.config.get(field), (app, field)
        if report.rewrite.changed and report.after.size < report.before.size:
            smaller.append(app)
    assert len(smaller) >= 5, smaller


def test_unsafe_fixes_may_change_distribution_files_but_nothing_else(engine):
    """build-tools with --unsafe-fixes: --no-install-recommends drops packages (distribution files
    differ, which that fix declares as `packages`), while app files, config and output stay the same."""
    from slimfile.engine import Settings

    dockerfile = APPS_DIR / "build-tools" / "Dockerfile"
    report = verify(VerifyRequest(dockerfile=dockerfile, settings=Settings(unsafe_fixes=True), run=""), engine=engine)
    assert report.error is None, (report.error, report.error_log)
    assert report.rewrite.unsafe_applied, "no unsafe fix applies to build-tools any more; pick a fixture where one does"
    assert "packages" in report.rewrite.declares
    assert report.exit_code == 0, [p.message for p in report.problems]
    assert report.files.by_category("system") and report.files.by_category("app") == []
    assert report.config_changes == [] and report.run.differences() == []
    assert report.after.size < report.before.size
