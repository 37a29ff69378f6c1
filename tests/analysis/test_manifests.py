"""Manifest readers: what an install reads from the context and what it asks for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slimfile.analysis.build_context import BuildContext
from slimfile.analysis.manifests import (
    classify_requirement,
    npm_lock_in_sync,
    pnpm_lock_in_sync,
    read_gemfile,
    read_go_mod,
    read_package_json,
    read_pnpm_lock,
    read_requirements,
    read_simple_yaml,
    read_toml,
    read_yarn_lock,
    yarn_lock_in_sync,
)
from tests.cli.conftest import write


def test_requirements_follow_nested_includes_relative_to_the_including_file(tmp_path: Path):
    write(
        tmp_path,
        {
            "requirements.txt": "-r requirements/base.txt\nflask==3.0 \\\n  --hash=sha256:abc\n# comment\n",
            "requirements/base.txt": "-c constraints.txt\nrequests>=2 ; python_version > '3'\n--no-binary psycopg2\n",
            "requirements/constraints.txt": "urllib3<3\n",
        },
    )
    found = read_requirements(BuildContext(tmp_path), ["requirements.txt"])
    assert found.files == ["requirements.txt", "requirements/base.txt", "requirements/constraints.txt"]
    assert found.names == ["requests", "flask"]
    assert [c.name for c in found.constraints] == ["urllib3"]
    assert found.no_binary == {"psycopg2"}
    assert found.problems == [] and found.local == []


def test_requirements_report_local_paths_and_missing_includes(tmp_path: Path):
    write(tmp_path, {"r.txt": "-e .\n./libs/x\nfile:///src/y\n-rmissing.txt\npkg @ git+https://h/x.git\nz.whl\n"})
    found = read_requirements(BuildContext(tmp_path), ["r.txt"])
    assert [r.text for r in found.local] == [".", "./libs/x", "file:///src/y", "z.whl"]
    assert found.requirements[0].editable
    assert found.problems == ["requirements file missing.txt not in the build context"]
    assert [r.kind for r in found.requirements] == ["path", "path", "path", "vcs", "path"]


def test_requirements_includes_above_the_context_or_absolute_are_not_files_of_it(tmp_path: Path):
    """pip reads ``-r ../base.txt`` in the image, relative to the including file: above the
    context's root it was cut to ``base.txt`` (a file of the context pip never reads), and
    ``-r /etc/base.txt`` read the context's etc/base.txt."""
    write(tmp_path, {"r.txt": "-r ../base.txt\n-c /etc/base.txt\n", "base.txt": "flask\n", "etc/base.txt": "x\n", "sub/s.txt": "-r ../base.txt\n"})
    found = read_requirements(BuildContext(tmp_path), ["r.txt"])
    assert found.problems == [
        "r.txt:1: includes ../base.txt, which is not a file of the build context",
        "r.txt:2: includes /etc/base.txt, which is not a file of the build context",
    ]
    inside = read_requirements(BuildContext(tmp_path), ["sub/s.txt"])  # ../ of a subfolder: the root's file
    assert inside.problems == [] and [r.name for r in inside.requirements] == ["flask"]


def test_requirement_kinds():
    assert classify_requirement("Django[bcrypt]>=4").name == "django"
    assert classify_requirement("psycopg2 @ https://x/y.whl").kind == "url"
    assert classify_requirement("git+https://github.com/a/b.git#egg=My_Pkg").name == "my-pkg"
    assert classify_requirement("../sibling").kind == "path"


def test_package_json_scripts_workspaces_and_local_dependencies(tmp_path: Path):
    write(
        tmp_path,
        {
            "package.json": json.dumps(
                {
                    "scripts": {"postinstall": "patch-package", "build": "tsc"},
                    "workspaces": ["packages/*"],
                    "dependencies": {"lib": "file:../lib", "express": "^4"},
                    "packageManager": "yarn@4.1.0",
                }
            ),
            "bad.json": "{",
        },
    )
    files = BuildContext(tmp_path)
    package = read_package_json(files, "package.json")
    assert package.install_scripts == {"postinstall": "patch-package"}
    assert package.workspaces == ["packages/*"]
    assert package.local_dependencies == {"lib": "file:../lib"}
    assert package.package_manager == "yarn@4.1.0"
    assert "not valid JSON" in read_package_json(files, "bad.json")
    assert "not in the build context" in read_package_json(files, "nope/package.json")


def test_a_package_json_is_parsed_once_per_build_context(tmp_path: Path, monkeypatch):
    """Each install and each ``npm run`` of a long file asked for package.json: it is parsed
    once per context and path (./package.json is the same file), and its sections are made
    once (2,000 scripts read at each of 2,000 RUNs made 4 million entries)."""
    write(tmp_path, {"package.json": json.dumps({"scripts": {f"b{k}": "x" for k in range(50)}, "dependencies": {"a": "1"}})})
    files = BuildContext(tmp_path)
    parsed = []
    real_loads = json.loads
    monkeypatch.setattr(json, "loads", lambda text, *a, **k: parsed.append(text) or real_loads(text, *a, **k))
    first, again = read_package_json(files, "package.json"), read_package_json(files, "./package.json")
    assert first is again and len(parsed) == 1
    assert first.scripts is again.scripts and len(first.scripts) == 50
    assert first.all_dependencies is first.all_dependencies == {"a": "1"}
    assert read_package_json(BuildContext(tmp_path), "package.json") is not first  # another context reads again


def test_each_npm_script_is_parsed_once_however_many_rounds_and_readers_ask(tmp_path: Path, monkeypatch):
    """Every round of ``fix`` read every ``npm run`` again: the base-image check as ``sh -c``
    text, the Node recipe as a command line, each parsing the script's text again (a file of
    20,000 ``npm run`` lines parsed 120,000 scripts). Each reader now parses each script once
    per package.json."""
    from slimfile.analysis import compat
    from slimfile.analysis.recipes import node_commands
    from slimfile.engine import Settings, fix_source

    scripts = {f"build{k}": f"node build.js {k}" for k in range(4)}
    write(tmp_path, {"package.json": json.dumps({"name": "app", "scripts": scripts}), "build.js": "1\n", "index.js": "1\n"})
    parsed: list[tuple[str, str]] = []

    def counting(name, real):
        return lambda text, *a: parsed.append((name, text)) or real(text, *a)

    monkeypatch.setattr(compat, "script_of_text", counting("sh", compat.script_of_text))
    monkeypatch.setattr(node_commands, "script_text_commands", counting("recipe", node_commands.script_text_commands))
    source = "FROM node:20\nWORKDIR /app\nCOPY . .\nRUN npm ci\n" + "".join(f"RUN npm run {k}\n" for k in scripts) + 'CMD ["node", "index.js"]\n'
    result = fix_source(source.encode(), str(tmp_path / "Dockerfile"), Settings(build_context=str(tmp_path)))
    assert result.rounds >= 2 and result.output.count(b"npm run build") == 4  # merged into one RUN
    bodies = [(reader, text) for reader, text in parsed if text in scripts.values()]
    assert {reader for reader, _ in bodies} == {"sh", "recipe"}
    assert sorted(bodies) == sorted({(reader, text) for reader, text in bodies})  # none twice


def test_npm_lock_sync(tmp_path: Path):
    write(tmp_path, {"package.json": json.dumps({"dependencies": {"a": "^1"}})})
    package = read_package_json(BuildContext(tmp_path), "package.json")
    good = {"lockfileVersion": 3, "packages": {"": {"dependencies": {"a": "^1"}}}}
    assert npm_lock_in_sync(package, json.dumps(good)) is None
    stale = {"lockfileVersion": 3, "packages": {"": {"dependencies": {"a": "^2"}}}}
    assert "differ" in npm_lock_in_sync(package, json.dumps(stale))
    assert "lockfileVersion 1" in npm_lock_in_sync(package, json.dumps({"lockfileVersion": 1, "dependencies": {}}))


def test_go_mod_and_gemfile(tmp_path: Path):
    write(
        tmp_path,
        {
            "go.mod": "module example.com/x\n\ngo 1.21\n\nrequire (\n\tgolang.org/x/text v0.3.0 // indirect\n)\n"
            "replace example.com/y => ../y\nreplace example.com/z v1 => example.com/w v2\n",
            "Gemfile": "source 'https://rubygems.org'\ngemspec\ngem 'rails', '~> 7'\ngem 'mylib', path: 'vendor/mylib'\n",
        },
    )
    files = BuildContext(tmp_path)
    mod = read_go_mod(files, "go.mod")
    assert mod.module == "example.com/x" and mod.local_replacements == ("../y",) and mod.requires == ("golang.org/x/text",)
    gems = read_gemfile(files, "Gemfile")
    assert gems.gemspec and gems.local_paths == ("vendor/mylib",) and gems.gems == ("rails", "mylib")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("module x\nreplace => \n", "go.mod line 2: `replace =>` needs a module on each side of `=>`"),
        ("module x\nreplace (\n\ta =>\n)\n", "go.mod line 3: `replace a =>` needs a module on each side of `=>`"),
        ("module x\nrequire (\n\t\n\t// only a comment\n)\n", None),
        ("module x\nrequire\n", "go.mod line 2: `require` names no module"),
    ],
)
def test_a_go_mod_the_go_command_refuses_is_a_reason_not_a_crash(tmp_path: Path, text: str, problem: str | None):
    """``replace =>`` (nothing on either side) or ``require`` alone was an IndexError, an
    internal error for the Dockerfile whose context held it."""
    write(tmp_path, {"go.mod": text})
    mod = read_go_mod(BuildContext(tmp_path), "go.mod")
    assert mod == problem if problem else not isinstance(mod, str)


def test_yarn_lock_formats_and_sync(tmp_path: Path):
    write(tmp_path, {"package.json": json.dumps({"dependencies": {"@scope/a": "^1.0.0", "b": "~2"}})})
    package = read_package_json(BuildContext(tmp_path), "package.json")
    classic = read_yarn_lock('# yarn lockfile v1\n\n"@scope/a@^1.0.0", "@scope/a@^1.1.0":\n  version "1.2.0"\n\nb@~2:\n  version "2.0.1"\n')
    assert not classic.berry and classic.descriptors == {"@scope/a@^1.0.0", "@scope/a@^1.1.0", "b@~2"}
    assert yarn_lock_in_sync(package, classic) is None
    berry = read_yarn_lock('__metadata:\n  version: 8\n\n"@scope/a@npm:^1.0.0":\n  version: 1.2.0\n\n"b@npm:~2":\n  version: 2.0.1\n')
    assert berry.berry and yarn_lock_in_sync(package, berry) is None
    stale = read_yarn_lock("b@~2:\n  version \"2.0.1\"\n")
    assert "`@scope/a@^1.0.0` has no entry" in yarn_lock_in_sync(package, stale)


def test_simple_yaml_reads_block_mappings_and_refuses_the_rest():
    data = read_simple_yaml("a: '1'\nb:\n  c: \"x y\"\n  d: {e: 1}\n  f:\n    - 1\n    - two\n'g@1':\n  h: i # note\n")
    assert data == {"a": "1", "b": {"c": "x y", "d": "{e: 1}", "f": ["1", "two"]}, "g@1": {"h": "i"}}
    assert "tab" in read_simple_yaml("a:\n\tb: 1\n")
    assert "does not read" in read_simple_yaml("a: |\n  text\n")


def test_pnpm_lock_formats(tmp_path: Path):
    write(tmp_path, {"package.json": json.dumps({"dependencies": {"ms": "^2.1.3"}, "devDependencies": {"x": "1.0.0"}})})
    package = read_package_json(BuildContext(tmp_path), "package.json")
    v9 = read_pnpm_lock(
        "lockfileVersion: '9.0'\n\nsettings:\n  autoInstallPeers: true\n\nimporters:\n\n  .:\n    dependencies:\n"
        "      ms:\n        specifier: ^2.1.3\n        version: 2.1.3\n    devDependencies:\n      x:\n        specifier: 1.0.0\n"
        "        version: 1.0.0\n"
    )
    assert v9.version == "9.0" and v9.settings == {"autoInstallPeers": "true"} and pnpm_lock_in_sync(package, v9) is None
    v6 = read_pnpm_lock("lockfileVersion: '6.0'\n\ndependencies:\n  ms:\n    specifier: ^2.1.3\n    version: 2.1.3\n")
    assert "devDependencies differ" in pnpm_lock_in_sync(package, v6)
    v5 = read_pnpm_lock("lockfileVersion: 5.4\n\nspecifiers:\n  ms: ^2.1.3\n  x: 1.0.0\n\ndependencies:\n  ms: 2.1.3\n\n"
                        "devDependencies:\n  x: 1.0.0\n\noverrides:\n  ms: 2.1.3\n")
    assert v5.version == "5.4" and v5.specifiers["devDependencies"] == {"x": "1.0.0"}
    assert "`overrides`" in pnpm_lock_in_sync(package, v5)


def test_requirements_are_read_once_per_context_and_list_of_files(tmp_path: Path):
    """SF701, SF801 and the lockfile pass each read the same requirements file again (a
    100,000-line file: check 5.1 s, now 1.8 s); the result is shared, and callers only read it."""
    write(tmp_path, {"requirements.txt": "-r base.txt\nflask==3.0.0\n", "base.txt": "requests==2.31.0\n"})
    context = BuildContext(tmp_path)
    first = read_requirements(context, ["requirements.txt"])
    assert read_requirements(context, ["./requirements.txt"]) is first
    assert first.names == ["requests", "flask"] and first.files == ["requirements.txt", "base.txt"]
    assert read_requirements(context, ["base.txt"]) is not first


def test_a_manifest_over_the_read_limit_is_named_as_such_not_as_missing(tmp_path: Path, monkeypatch):
    from slimfile.analysis import build_context

    monkeypatch.setattr(build_context, "MAX_READ", 10)
    write(tmp_path, {"requirements.txt": "flask==3.0.0\n" * 2, "package.json": '{"name": "a", "version": "1.0.0"}', "pyproject.toml": "[project]\nname = 'a'\n"})
    context = BuildContext(tmp_path)
    too_big = "is a file over 10 bytes, more than slimfile reads"
    assert read_requirements(context, ["requirements.txt"]).problems == [f"requirements file requirements.txt {too_big}"]
    assert read_package_json(context, "package.json") == f"package.json {too_big}"
    assert read_toml(context, "pyproject.toml") == f"pyproject.toml {too_big}"
    assert read_toml(context, "gone.toml") == "gone.toml is not in the build context"
