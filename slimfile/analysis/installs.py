"""Dependency installs and the exact files they read, per ecosystem.

``npm ci`` reads ``package.json`` and the lockfile; ``pip install -r requirements.txt`` reads
that file and what it includes. Copying exactly those before the rest of the sources lets the
install stay cached while the code changes. This module answers, for one install command: the
image paths it reads (its manifests), what it writes inside the project (``node_modules``),
and — when something makes the answer unknown (a lifecycle script, a workspace, a local path
dependency, a file the build does not send) — the reason, so the pass refuses and says it.

The file lists are data (``data/dependency_installs.toml``); the manifests are read with
:mod:`slimfile.analysis.manifests` from the build context.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
from collections.abc import Mapping

from slimfile.analysis import installs_go, installs_jvm_rust, installs_python, installs_ruby_php
from slimfile.analysis.build_context import BuildContext
from slimfile.analysis.globs import clean_path
from slimfile.analysis.install_model import CopyMap, Install, InstallRequest, NotMovable, ecosystems, outside_paths
from slimfile.analysis.manifests import (
    PackageJson,
    default_gyp_build,
    is_local_index,
    npm_lock_in_sync,
    read_package_json,
    read_requirements,
    read_simple_yaml,
    yaml_scalar,
)
from slimfile.shell.effects import CommandEffects
from slimfile.shell.packages import PackageFact

__all__ = ["CopyMap", "Install", "NotMovable", "dependency_install", "ecosystem_of", "is_install_input_folder", "prepares"]


def _ecosystems() -> dict:
    return ecosystems()


def ecosystem_of(fact: PackageFact) -> str | None:
    """The ecosystem of a project dependency install, or None when ``fact`` is not one."""
    for name, spec in _ecosystems().items():
        if spec["manager"] == fact.manager and fact.action in spec["actions"] and not _global(fact):
            return name
    return None


def is_install_input_folder(copy: CopyMap) -> bool:
    """``copy`` brings a folder an install reads whole, to the same place (``COPY .mvn .mvn``,
    ``COPY .yarn/releases ./.yarn/releases/``, as SF701 writes them): a manifest copy, not the
    sources (``dirs`` in data/dependency_installs.toml)."""
    source, dest = copy.source.rstrip("/"), copy.dest.rstrip("/")
    for spec in _ecosystems().values():
        for folder in spec.get("dirs", ()):
            if (source == folder or source.endswith("/" + folder)) and dest.endswith("/" + folder):
                return True
    return False


def prepares(fact: PackageFact, ecosystem: str) -> bool:
    """``fact`` is the dependencies-only form of an ``ecosystem`` install (``poetry install
    --no-root``, ``go mod download``): what SF701 puts above the copy (``prepared_by`` in the data)."""
    spec = _ecosystems()[ecosystem]
    marker = spec.get("prepared_by")
    if marker is None or fact.manager != spec["manager"]:
        return False
    if "action" in marker:
        return fact.action == marker["action"]
    return fact.action in spec["actions"] and fact.has(marker["trait"])


def _global(fact: PackageFact) -> bool:
    return fact.has("global") or any(w.value == "global" for w in fact.subcommand)


def dependency_install(
    each: CommandEffects,
    fact: PackageFact,
    files: BuildContext | None,
    copy: CopyMap,
    home: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Install | NotMovable | None:
    """What the install ``fact`` (run as ``each.command`` by a user whose home is ``home``, with
    the ENV/ARG values ``env``) reads, or why that is unknown; None when it is not a project
    dependency install."""
    ecosystem = ecosystem_of(fact)
    if ecosystem is None:
        return None
    if each.cwd is None:
        return NotMovable(ecosystem, "it runs in a directory slimfile cannot tell")
    reader = _READERS[ecosystem]
    problem = _env_problem(ecosystem, env if env is not None else {})  # `env or`: an EnvAt of unknown values is empty
    if problem:
        return NotMovable(ecosystem, problem)
    known = env if env is not None else {}
    if reader in _NODE_AND_PIP:
        found = reader(ecosystem, fact, each.cwd, files, copy)
        if isinstance(found, Install):
            found = _with_outside(found, home, known, each.cwd)
    else:
        found = reader(InstallRequest(ecosystem, fact, each.command, each.cwd, files, copy, home, known))
    if isinstance(found, Install) and files is not None:
        brought = _configuration_the_copy_brings(found, files, copy)
        if brought is not None:
            return NotMovable(ecosystem, brought)
    return found


def _configuration_the_copy_brings(install: Install, files: BuildContext, copy: CopyMap) -> str | None:
    """A file or folder the install reads outside its manifests (its configuration, cache or
    mirror: ``$HOME/.config/pip`` with ``HOME=/app``, ``COMPOSER_HOME=/app/.composer``) that
    the broad copy brings from the build context: moved above that copy, the install would
    run without it."""
    for path in install.uses:
        source = copy.context_path(path)
        if source is not None and files.exists(source) and not install.reads_path(path):
            return f"it reads `{path}`, which the copy brings from the build context"
    return None


def _env_problem(ecosystem: str, env: Mapping[str, str]) -> str | None:
    """A variable (an ENV, ``export``, ``A=b cmd``) that names a file the install reads
    (``PIP_CONSTRAINT=/app/c.txt``) or a folder index (``PIP_FIND_LINKS=/app/wheels``): moved
    above the copy, the install would not find it (data/dependency_installs.toml,
    ``env_files`` and ``env_indexes``; ``env_no_file``: values that name none, ``GOWORK=off``)."""
    from slimfile.analysis.steps import is_set  # steps needs the context, which needs this module

    spec = _ecosystems()[ecosystem]
    no_file = spec.get("env_no_file", {})
    for name in spec.get("env_files", ()):
        if is_set(env, name) and env.get(name) not in no_file.get(name, ()):  # unknown (None) refuses
            return f"{name} names a file the install reads ({env.get(name) or 'a value not known here'})"
    for name in spec.get("env_indexes", ()):
        if not is_set(env, name):
            continue
        value = env.get(name)
        if value is None or "$" in value:
            return f"{name} names the package index, to a value not known here ({value or name})"
        if any(is_local_index(url) for url in value.split()):
            return f"{name} reads packages from a folder ({value})"
    return None


def _with_outside(install: Install, home: str | None, env: Mapping[str, str], cwd: str) -> Install | NotMovable:
    """The install with what it reads and writes outside the project (its configuration, the
    interpreter, its cache) and the variables it reads, from data/dependency_installs.toml:
    a step that sets one of those must stay above it."""
    spec = _ecosystems()[install.ecosystem]
    outside = outside_paths(spec, home, env, cwd)
    if isinstance(outside, str):
        return NotMovable(install.ecosystem, outside)
    uses, writes = outside
    return dataclasses.replace(install, uses=uses, writes=writes, env=tuple(spec.get("env", ())))


# -- Node: npm, yarn, pnpm ----------------------------------------------------------------------


def _node_install(ecosystem: str, fact: PackageFact, cwd: str, files: BuildContext | None, copy: CopyMap):
    spec = _ecosystems()[ecosystem]
    if fact.packages:
        return NotMovable(ecosystem, f"`{fact.tool} {fact.action}` adds named packages, which rewrites package.json")
    for option in ("--prefix", "-C", "--dir", "--cwd", "-w", "--workspace", "--filter", "-F", "--modules-folder"):
        if fact.option(option):
            return NotMovable(ecosystem, f"`{option}` points the install at another folder")
    if fact.has("recursive"):
        return NotMovable(ecosystem, "`-r` installs every workspace package")
    for option in _NODE_PATH_OPTIONS:
        found = fact.option(option)
        if found is not None and _in_project(found.value, cwd):
            return NotMovable(ecosystem, f"`{option} {found.value}` reads or writes a path of the project")
    if files is None:
        return _without_context(ecosystem, fact, cwd, spec)
    package_path = copy.context_path(posixpath.join(cwd, "package.json"))
    if package_path is None:
        return NotMovable(ecosystem, f"{cwd}/package.json does not come from the copy")
    package = read_package_json(files, package_path)
    if isinstance(package, str):
        return NotMovable(ecosystem, package)
    problem = _node_package_problem(package, fact) or _npm_rewrites_lockfile(ecosystem, fact, package, package_path, files)
    gyp = default_gyp_build(package, files, package_path) if not (problem or fact.has("ignore-scripts")) else None
    if gyp:
        problem = f"the install runs `node-gyp rebuild` ({gyp}), which compiles the project's sources"
    if problem:
        return NotMovable(ecosystem, problem)
    reads = _project_reads(ecosystem, package, cwd, files, copy)
    if isinstance(reads, str):
        return NotMovable(ecosystem, reads)
    outputs = tuple(posixpath.join(cwd, name) for name in spec["outputs"])
    return Install(ecosystem, fact, reads[0], outputs, read_set=reads[1])


# options naming a file or folder an install reads or writes: npm's configuration files and
# cache, Yarn's cache and global folder, pnpm's lockfile folder, stores and pnpmfile ("npm help
# config", `yarn install --help`, pnpm's "Settings"). In the project, the copy brings or covers it.
_NODE_PATH_OPTIONS = (
    "--userconfig", "--globalconfig", "--cache", "--cache-folder", "--global-folder",
    "--lockfile-dir", "--store-dir", "--virtual-store-dir", "--pnpmfile",
)  # fmt: skip


def _in_project(value: str | None, cwd: str) -> bool:
    """A path of the project folder ``cwd``: relative, or absolute below it; not known (a
    variable) counts as in it."""
    if value is None or "$" in value or not value.startswith(("/", "~")):
        return True
    return posixpath.normpath(value) == cwd or posixpath.normpath(value).startswith(cwd.rstrip("/") + "/")


def _project_reads(
    ecosystem: str, package: PackageJson, cwd: str, files: BuildContext, copy: CopyMap
) -> tuple[tuple[str, ...], frozenset[str]] | str:
    """What an install of the project reads (package.json, the lockfile, each workspace
    member's package.json), as a tuple and a set, or why it cannot move: once per context,
    project and copy, shared by its installs (n installs of a project of m workspace members
    listed, checked and copied every member n times: n x m)."""
    key = ("node-install-reads", f"{ecosystem}\0{package.path}\0{cwd}\0{copy.source}\0{copy.dest}")
    return files.derived(key, lambda: _with_set(_list_project_reads(ecosystem, package, cwd, files, copy)))


def _with_set(reads: tuple[str, ...] | str) -> tuple[tuple[str, ...], frozenset[str]] | str:
    return reads if isinstance(reads, str) else (reads, frozenset(reads))


def _list_project_reads(ecosystem: str, package: PackageJson, cwd: str, files: BuildContext, copy: CopyMap) -> tuple[str, ...] | str:
    spec = _ecosystems()[ecosystem]
    reads = [posixpath.join(cwd, name) for name in spec["required"]]
    for name in (*spec.get("optional", ()), *spec.get("dirs", ())):
        context = copy.context_path(posixpath.join(cwd, name))
        if context is not None and files.exists(context):
            reads.append(posixpath.join(cwd, name))
    for name in spec.get("refuse_dirs", ()):
        context = copy.context_path(posixpath.join(cwd, name))
        if context is not None and files.exists(context):
            return f"{name} is in the build context (the install reads it)"
    problem = _rc_files_problem(spec, cwd, files, copy, reads)
    if problem:
        return problem
    workspace_reads = _workspace_manifests(ecosystem, package, cwd, files, copy)
    if isinstance(workspace_reads, str):
        return workspace_reads
    return tuple(dict.fromkeys([*reads, *workspace_reads]))


def _rc_files_problem(spec: dict, cwd: str, files: BuildContext, copy: CopyMap, reads: list[str]) -> str | None:
    """A setting of the project's .npmrc / .yarnrc / .yarnrc.yml that names a file the copy
    sends but the manifests' copy does not bring (``yarnPath: tools/yarn.cjs``): moved above
    the copy, the install would run without it (data ``rc_paths``)."""
    for name, keys in spec.get("rc_paths", {}).items():
        image = posixpath.join(cwd, name)
        context = copy.context_path(image)
        if image not in reads or context is None:
            continue
        settings = _rc_settings(name, files.read_text(context) or "")
        if isinstance(settings, str):
            return f"{name}: {settings}"
        for key in keys:
            for value in settings.get(key, ()):
                if "${" in value:
                    return f"{name} `{key}` is `{value}`, a value not known here"
                path = posixpath.normpath(posixpath.join(cwd, value))
                source = copy.context_path(path)
                brought = any(path == read or path.startswith(read + "/") for read in reads)
                if source is not None and files.exists(source) and not brought:
                    return f"{name} `{key}` reads {value}, which the copy of the manifests does not bring"
    return None


def _rc_settings(name: str, text: str) -> dict[str, list[str]] | str:
    """Each setting's values: .yarnrc.yml (YAML; a list, or `- path: x` items, gives several),
    .npmrc (``key=value``), .yarnrc (``key "value"``)."""
    if name.endswith(".yml"):
        data = read_simple_yaml(text)
        if isinstance(data, str):
            return data
        found = {key: [value] for key, value in data.items() if isinstance(value, str)}
        found["plugins"] = _yarn_plugin_paths(text)
        return found
    found = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        key, _, value = line.partition("=") if name == ".npmrc" else line.partition(" ")
        found.setdefault(key.strip(), []).append(value.strip().strip('"'))
    return found


def _yarn_plugin_paths(text: str) -> list[str]:
    """The ``path:`` of each item of .yarnrc.yml's top-level ``plugins:`` list, whichever key
    an item starts with (``- path: x`` or ``- spec: y`` then ``path: x``)."""
    paths: list[str] = []
    inside = False
    for line in text.splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            inside = line.split("#", 1)[0].rstrip() == "plugins:"
            continue
        key, _, value = line.strip().removeprefix("- ").partition(":")
        if inside and key.strip() == "path" and value.strip():
            paths.append(yaml_scalar(value.strip()))
    return paths


def _npm_rewrites_lockfile(ecosystem: str, fact: PackageFact, package: PackageJson, package_path: str, files: BuildContext) -> str | None:
    """``npm install`` rewrites a lockfile that ``npm ci`` would refuse (lockfileVersion 1, or
    out of step with package.json); moved above the copy, the broad copy would then put the
    old lockfile back over the one the install wrote."""
    if ecosystem != "npm" or fact.action != "install":
        return None
    lock_path = posixpath.join(posixpath.dirname(package_path), "package-lock.json")
    if not files.exists(lock_path):
        return None
    text = files.read_text(lock_path)
    problem = npm_lock_in_sync(package, text) if text is not None else "it cannot be read"
    if problem is None:
        return None
    return f"`npm install` rewrites {lock_path} ({problem}), which the copy would then replace; `npm ci` with an up-to-date lockfile can move"


def _without_context(ecosystem: str, fact: PackageFact, cwd: str, spec: dict) -> Install:
    """Without the context only what the command itself needs is known: package.json and, for
    a frozen install, the lockfile (the original build had them, or it failed)."""
    reads = [posixpath.join(cwd, name) for name in spec["required"]]
    if fact.action == "ci" and ecosystem == "npm":
        reads.append(posixpath.join(cwd, "package-lock.json"))
    elif fact.has("frozen-lockfile"):
        reads.append(posixpath.join(cwd, {"yarn": "yarn.lock", "pnpm": "pnpm-lock.yaml"}.get(ecosystem, "package-lock.json")))
    return Install(ecosystem, fact, tuple(reads), tuple(posixpath.join(cwd, name) for name in spec["outputs"]))


def _node_package_problem(package: PackageJson, fact: PackageFact) -> str | None:
    if package.shape_problem:
        return package.shape_problem
    scripts = package.install_scripts
    if scripts and not fact.has("ignore-scripts"):
        name, body = next(iter(scripts.items()))
        return f"{package.path} has a `{name}` script (`{body}`) that may read other files"
    local = package.local_dependencies
    if local:
        name, spec = next(iter(local.items()))
        if not spec.startswith("workspace:"):
            return f"{package.path} depends on `{name}` from a path (`{spec}`)"
    for where, name, spec in package.local_overrides[:1]:
        return f"{package.path} replaces `{name}` with a path of the project in `{where}` (`{spec}`)"
    patched = package.data.get("pnpm", {}).get("patchedDependencies") if isinstance(package.data.get("pnpm"), dict) else None
    if patched:
        return f"{package.path} patches dependencies with files under the project"
    return None


def _workspace_manifests(ecosystem: str, package: PackageJson, cwd: str, files: BuildContext, copy: CopyMap) -> tuple[str, ...] | str:
    """Image paths of every workspace package's package.json, or why they cannot be listed."""
    if package.workspaces_problem:
        return package.workspaces_problem
    patterns = list(package.workspaces)
    if ecosystem == "pnpm":
        workspace_file = copy.context_path(posixpath.join(cwd, "pnpm-workspace.yaml"))
        if workspace_file is not None and files.exists(workspace_file):
            listed = _pnpm_workspace_packages(files.read_text(workspace_file) or "")
            if listed is None:
                return "pnpm-workspace.yaml is not a plain list of package folders"
            patterns.extend(listed)
    if not patterns:
        return ()
    base = copy.context_path(cwd) or ""
    reads = []
    for pattern in patterns:
        if pattern.startswith("!"):
            return f"workspace pattern `{pattern}` excludes folders"
        joined = posixpath.normpath(posixpath.join(base or ".", pattern))
        if pattern.startswith("/") or joined == ".." or joined.startswith("../"):
            return f"workspace pattern `{pattern}` names folders outside the build context"
        for folder in files.glob(clean_path(posixpath.join(base, pattern))):
            manifest = posixpath.join(folder, "package.json")
            if not files.is_file(manifest):
                continue
            member = read_package_json(files, manifest)
            if isinstance(member, str):
                return member
            if member.install_scripts or default_gyp_build(member, files, manifest):
                return f"workspace {folder} has install scripts"
            image_path = copy.image_path(manifest)
            if image_path is None:
                return f"workspace {folder} is outside the copied folder"
            reads.append(image_path)
    return tuple(reads)


_YAML_ITEM = re.compile(r"""^\s*-\s*["']?([^"'#]+?)["']?\s*(#.*)?$""")


def _pnpm_workspace_packages(text: str) -> list[str] | None:
    """The ``packages:`` list of a pnpm-workspace.yaml written as a plain YAML list."""
    packages: list[str] = []
    inside = False
    for line in text.splitlines():
        stripped = line.split("#", 1)[0].rstrip()
        if not stripped:
            continue
        if not line[0].isspace():
            inside = stripped == "packages:"
            if stripped.startswith("packages:") and stripped != "packages:":
                return None  # flow style: [a, b]
            continue
        if inside:
            match = _YAML_ITEM.match(line)
            if match is None:
                return None
            packages.append(match.group(1).strip())
    return packages


# -- Python: pip -r -----------------------------------------------------------------------------


_INDEXES = ("-i", "--index-url", "--extra-index-url")  # a folder index is read like --find-links


def _pip_install(ecosystem: str, fact: PackageFact, cwd: str, files: BuildContext | None, copy: CopyMap):
    requirement_files = list(fact.option_values("-r", "--requirement")) + list(fact.option_values("-c", "--constraint"))
    if not requirement_files:
        return None  # named packages only: not a project install (shell/effects.py knows it)
    for option in ("-e", "--editable", "-t", "--target", "--prefix", "--root", "-f", "--find-links", "--src", "--report", "--log", *_INDEXES):
        found = fact.option(option)
        if found is None or (option == "--report" and found.value == "-"):  # `--report -`: stdout
            continue
        remote = option in ("-f", "--find-links", *_INDEXES) and not is_local_index(found.value or "")
        if not remote:
            return NotMovable(ecosystem, f"`{option} {found.value}` reads or writes a path of the project")
    for word in fact.packages:
        value = word.value
        if not word.static or value in (".", "..") or value.startswith(("./", "../", "/", "file:")) or "/" in value.split("@")[0]:
            return NotMovable(ecosystem, f"`{value}` is a local path")
    image_paths = [posixpath.normpath(posixpath.join(cwd, path)) for path in requirement_files]
    if files is None:
        return Install(ecosystem, fact, tuple(image_paths), ())
    context_paths = []
    for image_path in image_paths:
        context = copy.context_path(image_path)
        if context is None:
            return NotMovable(ecosystem, f"{image_path} does not come from the copy")
        context_paths.append(context)
    found = read_requirements(files, context_paths)
    if found.problems:
        return NotMovable(ecosystem, found.problems[0])
    if found.local:
        local = found.local[0]
        return NotMovable(ecosystem, f"{local.file}:{local.line} installs a local path (`{local.text}`)")
    local_links = [link for link in found.find_links if is_local_index(link)]
    if local_links:
        return NotMovable(ecosystem, f"`--find-links {local_links[0]}` reads a folder of the project")
    reads = [copy.image_path(path) for path in found.files]
    if any(path is None for path in reads):
        return NotMovable(ecosystem, "a requirements file includes a file outside the copied folder")
    return Install(ecosystem, fact, tuple(reads), ())


_NODE_AND_PIP = (_node_install, _pip_install)
_READERS = {
    "npm": _node_install,
    "yarn": _node_install,
    "pnpm": _node_install,
    "pip": _pip_install,
    "poetry": installs_python.poetry_install,
    "uv": installs_python.uv_sync,
    "pipenv": installs_python.pipenv_install,
    "go": installs_go.go_install,
    "bundler": installs_ruby_php.bundle_install,
    "composer": installs_ruby_php.composer_install,
    "maven": installs_jvm_rust.maven_build,
    "cargo": installs_jvm_rust.cargo_build,
}
