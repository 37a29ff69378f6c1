"""Ecosystems slimfile recognises but does not split, each with the reason it gives.

- Ruby: gems with native extensions are compiled against the stage's libraries and their
  paths are baked into the installed gems; copying ``$GEM_HOME`` to a slim Ruby image works
  only with the same Ruby build and the runtime libraries of every extension, which cannot be
  checked without the gems (rubygems.org is not reachable for a check here either).
- PHP: ``docker-php-ext-install`` compiles extensions into the PHP installation itself, with
  their libraries; there is no artefact to copy apart from PHP.
- .NET: ``dotnet publish`` output runs on ``mcr.microsoft.com/dotnet/aspnet`` or ``runtime``,
  whose tags must match the SDK's; that catalog is not part of slimfile yet.

Each applies only when the stage really builds something (a compiler or ``-dev`` packages,
an extension build, a publish), so a plain Ruby or PHP image gets no finding.
"""

from __future__ import annotations

from slimfile.analysis.context import Context
from slimfile.analysis.recipes import Refusal
from slimfile.analysis.recipes.packages import facts, stage_packages
from slimfile.analysis.steps import Step
from slimfile.shell.model import ShellScript
from slimfile.syntax.stages import Stage


def release(ctx: Context, stage: Stage, steps: list[Step]) -> Refusal | None:
    found = list(facts(ctx, steps))
    packages = stage_packages(ctx, steps)
    compiles = not isinstance(packages, str) and bool(packages.build)
    if any(f.manager == "dotnet" and f.action in ("build", "publish") for _s, f in found):
        return Refusal("dotnet", "a .NET split needs the matching aspnet/runtime image, which slimfile's catalog does not hold yet")
    if compiles and any(f.manager in ("bundler", "gem") and f.action == "install" for _s, f in found):
        return Refusal("ruby", "gems with native extensions are built against this stage's Ruby and libraries; slimfile does not split Ruby yet")
    if _runs(ctx, steps, "docker-php-ext-install") or (compiles and any(f.manager == "composer" for _s, f in found)):
        return Refusal("php", "PHP extensions are compiled into the PHP installation itself, so no artefact can be copied apart from it")
    return None


def _runs(ctx: Context, steps: list[Step], program: str) -> bool:
    for step in steps:
        if step.instruction.name == "RUN":
            script = ctx.shell(step.instruction)
            if isinstance(script, ShellScript) and any(c.name == program for c in script.commands):
                return True
    return False
