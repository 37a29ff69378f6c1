"""Node commands as facts: the programs a RUN, a CMD or a package.json script really runs.

npm, yarn and pnpm run a script through ``sh -c`` (npm and yarn 1 with its ``pre<name>`` and
``post<name>`` scripts around it), and ``npx``, ``npm exec``, ``pnpm exec`` or ``yarn <bin>``
run a program of ``node_modules/.bin``: one command line may stand for several programs. This
module expands a command into :class:`Invocation`s — program, arguments, folder — reading
script bodies with the same shell model as RUN lines, so the recipe decides the build's
outputs and the image's start from the programs that run, never from a script's name.
"""

from __future__ import annotations

import heapq
import posixpath
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from slimfile.analysis.build_context import BuildContext, ContextTooLarge
from slimfile.analysis.context import Context
from slimfile.analysis.globs import clean_path, folders_above
from slimfile.analysis.manifests import PackageJson
from slimfile.analysis.recipes.files import recipe_data
from slimfile.analysis.script_budget import ScriptBudget, too_many_commands
from slimfile.analysis.steps import CommandEnv, Step, expand
from slimfile.shell.analyze import analyze_run
from slimfile.shell.data import load
from slimfile.shell.effects import Effects, command_effects
from slimfile.shell.model import Command, ShellScript
from slimfile.syntax.errors import ParseError
from slimfile.syntax.gocompat import parse_words
from slimfile.syntax.parser import parse
from slimfile.textformats import MAX_SCRIPT_BYTES, TOO_DEEP, TOO_LARGE, json_loads

MAX_DEPTH = 8  # scripts calling scripts: deeper than this is refused (a loop, or too clever)
RUNNERS = frozenset({"npm", "yarn", "yarnpkg", "pnpm", "npx", "pnpx"})
# npm's own commands that run a script of package.json by that name
NPM_SCRIPT_COMMANDS = {"start": "start", "test": "test", "t": "test", "stop": "stop", "restart": "restart"}
NPX_OPTIONS_WITH_VALUE = frozenset({"-p", "--package", "-c", "--call", "--cache", "--userconfig", "-w", "--workspace"})


@dataclass(frozen=True)
class ContextCopy:
    """A COPY of the build context: ``source`` (a context path, "" the root) written at the
    image path ``dest``; ``is_dir`` when the source is a folder."""

    source: str
    dest: str
    is_dir: bool


@dataclass(frozen=True)
class ContextPaths:
    """Which context file an image path of the stage came from (the latest COPY wins)."""

    files: BuildContext
    copies: tuple[ContextCopy, ...]

    def context_path(self, image_path: str) -> str | None:
        """The source of the latest copy that put a file at ``image_path``: one that wrote
        that path, or a folder copied above it that holds the file. Only the copies indexed
        under the path and its folders are met, latest first: reading every copy of the stage
        per question was n x n (n/2 COPY lines, n/2 ``npm install``: ``fix --diff`` 7.9 s
        at 16,000 lines)."""
        image_path = posixpath.normpath(image_path)
        at, under = self._index
        lists = [at.get(image_path, []), *(under.get(folder, []) for folder in folders_above(image_path))]
        for number in heapq.merge(*(reversed(found) for found in lists if found), reverse=True):
            copy = self.copies[number]
            if image_path == copy.dest:
                return copy.source
            prefix = copy.dest.rstrip("/") + "/"
            candidate = clean_path(posixpath.join(copy.source, image_path[len(prefix) :]))
            if self.files.exists(candidate):
                return candidate
        return None

    @cached_property
    def _index(self) -> tuple[dict[str, list[int]], dict[str, list[int]]]:
        """The copies (by position) at the path they write, and the folder copies by the
        folder they copy into; of folder copies alike (``COPY . .`` again and again) only the
        latest, which answers whatever an earlier one would."""
        at: dict[str, list[int]] = {}
        under: dict[str, list[int]] = {}
        latest = {copy: number for number, copy in enumerate(self.copies)}
        for number, copy in enumerate(self.copies):
            at.setdefault(copy.dest, []).append(number)
            if copy.is_dir and latest[copy] == number:
                under.setdefault(copy.dest.rstrip("/") or "/", []).append(number)
        return at, under

    def read_text(self, image_path: str) -> str | None:
        path = self.context_path(image_path)
        return self.files.read_text(path) if path is not None else None

    def exists(self, image_path: str) -> bool:
        path = self.context_path(image_path)
        return path is not None and self.files.exists(path)


def context_paths(ctx: Context, steps: list[Step], files: BuildContext) -> ContextPaths | str:
    """The stage's copies of the build context, or why one of them cannot be read."""
    copies: list[ContextCopy] = []
    for step in steps:
        node = step.instruction
        if node.name not in ("COPY", "ADD") or node.flag("from") is not None:
            continue
        if node.heredocs or step.effects.unknown or len(step.effects.writes) != 1:
            return f"the destination of line {node.start_line} is not known"
        (destination,) = step.effects.writes
        words = list(node.json) if node.json is not None else parse_words(node.args_text, ctx.dockerfile.escape)
        sources = [expand(w.strip("\"'"), step.state.env) for w in words[:-1]]
        if any(s is None or "://" in s for s in sources):
            return f"line {node.start_line} copies from a variable or a URL"
        patterns = any(c in s for s in sources for c in "*?[")
        into_folder = len(sources) > 1 or patterns or words[-1].endswith("/") or words[-1] in (".", "./")
        try:
            matched = [path for source in sources for path in files.glob(source or ".")]
        except ContextTooLarge as exc:
            return str(exc)
        for cleaned in matched:
            if files.is_file(cleaned):
                target = posixpath.join(destination, posixpath.basename(cleaned)) if into_folder else destination
                copies.append(ContextCopy(cleaned, target, False))
            else:  # a folder: its contents go into the destination (a pattern's folders too)
                copies.append(ContextCopy(cleaned, destination, True))
    return ContextPaths(files, tuple(copies))


@dataclass(frozen=True)
class Project:
    """The Node project the stage installs: its folder in the image and its package.json."""

    root: str
    package: PackageJson
    manager: str  # npm, yarn, pnpm: the family of its install
    paths: ContextPaths
    bins: Mapping[str, str] = field(default_factory=dict)  # program -> package (npm lockfile)
    budget: ScriptBudget = field(default_factory=ScriptBudget, compare=False, repr=False)  # of its scripts' commands

    def path(self, relative: str, cwd: str | None = None) -> str:
        return posixpath.normpath(posixpath.join(cwd or self.root, relative))

    def package_of(self, program: str) -> str:
        """The package whose bin ``program`` is: the lockfile says, else the data, else its name."""
        return self.bins.get(program) or recipe_data("node")["bins"].get(program) or program

    def dependency_kind(self, package: str) -> str | None:
        """"prod", "dev" or None (not a dependency of package.json)."""
        if package in self.package.dependencies or package in self.package.optional_dependencies:
            return "prod"
        if package in self.package.dev_dependencies:
            return "dev"
        return None


def lockfile_bins(text: str | None) -> dict[str, str]:
    """program -> package, from an npm lockfile v2/v3 (``packages["node_modules/x"].bin``)."""
    if not text:
        return {}
    try:
        lock = json_loads(text)
    except ValueError:
        return {}
    packages = lock.get("packages") if isinstance(lock, dict) else None
    out: dict[str, str] = {}
    if not isinstance(packages, dict):
        return out
    for key, entry in packages.items():
        if not key.startswith("node_modules/") or "/node_modules/" in key or not isinstance(entry, dict):
            continue
        bins = entry.get("bin")
        if isinstance(bins, dict):
            for program in bins:
                out.setdefault(program, key[len("node_modules/") :])
    return out


@dataclass(frozen=True)
class Invocation:
    """One program run: ``program`` (a basename, or a path as written), its arguments."""

    program: str
    args: tuple[str, ...]
    cwd: str
    env: Mapping[str, str]
    where: str  # "line 7", "the `build` script"
    runner: str | None = None  # npm, yarn, pnpm, npx: what ran it (a script, a bin)
    effects: Effects | None = None  # what the shell model knows it does (cp, mkdir, rm)
    dynamic: bool = False  # a word holds an expansion slimfile does not know

    @property
    def text(self) -> str:
        return " ".join((self.program, *self.args))


@dataclass
class _Walk:
    project: Project
    seen: list[str]


def script_text_commands(text: str) -> ShellScript | str:
    """A package.json script read as the shell reads it (``sh -c``), or why it cannot be."""
    if "\n" in text or "\r" in text:
        return "it spans several lines"
    raw = text.encode("utf-8", "surrogateescape")
    if len(raw) > MAX_SCRIPT_BYTES:
        return TOO_LARGE
    try:
        dockerfile = parse(b"FROM scratch\nRUN " + raw + b"\n")
    except ParseError as exc:
        return str(exc)
    runs = [node for node in dockerfile.instructions if node.name == "RUN"]
    if len(runs) != 1:
        return "it is not one command line"
    try:
        script = analyze_run(dockerfile, runs[0])
    except RecursionError:  # package.json's, not the Dockerfile's: the script is unknown
        return TOO_DEEP
    return script if isinstance(script, ShellScript) else script.reason


def expand_run(project: Project, script: ShellScript, cwd: str | None, env: Mapping[str, str], home: str | None, where: str) -> list[Invocation] | str:
    """Every program a RUN (or a script body) runs, scripts and bins expanded."""
    project.budget.earn(len(script.commands))
    return _expand_script(_Walk(project, []), script, cwd, env, home, where, ())


def expand_words(project: Project, words: list[str], cwd: str, env: Mapping[str, str], where: str) -> list[Invocation] | str:
    """Every program an exec-form CMD/ENTRYPOINT runs."""
    project.budget.earn(1)
    return _expand_argv(_Walk(project, []), words, cwd, env, where, None, None, False)


def _expand_script(walk: _Walk, script: ShellScript, cwd: str | None, env: Mapping[str, str], home: str | None, where: str, extra: tuple[str, ...]) -> list[Invocation] | str:
    out: list[Invocation] = []
    each = command_effects(script, workdir=cwd, env=env, home=home)
    for item in each:
        command = item.command
        if command.name_index is None:
            continue  # a bare assignment
        words = [w.value for w in command.words[command.name_index :]]
        if item.cwd is None:
            if command.name in RUNNERS and any(w in ("-g", "--global", "global") for w in words):
                continue  # a global install: where it runs does not matter
            return f"{where}: `{_short(command)}` runs in a folder slimfile cannot tell"
        dynamic = any(not w.static for w in command.words[command.name_index :])
        words = words + list(extra) if command is script.commands[-1] else words
        local_env = _with_assignments(env, command)
        found = _expand_argv(walk, words, item.cwd, local_env, where, None, item.effects, dynamic)
        if isinstance(found, str):
            return found
        out.extend(found)
    return out


def _with_assignments(env: Mapping[str, str], command: Command) -> Mapping[str, str]:
    """The environment of one command: its own variables over ``env``, without a copy (a copy
    per command cost the size of the stage's ENV lines at every command, quadratic)."""
    assigned = {a.name: a.value.value for a in command.assignments if a.value is not None}
    return CommandEnv(env, assigned) if assigned else env


def _expand_argv(walk: _Walk, words: list[str], cwd: str, env: Mapping[str, str], where: str, runner: str | None, effects: Effects | None, dynamic: bool) -> list[Invocation] | str:
    if not words:
        return []
    program, args = words[0], words[1:]
    name = posixpath.basename(program)
    if "/node_modules/.bin/" in "/" + program.lstrip("./"):
        return [Invocation(name, tuple(args), cwd, env, where, "bin", None, dynamic)]
    if name in ("npx", "pnpx"):
        return _bin_call(walk, _after_npx_options(args), cwd, env, where, name, dynamic)
    if name in ("npm", "yarn", "yarnpkg", "pnpm"):
        return _runner_call(walk, name if name != "yarnpkg" else "yarn", args, cwd, env, where, dynamic)
    if name in ("sh", "bash", "dash") and len(args) >= 2 and args[0] == "-c":
        script = script_text_commands(args[1])
        if isinstance(script, str):
            return f"{where}: `{name} -c` runs a command line slimfile cannot read ({script})"
        if walk.seen and not walk.project.budget.spend(len(script.commands)):
            return too_many_commands(f"the `{walk.seen[-1]}` script")
        return _expand_script(walk, script, cwd, env, None, where, ())
    if name == "cross-env":
        rest = list(args)
        while rest and "=" in rest[0] and not rest[0].startswith("-"):
            key, _, value = rest.pop(0).partition("=")
            env = CommandEnv(env, {key: value})
        found = _expand_argv(walk, rest, cwd, env, where, runner, None, dynamic)
        return found if isinstance(found, str) else [Invocation(name, tuple(args), cwd, env, where, runner, None, dynamic), *found]
    return [Invocation(program, tuple(args), cwd, env, where, runner, effects, dynamic)]


def _after_npx_options(args: list[str]) -> list[str]:
    i = 0
    while i < len(args) and args[i].startswith("-"):
        if args[i] == "--":
            return args[i + 1 :]
        i += 2 if args[i] in NPX_OPTIONS_WITH_VALUE else 1
    return args[i:]


def _runner_call(walk: _Walk, runner: str, args: list[str], cwd: str, env: Mapping[str, str], where: str, dynamic: bool) -> list[Invocation] | str:
    """``npm run x -- a``, ``npm start``, ``yarn x``, ``pnpm exec tool``... -> what runs."""
    if not args or args[0].startswith("-"):
        return [Invocation(runner, tuple(args), cwd, env, where, None, None, dynamic)]  # an install, a version...
    first, rest = args[0], list(args[1:])
    if runner == "npm":
        if first in ("run", "run-script", "rum", "urn"):
            return _run_script(walk, runner, rest, cwd, env, where, dynamic)
        if first in NPM_SCRIPT_COMMANDS:
            return _run_script(walk, runner, [NPM_SCRIPT_COMMANDS[first], *rest], cwd, env, where, dynamic)
        if first in ("exec", "x"):
            return _bin_call(walk, _after_npx_options(rest), cwd, env, where, runner, dynamic)
        return [Invocation(runner, tuple(args), cwd, env, where, None, None, dynamic)]
    if first == "run":
        return _run_script(walk, runner, rest, cwd, env, where, dynamic, bins=True)
    if first in ("exec", "dlx"):
        return _bin_call(walk, _after_npx_options(rest), cwd, env, where, runner, dynamic)
    if first in walk.project.package.scripts:
        return _run_script(walk, runner, args, cwd, env, where, dynamic)
    if _own_subcommand(runner, args):
        return [Invocation(runner, tuple(args), cwd, env, where, None, None, dynamic)]
    return _bin_call(walk, args, cwd, env, where, runner, dynamic)  # `yarn tsc`: a bin


def _own_subcommand(runner: str, args: list[str]) -> bool:
    """`yarn add`, `pnpm store prune`: the package manager's own work, as
    data/package_managers.toml knows its subcommands (anything else runs a script or a bin)."""
    actions = _manager_actions(runner)
    two = " ".join(args[:2])
    action = actions.get(two) or actions.get(args[0])
    return action is not None and action != "run"


@lru_cache(maxsize=8)
def _manager_actions(runner: str) -> dict[str, str]:
    return dict(load("package_managers")["managers"][runner].get("actions", {}))


def _bin_call(walk: _Walk, args: list[str], cwd: str, env: Mapping[str, str], where: str, runner: str, dynamic: bool) -> list[Invocation] | str:
    if not args:
        return f"{where}: `{runner}` without a program"
    return [Invocation(posixpath.basename(args[0]), tuple(args[1:]), cwd, env, where, runner, None, dynamic)]


def _run_script(walk: _Walk, runner: str, args: list[str], cwd: str, env: Mapping[str, str], where: str, dynamic: bool, bins: bool = False) -> list[Invocation] | str:
    """A package.json script (with npm's and yarn 1's pre/post scripts), its extra arguments
    appended to its last command as npm does."""
    names = [a for a in args if not a.startswith("-")]
    if not names:
        return f"{where}: `{runner} run` without a script name"
    name = names[0]
    extra = tuple(args[args.index(name) + 1 :])
    if extra[:1] == ("--",):
        extra = extra[1:]
    project = walk.project
    scripts = project.package.scripts
    if cwd != project.root:
        return f"{where}: `{runner}` runs in {cwd}, not in the project folder {project.root}"
    if name not in scripts:
        if runner == "npm" and name == "start":
            return _body(walk, runner, "start", "node server.js", extra, cwd, env, where)
        if bins and runner != "npm":
            return _bin_call(walk, [name, *extra], cwd, env, where, runner, dynamic)
        return f"{where}: package.json has no `{name}` script"
    out: list[Invocation] = []
    order = [name]
    if runner in ("npm", "yarn"):
        order = [f"pre{name}", name, f"post{name}"]
    for each in order:
        if each not in scripts:
            continue
        found = _body(walk, runner, each, scripts[each], extra if each == name else (), cwd, env, where)
        if isinstance(found, str):
            return found
        out.extend(found)
    return out


def _body(walk: _Walk, runner: str, name: str, body: str, extra: tuple[str, ...], cwd: str, env: Mapping[str, str], where: str) -> list[Invocation] | str:
    if len(walk.seen) >= MAX_DEPTH or name in walk.seen:
        return f"the `{name}` script calls scripts too deep (or in a loop)"
    script = _parsed_body(walk.project.package, name, body)
    if isinstance(script, str):
        return f"the `{name}` script (`{_short_text(body)}`) cannot be read: {script}"
    if not walk.project.budget.spend(len(script.commands)):
        return too_many_commands(f"the `{name}` script")
    walk.seen.append(name)
    found = _expand_script(walk, script, cwd, env, None, f"the `{name}` script", extra)
    walk.seen.pop()
    if isinstance(found, list):
        found = [inv if inv.runner is not None else _with_runner(inv, runner) for inv in found]
    return found


def _parsed_body(package: PackageJson, name: str, body: str) -> ShellScript | str:
    """The script ``name`` as the shell reads it: parsed once per package.json (every round of
    ``fix`` expanded every ``npm run`` again), or, for npm's default ``start``, parsed here."""
    if package.scripts.get(name) == body:
        return package.read_script(name, script_text_commands)
    return script_text_commands(body)


def _with_runner(inv: Invocation, runner: str) -> Invocation:
    return Invocation(inv.program, inv.args, inv.cwd, inv.env, inv.where, runner, inv.effects, inv.dynamic)


def _short(command: Command) -> str:
    return _short_text(" ".join(w.value for w in command.words))


def _short_text(text: str) -> str:
    """At most 40 characters of ``text`` for a message (a script may be any length)."""
    return text if len(text) <= 40 else text[:37] + "..."


@lru_cache(maxsize=1)
def commands_data() -> dict:
    return recipe_data("node")["commands"]


def iter_runs(ctx: Context, steps: list[Step]) -> Iterator[tuple[Step, ShellScript]]:
    for step in steps:
        if step.instruction.name == "RUN":
            script = ctx.shell(step.instruction)
            if isinstance(script, ShellScript):
                yield step, script
