"""Build the shell model of one RUN: pick the script (the logical line, or the heredoc body for
``RUN <<EOF``), decide whether it is a POSIX script at all, parse it, and annotate ``set -e``.

Mirrors buildkit's ``dispatchRun``: a RUN whose whole command line is one heredoc word runs the
body itself (through its ``#!`` interpreter when it has one, else through the stage's shell);
any other RUN with heredocs hands ``args`` to the shell with the bodies as heredoc data.
"""

from __future__ import annotations

import shlex
from typing import Mapping

from slimfile.shell.interpreter import ShellInfo, run_shells, shell_from_argv
from slimfile.shell.model import HeredocBody, OpaqueRun, RunShell, ScriptText, ShellScript
from slimfile.shell.parse import HeredocSource, ShellParseError, parse_script
from slimfile.shell.source import heredoc_script_text, run_args_text
from slimfile.shell.state import annotate_errexit
from slimfile.syntax.nodes import Dockerfile, Heredoc, Instruction
from slimfile.syntax.parser import parse_heredoc_word
from slimfile.textformats import MAX_SCRIPT_BYTES, TOO_DEEP, TOO_LARGE


def analyze_run(
    dockerfile: Dockerfile, instruction: Instruction, shells: Mapping[int, ShellInfo] | None = None
) -> RunShell:
    """The model of a RUN (``instruction`` may be the RUN inside an ONBUILD).

    ``shells`` is :func:`run_shells` of the file, for callers that model many RUNs (the
    :class:`~slimfile.analysis.context.Context` computes it once); it is computed when omitted.
    """
    if instruction.name != "RUN":
        raise ValueError(f"not a RUN instruction: {instruction.name}")
    shell = (shells if shells is not None else run_shells(dockerfile)).get(id(instruction))
    if instruction.json is not None:
        return OpaqueRun(instruction, "exec form: the JSON array runs without a shell", shell)
    if shell is None:
        return OpaqueRun(instruction, "RUN outside a build stage (before the first FROM)", None)
    if not shell.is_posix:
        return OpaqueRun(instruction, _non_posix_reason(shell), shell)
    heredocs = instruction.heredocs  # ONBUILD's inner RUN carries the ONBUILD's heredocs
    try:
        if heredocs and parse_heredoc_word(instruction.args_text, dockerfile.buildkit) is not None:
            return _heredoc_script(instruction, heredocs[0], shell)
        return _build(instruction, shell, "run", run_args_text(instruction), _known_heredocs(instruction, heredocs))
    except ShellParseError as exc:
        return OpaqueRun(instruction, str(exc), shell)


def _non_posix_reason(shell: ShellInfo) -> str:
    program = " ".join(shell.argv) if shell.argv else "(none)"
    if shell.origin == "windows-default":
        return "the stage's base image looks like Windows, where RUN uses `cmd /S /C`"
    if shell.dialect == "unknown":
        return f"unknown shell {program!r} ({shell.origin})"
    return f"the shell is {shell.dialect} ({program}, {shell.origin}), not a POSIX shell"


def _heredoc_script(instruction: Instruction, heredoc: Heredoc, stage_shell: ShellInfo) -> RunShell:
    """``RUN <<EOF``: the body is the script; buildkit runs a body starting with ``#!`` as a
    file, so its shebang interpreter runs it instead of the stage's shell."""
    shell = stage_shell
    if heredoc.content.startswith(b"#!"):
        shell = _shebang_shell(heredoc.content)
        if not shell.is_posix:
            interpreter = " ".join(shell.argv)
            return OpaqueRun(instruction, f"the heredoc runs under its #! interpreter `{interpreter}`, not a shell", shell)
    text = heredoc_script_text(heredoc, "heredoc", heredoc.chomp)
    return _build(instruction, shell, "heredoc", text, {})


def _shebang_shell(content: bytes) -> ShellInfo:
    line = content.split(b"\n", 1)[0][2:].decode("utf-8", "surrogateescape").strip()
    try:
        argv = tuple(shlex.split(line))
    except ValueError:
        argv = tuple(line.split())
    return shell_from_argv(argv, "shebang")


def _known_heredocs(instruction: Instruction, heredocs: tuple[Heredoc, ...]) -> dict[int, HeredocSource]:
    """buildkit's heredocs of a shell-form RUN, keyed by where their ``<<WORD`` is in ``args``."""
    known: dict[int, HeredocSource] = {}
    length = instruction.args_end - instruction.args_start  # not len(args): a copy per heredoc
    for heredoc in heredocs:
        offset = heredoc.word_logical_start - instruction.args_start
        if not 0 <= offset < length:
            continue
        body = HeredocBody(
            heredoc.name, heredoc.chomp, not heredoc.expand, heredoc.body_start, heredoc.body_end, heredoc.content
        )
        known[offset] = HeredocSource(body, None, heredoc)
    return known


def _build(
    instruction: Instruction, shell: ShellInfo, origin: str, text: ScriptText, known: dict[int, HeredocSource]
) -> ShellScript:
    text = ScriptText(text.kind, text.text, text.map, text.heredoc, shell)
    parsed = parse_script(text, known)
    commands = annotate_errexit(parsed.commands, parsed.texts)
    return ShellScript(
        instruction=instruction,
        shell=shell,
        origin=origin,
        texts=tuple(parsed.texts),
        commands=tuple(commands),
        comments=tuple(sorted(parsed.comments, key=lambda c: c.start)),
        functions=tuple(parsed.functions),
        errexit_at_start=shell.errexit,
    )



def script_of_text(text: str, argv: tuple[str, ...] = ("/bin/sh", "-c")) -> RunShell | str:
    """The model of shell text that is not a RUN: a script file copied from the build context,
    a ``sh -c`` string, a package.json script, a shell-form HEALTHCHECK. Offsets are the text's
    own (nothing here is ever edited), and the script has no instruction. A parse failure is
    returned as the reason."""
    from slimfile.syntax.nodes import LogicalLine, Segment

    raw = text.encode("utf-8", "surrogateescape")
    if len(raw) > MAX_SCRIPT_BYTES:
        return TOO_LARGE
    shell = shell_from_argv(argv, "command")
    piece = ScriptText("text", raw, LogicalLine(raw, (Segment(0, 0, len(raw)),)), None, shell)
    try:
        parsed = parse_script(piece, {})
    except ShellParseError as exc:
        return str(exc)
    except RecursionError:  # a file of the context, not the Dockerfile: its fact is missing
        return TOO_DEEP
    commands = annotate_errexit(parsed.commands, parsed.texts)
    return ShellScript(
        instruction=None,  # type: ignore[arg-type]
        shell=shell,
        origin="text",
        texts=tuple(parsed.texts),
        commands=tuple(commands),
        comments=tuple(parsed.comments),
        functions=tuple(parsed.functions),
        errexit_at_start=shell.errexit,
    )
