"""Copy dependency manifests first, and move steps that do not use the sources above them.

Before::

    FROM node:18
    WORKDIR /app
    COPY . .
    RUN npm ci
    RUN apt-get update && apt-get install -y --no-install-recommends git
    RUN npm run build

After::

    FROM node:18
    WORKDIR /app
    COPY package.json package-lock.json ./
    RUN npm ci
    RUN apt-get update && apt-get install -y --no-install-recommends git
    COPY . .
    RUN npm run build

The build cache reuses a step only while everything before it is unchanged, and a copy of the
sources changes with every edit. Anything after ``COPY . .`` re-runs on every rebuild: the
dependency install, the system packages. Moved above it, they stay cached.

How it decides (facts, never text patterns): for the first *broad copy* of a stage (a copy
of a folder of the build context; a folder an install reads whole, ``COPY .mvn .mvn``, is a
copy of manifests, not of the sources), each later step is tried in order. An install whose
dependencies-only form already runs above the copy (``mvn dependency:go-offline``, ``go mod
download``) is left alone. A step moves when it
commutes — neither writes what the other reads or writes (``slimfile/analysis/steps.py``) —
with the copy and with every step that stays between them. A dependency install moves with
a new ``COPY`` of exactly the files it reads (``slimfile/analysis/installs.py``), placed
right before it; an install that ends a RUN's ``&&`` chain splits that RUN (``RUN npm ci &&
npm run build``: the install goes up, the build stays). The moved steps keep their order
and their comments; ENV and ARG lines move only when a moved step reads them.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial

from slimfile.analysis.build_context import BuildContext, ContextTooLarge
from slimfile.analysis.context import Context
from slimfile.analysis.copies import broad_copy
from slimfile.analysis.globs import clean_path
from slimfile.analysis.installs import (
    CopyMap,
    Install,
    NotMovable,
    dependency_install,
    ecosystem_of,
    is_install_input_folder,
    prepares,
)
from slimfile.analysis.steps import (
    PassedSteps,
    ScriptEnv,
    Step,
    StepEffects,
    commute,
    expand,
    run_step_effects,
    stage_steps,
)
from slimfile.diagnostics import Finding, Rule
from slimfile.passes.common import saving
from slimfile.restructure.moves import (
    ItemIndex,
    block_text,
    copy_arguments,
    copy_cannot_name,
    insertion_point,
    instruction_line,
    removal,
)
from slimfile.shell.edit_helpers import EditRefused, remove_leading_commands
from slimfile.shell.effects import Effects, EnvReads, PathTrie, command_effects, env_always, env_overlap
from slimfile.shell.model import Operator, ShellScript
from slimfile.shell.packages import PackageFact, facts_by_command
from slimfile.syntax.edits import Edit, Fix, Safety
from slimfile.syntax.nodes import Instruction
from slimfile.syntax.stages import Stage
from slimfile.textformats import visible

COPY_MANIFESTS_FIRST = Rule(
    code="SF701",
    name="copy-manifests-first",
    summary="A dependency install after a copy of the sources re-runs on every source change",
    fix_title="Copy the dependency manifests first and install before the sources",
    safety=Safety.SAFE,
    doc="""
## What it does
Finds a dependency install (`npm ci`, `npm install`, `yarn install`, `pnpm install`,
`pip install -r FILE`, `poetry install`, `uv sync`, `pipenv install`, `go mod download`,
`bundle install`, `composer install`, and the builds that download as they go: `go build`,
`go install ./...`, `go test`, `mvn package`) that runs after a copy
of a whole folder of the build context (`COPY . .`, `COPY . /app`, `ADD . .`,
`COPY src/ /app/`), and rewrites the stage so that a `COPY` of exactly the files the install
reads comes first, then the install, then the copy of everything else. Steps between that do
not use the sources move up with it. An install that also installs the project itself
(`poetry install` of a package, `uv sync` of a package), compiles it (`go build`,
`mvn package`) or runs its scripts (`composer install`) keeps its place after the copy, and
its dependencies-only form (`poetry install --no-root`, `uv sync --no-install-project`,
`go mod download`, `mvn dependency:go-offline` with the same options, `composer install
--no-scripts --no-autoloader`) runs above it: after an edit of the sources only the project
itself is installed or compiled again.

## Why is this bad?
Docker reuses a cached step only while every step before it is unchanged. A copy of the
sources changes with every edit, so an install after it downloads and builds every
dependency again on every rebuild, even when no dependency changed.

## Example
```dockerfile
FROM node:18
WORKDIR /app
COPY . .
RUN npm ci && npm run build
```

## Use instead
```dockerfile
FROM node:18
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build
```

## Fix safety
Safe when the build context was read (`--context`, default: the Dockerfile's folder) and
every file the install reads is known: `package.json`, the lockfile, `.npmrc`, Yarn's
`.yarnrc.yml` and `.yarn/releases`, pnpm's workspace file, every workspace's `package.json`,
for pip the requirements files with their nested `-r`/`-c` includes, for poetry
`pyproject.toml`, `poetry.lock` and `poetry.toml`, for uv `pyproject.toml`, `uv.lock`,
`.python-version` and `uv.toml`, for pipenv `Pipfile`, `Pipfile.lock` and `.env`, for Go
`go.mod` and `go.sum` (found in the build's folder or above it), for Bundler the `Gemfile`,
`Gemfile.lock`, `.bundle/config` and the files the Gemfile names (`ruby file:
".ruby-version"`), for Composer `composer.json`, `composer.lock` and `auth.json`, for Maven
`pom.xml`, `.mvn/`, the wrapper `mvnw` and a `-s` settings file. No fix is
offered (the finding says why) when the install may read other files: a `preinstall`,
`install`, `postinstall` or `prepare` script in `package.json` (or npm's default one, `node-gyp
rebuild`, when a `binding.gyp` lies beside it or it says `"gypfile": true`), a dependency on a local path
(`file:../lib` or `../lib` in package.json, or an `overrides` / `resolutions` /
`pnpm.overrides` entry that names one, a Yarn `patch:` file outside `.yarn/patches`, a
setting of `.npmrc`, `.yarnrc` or `.yarnrc.yml` that names a file of the project the copy of the
manifests does not bring (`yarnPath: tools/yarn.cjs`, `cafile`, `pnpmfile`), an option that
names a path of the project (`--userconfig ./ci.npmrc`, `--cache .npm`, pip's `--report out.json`), `-e .`,
`./libs/x`, `{ path = "libs/x" }` or `{ file = "wheels/x.whl" }` in pyproject.toml or the Pipfile,
`[tool.uv.sources]` paths, a `replace` of a Go module by a folder, `path:` gems, a Gemfile `git:` or
`source` that is a folder, Composer `path` repositories or a vcs/package repository read from
a folder, a Composer `cafile` of the project), a `gemspec` or Ruby code in the Gemfile that reads files, Composer
plugins (they run during the install), a Maven multi-module project or a parent POM in the
project, an offline build (`mvn -o`; the options of `.mvn/maven.config` and MAVEN_ARGS count as the
command's, and the settings files they name are copied), a `--find-links` folder or an index that is a folder
(`--index-url file:///app/simple`, in a requirements file too, uv's `find-links` or
`[[tool.uv.index]]`, a Pipfile `[[source]]`), a variable (an ENV line, `export` or `A=b cmd` in the RUN, unless an `unset` in the RUN removed it) that names a file or
folder the install reads (`PIP_CONSTRAINT`, `PIP_FIND_LINKS` or `PIP_INDEX_URL` to a folder,
npm's `userconfig`, `YARN_RC_FILENAME`, uv's `UV_PROJECT`, `UV_CONFIG_FILE` or an index folder,
`PIPENV_PIPFILE`, `BUNDLE_GEMFILE`, `COMPOSER`, Go's `GOWORK`, `GOENV`, a `GOFLAGS` with
`-modfile` or not known, a `GOPROXY` with a `file://` folder the copy brings), configuration,
a cache or a mirror the install reads that the broad copy brings from the build context
(`COMPOSER_HOME`, `POETRY_CONFIG_DIR` or `XDG_CONFIG_HOME` in the project, `ENV HOME=/app`
with a `.config/pip` in the context, `npm_config_cache`, `YARN_CACHE_FOLDER` or `GOMODCACHE`
in the project, `.npmrc`'s `cache` or pnpm's `store-dir`, Yarn 1's `yarn-offline-mirror` or
`cache-folder`, Bundler's `vendor/cache` or `BUNDLE_CACHE_PATH`), a local package source, a uv workspace or a `go.work`, `[project] dynamic` metadata (uv
builds the project to read it), a Go `vendor/` folder or `-mod=vendor` (nothing is
downloaded: nothing to gain), `go mod tidy` or `go get` (they read every source file), a
manifest field that says which files are read but cannot be read itself (a `workspaces` that
is not a list of folder patterns or names folders outside the build context, a package.json
`scripts` or dependency list that is not an object of strings, Composer
`repositories` that are neither a list nor an object, a requirements include above the build
context or at an absolute path), a manifest that `.dockerignore` excludes or that the copy does not bring, or whose path holds `*`, `?`, `[`, `\\`
or a line break (COPY reads the first four as a pattern); when the context sends what the
install writes (`node_modules`, a `.venv`: the copy would land on top of the fresh install);
or when the install or a step it must pass reads or writes something only known at build
time (the home of a non-root `USER` when no `ENV HOME`, `useradd`/`adduser` of the Dockerfile
or the official image's own user, like `node`, tells it; Debian's `adduser --system` does not). Without the build context the fix copies only
the files the command itself needs and is unsafe.

A cargo build is reported and never moved: cargo loads the crate's targets (`src/main.rs`,
`src/lib.rs`, every `[[bin]]` path) before it fetches anything, so `cargo fetch` needs the
sources. Creating an empty `src/main.rs` to fetch and deleting it afterwards guesses at the
crate's targets instead of reading them; cargo-chef (`cargo chef prepare` in one stage,
`cargo chef cook` before the copy in the next) is the tool for it.
""",
)

STABLE_STEPS_FIRST = Rule(
    code="SF703",
    name="stable-steps-first",
    summary="Steps that do not use the sources run after a copy of them, so they re-run on every change",
    fix_title="Move the steps above the copy of the sources",
    safety=Safety.SAFE,
    doc="""
## What it does
Finds steps after a copy of a whole folder of the build context (`COPY . .`) that neither
read nor write anything that copy brings — system package installs, users and groups,
downloads into system paths, `mkdir` outside the copied folder — and moves them above it,
with the ENV and ARG lines they read.

## Why is this bad?
A copy of the sources changes with every edit, and every step after it re-runs. A step
that does not use the sources gains nothing from running after them; above the copy it
stays cached.

## Example
```dockerfile
FROM python:3.11-slim
WORKDIR /app
COPY . .
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 \\
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home app
CMD ["python", "app.py"]
```

## Use instead
```dockerfile
FROM python:3.11-slim
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 \\
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home app
COPY . .
CMD ["python", "app.py"]
```

## Fix safety
Safe. A step moves only when what it reads and writes is known for every command it runs
(`data/command_effects.toml` describes each program; a program not described there, a path
built from an unknown variable, `$(...)` or a `cd` into an unknown place keeps the step
where it is) and is disjoint from what the copy and every step it passes write; the moved
steps keep their order, their user, shell and working directory. A step that writes under
the copy's destination (`chown -R app /app`, `mkdir -p /app/logs`) or runs something the
copy brought stays.
""",
)

RULES = (COPY_MANIFESTS_FIRST, STABLE_STEPS_FIRST)

_CACHE_SAVING = "cache-order"


@dataclass
class Move:
    """A step that goes above the copy: whole, or the first ``split`` commands of a RUN."""

    step: Step
    effects: StepEffects
    installs: list[Install] = field(default_factory=list)
    split: int | None = None
    # a new RUN goes above the copy (the first ``split`` commands, then this command) and the
    # original RUN stays: e.g. ``poetry install --no-root`` before, the full install after
    prepare: str | None = None

    @property
    def leaves_something(self) -> bool:
        return self.split is not None or self.prepare is not None


@dataclass
class Plan:
    copy: Step
    copy_map: CopyMap
    moves: list[Move]
    refused_installs: list[tuple[Step, str]]  # installs that stay, and why
    unsafe_because: str | None  # why the fix is unsafe (no context, unknown outputs)


def check(ctx: Context) -> Iterator[Finding]:
    split_installs = ctx.settings.selects(COPY_MANIFESTS_FIRST.code)
    move_steps = ctx.settings.selects(STABLE_STEPS_FIRST.code)
    if not (split_installs or move_steps):
        return
    for stage in ctx.stages.stages:
        plan = stage_plan(ctx, stage, split_installs=split_installs, move_steps=move_steps)
        if plan is None:
            continue
        yield from _findings(ctx, plan)
        if plan.unsafe_because and move_steps:
            yield from _safe_moves_alone(ctx, stage, plan)


def _safe_moves_alone(ctx: Context, stage: Stage, unsafe: Plan) -> Iterator[Finding]:
    """The stable-step moves of an unsafe plan, as a safe fix of their own: with safe fixes
    only, they still apply (and no merge glues a stable step to the install below the copy);
    with unsafe fixes, the next round splits the install."""
    if not any(not m.installs and m.step.instruction.name == "RUN" for m in unsafe.moves):
        return
    plan = stage_plan(ctx, stage, split_installs=False, move_steps=True)
    if plan is None or plan.unsafe_because or not plan.moves:
        return
    for finding in _findings(ctx, plan):
        if finding.rule is STABLE_STEPS_FIRST:
            yield finding


# -- the plan -----------------------------------------------------------------------------------


def stage_plan(ctx: Context, stage: Stage, *, split_installs: bool = True, move_steps: bool = True) -> Plan | None:
    """The reorder of one stage around its first broad copy, or None when there is none. A
    copy of a folder an install reads whole (``COPY .mvn .mvn``) is a manifest copy: skipped."""
    steps = stage_steps(ctx, stage)
    for index, step in enumerate(steps):
        copy_map = broad_copy(ctx, step)
        if copy_map is None or is_install_input_folder(copy_map):
            continue
        planner = _Planner(ctx, step, copy_map, steps[index + 1 :], split_installs, move_steps, steps[:index])
        return planner.plan()
    return None


class _Planner:
    def __init__(self, ctx: Context, copy: Step, copy_map: CopyMap, later: list[Step], split_installs: bool, move_steps: bool, earlier: list[Step] = ()):
        self.ctx = ctx
        self.earlier = earlier  # the steps above the copy (where a dependencies-only form may already run)
        self.copy = copy
        self.copy_map = copy_map
        self.later = later
        self.split_installs = split_installs
        self.move_steps = move_steps
        self.files: BuildContext | None = ctx.build_files
        self.unsafe: str | None = None
        # an install's files (by identity, see _files_key) -> (that install, why it cannot move)
        # and -> (that install, its effects): each install of a project that has m workspace
        # members reads m manifests, and n installs checked every one again
        self._problems: dict[tuple[object, ...], tuple[Install, str | None]] = {}
        self._effects: dict[tuple[object, ...], tuple[Install, Effects]] = {}
        self._prepared: dict[str, set[str]] = {}  # ecosystem -> folders prepared above the copy
        # id of a RUN step (of self.later, alive as long as this) -> its move and the refusals
        # it gave, from the plan's first walk (see _run_move_once)
        self._run_moves: dict[int, tuple[Move | None, tuple[tuple[Step, str], ...]]] = {}

    def plan(self) -> Plan | None:
        moves, refused = self._pass(env_names=None)
        if any(m.step.instruction.name in ("ENV", "ARG") for m in moves):
            moves, refused = self._pass(env_names=EnvReads(_env_needed(moves)))
        if not any(m.step.instruction.name == "RUN" for m in moves) and not refused:
            return None
        return Plan(self.copy, self.copy_map, moves, refused, self.unsafe)

    def _pass(self, env_names: EnvReads | None) -> tuple[list[Move], list[tuple[Step, str]]]:
        """One greedy walk: a step moves when it can pass the copy and every step that stays.
        ``env_names``: the variables moved RUNs read (ENV/ARG lines move only for them);
        None on the first walk, which finds those RUNs. A second walk runs only when the first
        moved an ENV or ARG line: else it would decide every step as the first did (each RUN
        meets the same steps staying above it, and an ENV that stayed stays)."""
        moves: list[Move] = []
        refused: list[tuple[Step, str]] = []
        staying = PassedSteps()
        for step in self.later:
            move = self._candidate(step, env_names, refused)
            if move is not None:
                blocker = staying.first_blocker(move.effects)
                if blocker is None:
                    moves.append(move)
                    if not move.leaves_something:
                        continue  # moved whole: nothing of it stays
                elif move.installs:
                    clash = commute(move.effects, blocker.effects)
                    refused.append((step, f"it would have to move past `{_short(blocker.instruction)}` (line {blocker.instruction.start_line}): {clash}"))
            staying.add(step)
        return moves, refused

    def _candidate(self, step: Step, env_names: EnvReads | None, refused: list[tuple[Step, str]]) -> Move | None:
        name = step.instruction.name
        if name in ("ENV", "ARG"):
            if env_names is not None and not env_overlap(env_names, step.effects.env_writes):
                return None
            return Move(step, step.effects) if commute(step.effects, self.copy.effects) is None else None
        if name != "RUN":
            return None
        script = self.ctx.shell(step.instruction)
        if not isinstance(script, ShellScript):
            return None
        return self._run_move_once(step, script, refused)

    def _run_move_once(self, step: Step, script: ShellScript, refused: list[tuple[Step, str]]) -> Move | None:
        """:meth:`_run_move`, worked out on the plan's first walk and given again on the second:
        a RUN's move does not depend on the variables the walks move (each install of a stage of
        n RUNs was read twice)."""
        known = self._run_moves.get(id(step))
        if known is None:
            found: list[tuple[Step, str]] = []
            known = self._run_moves[id(step)] = (self._run_move(step, script, found), tuple(found))
        refused.extend(known[1])
        return known[0]

    def _run_move(self, step: Step, script: ShellScript, refused: list[tuple[Step, str]]) -> Move | None:
        if step.effects.unknown is None and self.move_steps:
            if commute(step.effects, self.copy.effects) is None:
                return Move(step, step.effects)  # a stable step: it does not use the sources at all
        if not self.split_installs:
            return None
        state = step.state
        each = command_effects(script, workdir=state.workdir, env=state.env, home=state.home)
        facts = facts_by_command(script)
        moved = Effects(env=env_always())
        installs: list[Install] = []
        count = 0
        stop: str | None = None
        script_env = ScriptEnv(state.env)  # `export A=b &&`, `A=b cmd`: what each command sees
        for item in each:
            fact = facts.get(item.command.index)
            env = script_env.at(item.command)
            if fact is not None and self._prepared_above(fact, item.cwd):
                break  # its dependencies-only form runs above the copy: the fix was made (however its manifests came)
            found = dependency_install(item, fact, self.files, self.copy_map, state.home, env) if fact is not None else None
            if isinstance(found, NotMovable):
                stop = found.reason
                break
            if isinstance(found, Install):
                if found.prepare is not None and any(prepares(i.fact, found.ecosystem) for i in installs):
                    break  # its dependencies-only form runs before it, earlier in this RUN
                problem = self._install_problem(found)
                if problem:
                    stop = problem
                    break
                installs.append(found)
                moved = moved | self._install_effects(found, item.cwd_is_workdir)
                if found.prepare is not None:
                    if self.files is None:
                        self.unsafe = self.ctx.context_unread
                    return Move(step, run_step_effects(moved), installs, split=count, prepare=found.prepare)
            else:
                blocked = item.effects.unknown or commute(run_step_effects(item.effects), self.copy.effects)
                if blocked:
                    if not installs and _install_follows(script, facts, item.command.index):
                        stop = f"`{_command_text(item.command)}` runs before it and {blocked}"
                    break
                moved = moved | item.effects
            count += 1
        if stop is not None:
            refused.append((step, stop))
            return None
        if not installs:
            return None
        if self.files is None:
            self.unsafe = self.ctx.context_unread
        effects = run_step_effects(moved)
        if count == len(script.commands):
            return Move(step, effects, installs)
        reason = _split_problem(script, count)
        if reason:
            refused.append((step, f"the install cannot be split from the rest of its RUN ({reason})"))
            return None
        return Move(step, effects, installs, split=count)

    def _prepared_above(self, fact: PackageFact, cwd: str | None) -> bool:
        """``fact`` is a project install (not itself a dependencies-only form) and a RUN above
        the copy already runs that form in the same folder (``poetry install --no-root``, ``go
        mod download``, ``mvn dependency:go-offline``): the fix was made."""
        ecosystem = ecosystem_of(fact)
        if ecosystem is None or cwd is None or prepares(fact, ecosystem):
            return False  # an unknown folder is not the same folder as another unknown one
        if ecosystem not in self._prepared:  # once per ecosystem, not once per install
            self._prepared[ecosystem] = self._prepared_folders(ecosystem)
        return cwd in self._prepared[ecosystem]

    def _prepared_folders(self, ecosystem: str) -> set[str]:
        """The folders where a RUN above the copy runs ``ecosystem``'s dependencies-only form."""
        folders: set[str] = set()
        for step in self.earlier:
            if step.instruction.name != "RUN":
                continue
            script = self.ctx.shell(step.instruction)
            if not isinstance(script, ShellScript):
                continue
            found = [each for each in script.packages if prepares(each, ecosystem)]
            if found:
                effects = command_effects(script, workdir=step.state.workdir, env=step.state.env, home=step.state.home)
                folders.update(cwd for each in found if (cwd := effects[each.command].cwd) is not None)
        return folders

    def _install_effects(self, install: Install, cwd_is_workdir: bool) -> Effects:
        """What the install reads and writes, once per set of files (the installs of one
        project share their reads: a set of m workspace manifests made again per install)."""
        key = (*_files_key(install), cwd_is_workdir)
        if key not in self._effects:
            self._effects[key] = (install, _effects_of_install(install, cwd_is_workdir))
        return self._effects[key][1]

    def _install_problem(self, install: Install) -> str | None:
        """Why the install cannot go above the copy even with its manifests copied first (once
        per set of files read and written: the answer, and ``unsafe``, do not change)."""
        key = _files_key(install)
        if key not in self._problems:
            self._problems[key] = (install, self._find_install_problem(install))
        return self._problems[key][1]

    def _find_install_problem(self, install: Install) -> str | None:
        for path in install.reads:
            source = self.copy_map.context_path(path)
            if source is None:
                return f"{path} does not come from the copy"
            unnameable = copy_cannot_name(source)
            if unnameable:
                return f"{visible(source)}: {unnameable}"
            if self.files is not None and not self.files.exists(source):
                if self.files.on_disk(source):
                    return f"{source} is excluded by .dockerignore"
                return f"{source} is not in the build context"
        for output in install.outputs:
            sent = self._sends_under(output)
            if sent is None:
                self.unsafe = self.unsafe or f"cannot tell whether the build context sends {output}"
            elif sent:
                name = posixpath.basename(output)
                return f"the build context sends `{sent}`: the copy would land on the installed {name} (add it to .dockerignore)"
        return None

    def _sends_under(self, image_path: str) -> str | None | bool:
        """A context path the copy sends under ``image_path``, False when none, None when unknown."""
        if self.files is None:
            return None
        source = self.copy_map.context_path(image_path)
        if source is None:
            return False
        if not self.files.on_disk(source):
            return False
        if self.files.exists(source):
            return source
        try:
            listing = self.files.listing()
        except ContextTooLarge:
            return None
        prefix = source + "/"
        return next((p for p in [*listing.files, *listing.dirs] if p.startswith(prefix)), False)


def _files_key(install: Install) -> tuple[object, ...]:
    """The install's paths and names, its reads by identity. The installs of one project
    share one tuple of reads (installs._project_reads); a key of that tuple itself hashed its
    m paths at each of n installs (a tuple does not keep its hash): n x m, in C. The other
    tuples are a few names each. The memos keep the install, so no id is reused while they
    hold it."""
    return (id(install.reads), install.outputs, install.uses, install.writes, install.env)


def _effects_of_install(install: Install, cwd_is_workdir: bool) -> Effects:
    return Effects(
        frozenset(install.reads) | frozenset(install.uses),
        frozenset(install.outputs) | frozenset(install.writes),
        env_always() | frozenset(install.env),
        cwd=cwd_is_workdir,
    )


def _install_follows(script: ShellScript, facts: dict, index: int) -> bool:
    """A dependency install comes later in the script."""
    return any(ecosystem_of(fact) is not None for position, fact in facts.items() if position > index)


def _command_text(command) -> str:
    text = " ".join(command.argv) or "the command"
    return text if len(text) <= 30 else text[:27] + "..."


def _split_problem(script: ShellScript, count: int) -> str | None:
    """Why the first ``count`` commands cannot become a RUN of their own."""
    first_rest = script.commands[count]
    if script.origin != "run" or len(script.texts) > 1:
        return "it is a heredoc script"
    for command in script.commands[: count + 1]:
        if command.scopes:
            return "a command sits inside a compound command or a pipeline"
    if first_rest.before is None or first_rest.before.operator is not Operator.AND:
        return "it is not joined to the rest by `&&`"
    if script.state_changes and any(change.command is not None and change.command < count for change in script.state_changes):
        return "it changes shell state (cd, export, set) the rest may rely on"
    return None


def _env_needed(moves: list[Move]) -> set[str]:
    names: set[str] = set()
    for move in moves:
        if move.step.instruction.name == "RUN":
            names |= move.effects.env_reads
    return names


# -- findings and the fix -----------------------------------------------------------------------


def _findings(ctx: Context, plan: Plan) -> Iterator[Finding]:
    fix = _fix(ctx, plan) if plan.moves else None
    installs = [move for move in plan.moves if move.installs]
    copy_line = plan.copy.instruction.start_line
    copy_text = _short(plan.copy.instruction)
    if installs:
        first = installs[0]
        yield _finding(ctx, COPY_MANIFESTS_FIRST, first.step.instruction, _install_message(ctx, plan, copy_text, copy_line), fix)
        fix = None
    elif fix is not None:
        runs = [m for m in plan.moves if m.step.instruction.name == "RUN"]
        lines = _list([str(m.step.instruction.start_line) for m in runs])
        if len(runs) == 1:
            message = f"the step on line {lines} does not use what `{copy_text}` (line {copy_line}) copies: move it above to keep it cached"
        else:
            message = f"{len(runs)} steps (lines {lines}) do not use what `{copy_text}` (line {copy_line}) copies: move them above to keep them cached"
        yield _finding(ctx, STABLE_STEPS_FIRST, runs[0].step.instruction, message, fix)
    for step, reason in plan.refused_installs:
        message = f"{_install_in(ctx, step)} re-runs on every change to the sources copied by `{copy_text}` (line {copy_line}); not moved: {reason}"
        yield _finding(ctx, COPY_MANIFESTS_FIRST, step.instruction, message, None)


def _install_message(ctx: Context, plan: Plan, copy_text: str, copy_line: int) -> str:
    names = []
    same = _SameReads()
    listed: set[int] = set()  # installs of the same files list them once
    for move in plan.moves:
        for install in move.installs:
            key = same.key(install.reads)
            if key not in listed:
                listed.add(key)
                names.extend(_source_of(plan, path) for path in install.reads)
    tools = list(dict.fromkeys(_install_name(install) for move in plan.moves for install in move.installs))
    others = [m for m in plan.moves if not m.installs and m.step.instruction.name == "RUN"]
    message = (
        f"{_list(tools)} re-run{'s' if len(tools) == 1 else ''} on every change to the sources copied by `{copy_text}` "
        f"(line {copy_line}): copy {_list(names)} first and install before the sources"
    )
    if others:
        message += f"; {_count(len(others), 'step')} that do{'es' if len(others) == 1 else ''} not use the sources move{'s' if len(others) == 1 else ''} up too"
    if plan.unsafe_because:
        message += f" (unsafe: {plan.unsafe_because})"
    return message


def _install_in(ctx: Context, step: Step) -> str:
    """The first dependency install of a RUN, named as written (`npm ci`), for messages."""
    script = ctx.shell(step.instruction)
    for fact in script.packages:
        named = fact.packages and not fact.option("-r", "--requirement", "-c", "--constraint")
        if ecosystem_of(fact) is not None and not named:  # `pip install poetry` only sets the tool up
            return "`" + " ".join([fact.tool, *(w.value for w in fact.subcommand)]) + "`"
    return "the install"


def _install_name(install: Install) -> str:
    words = [install.fact.tool, *(w.value for w in install.fact.subcommand)]
    return "`" + " ".join(words) + "`"


def _finding(ctx: Context, rule: Rule, node: Instruction, message: str, fix: Fix | None) -> Finding:
    start, end = node.keyword_source_span()
    return Finding(rule, message, start, end, fix, saving(_CACHE_SAVING))


def _fix(ctx: Context, plan: Plan) -> Fix | None:
    dockerfile = ctx.dockerfile
    index: ItemIndex = ctx.memo("restructure.items", lambda: ItemIndex(dockerfile))
    target = index.block(plan.copy.instruction)
    pieces: list[bytes] = []
    edits: list[Edit] = []
    added: list[str] = []
    splits = 0
    copied = _CopiedManifests()
    for move in plan.moves:
        node = move.step.instruction
        if move.installs:
            lines = copied.lines_for(move, partial(_manifest_copy, ctx, plan, move))
            pieces.extend(lines)
            added.extend(line.decode("utf-8", "surrogateescape").strip() for line in lines)
        copied.after(move)
        if move.prepare is not None:
            pieces.append(_prepared(ctx, move))
            added.append("RUN")
            splits += 1
        elif move.split is None:
            block = index.block(node)
            pieces.append(block_text(dockerfile, block))
            edits.append(removal(dockerfile, block))
        else:
            try:
                text, removals = _split(ctx, move)
            except EditRefused:
                return None
            pieces.append(text)
            edits.extend(removals)
            added.append("RUN")
            splits += 1
    # the moved steps take the place of the copy's paragraph: a blank line keeps them apart
    group = b"".join(pieces) + (dockerfile.newline if target.blank_before else b"")
    edits.append(Edit.insert(insertion_point(target), group))
    safety = Safety.UNSAFE if plan.unsafe_because else Safety.SAFE
    title = COPY_MANIFESTS_FIRST.fix_title if any(m.installs for m in plan.moves) else STABLE_STEPS_FIRST.fix_title
    try:
        claims = tuple((m.step.instruction.start, m.step.instruction.end) for m in plan.moves)
        claims += ((plan.copy.instruction.start, plan.copy.instruction.end),)
        return Fix(tuple(edits), safety, title, frozenset({"reorder"}), runs_removed=-splits, adds=tuple(added), claims=claims)
    except ValueError:
        return None  # edits that would overlap: leave this plan for a later round


class _CopiedManifests:
    """The manifest COPY lines already placed above the copy: a second install of the same
    project (``RUN npm ci`` twice) needs no second copy of the same files, unless a step moved
    in between wrote into them (then every line is copied again). An install that reads the
    very files of one already copied adds nothing, and is not looked at again (n installs of
    a project of m workspace members made n x m lines, then dropped all but m)."""

    def __init__(self) -> None:
        self.lines: set[bytes] = set()
        self.paths = PathTrie()
        self.reads: set[tuple[int, ...]] = set()  # the moves' reads in self.paths (see _reads_of)
        self._same = _SameReads()

    def lines_for(self, move: Move, make: Callable[[], list[bytes]]) -> list[bytes]:
        """The manifest COPY lines ``move`` needs (``make()``) that are not placed yet."""
        if self._reads_of(move) in self.reads:
            return []
        fresh = [line for line in make() if line not in self.lines]
        self.lines.update(fresh)
        return fresh

    def after(self, move: Move) -> None:
        """``move`` runs once its lines are placed: what it writes may change the copied files."""
        reads = self._reads_of(move)
        if reads not in self.reads:
            self.reads.add(reads)
            for install in move.installs:
                for path in install.reads:
                    self.paths.add(path)
        if any(self.paths.overlaps(path) for path in move.effects.writes) or move.effects.unknown:
            self.lines.clear()
            self.paths = PathTrie()
            self.reads.clear()

    def _reads_of(self, move: Move) -> tuple[int, ...]:
        return tuple(self._same.key(install.reads) for install in move.installs)


class _SameReads:
    """Installs' reads told apart by value, each tuple hashed once. The installs of one
    project share one tuple of m paths (installs._project_reads), and a set of those tuples
    hashed all m paths at each of n installs (a tuple does not keep its hash): n x m, in C."""

    def __init__(self) -> None:
        self._by_id: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] = {}  # id -> (tuple, its equal first seen)
        self._by_value: dict[tuple[str, ...], tuple[str, ...]] = {}

    def key(self, reads: tuple[str, ...]) -> int:
        """The same number for equal tuples (the id of the first one seen, kept alive here)."""
        found = self._by_id.get(id(reads))
        if found is None or found[0] is not reads:
            found = self._by_id[id(reads)] = (reads, self._by_value.setdefault(reads, reads))
        return id(found[1])


def _manifest_copy(ctx: Context, plan: Plan, move: Move) -> list[bytes]:
    """``COPY <the files the install reads> <where they go>``, with the copy's own flags, one
    line per destination folder (a folder source gets a line of its own)."""
    copy = plan.copy.instruction
    flags = " ".join(ctx.dockerfile.text(f.start, f.end) for f in copy.flags)
    lines: list[bytes] = []
    groups: dict[str, list[str]] = {}
    files = ctx.build_files
    for install in move.installs:
        for path in install.reads:
            source = _source_of(plan, path)
            if files is not None and files.is_dir(source):
                lines.append(_copy_line(ctx, copy, flags, [source], _destination_text(plan, path)))
            else:
                groups.setdefault(posixpath.dirname(path), []).append(source)
    grouped = [_copy_line(ctx, copy, flags, sources, _destination_text(plan, folder)) for folder, sources in groups.items()]
    return grouped + lines


def _copy_line(ctx: Context, copy: Instruction, flags: str, sources: list[str], destination: str) -> bytes:
    arguments = copy_arguments(ctx.dockerfile, [*dict.fromkeys(sources), destination])
    return instruction_line(ctx.dockerfile, copy, "COPY", f"{flags} {arguments}" if flags else arguments)


def _source_of(plan: Plan, image_path: str) -> str:
    source = plan.copy_map.context_path(image_path)
    assert source is not None  # checked when the install was accepted
    return source


def _destination_text(plan: Plan, image_folder: str) -> str:
    """Where a manifest goes, written like the copy's own destination (relative stays relative)."""
    written = _last_word(plan.copy.instruction)
    inside = posixpath.relpath(image_folder, plan.copy_map.dest)
    if written.startswith("/") or written.startswith("$"):
        return image_folder.rstrip("/") + "/"
    base = written.rstrip("/") or "."
    joined = base if inside == "." else posixpath.join(base, inside)
    if joined == ".":
        return "./"
    return joined + "/"


def _last_word(node: Instruction) -> str:
    if node.json is not None:
        return node.json[-1]
    return node.args_text.split()[-1].strip("\"'")


def _split(ctx: Context, move: Move) -> tuple[bytes, tuple[Edit, ...]]:
    """A new RUN with the first commands of ``move``'s RUN, and the edits that take them out."""
    node = move.step.instruction
    script = ctx.shell(node)
    assert isinstance(script, ShellScript) and move.split is not None
    removals = remove_leading_commands(ctx.dockerfile, script, move.split)
    first, last = script.commands[0], script.commands[move.split - 1]
    body = ctx.dockerfile.text(first.start, last.end)
    flags = " ".join(ctx.dockerfile.text(f.start, f.end) for f in node.flags)
    return instruction_line(ctx.dockerfile, node, "RUN", f"{flags} {body}" if flags else body), removals


def _prepared(ctx: Context, move: Move) -> bytes:
    """A new RUN: the commands before the install in its RUN, then the install's
    dependencies-only form."""
    node = move.step.instruction
    script = ctx.shell(node)
    assert isinstance(script, ShellScript) and move.prepare is not None
    body = move.prepare
    if move.split:
        first, last = script.commands[0], script.commands[move.split - 1]
        body = ctx.dockerfile.text(first.start, last.end) + " && " + body
    flags = " ".join(ctx.dockerfile.text(f.start, f.end) for f in node.flags)
    return instruction_line(ctx.dockerfile, node, "RUN", f"{flags} {body}" if flags else body)


def _short(node: Instruction) -> str:
    text = " ".join(node.logical.decode(node.keyword_start).split())
    return text if len(text) <= 40 else text[:37] + "..."


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


# a message names at most this many files or lines, then says how many more (a workspace of
# 500 members made a message of 500 manifests)
LISTED = 6


def _list(names: list[str]) -> str:
    names = list(dict.fromkeys(names))
    if len(names) == 1:
        return names[0]
    if len(names) > LISTED:
        return ", ".join(names[:LISTED]) + f" and {len(names) - LISTED} more"
    return ", ".join(names[:-1]) + " and " + names[-1]
