"""Node: an install and a build on an official node image -> the build's output and the
production dependencies on the slim variant of the same image (``node:18`` ->
``node:18-slim``); a static front end that the image only serves with ``serve -s`` -> nginx.

What the build writes is decided from facts: the RUN lines and package.json's scripts are
expanded into the programs they run (recipes/node_commands.py), each program's output comes
from its options, its config and data (recipes/node_build.py), and what the image starts
(recipes/node_start.py) must find everything it runs in the release.

The production dependencies are the build stage's own ``node_modules`` after a prune that
runs there once the build is done (``npm prune --omit=dev``, ``pnpm prune --prod``, yarn 1's
``install --production``), copied whole (the prune goes right after the install when only
copies of the sources follow it: a source edit then leaves the pruned folder cached). That
is exact where a second install in the release is not: the files are the ones the build
installed and tested with (native addons compiled against the build image's toolchain, which
the slim image lacks), no package is resolved or downloaded again, and no lifecycle script
of the project (a ``prepare`` that calls a devDependency such as husky) runs on the release
base.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import replace

from slimfile.analysis.build_context import BuildContext
from slimfile.analysis.compat import tools, uses_of
from slimfile.analysis.context import Context
from slimfile.analysis.manifests import default_gyp_build, read_package_json
from slimfile.analysis.recipes import Artefact, Base, Refusal, Release, base, build_image_size, debian_suite, outermost
from slimfile.analysis.recipes.files import recipe_data, runtime_copies
from slimfile.analysis.recipes.node_build import BuildOutputs, build_outputs, is_node_tool
from slimfile.analysis.recipes.node_commands import (
    RUNNERS,
    ContextPaths,
    Project,
    context_paths,
    expand_run,
    iter_runs,
    lockfile_bins,
)
from slimfile.analysis.recipes.node_start import Start, start_of
from slimfile.analysis.recipes.node_static import NginxSite, nginx_site
from slimfile.analysis.recipes.packages import stage_packages
from slimfile.analysis.steps import Step
from slimfile.shell.effects import command_effects, overlaps
from slimfile.shell.model import ShellScript
from slimfile.shell.packages import facts_by_command
from slimfile.syntax.stages import Stage
from slimfile.textformats import json_loads

MANAGERS = frozenset({"npm", "yarn", "pnpm"})
PRODUCTION_TRAITS = frozenset({"production", "omit-dev"})
SCRIPT_EXTENSIONS = ("", ".js", ".cjs", ".mjs", "/index.js")


def release(ctx: Context, stage: Stage, steps: list[Step]) -> Release | Refusal | None:
    data = recipe_data("node")
    if stage.image is None or stage.image.short_repository not in data["repositories"]:
        return None
    runs = list(iter_runs(ctx, steps))
    installs = list(_project_installs(runs))
    install_commands: dict[int, set[int]] = {}  # per RUN (by identity), its install commands
    for step, fact, _cwd in installs:
        install_commands.setdefault(id(step.instruction), set()).add(fact.command)
    if not installs:
        return None
    files = ctx.build_files
    compiles = files is not None and _installs_compile(ctx, steps, installs, files)
    addons = _dependencies_compiled(ctx, stage, installs) if files is not None else []
    if not compiles and not addons and not any(_runs_node_tool(script, install_commands.get(id(script.instruction), set())) for _step, script in runs):
        return None  # nothing built: no toolchain to leave behind
    if files is None:
        return Refusal("node", f"{ctx.context_unread}: package.json's scripts say what the build writes")
    if stage.image.digest:
        return Refusal("node", "the node image is pinned by digest: the digest of its slim variant is not known")
    project = _project(ctx, steps, installs, files)
    if isinstance(project, str):
        return Refusal("node", project)
    built = _build(project, runs)
    if isinstance(built, str):
        return Refusal("node", built)
    outputs, build_lines = built
    if compiles:
        # node-gyp writes the addon under build/ of the project (build/Release/NAME.node)
        outputs.add(BuildOutputs(outputs=[posixpath.join(project.root, "build")], tools=["node-gyp"]))
    if compiles or addons:
        # the install is the build: it runs the compiler (a dependency's addon is written in
        # its folder of node_modules, which the release copies)
        build_lines |= {step.instruction.start_line for step, _fact, _cwd in installs}
    if not outputs.outputs and not addons:
        return None  # the build only checks (lint, tests): nothing built to copy
    start = start_of(ctx, project, steps)
    if isinstance(start, str):
        return Refusal("node", start)
    why_not_nginx = None
    if start.serve is not None:
        site = nginx_site(project, start.serve, outputs.outputs, steps)
        if isinstance(site, NginxSite):
            return _nginx_release(ctx, stage, steps, project, site, build_lines)
        why_not_nginx = site
        if start.serve_problem:
            return Refusal("node", f"{start.serve_problem}; not on nginx: {site}")
    toolchain = _gyp_toolchain(start, runs) if compiles or addons else frozenset()
    return _node_release(ctx, stage, steps, project, installs, outputs, start, build_lines, why_not_nginx, addons, toolchain)


def _gyp_toolchain(start: Start, runs: list[tuple[Step, ShellScript]]) -> frozenset[str]:
    """node-gyp's toolchain (data/base_image_tools.toml [compile] node-gyp), which a stage whose
    install compiles an addon may install itself: build tools of the split, as the compiler
    is. Its python3 runs gyp; it stays a package of the release when the stage runs Python
    itself (recipes.toml [node] ``python_programs`` in a RUN or at the start)."""
    toolchain = frozenset(tools()["compile"]["node-gyp"])
    python = frozenset(recipe_data("node")["python_programs"])
    programs = {command.name for _step, script in runs for command in script.commands}
    programs |= {posixpath.basename(invocation.program) for invocation in start.invocations}
    return toolchain - python if programs & python else toolchain


# -- the project --------------------------------------------------------------------------------


def _project_installs(runs: list[tuple[Step, ShellScript]]):
    """(step, fact, cwd) of every install of the project's dependencies (not `-g`)."""
    for step, script in runs:
        facts = [f for f in script.packages if f.manager in MANAGERS and f.action in ("install", "ci") and not f.has("global")]
        if not facts:
            continue
        state = step.state
        cwds = {e.command.index: e.cwd for e in command_effects(script, workdir=state.workdir, env=state.env, home=state.home)}
        for fact in facts:
            if not any(w.value == "global" for w in fact.subcommand):
                yield step, fact, cwds.get(fact.command)


def _runs_node_tool(script: ShellScript, install_commands: set[int]) -> bool:
    """The RUN runs a script, a bin or a build tool (not only an install: ``install_commands``
    are the indices of its install commands)."""
    facts = facts_by_command(script)
    for command in script.commands:
        if command.index in install_commands or command.name is None:
            continue
        name = command.name
        if name in ("npx", "pnpx") or name in recipe_data("node")["tools"] or any("node_modules/.bin/" in w.value for w in command.words):
            return True
        if name in ("npm", "yarn", "yarnpkg", "pnpm"):
            fact = facts.get(command.index)
            if fact is not None and fact.action == "run":
                return True
    return False


def _project(ctx: Context, steps: list[Step], installs, files: BuildContext) -> Project | str:
    roots = sorted({cwd or "" for _step, _fact, cwd in installs})
    if "" in roots:
        return "an install runs in a folder slimfile cannot tell"
    if len(roots) > 1:
        return f"the stage installs dependencies in several folders ({', '.join(roots)}): which the release needs is not known"
    managers = sorted({fact.manager for _step, fact, _cwd in installs})
    if len(managers) > 1:
        return f"the stage installs with {' and '.join(managers)}"
    root, manager = roots[0], managers[0]
    paths = context_paths(ctx, steps, files)
    if isinstance(paths, str):
        return paths
    source = paths.context_path(posixpath.join(root, "package.json"))
    if source is None:
        return f"{root}/package.json does not come from the build context"
    package = read_package_json(files, source)
    if isinstance(package, str):
        return package
    if package.declares_workspaces:
        return f"{source} declares workspaces: which packages the release needs is not known"
    if manager == "yarn" and _yarn_berry(paths, root, package.package_manager):
        return "Yarn 2+ keeps only production dependencies with a plugin (`yarn workspaces focus --production`), which slimfile does not assume"
    lock = paths.read_text(posixpath.join(root, "package-lock.json")) or paths.read_text(posixpath.join(root, "npm-shrinkwrap.json"))
    bins = lockfile_bins(lock) if manager == "npm" else {}
    return Project(root, package, manager, paths, bins)


def _installs_compile(ctx: Context, steps: list[Step], installs, files: BuildContext) -> bool:
    """An install of the stage compiles the project's own addon (npm's default install
    script, ``node-gyp rebuild``): the stage builds something even when no RUN runs a tool."""
    paths = context_paths(ctx, steps, files)
    if isinstance(paths, str):
        return False
    for _step, fact, cwd in installs:
        source = paths.context_path(posixpath.join(cwd, "package.json")) if cwd else None
        if source is None or fact.has("ignore-scripts"):
            continue
        package = read_package_json(files, source)
        if not isinstance(package, str) and default_gyp_build(package, files, source):
            return True
    return False


def _dependencies_compiled(ctx: Context, stage: Stage, installs) -> list[str]:
    """The dependencies the stage's installs compile with node-gyp (native addons without a
    prebuilt binary, or built from source: ``analysis/compat.py``, data/native_builds.toml)."""
    lines = {step.instruction.start_line for step, _fact, _cwd in installs}
    needs = uses_of(ctx, stage).needs
    return sorted({n.what.removesuffix(" (node-gyp)") for n in needs if n.kind == "build" and n.builder in MANAGERS and n.stage == stage.index and n.line in lines})


def _yarn_berry(paths: ContextPaths, root: str, package_manager: str | None) -> bool:
    if package_manager and re.match(r"yarn@[2-9]", package_manager):
        return True
    return paths.exists(posixpath.join(root, ".yarnrc.yml"))


def _build(project: Project, runs: list[tuple[Step, ShellScript]]) -> tuple[BuildOutputs, set[int]] | str:
    """What the RUNs that run Node programs write, and their lines (they are the build)."""
    total = BuildOutputs()
    lines: set[int] = set()
    for step, script in runs:
        state = step.state
        where = f"line {step.instruction.start_line}"
        invocations = expand_run(project, script, state.workdir, state.env, state.home, where)
        if isinstance(invocations, str):
            if any(c.name in RUNNERS for c in script.commands):
                return invocations
            continue
        if not any(is_node_tool(inv) for inv in invocations):
            continue  # not part of the Node build: the pass copies what it writes, if anything
        found = build_outputs(project, invocations)
        if isinstance(found, str):
            return found
        total.add(found)
        lines.add(step.instruction.start_line)
    return total, lines


# -- the release on node:<tag>-slim -------------------------------------------------------------


def _node_release(
    ctx: Context, stage: Stage, steps: list[Step], project: Project, installs, outputs: BuildOutputs, start: Start, build_lines: set[int],
    why_not_nginx: str | None, addons: list[str], toolchain: frozenset[str],
) -> Release | Refusal:
    image = stage.image
    slim = slim_tag(image.tag)
    target = replace(base("node-slim", tag=slim), image=f"{image.name}:{slim}")
    missing = sorted(start.runners - target.provides)
    if missing:
        return Refusal("node", f"the start runs through {', '.join(missing)}, which {target.image} does not have")
    packages = stage_packages(ctx, steps, debian_suite(image.tag if image else None), build_tools=toolchain)
    if isinstance(packages, str):
        return Refusal("node", packages)
    artefacts = _artefacts(ctx, steps, project, installs, outputs)
    if isinstance(artefacts, str):
        return Refusal("node", artefacts)
    for path, written in start.node_files:
        if not _ships(path, artefacts):
            return Refusal("node", f"the image runs `node {written}`, which the build does not write and the stage did not copy")
    prune_after = _prune_point(ctx, steps, project, installs, build_lines)
    prune = _prune(project, installs, image.tag, prune_after or _last_build_step(steps), outputs.caches)
    names = ", ".join(posixpath.relpath(o, project.root) if o.startswith(project.root + "/") else o for o in outputs.outputs)
    where = [f"`{prune}` in the build stage"] if prune else []
    where += [f"{', '.join(addons)} compiled {'there' if prune else 'in the build stage'}"] if addons else []
    detail = f" ({', '.join(where)})" if where else ""
    summary = f"{names + ' and ' if names else ''}the production dependencies{detail} on {target.image}"
    if packages.runtime:  # the system packages the stage installs that are not build tools
        summary += f" with {', '.join(packages.runtime)}"
    notes = []
    if packages.build:
        notes.append(f"leaves {', '.join(sorted(set(packages.build)))} in the build stage")
    dev = sorted(project.package.dev_dependencies)
    if dev and prune:
        shown = ", ".join(dev[:4]) + (", ..." if len(dev) > 4 else "")
        notes.append(f"the devDependencies ({shown}) stay in the build stage")
    if why_not_nginx:
        notes.append(f"not on nginx: {why_not_nginx}")
    drops, rebuilds = _pruned_paths(project) if prune else ([], [])
    full = image.tag is None or not re.search(r"slim|alpine", image.tag)
    return Release(
        "node",
        target,
        artefacts,
        summary,
        notes=notes,
        build_size=build_image_size("node") if full else None,
        rebuilds=rebuilds,
        packages=packages.runtime,
        runs_any_program=True,
        build_managers=MANAGERS,
        build_tail=[prune] if prune else [],
        build_tail_after=prune_after.instruction.start_line if prune and prune_after else None,
        build_runs=frozenset(build_lines),
        drops=drops,
    )


def slim_tag(tag: str | None) -> str:
    """``18`` -> ``18-slim``, ``18-bookworm`` -> ``18-bookworm-slim``; slim and alpine tags stay."""
    if not tag:
        return "slim"
    if "slim" in tag or "alpine" in tag:
        return tag
    return tag + "-slim"


def _artefacts(ctx: Context, steps: list[Step], project: Project, installs, outputs: BuildOutputs) -> list[Artefact] | str:
    install_user = _owner(installs[0][0])
    out = [Artefact(posixpath.join(project.root, "node_modules"), posixpath.join(project.root, "node_modules"), install_user, "the production dependencies")]
    build_user = _owner(_last_build_step(steps))
    out += [Artefact(o, o, build_user, "the build output") for o in outputs.outputs]
    files = runtime_copies(ctx, steps, "node")
    if isinstance(files, str):
        return files
    out += [Artefact(f.path, f.path, f.chown, "a runtime file") for f in files]
    out += [Artefact(p, p, _copy_owner(ctx, steps, p), "read by the build output at run time") for p in outputs.runtime]
    package = posixpath.join(project.root, "package.json")
    if not _ships(package, out):
        out.append(Artefact(package, package, None, "package.json (`type`, `main`, the start script)"))
    for removed in outputs.removed:
        for artefact in out:
            if artefact.why != "the build output" and (artefact.source == removed or artefact.source.startswith(removed + "/")):
                return f"the build deletes {removed}, which the release would copy"
    return outermost(out)


def _ships(path: str, artefacts: list[Artefact]) -> bool:
    return any(
        candidate == a.target or candidate.startswith(a.target.rstrip("/") + "/")
        for a in artefacts
        for candidate in (path + extension for extension in SCRIPT_EXTENSIONS)
    )


def _copy_owner(ctx: Context, steps: list[Step], path: str) -> str | None:
    """The --chown of the last COPY that wrote ``path`` (a file a build-only pattern excluded)."""
    for step in reversed(steps):
        node = step.instruction
        if node.name in ("COPY", "ADD") and any(path == w or path.startswith(w.rstrip("/") + "/") for w in step.effects.writes):
            flag = node.flag("chown")
            return flag.argument if flag else None
    return None


def _owner(step: Step | None) -> str | None:
    user = step.state.user if step is not None else "root"
    return None if user.split(":", 1)[0] in ("root", "0", "") else user


def _last_build_step(steps: list[Step]) -> Step | None:
    return next((s for s in reversed(steps) if s.instruction.name in ("RUN", "COPY", "ADD")), None)


def _prune(project: Project, installs, tag: str | None, after: Step | None, caches: list[str]) -> str | None:
    """The command that keeps only production dependencies in the build stage, run from the
    folder it runs in after ``after`` (None: every install already left the devDependencies out)."""
    if all(PRODUCTION_TRAITS & fact.traits for _step, fact, _cwd in installs):
        command = None
    else:
        data = recipe_data("node")["prune"]
        legacy = project.manager == "npm" and _node_major(tag) is not None and _node_major(tag) < data["npm_legacy_below_node"]
        command = data["npm-legacy" if legacy else project.manager]
    parts = [command] if command else []
    parts += [f"rm -rf {cache}" for cache in caches]
    if not parts:
        return None
    if command and (after is None or after.state.workdir != project.root):
        parts.insert(0, f"cd {project.root}")
    return " && ".join(parts)


# what may follow the prune without running anything that could need a devDependency or see
# the prune differently: copies, and config the build stage's later RUNs do not read (not
# ADD: a local archive is unpacked, and what it holds is not read here)
_AFTER_PRUNE = frozenset({"COPY", "LABEL", "EXPOSE", "CMD", "ENTRYPOINT", "HEALTHCHECK", "STOPSIGNAL", "MAINTAINER"})


def _prune_point(ctx: Context, steps: list[Step], project: Project, installs, build_lines: set[int]) -> Step | None:
    """The last RUN that installs or builds, when only copies of the sources follow it (the
    common ``npm ci`` then ``COPY . .`` of a stage whose install is its build): the prune goes
    right after it, so a change to a source file leaves the pruned node_modules, and the
    release's copy of it, cached. None (after the stage's last step) when a later step runs
    anything, changes the environment, or copies something into node_modules (the prune must
    see what the release gets)."""
    lines = build_lines | {step.instruction.start_line for step, _fact, _cwd in installs}
    last = max((i for i, step in enumerate(steps) if step.instruction.start_line in lines), default=None)
    if last is None or last == len(steps) - 1:
        return None
    later = steps[last + 1 :]
    if any(step.instruction.name not in _AFTER_PRUNE for step in later):
        return None
    if not any(step.instruction.name == "COPY" for step in later):
        return None  # config only: the stage's end is the same place
    modules = posixpath.join(project.root, "node_modules")
    for step in later:
        node = step.instruction
        if node.name != "COPY":
            continue
        if step.effects.unknown or node.heredocs or any(_inside(w, modules) for w in step.effects.writes):
            return None  # a copy into node_modules (or of what slimfile cannot tell)
        if node.flag("from") is not None and overlaps(step.effects.writes, {modules}):
            return None  # another stage's folder over it: what it holds is not known
    files = ctx.build_files
    copied = context_paths(ctx, later, files) if files is not None else "no context"
    if isinstance(copied, str) or copied.exists(modules):
        return None
    return steps[last]


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _node_major(tag: str | None) -> int | None:
    match = re.match(r"(\d+)", tag or "")
    return int(match.group(1)) if match else None


def _pruned_paths(project: Project) -> tuple[list[str], list[str]]:
    """``drops:`` globs for what the prune removes from node_modules (the npm lockfile names
    every dev-only package; otherwise anything under node_modules), and the state files it
    rewrites."""
    modules = posixpath.join(project.root, "node_modules")
    state = {"npm": [".package-lock.json"], "yarn": [".yarn-integrity"], "pnpm": [".modules.yaml", ".pnpm/lock.yaml"]}
    rebuilds = [posixpath.join(modules, name) for name in state.get(project.manager, [])]
    dev = _npm_dev_packages(project) if project.manager == "npm" else None
    if dev is None:
        return [modules + "/**"], rebuilds
    drops = []
    for key, bins in dev:
        drops += [posixpath.join(project.root, key), posixpath.join(project.root, key) + "/**"]
        drops += [posixpath.join(modules, ".bin", program) for program in bins]
    return drops, rebuilds


def _npm_dev_packages(project: Project) -> list[tuple[str, list[str]]] | None:
    """(lockfile key, bins) of every package only the devDependencies need (npm lockfile v2+)."""
    text = project.paths.read_text(posixpath.join(project.root, "package-lock.json"))
    try:
        lock = json_loads(text) if text else None
    except ValueError:
        return None
    packages = lock.get("packages") if isinstance(lock, dict) else None
    if not isinstance(packages, dict):
        return None
    out = []
    for key, entry in packages.items():
        if key.startswith("node_modules/") and isinstance(entry, dict) and (entry.get("dev") or entry.get("devOptional")):
            bins = entry.get("bin")
            top = "/node_modules/" not in key
            out.append((key, sorted(bins) if isinstance(bins, dict) and top else []))
    return out


# -- the release on nginx -----------------------------------------------------------------------


def _nginx_release(ctx: Context, stage: Stage, steps: list[Step], project: Project, site: NginxSite, build_lines: set[int]) -> Release:
    static = recipe_data("node")["static"]["nginx"]
    target: Base = base("nginx")
    root = static["root"]
    served = posixpath.relpath(site.served, project.root) if site.served.startswith(project.root + "/") else site.served
    drops = []
    for destination in _context_destinations(ctx, steps):
        drops += [destination, destination.rstrip("/") + "/**"]
    full = stage.image.tag is None or not re.search(r"slim|alpine", stage.image.tag)
    return Release(
        "node",
        target,
        [Artefact(site.served, root, None, "the static site")],
        f"the static site {served} on {target.image}, listening on {site.ports} with `serve -s`'s answers (an nginx config written to {static['conf']})",
        notes=["nginx gives every path the status, Location, Content-Type and body serve gives; other headers differ (ETag, Last-Modified, Content-Disposition, the bodies of redirects)", "the container stops on SIGQUIT, nginx's graceful shutdown"],
        build_size=build_image_size("node") if full else None,
        runs_any_program=True,
        build_managers=MANAGERS,
        release_runs=[site.run_lines()],
        build_runs=frozenset(build_lines),
        drops=drops,
        adds=[root, root + "/**"],
        config={"CMD": static["cmd"]},
        declares=["config:ExposedPorts", "config:StopSignal"],  # nginx stops gracefully on SIGQUIT
    )


def _context_destinations(ctx: Context, steps: list[Step]) -> list[str]:
    out = []
    for step in steps:
        node = step.instruction
        if node.name in ("COPY", "ADD") and node.flag("from") is None and not step.effects.unknown:
            out.extend(sorted(step.effects.writes))
    return sorted(set(out))
