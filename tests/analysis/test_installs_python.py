"""poetry, uv and pipenv installs as SF701 reads them (analysis/installs_python.py); the
fixtures under fixtures/passes/SF701-copy-manifests-first/{poetry,uv,pipenv}-* show the edits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slimfile.engine import Settings, fix_source, lint
from slimfile.syntax.parser import parse
from tests.cli.conftest import write

POETRY = '[tool.poetry]\nname = "app"\nversion = "0.1.0"\n\n[tool.poetry.dependencies]\npython = "^3.11"\nsix = "^1.16"\n'
UV = '[project]\nname = "app"\nversion = "0.1.0"\ndependencies = ["six"]\n\n[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'


def sf701(tmp_path: Path, dockerfile: str, files: dict[str, str], *, context: bool = True):
    write(tmp_path, files)
    settings = Settings(select=frozenset({"SF701"}), build_context=str(tmp_path) if context else str(tmp_path / "none"), unsafe_fixes=True)
    findings = lint(parse(dockerfile.encode()), settings)
    output = fix_source(dockerfile.encode(), "Dockerfile", settings).output.decode()
    return [(f.fix is not None, f.message) for f in findings], output


@pytest.mark.parametrize(
    "dockerfile, files, expected",
    [
        ("FROM python\nWORKDIR /app\nCOPY . .\nRUN poetry install --only-root\n", {"pyproject.toml": POETRY}, "`--only-root` installs only the project"),
        ("FROM python\nWORKDIR /app\nCOPY . .\nRUN poetry install -C svc\n", {"pyproject.toml": POETRY}, "`-C` points the install"),
        ("FROM python\nWORKDIR /app\nCOPY . .\nRUN poetry add six\n", {"pyproject.toml": POETRY}, "changes pyproject.toml"),
        (
            "FROM python\nWORKDIR /app\nCOPY . .\nRUN poetry install\n",
            {"pyproject.toml": POETRY + '\n[[tool.poetry.source]]\nname = "local"\nurl = "wheels/"\n'},
            "package source `wheels/` is a folder",
        ),
        ("FROM python\nWORKDIR /app\nCOPY . .\nRUN uv sync\n", {"pyproject.toml": UV.replace('version = "0.1.0"', 'dynamic = ["version"]')}, "uv builds the project"),
        ("FROM python\nWORKDIR /app\nCOPY . .\nRUN uv sync\n", {"pyproject.toml": UV + '\n[tool.uv.sources]\nlib = { path = "libs/lib" }\n'}, "installs `lib` from a path"),
        ("FROM python\nWORKDIR /app\nCOPY . .\nRUN uv sync\n", {"pyproject.toml": UV.replace('["six"]', '["lib @ file:///app/libs/lib"]')}, "a path of the project"),
        ("FROM python\nWORKDIR /app\nCOPY . .\nRUN pipenv install -r requirements.txt\n", {"Pipfile": "[packages]\n"}, "imports a requirements file"),
        ("FROM python\nWORKDIR /app\nCOPY . .\nRUN pipenv install six\n", {"Pipfile": "[packages]\n"}, "adds packages"),
        ("FROM python\nWORKDIR /app\nUSER app\nCOPY . .\nRUN pipenv install\n", {"Pipfile": "[packages]\n"}, "home directory of the user is not known"),
        ("FROM python\nWORKDIR /app\nCOPY . .\nRUN poetry install\n", {"pyproject.toml": POETRY, ".venv/bin/python": ""}, "the build context sends `.venv`"),
        # the ENV names a file or folder of the copy the install reads: moved above the copy, the
        # install did not find it (PIP_CONSTRAINT: "Could not open requirements file: /app/c.txt"
        # on the zoo's engine, where the original built)
        ("FROM python\nWORKDIR /app\nENV PIP_CONSTRAINT=/app/c.txt\nCOPY . .\nRUN pip install -r r.txt\n", {"r.txt": "six\n", "c.txt": "six==1.16.0\n"}, "PIP_CONSTRAINT names a file the install reads (/app/c.txt)"),
        ("FROM python\nWORKDIR /app\nENV PIP_FIND_LINKS=/app/wheels\nCOPY . .\nRUN pip install -r r.txt\n", {"r.txt": "six\n"}, "PIP_FIND_LINKS reads packages from a folder (/app/wheels)"),
        ("FROM python\nWORKDIR /app\nENV PIP_INDEX_URL=file:///app/simple\nCOPY . .\nRUN pip install -r r.txt\n", {"r.txt": "six\n"}, "PIP_INDEX_URL reads packages from a folder"),
        ("FROM python\nARG IDX\nWORKDIR /app\nENV PIP_INDEX_URL=$IDX\nCOPY . .\nRUN pip install -r r.txt\n", {"r.txt": "six\n"}, "PIP_INDEX_URL names the package index, to a value not known here"),
        ("FROM python\nARG C\nWORKDIR /app\nENV PIP_CONSTRAINT=$C\nCOPY . .\nRUN pip install -r r.txt\n", {"r.txt": "six\n"}, "PIP_CONSTRAINT names a file the install reads"),
        ("FROM python\nWORKDIR /app\nCOPY . .\nRUN pip install -r r.txt\n", {"r.txt": "--index-url ./simple\nsix\n"}, "r.txt:1: reads a package index from a folder (`--index-url ./simple`)"),
        ("FROM python\nWORKDIR /app\nCOPY . .\nRUN pip install -i file:///app/simple -r r.txt\n", {"r.txt": "six\n"}, "`-i file:///app/simple` reads or writes a path of the project"),
        ("FROM python\nWORKDIR /app\nCOPY . .\nRUN pip install -f file:///app/w -r r.txt\n", {"r.txt": "six\n"}, "`-f file:///app/w` reads or writes a path of the project"),
        ("FROM python\nWORKDIR /app\nCOPY . .\nRUN pip install -r r.txt\n", {"r.txt": "lib @ git+file:///app/repo\n"}, "installs a local path (`lib @ git+file:///app/repo`)"),
        ("FROM node\nWORKDIR /app\nENV NPM_CONFIG_USERCONFIG=/app/ci.npmrc\nCOPY . .\nRUN npm install\n", {"package.json": "{}"}, "NPM_CONFIG_USERCONFIG names a file the install reads"),
        ("FROM node\nWORKDIR /app\nENV npm_config_userconfig=/app/ci.npmrc\nCOPY . .\nRUN pnpm install\n", {"package.json": "{}"}, "npm_config_userconfig names a file"),
        ("FROM node\nWORKDIR /app\nENV YARN_RC_FILENAME=.yarnrc.ci.yml\nCOPY . .\nRUN yarn install\n", {"package.json": "{}"}, "YARN_RC_FILENAME names a file"),
        # `uv sync --help`: the variables of --project, --directory, --config-file and the indexes
        ("FROM python\nWORKDIR /app\nENV UV_PROJECT=/app/svc\nCOPY . .\nRUN uv sync\n", {"pyproject.toml": UV}, "UV_PROJECT names a file"),
        ("FROM python\nWORKDIR /app\nENV UV_WORKING_DIR=svc\nCOPY . .\nRUN uv sync\n", {"pyproject.toml": UV}, "UV_WORKING_DIR names a file"),
        ("FROM python\nWORKDIR /app\nENV UV_CONFIG_FILE=/app/ci/uv.toml\nCOPY . .\nRUN uv sync\n", {"pyproject.toml": UV}, "UV_CONFIG_FILE names a file"),
        ("FROM python\nWORKDIR /app\nENV UV_FIND_LINKS=/app/wheels\nCOPY . .\nRUN uv sync\n", {"pyproject.toml": UV}, "UV_FIND_LINKS reads packages from a folder"),
        ("FROM python\nWORKDIR /app\nENV UV_INDEX=local=./simple\nCOPY . .\nRUN uv sync\n", {"pyproject.toml": UV}, "UV_INDEX reads packages from a folder"),
        ("FROM python\nWORKDIR /app\nENV PIPENV_PIPFILE=/app/deploy/Pipfile\nCOPY . .\nRUN pipenv install\n", {"Pipfile": "[packages]\n"}, "PIPENV_PIPFILE names a file"),
        ("FROM python\nWORKDIR /app\nENV PIPENV_PYPI_MIRROR=file:///app/mirror\nCOPY . .\nRUN pipenv install\n", {"Pipfile": "[packages]\n"}, "PIPENV_PYPI_MIRROR reads packages from a folder"),
        # set in the RUN itself (export, a prefix, env): only the ENV lines were looked at; with
        # `export PIP_CONSTRAINT=/app/c.txt &&` the rewrite failed on the zoo's engine ("Could not
        # open requirements file: ... '/app/c.txt'") where the original built
        ("FROM python\nWORKDIR /app\nCOPY . .\nRUN export PIP_CONSTRAINT=/app/c.txt && pip install -r r.txt\n", {"r.txt": "six\n", "c.txt": "six\n"}, "PIP_CONSTRAINT names a file the install reads (/app/c.txt)"),
        ("FROM python\nWORKDIR /app\nCOPY . .\nRUN PIP_CONSTRAINT=c.txt pip install -r r.txt\n", {"r.txt": "six\n", "c.txt": "six\n"}, "PIP_CONSTRAINT names a file the install reads (c.txt)"),
        ("FROM python\nWORKDIR /app\nCOPY . .\nRUN env PIP_FIND_LINKS=./w pip install -r r.txt\n", {"r.txt": "six\n"}, "PIP_FIND_LINKS reads packages from a folder (./w)"),
        ("FROM python\nWORKDIR /app\nCOPY . .\nRUN C=/app/c.txt; PIP_CONSTRAINT=$C; export PIP_CONSTRAINT; pip install -r r.txt\n", {"r.txt": "six\n"}, "PIP_CONSTRAINT names a file the install reads (a value not known here)"),
        ("FROM python\nWORKDIR /app\nCOPY . .\nRUN UV_PROJECT=svc uv sync\n", {"pyproject.toml": UV}, "UV_PROJECT names a file the install reads (svc)"),
        # a folder of the project as a package index or file: moved above the copy, the original
        # built and the rewrite did not on the zoo's engine (uv: "Failed to read `--find-links`
        # directory: /app/wheels"; poetry: "Path /app/wheels/mylib-0.1-py3-none-any.whl for mylib
        # does not exist")
        ("FROM python\nWORKDIR /app\nCOPY . .\nRUN uv sync\n", {"pyproject.toml": UV + '\n[[tool.uv.index]]\nname = "w"\nurl = "./wheels"\nformat = "flat"\n'}, "[tool.uv] reads packages from a folder (./wheels)"),
        ("FROM python\nWORKDIR /app\nCOPY . .\nRUN uv sync\n", {"pyproject.toml": UV + '\n[tool.uv]\nfind-links = ["file:///app/w"]\n'}, "[tool.uv] reads packages from a folder (file:///app/w)"),
        ("FROM python\nWORKDIR /app\nCOPY . .\nRUN uv sync\n", {"pyproject.toml": UV, "uv.toml": 'extra-index-url = ["simple"]\n'}, "uv.toml reads packages from a folder (simple)"),
        ("FROM python\nWORKDIR /app\nCOPY . .\nRUN uv sync\n", {"pyproject.toml": UV + '\n[tool.uv.sources]\nsix = { url = "file:///app/w/six.whl" }\n'}, "installs `six` from a path"),
        ("FROM python\nWORKDIR /app\nCOPY . .\nRUN poetry install\n", {"pyproject.toml": POETRY + 'x = { file = "wheels/x.whl" }\n'}, "installs `x` from a path of the project"),
        ("FROM python\nWORKDIR /app\nCOPY . .\nRUN pipenv install\n", {"Pipfile": '[[source]]\nurl = "./wheels"\nname = "w"\n\n[packages]\nsix = "*"\n'}, "the Pipfile's package source `./wheels` is a folder"),
        ("FROM node\nWORKDIR /app\nCOPY . .\nRUN yarn install\n", {"package.json": '{"dependencies": {"ms": "patch:ms@2.1.3#./patches/ms.patch"}}'}, "depends on `ms` from a path (`patch:ms@2.1.3#./patches/ms.patch`)"),
        # was a TypeError, an internal error for the Dockerfile (uv, pip and poetry refuse the file too)
        ("FROM python\nWORKDIR /app\nCOPY . .\nRUN uv sync\n", {"pyproject.toml": "[project]\nname = 'a'\ndependencies = 5\n"}, "[project] `dependencies` must be an array"),
    ],
)
def test_refusals_say_why(tmp_path: Path, dockerfile: str, files: dict[str, str], expected: str):
    findings, output = sf701(tmp_path, dockerfile, files)
    ((fixed, message),) = findings
    assert not fixed and expected in message
    assert output == dockerfile


def test_a_remote_index_in_the_environment_still_moves(tmp_path: Path):
    text = "FROM python\nWORKDIR /app\nENV PIP_INDEX_URL=https://pypi.example.com/simple PIP_NO_CACHE_DIR=1\nCOPY . .\nRUN pip install -r r.txt\n"
    findings, output = sf701(tmp_path, text, {"r.txt": "six\n"})
    assert [fixed for fixed, _ in findings] == [True]
    assert "COPY r.txt ./\nRUN pip install -r r.txt\nCOPY . .\n" in output


def test_variables_of_the_run_that_name_no_file_or_only_other_commands_still_move(tmp_path: Path):
    for run in ("export PIP_NO_CACHE_DIR=1 && pip install -r r.txt", "PIP_CONSTRAINT=c.txt true && pip install -r r.txt"):
        findings, output = sf701(tmp_path, f"FROM python\nWORKDIR /app\nCOPY . .\nRUN {run}\n", {"r.txt": "six\n", "c.txt": ""})
        assert [fixed for fixed, _ in findings] == [True], (run, findings)
        assert f"COPY r.txt ./\nRUN {run}\nCOPY . .\n" in output


@pytest.mark.parametrize(
    "before, run, moves",
    [
        # `unset` removes what the stage's ENV or the RUN set: the install reads no constraint file
        ("ENV PIP_CONSTRAINT=/app/c.txt\n", "unset PIP_CONSTRAINT && pip install -r r.txt", True),
        ("", "export PIP_CONSTRAINT=/app/c.txt; unset PIP_CONSTRAINT; pip install -r r.txt", True),
        # set again after the unset, or an unset of a name not known here: still refused
        ("", "unset PIP_CONSTRAINT; export PIP_CONSTRAINT=/app/c.txt; pip install -r r.txt", False),
        ("ENV PIP_CONSTRAINT=/app/c.txt\n", "unset $NAME && pip install -r r.txt", False),
        ("ENV PIP_CONSTRAINT=/app/c.txt\n", "unset -f PIP_CONSTRAINT && pip install -r r.txt", False),
    ],
)
def test_a_variable_the_run_unsets_is_not_set_for_later_commands(tmp_path: Path, before: str, run: str, moves: bool):
    dockerfile = f"FROM python\nWORKDIR /app\n{before}COPY . .\nRUN {run}\n"
    findings, _output = sf701(tmp_path, dockerfile, {"r.txt": "six\n", "c.txt": "six\n"})
    ((fixed, message),) = findings
    assert fixed is moves, message
    if not moves:
        assert "PIP_CONSTRAINT names a file the install reads" in message


def test_remote_indexes_and_yarn_patches_under_yarn_patches_still_move(tmp_path: Path):
    pyproject = UV.split("[build-system]")[0] + '\n[[tool.uv.index]]\nname = "torch"\nurl = "https://download.pytorch.org/whl/cpu"\n'
    findings, output = sf701(tmp_path, "FROM python\nWORKDIR /app\nCOPY . .\nRUN uv sync\n", {"pyproject.toml": pyproject})
    assert [fixed for fixed, _ in findings] == [True]
    for spec in ("patch:ms@npm%3A2.1.3#~/.yarn/patches/ms-npm-2.1.3-abc.patch", "patch:typescript@npm%3A5.0.0#optional!builtin<compat/typescript>"):
        files = {"package.json": json.dumps({"dependencies": {"ms": spec}}), "yarn.lock": "", ".yarn/patches/ms-npm-2.1.3-abc.patch": ""}
        findings, output = sf701(tmp_path, "FROM node\nWORKDIR /app\nCOPY . .\nRUN yarn install\n", files)
        assert [fixed for fixed, _ in findings] == [True], findings
        assert "COPY package.json yarn.lock ./\nCOPY .yarn/patches ./.yarn/patches/\nRUN yarn install\nCOPY . .\n" in output, output


def test_a_project_that_is_not_a_package_moves_whole(tmp_path: Path):
    text = "FROM python\nWORKDIR /app\nCOPY . .\nRUN uv sync --frozen\n"
    _, output = sf701(tmp_path, text, {"pyproject.toml": UV.split("[build-system]")[0], "uv.lock": ""})
    assert output == "FROM python\nWORKDIR /app\nCOPY pyproject.toml uv.lock ./\nRUN uv sync --frozen\nCOPY . .\n"
    text = "FROM python\nWORKDIR /app\nCOPY . .\nRUN poetry install --no-root\n"
    _, output = sf701(tmp_path, text, {"pyproject.toml": POETRY})
    assert output == "FROM python\nWORKDIR /app\nCOPY pyproject.toml ./\nRUN poetry install --no-root\nCOPY . .\n"


def test_an_install_that_writes_its_lockfile_and_one_without_the_context(tmp_path: Path):
    text = "FROM python\nWORKDIR /app\nCOPY . .\nRUN pipenv install --system\n"
    findings, output = sf701(tmp_path, text, {"Pipfile": "[packages]\nsix = '*'\n", ".dockerignore": "Pipfile.lock\n"})
    assert findings[0][0] and "COPY Pipfile ./\nRUN pipenv install --system\nCOPY . .\n" in output
    # without the context: the root package may be installed, so the dependencies-only form goes up (unsafe)
    findings, output = sf701(tmp_path, "FROM python\nWORKDIR /app\nCOPY . .\nRUN poetry install\n", {}, context=False)
    assert "unsafe" in findings[0][1]
    assert output == (
        "FROM python\nWORKDIR /app\nCOPY pyproject.toml ./\nRUN poetry install --no-root\nCOPY . .\nRUN poetry install\n"
    )


@pytest.mark.parametrize(("option", "moves"), [("--report out.json", False), ("--log pip.log", False), ("--report -", True)])
def test_pip_files_written_into_the_project(tmp_path: Path, option: str, moves: bool):
    """`--report out.json` after the copy leaves the install's report; moved above it, the
    copy's out.json would cover it."""
    text = f"FROM python\nWORKDIR /app\nCOPY . .\nRUN pip install {option} -r r.txt\n"
    findings, _ = sf701(tmp_path, text, {"r.txt": "six\n", "out.json": "{}"})
    assert [fixed for fixed, _ in findings] == [moves], findings
