"""Stages of a Dockerfile: each FROM with its image reference, platform and name.

Follows buildkit's ``instructions.parseFrom``: ``FROM [--platform=P] IMAGE [AS NAME]``, stage
names are matched case-insensitively, and the ARGs before the first FROM are global.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from slimfile.syntax.gocompat import go_split_whitespace
from slimfile.syntax.nodes import Dockerfile, Instruction

_VARIABLE_RE = re.compile(r"\$(?:\{[^}]*\}?|[A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True, slots=True)
class ImageRef:
    """An image reference split as Docker does: ``[registry/]repository[:tag][@digest]``."""

    text: str
    registry: str | None
    repository: str
    tag: str | None
    digest: str | None

    @property
    def has_variables(self) -> bool:
        return "$" in self.text

    @property
    def is_scratch(self) -> bool:
        return self.text.lower() == "scratch"

    @property
    def name(self) -> str:
        """Registry and repository, without tag or digest."""
        return f"{self.registry}/{self.repository}" if self.registry else self.repository

    @property
    def short_repository(self) -> str:
        """Repository without Docker Hub's implicit ``library/`` prefix."""
        repo = self.repository
        if self.registry in (None, "docker.io", "index.docker.io") and repo.startswith("library/"):
            return repo[len("library/") :]
        return repo

    def with_tag(self, tag: str) -> str:
        """The reference text with another tag (digest dropped: it pins the old tag)."""
        return f"{self.name}:{tag}"


def parse_image_ref(text: str) -> ImageRef:
    """Split an image reference. Variables (``$VAR``, ``${VAR}``) are kept as written."""
    rest = text
    digest = None
    at = _find_outside_variables(rest, "@")
    if at >= 0:
        rest, digest = rest[:at], rest[at + 1 :]
    registry = None
    slash = _find_outside_variables(rest, "/")
    if slash >= 0:
        first = rest[:slash]
        # Docker's rule: the first component is a registry when it looks like a host
        if "." in first or ":" in first or first == "localhost" or first != first.lower():
            registry, rest = first, rest[slash + 1 :]
    tag = None
    last_slash = _rfind_outside_variables(rest, "/")
    colon = _rfind_outside_variables(rest, ":")
    if colon > last_slash:
        rest, tag = rest[:colon], rest[colon + 1 :]
    return ImageRef(text=text, registry=registry, repository=rest, tag=tag, digest=digest)


def _variable_spans(text: str) -> tuple[list[int], list[int]]:
    """Starts and ends of the ``$VAR``/``${VAR}`` references, in order (they never overlap)."""
    spans = [m.span() for m in _VARIABLE_RE.finditer(text)]
    return [s for s, _ in spans], [e for _, e in spans]


def _in_variable(starts: list[int], ends: list[int], i: int) -> bool:
    k = bisect.bisect_right(starts, i) - 1
    return k >= 0 and i < ends[k]


def _find_outside_variables(text: str, ch: str) -> int:
    starts, ends = _variable_spans(text)
    i = text.find(ch)
    while i >= 0 and _in_variable(starts, ends, i):
        i = text.find(ch, i + 1)
    return i


def _rfind_outside_variables(text: str, ch: str) -> int:
    starts, ends = _variable_spans(text)
    i = text.rfind(ch)
    while i >= 0 and _in_variable(starts, ends, i):
        i = text.rfind(ch, 0, i)
    return i


@dataclass(slots=True)
class Stage:
    """A build stage: its FROM and the instructions up to the next FROM."""

    index: int
    from_instruction: Instruction
    image_text: str  # as written after flags, e.g. "python:${PY}-slim"
    image: ImageRef | None
    name: str | None  # as written after AS
    platform: str | None
    instructions: tuple[Instruction, ...]  # FROM excluded
    base_stage: Stage | None = None  # set when FROM names an earlier stage
    problem: str | None = None

    @property
    def alias(self) -> str | None:
        """The stage name as buildkit matches it (lower case)."""
        return self.name.lower() if self.name else None

    @property
    def label(self) -> str:
        return self.name or str(self.index)

    def lineage(self) -> list[Stage]:
        """The stage and the stages it is built FROM, nearest first. The stages met are kept
        by index in a set (a base stage is always an earlier one, so this only guards): asking
        a list of whole stages at each step compared them field by field, n x n for a chain
        of n stages."""
        chain: list[Stage] = []
        seen: set[int] = set()
        current: Stage | None = self
        while current is not None and current.index not in seen:
            seen.add(current.index)
            chain.append(current)
            current = current.base_stage
        return chain


@dataclass(slots=True)
class StageModel:
    global_args: tuple[Instruction, ...]
    stages: tuple[Stage, ...]
    orphans: tuple[Instruction, ...]  # instructions before the first FROM that are not ARG
    _stage_by_id: dict[int, Stage] | None = field(default=None, repr=False, compare=False)
    _stage_by_alias: dict[str, Stage] | None = field(default=None, repr=False, compare=False)

    def stage_of(self, instruction: Instruction) -> Stage | None:
        """The stage ``instruction`` (its FROM included) belongs to; passes ask for every RUN,
        so the lookup is a dict built on first use, not a scan of every stage."""
        if self._stage_by_id is None:
            self._stage_by_id = {
                id(member): stage
                for stage in self.stages
                for member in (stage.from_instruction, *stage.instructions)
            }
        # the model holds its instructions, so no other live object can have one of these ids
        return self._stage_by_id.get(id(instruction))

    def by_name(self, name: str) -> Stage | None:
        """The stage named ``name`` (the first one, as buildkit matches), else the stage with
        that index; a dict built on first use, as for :meth:`stage_of`."""
        key = name.lower()
        if self._stage_by_alias is None:
            self._stage_by_alias = {}
            for stage in self.stages:
                if stage.alias is not None:
                    self._stage_by_alias.setdefault(stage.alias, stage)
        stage = self._stage_by_alias.get(key)
        if stage is not None:
            return stage
        if key.isdigit() and int(key) < len(self.stages):
            return self.stages[int(key)]
        return None

    @property
    def final(self) -> Stage | None:
        return self.stages[-1] if self.stages else None


def build_stage_model(dockerfile: Dockerfile) -> StageModel:
    global_args: list[Instruction] = []
    orphans: list[Instruction] = []
    stages: list[Stage] = []
    aliases: dict[str, Stage] = {}  # the first stage of each name
    current: list[Instruction] | None = None
    for instruction in dockerfile.instructions:
        if instruction.name == "FROM":
            if stages:
                stages[-1].instructions = tuple(current or ())
            stage = _stage_from(len(stages), instruction, aliases)
            stages.append(stage)
            if stage.alias is not None:
                aliases.setdefault(stage.alias, stage)
            current = []
        elif current is None:
            (global_args if instruction.name == "ARG" else orphans).append(instruction)
        else:
            current.append(instruction)
    if stages:
        stages[-1].instructions = tuple(current or ())
    return StageModel(tuple(global_args), tuple(stages), tuple(orphans))


def _stage_from(index: int, instruction: Instruction, earlier: dict[str, Stage]) -> Stage:
    """The stage a FROM starts; ``earlier`` maps the names of the stages before it."""
    words = [w.decode("utf-8", "surrogateescape") for w in go_split_whitespace(instruction.args)] if instruction.args else []
    platform_flag = instruction.flag("platform")
    stage = Stage(
        index=index,
        from_instruction=instruction,
        image_text=words[0] if words else "",
        image=parse_image_ref(words[0]) if words else None,
        name=None,
        platform=platform_flag.argument if platform_flag else None,
        instructions=(),
    )
    if len(words) == 3 and words[1].lower() == "as":
        stage.name = words[2]
    elif len(words) != 1:
        stage.problem = "FROM requires either one or three arguments"
    if stage.image is not None and not stage.image.has_variables:
        stage.base_stage = earlier.get(stage.image_text.lower())
    return stage
