"""What a Node image starts, and what the start needs from the release.

The CMD/ENTRYPOINT is expanded like any command (``npm start`` is package.json's start
script, with prestart and poststart): every program it runs must be there in the release.
``node FILE`` needs FILE (the recipe checks that the release copies it); a program of
node_modules/.bin needs its package among the production dependencies (the release's
node_modules is pruned); npm, npx and node come with the release base. A development server
or a TypeScript runner (``vite``, ``next dev``, ``nodemon``, ``ts-node``, ``node --watch``)
needs the sources and the devDependencies: no release is offered for it. A start that only
runs ``serve`` on a folder the build wrote is a static site (recipes/node_static.py).
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from slimfile.analysis.context import Context
from slimfile.analysis.recipes.files import recipe_data
from slimfile.analysis.recipes.node_build import operands
from slimfile.analysis.recipes.node_commands import (
    RUNNERS,
    Invocation,
    Project,
    commands_data,
    expand_run,
    expand_words,
    script_text_commands,
)
from slimfile.analysis.steps import Step
from slimfile.restructure.stages import shell_words_if_plain

RUN_ANYWHERE = frozenset({"echo", "true", "exec"})


@dataclass
class Start:
    """What the start needs: files ``node`` runs, the runners it goes through, and the
    ``serve`` invocation when it only serves a folder."""

    invocations: list[Invocation]
    node_files: list[tuple[str, str]] = field(default_factory=list)  # (image path, as written)
    runners: set[str] = field(default_factory=set)
    serve: Invocation | None = None
    serve_problem: str | None = None  # why a node release could not run serve (nginx can)


def start_of(ctx: Context, project: Project, steps: list[Step]) -> Start | str:
    """What the image starts, or why the release could not run it."""
    words = _start_words(steps)
    if isinstance(words, str):
        return words
    argv, step, shell_text = words
    cwd = step.state.workdir
    if cwd is None:
        return "the image starts in a folder slimfile cannot tell"
    if shell_text is not None:
        script = script_text_commands(shell_text)
        if isinstance(script, str):
            return f"the start command cannot be read: {script}"
        found = expand_run(project, script, cwd, step.state.env, None, f"line {step.instruction.start_line}")
    else:
        found = expand_words(project, argv, cwd, step.state.env, f"line {step.instruction.start_line}")
    if isinstance(found, str):
        return found
    start = Start(found)
    for inv in found:
        problem = _check(project, inv, start)
        if problem:
            return problem
    if start.serve is not None and len(found) > 1:
        start.serve = None  # serve among other programs: not only a static site
    return start


def _start_words(steps: list[Step]) -> tuple[list[str], Step, str | None] | str:
    """(exec-form words, the instruction's step, the shell-form text when it needs a shell)."""
    entrypoint = next((s for s in reversed(steps) if s.instruction.name == "ENTRYPOINT"), None)
    cmd = next((s for s in reversed(steps) if s.instruction.name == "CMD"), None)
    first = entrypoint or cmd
    if first is None:
        return "the stage has no CMD or ENTRYPOINT: what the image runs is not known"
    node = first.instruction
    if node.json is None:
        words = shell_words_if_plain(node.args_text)
        return (words, first, None) if words is not None else ([], first, node.args_text)
    argv = list(node.json)
    if entrypoint is not None and cmd is not None and cmd.instruction.json is not None:
        argv += list(cmd.instruction.json)
    elif entrypoint is not None and cmd is not None:
        return "the ENTRYPOINT gets a shell-form CMD, whose words slimfile does not split"
    return argv, first, None


def _check(project: Project, inv: Invocation, start: Start) -> str | None:
    name = posixpath.basename(inv.program)
    if inv.runner in RUNNERS:
        start.runners.add(inv.runner)
    if inv.dynamic:
        return f"the start `{inv.text}` has words slimfile cannot expand"
    dev = _dev_server(inv, name)
    if dev:
        return dev
    if name in ("node", "nodejs"):
        return _node(project, inv, start)
    if name in RUNNERS:
        return f"the image runs `{inv.text}` when it starts, which needs the build's package manager state"
    if name in RUN_ANYWHERE:
        return None
    problem = _available(project, inv, name)
    if name == "serve":
        start.serve, start.serve_problem = inv, problem
        return None  # nginx does not need it: the recipe decides with serve_problem
    return problem


def _available(project: Project, inv: Invocation, name: str) -> str | None:
    if inv.runner is not None or "node_modules/.bin/" in inv.program:
        return _bin(project, inv, name)
    if "/" in inv.program:
        return f"the image starts `{inv.program}`, whose commands slimfile does not read (it may need devDependencies)"
    return f"the image starts `{name}`, which the release base may not have (installed globally in the build stage?)"


def _dev_server(inv: Invocation, name: str) -> str | None:
    servers = recipe_data("node")["dev_servers"]
    if name not in servers:
        return None
    words = operands(inv.args, set())
    subcommand = words[0] if words else ""
    if "*" in servers[name] or subcommand in servers[name]:
        shown = name if "*" in servers[name] else " ".join(filter(None, (name, subcommand)))
        return f"the image starts a development server or runner (`{shown}`), which needs the sources and the devDependencies"
    return None


def _node(project: Project, inv: Invocation, start: Start) -> str | None:
    data = commands_data()
    args = inv.args
    i = 0
    while i < len(args) and args[i].startswith("-"):
        option, _, inline = args[i].partition("=")
        if option in data["node_dev_options"]:
            return f"the image starts `node {option}`, a watcher for development"
        if option in ("-e", "--eval", "-p", "--print"):
            return f"the image starts `node {option}` with inline code, whose needs slimfile does not read"
        if option in data["node_options_with_value"]:
            value = inline or (args[i + 1] if i + 1 < len(args) else "")
            if value in data["node_dev_modules"]:
                return f"the image starts node with `{option} {value}`, a TypeScript runner that needs the devDependencies"
            i += 1 if inline else 2
            continue
        i += 1
    if i >= len(args):
        return "the image starts `node` without a script"
    script = args[i]
    path = project.path(script, inv.cwd)
    if path == project.root:
        main = project.package.data.get("main")
        path = project.path(main if isinstance(main, str) else "index.js")
    start.node_files.append((path, script))
    return None


def _bin(project: Project, inv: Invocation, name: str) -> str | None:
    package = project.package_of(name)
    kind = project.dependency_kind(package)
    if kind == "prod":
        return None
    if kind == "dev":
        return f"the start runs `{name}` from the devDependency `{package}`, which the release's production dependencies leave out"
    if inv.runner in ("npx", "pnpx"):
        return None  # downloaded when it starts, in the original image as in the release
    return f"the start runs `{name}`, which package.json does not list as a dependency (a global install of the build stage?)"
