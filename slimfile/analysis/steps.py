"""Build steps as facts: what each instruction of a stage reads and writes, and whether two
steps can trade places.

A fold over the stage (hadolint's idea) keeps the state every instruction runs in: the
working directory, the user, the known ENV/ARG values. Each instruction then gets a
:class:`StepEffects`: image paths read and written (each a whole tree), variables read and
set, and the reason when any of it is unknown. Build state that is not a path — the user,
the shell, the working directory — is modelled as pseudo-variables (``@USER``, ``@SHELL``,
``@WORKDIR``), so one rule decides everything: **two steps commute when neither writes what
the other reads or writes** (:func:`commute`).
"""

from __future__ import annotations

import bisect
import posixpath
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace

from slimfile.analysis.context import Context
from slimfile.shell.data import load
from slimfile.shell.effects import (
    NO_ORDER,
    Account,
    Effects,
    PathTrie,
    account_change,
    env_overlap,
    overlaps,
    resolve_path,
    run_effects,
)
from slimfile.shell.expansion import ExpansionBudget, TooLong, substitute
from slimfile.shell.model import Command, CommandKind, ShellScript, child_process_steps
from slimfile.syntax.gocompat import parse_words
from slimfile.syntax.nodes import Instruction
from slimfile.syntax.stages import Stage

USER, SHELL, WORKDIR = "@USER", "@SHELL", "@WORKDIR"
PATH_MAX = 4096  # Linux's limit on a path, its terminating NUL included (ENAMETOOLONG past it)
_VARIABLE = re.compile(r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)[^}]*\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")
# instructions that only set image metadata: they change nothing a later step could read
METADATA = frozenset({"LABEL", "EXPOSE", "CMD", "ENTRYPOINT", "HEALTHCHECK", "STOPSIGNAL", "MAINTAINER", "ONBUILD"})


@dataclass(frozen=True)
class StepEffects:
    reads: frozenset[str] = frozenset()
    writes: frozenset[str] = frozenset()
    env_reads: frozenset[str] = frozenset()
    env_writes: frozenset[str] = frozenset()
    unknown: str | None = None

    @classmethod
    def unknowable(cls, reason: str) -> StepEffects:
        return cls(unknown=reason)


@dataclass(frozen=True)
class StepState:
    """What is in force when an instruction runs."""

    workdir: str | None  # absolute; None when unknown (an image's own WORKDIR, a variable)
    user: str  # as written in USER, "root" by default
    env: Mapping[str, str]  # ENV/ARG values known at this point
    homes: Mapping[str, str] | None = None  # users' homes by name and uid ("": not known)

    @property
    def home(self) -> str | None:
        """The running user's home: ENV HOME when set, /root for root, else the one the
        Dockerfile's ``useradd``/``adduser`` gave the user or the base image's own user's
        (``USER node`` on a node image); None when not known."""
        if is_set(self.env, "HOME"):
            value = self.env.get("HOME")  # a variable left in it is not known here
            return value if value and "$" not in value else None
        name = self.user.split(":", 1)[0]
        if name in ("root", "0"):
            return "/root"
        return (self.homes or {}).get(name) or None


class Step:
    """An instruction with the state it runs in. Its ``effects`` are worked out on first use:
    most steps' effects are never asked for (a file of 269,088 RUNs spent a sixth of ``check``
    on them), and they depend only on the instruction, the state and the round's facts."""

    __slots__ = ("instruction", "state", "_ctx", "_effects")

    def __init__(self, instruction: Instruction, state: StepState, ctx: Context) -> None:
        self.instruction = instruction
        self.state = state
        self._ctx: Context | None = ctx
        self._effects: StepEffects | None = None

    @property
    def effects(self) -> StepEffects:
        if self._ctx is not None:
            self._effects = instruction_effects(self._ctx, self.instruction, self.state)
            self._ctx = None  # the round's facts are not kept alive by a step that is done
        return self._effects

    def __eq__(self, other: object) -> bool:  # as the frozen dataclass it was
        if not isinstance(other, Step):
            return NotImplemented
        return (self.instruction, self.state, self.effects) == (other.instruction, other.state, other.effects)

    __hash__ = None  # type: ignore[assignment]  # a state holds dicts: never hashable

    def __repr__(self) -> str:
        return f"Step(instruction={self.instruction!r}, state={self.state!r})"


def commute(a: StepEffects, b: StepEffects) -> str | None:
    """None when the two steps give the same result in either order, else why not."""
    for effects in (a, b):
        if effects.unknown:
            return effects.unknown
    for first, second in ((a, b), (b, a)):
        clash = overlaps(first.writes, second.reads | second.writes)
        if clash:
            return f"one writes {clash[0]}, the other uses {clash[1]}"
        name = env_overlap(second.env_reads | second.env_writes, first.env_writes)
        if name:
            return f"one sets {name.lstrip('@').lower() if name.startswith('@') else name}, the other uses it"
    return None


class PassedSteps:
    """The steps a moving step must pass (in order), with what they use indexed by the first
    step that uses it, so that the first one it does not commute with is found without a
    :func:`commute` per step: a stage of thousands of steps that stay, each passed by thousands
    that move, was quadratic, and so was trying the steps one by one once one clashed (n RUNs
    that stay, each followed by one that moves and reads what it wrote: 2,000 lines 21 s).
    Commuting is decided per path and per variable, so the first step that clashes is the
    first that uses a path or variable the move clashes on."""

    def __init__(self) -> None:
        self.steps: list[Step] = []
        self._first_unknown = NO_ORDER
        self._used = PathTrie()  # paths read or written, by the first step that does
        self._written = PathTrie()
        self._env_used: dict[str, int] = {}  # names read or set -> the first step that does
        self._env_used_prefixes: dict[str, int] = {}  # ``X`` of ``X_*`` reads: the data's patterns, a few
        self._env_written: dict[str, int] = {}
        self._written_prefix: dict[str, int] = {}  # prefix -> the first step setting a name that starts with it (as asked)

    def add(self, step: Step) -> None:
        effects = step.effects
        order = len(self.steps)
        self.steps.append(step)
        if effects.unknown:
            self._first_unknown = min(self._first_unknown, order)
            return
        for path in effects.reads | effects.writes:
            self._used.add(path, order)
        for path in effects.writes:
            self._written.add(path, order)
        for name in effects.env_reads | effects.env_writes:
            if name.endswith("*"):
                self._env_used_prefixes.setdefault(name[:-1], order)
            self._env_used.setdefault(name, order)
        for name in effects.env_writes:
            if name in self._env_written:
                continue
            self._env_written[name] = order
            for prefix, first in self._written_prefix.items():
                if first == NO_ORDER and name.startswith(prefix):
                    self._written_prefix[prefix] = order

    def first_blocker(self, effects: StepEffects) -> Step | None:
        """The first step that does not commute with ``effects`` (what
        ``next(s for s in steps if commute(effects, s.effects))`` gives)."""
        if not self.steps:
            return None
        if effects.unknown:
            return self.steps[0]
        first = min(self._first_clash(effects), self._first_unknown)
        return None if first == NO_ORDER else self.steps[first]

    def _first_clash(self, effects: StepEffects) -> int:
        """The first step of known effects that does not commute with ``effects`` (commute's
        rule, for all of them at once), or NO_ORDER."""
        first = NO_ORDER
        for path in effects.writes:
            first = min(first, self._used.first_overlap(path))
        for path in effects.reads | effects.writes:
            first = min(first, self._written.first_overlap(path))
        for name in effects.env_writes:
            first = min(first, self._env_used.get(name, NO_ORDER))
            for prefix, order in self._env_used_prefixes.items():
                if order < first and name.startswith(prefix):
                    first = order
        for name in effects.env_reads | effects.env_writes:
            first = min(first, self._env_written.get(name, NO_ORDER))
            if name.endswith("*"):
                first = min(first, self._first_written_with(name[:-1]))
        return first

    def _first_written_with(self, prefix: str) -> int:
        if prefix not in self._written_prefix:
            self._written_prefix[prefix] = min((order for name, order in self._env_written.items() if name.startswith(prefix)), default=NO_ORDER)
        return self._written_prefix[prefix]


def stage_steps(ctx: Context, stage: Stage) -> list[Step]:
    """Every instruction of the stage with its state and effects (computed once per round)."""
    return ctx.memo(("steps", stage.index), lambda: _fold(ctx, stage))


def step_index(ctx: Context, stage: Stage) -> dict[int, int]:
    """The position of each instruction (by identity) among the stage's steps, once per round:
    finding a RUN's step by a scan of the stage's steps was quadratic on long stages."""
    return ctx.memo(("step-index", stage.index), lambda: {id(s.instruction): i for i, s in enumerate(stage_steps(ctx, stage))})


def _initial_state(ctx: Context, stage: Stage) -> StepState:
    """The state the stage's first step runs in: its base stage's after its last step (or
    after its own base's, when it has none), once per stage and round."""
    return ctx.memo(("initial-state", stage.index), lambda: _first_state(ctx, stage))


def _first_state(ctx: Context, stage: Stage) -> StepState:
    base = stage.base_stage
    if base is not None:
        steps = stage_steps(ctx, base)
        if steps:
            last = steps[-1]
            return _advance(ctx, last.state, last.instruction)
        return _initial_state(ctx, base)  # known: folding the base asked for it
    # an image's own ENV is not known here; its WORKDIR is for the official images
    return StepState(workdir=_image_workdir(stage), user="root", env={}, homes=_image_homes(stage))


def _fold_bases_first(ctx: Context, stage: Stage) -> None:
    """Fold the stage's base stages not folded yet, the farthest first, so that folding each
    asks only for its own base's steps, which are known: a recursion base by base (and, for
    stages with no step, initial state by initial state) was as deep as the chain of stages,
    "too deeply nested" from about 750 stages, and walked the chain again for every empty
    stage."""
    pending: list[Stage] = []
    seen = {stage.index}
    base = stage.base_stage
    while base is not None and base.index not in seen and not ctx.memoized(("steps", base.index)):
        seen.add(base.index)
        pending.append(base)
        base = base.base_stage
    for base in reversed(pending):
        stage_steps(ctx, base)


def _image_workdir(stage: Stage) -> str | None:
    if stage.image is None or stage.image.has_variables or stage.image.registry not in (None, "docker.io", "index.docker.io"):
        return None
    return load("image_defaults")["workdir"].get(stage.image.short_repository)


def _image_homes(stage: Stage) -> Mapping[str, str] | None:
    if stage.image is None or stage.image.has_variables or stage.image.registry not in (None, "docker.io", "index.docker.io"):
        return None
    return load("image_defaults")["homes"].get(stage.image.short_repository)


def global_defaults(ctx: Context) -> dict[str, str]:
    """Defaults of the ARGs before the first FROM (a stage sees one only after ``ARG NAME``),
    once per round for every reader (the stage steps, the FROM images). ``ARG NAME`` again
    without a value empties it (Docker 20.10's BuildKit builds `ARG T=bookworm`, `ARG T`,
    `FROM debian:${T}-slim` as `debian:-slim`): such a name, and a value too long to follow,
    is unknown."""

    def compute() -> dict[str, str]:
        values: dict[str, str] = {}
        budget = expansion_budget(ctx)
        for node in ctx.stages.global_args:
            for name, value in assignments(node, ctx.dockerfile.escape).items():
                expanded = None if value is None else budget.keep(value, expand_known(value, values))
                if expanded is None:
                    values.pop(name, None)
                else:
                    values[name] = expanded
        return values

    return ctx.memo("steps.global-args", compute)


def _fold(ctx: Context, stage: Stage) -> list[Step]:
    _fold_bases_first(ctx, stage)
    state = _initial_state(ctx, stage)
    steps = []
    for node in stage.instructions:
        steps.append(Step(node, state, ctx))
        state = _advance(ctx, state, node)
    return steps


def _advance(ctx: Context, state: StepState, node: Instruction) -> StepState:
    if node.name in ("ENV", "ARG"):
        values = _next_env(state.env)
        for name, value in assignments(node, ctx.dockerfile.escape).items():
            if value is None and node.name == "ARG":
                value = global_defaults(ctx).get(name)
            # a build argument with no default is unknown (None)
            values.timeline.set(name, None if value is None else expansion_budget(ctx).keep(value, expand_known(value, values)))
        return replace(state, env=values)
    if node.name == "WORKDIR":
        return replace(state, workdir=_workdir(node, state))
    if node.name == "USER":
        return replace(state, user=expand(node.args_text.strip(), state.env) or "?")
    if node.name == "RUN":
        accounts = _accounts(ctx, node)
        if accounts:
            homes = dict(state.homes or {})
            for account in accounts:
                homes.update(dict.fromkeys(account.names, account.home or ""))  # "": not known
            return replace(state, homes=homes)
    return state


def _accounts(ctx: Context, node: Instruction) -> list[Account]:
    """The accounts a RUN creates or re-homes (``useradd -m app``: /home/app)."""
    script = ctx.shell(node)
    if not isinstance(script, ShellScript):
        return []
    return [a for a in map(account_change, script.commands) if a is not None]


class _Unset:
    """The value of a variable a RUN's script removed (``unset A``): not set, whatever the
    stage or the base said (None is set to a value not known here)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNSET"


UNSET = _Unset()


class EnvTimeline:
    """Every ENV/ARG value of a stage, by the position (count of ENV/ARG lines) it was set at:
    each step's variables are a view of it (:class:`EnvAt`), so a stage of thousands of ENV
    lines costs no copy per step. Names never set here are looked up in ``base`` (the parent
    stage's variables)."""

    def __init__(self, base: Mapping[str, str]) -> None:
        self.base = base
        self.head = 0
        self.history: dict[str, tuple[list[int], list[str | None | _Unset]]] = {}
        self.folded: dict[str, set[str]] = {}  # lower-case name -> the names set (see names_like)
        self.from_base: dict[str, tuple[bool, str | None | _Unset]] = {}  # what ``base`` says, per name asked

    def set(self, name: str, value: str | None | _Unset) -> None:
        if name not in self.history:
            self.folded.setdefault(name.lower(), set()).add(name)
        positions, values = self.history.setdefault(name, ([], []))
        if positions and positions[-1] == self.head:
            values[-1] = value
        else:
            positions.append(self.head)
            values.append(value)


class EnvAt(Mapping):
    """The variables in force at one position of a timeline (None values are not there)."""

    __slots__ = ("timeline", "position")

    def __init__(self, timeline: EnvTimeline, position: int) -> None:
        self.timeline = timeline
        self.position = position

    def _lookup(self, name: str) -> tuple[bool, str | None | _Unset]:
        found = self.timeline.history.get(name)
        if found is not None:
            index = bisect.bisect_right(found[0], self.position) - 1
            if index >= 0:
                return True, found[1][index]
        return False, None

    def __getitem__(self, name: str) -> str:
        found, value = _resolve(self, name)
        if not found or value is None or value is UNSET:
            raise KeyError(name)
        return value  # type: ignore[return-value]

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        found, value = _resolve(self, name)
        return found and value is not None and value is not UNSET

    def __iter__(self) -> Iterator[str]:
        for name in self.timeline.history:
            if name in self:
                yield name
        yield from (name for name in self.timeline.base if name not in self.timeline.history)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def is_set(env: Mapping[str, str], name: str) -> bool:
    """An ENV/ARG set ``name``, even to a value not known here (``ENV HOME=$ARG``); not after
    ``unset A`` in the RUN, whatever came before."""
    found, value = _resolve(env, name)
    return found and value is not UNSET


def _resolve(env: Mapping[str, str], name: str) -> tuple[bool, str | None | _Unset]:
    """(whether a layer of ``env`` sets ``name``, the value the nearest one gives: None for
    one not known, UNSET for ``unset``). Layers are walked in a loop, and what a timeline's
    base says about a name is kept in the timeline: a chain of n stages each asking for a
    name no stage sets walked the whole chain (by a recursion) for every stage."""
    passed: list[EnvTimeline] = []
    layer: Mapping[str, str] = env
    while True:
        if isinstance(layer, CommandEnv):
            if name in layer.local:
                found: tuple[bool, str | None | _Unset] = (True, layer.local[name])
                break
            layer = layer.base
        elif isinstance(layer, EnvAt):
            local, value = layer._lookup(name)
            if local:
                found = (True, value)
                break
            timeline = layer.timeline
            known = timeline.from_base.get(name)
            if known is not None:
                found = known
                break
            passed.append(timeline)
            layer = timeline.base
        else:
            found = (True, layer[name]) if name in layer else (False, None)
            break
    for timeline in passed:
        timeline.from_base[name] = found
    return found


def names_like(env: Mapping[str, str], folded: str) -> set[str]:
    """The names ``env`` sets (:func:`is_set`) that are ``folded`` without case (npm reads
    ``NPM_CONFIG_X`` as ``npm_config_x``): found through each timeline's index of names, where
    iterating a step's variables per question cost the stage's ENV lines each time."""
    candidates: set[str] = set()
    layer: Mapping[str, str] | None = env
    while layer is not None:
        if isinstance(layer, CommandEnv):
            candidates.update(name for name in layer.local if name.lower() == folded)
            layer = layer.base
        elif isinstance(layer, EnvAt):
            candidates.update(layer.timeline.folded.get(folded, ()))
            layer = layer.timeline.base
        else:
            candidates.update(name for name in layer if name.lower() == folded)
            layer = None
    return {name for name in candidates if is_set(env, name)}


class CommandEnv(Mapping):
    """A command's own variables (``A=b cmd``, ``env A=b cmd``) over the ones it sees anyway
    (``base``: the step's, and what its RUN set before it). A None value is set to something
    not known here (``A=$X``)."""

    __slots__ = ("base", "local")

    def __init__(self, base: Mapping[str, str], local: Mapping[str, str | None]) -> None:
        self.base = base
        self.local = local

    def __getitem__(self, name: str) -> str:
        if name in self.local:
            value = self.local[name]
            if value is None:
                raise KeyError(name)
            return value
        return self.base[name]

    def __contains__(self, name: object) -> bool:
        if name in self.local:
            return self.local[name] is not None  # type: ignore[index]
        return name in self.base

    def __iter__(self) -> Iterator[str]:
        yield from (name for name, value in self.local.items() if value is not None)
        yield from (name for name in self.base if name not in self.local)

    def __len__(self) -> int:
        return sum(1 for _ in self)


@dataclass
class _ChildProcess:
    """A subshell (``$( )``, a pipeline) the commands are in: the variables it sets end with it."""

    scope: int  # the Scope.id
    head: int  # the timeline's position when it started
    names: set[str] = field(default_factory=set)  # the variables it set


class ScriptEnv:
    """The variables a RUN's script sets as it goes, seen by each of its commands in order:
    on a timeline like the stage's ENV lines (:class:`EnvTimeline`), so a RUN of n commands
    and m assignments costs n + m, with no copy per command. What a subshell sets is not seen
    after it (``(export A=b) && cmd``): the names it set get their earlier values back."""

    def __init__(self, base: Mapping[str, str]) -> None:
        self.base = base
        self.timeline: EnvTimeline | None = None  # made at the first assignment
        self.children: list[_ChildProcess] = []

    def at(self, command: Command) -> Mapping[str, str]:
        """The variables ``command`` sees; then what it sets is recorded for the next ones."""
        self._enter(command)
        env: Mapping[str, str] = self.base if self.timeline is None else EnvAt(self.timeline, self.timeline.head)
        if command.kind is not CommandKind.ASSIGNMENT and command.assignments:
            env = CommandEnv(env, _assigned(command.assignments))  # `A=b cmd`: for this command only
        self._record(command)
        return env

    def _record(self, command: Command) -> None:
        if command.kind is CommandKind.ASSIGNMENT:
            self._set(_assigned(command.assignments))
        elif command.kind is CommandKind.DECLARATION and command.name in ("export", "declare", "typeset", "readonly"):
            for word in command.arg_words:
                name, sep, value = word.value.partition("=")
                if sep and not name.startswith("-"):
                    self._set({name: value if word.static else None})
        elif command.kind is CommandKind.UNSET and not any(word.value == "-f" for word in command.arg_words):
            # `unset $X` (which name is not known) leaves everything as it was: still set
            self._set({word.value: UNSET for word in command.arg_words if word.static and not word.value.startswith("-")})

    def _set(self, values: Mapping[str, str | None | _Unset]) -> None:
        if not values:
            return
        if self.timeline is None:
            self.timeline = EnvTimeline(self.base)
        if self.children:
            self.children[-1].names.update(values)
        self.timeline.head += 1
        for name, value in values.items():
            self.timeline.set(name, value)

    def _enter(self, command: Command) -> None:
        """Leave the child processes ``command`` is not in, enter those it is in."""
        kept, entering = child_process_steps(command, [child.scope for child in self.children])
        while len(self.children) > kept:
            child = self.children.pop()
            if child.names and self.timeline is not None:
                before = EnvAt(self.timeline, child.head)
                self._set({name: _value_in(before, name) for name in child.names})
        head = self.timeline.head if self.timeline is not None else 0
        self.children.extend(_ChildProcess(scope, head) for scope in entering)


def _value_in(env: EnvAt, name: str) -> str | None | _Unset:
    """``name`` as ``env`` has it: a value, None (set to a value not known here) or UNSET."""
    local, value = env._lookup(name)
    if local:
        return value
    return env.timeline.base.get(name) if is_set(env.timeline.base, name) else UNSET


def _assigned(assignments) -> dict[str, str | None]:
    """``NAME=value`` pairs, a value not known here (``$X``, a command substitution) as None."""
    return {a.name: (a.value_text if a.value is None or a.value.static else None) for a in assignments}


def _next_env(env: Mapping[str, str]) -> EnvAt:
    """A view one position further than ``env``: on its own timeline when ``env`` is that
    timeline's head, else on a new one that falls back to ``env``."""
    if isinstance(env, EnvAt) and env.position == env.timeline.head:
        timeline = env.timeline
    else:
        timeline = EnvTimeline(env)
    timeline.head += 1
    return EnvAt(timeline, timeline.head)


def _workdir(node: Instruction, state: StepState) -> str | None:
    text = expand(node.args_text.strip().strip("\"'"), state.env)
    if text is None:
        return None
    if text.startswith("/"):
        return workdir_path(text)
    return workdir_path(posixpath.join(state.workdir, text)) if state.workdir else None


def workdir_path(path: str) -> str | None:
    """``path`` normalised, or None (unknown) when it is longer than Linux's ``PATH_MAX``: the
    build cannot make such a directory, and a chain of relative WORKDIRs would otherwise keep
    a longer path at every step (n steps, n² bytes)."""
    normal = posixpath.normpath(path)
    return normal if len(normal) < PATH_MAX else None


def assignments(node: Instruction, escape: str) -> dict[str, str | None]:
    """``ENV A=1 B="x y"`` / legacy ``ENV A 1`` / ``ARG A[=1]``: names and values (quotes
    removed, variables left as written); an ARG without a default has the value None."""
    words = parse_words(node.args_text, escape)
    if node.name == "ENV" and words and "=" not in words[0]:
        return {words[0]: " ".join(_unquote(w) for w in words[1:])}
    out: dict[str, str | None] = {}
    for word in words:
        name, sep, value = word.partition("=")
        out[name] = _unquote(value) if sep else None
    return out


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def expand(text: str, env: Mapping[str, str]) -> str | None:
    """Dockerfile variable expansion with known values; None when a variable is unknown or
    uses a modifier (``${A:-b}`` is kept only when A is known)."""

    def value(match: re.Match[str]) -> str:
        name = match.group("braced") or match.group("plain")
        whole = match.group(0)
        if name not in env or (whole.startswith("${") and whole != "${" + name + "}" and not whole.startswith("${" + name + ":-")):
            raise KeyError(name)
        return env[name]

    try:
        expanded = substitute(_VARIABLE, text, value)
    except (KeyError, TooLong):
        return None
    return None if "$" in expanded else expanded


def expand_known(text: str, env: Mapping[str, str]) -> str | None:
    """Known variables replaced, unknown ones left as written (``/opt/venv/bin:$PATH``): a value
    that still holds ``$`` is only partly known. None when it would bring in more than
    ``shell.expansion.MAX_SUBSTITUTED`` bytes (unknown)."""

    def value(match: re.Match[str]) -> str:
        name = match.group("braced") or match.group("plain")
        return env[name] if name in env and match.group(0) in ("$" + name, "${" + name + "}") else match.group(0)

    try:
        return substitute(_VARIABLE, text, value)
    except TooLong:
        return None


def expansion_budget(ctx: Context) -> ExpansionBudget:
    """What the ENV/ARG values of this round may add to the file by expansion, in all."""
    return ctx.memo("steps.expansion-budget", lambda: ExpansionBudget(len(ctx.dockerfile.source)))


def referenced(text: str) -> frozenset[str]:
    """Variables a Dockerfile argument text expands."""
    return frozenset(m.group("braced") or m.group("plain") for m in _VARIABLE.finditer(text))


# -- effects per instruction --------------------------------------------------------------------


def instruction_effects(ctx: Context, node: Instruction, state: StepState) -> StepEffects:
    name = node.name
    if name == "RUN":
        return _run(ctx, node, state)
    if name in ("COPY", "ADD"):
        return copy_effects(ctx, node, state)
    if name in ("ENV", "ARG"):
        written = assignments(node, ctx.dockerfile.escape)
        return StepEffects(env_reads=referenced(node.args_text), env_writes=frozenset(written))
    if name == "WORKDIR":
        target = _workdir(node, state)
        if target is None:
            return StepEffects.unknowable("WORKDIR names a path slimfile cannot resolve")
        return StepEffects(writes=frozenset({target}), env_reads=referenced(node.args_text) | {USER}, env_writes=frozenset({WORKDIR}))
    if name == "USER":
        return StepEffects(reads=frozenset({"/etc/passwd", "/etc/group"}), env_reads=referenced(node.args_text), env_writes=frozenset({USER}))
    if name == "SHELL":
        return StepEffects(env_writes=frozenset({SHELL}))
    if name == "VOLUME":
        paths = [resolve_path(p, state.workdir, None) for p in _volume_paths(node)]
        if any(p is None for p in paths):
            return StepEffects.unknowable("VOLUME names a path slimfile cannot resolve")
        return StepEffects(writes=frozenset(paths), env_reads=referenced(node.args_text))
    if name in METADATA:
        return StepEffects(env_reads=referenced(node.args_text) if name in ("LABEL", "EXPOSE", "STOPSIGNAL") else frozenset())
    return StepEffects.unknowable(f"{name} is not an instruction slimfile moves past")


def _volume_paths(node: Instruction) -> list[str]:
    if node.json is not None:
        return list(node.json)
    return node.args_text.split()


def _run(ctx: Context, node: Instruction, state: StepState) -> StepEffects:
    script = ctx.shell(node)
    if not isinstance(script, ShellScript):
        return StepEffects.unknowable(f"the RUN is not read as a shell script ({script.reason})")
    if node.flag("mount") is not None and not _mounts_are_harmless(node):
        return StepEffects.unknowable("the RUN mounts something slimfile does not model")
    effects = run_effects(script, workdir=state.workdir, env=state.env, home=state.home)
    return run_step_effects(effects)


def run_step_effects(effects: Effects) -> StepEffects:
    """A RUN's shell effects as a step: it also depends on the user and the shell."""
    if effects.unknown:
        return StepEffects.unknowable(effects.unknown)
    env = effects.env | {USER, SHELL} | ({WORKDIR} if effects.cwd else set())
    return StepEffects(effects.reads, effects.writes, frozenset(env))


def _mounts_are_harmless(node: Instruction) -> bool:
    """Cache, secret, ssh and tmpfs mounts change nothing in the image the next step sees."""
    for flag in node.flags:
        if flag.name != "mount" or flag.argument is None:
            continue
        fields = dict(part.split("=", 1) if "=" in part else (part, "") for part in flag.argument.split(","))
        if fields.get("type", "bind") not in ("cache", "secret", "ssh", "tmpfs"):
            return False
    return True


def copy_effects(ctx: Context, node: Instruction, state: StepState) -> StepEffects:
    """A COPY/ADD writes its destination (as a tree); it reads the user database for a
    ``--chown`` by name, and the variables its arguments expand."""
    words = list(node.json) if node.json is not None else parse_words(node.args_text, ctx.dockerfile.escape)
    if len(words) < 2 and not node.heredocs:
        return StepEffects.unknowable("a COPY without a destination")
    destination = expand(_unquote(words[-1]), state.env)
    if destination is None:
        return StepEffects.unknowable(f"the destination `{words[-1]}` uses a variable slimfile does not know")
    target = resolve_path(destination, state.workdir, None)
    if target is None:
        return StepEffects.unknowable("the destination is relative to an unknown WORKDIR")
    env = set(referenced(node.args_text))
    reads: set[str] = set()
    for flag in node.flags:
        env |= referenced(flag.value)
        if flag.name == "chown" and flag.argument and not re.fullmatch(r"[0-9]+(:[0-9]+)?", flag.argument):
            reads |= {"/etc/passwd", "/etc/group"}
    if not destination.startswith("/"):
        env.add(WORKDIR)
    return StepEffects(frozenset(reads), frozenset({target}), frozenset(env))
