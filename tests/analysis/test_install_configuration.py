"""What an install reads besides its manifests (its configuration folder, a package cache or
mirror) when that lies in the project: moved above the broad copy by SF701, the install would
run without it. Each refusal has its counterpart that still moves (the folder outside the
project, or not sent by the build context). analysis/installs.py
``_configuration_the_copy_brings``, data/dependency_installs.toml ``uses`` and ``rc_paths``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.analysis.test_installs_python import POETRY, sf701

COMPOSER = {"composer.json": json.dumps({"require": {"psr/log": "1.1.4"}}), "composer.lock": "{}"}
GEMS = {"Gemfile": "source 'https://rubygems.org'\ngem 'rack'\n", "Gemfile.lock": ""}
GO = {"go.mod": "module example.com/x\n\ngo 1.21\n", "main.go": "package main\n"}
NPM = {"package.json": json.dumps({"name": "a", "dependencies": {"ms": "2.1.3"}}), "package-lock.json": "{}"}
YARN = {"package.json": json.dumps({"name": "a", "dependencies": {"ms": "2.1.3"}}), "yarn.lock": ""}
PNPM = {"package.json": json.dumps({"name": "a"}), "pnpm-lock.yaml": "lockfileVersion: '9.0'\n"}
PIP = {"requirements.txt": "six\n"}

REFUSED = [
    # a variable that names a configuration folder of the project
    ("FROM php\nWORKDIR /app\nENV COMPOSER_HOME=/app/.composer\nCOPY . .\nRUN composer install\n",
     {**COMPOSER, ".composer/auth.json": "{}"}, "it reads `/app/.composer`, which the copy brings"),
    ("FROM php\nWORKDIR /app\nENV COMPOSER_HOME=.composer\nCOPY . .\nRUN composer install\n",
     {**COMPOSER, ".composer/config.json": "{}"}, "it reads `/app/.composer`"),
    ("FROM python\nWORKDIR /app\nENV POETRY_CONFIG_DIR=/app/.poetry\nCOPY . .\nRUN poetry install\n",
     {"pyproject.toml": POETRY, ".poetry/auth.toml": ""}, "it reads `/app/.poetry`"),
    ("FROM python\nWORKDIR /app\nENV XDG_CONFIG_HOME=/app/.config\nCOPY . .\nRUN poetry install\n",
     {"pyproject.toml": POETRY, ".config/pypoetry/config.toml": ""}, "it reads `/app/.config/pypoetry`"),
    ("FROM python\nWORKDIR /app\nENV XDG_CONFIG_HOME=/app/.config\nCOPY . .\nRUN pip install -r requirements.txt\n",
     {**PIP, ".config/pip/pip.conf": "[global]\n"}, "it reads `/app/.config/pip`"),
    # HOME in the project: the files the tool reads from the home come with the sources
    ("FROM python\nWORKDIR /app\nENV HOME=/app\nCOPY . .\nRUN pip install -r requirements.txt\n",
     {**PIP, ".config/pip/pip.conf": "[global]\nfind-links = /app/wheels\n"}, "it reads `/app/.config/pip`"),
    # a package cache or mirror of the project
    ("FROM node\nWORKDIR /app\nENV npm_config_cache=/app/.npm-cache\nCOPY . .\nRUN npm ci --offline\n",
     {**NPM, ".npm-cache/_cacache/index": ""}, "it reads `/app/.npm-cache`"),
    ("FROM node\nWORKDIR /app\nENV YARN_CACHE_FOLDER=/app/.yarn-cache\nCOPY . .\nRUN yarn install --offline\n",
     {**YARN, ".yarn-cache/x": ""}, "it reads `/app/.yarn-cache`"),
    ("FROM node\nWORKDIR /app\nCOPY . .\nRUN yarn install --offline --frozen-lockfile\n",
     {**YARN, ".yarnrc": 'yarn-offline-mirror "./npm-packages-offline-cache"\n', "npm-packages-offline-cache/ms-2.1.3.tgz": ""},
     ".yarnrc `yarn-offline-mirror` reads ./npm-packages-offline-cache"),
    ("FROM node\nWORKDIR /app\nCOPY . .\nRUN npm ci --offline\n",
     {**NPM, ".npmrc": "cache=./.npm-cache\n", ".npm-cache/x": ""}, ".npmrc `cache` reads ./.npm-cache"),
    ("FROM node\nWORKDIR /app\nCOPY . .\nRUN pnpm install --offline\n",
     {**PNPM, ".npmrc": "store-dir=.pnpm-store\n", ".pnpm-store/v3/x": ""}, ".npmrc `store-dir` reads .pnpm-store"),
    ("FROM ruby\nWORKDIR /app\nCOPY . .\nRUN bundle install --local\n",
     {**GEMS, "vendor/cache/rack-3.0.0.gem": ""}, "vendor/cache is in the build context (Bundler installs the gems cached there)"),
    ("FROM ruby\nWORKDIR /app\nENV BUNDLE_CACHE_PATH=gems\nCOPY . .\nRUN bundle install\n",
     {**GEMS, "gems/rack-3.0.0.gem": ""}, "gems is in the build context"),
    ("FROM ruby\nWORKDIR /app\nARG C\nENV BUNDLE_CACHE_PATH=$C\nCOPY . .\nRUN bundle install\n",
     GEMS, "BUNDLE_CACHE_PATH names the gem cache, to a value not known here"),
    ("FROM golang\nWORKDIR /src\nENV GOMODCACHE=/src/modcache\nCOPY . .\nRUN go build .\n",
     {**GO, "modcache/cache/download/x": ""}, "it reads `/src/modcache`"),
    ("FROM golang\nWORKDIR /src\nENV GOPROXY=file:///src/proxy,off\nCOPY . .\nRUN go build .\n",
     {**GO, "proxy/example.com/y/@v/list": ""}, "GOPROXY reads modules from /src/proxy, which the copy brings"),
    ("FROM golang\nARG P\nENV GOPROXY=$P\nWORKDIR /src\nCOPY . .\nRUN go build .\n",
     GO, "GOPROXY names where modules come from, to a value not known here"),
    ("FROM php\nARG H\nENV COMPOSER_HOME=$H\nWORKDIR /app\nCOPY . .\nRUN composer install\n",
     COMPOSER, "COMPOSER_HOME names a folder the install reads, to a value not known here"),
]

MOVED = [
    ("FROM php\nWORKDIR /app\nENV COMPOSER_HOME=/composer\nCOPY . .\nRUN composer install\n", COMPOSER),
    ("FROM php\nWORKDIR /app\nENV COMPOSER_HOME=/app/.composer\nCOPY . .\nRUN composer install\n", COMPOSER),  # not sent
    ("FROM python\nWORKDIR /app\nENV POETRY_CONFIG_DIR=/etc/poetry\nCOPY . .\nRUN poetry install\n", {"pyproject.toml": POETRY}),
    ("FROM python\nWORKDIR /app\nENV HOME=/app\nCOPY . .\nRUN pip install -r requirements.txt\n", PIP),
    # the home's .npmrc is the project's .npmrc: the manifests' copy brings it
    ("FROM node\nWORKDIR /app\nENV HOME=/app\nCOPY . .\nRUN npm ci\n", {**NPM, ".npmrc": "fund=false\n"}),
    ("FROM node\nWORKDIR /app\nENV npm_config_cache=/tmp/npm\nCOPY . .\nRUN npm ci\n", NPM),
    ("FROM node\nWORKDIR /app\nCOPY . .\nRUN yarn install\n", {**YARN, ".yarnrc": 'yarn-offline-mirror "/mirror"\n'}),
    ("FROM node\nWORKDIR /app\nCOPY . .\nRUN npm ci\n", {**NPM, ".npmrc": "cache=/tmp/npm-cache\n"}),
    ("FROM ruby\nWORKDIR /app\nCOPY . .\nRUN bundle install\n", GEMS),
    ("FROM golang\nWORKDIR /src\nENV GOPATH=/src/gopath\nCOPY . .\nRUN go build .\n", GO),  # not sent
    ("FROM golang\nWORKDIR /src\nENV GOPROXY=https://proxy.golang.org,direct\nCOPY . .\nRUN go build .\n", GO),
    ("FROM golang\nWORKDIR /src\nENV GOPROXY=file:///goproxy\nCOPY . .\nRUN go build .\n", GO),
]


@pytest.mark.parametrize("dockerfile, files, expected", REFUSED)
def test_configuration_the_copy_brings_refuses(tmp_path: Path, dockerfile: str, files: dict[str, str], expected: str):
    findings, output = sf701(tmp_path, dockerfile, files)
    ((fixed, message),) = findings
    assert not fixed and expected in message, message
    assert output == dockerfile


@pytest.mark.parametrize("dockerfile, files", MOVED)
def test_configuration_outside_what_the_copy_brings_still_moves(tmp_path: Path, dockerfile: str, files: dict[str, str]):
    findings, output = sf701(tmp_path, dockerfile, files)
    ((fixed, message),) = findings
    assert fixed, message
    assert output != dockerfile


def test_the_folder_a_variable_names_stays_above_when_a_step_writes_it(tmp_path: Path):
    """The expanded ``$COMPOSER_HOME`` is a path the install uses: a step that writes it (the
    auth file copied in) is not passed by the move."""
    dockerfile = (
        "FROM php\nWORKDIR /app\nENV COMPOSER_HOME=/composer\nCOPY auth.json /composer/auth.json\n"
        "COPY . .\nRUN composer install\n"
    )
    findings, output = sf701(tmp_path, dockerfile, {**COMPOSER, "auth.json": "{}"})
    ((fixed, _message),) = findings
    assert fixed
    assert output.index("COPY auth.json /composer/auth.json") < output.index("composer install --no-scripts")
