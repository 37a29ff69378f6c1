"""SF702 lockfile-install: when the frozen form is offered, and why not (the fixtures under
fixtures/passes/SF702-lockfile-install/ show the edits)."""

from __future__ import annotations

import json
import posixpath
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slimfile.analysis.context import Context
from slimfile.engine import Settings, lint
from slimfile.passes import lockfile_install
from slimfile.passes.common import runs
from slimfile.shell.effects import command_effects, overlaps
from slimfile.syntax.parser import parse
from tests.cli.conftest import write

PACKAGE = {"name": "app", "dependencies": {"ms": "^2.1.3"}}
LOCK = {"lockfileVersion": 3, "packages": {"": {"name": "app", "dependencies": {"ms": "^2.1.3"}}, "node_modules/ms": {"version": "2.1.3"}}}
YARN_CLASSIC = "# yarn lockfile v1\n\nms@^2.1.3:\n  version \"2.1.3\"\n"
PNPM_LOCK = (
    "lockfileVersion: '9.0'\n\nsettings:\n  autoInstallPeers: true\n  excludeLinksFromLockfile: false\n\n"
    "importers:\n\n  .:\n    dependencies:\n      ms:\n        specifier: ^2.1.3\n        version: 2.1.3\n"
)


def sf702(tmp_path: Path, dockerfile: str, files: dict) -> list[tuple[bool, str]]:
    write(tmp_path, {name: json.dumps(v) if isinstance(v, dict) else v for name, v in files.items()})
    found = lint(parse(dockerfile.encode()), Settings(select=frozenset({"SF702"}), build_context=str(tmp_path)))
    return [(f.fix is not None, f.message) for f in found]


def reason(findings: list[tuple[bool, str]]) -> str:
    ((fixed, message),) = findings
    assert not fixed
    return message.split("not fixed: ", 1)[1]


NPM = {"package.json": PACKAGE, "package-lock.json": LOCK}


def test_without_the_build_context_nothing_is_reported():
    found = lint(parse(b"FROM node\nCOPY . .\nRUN npm install\n"), Settings(select=frozenset({"SF702"})))
    assert found == []


def test_named_packages_global_installs_and_ci_are_left_alone(tmp_path: Path):
    text = "FROM node\nWORKDIR /app\nCOPY . .\nRUN npm install express && npm install -g pm2 && npm ci && yarn add x\n"
    assert sf702(tmp_path, text, NPM) == []


@pytest.mark.parametrize(
    "dockerfile, files, expected",
    [
        ("FROM node:14\nWORKDIR /app\nCOPY . .\nRUN npm install\n", NPM, "node 14 images ship npm 6"),
        ("FROM node\nWORKDIR /app\nCOPY . .\nRUN npm install --save-exact\n", NPM, "`--save-exact` asks"),
        ("FROM node\nWORKDIR /app\nCOPY . .\nRUN npm install --before=2020-01-01\n", NPM, "`--before` re-resolves"),
        ("FROM node\nWORKDIR /app\nCOPY . .\nENV NPM_CONFIG_PACKAGE_LOCK=false\nRUN npm install\n", NPM, "ENV NPM_CONFIG_PACKAGE_LOCK"),
        ("FROM node\nWORKDIR /app\nCOPY . .\nRUN rm -f package-lock.json && npm install\n", NPM, "writes /app/package-lock.json before it"),
        ("FROM node\nWORKDIR /app\nCOPY . .\nRUN npm install\n", {**NPM, "package.json": {**PACKAGE, "workspaces": ["a"]}}, "workspaces"),
        ("FROM node\nWORKDIR /app\nCOPY . .\nRUN npm install\n", {**NPM, "package-lock.json": {"lockfileVersion": 1, "dependencies": {}}}, "lockfileVersion 1 is not checked"),
        (
            "FROM node\nWORKDIR /app\nCOPY package.json ./\nCOPY --from=lock /lock/package-lock.json ./package-lock.json\nRUN npm install\n",
            NPM,
            "line 4: it copies from another stage",
        ),
        (
            "FROM node\nWORKDIR /app\nCOPY . .\nRUN yarn install\n",
            {"package.json": PACKAGE, "yarn.lock": YARN_CLASSIC, ".yarnrc.yml": "nodeLinker: node-modules\n"},
            "Yarn 1 lockfile but the project configures Yarn 2+",
        ),
        (
            "FROM node\nWORKDIR /app\nCOPY . .\nRUN yarn install\n",
            {"package.json": {**PACKAGE, "dependencies": {"ms": "^2.2.0"}}, "yarn.lock": YARN_CLASSIC},
            "`ms@^2.2.0` has no entry in yarn.lock",
        ),
        (
            "FROM node\nRUN npm i -g pnpm@9.1.0\nWORKDIR /app\nCOPY . .\nRUN pnpm install\n",
            {"package.json": PACKAGE, "pnpm-lock.yaml": PNPM_LOCK, "pnpm-workspace.yaml": "packages:\n  - a\n"},
            "pnpm workspace",
        ),
        (
            "FROM node\nRUN npm i -g pnpm@9.1.0\nWORKDIR /app\nCOPY . .\nRUN pnpm install\n",
            {"package.json": {**PACKAGE, "devDependencies": {"x": "1"}}, "pnpm-lock.yaml": PNPM_LOCK},
            "devDependencies differ from pnpm-lock.yaml (`x`)",
        ),
    ],
)
def test_refusals_say_why(tmp_path: Path, dockerfile: str, files: dict, expected: str):
    assert expected in reason(sf702(tmp_path, dockerfile, files))


def test_pinned_releases(tmp_path: Path):
    pnpm = {"package.json": {**PACKAGE, "packageManager": "pnpm@9.1.0"}, "pnpm-lock.yaml": PNPM_LOCK}
    text = "FROM node\nRUN corepack enable\nWORKDIR /app\nCOPY . .\nRUN pnpm install\n"
    assert sf702(tmp_path, text, pnpm)[0][0]
    text = "FROM node\nARG PNPM=9.4.0\nRUN npm install --global pnpm@$PNPM\nWORKDIR /app\nCOPY . .\nRUN pnpm install\n"
    assert sf702(tmp_path, text, pnpm)[0][0]
    # CI=true: pnpm installs frozen already
    assert sf702(tmp_path, "FROM node\nENV CI=true\nWORKDIR /app\nCOPY . .\nRUN pnpm install\n", pnpm) == []


def test_one_lockfile_is_parsed_once_for_every_install_that_reads_it(tmp_path: Path, monkeypatch):
    """n pnpm installs that read one pnpm-lock.yaml parsed it n times per round (a tenth of
    `check` on a file of them); once per fix now, with the same findings."""
    from slimfile.engine import fix_source

    calls = []
    real = lockfile_install.read_pnpm_lock
    monkeypatch.setattr(lockfile_install, "read_pnpm_lock", lambda text: calls.append(1) or real(text))
    pnpm = {"package.json": {**PACKAGE, "packageManager": "pnpm@9.1.0"}, "pnpm-lock.yaml": PNPM_LOCK}
    stage = "FROM node AS s{}\nRUN corepack enable\nWORKDIR /app\nCOPY package.json pnpm-lock.yaml ./\nRUN pnpm install\n"
    text = "".join(stage.format(k) for k in range(20))
    assert [fixed for fixed, _ in sf702(tmp_path, text, pnpm)] == [True] * 20
    assert len(calls) == 1
    calls.clear()
    result = fix_source(text.encode(), "Dockerfile", Settings(select=frozenset({"SF702"}), build_context=str(tmp_path)))
    assert result.output.count(b"pnpm install --frozen-lockfile") == 20 and result.rounds == 2
    assert len(calls) == 1


def test_one_yarn_lock_is_parsed_once_for_every_install_that_reads_it(tmp_path: Path, monkeypatch):
    """The same for yarn.lock, which each fixed install also read again for its option."""
    calls = []
    real = lockfile_install.read_yarn_lock
    monkeypatch.setattr(lockfile_install, "read_yarn_lock", lambda text: calls.append(1) or real(text))
    stage = "FROM node AS s{}\nWORKDIR /app\nCOPY package.json yarn.lock ./\nRUN yarn install\n"
    text = "".join(stage.format(k) for k in range(20))
    assert [fixed for fixed, _ in sf702(tmp_path, text, {"package.json": PACKAGE, "yarn.lock": YARN_CLASSIC})] == [True] * 20
    assert len(calls) == 1


EARLIER_COMMANDS = [
    "echo hi",
    "cp /tmp/package.json package.json",
    "touch .npmrc",
    "mkdir -p /srv/app",
    "npm install -g pnpm@9.1.0",
    "npm ci",
    "rm -rf node_modules",
    "sed -i s/a/b/ package-lock.json",
    "make",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(EARLIER_COMMANDS), max_size=10), st.sampled_from(["/app", "/srv/app", "/"]))
def test_the_last_earlier_command_decides_a_manifest(commands, cwd):
    """What an install finds at each manifest path is decided by the last command before it
    that writes the path or has unknown effects; walking backwards and stopping at the first
    unknown one gives what the forward walk over every earlier command gave."""
    script_text = " && ".join([*commands, "npm install"])
    ctx = Context(parse(f"FROM node:20\nWORKDIR /app\nRUN {script_text}\n".encode()), Settings())
    (info,) = runs(ctx)
    each = command_effects(info.script, workdir="/app", env={}, home="/root")
    paths = [posixpath.join(cwd, name) for name in ("package.json", "package-lock.json", ".npmrc", ".yarnrc.yml")]
    expected: dict = {path: "context" for path in paths}
    for item in each[:-1]:  # the forward walk
        for path in expected:
            if item.effects.unknown:
                expected[path] = f"`{' '.join(item.command.argv)[:30]}` runs before it ({item.effects.unknown})"
            elif overlaps(item.effects.writes, [path]):
                expected[path] = f"`{' '.join(item.command.argv)[:30]}` writes {path} before it"
    found: dict = {path: "context" for path in paths}
    lockfile_install._apply_earlier_commands(found, list(each[:-1]))
    assert {p: o if isinstance(o, str) else o.reason for p, o in found.items()} == expected


PIN_COMMANDS = [
    "npm install -g pnpm@8.15.0",
    "npm install --global pnpm",
    "npm install -g yarn@1.22.0 pnpm@9.$V",
    "corepack prepare pnpm@9.1.0 --activate",
    "corepack enable",
    "corepack use yarn@4.1.0",
    "pnpm install",
    "echo hi",
]


def _walked_releases(ctx: Context, info, fact, tool: str) -> tuple[str | None, bool]:
    """What the index answers, by the walk it replaced: every command of the chain before the
    install, in order (the last pin wins; any `corepack enable` counts)."""
    from slimfile.analysis.image_files import chain_steps

    version, enabled = None, False
    for step in chain_steps(ctx, info.stage):
        node = step.instruction
        if node.name != "RUN":
            continue
        script = ctx.shell(node)
        commands = script.commands[: fact.command] if node is info.instruction else script.commands
        for command in commands:
            enables, pins = lockfile_install.command_releases(script, command, step.state.env)
            enabled = enabled or enables
            version = next((pinned for name, pinned in reversed(pins) if name == tool), version)
        if node is info.instruction:
            break
    return version, enabled


STAGE_LINES = st.lists(
    st.one_of(
        st.lists(st.sampled_from(PIN_COMMANDS), min_size=1, max_size=3).map(lambda cs: "RUN " + " && ".join(cs)),
        st.sampled_from(["ENV V=4", "ARG V", "WORKDIR /app"]),
    ),
    max_size=6,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), STAGE_LINES), min_size=1, max_size=4))
def test_the_release_index_answers_as_the_walk_over_the_chain(stages):
    """Which pnpm (and yarn) release the commands before each install pinned, and whether one
    enabled corepack, over stages built FROM earlier ones: the per-stage index with each
    chain's answer kept gives what walking every earlier command of the chain gave."""
    lines = []
    for number, (parent, body) in enumerate(stages):
        base = f"s{parent}" if parent < number else "node:20"
        lines += [f"FROM {base} AS s{number}", *body]
    ctx = Context(parse(("\n".join(lines) + "\n").encode()), Settings())
    checked = 0
    for info in runs(ctx):
        for fact in info.script.packages:
            if fact.manager != "pnpm":
                continue
            install = lockfile_install._Install(ctx, None, info, None, fact, "pnpm", "/", {}, None, "")
            for tool in ("pnpm", "yarn"):
                version, enabled = _walked_releases(ctx, info, fact, tool)
                assert lockfile_install._installed_version(install, tool) == version
                assert lockfile_install._corepack_enabled(install) == enabled
            checked += 1
    assert checked == sum(line.count("pnpm install") for _, body in stages for line in body)
