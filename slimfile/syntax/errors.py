"""Errors raised for input that slimfile cannot parse (and buildkit would reject)."""

from __future__ import annotations


class DockerfileError(Exception):
    """A problem with an input file, located by path and 1-based line."""

    def __init__(self, message: str, line: int | None = None, *, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.path = path

    def located(self, path: str) -> "DockerfileError":
        self.path = path
        return self

    def __str__(self) -> str:
        where = self.path or "<input>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.message}"


class ParseError(DockerfileError):
    """The file breaks buildkit's lexical rules (bad directive, unterminated heredoc, ...)."""
