"""System packages of a stage split: which ones only build (compilers, headers) and stay in the
build stage, and which the release installs again (each ``-dev`` package becomes its runtime
library; every other package is installed as it was). Data: ``data/dev_runtime.toml``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from slimfile.analysis.context import Context
from slimfile.analysis.steps import Step
from slimfile.shell.data import load
from slimfile.shell.model import ShellScript
from slimfile.shell.packages import PackageFact


@lru_cache(maxsize=1)
def _table() -> dict:
    return load("dev_runtime")


def is_build_package(name: str) -> bool:
    return name in _table()["build_only"] or name.endswith("-dev")


def runtime_of(dev: str, suite: str = "bookworm") -> str | None:
    """The runtime package of a -dev package on a Debian suite (None: not known)."""
    if suite not in _table()["suites"]["known"]:
        return None
    return _table().get(f"runtime_{suite}", {}).get(dev) or _table()["runtime"].get(dev)


@dataclass(frozen=True)
class StagePackages:
    build: list[str]  # what stays in the build stage
    runtime: list[str]  # what the release installs


def facts(ctx: Context, steps: list[Step]):
    """(step, package fact) of every RUN of the stage, in order."""
    for step in steps:
        if step.instruction.name != "RUN":
            continue
        script = ctx.shell(step.instruction)
        if isinstance(script, ShellScript):
            for fact in script.packages:
                yield step, fact


def apt_installs(ctx: Context, steps: list[Step]) -> list[tuple[Step, PackageFact]]:
    return [(step, fact) for step, fact in facts(ctx, steps) if fact.manager == "apt" and fact.action == "install"]


# system package managers whose installs a release does not repeat (it writes apt installs only)
_NOT_CARRIED = frozenset({"apk", "dnf", "zypper"})


def installed_names(ctx: Context, steps: list[Step], build_tools: frozenset[str] = frozenset()) -> list[str] | str:
    """The names of the stage's apt installs, in order, each once; or why they are not known.
    A package another system package manager installs that is not a build tool (``apk add
    jq``; a ``-dev`` package, whose library a compiled module links) may be needed at run
    time, and the release would not have it: that refuses."""
    build_only = _table()["build_only"]
    for step, fact in facts(ctx, steps):
        if fact.manager not in _NOT_CARRIED or fact.action != "install":
            continue
        kept = next((w.value for w in fact.packages if not w.static or (w.value not in build_only and w.value not in build_tools)), None)
        if kept is not None:
            return f"line {step.instruction.start_line} installs {kept} with {fact.tool}, which the release would not have (slimfile repeats apt installs only)"
    words = [word for _step, fact in apt_installs(ctx, steps) for word in fact.packages]
    if any(not word.static for word in words):
        return "an apt install names packages through variables"
    return list(dict.fromkeys(word.value for word in words))


def stage_packages(ctx: Context, steps: list[Step], suite: str = "bookworm", build_tools: frozenset[str] = frozenset()) -> StagePackages | str:
    """The stage's apt packages split into build-only and runtime, or why that cannot be done.
    ``build_tools``: packages the recipe's own build runs (the go command's module fetchers)."""
    names = installed_names(ctx, steps, build_tools)
    if isinstance(names, str):
        return names
    build, runtime = [], []
    for name in names:
        if name in build_tools:
            build.append(name)
            continue
        if not is_build_package(name):
            runtime.append(name)
            continue
        build.append(name)
        if name.endswith("-dev") and name not in _table()["build_only"]:  # libc6-dev, python3-dev: nothing to run
            library = runtime_of(name, suite)
            if library is None:
                return f"no runtime library is known for `{name}` on Debian {suite} (data/dev_runtime.toml)"
            runtime.append(library)
    return StagePackages(build, sorted(set(runtime)))
