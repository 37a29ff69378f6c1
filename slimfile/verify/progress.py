"""Progress for people while images build (``verify``, ``layers``): a spinner with the current phase and build step on a
terminal, one line per phase otherwise (stderr, so that ``--json`` output stays clean)."""

from __future__ import annotations

import re
from typing import Protocol

from rich.markup import escape

_STEP = re.compile(r"^#\d+ (\[[^\]]*\] .*)$")


class Progress(Protocol):
    def phase(self, text: str) -> None: ...

    def build_line(self, line: str) -> None: ...

    def close(self) -> None: ...


class SilentProgress:
    def phase(self, text: str) -> None:
        pass

    def build_line(self, line: str) -> None:
        pass

    def close(self) -> None:
        pass


class ConsoleProgress:
    def __init__(self, console, *, plain_lines: bool = True, command: str = "slimfile verify") -> None:
        self.console = console
        self.command = command  # the prefix of plain phase lines
        self.current = ""
        self.status = console.status("") if console.is_terminal else None
        self.plain_lines = plain_lines
        if self.status is not None:
            self.status.start()

    def phase(self, text: str) -> None:
        self.current = text
        if self.status is not None:
            self.status.update(escape(text))
        elif self.plain_lines:
            self.console.print(f"{self.command}: {escape(text)}", highlight=False, soft_wrap=True)

    def build_line(self, line: str) -> None:
        match = _STEP.match(line)
        if match and self.status is not None:
            self.status.update(escape(f"{self.current}: {match.group(1)[:100]}"))

    def close(self) -> None:
        """Stop the spinner; safe to call more than once."""
        if self.status is not None:
            self.status.stop()
            self.status = None
