"""Recipes for a multi-stage split: what a stage builds, and what its release stage needs.

A recipe reads a stage (its RUNs through the shell model, the build context) and answers with
a :class:`Release` — the artefacts to copy from the build stage and where they go, the base
the release runs on, runtime packages, edits the build stage needs (``CGO_ENABLED=0``) — or
with a :class:`Refusal` that names the missing fact, or None when the stage is not one it
knows. The pass (``slimfile/passes/multi_stage.py``) turns a Release into edits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache

from slimfile.analysis.context import Context
from slimfile.analysis.globs import leading_folders
from slimfile.analysis.steps import Step
from slimfile.shell.data import load
from slimfile.syntax.edits import Edit
from slimfile.syntax.stages import Stage


@dataclass(frozen=True)
class Artefact:
    """A path of the build stage that the release stage copies (``source`` -> ``target``)."""

    source: str
    target: str
    chown: str | None = None
    why: str = ""  # "the Go binary", "a runtime file"


def outermost(artefacts: list[Artefact]) -> list[Artefact]:
    """Each path once (the first), none inside another one that is copied whole, in their
    order: one set of the paths and a walk up each path, not a scan of the kept ones per
    artefact (a RUN that writes thousands of files)."""
    paths = {artefact.source.rstrip("/") for artefact in artefacts}
    kept: dict[str, Artefact] = {}
    for artefact in artefacts:
        path = artefact.source.rstrip("/")
        if any(folder in paths for folder in leading_folders(path)):
            continue
        if path in kept and kept[path].source != path and artefact.source == path:
            del kept[path]  # `/app/` then `/app`: the later, plain one is kept, at its place
        if path not in kept:
            kept[path] = artefact
    return list(kept.values())


@dataclass(frozen=True)
class Base:
    """A release base from ``data/release_bases.toml``."""

    key: str
    image: str
    shell: bool
    users: frozenset[str]
    apt: bool
    size: int
    provides: frozenset[str] = frozenset()
    programs: frozenset[str] = frozenset()  # programs on its PATH that a CMD may name (java)


@dataclass
class Release:
    recipe: str  # "go"
    base: Base
    artefacts: list[Artefact]
    summary: str  # one line for the finding: what is built and where it goes
    build_edits: list[Edit] = field(default_factory=list)
    packages: list[str] = field(default_factory=list)  # Debian packages the release installs
    notes: list[str] = field(default_factory=list)  # assumptions the finding states
    build_size: int | None = None  # typical size of the build image, for the estimate
    rebuilds: list[str] = field(default_factory=list)  # artefacts the build edits build differently
    fallback: Base | None = None  # a base with a shell, when the image needs one after all
    env: list[str] = field(default_factory=list)  # ENV lines the release adds (`PATH="/opt/venv/bin:$PATH"`)
    new_build_runs: int = 0  # RUN instructions the build edits add
    runs_any_program: bool = False  # a program named without a path may come from the release's PATH
    build_managers: frozenset[str] = frozenset()  # package managers whose RUNs are the build
    adds: list[str] = field(default_factory=list)  # image globs of files new in the release (a venv)
    # RUN commands appended to the build stage after its last build step (`npm prune --omit=dev`)
    build_tail: list[str] = field(default_factory=list)
    # the line of the build stage's instruction the tail follows instead (None: its last one):
    # a prune right after the install, before `COPY . .`, stays cached when the sources change
    build_tail_after: int | None = None
    # RUNs of the release stage, before its copies: each is the command's lines, written with
    # continuations in the file's style (an nginx config written with printf)
    release_runs: list[list[str]] = field(default_factory=list)
    build_runs: frozenset[int] = frozenset()  # lines of RUNs the recipe accounts for as the build
    drops: list[str] = field(default_factory=list)  # image globs of app files the release leaves behind
    # config instructions the release writes differently: keyword -> new arguments (CMD of nginx)
    config: dict[str, str] = field(default_factory=dict)
    declares: list[str] = field(default_factory=list)  # further differences verify may see (config:ExposedPorts)
    build_programs: frozenset[str] = frozenset()  # programs whose RUNs are the build (javac, jar)

    def on(self, other: Base, note: str) -> Release:
        """The same release on another base (a base with a shell, for a shell-form CMD)."""
        summary = self.summary.replace(self.base.image, other.image)
        return replace(self, base=other, summary=summary, notes=[*self.notes, note], fallback=None)


@dataclass(frozen=True)
class Refusal:
    recipe: str
    reason: str


Recipe = Callable[[Context, Stage, list[Step]], "Release | Refusal | None"]


@lru_cache(maxsize=1)
def _bases() -> dict:
    return load("release_bases")


def base(key: str, suite: str | None = None, **fields: str) -> Base:
    """The base ``key``; ``fields`` fill the image's other placeholders (``node:{tag}``)."""
    spec = _bases()["bases"][key]
    return Base(
        key=key,
        image=spec["image"].format(suite=suite or _bases()["suites"]["default"], **fields),
        shell=spec["shell"],
        users=frozenset(spec.get("users", ())),
        apt=spec["apt"],
        size=spec["size"],
        provides=frozenset(spec.get("provides", ())),
        programs=frozenset(spec.get("programs", ())),
    )


def debian_suite(tag: str | None) -> str:
    """The Debian suite of an official image tag (``1.21-bullseye`` -> bullseye)."""
    suites = _bases()["suites"]
    for suite in suites["known"]:
        if tag and (tag == suite or tag.endswith("-" + suite) or f"-{suite}-" in tag):
            return suite
    return suites["default"]


def build_image_size(repository: str) -> int | None:
    return _bases()["build_images"].get(repository)


def recipes() -> list[Recipe]:
    """Every recipe, in the order they are tried."""
    from slimfile.analysis.recipes import go, java, node, others, python, rust

    return [go.release, rust.release, java.release, python.release, node.release, others.release]


def release_plan(ctx: Context, stage: Stage, steps: list[Step]) -> Release | Refusal | None:
    """The first recipe's answer for the stage (None: no recipe recognises what it builds)."""
    for recipe in recipes():
        answer = recipe(ctx, stage, steps)
        if answer is not None:
            return answer
    return None
