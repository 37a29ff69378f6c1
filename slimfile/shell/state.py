"""Shell state across commands: ``set -e``, and what a merge of RUNs must respect.

Each RUN is a fresh shell. Merging two RUNs puts the second one's commands into the first
one's shell, so everything the first leaves behind (working directory, variables, options,
functions, traps, umask) reaches them; an early ``exit``/``exec`` would skip them. This module
reports those facts. Everything is lexical: a ``cd`` inside an ``if`` counts as if it ran.
"""

from __future__ import annotations

from dataclasses import dataclass

from slimfile.shell.data import load
from slimfile.shell.interpreter import option_changes
from slimfile.shell.model import (
    CHILD_PROCESS_SCOPES,
    Command,
    CommandKind,
    ScopeKind,
    ScriptText,
    ShellScript,
)

# scopes that start their own option state: child processes, and function bodies (which run
# when called, not where they are written)
_OWN_STATE_SCOPES = CHILD_PROCESS_SCOPES | {ScopeKind.FUNCTION}
_LOOKUP_ONLY_WRAPPERS = frozenset({"command", "builtin"})


@dataclass(frozen=True, slots=True)
class StateChange:
    """A command (or function definition) whose effect reaches later commands.

    ``kind`` is one of the values of ``[state_commands]`` in ``data/shell.toml`` (``cd``,
    ``export``, ``set``, ...), or ``assignment``, ``function`` or ``exec-redirect``.
    ``persists`` is False inside a subshell, ``$( )``, a pipeline or a nested heredoc script,
    whose changes die with that process.
    """

    kind: str
    command: int | None  # index into ShellScript.commands; None for a function definition
    names: tuple[str, ...]  # variables, options, function or directory it concerns, if known
    persists: bool
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class EarlyExit:
    """``exit``, ``return`` outside a function, or ``exec PROGRAM``: later commands may not run."""

    kind: str  # "exit", "return" or "exec"
    command: int
    ends_script: bool  # in the RUN's own shell (not in a subshell/function/pipeline)
    start: int
    end: int


def annotate_errexit(commands: list[Command], texts: list[ScriptText]) -> list[Command]:
    """Set ``Command.errexit`` (built False) on freshly parsed commands, in place: whether
    ``set -e`` is in force where each runs.

    Options are tracked per shell process, in source order: a subshell, pipeline part or
    ``$( )`` starts with its parent's options (bash drops ``-e`` in ``$( )``), a nested heredoc
    script with its own shell's options, and ``set -e``/``set +e``/``set -o errexit`` change the
    state of the process they run in.
    """
    state: dict[int, bool] = {}
    for command in commands:
        key = _enter_processes(command, texts, state)
        if state[key]:
            # the commands were just built and are not shared yet: set the field in place
            # (``dataclasses.replace`` per command was a tenth of the model's time)
            object.__setattr__(command, "errexit", True)
        change = _errexit_change(command)
        if change is not None:
            state[key] = change
    return commands


def _enter_processes(command: Command, texts: list[ScriptText], state: dict[int, bool]) -> int:
    """Initialise the option state of every process the command sits in, outermost first,
    and return the key of the innermost one (0 is the RUN's own shell)."""
    main_shell = texts[0].shell
    state.setdefault(0, bool(main_shell and main_shell.errexit))
    parent = 0
    for scope in command.scopes:
        if scope.kind not in _OWN_STATE_SCOPES:
            continue
        if scope.id not in state:
            state[scope.id] = _initial_errexit(scope.kind, state[parent], texts[command.text].shell)
        parent = scope.id
    return parent


def _initial_errexit(kind: ScopeKind, inherited: bool, text_shell) -> bool:
    if kind is ScopeKind.HEREDOC_SCRIPT:
        return bool(text_shell and text_shell.errexit)
    if kind is ScopeKind.COMMAND_SUBSTITUTION and text_shell is not None and text_shell.is_bash:
        return False
    return inherited


def _errexit_change(command: Command) -> bool | None:
    if command.name != "set" or _runs_elsewhere(command):
        return None
    result = None
    for option, on in option_changes(list(command.argv[1:])):
        if option == "errexit":
            result = on
    return result


# -- state changes ------------------------------------------------------------------------------


def state_changes(script: ShellScript) -> tuple[StateChange, ...]:
    """Every state-changing command and function definition, in source order."""
    table = load("shell")["state_commands"]
    changes: list[StateChange] = []
    for command in script.commands:
        change = _command_state_change(command, table)
        if change is not None:
            changes.append(change)
    for function in script.functions:
        changes.append(StateChange("function", None, (function.name,), not function.in_child_process, function.start, function.end))
    return tuple(sorted(changes, key=lambda c: c.start))


def _command_state_change(command: Command, table: dict[str, str]) -> StateChange | None:
    if command.kind is CommandKind.ASSIGNMENT:
        names = tuple(a.name for a in command.assignments)
        return StateChange("assignment", command.index, names, not command.in_child_process, command.start, command.end)
    name = command.name
    if name is None or _runs_elsewhere(command):
        return None
    if name == "exec" and len(command.argv) == 1 and command.redirects:
        return StateChange("exec-redirect", command.index, (), not command.in_child_process, command.start, command.end)
    kind = table.get(name)
    if kind is None:
        return None
    if kind == "set" and len(command.argv) == 1:
        return None  # bare `set` only prints the variables
    names = _state_names(kind, command)
    return StateChange(kind, command.index, names, not command.in_child_process, command.start, command.end)


def _runs_elsewhere(command: Command) -> bool:
    """A wrapper runs the command in another process or shell (``sudo``, ``env``, ``xargs``):
    it cannot change this shell's state nor end it."""
    return bool(command.wrappers) and bool(set(command.wrappers) - _LOOKUP_ONLY_WRAPPERS)


def _state_names(kind: str, command: Command) -> tuple[str, ...]:
    args = [a for a in command.argv[1:] if a]
    if kind == "set":
        return tuple(option for option, _ in option_changes(args)) or tuple(args)
    if kind in ("export", "declare", "unset", "read"):
        return tuple(a.split("=", 1)[0] for a in args if not a.startswith("-"))
    if kind in ("cd", "pushd", "source", "alias", "shopt"):
        return tuple(a for a in args if not a.startswith("-"))
    return ()


def early_exits(script: ShellScript) -> tuple[EarlyExit, ...]:
    table = load("shell")["exit_commands"]
    exits: list[EarlyExit] = []
    for command in script.commands:
        kind = _exit_kind(command, table)
        if kind is None:
            continue
        ends = not command.in_child_process and not command.in_scope(ScopeKind.FUNCTION)
        exits.append(EarlyExit(kind, command.index, ends, command.start, command.end))
    return tuple(exits)


def _exit_kind(command: Command, table: dict[str, str]) -> str | None:
    if "exec" in command.wrappers:
        return "exec"
    name = command.name
    if name is None or _runs_elsewhere(command):
        return None
    kind = table.get(name)
    if kind == "return" and command.in_scope(ScopeKind.FUNCTION):
        return None  # returning from a function does not end the script
    return kind
