"""Facts several passes ask for: the RUNs of a file with their shell models, which stages end
up in the final image, cache mounts, and the estimated savings table (``data/savings.toml``)."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator

from slimfile.analysis.context import Context
from slimfile.diagnostics import Rule, Saving
from slimfile.shell.analyze import analyze_run
from slimfile.shell.cleanup import command_cleanup_keys, in_final_chain
from slimfile.memo import cached
from slimfile.shell.data import load
from slimfile.shell.edit_helpers import EditRefused, append_command, insert_option
from slimfile.shell.model import Command, Scope, ScopeKind, ShellScript, Word
from slimfile.shell.names import identity_words
from slimfile.shell.packages import PackageFact
from slimfile.syntax.edits import Edit, Fix, Safety
from slimfile.syntax.gocompat import parse_words
from slimfile.syntax.nodes import Instruction
from slimfile.syntax.parser import parse
from slimfile.syntax.stages import Stage


@dataclass(frozen=True)
class RunInfo:
    """A RUN (or the RUN inside an ONBUILD) with its stage and shell model."""

    instruction: Instruction  # the RUN itself (for ONBUILD: the inner instruction)
    outer: Instruction  # the instruction in the file (the ONBUILD for an inner RUN)
    stage: Stage | None
    script: ShellScript

    @property
    def onbuild(self) -> bool:
        return self.outer is not self.instruction


def runs(ctx: Context, *, include_onbuild: bool = True) -> Iterator[RunInfo]:
    """Every RUN the shell model understands (opaque RUNs are skipped: never edited)."""

    def compute() -> list[RunInfo]:
        found = []
        for outer in ctx.dockerfile.instructions:
            inner = outer.effective
            if inner.name != "RUN":
                continue
            script = ctx.shell(inner)
            if isinstance(script, ShellScript):
                found.append(RunInfo(inner, outer, ctx.stage_of(outer), script))
        return found

    for info in ctx.memo("runs", compute):
        if include_onbuild or not info.onbuild:
            yield info


def final_image_stages(ctx: Context) -> set[int]:
    """Indices of the stages whose layers are in the final image: the last stage and the
    stages it is built FROM, transitively (hadolint's DL3009 uses the same notion)."""

    def compute() -> set[int]:
        stages = ctx.stages.stages
        return {stage.index for stage in stages[-1].lineage()} if stages else set()

    return ctx.memo("final-image-stages", compute)


def in_final_image(ctx: Context, stage: Stage | None) -> bool:
    return stage is None or stage.index in final_image_stages(ctx)


def layers_are_reused(ctx: Context, stage: Stage | None) -> bool:
    """The stage's layers are in the final image or under another stage (``FROM stage``):
    cleaning them up pays off (hadolint's DL3009 uses the same test)."""
    if in_final_image(ctx, stage):
        return True
    bases = ctx.memo("base-stages", lambda: {id(other.base_stage) for other in ctx.stages.stages})
    return id(stage) in bases


def cache_mount_covers(instruction: Instruction, path: str) -> bool:
    """True when a ``--mount=type=cache`` or ``tmpfs`` mount hides ``path`` from the layer."""
    for flag in instruction.flags:
        if flag.name != "mount" or flag.argument is None:
            continue
        fields = dict(part.split("=", 1) if "=" in part else (part, "") for part in flag.argument.split(","))
        if fields.get("type") not in ("cache", "tmpfs"):
            continue
        target = fields.get("target") or fields.get("dst") or fields.get("destination") or ""
        target = target.rstrip("/")
        if target and (path == target or path.startswith(target + "/")):
            return True
    return False


def saving(key: str, **fields: str) -> Saving:
    """The estimated saving for ``key`` from ``data/savings.toml``; ``fields`` fill its text.
    Savings do not change: one per key and fields (SF502 asks once per pair of RUNs)."""
    return _saving(key, tuple(sorted(fields.items())))


@lru_cache(maxsize=1024)
def _saving(key: str, items: tuple[tuple[str, str], ...]) -> Saving:
    fields = dict(items)
    entry = load("savings")[key]
    return Saving(
        label=entry["label"].format(**fields),
        basis=entry["basis"].format(**fields),
        bytes=entry.get("bytes"),
        kind=entry.get("kind", "size"),
    )


# what a fix that changes the set of installed packages declares (verify then accepts that
# distribution files differ; application files and config must still be identical)
PACKAGES = frozenset({"packages"})


def append_fix(ctx: Context, info: RunInfo, after: Command, text: str, rule: Rule, safety: Safety = Safety.SAFE,
               declares: frozenset[str] = frozenset()) -> Fix | None:
    """A fix that adds ``text`` as a command after ``after``, or None when the helper refuses.
    It declares the cleanups it brings into the RUN, so no other fix of the round brings them too.
    Where a command after ``after`` could be skipped while the RUN still ends well (``install &&
    x; y``), it goes to the end of the RUN instead: a cleanup there is certain, so SF501 does not
    bring the stage's own cleanup in as well. ``text`` runs as ``after`` ran: behind the same
    ``sudo``/``gosu`` (a cleanup of root's files by USER app without sudo fails the build)."""
    as_run = run_as(after, text)
    if as_run is None:
        return None
    text = as_run
    after = _certain_anchor(info.script, after)
    try:
        edit = append_command(ctx.dockerfile, info.script, after, text)
    except EditRefused:
        return None
    brings = tuple((info.outer.start, key) for key in sorted(text_cleanup_keys(text)))
    return Fix((edit,), safety, rule.fix_title, declares, brings=brings)


def run_as(command: Command, text: str) -> str | None:
    """``text`` (commands joined by `` && ``, as the passes write them) behind ``command``'s
    wrappers that change the user (``sudo -u app``); None when one of their words is not
    static (the user may differ where the text runs)."""
    indices = identity_words([word.value for word in command.words])
    if not indices:
        return text
    words = [command.words[i] for i in indices]
    if not all(word.static for word in words):
        return None
    prefix = " ".join(word.raw for word in words)
    return " && ".join(f"{prefix} {part}" for part in text.split(" && "))


def _certain_anchor(script: ShellScript, after: Command) -> Command:
    """``after`` when a command appended after it runs whenever the script ends well, else the
    script's last top-level command (one appended after that one always has). Commands inside
    an if/case/loop body keep theirs (the cleanup belongs to the branch), so do those of a
    subshell that changes its directory, variables or options (they do not reach the end of
    the RUN), and so do those of a heredoc body: its lines run one after the other whatever
    each does. A brace group runs in the RUN's own shell: ``{ install; } && x; y`` gets the
    cleanup after ``y``, and so does ``(install) && x; y``."""
    if after.text != 0 or in_final_chain(script, after):
        return after
    if not all(_left_as_it_ran(script, scope) for scope in after.scopes):
        return after
    last = last_top_level_command(script)
    return last if last is not None and last.text == 0 else after


def _left_as_it_ran(script: ShellScript, scope: Scope) -> bool:
    """A command at the end of the RUN runs as it would inside ``scope``: a brace group, or a
    subshell in which nothing changes the shell's state."""
    if scope.kind is ScopeKind.BRACE_GROUP:
        return True
    if scope.kind is not ScopeKind.SUBSHELL:
        return False
    starts = cached(script, "state-change-starts", lambda: [change.start for change in script.state_changes])
    first = bisect.bisect_left(starts, scope.start)
    return first == len(starts) or starts[first] >= scope.end


@lru_cache(maxsize=128)
def text_cleanup_keys(text: str) -> frozenset[str]:
    """What a command text that a pass adds cleans up, read by the shell model as any RUN is
    (``shell.cleanup.command_cleanup_keys``)."""
    dockerfile = parse(f"FROM scratch\nRUN {text}\n".encode())
    script = analyze_run(dockerfile, dockerfile.instructions[-1])
    if not isinstance(script, ShellScript):
        return frozenset()
    return frozenset(key.key for keys in command_cleanup_keys(script).values() for key in keys)


def option_fix(ctx: Context, info: RunInfo, after: Word, option: str, rule: Rule, safety: Safety = Safety.SAFE,
               extra: tuple[Edit, ...] = (), declares: frozenset[str] = frozenset()) -> Fix | None:
    """A fix that inserts ``option`` after the word ``after`` (plus ``extra`` edits)."""
    try:
        edit = insert_option(ctx.dockerfile, info.script, after, option)
    except EditRefused:
        return None
    return Fix((edit, *extra), safety, rule.fix_title, declares)


def last_command_of(info: RunInfo, facts: list[PackageFact]) -> Command:
    return info.script.commands[max(f.command for f in facts)]


def stage_env(ctx: Context, stage: Stage | None, before: Instruction) -> dict[str, str]:
    """ENV values (and ARG defaults) in force at ``before``, through the stage's FROM chain.
    This reads the whole chain; to look up one variable per RUN use :func:`env_value`."""
    if stage is None:
        return {}
    env: dict[str, str] = {}
    for member in reversed(stage.lineage()):
        for node in member.instructions:
            if node is before:
                return env
            if node.name in ("ENV", "ARG"):
                env.update(_assignments(node, ctx.dockerfile.escape))
    return env


def env_value(ctx: Context, stage: Stage | None, before: Instruction, name: str) -> str | None:
    """``stage_env(ctx, stage, before).get(name)``, in logarithmic time: the file's assignments
    are indexed once per round, where reading the FROM chain for every RUN was quadratic."""
    if stage is None:
        return None
    return ctx.memo("env-index", lambda: _EnvIndex(ctx)).value(stage, before, name)


class _EnvIndex:
    """Every ENV/ARG assignment of every stage: per stage and variable, the positions (in the
    stage's instructions) that set it and the values they set."""

    def __init__(self, ctx: Context) -> None:
        self.escape = ctx.dockerfile.escape
        self.sets: dict[int, dict[str, tuple[list[int], list[str]]]] = {}
        self.positions: dict[int, dict[int, int]] = {}
        self.inherited: dict[tuple[int, str], str | None] = {}

    def _stage(self, stage: Stage) -> dict[str, tuple[list[int], list[str]]]:
        if id(stage) not in self.sets:
            sets: dict[str, tuple[list[int], list[str]]] = {}
            for position, node in enumerate(stage.instructions):
                if node.name in ("ENV", "ARG"):
                    for key, value in _assignments(node, self.escape).items():
                        positions, values = sets.setdefault(key, ([], []))
                        positions.append(position)
                        values.append(value)
            self.sets[id(stage)] = sets
            self.positions[id(stage)] = {id(node): i for i, node in enumerate(stage.instructions)}
        return self.sets[id(stage)]

    def value(self, stage: Stage, before: Instruction, name: str) -> str | None:
        entry = self._stage(stage).get(name)
        limit = self.positions[id(stage)].get(id(before), len(stage.instructions))
        if entry is not None:
            i = bisect.bisect_left(entry[0], limit)
            if i > 0:
                return entry[1][i - 1]
        return self._final(stage.base_stage, name, {id(stage)})

    def _final(self, stage: Stage | None, name: str, seen: set[int]) -> str | None:
        """The value a stage ends with, through its own FROM chain (memoised)."""
        chain: list[Stage] = []
        while stage is not None and id(stage) not in seen and (id(stage), name) not in self.inherited:
            seen.add(id(stage))
            chain.append(stage)
            stage = stage.base_stage
        value = self.inherited.get((id(stage), name)) if stage is not None else None
        for member in reversed(chain):
            entry = self._stage(member).get(name)
            if entry is not None:
                value = entry[1][-1]
            self.inherited[(id(member), name)] = value
        return value


def _assignments(node: Instruction, escape: str) -> dict[str, str]:
    words = parse_words(node.args_text, escape)
    if node.name == "ENV" and words and "=" not in words[0]:
        return {words[0]: " ".join(words[1:])}  # legacy `ENV key value`
    out = {}
    for word in words:
        key, _, value = word.partition("=")
        out[key] = value.strip("\"'")
    return out


def truthy(value: str | None) -> bool:
    return value is not None and value.strip("\"'").lower() in ("1", "true", "yes", "on")


def last_top_level_command(script: ShellScript) -> Command | None:
    """The script's last command when it stands at its top level (not inside an if/for/...
    body), so that a command appended after it runs after everything else. Passes ask for
    each finding in a RUN: worked out once per script."""
    return cached(script, "last-top-level-command", lambda: _last_top_level_command(script))


def _last_top_level_command(script: ShellScript) -> Command | None:
    if not script.commands:
        return None
    last = max(script.commands, key=lambda c: c.end)
    outer_end = max((c.scopes[0].end if c.scopes else c.end) for c in script.commands)
    if last.end < outer_end or any(scope.kind.value != "pipeline" for scope in last.scopes):
        return None
    return last
