"""``--run CMD``: run both images once with the same command and compare what they did.

The command replaces the image's CMD (the ENTRYPOINT stays), as ``docker run IMAGE CMD`` does;
an empty command runs the image's own CMD. Containers use the host network, publish no ports and
are removed afterwards.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from slimfile.verify.docker_engine import Engine, RunOutput

DEFAULT_TIMEOUT = 120.0
_SHOWN = 2000  # characters of output kept in the report per stream


def command_argv(command: str) -> list[str] | None:
    """``"python -c 'print(1)'"`` -> ``["python", "-c", "print(1)"]``; ``""`` -> the image's CMD."""
    argv = shlex.split(command)
    return argv or None


@dataclass
class RunComparison:
    command: str
    before: RunOutput
    after: RunOutput

    def differences(self) -> list[str]:
        found = []
        if self.before.timed_out or self.after.timed_out:
            which = [name for name, out in (("original", self.before), ("rewritten", self.after)) if out.timed_out]
            found.append(f"timed out: {', '.join(which)}")
        if self.before.exit_code != self.after.exit_code:
            found.append(f"exit code {self.before.exit_code} -> {self.after.exit_code}")
        if self.before.stdout != self.after.stdout:
            found.append("standard output differs")
        if self.before.stderr != self.after.stderr:
            found.append("standard error differs")
        return found

    def to_dict(self) -> dict:
        return {
            "command": self.command,
            "same": not self.differences(),
            "differences": self.differences(),
            "before": _output(self.before),
            "after": _output(self.after),
        }


def _output(out: RunOutput) -> dict:
    return {"exit_code": out.exit_code, "timed_out": out.timed_out, "stdout": out.stdout[-_SHOWN:], "stderr": out.stderr[-_SHOWN:]}


def compare_runs(engine: Engine, before_ref: str, after_ref: str, command: str, timeout: float = DEFAULT_TIMEOUT) -> RunComparison:
    argv = command_argv(command)
    return RunComparison(command, engine.run(before_ref, argv, timeout), engine.run(after_ref, argv, timeout))
