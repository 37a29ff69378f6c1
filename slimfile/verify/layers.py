"""Layers of a built image, each with the Dockerfile instruction that made it, and what a
rewrite did to them (removed, shrank, grew, added).

``docker history`` lists one entry per instruction, newest first, with the command text as the
builder recorded it (``RUN /bin/sh -c apt-get update # buildkit``). The entries of the stages
that verify built are the newest ones, so they are matched to the Dockerfile from the end,
instruction by instruction, as long as the keywords agree; older entries belong to the base image.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from slimfile.syntax.nodes import Dockerfile
from slimfile.verify.stages import chain_instructions, stage_chain

LAYER_KEYWORDS = frozenset({"RUN", "COPY", "ADD", "WORKDIR"})  # keywords that (can) write files
_SHELL_PREFIX = "/bin/sh -c "
_NOP_PREFIX = "/bin/sh -c #(nop) "
_BUILD_ARGS = re.compile(r"^\|(\d+) ")


@dataclass(frozen=True)
class LayerRow:
    """One history entry: the instruction, its size and where it came from."""

    instruction: str  # normalised, e.g. "RUN apt-get update"
    size: int
    creates_layer: bool
    origin: str = "base"  # "dockerfile" when matched to an instruction of the file
    line: int | None = None
    stage: str | None = None

    @property
    def keyword(self) -> str:
        return self.instruction.split(" ", 1)[0].upper() if self.instruction else ""

    def to_dict(self) -> dict:
        return {
            "instruction": self.instruction,
            "size": self.size,
            "layer": self.creates_layer,
            "origin": self.origin,
            "line": self.line,
            "stage": self.stage,
        }


def instruction_text(created_by: str) -> str:
    """The instruction as written, from the text a builder recorded in the history."""
    text = created_by.strip()
    if text.endswith("# buildkit"):
        text = text[: -len("# buildkit")].rstrip()
    if text.startswith(_NOP_PREFIX):
        return text[len(_NOP_PREFIX) :].strip()
    run = text.startswith("RUN ")
    body = text[4:] if run else text
    body = _strip_build_args(body)
    if body.startswith(_SHELL_PREFIX):
        return "RUN " + body[len(_SHELL_PREFIX) :]
    return ("RUN " + body) if run else body


def _strip_build_args(text: str) -> str:
    """``|2 A=1 B=2 /bin/sh -c cmd`` -> ``/bin/sh -c cmd`` (build args recorded before a RUN)."""
    match = _BUILD_ARGS.match(text)
    if not match:
        return text
    rest = text[match.end() :]
    for _ in range(int(match.group(1))):
        rest = rest.split(" ", 1)[1] if " " in rest else ""
    return rest


def rows_from_history(history: Sequence[dict]) -> list[LayerRow]:
    """Oldest first. ``history`` is what the engine API returns (newest first)."""
    rows = []
    for entry in reversed(history):
        text = instruction_text(entry.get("CreatedBy") or "")
        size = int(entry.get("Size") or 0)
        keyword = text.split(" ", 1)[0].upper() if text else ""
        creates = size > 0 or keyword in LAYER_KEYWORDS or not text
        rows.append(LayerRow(text, size, creates))
    return rows


def attribute(rows: list[LayerRow], dockerfile: Dockerfile, target: str | None) -> list[LayerRow]:
    """Mark the newest rows with the Dockerfile line and stage that made them."""
    instructions = chain_instructions(stage_chain(dockerfile, target))
    out = list(rows)
    for offset, (stage, instruction) in enumerate(reversed(instructions), start=1):
        if offset > len(out) or out[-offset].keyword != instruction.name:
            break
        out[-offset] = replace(out[-offset], origin="dockerfile", line=instruction.start_line, stage=stage.label)
    return out


@dataclass(frozen=True)
class LayerChange:
    kind: str  # "unchanged", "shrank", "grew", "removed" or "added"
    before: LayerRow | None
    after: LayerRow | None

    @property
    def delta(self) -> int:
        return (self.after.size if self.after else 0) - (self.before.size if self.before else 0)

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "delta": self.delta,
            "before": self.before.to_dict() if self.before else None,
            "after": self.after.to_dict() if self.after else None,
        }


def compare_layers(before: list[LayerRow], after: list[LayerRow]) -> list[LayerChange]:
    """Pair the layers of two images by instruction text: equal runs are compared size by size,
    replaced runs of the same length pairwise, the rest are removed or added."""
    old = [row for row in before if row.creates_layer]
    new = [row for row in after if row.creates_layer]
    matcher = difflib.SequenceMatcher(None, [_key(r) for r in old], [_key(r) for r in new], autojunk=False)
    changes: list[LayerChange] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal" or (op == "replace" and i2 - i1 == j2 - j1):
            changes.extend(_paired(a, b) for a, b in zip(old[i1:i2], new[j1:j2]))
        else:
            changes.extend(LayerChange("removed", row, None) for row in old[i1:i2])
            changes.extend(LayerChange("added", None, row) for row in new[j1:j2])
    return changes


def _key(row: LayerRow) -> str:
    return " ".join(row.instruction.split()) if row.origin == "dockerfile" else f"base: {row.instruction}"


def _paired(old: LayerRow, new: LayerRow) -> LayerChange:
    """Sizes only: whether the content is the same is the filesystem comparison's question."""
    if new.size < old.size:
        return LayerChange("shrank", old, new)
    if new.size > old.size:
        return LayerChange("grew", old, new)
    return LayerChange("unchanged", old, new)
