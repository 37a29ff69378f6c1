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
