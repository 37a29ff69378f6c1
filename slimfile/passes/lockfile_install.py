"""Install from the lockfile: ``npm ci``, ``yarn install --frozen-lockfile``/``--immutable``,
``pnpm install --frozen-lockfile``.

Before::

    COPY package.json package-lock.json ./
    RUN npm install

After::

    COPY package.json package-lock.json ./
    RUN npm ci

``npm install`` may resolve newer versions than the lockfile's and rewrite it; ``npm ci``
installs exactly the lockfile, fails loudly when it is out of date, and is faster. The same
holds for Yarn and pnpm with their frozen options.

How it decides (facts, never text patterns): the install runs in a folder known from the
stage's WORKDIR and the RUN's ``cd``s; :mod:`slimfile.analysis.image_files` says which file of
the build context is at ``package.json`` and at each lockfile name *in the image* when the
install runs (``COPY package.json ./`` alone brings no lockfile); the lockfile is read and
compared with package.json (:mod:`slimfile.analysis.manifests`). A project without a lockfile
in the build context gets no finding (the frozen form would fail, LESSONS-FROM-PEERS failure
mode 7); with one, the finding is fixed only when everything the frozen form needs is known,
and otherwise says what is missing.
"""

from __future__ import annotations

import bisect
import posixpath
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple, TypeVar

from slimfile.analysis.build_context import BuildContext
from slimfile.analysis.context import Context
from slimfile.analysis.image_files import FromContext, Origin, Unknown, origins, tree_origin
from slimfile.analysis.manifests import (
    PackageJson,
    npm_lock_in_sync,
    pnpm_lock_in_sync,
    read_package_json,
    read_pnpm_lock,
    read_yarn_lock,
    yarn_lock_in_sync,
)
from slimfile.analysis.steps import Step, expand, stage_steps, step_index
from slimfile.diagnostics import Finding, Rule
from slimfile.passes.common import RunInfo, runs, saving, truthy
from slimfile.shell.data import load
from slimfile.shell.edit_helpers import EditRefused, insert_option
from slimfile.shell.effects import CommandEffects, command_effects, overlaps
from slimfile.shell.model import Command, ShellScript, Word
from slimfile.shell.packages import PackageFact, facts_by_command
from slimfile.syntax.edits import Edit, Fix, Safety
from slimfile.syntax.stages import Stage

LOCKFILE_INSTALL = Rule(
    code="SF702",
    name="lockfile-install",
    summary="A Node install ignores the project's lockfile, or may rewrite it",
    fix_title="Install from the lockfile",
    safety=Safety.SAFE,
    doc="""
## What it does
Finds `npm install`, `yarn install` (or plain `yarn`) and `pnpm install` of a project whose
lockfile is in the image when the install runs, and rewrites them to install from the
lockfile: `npm ci`, `yarn install --frozen-lockfile` (Yarn 1) or `--immutable` (Yarn 2+),
`pnpm install --frozen-lockfile`.

## Why is this bad?
`npm install` resolves package.json's ranges again: an image built today may get other
versions than the one built yesterday from the same commit, and the install may rewrite the
lockfile instead of failing when it is out of date. The frozen forms install exactly what
the lockfile says, fail when package.json and the lockfile disagree, and `npm ci` is faster.

## Example
```dockerfile
FROM node:20-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --omit=dev
COPY . .
```

## Use instead
```dockerfile
FROM node:20-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev
COPY . .
```

## Fix safety
Safe. The build context is read (`--context`, default: the Dockerfile's folder) and the fix
is offered only when the lockfile is *in the image* at the install (a `COPY package.json ./`
alone brings none), was read, and agrees with package.json: npm's root entry lists the same
dependency ranges (lockfileVersion 2 and 3; a version 1 lockfile is not checked), every
dependency has its entry in yarn.lock, pnpm's root project lists the same specifiers.
Options keep their meaning (`--omit=dev`, `--production`, `--legacy-peer-deps` and
`--ignore-scripts` are kept). No fix (the finding says why) when an option or setting makes
the install ignore or rewrite the lockfile (`--no-package-lock`, `--save`, `--before`,
`package-lock=false` in `.npmrc` or `NPM_CONFIG_PACKAGE_LOCK`, `--no-lockfile`,
`--fix-lockfile`), when a `node_modules` is already there (`npm ci` deletes it first), for
workspaces, for npm 6 images (node 14 and older) with a lockfileVersion 3 lockfile, and for
Yarn 2+ and pnpm unless the version that runs is pinned (Yarn's `yarnPath`, a
`packageManager` field with `corepack enable`, `npm install -g pnpm@9.1.0`) and wrote that
lockfile format. Without the build context nothing is reported: whether a lockfile exists
is not known. A project without a lockfile gets no finding.
""",
)

RULES = (LOCKFILE_INSTALL,)

_NPM_INSTALL_WORDS = frozenset({"install", "i", "in", "isntall", "add"})
_SEMVER_MAJOR = re.compile(r"^v?(\d+)")


@lru_cache(maxsize=1)
def _frozen() -> dict:
    return load("dependency_installs")["frozen"]


def check(ctx: Context) -> Iterator[Finding]:
    if not ctx.settings.selects(LOCKFILE_INSTALL.code):
        return
    files = ctx.build_files
    if files is None:
        return  # whether the project has a lockfile is not known: nothing to say
    for info in runs(ctx, include_onbuild=False):
        facts = [fact for fact in info.script.packages if _tool(fact) is not None]
        if not facts or info.stage is None:
            continue
        step = _step_of(ctx, info.stage, info)
        if step is None:
            continue
        state = step.state
        each = command_effects(info.script, workdir=state.workdir, env=state.env, home=state.home)
        for fact in facts:
            finding = _check_install(ctx, files, info, step, each, fact)
            if finding is not None:
                yield finding


def _tool(fact: PackageFact) -> str | None:
    """``npm``/``yarn``/``pnpm`` for a plain project install that is not frozen yet."""
    if fact.action != "install" or fact.packages or fact.has("global"):
        return None
    words = [w.value for w in fact.subcommand]
    if fact.manager == "npm" and fact.tool == "npm" and len(words) == 1 and words[0] in _NPM_INSTALL_WORDS:
        return "npm"
    if fact.manager == "yarn" and words in ([], ["install"]) and not fact.has("frozen-lockfile"):
        return "yarn"
    if fact.manager == "pnpm" and words in (["install"], ["i"]) and not fact.has("frozen-lockfile"):
        return "pnpm"
    return None


def _step_of(ctx: Context, stage: Stage, info: RunInfo) -> Step | None:
    index = step_index(ctx, stage).get(id(info.instruction))
    return None if index is None else stage_steps(ctx, stage)[index]


# -- one install ----------------------------------------------------------------------------------


@dataclass
class _Install:
    """What is known about one install, gathered once."""

    ctx: Context
    files: BuildContext
    info: RunInfo
    step: Step
    fact: PackageFact
    tool: str
    cwd: str
    found: dict[str, Origin]
    package: PackageJson
    lockfile: str  # the lockfile beside package.json in the build context

    def image(self, name: str) -> str:
        return posixpath.join(self.cwd, name)

    def origin(self, name: str) -> Origin:
        return self.found[self.image(name)]

    def text(self, name: str) -> str | None:
        origin = self.origin(name)
        return self.files.read_text(origin.context_path) if isinstance(origin, FromContext) else None


def _check_install(ctx, files, info, step, each, fact) -> Finding | None:
    tool = _tool(fact)
    assert tool is not None
    command = each[fact.command]
    if command.cwd is None:
        return None
    if tool == "pnpm" and truthy(step.state.env.get("CI")):
        return None  # pnpm installs frozen by default when CI is set
    spec = _frozen()[tool]
    names = ["package.json", *spec["lockfiles"], ".npmrc", ".yarnrc.yml"]
    found = origins(ctx, info.stage, info.instruction, [posixpath.join(command.cwd, n) for n in names])
    _apply_earlier_commands(found, each[: fact.command])
    package_origin = found[posixpath.join(command.cwd, "package.json")]
    if not isinstance(package_origin, FromContext):
        return None
    package = read_package_json(files, package_origin.context_path)
    if isinstance(package, str):
        return None
    project = posixpath.dirname(package_origin.context_path)
    lockfile = next((n for n in spec["lockfiles"] if files.is_file(posixpath.join(project, n) if project else n)), None)
    if lockfile is None:
        return None  # no lockfile in the project: the frozen form would fail
    install = _Install(ctx, files, info, step, fact, tool, command.cwd, found, package, lockfile)
    checks = {"npm": _npm_problem, "yarn": _yarn_problem, "pnpm": _pnpm_problem}[tool]
    problem = _option_problem(fact, spec) or checks(install)
    if problem:
        return _finding(install, None, problem)
    return _finding(install, _fix(install), None)


def _apply_earlier_commands(found: dict[str, Origin], earlier: list[CommandEffects]) -> None:
    """Commands before the install in its own RUN may write the manifests too: the last one
    that writes a path, or whose effects are unknown, decides what the install finds there.
    Walked backwards, each path is decided by the first such command met, and the walk ends at
    one with unknown effects (a project install is one: in a RUN of many installs each install
    looks back to the one before it, not at every earlier command)."""
    undecided = list(found)
    for item in reversed(earlier):
        if item.effects.unknown:
            shown = " ".join(item.command.argv)[:30]
            for path in undecided:
                found[path] = Unknown(f"`{shown}` runs before it ({item.effects.unknown})")
            return
        written = [path for path in undecided if overlaps(item.effects.writes, [path])]
        if written:
            shown = " ".join(item.command.argv)[:30]
            for path in written:
                found[path] = Unknown(f"`{shown}` writes {path} before it")
            undecided = [path for path in undecided if path not in written]
            if not undecided:
                return


def _option_problem(fact: PackageFact, spec: dict) -> str | None:
    refused = spec.get("refuse", {})
    for option in fact.options:
        for key in (option.name, f"{option.name}={option.value}"):
            if key in refused:
                return refused[key]
    return None


_Parsed = TypeVar("_Parsed")


def _parsed(install: _Install, read: Callable[[str], _Parsed], text: str) -> _Parsed:
    """``read(text)``, once per fix: one lockfile is read by every install of the file."""
    return install.ctx.fix_memo((read, text), lambda: read(text))


def _lock_problem(install: _Install, names: list[str]) -> tuple[str, str] | str:
    """(name, text) of the lockfile the tool will read in the image, or why there is none."""
    for name in names:
        origin = install.origin(name)
        if isinstance(origin, Unknown):
            return f"cannot tell what {install.image(name)} holds: {origin.reason}"
        if isinstance(origin, FromContext):
            text = install.files.read_text(origin.context_path)
            if text is None:
                return f"{origin.context_path} cannot be read"
            return name, text
    return f"{install.lockfile} is in the build context but not in the image when the install runs (copy it with package.json)"


def _config_problem(install: _Install, keys: list[str]) -> str | None:
    """A setting in the project's .npmrc or an NPM_CONFIG_* variable that the frozen form
    would not honour the same way."""
    npmrc = install.origin(".npmrc")
    if isinstance(npmrc, Unknown):
        return f"cannot tell what {install.image('.npmrc')} holds: {npmrc.reason}"
    text = install.text(".npmrc") or ""
    for line in text.splitlines():
        key = line.split("=", 1)[0].strip().lower()
        if key in keys:
            return f".npmrc sets `{line.strip()}`"
    env = install.step.state.env
    for key in keys:
        for name in (f"NPM_CONFIG_{key.upper().replace('-', '_')}", f"npm_config_{key.replace('-', '_')}"):
            if name in env:
                return f"ENV {name} is set"
    return None


# -- npm -----------------------------------------------------------------------------------------


def _npm_problem(install: _Install) -> str | None:
    lock = _lock_problem(install, _frozen()["npm"]["lockfiles"])
    if isinstance(lock, str):
        return lock
    name, text = lock
    if install.package.declares_workspaces:
        return "package.json has workspaces, whose entries `npm ci` also checks"
    problem = _config_problem(install, _frozen()["npm"]["refuse_settings"])
    if problem:
        return problem
    in_sync = npm_lock_in_sync(install.package, text)
    if in_sync:
        return f"{name}: {in_sync}"
    modules = tree_origin(install.ctx, install.info.stage, install.info.instruction, install.image("node_modules"))
    if isinstance(modules, Unknown):
        return f"cannot tell whether node_modules is there ({modules.reason}); `npm ci` deletes it first"
    if isinstance(modules, FromContext):
        return f"line {modules.line} puts files in node_modules, which `npm ci` deletes first"
    return _npm_version_problem(install, text)


def _npm_version_problem(install: _Install, lock_text: str) -> str | None:
    """npm 6 (node 14 and older) cannot read a lockfileVersion 3 lockfile."""
    if '"lockfileVersion": 3' not in lock_text:
        return None
    major = _node_major(install.info.stage)
    if major is not None and major < 15:
        return f"lockfileVersion 3 needs npm 7 or newer; node {major} images ship npm 6"
    return None


def _node_major(stage: Stage) -> int | None:
    root = stage
    while root.base_stage is not None:
        root = root.base_stage
    image = root.image
    if image is None or image.repository.split("/")[-1] != "node" or not image.tag:
        return None
    match = _SEMVER_MAJOR.match(image.tag)
    return int(match.group(1)) if match else None


# -- yarn ----------------------------------------------------------------------------------------


def _yarn_problem(install: _Install) -> str | None:
    lock = _lock_problem(install, ["yarn.lock"])
    if isinstance(lock, str):
        return lock
    parsed = _parsed(install, read_yarn_lock, lock[1])
    if install.package.declares_workspaces:
        return "package.json has workspaces, whose entries slimfile does not check"
    in_sync = yarn_lock_in_sync(install.package, parsed)
    if in_sync:
        return in_sync
    yarnrc = install.origin(".yarnrc.yml")
    if isinstance(yarnrc, Unknown):
        return f"cannot tell what {install.image('.yarnrc.yml')} holds: {yarnrc.reason}"
    declared = _declared_major(install.package, "yarn")
    if not parsed.berry:
        if isinstance(yarnrc, FromContext) or (declared is not None and declared >= 2):
            return "yarn.lock is a Yarn 1 lockfile but the project configures Yarn 2+"
        return None
    if install.package.data.get("resolutions"):
        return "package.json has `resolutions`, which slimfile does not check against yarn.lock"
    return _berry_pinned(install, yarnrc, declared)


def _berry_pinned(install: _Install, yarnrc: Origin, declared: int | None) -> str | None:
    """Yarn 2+ rewrites a lockfile written by another release: the release must be pinned."""
    if isinstance(yarnrc, FromContext):
        match = re.search(r"^yarnPath:\s*[\"']?([^\"'\s#]+)", install.text(".yarnrc.yml") or "", re.MULTILINE)
        if match:
            release = posixpath.normpath(posixpath.join(install.cwd, match.group(1)))
            origin = origins(install.ctx, install.info.stage, install.info.instruction, [release])[release]
            if isinstance(origin, FromContext):
                return None
            return f".yarnrc.yml's yarnPath {match.group(1)} is not in the image when the install runs"
    if declared is not None and declared >= 2 and _corepack_enabled(install):
        return None
    return "which Yarn 2+ release runs is not pinned (yarnPath, or packageManager with `corepack enable`)"


# -- pnpm ----------------------------------------------------------------------------------------


def _pnpm_problem(install: _Install) -> str | None:
    lock = _lock_problem(install, ["pnpm-lock.yaml"])
    if isinstance(lock, str):
        return lock
    parsed = _parsed(install, read_pnpm_lock, lock[1])
    if isinstance(parsed, str):
        return parsed
    project = posixpath.dirname(install.origin("package.json").context_path)  # type: ignore[union-attr]
    if install.package.declares_workspaces or install.files.exists(posixpath.join(project, "pnpm-workspace.yaml")):
        return "the project is a pnpm workspace, whose packages slimfile does not check"
    in_sync = pnpm_lock_in_sync(install.package, parsed)
    if in_sync:
        return in_sync
    major = _pnpm_major(install)
    if major is None:
        return "which pnpm release runs is not pinned (`npm install -g pnpm@9.1.0`, or packageManager with `corepack enable`)"
    spec = _frozen()["pnpm"]
    if parsed.version not in spec["lockfile_versions"].get(str(major), ()):
        return f"pnpm {major} does not write lockfileVersion {parsed.version}"
    defaults = spec["default_settings"].get(str(major), {})
    for key, value in parsed.settings.items():
        if key in defaults and str(value).lower() != defaults[key]:
            return f"pnpm-lock.yaml records the setting {key}: {value}, which slimfile does not check against the configuration"
    return _config_problem(install, spec["recorded_settings"])


def _pnpm_major(install: _Install) -> int | None:
    pinned = _installed_version(install, "pnpm")
    if pinned is None and _corepack_enabled(install):
        declared = _declared_major(install.package, "pnpm")
        return declared
    if pinned is None:
        return None
    match = _SEMVER_MAJOR.match(pinned)
    return int(match.group(1)) if match else None


# -- which release runs ---------------------------------------------------------------------------


def _declared_major(package: PackageJson, tool: str) -> int | None:
    """The major version of ``packageManager: "yarn@4.1.0"`` when it names ``tool``."""
    declared = package.package_manager or ""
    name, _, version = declared.partition("@")
    if name != tool:
        return None
    match = _SEMVER_MAJOR.match(version)
    return int(match.group(1)) if match else None


def _corepack_enabled(install: _Install) -> bool:
    stage = install.info.stage
    return stage is not None and _releases(install.ctx).corepack_enabled(stage, _position(install, stage))


def _installed_version(install: _Install, tool: str) -> str | None:
    """The version in ``npm install -g pnpm@9.1.0`` / ``corepack prepare pnpm@9.1.0
    --activate`` run before the install (the last one wins), or None."""
    stage = install.info.stage
    return None if stage is None else _releases(install.ctx).pinned(stage, _position(install, stage), tool)


_Position = tuple[int, int]  # (step of the stage, command of its RUN)
_EVERYWHERE: _Position = (1 << 62, 0)  # after every command of a stage


def _position(install: _Install, stage: Stage) -> _Position:
    """Where the install runs in its stage; after everything when it is not one of the stage's
    steps (as the walk that this replaced read such an install)."""
    at = step_index(install.ctx, stage).get(id(install.info.instruction))
    return _EVERYWHERE if at is None else (at, install.fact.command)


def command_releases(script: ShellScript, command: Command, env: Mapping[str, str]) -> tuple[bool, list[tuple[str, str]]]:
    """Whether the command is ``corepack enable``, and the (tool, version) it pins:
    ``npm install -g pnpm@9.1.0`` or ``corepack prepare pnpm@9.1.0 --activate`` ("latest"
    without a version); ``env``, the variables of its step, expands the words."""
    fact = facts_by_command(script).get(command.index)
    first = command.arg_words[0].value if command.arg_words else None
    words: list[Word] = []
    if fact is not None and fact.manager == "npm" and fact.action == "install" and fact.has("global"):
        words = list(fact.packages)
    elif command.name == "corepack" and first in ("prepare", "install", "use"):
        words = list(command.arg_words[1:])
    pins = []
    for word in words:
        value = word.value if word.static else expand(word.raw.strip('"'), env)
        if value is not None:
            name, _, version = value.partition("@")
            pins.append((name, version or "latest"))
    return command.name == "corepack" and first == "enable", pins


def _releases(ctx: Context) -> _Releases:
    return ctx.memo("lockfile-install.releases", lambda: _Releases(ctx))


class _StageReleases(NamedTuple):
    pins: dict[str, list[tuple[_Position, str]]]  # tool -> (where, version), in order
    enables: list[_Position]  # each `corepack enable`, in order


class _Releases:
    """Which release of a tool the commands before an install pinned, and whether one ran
    ``corepack enable``: the pins and enables of each stage by position, and of each stage's
    whole FROM chain once. Asking by a walk over every earlier command of the chain, per
    install, was n x n (n/2 installs, each after a COPY of its manifests: 4,000 lines, 2.5 s)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._own: dict[int, _StageReleases] = {}
        self._chains: dict[tuple[int, str | None], Any] = {}  # (stage, tool or None for corepack)

    def pinned(self, stage: Stage, at: _Position, tool: str) -> str | None:
        pins = self._stage(stage).pins.get(tool, [])
        i = bisect.bisect_left(pins, at, key=lambda pin: pin[0]) - 1
        if i >= 0:
            return pins[i][1]
        return self._whole_chain(stage.base_stage, tool, lambda own: own.pins[tool][-1][1] if tool in own.pins else None)

    def corepack_enabled(self, stage: Stage, at: _Position) -> bool:
        enables = self._stage(stage).enables
        if enables and enables[0] < at:
            return True
        return self._whole_chain(stage.base_stage, None, lambda own: True if own.enables else None) is not None

    def _whole_chain(self, stage: Stage | None, key: str | None, own_answer: Callable[[_StageReleases], Any]) -> Any:
        """The answer of the nearest stage that has one, over the whole of ``stage`` and the
        stages it is built FROM. Each stage's is kept: a chain is walked once per key, not
        once per install of every stage built on it."""
        lineage: list[Stage] = []
        seen: set[int] = set()
        while stage is not None and (stage.index, key) not in self._chains and stage.index not in seen:
            seen.add(stage.index)
            lineage.append(stage)
            stage = stage.base_stage
        found = self._chains.get((stage.index, key)) if stage is not None else None
        for member in reversed(lineage):
            answer = own_answer(self._stage(member))
            found = found if answer is None else answer
            self._chains[(member.index, key)] = found
        return found

    def _stage(self, stage: Stage) -> _StageReleases:
        if stage.index not in self._own:
            self._own[stage.index] = self._scan(stage)
        return self._own[stage.index]

    def _scan(self, stage: Stage) -> _StageReleases:
        pins: dict[str, list[tuple[_Position, str]]] = {}
        enables: list[_Position] = []
        for position, step in enumerate(stage_steps(self.ctx, stage)):
            if step.instruction.name != "RUN":
                continue
            script = self.ctx.shell(step.instruction)
            if not isinstance(script, ShellScript):
                continue
            for number, command in enumerate(script.commands):
                enabled, pinned = command_releases(script, command, step.state.env)
                if enabled:
                    enables.append((position, number))
                for name, version in pinned:
                    pins.setdefault(name, []).append(((position, number), version))
        return _StageReleases(pins, enables)


# -- the finding and the fix ----------------------------------------------------------------------


def _finding(install: _Install, fix: Fix | None, problem: str | None) -> Finding:
    fact = install.fact
    written = " ".join([fact.tool, *(w.value for w in fact.subcommand)])
    message = (
        f"`{written}` may resolve other versions than {install.lockfile} and rewrite it; "
        f"`{_frozen_form(install)}` installs exactly the lockfile"
    )
    if problem:
        message += f"; not fixed: {problem}"
    command = install.info.script.commands[fact.command]
    end = fact.subcommand[-1].end if fact.subcommand else command.words[command.name_index].end
    return Finding(LOCKFILE_INSTALL, message, command.start, end, fix, saving("lockfile-install"))


def _fix(install: _Install) -> Fix | None:
    fact = install.fact
    info = install.info
    ctx = install.ctx
    try:
        if install.tool == "npm":
            word = fact.subcommand[0]
            edit = Edit(word.start, word.end, b"ci")
        else:
            option = _frozen()["pnpm"]["option"] if install.tool == "pnpm" else _yarn_option(install)
            command = info.script.commands[fact.command]
            anchor = fact.subcommand[-1] if fact.subcommand else command.words[command.name_index]
            edit = insert_option(ctx.dockerfile, info.script, anchor, option)
    except EditRefused:
        return None
    return Fix((edit,), Safety.SAFE, LOCKFILE_INSTALL.fix_title)


def _frozen_form(install: _Install) -> str:
    if install.tool == "npm":
        return "npm ci"
    if install.tool == "pnpm":
        return "pnpm install " + _frozen()["pnpm"]["option"]
    return "yarn install " + _yarn_option(install)


def _yarn_option(install: _Install) -> str:
    """Yarn 2+ (a ``__metadata`` entry in yarn.lock) takes ``--immutable``, Yarn 1 ``--frozen-lockfile``."""
    project = posixpath.dirname(install.origin("package.json").context_path)  # type: ignore[union-attr]
    lock = install.text("yarn.lock") or install.files.read_text(posixpath.join(project, "yarn.lock")) or ""
    spec = _frozen()["yarn"]
    return spec["berry_option"] if _parsed(install, read_yarn_lock, lock).berry else spec["classic_option"]
