"""Go: ``go build -o OUT`` / ``go install`` -> the binary on distroless static (no cgo) or on
``debian:<suite>-slim`` (cgo, or when the context could not be read).

Whether the program needs cgo is read from the build context: a ``.go`` file that imports
``"C"`` or ``plugin`` needs it, and so does a build with ``-buildmode=plugin`` (data:
``recipes.toml`` [go]); ``CGO_ENABLED=0``/``1`` set on the command or by ENV decides it outright.
A program without cgo is built with ``CGO_ENABLED=0`` (added to the build command) so that it
links statically: Go links the ``net`` and ``os/user`` packages against libc otherwise, and
such a binary does not start on distroless static.

System packages the stage installs go as for Python and Node (``recipes/packages.py``): build
tools stay in the build stage; every other package (a ``jq`` the server runs) is installed
again in the release, so a static binary that needs one goes on ``debian:<suite>-slim``
instead of distroless (which has no package manager, and has only ``ca-certificates`` and
``tzdata``). The version control tools the go command runs to download modules (git,
mercurial, ...: ``recipes.toml`` [go] ``module_vcs``) are build tools of a Go stage.
"""

from __future__ import annotations

from functools import lru_cache

import posixpath
import re

from slimfile.analysis.build_context import BuildContext, ContextTooLarge
from slimfile.analysis.context import Context
from slimfile.analysis.manifests import read_go_mod
from slimfile.analysis.recipes import Artefact, Refusal, Release, base, build_image_size, debian_suite
from slimfile.analysis.recipes.files import recipe_data, runtime_copies
from slimfile.analysis.recipes.packages import StagePackages, installed_names, is_build_package, stage_packages
from slimfile.analysis.steps import CommandEnv, Step
from slimfile.shell.effects import command_effects, resolve_path
from slimfile.shell.model import ShellScript
from slimfile.shell.packages import PackageFact
from slimfile.syntax.edits import Edit
from slimfile.syntax.stages import Stage

_ALIAS = r"(?:[A-Za-z_.][A-Za-z0-9_]*\s+)?"
MAX_GO_FILES = 2000


def release(ctx: Context, stage: Stage, steps: list[Step]) -> Release | Refusal | None:
    builds = list(_go_builds(ctx, steps))
    if not builds:
        return None
    artefacts: list[Artefact] = []
    edits: list[Edit] = []
    cgo_answers: list[str | None] = []
    for step, fact, cwd, env in builds:
        output = _output_path(ctx, fact, cwd, env)
        if isinstance(output, Refusal):
            return output
        artefacts.append(Artefact(output, output, why="the Go binary"))
        cgo_answers.append("1" if _cgo_build_mode(fact) else _cgo_setting(fact, env))
    cgo = _needs_cgo(ctx.build_files, cgo_answers)
    if isinstance(cgo, Refusal):
        return cgo
    files = runtime_copies(ctx, steps, "go")
    if isinstance(files, str):
        return Refusal("go", files)
    artefacts.extend(Artefact(f.path, f.path, f.chown, "a runtime file") for f in files if not _is_source_tree(f.path, artefacts))
    suite = debian_suite(stage.image.tag if stage.image else None)
    packages = _stage_packages(ctx, steps, suite, static=cgo is False)
    if isinstance(packages, str):
        return Refusal("go", packages)
    notes: list[str] = [f"leaves {', '.join(packages.build)} in the build stage"] if packages.build else []
    installs = list(packages.runtime)  # what the release installs again: the stage's packages that are not build tools
    if cgo is None:  # no context: a libc base runs both kinds of binary
        target = base("debian-slim", suite)
        notes.append(f"{ctx.context_unread}: cgo could not be ruled out, so the release keeps a libc, and every copied file goes along")
        summary = f"the Go binary on {target.image}"
    elif cgo:
        target = base("debian-slim", suite)
        summary = f"the cgo binary on {target.image} (same Debian suite as the build, for its libc)"
    else:
        target = base("distroless-static")
        installs = [name for name in installs if name not in target.provides]
        if installs:  # distroless has no package manager: a slim Debian installs them
            target = base("debian-slim", suite)
        for step, fact, _cwd, env in builds:
            if _cgo_setting(fact, env) is None:
                edits.append(Edit.insert(_command_start(ctx, step, fact), b"CGO_ENABLED=0 "))
        summary = f"the static Go binary on {target.image}" + (" (built with CGO_ENABLED=0: no .go file imports \"C\")" if edits else "")
    if installs:
        summary += f" with {', '.join(installs)}"
    repository = stage.image.short_repository if stage.image else ""
    rebuilt = [a.source for a in artefacts if a.why == "the Go binary"] if edits else []
    fallback = base("debian-slim", suite) if not target.shell else None
    return Release(
        "go", target, artefacts, summary, edits, packages=installs, notes=notes, build_size=build_image_size(repository), rebuilds=rebuilt,
        fallback=fallback,
    )


def _stage_packages(ctx: Context, steps: list[Step], suite: str, static: bool) -> StagePackages | str:
    """The stage's apt packages: build tools, and what the release installs again. A static
    binary links no library: a ``-dev`` package stays behind without its runtime library
    (one slimfile does not know refuses only a binary that may link it)."""
    fetchers = frozenset(recipe_data("go")["module_vcs"])
    if not static:
        return stage_packages(ctx, steps, suite, fetchers)
    names = installed_names(ctx, steps, fetchers)
    if isinstance(names, str):
        return names
    build = [n for n in names if is_build_package(n) or n in fetchers]
    return StagePackages(build, [n for n in names if n not in build])


def _go_builds(ctx: Context, steps: list[Step]):
    """(step, fact, cwd, env) of every `go build`/`go install` of the stage."""
    for step in steps:
        if step.instruction.name != "RUN":
            continue
        script = ctx.shell(step.instruction)
        if not isinstance(script, ShellScript):
            continue
        facts = [f for f in script.packages if _builds_the_project(f)]
        if not facts:
            continue
        state = step.state
        effects = {e.command.index: e for e in command_effects(script, workdir=state.workdir, env=state.env, home=state.home)}
        for fact in facts:
            each = effects[fact.command]
            yield step, fact, each.cwd, CommandEnv(state.env, fact.env)


def _builds_the_project(fact: PackageFact) -> bool:
    """`go build`, or `go install` of the project's packages; `go install tool@version` (and
    `go get`) installs a tool, which is the image's purpose, not an artefact to split out."""
    if fact.manager != "go" or fact.action not in ("build", "install") or not fact.subcommand:
        return False
    if fact.subcommand[0].value == "get":
        return False
    return not any("@" in word.value for word in fact.operands)


def _output_path(ctx: Context, fact: PackageFact, cwd: str | None, env: dict) -> str | Refusal:
    output = fact.option_values("-o")
    if output:
        if output[-1].endswith("/"):
            return Refusal("go", f"`go build -o {output[-1]}` writes into a folder: which binaries is not known")
        path = resolve_path(output[-1], cwd, None)
        if path is None or "$" in output[-1]:
            return Refusal("go", f"the output `{output[-1]}` of `go build` is not a known path")
        return path
    packages = [w.value for w in fact.operands if not w.value.startswith("-")]
    if len(packages) > 1 or any("..." in p for p in packages):
        return Refusal("go", "`go build` of several packages: which binaries it writes is not known")
    name = _binary_name(ctx, packages[0] if packages else ".", cwd)
    if isinstance(name, Refusal):
        return name
    if fact.action == "install" or (fact.subcommand and fact.subcommand[0].value == "install"):
        gobin = env.get("GOBIN") or posixpath.join(env.get("GOPATH") or recipe_data("go")["default_gopath"], "bin")
        if "$" in gobin:
            return Refusal("go", "GOBIN/GOPATH hold a value slimfile cannot expand")
        return posixpath.join(gobin, name)
    if cwd is None:
        return Refusal("go", "`go build` runs in a folder slimfile cannot tell")
    return posixpath.join(cwd, name)


def _binary_name(ctx: Context, package: str, cwd: str | None) -> str | Refusal:
    """Go names a binary after the last element of the package's import path."""
    if package not in (".", "./"):
        name = package.rstrip("/").rsplit("/", 1)[-1]
        if re.fullmatch(r"v[0-9]+", name):  # a major-version suffix: the element before it
            name = package.rstrip("/").rsplit("/", 2)[-2]
        return name if name not in (".", "..", "") else Refusal("go", f"cannot tell the binary name of `{package}`")
    files = ctx.build_files
    module = read_go_mod(files, "go.mod") if files is not None else None
    if module is None or isinstance(module, str) or not module.module:
        return Refusal("go", "`go build` without -o: its binary is named after go.mod's module, which was not read")
    return _binary_name(ctx, module.module, cwd)


def _cgo_setting(fact: PackageFact, env: dict) -> str | None:
    value = env.get("CGO_ENABLED")
    return value.strip("\"'") if value is not None else None


def _cgo_build_mode(fact: PackageFact) -> bool:
    """``-buildmode=plugin`` (and c-shared, c-archive, shared) links externally: cgo."""
    modes = set(fact.option_values("-buildmode"))
    return bool(modes & set(recipe_data("go")["cgo_buildmodes"]))


@lru_cache(maxsize=1)
def _cgo_imports() -> tuple[re.Pattern, re.Pattern]:
    """An import (single or in a block) of a package that needs cgo (recipes.toml cgo_imports)."""
    paths = "|".join(re.escape(p) for p in recipe_data("go")["cgo_imports"])
    single = re.compile(rf'^\s*import\s+(?:\(\s*)?{_ALIAS}"(?:{paths})"', re.MULTILINE)
    block = re.compile(rf'^\s*import\s*\((?:[^)]*\n)*?\s*{_ALIAS}"(?:{paths})"\s*$', re.MULTILINE)
    return single, block


def _needs_cgo(files: BuildContext | None, answers: list[str | None]) -> bool | None | Refusal:
    """True/False, or None when it cannot be told (no context)."""
    if any(answer == "1" for answer in answers):
        return True
    if all(answer == "0" for answer in answers):
        return False
    if files is None:
        return None
    try:
        listing = files.listing()
    except ContextTooLarge as exc:
        return Refusal("go", f"{exc}: cannot check the sources for cgo")
    sources = [p for p in listing.files if p.endswith(".go") and not p.endswith("_test.go")]
    if len(sources) > MAX_GO_FILES:
        return Refusal("go", f"more than {MAX_GO_FILES} .go files: not read for cgo")
    single, block = _cgo_imports()
    for path in sources:
        text = files.read_text(path) or ""
        if single.search(text) or block.search(text):
            return True
    return False


def _command_start(ctx: Context, step: Step, fact: PackageFact) -> int:
    script = ctx.shell(step.instruction)
    return script.commands[fact.command].start


def _is_source_tree(path: str, artefacts: list[Artefact]) -> bool:
    """A runtime copy that is a binary's own path (the binary was built into the copied folder)."""
    return any(a.source == path for a in artefacts)
