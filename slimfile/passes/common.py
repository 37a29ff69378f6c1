"""Facts several passes ask for: the RUNs of a file with their shell models, which stages end
up in the final image, cache mounts, and the estimated savings table (``data/savings.toml``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from slimfile.analysis.context import Context
from slimfile.diagnostics import Saving
from slimfile.shell.data import load
from slimfile.shell.model import ShellScript
from slimfile.syntax.nodes import Instruction
from slimfile.syntax.stages import Stage


@dataclass(frozen=True)
class RunInfo:
    """A RUN (or the RUN inside an ONBUILD) with its stage and shell model."""

    instruction: Instruction  # the RUN itself (for ONBUILD: the inner instruction)
    outer: Instruction  # the instruction in the file (the ONBUILD for an inner RUN)
    stage: Stage | None
    script: ShellScript

    @property
    def onbuild(self) -> bool:
        return self.outer is not self.instruction


def runs(ctx: Context, *, include_onbuild: bool = True) -> Iterator[RunInfo]:
    """Every RUN the shell model understands (opaque RUNs are skipped: never edited)."""

    def compute() -> list[RunInfo]:
        found = []
        for outer in ctx.dockerfile.instructions:
            inner = outer.effective
            if inner.name != "RUN":
                continue
            script = ctx.shell(inner)
            if isinstance(script, ShellScript):
                found.append(RunInfo(inner, outer, ctx.stage_of(outer), script))
        return found

    for info in ctx.memo("runs", compute):
        if include_onbuild or not info.onbuild:
            yield info


def final_image_stages(ctx: Context) -> set[int]:
    """Indices of the stages whose layers are in the final image: the last stage and the
    stages it is built FROM, transitively (hadolint's DL3009 uses the same notion)."""

    def compute() -> set[int]:
        stages = ctx.stages.stages
        if not stages:
            return set()
        chain = set()
        stage: Stage | None = stages[-1]
        while stage is not None and stage.index not in chain:
            chain.add(stage.index)
            stage = stage.base_stage
        return chain

    return ctx.memo("final-image-stages", compute)


def in_final_image(ctx: Context, stage: Stage | None) -> bool:
    return stage is None or stage.index in final_image_stages(ctx)


def cache_mount_covers(instruction: Instruction, path: str) -> bool:
    """True when a ``--mount=type=cache`` or ``tmpfs`` mount hides ``path`` from the layer."""
    for flag in instruction.flags:
        if flag.name != "mount" or flag.argument is None:
            continue
        fields = dict(part.split("=", 1) if "=" in part else (part, "") for part in flag.argument.split(","))
        if fields.get("type") not in ("cache", "tmpfs"):
            continue
        target = fields.get("target") or fields.get("dst") or fields.get("destination") or ""
        target = target.rstrip("/")
        if target and (path == target or path.startswith(target + "/")):
            return True
    return False


def saving(key: str, **fields: str) -> Saving:
    """The estimated saving for ``key`` from ``data/savings.toml``; ``fields`` fill its text."""
    entry = load("savings")[key]
    return Saving(
        label=entry["label"].format(**fields),
        basis=entry["basis"].format(**fields),
        bytes=entry.get("bytes"),
        kind=entry.get("kind", "size"),
    )


def same_case(word: str, like: str) -> str:
    """``word`` in the case the author wrote ``like`` in (``add`` → ``copy``)."""
    if like.islower():
        return word.lower()
    if like[:1].isupper() and like[1:].islower():
        return word.capitalize()
    return word.upper()
