"""Rust: ``cargo build --release`` -> ``target/release/<bin>`` (``cargo install`` ->
``$CARGO_HOME/bin/<bin>``) on ``debian:<suite>-slim`` of the build image's Debian suite.

The binary's name comes from Cargo.toml (``--bin``, the only ``[[bin]]``, else the package
name). Rust binaries link glibc dynamically, so the release keeps a libc of the same suite;
libraries the build installed with apt as ``-dev`` packages (libssl-dev, ...) become their
runtime packages in the release.
"""

from __future__ import annotations


import bisect
import posixpath

from slimfile.analysis.context import Context
from slimfile.analysis.globs import clean_path, leading_folders
from slimfile.analysis.manifests import read_toml
from slimfile.analysis.recipes import Artefact, Refusal, Release, base, build_image_size, debian_suite
from slimfile.analysis.recipes.files import recipe_data, runtime_copies
from slimfile.analysis.recipes.packages import facts, stage_packages
from slimfile.analysis.steps import CommandEnv, Step
from slimfile.shell.effects import command_effects
from slimfile.shell.model import ShellScript
from slimfile.shell.packages import PackageFact
from slimfile.syntax.stages import Stage


def release(ctx: Context, stage: Stage, steps: list[Step]) -> Release | Refusal | None:
    builds = [(step, fact) for step, fact in facts(ctx, steps) if _builds_the_project(fact)]
    if not builds:
        return None
    artefacts: list[Artefact] = []
    copies = _ContextCopies(steps)
    for step, fact in builds:
        output = _output(ctx, copies, step, fact)
        if isinstance(output, Refusal):
            return output
        artefacts.append(Artefact(output, output, why="the Rust binary"))
    packages = stage_packages(ctx, steps, debian_suite(stage.image.tag if stage.image else None))
    if isinstance(packages, str):
        return Refusal("rust", packages)
    files = runtime_copies(ctx, steps, "rust")
    if isinstance(files, str):
        return Refusal("rust", files)
    built = {a.source for a in artefacts}
    artefacts.extend(Artefact(f.path, f.path, f.chown, "a runtime file") for f in files if f.path not in built)
    target = base("debian-slim", debian_suite(stage.image.tag if stage.image else None))
    summary = f"the Rust binary on {target.image}" + (f" with {', '.join(packages.runtime)}" if packages.runtime else "")
    repository = stage.image.short_repository if stage.image else ""
    return Release(
        "rust", target, artefacts, summary, packages=packages.runtime, build_size=build_image_size(repository), build_managers=frozenset({"cargo"})
    )


def _builds_the_project(fact: PackageFact) -> bool:
    """`cargo build`, or `cargo install --path DIR`; `cargo install NAME` installs a tool from a
    registry, which is the image's purpose, not an artefact to split out."""
    if fact.manager != "cargo":
        return False
    return fact.action == "build" or (fact.action == "install" and fact.option("--path") is not None)


def _output(ctx: Context, copies: _ContextCopies, step: Step, fact: PackageFact) -> str | Refusal:
    script = ctx.shell(step.instruction)
    assert isinstance(script, ShellScript)
    state = step.state
    cwd = next(e.cwd for e in command_effects(script, workdir=state.workdir, env=state.env, home=state.home) if e.command.index == fact.command)
    if cwd is None:
        return Refusal("rust", "cargo runs in a folder slimfile cannot tell")
    for option in ("--target", "--target-dir", "--manifest-path", "--profile", "--example", "-p", "--package", "--root"):
        if fact.option(option) is not None:
            return Refusal("rust", f"`cargo {fact.action} {option}` puts the binary where slimfile does not follow it")
    name = _binary_name(ctx, copies, step, fact, cwd)
    if isinstance(name, Refusal):
        return name
    if fact.action == "install":
        home = CommandEnv(state.env, fact.env).get("CARGO_HOME") or recipe_data("rust")["default_cargo_home"]
        if "$" in home:
            return Refusal("rust", "CARGO_HOME holds a value slimfile cannot expand")
        return posixpath.join(home, "bin", name)
    if not fact.has("release"):
        return posixpath.join(cwd, "target", "debug", name)
    return posixpath.join(cwd, "target", "release", name)


def _binary_name(ctx: Context, copies: _ContextCopies, step: Step, fact: PackageFact, cwd: str) -> str | Refusal:
    chosen = fact.option_values("--bin")
    if chosen:
        return chosen[-1]
    files = ctx.build_files
    if files is None:
        return Refusal("rust", f"the binary is named in Cargo.toml, and {ctx.context_unread}")
    source = copies.source_of(step, cwd)
    if source is None:
        return Refusal("rust", "Cargo.toml does not come from a copy slimfile can follow")
    manifest = read_toml(files, posixpath.join(source, "Cargo.toml"))
    if isinstance(manifest, str):
        return Refusal("rust", manifest)
    if "workspace" in manifest and "package" not in manifest:
        return Refusal("rust", "a Cargo workspace: which binaries it builds is not followed")
    declared, package = manifest.get("bin", []), manifest.get("package", {})
    if not isinstance(declared, list) or not isinstance(package, dict):  # cargo refuses it too
        return Refusal("rust", "Cargo.toml is not valid: `bin` must be an array of tables, `package` a table")
    names = [b.get("name") for b in declared if isinstance(b, dict) and b.get("name")]
    if len(names) > 1:
        return Refusal("rust", "Cargo.toml declares several binaries")
    name = names[0] if names else package.get("name")
    if name is not None and not isinstance(name, str):
        return Refusal("rust", "Cargo.toml is not valid: a name must be a string")
    return name if name else Refusal("rust", "Cargo.toml names no package")


def plain_context_copy(step: Step) -> tuple[str, str] | None:
    """(source word, destination) of ``COPY SRC DEST`` from the build context, written plainly
    (no ``--from``, no variable, one source, shell form); None for any other step."""
    node = step.instruction
    if node.name not in ("COPY", "ADD") or node.flag("from") is not None or step.effects.unknown or node.json is not None:
        return None
    words = node.args_text.split()
    if len(words) != 2 or "$" in words[0]:
        return None
    (destination,) = step.effects.writes
    return words[0], destination


class _ContextCopies:
    """The stage's copies of a context folder (``COPY SRC DEST``), each destination with the
    steps that copied into it, read once: asking per build for the last copy into a folder
    scanned every earlier step (n builds, n copies: quadratic)."""

    def __init__(self, steps: list[Step]) -> None:
        self.order = {id(step): index for index, step in enumerate(steps)}
        self.into: dict[str, list[tuple[int, str]]] = {}  # destination -> (step index, source word)
        for index, step in enumerate(steps):
            copy = plain_context_copy(step)
            if copy is not None:
                word, destination = copy
                self.into.setdefault(destination.rstrip("/") or "/", []).append((index, word))

    def source_of(self, before: Step, cwd: str) -> str | None:
        """The context folder that the folder ``cwd`` was copied from (the last copy of a context
        folder into ``cwd`` or a folder above it, before ``before``)."""
        limit = self.order[id(before)]
        best: tuple[int, str, str] | None = None
        for folder in [*leading_folders(cwd.rstrip("/") + "/")]:
            destination = folder or "/"
            found = self.into.get(destination)
            if not found:
                continue
            at = bisect.bisect_left(found, (limit, "")) - 1
            if at >= 0 and (best is None or found[at][0] > best[0]):
                best = (found[at][0], found[at][1], destination)
        if best is None:
            return None
        _index, word, destination = best
        return clean_path(posixpath.join(clean_path(word), posixpath.relpath(cwd, destination)))
