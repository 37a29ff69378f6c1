"""What a stage family uses, weighed against two variants of its base image
(slimfile/analysis/compat.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from slimfile.analysis.compat import assess, closure, uses_of
from slimfile.analysis.context import Context
from slimfile.analysis.images import lookup
from slimfile.engine import Settings
from slimfile.syntax import parse


def analyse(dockerfile: str, files: dict[str, str] | None = None, tmp_path: Path | None = None, source="python:3.11", target="python:3.11-slim", alpine=False):
    path = None
    settings = Settings(build_context="/nonexistent-context")
    if files is not None:
        assert tmp_path is not None
        for name, text in files.items():
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name).write_text(text)
        (tmp_path / "Dockerfile").write_text(dockerfile)
        path = str(tmp_path / "Dockerfile")
        settings = Settings(build_context=str(tmp_path))
    ctx = Context(parse(dockerfile.encode(), path=path), settings)
    root = ctx.stages.stages[0]
    uses = uses_of(ctx, root)
    return uses, assess(uses, lookup(source), lookup(target), alpine=alpine)


def whys(items) -> list[str]:
    return [m.need.why for m in items]


def test_a_plain_stage_needs_nothing():
    uses, verdict = analyse('FROM python:3.11\nRUN pip install --no-cache-dir flask\nCMD ["python", "-m", "flask"]\n')
    assert verdict.ok and verdict.add == () and verdict.missing == []


def test_tools_run_by_name_are_added():
    _, verdict = analyse("FROM python:3.11\nRUN git clone https://x/y /src && unzip -q a.zip\nCMD ps aux\n")
    assert verdict.ok and verdict.add == ("git", "procps", "unzip")


def test_a_tool_the_stage_installs_first_is_not_missing():
    _, verdict = analyse("FROM python:3.11\nRUN apt-get update && apt-get install -y --no-install-recommends git && git --version\n")
    assert verdict.ok and verdict.add == ()


def test_a_tool_installed_after_its_first_use_is_missing():
    _, verdict = analyse("FROM python:3.11\nRUN git --version\nRUN apt-get update && apt-get install -y git\n")
    assert verdict.add == ("git",)


def test_ca_certificates_come_with_https_tools_where_the_variant_has_none():
    _, verdict = analyse('FROM node:18\nHEALTHCHECK CMD curl -f http://localhost/\nCMD ["node", "a.js"]\n', source="node:18", target="node:18-slim")
    assert verdict.add == ("ca-certificates", "curl")
    _, verdict = analyse('FROM python:3.11\nHEALTHCHECK CMD ["curl", "-f", "http://localhost/"]\n')
    assert verdict.add == ("curl",)  # python's slim images keep ca-certificates


def test_compilers_from_the_base_image_block_the_swap():
    _, verdict = analyse("FROM python:3.11\nRUN gcc -o /x x.c\n")
    assert not verdict.ok and "runs gcc" in whys(verdict.blockers)[0]
    assert verdict.blockers[0].packages == ("gcc", "libc6-dev")


def test_a_compiler_the_stage_installs_keeps_working():
    _, verdict = analyse("FROM python:3.11\nRUN apt-get update && apt-get install -y gcc && gcc -o /x x.c\n")
    assert verdict.ok  # gcc recommends libc6-dev: installed too
    _, verdict = analyse("FROM python:3.11\nRUN apt-get update && apt-get install -y --no-install-recommends gcc && gcc -o /x x.c\n")
    # without recommends libc6-dev is missing: the stage brought the compiler, so it is added
    assert verdict.ok and verdict.add == ("libc6-dev",)


def test_requirements_without_wheels_are_read_from_the_context(tmp_path):
    files = {"requirements.txt": "-r base.txt\nuwsgi==2.0.24\n", "base.txt": "flask\npsycopg2==2.9.9\n"}
    dockerfile = "FROM python:3.11\nWORKDIR /app\nCOPY requirements.txt base.txt ./\nRUN pip install -r requirements.txt\n"
    _, verdict = analyse(dockerfile, files, tmp_path)
    reasons = whys(verdict.blockers)
    assert any("psycopg2 from source" in r and "base.txt line 2" in r for r in reasons)
    assert any("uwsgi from source" in r for r in reasons)
    psycopg2 = next(m for m in verdict.blockers if "psycopg2" in m.need.why)
    assert "libpq-dev" in psycopg2.packages


SETUP_C = 'from setuptools import setup, Extension\nsetup(name="fastx", ext_modules=[Extension("fastx", ["fastx.c"])])\n'
CYTHON = '[build-system]\nrequires = ["setuptools", "Cython>=3"]\nbuild-backend = "setuptools.build_meta"\n[project]\nname = "x"\nversion = "1"\n'
MATURIN = '[build-system]\nrequires = ["maturin>=1,<2"]\nbuild-backend = "maturin"\n[project]\nname = "x"\nversion = "1"\n'
PURE = '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n[project]\nname = "x"\nversion = "1"\n'


@pytest.mark.parametrize(
    "run, files, expected",
    [
        # the swap this stopped: on python:3.11-slim the build failed on the zoo's engine
        # ("error: command 'x86_64-linux-gnu-gcc' failed: No such file or directory")
        ("pip install --no-cache-dir .", {"setup.py": SETUP_C, "fastx.c": ""}, "builds the project at ., which holds native sources (fastx.c)"),
        ("pip install -e .", {"pyproject.toml": CYTHON}, "which needs cython to build (pyproject.toml [build-system])"),
        ("pip install .", {"pyproject.toml": MATURIN}, "which builds with maturin"),
        ("pip install -r requirements.txt", {"requirements.txt": "-e ./libs/fast\n", "libs/fast/setup.py": SETUP_C, "libs/fast/fastx.c": ""},
         "builds the project at ./libs/fast, which holds native sources (libs/fast/fastx.c)"),
        ("poetry install", {"pyproject.toml": '[tool.poetry]\nname = "x"\nversion = "1"\nbuild = "build.py"\n', "poetry.lock": "", "src/x/_speed.c": ""},
         "which holds native sources (src/x/_speed.c)"),
    ],
)
def test_a_local_project_with_native_code_needs_the_compiler(tmp_path, run, files, expected):
    _, verdict = analyse(f"FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN {run}\n", files, tmp_path)
    assert not verdict.ok
    assert any(expected in r for r in whys(verdict.blockers)), whys(verdict.blockers)
    assert "gcc" in next(m for m in verdict.blockers if expected in m.need.why).packages


@pytest.mark.parametrize(
    "run, files",
    [
        ("pip install .", {"pyproject.toml": PURE, "x.py": ""}),
        ("poetry install --no-root", {"pyproject.toml": '[tool.poetry]\nname = "x"\nversion = "1"\n', "poetry.lock": "", "src/x/_speed.c": ""}),
    ],
)
def test_a_pure_python_project_or_no_root_package_swaps(tmp_path, run, files):
    _, verdict = analyse(f"FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN {run}\n", files, tmp_path)
    assert verdict.ok, whys(verdict.blockers)


def test_a_project_whose_files_are_not_known_is_unknown(tmp_path):
    _, verdict = analyse("FROM python:3.11\nRUN pip install .\n", {"x": ""}, tmp_path)
    assert not verdict.ok
    assert any("builds the project at .: its pyproject.toml or setup.py, which is not a file of the build context" in r for r in whys(verdict.blockers)), whys(verdict.blockers)


def test_no_binary_makes_a_c_extension_compile(tmp_path):
    files = {"requirements.txt": "ujson==5.9.0\n"}
    base = "FROM python:3.11\nCOPY requirements.txt .\nRUN pip install {} -r requirements.txt\n"
    _, verdict = analyse(base.format(""), files, tmp_path)
    assert verdict.ok
    (tmp_path / "b").mkdir()
    _, verdict = analyse(base.format("--no-binary :all:"), files, tmp_path / "b")
    assert not verdict.ok and "--no-binary" in whys(verdict.blockers)[0]


def test_vcs_requirements_and_runtime_libraries(tmp_path):
    files = {"requirements.txt": "git+https://github.com/x/y.git#egg=y\npsycopg==3.1.18\npsycopg[binary]==3.1.18\n"}
    _, verdict = analyse("FROM python:3.11\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n", files, tmp_path)
    assert verdict.ok and verdict.add == ("git", "libpq5")


def test_a_missing_manifest_is_unknown():
    _, verdict = analyse("FROM python:3.11\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n")
    assert not verdict.ok and "build context is not known" in whys(verdict.blockers)[0]


def test_node_addons_and_git_dependencies(tmp_path):
    package = {"dependencies": {"isolated-vm": "^4.7.2", "left-pad": "github:stevemao/left-pad", "bcrypt": "^5.1.0"}}
    files = {"package.json": json.dumps(package)}
    dockerfile = "FROM node:18\nWORKDIR /app\nCOPY package.json .\nRUN npm install\n"
    _, verdict = analyse(dockerfile, files, tmp_path, "node:18", "node:18-slim")
    assert "npm builds the native addon isolated-vm with node-gyp" in whys(verdict.blockers)[0]
    assert "git" in verdict.missing[0].packages or any("git" in m.packages for m in verdict.missing)


@pytest.mark.parametrize(
    "package, extra, run, expected",
    [
        # npm's default install script compiles the project's own addon; the swap to slim broke
        # that build on the zoo's engine ("gyp ERR! stack Error: not found: make")
        ({"name": "addon"}, {"binding.gyp": "{}"}, "npm install", "builds the project's own native addon with node-gyp (binding.gyp in the context"),
        ({"name": "addon", "gypfile": True}, {}, "npm install", 'builds the project\'s own native addon with node-gyp ("gypfile": true in package.json'),
        ({"name": "addon", "scripts": {"install": "node-gyp rebuild"}}, {"binding.gyp": "{}"}, "npm install", "the install script of package.json (line 4) runs node-gyp"),
        ({"name": "addon", "scripts": {"build": "node-gyp rebuild"}}, {}, "npm install && npm run build", "the build script of package.json (line 4) runs node-gyp"),
    ],
)
def test_the_project_s_own_addon_needs_the_compiler(tmp_path, package, extra, run, expected):
    files = {"package.json": json.dumps(package), **extra}
    _, verdict = analyse(f"FROM node:18\nWORKDIR /app\nCOPY . .\nRUN {run}\n", files, tmp_path, "node:18", "node:18-slim")
    assert not verdict.ok and any(expected in r for r in whys(verdict.blockers)), whys(verdict.blockers)
    assert {"make", "g++", "python3"} <= set(next(m for m in verdict.blockers if expected in m.need.why).packages)


def test_an_addon_is_not_built_with_ignore_scripts(tmp_path):
    files = {"package.json": json.dumps({"name": "addon"}), "binding.gyp": "{}"}
    _, verdict = analyse("FROM node:18\nWORKDIR /app\nCOPY . .\nRUN npm install --ignore-scripts\n", files, tmp_path, "node:18", "node:18-slim")
    assert verdict.ok, whys(verdict.blockers)


def test_build_from_source_compiles_prebuilt_addons(tmp_path):
    files = {"package.json": json.dumps({"dependencies": {"bcrypt": "^5.1.0"}})}
    base = "FROM node:18\nWORKDIR /app\nCOPY package.json .\nRUN npm install{}\n"
    _, verdict = analyse(base.format(""), files, tmp_path, "node:18", "node:18-slim")
    assert verdict.ok
    (tmp_path / "b").mkdir()
    _, verdict = analyse(base.format(" --build-from-source"), files, tmp_path / "b", "node:18", "node:18-slim")
    assert not verdict.ok and "--build-from-source" in whys(verdict.blockers)[0]


def _lock(*packages: tuple[str, str]) -> str:
    entries = {key: {"version": version} for key, version in packages}
    return json.dumps({"lockfileVersion": 3, "packages": {"": {"name": "app"}, **entries}})


@pytest.mark.parametrize(
    "dependencies, lock, run, compiles",
    [
        # microtime 3 ships prebuilds/linux-x64 (N-API, loaded by node-gyp-build): npm ci on
        # node:18-slim compiles nothing (built on the zoo's engine); 2.x compiled on install
        ({"microtime": "3.1.1"}, [("node_modules/microtime", "3.1.1")], "npm ci", False),
        ({"microtime": "^2.1.9"}, [("node_modules/microtime", "2.1.9")], "npm ci", True),
        ({"microtime": "^3.0.0"}, None, "npm install", False),  # no lockfile: the lowest the range allows
        ({"microtime": "*"}, None, "npm install", True),  # not bounded: compiles
        ({"microtime": "3.0.0-rc.1"}, None, "npm install", True),  # a prerelease comes before 3.0.0
        ({"ffi-napi": "^4.0.3"}, [("node_modules/ffi-napi", "4.0.3"), ("node_modules/ref-napi", "3.0.3")], "npm ci", False),
        ({"ffi-napi": "2.4.7"}, [("node_modules/ffi-napi", "2.4.7")], "npm ci", True),
        # installed twice (a dependency pins the old one): the version that compiles decides
        ({"microtime": "3.1.1", "old": "1.0.0"}, [("node_modules/microtime", "3.1.1"), ("node_modules/old/node_modules/microtime", "2.1.9")], "npm ci", True),
        ({"microtime": "3.1.1"}, [("node_modules/microtime", "3.1.1")], "npm ci --build-from-source", True),
    ],
)
def test_addons_with_bundled_prebuilds_compile_only_before_they_shipped_them(tmp_path, dependencies, lock, run, compiles):
    files = {"package.json": json.dumps({"name": "app", "dependencies": dependencies})}
    if lock is not None:
        files["package-lock.json"] = _lock(*lock)
    _, verdict = analyse(f"FROM node:18\nWORKDIR /app\nCOPY . .\nRUN {run}\n", files, tmp_path, "node:18", "node:18-slim")
    assert verdict.ok is not compiles, whys(verdict.blockers)
    if compiles:
        assert "with node-gyp" in whys(verdict.blockers)[0] or "from source" in whys(verdict.blockers)[0]


def test_bundled_glibc_prebuilds_still_compile_on_alpine(tmp_path):
    files = {"package.json": json.dumps({"dependencies": {"microtime": "3.1.1"}})}
    _, verdict = analyse("FROM node:18\nWORKDIR /app\nCOPY . .\nRUN npm install\n", files, tmp_path, "node:18", "node:18-alpine", alpine=True)
    assert not verdict.ok and "on musl it compiles" in whys(verdict.blockers)[0], whys(verdict.blockers)


@pytest.mark.parametrize(
    "spec, lowest",
    [
        ("3.1.1", (3, 1, 1)), ("^3.1.1", (3, 1, 1)), ("~3.0", (3, 0, 0)), (">=3", (3, 0, 0)), (">= 3.0.0", (3, 0, 0)),
        ("3.x", (3, 0, 0)), ("v3.0.0", (3, 0, 0)), ("3.0.0+build.5", (3, 0, 0)),
        ("3.0.0-rc.1", None), ("*", None), ("latest", None), ("1 || 3", None), ("<4", None), ("git+https://x/y.git", None), ("npm:other@3", None),
    ],
)
def test_the_lowest_version_a_spec_allows(spec, lowest):
    from slimfile.analysis.compat import lowest_version

    assert lowest_version(spec) == lowest


def test_package_json_scripts_run_by_npm_are_read(tmp_path):
    files = {"package.json": json.dumps({"scripts": {"prebuild": "git describe > version.txt", "build": "tsc"}})}
    dockerfile = "FROM node:18\nWORKDIR /app\nCOPY . .\nRUN npm run build\n"
    _, verdict = analyse(dockerfile, files, tmp_path, "node:18", "node:18-slim")
    assert verdict.add == ("ca-certificates", "git") and "prebuild script" in whys(verdict.missing)[0]


def test_scripts_that_run_scripts_many_times_are_read_up_to_a_budget(tmp_path, monkeypatch):
    """Shell scripts each running the next one many times: three levels of a hundred runs
    each read a million scripts from a few small files. Reading stops once the scripts ran
    the budget's commands, the swap is refused once for it, and each text is parsed once;
    the same scripts with three runs each are read to the end."""
    from slimfile.analysis import compat

    def scripts(runs: int) -> dict[str, str]:
        files = {f"s{i}.sh": "#!/bin/sh\n" + f"sh /app/s{i + 1}.sh\n" * runs for i in range(2)}
        return {**files, "s2.sh": "#!/bin/sh\ngit --version\n"}

    parsed = []
    real = compat.script_of_text
    monkeypatch.setattr(compat, "script_of_text", lambda text, *a: parsed.append(text) or real(text, *a))
    dockerfile = "FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN sh /app/s0.sh\n"
    uses, verdict = analyse(dockerfile, scripts(200), tmp_path / "many")
    refusals = [n.why for n in uses.needs if n.kind == "unknown"]
    assert len(refusals) == 1 and "the scripts run other scripts more times than slimfile follows" in refusals[0]
    assert not verdict.ok and sorted(set(parsed)) == sorted(parsed)  # each text once
    uses, verdict = analyse(dockerfile, scripts(3), tmp_path / "few")
    assert not [n for n in uses.needs if n.kind == "unknown"] and "git" in verdict.add


def test_a_script_nested_too_deeply_is_an_unknown_not_a_stopped_file(tmp_path):
    """3,000 nested subshells in a script of the context stopped the whole Dockerfile with
    "input too deeply nested" (the script, not the Dockerfile, was deep): now the swap is
    refused for that script, with the reason."""
    files = {"s.sh": "#!/bin/sh\n" + "(" * 3000 + "echo hi" + ")" * 3000 + "\n"}
    _, verdict = analyse("FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN sh ./s.sh\n", files, tmp_path)
    assert whys(verdict.blockers) == ["./s.sh (run by line 4) runs shell text slimfile cannot read (nested too deeply to read)"]


def test_a_script_over_the_size_slimfile_reads_is_refused_before_it_is_read(tmp_path, monkeypatch):
    """A 15 MiB build.sh took 20 s and 1.6 GB to model, only to be refused for running too
    many commands; over 16 MiB it was called "missing from the build context". Scripts are
    read up to a Dockerfile's own limit, and a file too big to read is named as such."""
    from slimfile.analysis import build_context
    from slimfile.shell import analyze

    monkeypatch.setattr(analyze, "MAX_SCRIPT_BYTES", 1000)
    files = {"s.sh": "#!/bin/sh\n" + "echo hi\n" * 200}
    _, verdict = analyse("FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN sh ./s.sh\n", files, tmp_path / "a")
    assert whys(verdict.blockers) == ["./s.sh (run by line 4) runs shell text slimfile cannot read (it is over 4 MiB, the most slimfile reads)"]

    monkeypatch.setattr(build_context, "MAX_READ", 1000)
    _, verdict = analyse("FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN sh ./s.sh\n", files, tmp_path / "b")
    assert whys(verdict.blockers) == ["line 4 runs ./s.sh, which the COPY at line 3 brings from s.sh, a file over 1,000 bytes, more than slimfile reads"]


def test_gems_with_native_extensions(tmp_path):
    lock = "GEM\n  remote: https://rubygems.org/\n  specs:\n    nokogiri (1.16.0-x86_64-linux)\n    pg (1.5.4)\n    rack (3.0.8)\n\nPLATFORMS\n  x86_64-linux\n"
    files = {"Gemfile": "source 'https://rubygems.org'\ngem 'pg'\n", "Gemfile.lock": lock}
    dockerfile = "FROM ruby:3.2\nWORKDIR /app\nCOPY Gemfile Gemfile.lock ./\nRUN bundle install\n"
    _, verdict = analyse(dockerfile, files, tmp_path, "ruby:3.2", "ruby:3.2-slim")
    reasons = whys(verdict.blockers)
    assert len(reasons) == 1 and "native extension of pg" in reasons[0]  # nokogiri is precompiled


def test_scripts_copied_from_the_context_are_read(tmp_path):
    files = {"entrypoint.sh": "#!/bin/sh\nset -e\nwget -q -O /tmp/x http://config/\nexec \"$@\"\n"}
    dockerfile = 'FROM python:3.11\nCOPY entrypoint.sh /usr/local/bin/\nENTRYPOINT ["entrypoint.sh"]\nCMD ["python", "app.py"]\n'
    _, verdict = analyse(dockerfile, files, tmp_path)
    assert verdict.add == ("wget",) and "entrypoint.sh" in whys(verdict.missing)[0]


def test_a_script_in_another_language_is_application_code(tmp_path):
    files = {"manage.py": "#!/usr/bin/env python3\nimport subprocess\n"}
    _, verdict = analyse("FROM python:3.11\nWORKDIR /app\nCOPY . .\nRUN ./manage.py collectstatic\n", files, tmp_path)
    assert verdict.ok and verdict.add == ()


def test_an_unreadable_script_blocks():
    _, verdict = analyse("FROM python:3.11\nRUN curl -fsSLo /usr/local/bin/setup https://x/setup && chmod +x /usr/local/bin/setup\nRUN setup.sh || /usr/local/bin/setup\n")
    assert any("cannot read" in w for w in whys(verdict.blockers))


def test_sh_dash_c_strings_and_onbuild_triggers():
    _, verdict = analyse("FROM python:3.11\nRUN sh -c 'curl -fsS http://x/ > /y'\nONBUILD RUN make\n")
    assert "make" in whys(verdict.blockers)[0] and "ONBUILD" in whys(verdict.blockers)[0]
    assert verdict.missing and verdict.missing[0].packages == ("curl",)


def test_stages_built_on_the_root_count_and_others_do_not():
    dockerfile = "FROM node:18 AS tools\nRUN make\nFROM python:3.11 AS base\nFROM base AS test\nRUN git status\nFROM base\nCMD [\"python\"]\n"
    ctx = Context(parse(dockerfile.encode()), Settings())
    uses = uses_of(ctx, ctx.stages.stages[1])
    verdict = assess(uses, lookup("python:3.11"), lookup("python:3.11-slim"))
    assert verdict.add == ("git",) and verdict.ok  # the node stage's make is not this family's


def test_jdk_programs_on_a_jre():
    _, verdict = analyse("FROM eclipse-temurin:17\nRUN ./mvnw package -DskipTests\n", source="eclipse-temurin:17", target="eclipse-temurin:17-jre")
    assert not verdict.ok
    _, verdict = analyse('FROM eclipse-temurin:17\nCOPY app.jar .\nCMD ["java", "-jar", "app.jar"]\n', source="eclipse-temurin:17", target="eclipse-temurin:17-jre")
    assert verdict.ok


def test_too_many_packages_to_add_block():
    _, verdict = analyse("FROM python:3.11\nRUN git a && curl b && unzip c && xz d && bzip2 e && patch f\n")
    assert not verdict.ok and "packages" in whys(verdict.blockers)[0]


@pytest.mark.parametrize(
    "run,reason",
    [
        ("RUN wget -q https://example.com/tool-linux-amd64.tar.gz", "downloads"),
        ("RUN curl -fsSLO https://github.com/x/y/releases/download/v1/y-linux-x86_64", "downloads"),
        ("RUN echo 'hosts: files dns' > /etc/nsswitch.conf", "nsswitch"),
    ],
)
def test_musl_caveats_block_alpine_only(run, reason):
    dockerfile = f"FROM python:3.11-slim\n{run}\n"
    _, slim = analyse(dockerfile, source="python:3.11", target="python:3.11-slim")
    _, alpine = analyse(dockerfile, source="python:3.11-slim", target="python:3.11-alpine", alpine=True)
    assert all(m.need.kind != "musl" for m in slim.blockers)
    assert any(reason in m.need.why for m in alpine.blockers)


def test_busybox_applets_meet_tool_needs_on_alpine():
    _, verdict = analyse("FROM python:3.11-slim\nRUN unzip -q a.zip && bash -c 'echo hi'\n", source="python:3.11-slim", target="python:3.11-alpine", alpine=True)
    assert verdict.add == ("bash",)


def test_closure_follows_depends_and_recommends():
    class Fake:
        def __init__(self, packages, recommends):
            self.packages, self.recommends = packages, recommends

    assert {"gcc", "g++", "make", "libc6-dev"} <= closure([Fake(("build-essential",), False)])
    assert "libc6-dev" in closure([Fake(("gcc",), True)]) and "libc6-dev" not in closure([Fake(("gcc",), False)])


def test_the_context_is_scanned_for_native_sources_once_per_run(tmp_path, monkeypatch):
    """Each project build asks with a bisection of one sorted list: a file of many
    `pip install ./x` lines scanned the context's listing once per line before."""
    from slimfile.analysis import compat

    calls = []
    real = compat._native_sources
    monkeypatch.setattr(compat, "_native_sources", lambda files, suffixes: calls.append(1) or real(files, suffixes))
    files = {f"p{i}/pyproject.toml": PURE for i in range(40)} | {"p7/fast.c": ""}
    runs = "".join(f"RUN pip install ./p{i}\n" for i in range(40))
    _, verdict = analyse(f"FROM python:3.11\nWORKDIR /app\nCOPY . .\n{runs}", files, tmp_path)
    assert [m.need.why for m in verdict.blockers if "native sources" in m.need.why] == [
        "line 11, `pip install ./p7` builds the project at ./p7, which holds native sources (p7/fast.c)"
    ]
    assert len(calls) == 1


STAGE_STEPS = [
    "RUN apt-get update && apt-get install -y curl",
    "RUN apt-get install -y --no-install-recommends git make",
    "RUN apt-get install -y gcc libpq-dev && gcc -v",
    "RUN curl -fsSL https://e.com/x | sh",
    "RUN git --version && make",
    "RUN apk add --no-cache curl",
    "RUN unzip a.zip",
    "ONBUILD RUN apt-get install -y unzip",
    "ONBUILD RUN unzip b.zip && curl -f http://x/",
    "HEALTHCHECK CMD curl -f http://localhost/",
    "CMD git status",
    "RUN apt-get install -y git",  # with [1] or [12]: git with and without its recommends
    "ONBUILD RUN apt-get install -y --no-install-recommends git",
    "RUN patch -p1 -i x.diff && ssh -V",  # met by git's recommends only
    "ONBUILD RUN ssh -V",
    "ONBUILD RUN apt-get install -y git",
    "ONBUILD RUN apt-get install -y --no-install-recommends git q1",  # git's key with another package
    "ONBUILD RUN apt-get install -y dpkg-dev",  # brings patch, a recommend of git, as a dependency
    "ONBUILD RUN patch -p1 -i y.diff",
    "RUN apt-get install -y --no-install-recommends curl q2",  # curl recommends ca-certificates, as git does
    "CMD ssh -V",
    "ONBUILD RUN apt-get install -y --no-install-recommends g++",  # brings gcc without libc6-dev
    "ONBUILD RUN apt-get install -y gcc",  # then nothing: gcc is there
    "ONBUILD RUN gcc -o x x.c",  # needs gcc and libc6-dev, gcc's recommend
]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.lists(st.sampled_from(STAGE_STEPS), max_size=5)), min_size=1, max_size=5),
       st.booleans())
@example([(0, []), (0, [STAGE_STEPS[0]]), (0, [STAGE_STEPS[3]])], False)  # a sibling's install is not seen
@example([(0, [STAGE_STEPS[0]]), (0, [STAGE_STEPS[3], STAGE_STEPS[1]]), (1, [STAGE_STEPS[4]])], True)
@example([(0, [STAGE_STEPS[7]]), (0, [STAGE_STEPS[8]])], False)  # an ONBUILD install above is seen
@example([(0, [STAGE_STEPS[7]]), (0, [STAGE_STEPS[6]])], False)  # ... by the later needs only
@example([(0, []), (0, [STAGE_STEPS[7]]), (0, [STAGE_STEPS[8]])], False)  # ... of its own line
@example([(0, [STAGE_STEPS[12]]), (0, [STAGE_STEPS[11], STAGE_STEPS[14]])], False)  # the order of the installs matters
@example([(0, [STAGE_STEPS[1], STAGE_STEPS[13]]), (0, [STAGE_STEPS[11], STAGE_STEPS[13]])], False)  # ... in build order
@example([(0, [STAGE_STEPS[11], STAGE_STEPS[14]]), (0, [STAGE_STEPS[7], STAGE_STEPS[14]])], False)  # it does not
@example([(0, [STAGE_STEPS[15]]), (0, [STAGE_STEPS[1], STAGE_STEPS[14]])], False)  # git without them comes first
@example([(0, [STAGE_STEPS[11], STAGE_STEPS[16]]), (1, [STAGE_STEPS[12], STAGE_STEPS[14]])], False)  # the same key, then git again
@example([(0, [STAGE_STEPS[12], STAGE_STEPS[17]]), (0, [STAGE_STEPS[11], STAGE_STEPS[18], STAGE_STEPS[20]])], False)  # patch by dpkg-dev
@example([(0, [STAGE_STEPS[21], STAGE_STEPS[22]]), (0, [STAGE_STEPS[23]])], False)  # g++ (not in doubt) keeps gcc's recommends out
@example([(0, [STAGE_STEPS[7]]), (0, [STAGE_STEPS[21], STAGE_STEPS[21]]), (0, [STAGE_STEPS[22], STAGE_STEPS[23]])], False)  # ... not a sibling's
def test_the_walk_down_the_stages_weighs_each_need_as_its_lineage_set_does(stages, alpine):
    """Each need of a build step is weighed by the walk down the tree of stages with what the
    installs before it brought, as the set of its lineage's installs taken up to it did (the
    form it replaced, which still serves the needs after the build)."""
    from slimfile.analysis import compat

    lines = []
    for number, (parent, body) in enumerate(stages):
        lines += [f"FROM {f's{parent}' if parent < number else 'python:3.11'} AS s{number}", *body]
    ctx = Context(parse(("\n".join(lines) + "\n").encode()), Settings(build_context="/nonexistent-context"))
    source, target = lookup("python:3.11"), lookup("python:3.11-slim")
    for root in ctx.stages.stages:
        uses = uses_of(ctx, root)
        walked = compat._StageWalk(uses, source, target, alpine).weigh()
        installed: dict = {}
        expected = {
            index: compat._weigh(uses, uses.needs[index], source, target, alpine, compat._lineage_installs(uses, index, installed))
            for index in sorted(range(len(uses.needs)), key=lambda i: uses.needs[i].order)
        }
        assert walked == expected


def test_which_packages_recommends_the_order_of_the_installs_decides():
    """git's recommends (openssh-client, patch, ...) come only when the first install of git
    takes recommends: with two installs of git, with and without them, git is in doubt; curl
    with and git without them, or both without, leave nothing in doubt."""
    from slimfile.analysis import compat

    def installs(*lines: str) -> list:
        ctx = Context(parse(("FROM python:3.11\n" + "".join(f"{line}\n" for line in lines)).encode()), Settings(build_context="/nonexistent-context"))
        return uses_of(ctx, ctx.stages.stages[0]).installs

    assert compat._in_doubt(installs("RUN apt-get install -y git", "RUN apt-get install -y --no-install-recommends git")) == {"git"}
    assert compat._in_doubt(installs("ONBUILD RUN apt-get install -y --no-install-recommends git", "RUN apt-get install -y git")) == {"git"}
    assert not compat._in_doubt(installs("RUN apt-get install -y curl", "RUN apt-get install -y --no-install-recommends git"))
    assert not compat._in_doubt(installs("RUN apt-get install -y --no-install-recommends git", "RUN apt-get install -y --no-install-recommends git curl"))
    assert not compat._in_doubt(installs("RUN apk add git", "RUN apt-get install -y --no-install-recommends git"))


@pytest.mark.parametrize("top", ["", "RUN apt-get install -y git\nONBUILD RUN apt-get install -y --no-install-recommends git\n"])
@pytest.mark.parametrize("stages", [20, 80])
def test_a_chain_of_onbuild_installs_and_needs_takes_each_install_a_few_times(monkeypatch, stages, top):
    """Each stage of a chain with an ONBUILD install and an ONBUILD need: every later install
    of the stages above was taken again for each stage (n x n / 2 takes); now each install is
    taken once per set of the bands it reaches. With git installed with and without its
    recommends at the top, the ONBUILD band is two sets (at least, at most) and the needs,
    which git's recommends do not meet, are weighed there."""
    from slimfile.analysis import compat

    takes = []
    real = compat._InstalledBefore.take
    monkeypatch.setattr(compat._InstalledBefore, "take", lambda self, install: takes.append(1) or real(self, install))
    lines = ["FROM debian:12 AS s0", top]
    for k in range(1, stages):
        lines += [f"FROM s{k - 1} AS s{k}", f"ONBUILD RUN apt-get install -y q{k}", f"ONBUILD RUN curl -fsSL https://e.com/{k} | tar x"]
    ctx = Context(parse(("\n".join(lines) + "\n").encode()), Settings(build_context="/nonexistent-context"))
    uses = uses_of(ctx, ctx.stages.stages[0])
    walk = compat._StageWalk(uses, lookup("debian:12"), lookup("debian:12-slim"), False)
    weighed = walk._weigh_by_bands(compat._in_doubt(uses.installs))
    assert len(weighed) == len(uses.needs)
    takes.clear()
    walk.weigh()
    sets = 2 if top else 1  # the ONBUILD band: one set, or what every order brings at least and at most
    # the top's build install goes to the build set and the ONBUILD band's, its ONBUILD install to the latter
    assert len(takes) == (stages - 1) * sets + (1 + 2 * sets if top else 0)


def test_a_need_that_the_order_of_the_installs_decides_is_weighed_in_build_order(monkeypatch):
    """`ssh` is met by git's recommends: whether they come depends on which install of git
    comes first (the build's own, after the ONBUILD one of the stage above, in build order).
    The bands cannot tell; that need is weighed with what the installs of git bring in build
    order, and only that need."""
    from slimfile.analysis import compat

    asked = []
    real = compat._in_build_order
    monkeypatch.setattr(compat, "_in_build_order", lambda need, *rest: asked.append(need.packages) or real(need, *rest))
    text = (
        "FROM python:3.11 AS s0\nONBUILD RUN apt-get install -y --no-install-recommends git\n"
        "FROM s0 AS s1\nRUN apt-get install -y git\nONBUILD RUN ssh -V && curl -fsSL https://e.com/x | tar x\n"
    )
    ctx = Context(parse(text.encode()), Settings(build_context="/nonexistent-context"))
    uses = uses_of(ctx, ctx.stages.stages[0])
    walk = compat._StageWalk(uses, lookup("python:3.11"), lookup("python:3.11-slim"), False)
    weighed = walk.weigh()
    assert asked == [("openssh-client",)]
    ssh = next(i for i, need in enumerate(uses.needs) if need.packages == ("openssh-client",))
    assert weighed[ssh] is None  # git with its recommends came first: ssh is there


@pytest.mark.parametrize("stages", [20, 80])
def test_needs_the_order_decides_in_a_chain_take_the_installs_once(monkeypatch, stages):
    """A chain whose every trigger runs `ssh -V` under git installed with and without its
    recommends at the top, and installs a package of its own: each need was weighed against
    its lineage's installs taken again in build order (n x n / 2 takes); now the installs are
    taken once per set, and each such need brings only the first install of git met in each
    band (one `_bring`: the ONBUILD band's git is the build's key again)."""
    from slimfile.analysis import compat

    takes, brings = [], []
    real_take, real_bring = compat._InstalledBefore.take, compat._bring
    monkeypatch.setattr(compat._InstalledBefore, "take", lambda self, install: takes.append(1) or real_take(self, install))
    lines = ["FROM debian:12 AS s0", "RUN apt-get install -y git", "ONBUILD RUN apt-get install -y --no-install-recommends git"]
    for k in range(1, stages):
        lines += [f"FROM s{k - 1} AS s{k}", f"ONBUILD RUN apt-get install -y q{k}", "ONBUILD RUN ssh -V"]
    ctx = Context(parse(("\n".join(lines) + "\n").encode()), Settings(build_context="/nonexistent-context"))
    uses = uses_of(ctx, ctx.stages.stages[0])
    walk = compat._StageWalk(uses, lookup("debian:12"), lookup("debian:12-slim"), False)
    real_order = compat._in_build_order

    def counted(*args):
        monkeypatch.setattr(compat, "_bring", lambda out, install, *rest: brings.append(install.packages) or real_bring(out, install, *rest))
        try:
            return real_order(*args)
        finally:
            monkeypatch.setattr(compat, "_bring", real_bring)

    monkeypatch.setattr(compat, "_in_build_order", counted)
    weighed = walk.weigh()
    ssh = [i for i, need in enumerate(uses.needs) if need.packages == ("openssh-client",)]
    assert len(ssh) == stages - 1 and all(weighed[i] is None for i in ssh)  # git with its recommends came first
    assert brings == [("git",)] * (stages - 1)
    # the build install goes to the build set and both ONBUILD sets, the ONBUILD installs to the latter
    assert len(takes) == 3 + 2 + (stages - 1) * 2


def test_every_package_relation_is_a_package_with_its_lists():
    """A package name with a dot in a TOML table header (`[relations.libglib2.0-dev]`) is read
    as nested tables (libglib2 -> 0-dev) and its relations were lost: every entry must be a
    package with only `depends` and `recommends` lists of names."""
    from slimfile.analysis.compat import tools

    relations = tools()["relations"]
    assert "libglib2.0-dev" in relations and "libglib2" not in relations
    for name, spec in relations.items():
        assert set(spec) <= {"depends", "recommends"}, name
        assert all(isinstance(listed, list) and all(isinstance(p, str) for p in listed) for listed in spec.values()), name


def test_a_package_that_pulls_python3_in_meets_python3_on_the_slim_image():
    """libglib2.0-dev depends on python3 (through libglib2.0-dev-bin): a stage that installs it
    has python3 on node:20-slim too, so the swap adds nothing for `python3` (it added python3
    while the relation was lost)."""
    _, verdict = analyse(
        "FROM node:20\nRUN apt-get update && apt-get install -y libglib2.0-dev && python3 -c 'print(1)'\n",
        source="node:20", target="node:20-slim",
    )
    assert verdict.ok and verdict.add == () and verdict.missing == []
