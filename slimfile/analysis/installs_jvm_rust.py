"""Maven builds and cargo builds.

``mvn package`` after ``COPY . .`` downloads its dependencies and plugins on every source
edit. ``mvn dependency:go-offline`` with the same options (batch mode, settings, profiles,
properties) reads only ``pom.xml`` (and ``.mvn/``, the wrapper, the settings files named by
the command, ``.mvn/maven.config`` or MAVEN_ARGS): it runs in a new RUN above the copy and the
build stays; what go-offline misses (a plugin's own late dependencies) is still
downloaded by the build, as before. Multi-module projects (``<modules>``), a parent POM read
from the project, offline builds (``-o``) and reactor options are refused.

Cargo cannot do the same: it loads a crate's targets (``src/main.rs``, ``src/lib.rs``, every
``[[bin]]`` path) before it fetches anything, so ``cargo fetch`` needs the sources. The
dummy-source trick (create an empty ``src/main.rs``, fetch, delete it) is a guess about the
crate's targets rather than a fact, and cargo-chef's recipe is a tool the image does not
have: a cargo build after the copy is reported with that reason and left alone.
"""

from __future__ import annotations

import re
from itertools import pairwise

from slimfile.analysis.install_model import Install, InstallRequest, NotMovable

_MODULES = re.compile(r"<modules>\s*<module>", re.S)
_PARENT_PATH = re.compile(r"<parent>.*?<relativePath>\s*([^<\s]*)\s*</relativePath>.*?</parent>", re.S)
_PARENT = re.compile(r"<parent>", re.S)


def maven_build(request: InstallRequest) -> Install | NotMovable:
    fact = request.fact
    spec = request.spec
    for option in fact.options:
        if option.name in spec["refuse_options"]:
            return request.refuse(f"`{option.name}` {spec['refuse_options'][option.name]}")
    more = _more_arguments(request)
    if isinstance(more, NotMovable):
        return more
    for where, words in more:
        for word in words:
            name = word.split("=", 1)[0]  # `--file=x` as `--file x`
            if name in spec["refuse_options"]:
                return request.refuse(f"`{name}` ({where}) {spec['refuse_options'][name]}")
    pom = "pom.xml"
    if request.files is not None:
        text = request.text(pom)
        if text is None:
            return request.refuse("pom.xml does not come from the copy")
        if _MODULES.search(text):
            return request.refuse("the POM lists <modules>, whose POMs and sources the build reads")
        parent = _PARENT_PATH.search(text)
        if parent and parent.group(1) or (_PARENT.search(text) and request.sent("../pom.xml")):
            return request.refuse("the POM's parent is read from a folder of the project")
    prepare = _go_offline(request)
    if isinstance(prepare, NotMovable):
        return prepare
    outside = request.outside()
    if isinstance(outside, str):
        return request.refuse(outside)
    uses, writes = outside
    reads = [request.image(pom)]
    extra = [name for name in _settings_files(request, more) if not name.startswith("/")]
    if request.files is not None:
        reads.extend(request.present([*spec.get("optional", ()), *spec.get("dirs", ()), *extra]))
        missing = [name for name in extra if not request.sent(name)]
        if missing:
            return request.refuse(f"{missing[0]} does not come from the copy")
    elif fact.tool == "mvnw":
        reads.extend(request.image(name) for name in ("mvnw", ".mvn"))
    if fact.tool == "mvnw" and request.files is not None and not request.sent("mvnw"):
        return request.refuse("the wrapper ./mvnw does not come from the copy")
    if fact.tool == "mvnw":
        reads.append(request.image("mvnw"))
    prepared = None if fact.action == "download" else prepare
    return Install(request.ecosystem, fact, tuple(dict.fromkeys(reads)), (), prepare=prepared, writes=writes, env=tuple(spec["env"]), uses=uses)


# options naming a file Maven reads before it resolves anything (a missing one stops it)
_FILE_OPTIONS = ("-s", "--settings", "-gs", "--global-settings", "-t", "--toolchains", "-gt", "--global-toolchains")


def _settings_files(request: InstallRequest, more: list[tuple[str, list[str]]]) -> list[str]:
    """The settings and toolchains files of the command line, .mvn/maven.config and MAVEN_ARGS."""
    files = [o.value for o in request.fact.options if o.name in _FILE_OPTIONS and o.value]
    for _where, words in more:
        files.extend(value for option, value in pairwise(words) if option in _FILE_OPTIONS)
        glued = (word.split("=", 1) for word in words if "=" in word)  # `--settings=ci/settings.xml`
        files.extend(value for option, value in glued if option in _FILE_OPTIONS)
    return files


def _more_arguments(request: InstallRequest) -> list[tuple[str, list[str]]] | NotMovable:
    """Arguments Maven adds to the command line: the project's .mvn/maven.config (Maven's
    "Configuring Maven") and MAVEN_ARGS (Maven 3.9). A MAVEN_ARGS not known here refuses."""
    more: list[tuple[str, list[str]]] = []
    if request.files is not None and request.sent(".mvn/maven.config"):
        more.append((".mvn/maven.config", (request.text(".mvn/maven.config") or "").split()))
    words = request.argument_variable("MAVEN_ARGS")
    if isinstance(words, NotMovable):
        return words
    return [*more, ("MAVEN_ARGS", words)] if words else more


def _go_offline(request: InstallRequest) -> str | NotMovable:
    """The command with its goals replaced by ``dependency:go-offline`` (options kept: they
    choose the repositories, profiles and properties that decide what is resolved)."""
    command = request.command
    if command.name_index is None or command.redirects:
        return request.refuse("the command cannot be written again with `dependency:go-offline`")
    goals = {w.text_start for w in request.fact.operands}
    words = [w.raw for w in command.words if w.text_start not in goals]
    prefix = [a.raw for a in command.assignments if a.start < command.words[0].start]
    return " ".join([*prefix, *words, request.spec["prepare_goal"]])


def cargo_build(request: InstallRequest) -> NotMovable | None:
    fact = request.fact
    words = [w.value for w in fact.subcommand]
    if words[:1] == ["chef"]:
        return None  # cargo-chef's recipe: already the dependencies-only build
    if fact.action == "install" and fact.packages and not fact.option("--path"):
        return None  # `cargo install ripgrep`: a tool from crates.io, not the project
    return request.refuse(request.spec["refusal"])
