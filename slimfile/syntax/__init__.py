"""Lossless Dockerfile syntax tree, buildkit-exact line rules, and byte-range edits."""

from slimfile.syntax.errors import DockerfileError, ParseError
from slimfile.syntax.nodes import (
    Directive,
    Dockerfile,
    Flag,
    Heredoc,
    Instruction,
    LineRole,
    LogicalLine,
    PhysicalLine,
    Trivia,
)
from slimfile.syntax.parser import parse, parse_text

__all__ = [
    "Directive",
    "Dockerfile",
    "DockerfileError",
    "Flag",
    "Heredoc",
    "Instruction",
    "LineRole",
    "LogicalLine",
    "ParseError",
    "PhysicalLine",
    "Trivia",
    "parse",
    "parse_text",
]
