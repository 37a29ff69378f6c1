"""Split a stage that builds with a toolchain into a build stage and a small release stage.

Before::

    FROM golang:1.21
    WORKDIR /src
    COPY . .
    RUN go build -o /app ./cmd/server
    EXPOSE 8080
    CMD ["/app"]

After::

    FROM golang:1.21 AS build
    WORKDIR /src
    COPY . .
    RUN CGO_ENABLED=0 go build -o /app ./cmd/server

    FROM gcr.io/distroless/static-debian12 AS release
    COPY --from=build /app /app
    WORKDIR /src
    EXPOSE 8080
    CMD ["/app"]

The final image of a single-stage build carries the compiler, the package caches and the
sources it was built from. A release stage that copies only what runs ships none of that.
What the release keeps is decided from facts: the recipe of the ecosystem names the artefacts
(``slimfile/analysis/recipes/``), the files the stage copied from the context go along unless
they only build the program, and every config instruction of the stage (ENV, WORKDIR, USER,
EXPOSE, LABEL, VOLUME, HEALTHCHECK, CMD, ENTRYPOINT, ...) is in the release, so the image's
config is the same; the ones after the last build step move there, the others are repeated.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, replace

from slimfile.analysis.context import Context
from slimfile.analysis.recipes import Artefact, Refusal, Release, outermost, release_plan
from slimfile.analysis.recipes.files import build_only
from slimfile.analysis.steps import Step, referenced, stage_steps
from slimfile.diagnostics import Finding, Rule, Saving
from slimfile.restructure.moves import ItemIndex, block_text, copy_cannot_name, removal
from slimfile.restructure.stages import (
    append_at_end,
    copy_from_line,
    exec_form,
    free_stage_name,
    line,
    shell_words_if_plain,
    stage_name_edit,
)
from slimfile.shell.effects import overlaps, system_paths
from slimfile.shell.model import ShellScript
from slimfile.syntax.edits import Edit, Fix, Safety
from slimfile.syntax.nodes import Instruction
from slimfile.syntax.stages import Stage
from slimfile.syntax.style import line_break
from slimfile.textformats import visible

MULTI_STAGE_SPLIT = Rule(
    code="SF901",
    name="multi-stage-split",
    summary="The final image carries the toolchain that built the application",
    fix_title="Split into a build stage and a release stage that copies only the artefacts",
    safety=Safety.UNSAFE,
    related=("hadolint issue #279 (multi-stage suggestion, not implemented)",),
    doc="""
## What it does
Finds a final stage (or a single-stage file) whose RUNs build an artefact with a toolchain
the application does not need at run time, and splits it: the stage becomes a `build`
stage, and a new `release` stage on a small base copies exactly the artefacts with
`COPY --from=build`, the files the application reads at run time, and the stage's config.

Recipes (`slimfile/analysis/recipes/`):
- Go (`go build -o OUT`, `go install`): the binary on `gcr.io/distroless/static-debian12`
  when no `.go` file of the build context imports `"C"` or `plugin` and no build uses
  `-buildmode=plugin`/`c-shared`/`c-archive` (the build gets `CGO_ENABLED=0` so the binary
  links statically), else on `debian:<suite>-slim` of the build image's suite. The system
  packages the stage installs that are not build tools are installed again in the release,
  which is then `debian:<suite>-slim` for a static binary too (distroless has no package
  manager; the `ca-certificates` and `tzdata` it has need nothing). The version control tools
  the go command downloads modules with (git, mercurial, subversion, bzr, fossil) are build
  tools there.
- Rust (`cargo build --release`, `cargo install`): `target/release/<bin>` (the name from
  Cargo.toml) on `debian:<suite>-slim`, with the runtime libraries of the `-dev` packages.
- Java (maven, gradle, javac + jar): the jar that CMD/ENTRYPOINT runs (`java -jar PATH`,
  `java -cp ...`) on `eclipse-temurin:<version>-jre`.
- Python with compiled dependencies (pip installs beside gcc, `build-essential` or `-dev`
  packages): a virtualenv (`/opt/venv`, added to the build stage before its first pip
  install) copied to the slim variant of the same Python image, with the runtime library of
  each `-dev` package (`data/dev_runtime.toml`, per Debian suite) and every other package
  the stage installed. A stage on the full Python image that installs no build tools may
  still compile: pip builds a package without a Linux wheel (or under `--no-binary`) with the
  full image's own gcc and headers (`data/native_builds.toml`). Then the full image stays the
  build stage, and the runtime library of each header package the compile needs goes into
  the release; an unknown one, or a compile outside pip, refuses the split.
- Ruby, PHP and .NET are recognised and explained, not split (see
  `slimfile/analysis/recipes/others.py` for why).

When the release is on the stage's own image (a stage already on `python:3.11-slim` or
`node:18-slim` that installs its build tools itself), the setup at the top of the stage that
both would run — ENV, LABEL, WORKDIR, EXPOSE, the RUNs that create the final user — goes into
a `base` stage written once, and `build` and `release` are both built `FROM base`. An ARG
(not inherited by a stage built FROM another), USER, SHELL or VOLUME ends that setup; a
stage with a name of its own is not renamed, and its release repeats what it needs instead.

Node (an install with npm, yarn 1 or pnpm, then a build: `npm run build`, `yarn build`,
`pnpm build`, `npx tsc`, ...): package.json's scripts, with their `pre`/`post` scripts, are
read with the shell model, and where each program writes is decided from facts (data in
`data/recipes.toml` [node]): tsc writes tsconfig.json's `outDir` (read with its comments,
trailing commas and local `extends`), vite `dist` or a plain `outDir` of vite.config.*, next
`.next` (with `next.config.*`; its build cache stays behind), react-scripts `build`, nest
its tsconfig's `outDir`, babel, esbuild and webpack their output options; cp, mkdir and rm
what the shell model says. An install that compiles the project's own addon (npm's default
install script, `node-gyp rebuild`, when a `binding.gyp` lies beside package.json and it has
no install script) is a build too: its output is the project's `build/` folder, and the
addon's sources (`binding.gyp`, `*.cc`, `*.c`, ...) stay behind. So is an install that
compiles a dependency's addon (one with no prebuilt binary, or built from source, as the
base-image analysis reads the lockfile: data/native_builds.toml), even with no build step:
the addon is written in the dependency's folder of `node_modules`, which the release copies
from the build stage. The release is the slim variant of the same node image
(`node:18` -> `node:18-slim`, `node:20-bookworm` -> `node:20-bookworm-slim`) with the build
output, the files the stage copied that are not build inputs (TypeScript sources, lockfiles,
tool configs stay behind), package.json, and the build stage's `node_modules` after a prune
that runs there once the build is done (`npm prune --omit=dev`, `pnpm prune --prod`, yarn 1's
`install --production`); when the install is the build and only copies of the sources follow
it (`npm ci`, then `COPY . .`), the prune goes right after the install, so that a source edit
leaves it and the release's `node_modules` cached. Pruning the build's own `node_modules` is
exact where a second install in the release (`npm ci --omit=dev`) is not: the files are the
ones the build installed and used (native addons compiled with the build image's compilers,
which the slim image lacks), nothing is resolved or downloaded again, and no `prepare`
script that calls a devDependency runs on the release base. What the image starts (`node
dist/server.js`, `npm start` and its script) must find its file in the release and its
programs among the production dependencies. System packages the stage installs go as for
Python: build tools stay in the build stage, the release installs every other package again
and the runtime library of each `-dev` package (a service that runs `jq` or `convert` keeps
it). When the install compiles an addon, node-gyp's toolchain (`python3 make g++`, which a
stage on a slim image installs itself) are its build tools, python3 included (gyp is a
Python program), unless a RUN of the stage or the start runs Python itself. A package
that apk, dnf or zypper installs and that is not a build tool (`build-base`, `musl-dev`,
`linux-headers`, ...: data/dev_runtime.toml) refuses the split, for every recipe: slimfile
repeats apt installs only, and the release would not have it.

A static front end, an image that only runs `serve -s DIR` on the folder its build writes,
gets an `nginx:1` release: `DIR` in `/usr/share/nginx/html` and an nginx config, written by a
RUN (slimfile never writes into the build context), that answers as serve does: on the port
serve is given with `-l`, every path without an extension and every missing file
with index.html (serve's single-page fallback), `/x.html` and `/x/index` redirected to `/x`
(its clean URLs), with the same Content-Type charset and compression threshold. The
real-build test asks both images the same paths and compares status, Location, Content-Type
and body. What still differs is in the finding: ETag and Last-Modified values, serve's
Content-Disposition header, the bodies of redirects; the CMD becomes nginx's, and nginx's
image also exposes port 80 and stops on SIGQUIT (nginx's graceful stop, as SIGTERM is
serve's). serve without `-s` (it lists folders and renders its own 404 page), serve without
`-l` (it listens on `$PORT` as set when the container starts, while nginx's port is fixed in
the image), another serve option, a serve.json, a non-root USER (nginx starts as root), an
ENTRYPOINT or a HEALTHCHECK keep the release on node, and the finding says why.

## Why is this bad?
A Go toolchain image is about 800 MB; the binary it builds is a few MB. Everything in the
final stage ships: compilers, headers, module and build caches, the sources. Measured on
the fixture apps (`benchmarks/experts.py`): a static Go service 983.7 → 6.4 MB, a cgo tool
980.6 → 77.2 MB, a Rust CLI 1029 → 86.9 MB, Python with psycopg2 built from source 677.2 →
174.4 MB.

## Example
```dockerfile
FROM golang:1.21
WORKDIR /src
COPY . .
RUN go build -o /app ./cmd/server
CMD ["/app"]
```

## Use instead
```dockerfile
FROM golang:1.21 AS build
WORKDIR /src
COPY . .
RUN CGO_ENABLED=0 go build -o /app ./cmd/server

FROM gcr.io/distroless/static-debian12 AS release
COPY --from=build /app /app
WORKDIR /src
CMD ["/app"]
```

## Fix safety
Always unsafe: the image changes (its base, its files), so `slimfile verify` should prove it
(it checks that the artefacts and runtime files are the same, the config is the same, and
that the image runs the same). No fix is offered, and the finding says which fact is
missing, when the artefacts cannot be determined (an output path from a variable, several
packages built at once), when the image runs something other than the artefacts (`go run`,
a shell script on a base without a shell), when a RUN of the stage writes files whose use
is unknown, when the final USER does not exist in the release base and cannot be created
there, or when the stage has ONBUILD triggers. Files of the build context that only build
the program (`data/recipes.toml`: sources, module files, docs, CI files) stay behind; every
other file the stage copied goes to the release with its owner.

For Node, no fix is offered when the build context was not read, when where the build
writes is unknown (a build script that runs a program of its own, a vite or webpack config
that sets its output in a way slimfile does not read, a tsconfig without `outDir`), when the
image starts a development server or runner (`npm run dev`, `vite`, `next dev`, `nodemon`,
`ts-node`, `node --watch`), when the start needs a devDependency or a program installed
globally in the build stage, or for workspaces and Yarn 2+ (which needs a plugin to prune).
""",
)

RULES = (MULTI_STAGE_SPLIT,)

# config instructions: all of them end up in the release (moved or repeated)
CONFIG = frozenset({"ENV", "LABEL", "EXPOSE", "VOLUME", "STOPSIGNAL", "HEALTHCHECK", "CMD", "ENTRYPOINT", "USER", "WORKDIR", "SHELL"})
BUILD_STEPS = frozenset({"RUN", "COPY", "ADD"})
USER_PROGRAMS = frozenset({"useradd", "groupadd", "adduser", "addgroup", "usermod"})
# the image config field each config instruction sets (for `config:<Field>` declarations)
CONFIG_FIELDS = {
    "CMD": "Cmd", "ENTRYPOINT": "Entrypoint", "HEALTHCHECK": "Healthcheck", "EXPOSE": "ExposedPorts", "ENV": "Env",
    "LABEL": "Labels", "USER": "User", "WORKDIR": "WorkingDir", "VOLUME": "Volumes", "STOPSIGNAL": "StopSignal", "SHELL": "Shell",
}


@dataclass
class _Layout:
    """How the stage's instructions go: what moves to the release, what is repeated there."""

    moved: list[Instruction]
    repeated: list[Instruction]
    args: list[Instruction]
    user_runs: list[Instruction]
    extra_copies: list[Artefact]


def check(ctx: Context) -> Iterator[Finding]:
    stage = ctx.stages.final
    if stage is None or stage.image is None:
        return
    steps = stage_steps(ctx, stage)
    answer = release_plan(ctx, stage, steps)
    if answer is None:
        return
    toolchain = TOOLCHAINS.get(answer.recipe, answer.recipe)
    if isinstance(answer, Refusal):
        yield _finding(ctx, stage, f"the final image carries the {toolchain}; not split: {answer.reason}", None, None)
        return
    layout = _layout(ctx, stage, steps, answer)
    if isinstance(layout, _NeedsShell) and answer.fallback is not None:
        answer = answer.on(answer.fallback, f"{layout.reason}: it runs on {answer.fallback.image}, which has a shell")
        layout = _layout(ctx, stage, steps, answer)
    if isinstance(layout, str):
        yield _finding(ctx, stage, f"the final image carries the {toolchain}; not split: {layout}", None, None)
        return
    fix = _fix(ctx, stage, answer, layout)
    if isinstance(fix, str):
        yield _finding(ctx, stage, f"the final image carries the {toolchain}; not split: {fix}", None, None)
        return
    message = f"the final image carries the {toolchain} and the sources: a release stage with {answer.summary} is enough"
    if answer.notes:
        message += " (" + "; ".join(answer.notes) + ")"
    yield _finding(ctx, stage, message, fix, _saving(answer))


TOOLCHAINS = {
    "go": "Go toolchain",
    "rust": "Rust toolchain",
    "python": "build tools",
    "node": "build tools and dev dependencies",
    "java": "JDK and build tool",
    "ruby": "compiler and headers of its gems",
    "php": "compiler and headers of its extensions",
    "dotnet": ".NET SDK",
}


class _NeedsShell(str):
    """A layout refusal that a base with a shell would not have."""

    @property
    def reason(self) -> str:
        return str(self)


def _finding(ctx: Context, stage: Stage, message: str, fix: Fix | None, saving: Saving | None) -> Finding:
    start, end = stage.from_instruction.keyword_source_span()
    return Finding(MULTI_STAGE_SPLIT, message, start, end, fix, saving)


def _saving(release: Release) -> Saving | None:
    if release.build_size is None:
        return Saving("the build tools", "the compiler, headers and build caches stay in the build stage (slimfile verify measures it)")
    saved = max(release.build_size - release.base.size, 0)
    return Saving(
        f"~{saved / 1e6:.0f} MB",
        f"a typical build image is {release.build_size / 1e6:.0f} MB, {release.base.image} {release.base.size / 1e6:.1f} MB (data/release_bases.toml)",
        saved,
    )


# -- which instruction goes where ---------------------------------------------------------------


def _layout(ctx: Context, stage: Stage, steps: list[Step], release: Release) -> _Layout | str:
    nodes = [step.instruction for step in steps]
    if any(node.name == "ONBUILD" for node in nodes):
        return "the stage has ONBUILD triggers"
    last_build = max((i for i, node in enumerate(nodes) if node.name in BUILD_STEPS), default=-1)
    moved = [node for node in nodes[last_build + 1 :] if node.name in CONFIG]
    repeated = [node for node in nodes[: last_build + 1] if node.name in CONFIG]
    needed_vars = set()
    for node in moved + repeated:
        needed_vars |= referenced(node.args_text) | {v for f in node.flags for v in referenced(f.value)}
    args = [node for node in nodes if node.name == "ARG" and any(name.split("=", 1)[0] in needed_vars for name in node.args_text.split())]
    users = _user_runs(ctx, steps, release)
    if isinstance(users, str):
        return users
    extra = _other_runs(ctx, steps, release)
    if isinstance(extra, str):
        return extra
    problem = _runs_what_it_ships(ctx, steps, release) or _unnameable_copy([*release.artefacts, *extra])
    if problem:
        return problem
    return _Layout(moved, repeated, args, users, extra)


def _unnameable_copy(copies: list[Artefact]) -> str:
    """Why a ``COPY --from`` of the release could not name one of its paths exactly (a name of
    the build context with ``*`` or a line break), or ``""``."""
    for artefact in copies:
        for path in (artefact.source, artefact.target):
            why = copy_cannot_name(path)
            if why:
                return f"{visible(path)}: {why}"
    return ""


def _user_runs(ctx: Context, steps: list[Step], release: Release) -> list[Instruction] | str:
    """RUNs that only create users and groups: the release repeats them when the final USER
    needs it and its base can run them."""
    final_user = steps[-1].state.user if steps else "root"
    name = final_user.split(":", 1)[0]
    if name in ("root", "0", "") or name.isdigit() or name in release.base.users:
        return []
    runs = [step.instruction for step in steps if step.instruction.name == "RUN" and _only_user_commands(ctx, step.instruction)]
    if not runs:
        return f"the image runs as `{final_user}`, a user {release.base.image} does not have and no RUN of the stage only creates"
    if not release.base.shell:
        return _NeedsShell(f"the image runs as `{final_user}`, which {release.base.image} (no shell) cannot create")
    return runs


def _only_user_commands(ctx: Context, node: Instruction) -> bool:
    script = ctx.shell(node)
    return isinstance(script, ShellScript) and bool(script.commands) and all(c.name in USER_PROGRAMS for c in script.commands)


def _other_runs(ctx: Context, steps: list[Step], release: Release) -> list[Artefact] | str:
    """Every RUN that is not the build or a user creation must have known effects; what it
    writes outside the system is copied to the release."""
    build_lines = {a for a in _build_run_lines(ctx, steps, release)}
    extra: list[Artefact] = []
    for step in steps:
        node = step.instruction
        if node.name != "RUN" or node.start_line in build_lines or _only_user_commands(ctx, node):
            continue
        if step.effects.unknown:
            return f"line {node.start_line} runs something slimfile cannot follow ({step.effects.unknown}), and its output may be needed at run time"
        outside = [p for p in step.effects.writes if not _system_or_scratch(p)]
        for path in sorted(outside):
            extra.append(Artefact(path, path, why=f"written by line {node.start_line}"))
    return outermost(extra)  # `mkdir -p /srv/data && echo > /srv/data/seed.json`: one copy of /srv/data


def _system_or_scratch(path: str) -> bool:
    """System packages (the build's own tools), temporary files and caches stay behind."""
    return bool(overlaps({path}, system_paths())) or path.startswith(("/tmp", "/root/.cache", "/var/cache"))


def _build_run_lines(ctx: Context, steps: list[Step], release: Release) -> set[int]:
    """Lines of the RUNs that run the recipe's build (they are the build, not runtime setup)."""
    lines = set(release.build_runs)
    for step in steps:
        node = step.instruction
        if node.name != "RUN":
            continue
        script = ctx.shell(node)
        managers = release.build_managers or {release.recipe}
        if not isinstance(script, ShellScript):
            continue
        if any(f.manager in managers and f.action in ("build", "install", "download") for f in script.packages):
            lines.add(node.start_line)
        elif any(c.name in release.build_programs for c in script.commands):
            lines.add(node.start_line)
    return lines


def _runs_what_it_ships(ctx: Context, steps: list[Step], release: Release) -> str | None:
    """CMD/ENTRYPOINT must run an artefact (or something the base has), and with a shell only
    when the base has one (a shell form without one is converted when that is exact)."""
    targets = {a.target for a in release.artefacts}
    for step in steps:
        node = step.instruction
        if node.name == "HEALTHCHECK" and node.args_text.strip().upper() != "NONE":
            runs = list(node.json[1:]) if node.json is not None else None
            if not runs or runs[0] not in targets:
                return f"`{_short(node)}` runs something other than what the stage builds, which the release base may lack"

    runs = _what_runs(steps)
    if runs is None:
        return "the stage has no CMD or ENTRYPOINT: what the image runs is not known"
    step = runs
    node = step.instruction
    words = list(node.json) if node.json is not None else shell_words_if_plain(node.args_text)
    if words is None:
        if release.base.shell:
            return None
        return _NeedsShell(f"`{_short(node)}` needs a shell, which {release.base.image} does not have")
    if not words:
        return f"`{_short(node)}` runs nothing"
    program = words[0]
    resolved = program if program.startswith("/") else (_join(step.state.workdir, program) if "/" in program else None)
    if resolved is not None and not _ships(resolved, targets):
        return f"the image runs `{program}`, which is not what the stage builds"
    if resolved is None:
        if release.runs_any_program or program in release.base.programs:
            return None
        return _on_path(release, program)
    return None


def _ships(path: str, targets: set[str]) -> bool:
    """The path is an artefact, or inside a copied folder."""
    return any(path == t or path.startswith(t.rstrip("/") + "/") for t in targets)


def _what_runs(steps: list[Step]) -> Step | None:
    """The instruction whose first word is the program the image starts: the last ENTRYPOINT
    when there is one, else the last CMD."""
    entrypoint = next((s for s in reversed(steps) if s.instruction.name == "ENTRYPOINT"), None)
    if entrypoint is not None:
        return entrypoint
    return next((s for s in reversed(steps) if s.instruction.name == "CMD"), None)


_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")


def _on_path(release: Release, program: str) -> str | None:
    """The image runs ``program`` by name: an artefact of that name goes to /usr/local/bin of
    the release when the build put it somewhere the release's PATH does not look."""
    for i, artefact in enumerate(release.artefacts):
        folder, _, name = artefact.target.rpartition("/")
        if name != program:
            continue
        if folder not in _PATH:
            release.artefacts[i] = replace(artefact, target=f"/usr/local/bin/{name}")
        return None
    return f"the image runs `{program}` from PATH, which is not what the stage builds"


def _join(workdir: str | None, path: str) -> str | None:
    return posixpath.normpath(posixpath.join(workdir, path)) if workdir else None


# -- the fix ------------------------------------------------------------------------------------


def _shared_setup(ctx: Context, stage: Stage, release: Release, layout: _Layout) -> list[Instruction]:
    """The setup at the top of the stage that build and release would both run (ENV, LABEL,
    WORKDIR, EXPOSE, the RUNs that create the final user), when the release is on the
    stage's own image: written once in a ``base`` stage both are built FROM. Empty when the
    images differ, the stage has a name of its own (other stages may use it), or nothing in
    that setup would be written twice. ARG (a stage does not inherit it), USER and SHELL (the
    release's own RUNs would run under them) and VOLUME (later writes there are dropped) end it."""
    if stage.name is not None or stage.image is None or stage.image.text != release.base.image:
        return []
    user_runs = {id(node) for node in layout.user_runs}
    prefix = []
    for node in stage.instructions:
        if node.name in _SHAREABLE or id(node) in user_runs:
            prefix.append(node)
        else:
            break
    repeated = {id(node) for node in layout.repeated} | user_runs
    if not any(id(node) in repeated for node in prefix):
        return []
    end = prefix[-1].end
    if any(edit.start < end for edit in release.build_edits):
        return []  # the recipe edits the setup itself
    return prefix


# config that build and release can share in a base stage (see _shared_setup)
_SHAREABLE = frozenset({"ENV", "LABEL", "WORKDIR", "EXPOSE", "STOPSIGNAL"})


def _fix(ctx: Context, stage: Stage, release: Release, layout: _Layout) -> Fix | str:
    dockerfile = ctx.dockerfile
    index: ItemIndex = ctx.memo("restructure.items", lambda: ItemIndex(dockerfile))
    edits: list[Edit] = list(release.build_edits)
    like = stage.from_instruction
    shared = _shared_setup(ctx, stage, release, layout)
    build_name, base_name = stage.name, None
    if shared:
        base_name = free_stage_name(ctx.stages, "base")
        build_name = free_stage_name(ctx.stages, "build")
        edits.append(stage_name_edit(dockerfile, stage, base_name))
        after_setup = shared[-1].lines[-1].content_end
        edits.append(Edit.insert(after_setup, dockerfile.newline + dockerfile.newline + line(dockerfile, like, "FROM", f"{base_name} {_as(like)} {build_name}").rstrip(b"\r\n")))
    elif build_name is None:
        build_name = free_stage_name(ctx.stages, "build")
        edits.append(stage_name_edit(dockerfile, stage, build_name))
    in_base = {id(node) for node in shared}
    release_name = free_stage_name(ctx.stages, "release")
    release_from = base_name or release.base.image
    text: list[bytes] = [line(dockerfile, like, "FROM", f"{release_from} {_as(like)} {release_name}")]
    text.extend(_arg_line(dockerfile, node) for node in layout.args if not shared or _needed_after(node, layout, in_base))
    if release.packages:
        text.append(line(dockerfile, like, "RUN", _apt_install(release.packages)))
    text.extend(_run_text(dockerfile, like, lines) for lines in release.release_runs)
    for node in layout.user_runs:
        if id(node) not in in_base:
            text.append(_instruction_text(dockerfile, node))
    copies = list(release.artefacts) + layout.extra_copies
    for artefact in copies:
        text.append(copy_from_line(dockerfile, like, build_name, artefact.source, artefact.target, artefact.chown))
    for assignment in release.env:
        text.append(line(dockerfile, like, "ENV", assignment))
    declares = {"stages", "instructions", "base-image", *_drops(ctx, stage, release), *(f"rebuilds:{p}" for p in release.rebuilds)}
    declares |= {"config:Env:" + assignment.split("=", 1)[0] for assignment in release.env}
    declares |= {f"adds:{glob}" for glob in release.adds}
    declares |= {f"drops:{glob}" for glob in release.drops} | set(release.declares)
    moved_ids = {id(node) for node in layout.moved}
    for node in sorted(layout.moved + layout.repeated, key=lambda n: n.start):
        if id(node) in in_base:
            continue  # the release inherits it from the base stage
        converted = _without_shell(dockerfile, node, release)
        if node.name in release.config:
            comments = dockerfile.source[index.block(node).start : node.start] if id(node) in moved_ids else b""
            text.append(comments + line(dockerfile, node, node.name, release.config[node.name]))
            declares.add("config:" + CONFIG_FIELDS[node.name])
        elif converted is not None:
            text.append(converted)
            declares.add("config:" + CONFIG_FIELDS[node.name])
        elif id(node) in moved_ids:
            text.append(block_text(dockerfile, index.block(node)))
        else:
            text.append(_instruction_text(dockerfile, node))
    if not dockerfile.source.endswith((b"\n", b"\r")) and text:
        text[-1] = text[-1].rstrip(b"\r\n")  # the file ended without a newline: so does the new one
    tail = _tail_start(dockerfile, index, stage, layout)
    build_tail = b"".join(dockerfile.newline + line(dockerfile, like, "RUN", command).rstrip(b"\r\n") for command in release.build_tail)
    line_after = release.build_tail_after
    after = next((n for n in stage.instructions if n.start_line == line_after), None) if line_after else None
    if build_tail and after is not None:
        # the tail goes right after a step inside the build stage (a prune before `COPY . .`)
        edits.append(Edit.insert(after.lines[-1].content_end, build_tail))
        build_tail = b""
    if tail is not None:
        # the stage ends with what moves: the release takes the place of that tail
        edits.append(Edit(tail, len(dockerfile.source), build_tail + dockerfile.newline + dockerfile.newline + b"".join(text)))
    else:
        edits.extend(removal(dockerfile, index.block(node)) for node in layout.moved)
        if build_tail:
            edits.append(Edit.insert(_last_kept(index, layout).lines[-1].content_end, build_tail))
        edits.append(append_at_end(dockerfile, b"".join(text)))
    new_runs = (1 if release.packages else 0) + sum(id(node) not in in_base for node in layout.user_runs) + release.new_build_runs
    new_runs += len(release.release_runs) + len(release.build_tail)
    claims = ((stage.from_instruction.start, dockerfile.instructions[-1].end),)
    try:
        return Fix(tuple(edits), Safety.UNSAFE, MULTI_STAGE_SPLIT.fix_title, frozenset(declares), runs_removed=-new_runs, claims=claims)
    except ValueError as exc:
        return f"the edits would overlap ({exc})"


def _needed_after(arg: Instruction, layout: _Layout, in_base: set[int]) -> bool:
    """An ARG the release still declares: a config line it writes itself uses it."""
    names = {name.split("=", 1)[0] for name in arg.args_text.split()}
    for node in layout.moved + layout.repeated:
        if id(node) not in in_base and names & (referenced(node.args_text) | {v for f in node.flags for v in referenced(f.value)}):
            return True
    return False


def _tail_start(dockerfile, index: ItemIndex, stage: Stage, layout: _Layout) -> int | None:
    """Where the file's tail of moved instructions starts (after the last instruction that
    stays, its EOL excluded), when nothing but those instructions, their comments and blank
    lines follow it; None otherwise."""
    items = index.items
    kept = _last_kept(index, layout)
    if kept is None:
        return None
    last_kept = index.position[id(kept)]
    for item in items[last_kept + 1 :]:
        if isinstance(item, Instruction):
            continue  # a moved one (every later instruction is)
        if item.is_comment and not _attached(items, item):
            return None  # a comment of its own would be lost
    node = items[last_kept]
    last_line = node.lines[-1]
    return last_line.content_end


def _last_kept(index: ItemIndex, layout: _Layout) -> Instruction | None:
    """The last instruction of the file that stays where it is (the build stage's end)."""
    moved = {id(node) for node in layout.moved}
    return next((item for item in reversed(index.items) if isinstance(item, Instruction) and id(item) not in moved), None)


def _attached(items, comment) -> bool:
    """A comment line followed, through comment lines only, by an instruction."""
    i = items.index(comment)
    for item in items[i + 1 :]:
        if isinstance(item, Instruction):
            return True
        if not getattr(item, "is_comment", False):
            return False
    return False


def _drops(ctx: Context, stage: Stage, release: Release) -> list[str]:
    """``drops:<glob>`` for verify: the files only the build needed, under every folder the
    stage copied the build context into."""
    destinations = set()
    for step in stage_steps(ctx, stage):
        node = step.instruction
        if node.name in ("COPY", "ADD") and node.flag("from") is None and not step.effects.unknown:
            destinations |= step.effects.writes
    globs = []
    for destination in sorted(destinations):
        for pattern in build_only(release.recipe):
            globs += [f"drops:{destination}/**/{pattern}", f"drops:{destination}/**/{pattern}/**"]
    return globs


def _as(like: Instruction) -> str:
    return "as" if like.keyword.islower() else "AS"


def _instruction_text(dockerfile, node: Instruction) -> bytes:
    """The instruction's own bytes (no comments above it), ending with a newline."""
    text = dockerfile.source[node.start : node.end]
    return text if text.endswith((b"\n", b"\r")) else text + dockerfile.newline


def _arg_line(dockerfile, node: Instruction) -> bytes:
    return _instruction_text(dockerfile, node)


def _without_shell(dockerfile, node: Instruction, release: Release) -> bytes | None:
    """A shell-form CMD/ENTRYPOINT/HEALTHCHECK written in exec form, for a base without a shell."""
    if release.base.shell or node.name not in ("CMD", "ENTRYPOINT", "HEALTHCHECK") or node.json is not None:
        return None
    if node.name == "HEALTHCHECK":
        return None  # kept as written: _runs_what_it_ships refuses shells it cannot convert
    words = shell_words_if_plain(node.args_text)
    if words is None:
        return None
    return line(dockerfile, node, node.name, exec_form(words))


def _run_text(dockerfile, like: Instruction, lines: list[str]) -> bytes:
    """A new RUN whose command spans ``lines``, joined with continuations in the file's style."""
    joint = line_break(dockerfile, like).decode("utf-8", "surrogateescape")
    return line(dockerfile, like, "RUN", joint.join(lines))


def _apt_install(packages: list[str]) -> str:
    names = " ".join(sorted(packages))
    return f"apt-get update && apt-get install -y --no-install-recommends {names} && rm -rf /var/lib/apt/lists/*"


def _short(node: Instruction) -> str:
    text = " ".join(node.logical.decode(node.keyword_start).split())
    return text if len(text) <= 40 else text[:37] + "..."

