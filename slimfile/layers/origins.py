"""Which instruction made each layer: the image history, matched to the Dockerfile.

The image config lists one history entry per instruction, oldest first, with ``empty_layer``
for those that wrote no files (ENV, CMD...); the other entries are the layers, in order. The
newest entries are matched to the Dockerfile by verify's matcher (from the end, keyword by
keyword, over the target stage and the stages it is built ``FROM``); older ones belong to the
base image and are reported at the first stage's FROM line. A RUN whose recorded command is
not the Dockerfile's is reported as a mismatch (the image was not built from this file), and so
is a step that the build did not list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from slimfile.syntax.nodes import Dockerfile, Instruction
from slimfile.syntax.stages import Stage
from slimfile.verify.build import Step
from slimfile.verify.layers import LayerRow, attribute, rows_from_history
from slimfile.verify.stages import chain_instructions, stage_chain


@dataclass(frozen=True)
class LayerOrigin:
    """Where one layer came from."""

    history_text: str  # the instruction as the history records it
    history_size: int  # the size ``docker history`` shows
    origin: str  # "dockerfile", "base" or "unknown" (no Dockerfile given)
    line: int | None = None  # the instruction's first line; a base layer: its stage's FROM line
    end_line: int | None = None
    stage: str | None = None
    stage_index: int | None = None
    keyword: str = ""  # RUN, COPY, ADD, WORKDIR...; FROM for a base layer

    @property
    def fix_origin(self) -> str | None:
        """The kind of maker the waste catalog knows: run, copy or base."""
        if self.origin == "base":
            return "base"
        return {"RUN": "run", "COPY": "copy", "ADD": "copy"}.get(self.keyword)


@dataclass
class Origins:
    layers: list[LayerOrigin]  # one per layer of RootFS, oldest first
    base_image: str | None  # the first stage's base image as written
    base_line: int | None
    mismatches: list[str]  # why the history and the Dockerfile disagree, if they do


def layer_origins(
    history: Sequence[dict],
    config: dict,
    layer_count: int,
    dockerfile: Dockerfile | None,
    target: str | None,
    steps: Sequence[Step] | None = None,
) -> Origins:
    """``history`` as the engine API returns it (newest first); ``config`` the image config."""
    rows = rows_from_history(history)
    chain = stage_chain(dockerfile, target) if dockerfile is not None else []
    if dockerfile is not None:
        rows = attribute(rows, dockerfile, target)
    layer_rows = _layer_rows(rows, config, layer_count)
    instructions = {i.start_line: (stage, i) for stage, i in chain_instructions(chain)}
    base = chain[0] if chain else None
    layers = [_origin(row, instructions, base) for row in layer_rows]
    mismatches = _mismatches(rows, instructions, steps)
    return Origins(
        layers,
        base.image_text if base else None,
        base.from_instruction.start_line if base else None,
        mismatches,
    )


def _layer_rows(rows: list[LayerRow], config: dict, layer_count: int) -> list[LayerRow | None]:
    """The history row of each layer: the config's ``empty_layer`` flags say which rows made a
    layer; without them, rows that (may) write files are taken in order."""
    flags = [not entry.get("empty_layer", False) for entry in config.get("history") or []]
    if len(flags) == len(rows) and sum(flags) == layer_count:
        chosen = [row for row, makes in zip(rows, flags) if makes]
    else:
        chosen = [row for row in rows if row.creates_layer]
    if len(chosen) != layer_count:  # a history that does not describe the layers: keep sizes honest
        return [chosen[i] if i < len(chosen) else None for i in range(layer_count)]
    return list(chosen)


def _origin(row: LayerRow | None, instructions: dict[int, tuple[Stage, Instruction]], base: Stage | None) -> LayerOrigin:
    if row is None:
        return LayerOrigin("(no history entry)", 0, "unknown")
    if row.origin == "dockerfile" and row.line in instructions:
        stage, instruction = instructions[row.line]
        return LayerOrigin(
            row.instruction, row.size, "dockerfile", instruction.start_line, instruction.end_line,
            stage.label, stage.index, instruction.name,
        )
    if base is not None:
        line = base.from_instruction.start_line
        return LayerOrigin(row.instruction, row.size, "base", line, line, base.label, base.index, "FROM")
    return LayerOrigin(row.instruction, row.size, "unknown", keyword=row.keyword)


def _mismatches(rows: list[LayerRow], instructions: dict[int, tuple[Stage, Instruction]], steps: Sequence[Step] | None) -> list[str]:
    out = []
    step_texts = {_words(step.instruction) for step in steps} if steps else None
    for row in rows:
        if row.origin != "dockerfile" or row.line not in instructions:
            continue
        _, instruction = instructions[row.line]
        shell_run = instruction.name == "RUN" and not instruction.is_json and not instruction.heredocs
        if shell_run and _words(row.instruction) != _words("RUN " + instruction.args_text):
            out.append(f"line {row.line}: the image's history records {row.instruction[:80]!r}")
        if step_texts is not None and instruction.name in ("RUN", "COPY", "ADD") and _as_step(instruction) not in step_texts:
            out.append(f"line {row.line}: the build listed no step {_as_step(instruction)[:80]!r}")
    return out


def _as_step(instruction: Instruction) -> str:
    """The instruction as BuildKit's progress names the step: keyword in capitals, flags and
    arguments as written."""
    text = instruction.logical.text.decode("utf-8", "replace")
    return _words(instruction.name + text[instruction.keyword_end :])


def _words(text: str) -> str:
    return " ".join(text.split())
