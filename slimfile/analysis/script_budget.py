"""How far slimfile follows scripts that run other scripts.

A RUN may run a script of the build context or of package.json, which may run others, and so on.
Scripts that run the same script several times each made that walk exponential: package.json
scripts eight levels deep, each running the next one eight times (a 500-byte file), took minutes,
and so did three levels of shell scripts each running the next one a hundred times. A
:class:`ScriptBudget` bounds the commands one analysis reads through scripts: a fixed allowance,
and a few more per command of the Dockerfile itself, so the work stays linear in the input. A walk
that would go past it is refused with :func:`too_many_commands` (the fact is missing, so no
rewrite relies on it).
"""

from __future__ import annotations

SCRIPT_COMMANDS = 10_000  # commands read through scripts, per analysis
SCRIPT_COMMANDS_PER_COMMAND = 10  # and this many more per command of the Dockerfile


class ScriptBudget:
    """How many more commands read through scripts one analysis follows."""

    def __init__(self) -> None:
        self.left = SCRIPT_COMMANDS
        self.refused = False  # a walk was refused for it (said once)

    def earn(self, commands: int) -> None:
        """The Dockerfile's own commands each allow a few more through scripts."""
        self.left += SCRIPT_COMMANDS_PER_COMMAND * commands

    def spend(self, commands: int) -> bool:
        """Take ``commands`` from what is left: False once it is gone."""
        self.left -= commands
        return self.left >= 0


def too_many_commands(what: str) -> str:
    return (
        f"{what}: the scripts run other scripts more times than slimfile follows "
        f"({SCRIPT_COMMANDS:,} commands, and {SCRIPT_COMMANDS_PER_COMMAND} more per command of the Dockerfile)"
    )
