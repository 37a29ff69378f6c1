"""Java: a jar built with maven, gradle or javac + jar -> the jar on the JRE image of the same
Java version (``eclipse-temurin:<v>-jre``).

Which jar is the artefact is read from what the image runs: ``java [options] -jar PATH`` (or
``-cp``/``-classpath`` with jars and folders) in CMD/ENTRYPOINT, resolved against WORKDIR. A
build tool in a RUN of the stage (mvn, gradle, javac, jar) is what makes it a build; the
JDK, the build tool, its repository cache and the sources stay in the build stage.
"""

from __future__ import annotations

import posixpath
import re

from slimfile.analysis.context import Context
from slimfile.analysis.recipes import Artefact, Base, Refusal, Release, build_image_size
from slimfile.analysis.recipes.files import recipe_data, runtime_copies
from slimfile.analysis.recipes.packages import facts
from slimfile.analysis.steps import Step
from slimfile.restructure.stages import shell_words_if_plain
from slimfile.shell.model import ShellScript
from slimfile.syntax.stages import Stage

_BUILD_PROGRAMS = frozenset({"javac", "jar"})
_VERSION = re.compile(r"(?:^|[^0-9])(8|11|17|21|22|23|24|25)(?:[^0-9]|$)")
JRE_SIZE = 324828029


def release(ctx: Context, stage: Stage, steps: list[Step]) -> Release | Refusal | None:
    if stage.image is None or stage.image.short_repository not in recipe_data("java")["jdk_repositories"]:
        return None
    if not _builds_java(ctx, steps):
        return None
    runs = _command(steps)
    if runs is None:
        return Refusal("java", "what the image runs is not a plain `java -jar` or `java -cp` command")
    step, words = runs
    paths = _classpath(words)
    if isinstance(paths, str):
        return Refusal("java", paths)
    artefacts = []
    for path in paths:
        resolved = path if path.startswith("/") else (posixpath.normpath(posixpath.join(step.state.workdir, path)) if step.state.workdir else None)
        if resolved is None or "$" in path or "*" in path:
            return Refusal("java", f"the class path entry `{path}` is not a known path")
        artefacts.append(Artefact(resolved, resolved, why="the jar"))
    files = runtime_copies(ctx, steps, "java")
    if isinstance(files, str):
        return Refusal("java", files)
    artefacts.extend(Artefact(f.path, f.path, f.chown, "a runtime file") for f in files if f.path not in {a.source for a in artefacts})
    version = _java_version(stage.image.tag, stage.image.short_repository)
    image = recipe_data("java")["jre"].format(version=version)
    target = Base("temurin-jre", image, True, frozenset(), True, JRE_SIZE, programs=frozenset({"java"}))
    summary = f"the jar on {image}"
    return Release("java", target, artefacts, summary, build_size=build_image_size(stage.image.short_repository), build_managers=frozenset({"maven", "gradle"}), build_programs=_BUILD_PROGRAMS)


def _builds_java(ctx: Context, steps: list[Step]) -> bool:
    if any(f.manager in ("maven", "gradle") and f.action == "build" for _s, f in facts(ctx, steps)):
        return True
    for step in steps:
        if step.instruction.name == "RUN":
            script = ctx.shell(step.instruction)
            if isinstance(script, ShellScript) and any(c.name in _BUILD_PROGRAMS for c in script.commands):
                return True
    return False


def _command(steps: list[Step]) -> tuple[Step, list[str]] | None:
    """The words of what the image runs (ENTRYPOINT, else CMD), when they start with java."""
    entrypoint = next((s for s in reversed(steps) if s.instruction.name == "ENTRYPOINT"), None)
    step = entrypoint or next((s for s in reversed(steps) if s.instruction.name == "CMD"), None)
    if step is None:
        return None
    node = step.instruction
    words = list(node.json) if node.json is not None else shell_words_if_plain(node.args_text)
    if not words or posixpath.basename(words[0]) != "java":
        return None
    return step, words


def _classpath(words: list[str]) -> list[str] | str:
    for i, word in enumerate(words[1:], 1):
        if word == "-jar" and i + 1 < len(words):
            return [words[i + 1]]
        if word in ("-cp", "-classpath", "--class-path") and i + 1 < len(words):
            return [entry for entry in words[i + 1].split(":") if entry]
    return "the java command names no -jar or class path"


def _java_version(tag: str | None, repository: str) -> str:
    """``17-jdk`` / ``3-eclipse-temurin-17`` / ``jdk17`` -> ``17``; the default when none."""
    match = _VERSION.search(tag or "")
    return match.group(1) if match else recipe_data("java")["default_version"]

