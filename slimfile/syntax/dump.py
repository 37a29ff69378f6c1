"""The tree as plain data, for ``slimfile parse --json`` (tools and debugging)."""

from __future__ import annotations

from typing import Any

from slimfile.syntax.nodes import Dockerfile, Instruction, LineRole


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape").encode("utf-8", "replace").decode("utf-8")


def instruction_dict(dockerfile: Dockerfile, node: Instruction, *, nested: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "keyword": node.name,
        "keyword_as_written": node.keyword,
    }
    if not nested:
        out.update(
            {
                "start_line": node.start_line,
                "end_line": node.end_line,
                "start": node.start,
                "end": node.end,
            }
        )
    out.update(
        {
            "flags": list(node.flag_values()),
            "flag_spans": [
                {"value": f.value, "source": _text(dockerfile.source[f.start : f.end]), "start": f.start, "end": f.end}
                for f in node.flags
            ],
            "logical": _text(node.args),
            "json": list(node.json) if node.json is not None else None,
            "heredocs": [
                {
                    "name": h.name,
                    "body": _text(h.content),
                    "fd": h.fd,
                    "chomp": h.chomp,
                    "expand": h.expand,
                    "body_start": h.body_start,
                    "body_end": h.body_end,
                }
                for h in node.heredocs
            ],
        }
    )
    if not nested:
        out["logical_line"] = _text(node.logical.text)
        out["lines"] = [
            {"line": line.number, "role": line.role.value}
            for line in node.lines
            if line.role is not LineRole.FIRST
        ]
    if node.inner is not None:
        out["inner"] = instruction_dict(dockerfile, node.inner, nested=True)
    if node.problems:
        out["problems"] = list(node.problems)
    return out


def stage_dicts(dockerfile: Dockerfile) -> list[dict[str, Any]]:
    stages = []
    for stage in dockerfile.stages.stages:
        image = stage.image
        stages.append(
            {
                "index": stage.index,
                "name": stage.name,
                "platform": stage.platform,
                "image": stage.image_text,
                "registry": image.registry if image else None,
                "repository": image.repository if image else None,
                "tag": image.tag if image else None,
                "digest": image.digest if image else None,
                "base_stage": stage.base_stage.index if stage.base_stage else None,
                "from_line": stage.from_instruction.start_line,
                "instruction_lines": [i.start_line for i in stage.instructions],
            }
        )
    return stages


def to_dict(dockerfile: Dockerfile, extra: dict[str, Any] | None = None, instructions: Any = None) -> dict[str, Any]:
    """The tree as plain data; ``instructions`` replaces the list of instruction entries
    (``parse --json`` passes entries that are made while the text is written)."""
    data: dict[str, Any] = {
        "path": dockerfile.path,
        "escape": dockerfile.escape,
        "bom": dockerfile.bom,
        "newline": "crlf" if dockerfile.newline == b"\r\n" else "lf",
        "directives": [{"name": d.name, "value": d.value, "line": d.line.number} for d in dockerfile.directives],
        "global_args": [_text(a.args) for a in dockerfile.stages.global_args],
        "stages": stage_dicts(dockerfile),
        "instructions": (
            instructions if instructions is not None else [instruction_dict(dockerfile, node) for node in dockerfile.instructions]
        ),
        "warnings": [{"line": w.line, "message": w.message} for w in dockerfile.warnings],
    }
    if extra:
        data.update(extra)
    return data
