"""Helpers for the shell-model tests: parse a Dockerfile snippet and model one of its RUNs."""

from __future__ import annotations

from slimfile.shell.analyze import analyze_run
from slimfile.shell.model import OpaqueRun, ShellScript
from slimfile.syntax import Dockerfile, Instruction, parse


def runs(dockerfile: Dockerfile) -> list[Instruction]:
    return [i for i in dockerfile.walk() if i.name == "RUN"]


def model(text: str | bytes, index: int = 0) -> ShellScript:
    """The model of the ``index``-th RUN of ``text`` (a FROM line is added when missing)."""
    source = text.encode() if isinstance(text, str) else text
    if b"FROM" not in source:
        source = b"FROM debian:12\n" + source
    dockerfile = parse(source)
    result = analyze_run(dockerfile, runs(dockerfile)[index])
    assert isinstance(result, ShellScript), result.opaque
    return result


def opaque(text: str, index: int = 0) -> OpaqueRun:
    dockerfile = parse(text.encode())
    result = analyze_run(dockerfile, runs(dockerfile)[index])
    assert isinstance(result, OpaqueRun)
    return result


def names(script: ShellScript) -> list[str | None]:
    return [c.name for c in script.commands]
