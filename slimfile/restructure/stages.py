"""Edits that restructure stages: name a stage, and append a new one at the end of the file.

Like every other rewrite these are byte-range edits: the build stage keeps every byte it had
(only ``AS build`` is added to its FROM, and the config lines that now belong to the release
stage leave it), and the new stage is text written in the file's style — its keyword case,
its newline — after the last byte of the file.
"""

from __future__ import annotations

import json

from slimfile.restructure.moves import PLAIN_WORD, copy_arguments
from slimfile.syntax.edits import Edit
from slimfile.syntax.nodes import Dockerfile, Instruction
from slimfile.syntax.stages import Stage, StageModel
from slimfile.syntax.style import same_case


def stage_name_edit(dockerfile: Dockerfile, stage: Stage, name: str) -> Edit:
    """``FROM image`` -> ``FROM image AS name`` (``as`` when the file writes ``from``)."""
    node = stage.from_instruction
    _, end = node.args_source_span()
    return Edit.insert(end, f" {same_case('AS', node.keyword)} {name}".encode())


def free_stage_name(model: StageModel, wanted: str) -> str:
    """``wanted``, or ``wanted-2``, ... when a stage already has that name."""
    taken = {stage.alias for stage in model.stages if stage.alias}
    if wanted not in taken:
        return wanted
    n = 2
    while f"{wanted}-{n}" in taken:
        n += 1
    return f"{wanted}-{n}"


def append_at_end(dockerfile: Dockerfile, text: bytes) -> Edit:
    """Text after the file's last byte, a blank line before it (the file's newline)."""
    newline = dockerfile.newline
    source = dockerfile.source
    prefix = b"" if source.endswith((b"\n", b"\r")) else newline
    return Edit.insert(len(source), prefix + newline + text)


def line(dockerfile: Dockerfile, like: Instruction, keyword: str, rest: str) -> bytes:
    """One instruction line in the file's style."""
    return (same_case(keyword, like.keyword) + " " + rest).encode("utf-8", "surrogateescape") + dockerfile.newline


def exec_form(words: list[str]) -> str:
    """A JSON array, as Dockerfiles write exec form (``["a", "b"]``)."""
    return json.dumps(words)


def shell_words_if_plain(text: str) -> list[str] | None:
    """The words of a shell-form command when running it without a shell is exact: plain
    words only (no quotes, variables, globs, operators or redirects)."""
    words = text.split()
    if not words or not all(PLAIN_WORD.match(word) for word in words):
        return None
    return words


def copy_from_line(dockerfile: Dockerfile, like: Instruction, stage: str, source: str, target: str, chown: str | None) -> bytes:
    flags = f"--from={stage}" + (f" --chown={chown}" if chown else "")
    return line(dockerfile, like, "COPY", f"{flags} {copy_arguments(dockerfile, [source, target])}")
