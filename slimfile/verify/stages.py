"""Which stages make the image that verify builds: the target stage and the stages it is built
``FROM`` (``FROM build AS final``), root first."""

from __future__ import annotations

from slimfile.syntax.nodes import Dockerfile, Instruction
from slimfile.syntax.stages import Stage


class UnknownTarget(ValueError):
    pass


def target_stage(dockerfile: Dockerfile, target: str | None) -> Stage:
    model = dockerfile.stages
    if target is None:
        if model.final is None:
            raise UnknownTarget("the Dockerfile has no FROM instruction")
        return model.final
    stage = model.by_name(target)
    if stage is None:
        names = ", ".join(s.label for s in model.stages)
        raise UnknownTarget(f"no stage named {target!r} (stages: {names})")
    return stage


def stage_chain(dockerfile: Dockerfile, target: str | None) -> list[Stage]:
    """The target stage and the stages it is built FROM, in build order (the first built first)."""
    return target_stage(dockerfile, target).lineage()[::-1]


def chain_instructions(chain: list[Stage]) -> list[tuple[Stage, Instruction]]:
    """Every instruction of the chain except FROM, in build order: each one leaves an entry in
    the image history (BuildKit records ARG, ENV, CMD... as empty layers)."""
    return [(stage, instruction) for stage in chain for instruction in stage.instructions]


def needed_stages(dockerfile: Dockerfile, target: str | None) -> list[Stage]:
    """Every stage a build of ``target`` runs, in file order: its FROM chain and, recursively,
    the stages named by ``COPY --from`` and ``RUN --mount=...,from=``."""
    model = dockerfile.stages
    pending = [target_stage(dockerfile, target)]
    seen: dict[int, Stage] = {}
    while pending:
        stage = pending.pop()
        if stage.index in seen:
            continue
        seen[stage.index] = stage
        if stage.base_stage is not None:
            pending.append(stage.base_stage)
        for name in _stage_references(stage):
            referenced = model.by_name(name)
            if referenced is not None and referenced.index < stage.index:
                pending.append(referenced)
    return [seen[index] for index in sorted(seen)]


def _stage_references(stage: Stage) -> list[str]:
    names = []
    for instruction in stage.instructions:
        for flag in instruction.flags:
            if flag.name == "from" and flag.argument:
                names.append(flag.argument)
            elif flag.name == "mount" and flag.argument:
                names += [part[5:] for part in flag.argument.split(",") if part.startswith("from=")]
    return names
