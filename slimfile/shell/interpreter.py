"""Which shell runs each RUN: the stage's ``SHELL``, inherited from its base stage, or the
platform default (``/bin/sh -c`` on Linux, ``cmd /S /C`` on Windows).

Passes must not write bash-only syntax (``set -o pipefail``, ``[[``) for a RUN whose shell is
``/bin/sh``; :attr:`ShellInfo.is_bash` says when they may.
"""

from __future__ import annotations

from dataclasses import dataclass

from slimfile.shell.data import load
from slimfile.syntax.nodes import Dockerfile, Instruction
from slimfile.syntax.stages import Stage

POSIX_DIALECTS = frozenset({"sh", "bash", "ksh", "zsh"})


@dataclass(frozen=True, slots=True)
class ShellInfo:
    """A shell command line such as ``["/bin/bash", "-o", "pipefail", "-c"]``, understood."""

    argv: tuple[str, ...]
    dialect: str  # "sh", "bash", "ksh", "zsh", "powershell", "cmd" or "unknown"
    options: frozenset[str]  # set options it starts with: "errexit", "pipefail", "nounset", ...
    origin: str  # "default", "windows-default", "SHELL line 12", "shebang", "command"

    @property
    def is_posix(self) -> bool:
        return self.dialect in POSIX_DIALECTS

    @property
    def is_bash(self) -> bool:
        """bash-only syntax (``[[``, ``set -o pipefail``, arrays) is allowed."""
        return self.dialect == "bash"

    @property
    def errexit(self) -> bool:
        return "errexit" in self.options

    @property
    def program(self) -> str:
        return self.argv[0] if self.argv else ""


DEFAULT_SHELL = ShellInfo(("/bin/sh", "-c"), "sh", frozenset(), "default")
WINDOWS_DEFAULT_SHELL = ShellInfo(("cmd", "/S", "/C"), "cmd", frozenset(), "windows-default")


def program_dialect(program: str) -> str:
    """Dialect of a shell program path (``C:\\...\\powershell.exe`` -> ``powershell``)."""
    name = program.replace("\\", "/").rsplit("/", 1)[-1].lower()
    if name.endswith(".exe"):
        name = name[: -len(".exe")]
    return load("shell")["dialects"].get(name, "unknown")


def shell_from_argv(argv: tuple[str, ...], origin: str) -> ShellInfo:
    """Read a shell command line: its program (through ``env``/``busybox``) and its options."""
    if not argv:
        return ShellInfo(argv, "unknown", frozenset(), origin)
    position = 0
    while position < len(argv) - 1 and program_dialect(argv[position]) == "unknown" and _is_launcher(argv[position]):
        position += 1
    dialect = program_dialect(argv[position])
    if dialect == "sh" and argv[position].replace("\\", "/").rsplit("/", 1)[-1] == "busybox":
        position += 1  # `busybox sh -c`: the options follow the applet name
    return ShellInfo(argv, dialect, shell_options(argv[position + 1 :]), origin)


def _is_launcher(program: str) -> bool:
    return program.rsplit("/", 1)[-1] == "env"


def shell_options(args: tuple[str, ...] | list[str]) -> frozenset[str]:
    """Options switched on by shell arguments such as ``-eo pipefail`` or ``-o errexit``,
    up to ``-c`` or the first operand."""
    return frozenset(name for name, on in option_changes(args) if on)


def option_changes(args: tuple[str, ...] | list[str]) -> list[tuple[str, bool]]:
    """``set``-style arguments as (option name, switched on) pairs, in order."""
    letters = load("shell")["set_letters"]
    changes: list[tuple[str, bool]] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in ("--", "-") or len(arg) < 2 or arg[0] not in "-+" or arg == "-c":
            break
        on = arg[0] == "-"
        takes_name = False
        for letter in arg[1:]:
            if letter == "o":
                takes_name = True
            elif letter == "c":
                return changes
            elif letter in letters:
                changes.append((letters[letter], on))
        if takes_name and i + 1 < len(args):
            changes.append((args[i + 1], on))
            i += 1
        i += 1
    return changes


def is_windows_stage(stage: Stage) -> bool:
    """A stage built on a Windows image: ``--platform=windows/...`` or a Windows image name."""
    platform = (stage.platform or "").lower()
    if platform.startswith("windows"):
        return True
    if platform.startswith("linux"):
        return False
    image = stage.image_text.lower()
    return any(marker in image for marker in load("shell")["windows"]["image_markers"])


def shell_of_instruction(instruction: Instruction) -> ShellInfo:
    """The shell a ``SHELL`` instruction sets (``unknown`` when it is not JSON, as buildkit
    then refuses the file)."""
    origin = f"SHELL line {instruction.start_line}"
    if instruction.json is None:
        return ShellInfo((), "unknown", frozenset(), origin + " (not in JSON form)")
    return shell_from_argv(tuple(instruction.json), origin)


def run_shells(dockerfile: Dockerfile) -> dict[int, ShellInfo]:
    """The shell of every RUN (by ``id``), ONBUILD ones included.

    A stage starts with its base stage's final shell when ``FROM`` names an earlier stage,
    else with the platform default. An ``ONBUILD RUN`` runs in a child image, which inherits
    the shell the stage ends with, so it gets that one.
    """
    shells: dict[int, ShellInfo] = {}
    final: dict[int, ShellInfo] = {}
    for stage in dockerfile.stages.stages:
        if stage.base_stage is not None and stage.base_stage.index in final:
            current = final[stage.base_stage.index]
        else:
            current = WINDOWS_DEFAULT_SHELL if is_windows_stage(stage) else DEFAULT_SHELL
        onbuild_runs: list[Instruction] = []
        for instruction in stage.instructions:
            if instruction.name == "SHELL":
                current = shell_of_instruction(instruction)
            elif instruction.name == "RUN":
                shells[id(instruction)] = current
            elif instruction.inner is not None and instruction.inner.name == "RUN":
                onbuild_runs.append(instruction.inner)
        for inner in onbuild_runs:
            shells[id(inner)] = current
        final[stage.index] = current
    return shells
