"""Python with compiled dependencies: a virtualenv built where the compiler is, copied to the
slim variant of the same Python image with the runtime libraries the compiled modules link.

The stage must install Python packages with pip, and either build tools with apt (``gcc``,
``build-essential``, ``-dev`` packages: what the release leaves behind) or, on the full
Python image, have pip compile with the image's own compiler and headers (then the full image
is what the release leaves behind; see :func:`_compiled_with_the_image`). The build
stage gets a virtualenv (``RUN python -m venv /opt/venv`` and ``ENV PATH``) right before its
first pip install, so every later pip and python of the stage use it; the release copies
it whole. Each ``-dev`` package becomes its runtime library (``data/dev_runtime.toml``), and
every other package the stage installed with apt is installed in the release too.
"""

from __future__ import annotations

from dataclasses import dataclass

from slimfile.analysis.compat import tools, uses_of
from slimfile.analysis.context import Context
from slimfile.analysis.images import lookup, runtime_base
from slimfile.analysis.recipes import Artefact, Base, Refusal, Release, debian_suite
from slimfile.analysis.recipes.files import recipe_data, runtime_copies
from slimfile.analysis.recipes.packages import apt_installs, facts, runtime_of, stage_packages
from slimfile.analysis.steps import Step
from slimfile.restructure.moves import ItemIndex
from slimfile.restructure.stages import line
from slimfile.shell.packages import PackageFact
from slimfile.syntax.edits import Edit
from slimfile.syntax.stages import Stage

# pip options that put packages somewhere else than the environment's own prefix
_ELSEWHERE = ("--user", "-t", "--target", "--prefix", "--root")
# typical uncompressed sizes (stand-ins, ../shared/docker-zoo/zoo-sizes.tsv): the full image
# and its slim variant
FULL_SIZE, SLIM_SIZE = 653129599, 149270239


def release(ctx: Context, stage: Stage, steps: list[Step]) -> Release | Refusal | None:
    if stage.image is None or stage.image.short_repository not in recipe_data("python")["repositories"]:
        return None
    pip = [(step, fact) for step, fact in facts(ctx, steps) if fact.manager == "pip" and fact.action == "install"]
    packages = stage_packages(ctx, steps, debian_suite(stage.image.tag if stage.image else None))
    if isinstance(packages, str):
        return Refusal("python", packages) if pip else None
    if not pip:
        return None  # nothing installed: no toolchain to leave behind
    build, runtime = list(packages.build), list(packages.runtime)
    notes: list[str] = []
    if build:
        if _removed_where_installed(apt_installs(ctx, steps), facts(ctx, steps), set(build)):
            return None  # the RUN that installs the build tools purges them again: no layer keeps them
        notes.append(f"leaves {', '.join(sorted(set(build)))} in the build stage")
    else:
        compiled = _compiled_with_the_image(ctx, stage, debian_suite(stage.image.tag))
        if not isinstance(compiled, _Compiled):
            return compiled  # None: nothing is compiled here; or why the split is refused
        runtime += compiled.runtime
        notes.append(f"the full image {stage.image.text} stays the build environment: pip compiles {', '.join(compiled.packages)} with its compiler and headers")
    for _step, fact in pip:
        problem = _pip_problem(fact)
        if problem:
            return Refusal("python", problem)
    files = runtime_copies(ctx, steps, "python")
    if isinstance(files, str):
        return Refusal("python", files)
    venv = recipe_data("python")["venv"]
    target = Base("python-slim", _slim_image(stage), True, frozenset(), True, SLIM_SIZE)
    artefacts = [Artefact(venv, venv, why="the virtualenv")] + [Artefact(f.path, f.path, f.chown, "a runtime file") for f in files]
    first_pip = pip[0][0].instruction
    index: ItemIndex = ctx.memo("restructure.items", lambda: ItemIndex(ctx.dockerfile))
    at = index.block(first_pip).start
    created = line(ctx.dockerfile, first_pip, "RUN", f"python -m venv {venv}") + line(ctx.dockerfile, first_pip, "ENV", f'PATH="{venv}/bin:$PATH"')
    summary = f"the virtualenv {venv} on {target.image}" + (f" with {', '.join(sorted(set(runtime)))}" if runtime else "")
    full = stage.image.tag is None or "slim" not in (stage.image.tag or "")
    return Release(
        "python",
        target,
        artefacts,
        summary,
        [Edit.insert(at, created)],
        packages=sorted(set(runtime)),
        notes=notes,
        build_size=FULL_SIZE if full else None,
        env=[f'PATH="{venv}/bin:$PATH"'],
        new_build_runs=1,
        runs_any_program=True,
        build_managers=frozenset({"pip"}),
        adds=[venv, f"{venv}/**"],
    )


@dataclass(frozen=True)
class _Compiled:
    """What pip compiles with the full image's own compiler and headers, and the runtime
    packages the compiled modules need on the slim image."""

    packages: list[str]
    runtime: list[str]


def _compiled_with_the_image(ctx: Context, stage: Stage, suite: str) -> _Compiled | Refusal | None:
    """A stage on the full Python image that installs no build tools of its own may still
    compile: pip builds packages without a wheel (or with --no-binary) with the compiler and
    headers the full image carries (``analysis/compat.py``, ``data/native_builds.toml``). Then
    the full image is the build stage as it is, and each header package the compile needs
    becomes its runtime library on the slim image (``data/dev_runtime.toml``); an unknown one
    refuses the split. None when nothing is compiled, or the image is not the full variant."""
    image = lookup(stage.image.text) if stage.image is not None else None
    if image is None or image.variant != "":
        return None
    uses = uses_of(ctx, stage)
    needs = [n for n in uses.needs if n.stage == stage.index and n.kind == "build"]
    if not needs:
        return None
    other = next((n for n in needs if n.builder != "pip"), None)
    if other is not None:
        return Refusal("python", f"{other.why}: a compile outside pip, whose output slimfile cannot tell")
    compiler = set(tools()["compile"]["c"])
    runtime = []
    for header in sorted({p for n in needs for p in n.packages if p not in compiler}):
        library = runtime_of(header, suite)
        if library is None:
            return Refusal("python", f"pip compiles against {header} with the full image's headers, and no runtime library is known for it on Debian {suite} (data/dev_runtime.toml)")
        runtime.append(library)
    runtime += [p for n in uses.needs if n.stage == stage.index and n.kind == "library" for p in n.packages]
    return _Compiled(sorted({n.what.removesuffix(" from source") for n in needs}), sorted(set(runtime)))


def _removed_where_installed(installs, every, build: set[str]) -> bool:
    """Every build package is removed again by the RUN that installed it."""
    removed_in: dict[int, set[str]] = {}
    for step, fact in every:
        if fact.manager == "apt" and fact.action == "remove":
            removed_in.setdefault(id(step), set()).update(w.value for w in fact.packages)
    for step, fact in installs:
        wanted = {w.value for w in fact.packages} & build
        if wanted - removed_in.get(id(step), set()):
            return False
    return True


def _pip_problem(fact: PackageFact) -> str | None:
    for option in _ELSEWHERE:
        if fact.option(option) is not None or fact.has(option.lstrip("-")):
            return f"`pip install {option}` installs outside the environment the release would copy"
    if fact.tool.startswith("/") and not fact.tool.startswith("/opt/venv"):
        return f"`{fact.tool}` is called by its path, so a virtualenv on PATH would not be used"
    return None


def _slim_image(stage: Stage) -> str:
    """The slim variant of the stage's image, as the image catalog (``data/images.toml``) names
    it, so the split's release base and SF801's swap agree (``python:latest`` -> ``python:slim``);
    the tag rule below only for a tag the catalog does not read."""
    assert stage.image is not None
    known = runtime_base(stage.image, "python")
    return known.text if known is not None else f"{stage.image.name}:{_slim(stage.image.tag)}"


def _slim(tag: str | None) -> str:
    """``3.11`` -> ``3.11-slim``, ``3.11-bookworm`` -> ``3.11-slim-bookworm``, no tag -> ``slim``."""
    if not tag:
        return "slim"
    if "slim" in tag:
        return tag
    for suite in ("trixie", "bookworm", "bullseye", "buster"):
        if tag.endswith("-" + suite):
            return tag[: -len(suite) - 1] + "-slim-" + suite
    return tag + "-slim"

