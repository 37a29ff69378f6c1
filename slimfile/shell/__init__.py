"""RUN instructions understood as shell scripts: commands with source spans, the shell that
runs them, package-manager / cleanup / state facts, and edit helpers. See docs/shell-model.md.

Passes get a model through ``Context.shell(instruction)``; the names below are the API.
"""

from slimfile.shell.analyze import analyze_run
from slimfile.shell.cleanup import CleanupFact
from slimfile.shell.edit_helpers import (
    EditRefused,
    append_command,
    append_operator,
    insert_option,
    remove_command,
    wrap_in_subshell,
)
from slimfile.shell.interpreter import ShellInfo, run_shells
from slimfile.shell.model import (
    Assignment,
    Command,
    CommandKind,
    Joint,
    OpaqueRun,
    Operator,
    Redirect,
    RunShell,
    Scope,
    ScopeKind,
    ShellScript,
    Word,
)
from slimfile.shell.packages import PackageFact, PackageOption
from slimfile.shell.state import EarlyExit, StateChange

__all__ = [
    "Assignment",
    "CleanupFact",
    "Command",
    "CommandKind",
    "EarlyExit",
    "EditRefused",
    "Joint",
    "OpaqueRun",
    "Operator",
    "PackageFact",
    "PackageOption",
    "Redirect",
    "RunShell",
    "Scope",
    "ScopeKind",
    "ShellInfo",
    "ShellScript",
    "StateChange",
    "Word",
    "analyze_run",
    "append_command",
    "append_operator",
    "insert_option",
    "remove_command",
    "run_shells",
    "wrap_in_subshell",
]
