"""The shell model as plain data, merged into ``slimfile parse --json`` for each RUN."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from slimfile.report.json_text import LazyList, indented_chunks
from slimfile.shell.analyze import analyze_run
from slimfile.shell.interpreter import ShellInfo, run_shells
from slimfile.shell.model import Command, RunShell, ShellScript
from slimfile.shell.packages import PackageFact
from slimfile.syntax.dump import instruction_dict, to_dict
from slimfile.syntax.nodes import Dockerfile, Instruction


def parse_json_chunks(dockerfile: Dockerfile) -> Iterator[str]:
    """The text of ``slimfile parse --json`` (without its final newline) in pieces: the tree
    as plain data (``to_dict``) with each RUN's facts, one instruction made at a time."""
    return indented_chunks(to_dict(dockerfile, instructions=LazyList(instruction_entries(dockerfile))))


def instruction_entries(dockerfile: Dockerfile) -> Iterator[dict[str, Any]]:
    """``to_dict``'s instruction entries, each RUN's (and ONBUILD's inner RUN's) with its
    ``opaque``, ``shell``, ``commands``, ``packages``, ``cleanups``, ``state_changes`` and
    ``exits``, made one at a time (``parse --json`` of a 4 MiB file would otherwise hold
    every RUN's facts at once)."""
    shells = run_shells(dockerfile)
    ascii_only = dockerfile.source.isascii()
    for instruction in dockerfile.instructions:
        entry = instruction_dict(dockerfile, instruction)
        _add_facts(dockerfile, instruction, entry, shells, ascii_only)
        yield entry


def _add_facts(
    dockerfile: Dockerfile, instruction: Instruction, entry: dict[str, Any], shells: Mapping[int, ShellInfo], ascii_only: bool
) -> None:
    if instruction.name == "RUN":
        entry.update(run_dict(dockerfile, analyze_run(dockerfile, instruction, shells), ascii_only))
    elif instruction.inner is not None and instruction.inner.name == "RUN":
        entry["inner"].update(run_dict(dockerfile, analyze_run(dockerfile, instruction.inner, shells), ascii_only))


def run_dict(dockerfile: Dockerfile, result: RunShell, ascii_only: bool = False) -> dict[str, Any]:
    """The facts of one RUN; ``ascii_only`` (the whole file is ASCII: every string comes from
    the file or is ours) skips making the strings valid UTF-8."""
    data = _run_dict(dockerfile, result)
    return data if ascii_only else _clean(data)


def _clean(value: Any) -> Any:
    """Strings as valid UTF-8: bytes a Dockerfile holds that are not UTF-8 become U+FFFD."""
    if isinstance(value, str):
        if value.isascii():  # nearly every string: nothing to replace
            return value
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


def _run_dict(dockerfile: Dockerfile, result: RunShell) -> dict[str, Any]:
    out: dict[str, Any] = {
        "opaque": result.opaque,
        "shell": _shell_dict(result.shell) if result.shell is not None else None,
    }
    if not isinstance(result, ShellScript):
        out.update({"commands": [], "packages": [], "cleanups": [], "state_changes": [], "exits": []})
        return out
    out.update(
        {
            "script": result.origin,
            "commands": [_command_dict(dockerfile, c) for c in result.commands],
            "packages": [_package_dict(p) for p in result.packages],
            "cleanups": [
                {
                    "manager": c.manager,
                    "kind": c.kind,
                    "coverage": c.coverage,
                    "paths": list(c.paths),
                    "path": c.word.value if c.word else None,
                    "command": c.command,
                    "span": [c.start, c.end],
                }
                for c in result.cleanups
            ],
            "state_changes": [
                {"kind": s.kind, "names": list(s.names), "persists": s.persists, "command": s.command, "span": [s.start, s.end]}
                for s in result.state_changes
            ],
            "exits": [
                {"kind": e.kind, "ends_script": e.ends_script, "command": e.command, "span": [e.start, e.end]}
                for e in result.exits
            ],
        }
    )
    return out


def _shell_dict(shell: ShellInfo) -> dict[str, Any]:
    return {"argv": list(shell.argv), "dialect": shell.dialect, "options": sorted(shell.options), "origin": shell.origin}


def _command_dict(dockerfile: Dockerfile, command: Command) -> dict[str, Any]:
    line, column = dockerfile.position(command.start)
    return {
        "name": command.name,
        "argv": list(command.argv),
        "kind": command.kind.value,
        "operator": command.operator.value if command.operator else None,
        "context": [scope.kind.value if scope.role is None else f"{scope.kind.value}:{scope.role}" for scope in command.scopes],
        "wrappers": list(command.wrappers),
        "assignments": [{"name": a.name, "value": a.value_text} for a in command.assignments],
        "redirects": [
            {"operator": r.operator, "fd": r.fd, "target": r.target.value if r.target else None, "heredoc": r.heredoc is not None}
            for r in command.redirects
        ],
        "errexit": command.errexit,
        "span": [command.start, command.end],
        "line": line,
        "column": column,
    }


def _package_dict(fact: PackageFact) -> dict[str, Any]:
    return {
        "manager": fact.manager,
        "tool": fact.tool,
        "action": fact.action,
        "packages": list(fact.package_names),
        "options": [{"name": o.name, "value": o.value} for o in fact.options],
        "traits": sorted(fact.traits),
        "command": fact.command,
        "span": [fact.start, fact.end],
    }


__all__ = ["instruction_entries", "parse_json_chunks", "run_dict"]
