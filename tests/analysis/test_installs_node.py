"""npm, yarn and pnpm installs as SF701 reads package.json: what makes the install read files
beyond the manifests (a path dependency, an override with a path) or a manifest whose shape
is not known refuses the move, and says why."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.analysis.test_installs_python import sf701

NPM = 'FROM node:18\nWORKDIR /app\nCOPY . .\nRUN npm install\nCMD ["node", "index.js"]\n'


def _package(**fields) -> dict[str, str]:
    return {"package.json": json.dumps({"name": "app", "version": "1.0.0", **fields}), "x/package.json": '{"name": "a"}'}


@pytest.mark.parametrize(
    "fields, expected",
    [
        # npm reads `./x` as a folder of the project, as `file:./x`: moved above the copy, the
        # install failed on the zoo's engine (npm exit 254) where the original built
        ({"dependencies": {"a": "./x"}}, "package.json depends on `a` from a path (`./x`)"),
        ({"devDependencies": {"a": "../lib"}}, "package.json depends on `a` from a path (`../lib`)"),
        ({"dependencies": {"a": "./a-1.0.0.tgz"}}, "package.json depends on `a` from a path (`./a-1.0.0.tgz`)"),
        ({"overrides": {"b": {"a": "file:./x"}}}, "package.json replaces `a` with a path of the project in `overrides` (`file:./x`)"),
        ({"resolutions": {"a": "portal:./x"}}, "package.json replaces `a` with a path of the project in `resolutions` (`portal:./x`)"),
        ({"pnpm": {"overrides": {"a": "link:./x"}}}, "package.json replaces `a` with a path of the project in `pnpm.overrides` (`link:./x`)"),
        ({"scripts": ["postinstall"]}, "package.json's `scripts` is not an object of strings"),
        ({"scripts": {"postinstall": 5}}, "package.json's `scripts` is not an object of strings"),
        ({"dependencies": ["file:./x"]}, "package.json's `dependencies` is not an object of strings"),
    ],
)
def test_refusals_say_why(tmp_path: Path, fields: dict, expected: str):
    findings, output = sf701(tmp_path, NPM, _package(**fields))
    ((fixed, message),) = findings
    assert not fixed and message.endswith(f"not moved: {expected}"), message
    assert output == NPM


@pytest.mark.parametrize(
    "fields",
    [{"dependencies": {"a": "^1.0.0", "b": "npm:c@1", "d": "git+https://h/d.git"}}, {"overrides": {"a": "1.0.0"}}, {"scripts": {"build": "tsc"}}],
)
def test_registry_specs_and_other_scripts_still_move(tmp_path: Path, fields: dict):
    findings, output = sf701(tmp_path, NPM, _package(**fields))
    assert [fixed for fixed, _ in findings] == [True]
    assert output.splitlines()[2:4] == ["COPY package.json ./", "RUN npm install"]


PACKAGE = {"package.json": '{"name": "app", "version": "1.0.0"}'}


@pytest.mark.parametrize(
    "tool, files, expected",
    [
        # Yarn 1.22 runs the yarnPath of .yarnrc.yml: moved above the copy, `yarn install` failed
        # on the zoo's engine ("Cannot find module '/app/tools/yarn-wrapped.cjs'") where the
        # original built
        ("yarn", {".yarnrc.yml": "yarnPath: tools/yarn.cjs\n", "tools/yarn.cjs": ""}, ".yarnrc.yml `yarnPath` reads tools/yarn.cjs, which the copy of the manifests does not bring"),
        ("yarn", {".yarnrc.yml": "plugins:\n  - path: tools/p.cjs\n    spec: p\n", "tools/p.cjs": ""}, ".yarnrc.yml `plugins` reads tools/p.cjs, which the copy of the manifests does not bring"),
        ("yarn", {".yarnrc.yml": "cacheFolder: ./ycache\n", "ycache/a.zip": ""}, ".yarnrc.yml `cacheFolder` reads ./ycache, which the copy of the manifests does not bring"),
        ("yarn", {".yarnrc": 'yarn-path "./tools/yarn.js"\n', "tools/yarn.js": ""}, ".yarnrc `yarn-path` reads ./tools/yarn.js, which the copy of the manifests does not bring"),
        ("yarn", {".yarnrc.yml": "yarnPath: &p tools/yarn.cjs\n"}, ".yarnrc.yml: line 1 uses YAML slimfile does not read"),
        ("npm", {".npmrc": "registry=https://r.example.com/\ncafile=certs/ca.pem\n", "certs/ca.pem": ""}, ".npmrc `cafile` reads certs/ca.pem, which the copy of the manifests does not bring"),
        ("npm", {".npmrc": "cafile=${CA_FILE}\n"}, ".npmrc `cafile` is `${CA_FILE}`, a value not known here"),
        ("pnpm", {".npmrc": "pnpmfile=config/pnpmfile.cjs\n", "config/pnpmfile.cjs": ""}, ".npmrc `pnpmfile` reads config/pnpmfile.cjs, which the copy of the manifests does not bring"),
    ],
)
def test_configuration_files_that_name_a_file_of_the_project(tmp_path: Path, tool: str, files: dict, expected: str):
    text = f"FROM node:18\nWORKDIR /app\nCOPY . .\nRUN {tool} install\n"
    findings, output = sf701(tmp_path, text, {**PACKAGE, **files})
    ((fixed, message),) = findings
    assert not fixed and message.endswith(f"not moved: {expected}"), message
    assert output == text


@pytest.mark.parametrize(
    "files, copied",
    [
        ({".yarnrc.yml": "yarnPath: .yarn/releases/yarn-4.cjs\n", ".yarn/releases/yarn-4.cjs": ""}, "COPY .yarn/releases ./.yarn/releases/\n"),
        ({".yarnrc.yml": "plugins:\n  - path: .yarn/plugins/p.cjs\n    spec: p\n", ".yarn/plugins/p.cjs": ""}, "COPY .yarn/plugins ./.yarn/plugins/\n"),
        ({".yarnrc.yml": "cacheFolder: ./ycache\nnpmAuthToken: ${NPM_TOKEN}\n"}, ""),  # a cache the build writes, a token
        ({".npmrc": "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\ncafile=/etc/ssl/ca.pem\n"}, ""),  # outside the project
    ],
)
def test_configuration_files_whose_files_come_along_still_move(tmp_path: Path, files: dict, copied: str):
    findings, output = sf701(tmp_path, "FROM node:18\nWORKDIR /app\nCOPY . .\nRUN yarn install\n", {**PACKAGE, **files})
    assert [fixed for fixed, _ in findings] == [True], findings
    assert copied in output and output.endswith("RUN yarn install\nCOPY . .\n"), output


LOCKED = {**PACKAGE, "package-lock.json": '{"name": "app", "lockfileVersion": 3, "packages": {"": {"name": "app", "version": "1.0.0"}}}'}


@pytest.mark.parametrize(
    "run",
    ["npm ci --userconfig ./ci.npmrc", "npm ci --cache .npm", "npm ci --cache=/app/.npm", "yarn install --cache-folder ./yc", "pnpm install --store-dir $STORE"],
)
def test_options_naming_a_path_of_the_project_refuse_the_move(tmp_path: Path, run: str):
    """The install reads (a configuration file) or writes (a cache the copy then covers) a path
    of the project: moved above the copy, it runs without the file, or before the copy."""
    text = f"FROM node:18\nWORKDIR /app\nCOPY . .\nRUN {run}\n"
    findings, output = sf701(tmp_path, text, {**LOCKED, "ci.npmrc": ""})
    ((fixed, message),) = findings
    assert not fixed and message.endswith("reads or writes a path of the project"), message
    assert output == text


def test_a_cache_outside_the_project_still_moves(tmp_path: Path):
    findings, output = sf701(tmp_path, "FROM node:18\nWORKDIR /app\nCOPY . .\nRUN npm ci --cache /tmp/npm-cache\n", LOCKED)
    assert [fixed for fixed, _ in findings] == [True]
    assert "RUN npm ci --cache /tmp/npm-cache\nCOPY . .\n" in output


def test_a_plugin_path_is_found_whichever_key_its_item_starts_with(tmp_path: Path):
    rc = 'yarnPath: .yarn/releases/y.cjs\nplugins:\n  - spec: "@acme/plugin"\n    path: tools/plugin.cjs\n  - path: .yarn/plugins/ok.cjs\n'
    files = {**PACKAGE, ".yarnrc.yml": rc, "tools/plugin.cjs": "", ".yarn/plugins/ok.cjs": "", ".yarn/releases/y.cjs": ""}
    findings, _ = sf701(tmp_path, "FROM node:18\nWORKDIR /app\nCOPY . .\nRUN yarn install\n", files)
    ((fixed, message),) = findings
    assert not fixed and message.endswith("not moved: .yarnrc.yml `plugins` reads tools/plugin.cjs, which the copy of the manifests does not bring")


# npm's default install script: a package.json without install/preinstall scripts whose folder
# holds a binding.gyp (or that says "gypfile": true) runs `node-gyp rebuild`, which reads the
# addon's sources. Moved above the copy, the install built nothing and the image failed at run
# time on the zoo's engine ("Cannot find module './build/Release/addon.node'").
GYP = {"package.json": json.dumps({"name": "addon", "version": "1.0.0"}), "binding.gyp": '{"targets": []}', "addon.cc": ""}


@pytest.mark.parametrize(
    "files, expected",
    [
        (GYP, "the install runs `node-gyp rebuild` (binding.gyp in the context), which compiles the project's sources"),
        ({"package.json": json.dumps({"name": "addon", "gypfile": True})}, 'the install runs `node-gyp rebuild` ("gypfile": true in package.json)'),
        ({"package.json": json.dumps({"name": "app", "workspaces": ["packages/*"]}), "packages/addon/package.json": '{"name": "addon"}',
          "packages/addon/binding.gyp": "{}"}, "workspace packages/addon has install scripts"),
    ],
)
def test_an_addon_built_by_npm_s_default_install_script_refuses(tmp_path: Path, files: dict, expected: str):
    findings, output = sf701(tmp_path, NPM, files)
    ((fixed, message),) = findings
    assert not fixed and f"not moved: {expected}" in message, message
    assert output == NPM


@pytest.mark.parametrize("run", ["npm install --ignore-scripts", "npm install"])
def test_no_default_gyp_build_with_ignore_scripts_or_an_own_install_script(tmp_path: Path, run: str):
    """`--ignore-scripts` runs none; an install script of its own replaces the default (and is
    refused as a script, which says so)."""
    files = dict(GYP)
    if run == "npm install":
        files["package.json"] = json.dumps({"name": "addon", "scripts": {"install": "node-gyp rebuild"}})
    findings, _ = sf701(tmp_path, NPM.replace("RUN npm install", f"RUN {run}"), files)
    ((fixed, message),) = findings
    if run == "npm install":
        assert not fixed and "has a `install` script (`node-gyp rebuild`)" in message
    else:
        assert fixed, message
