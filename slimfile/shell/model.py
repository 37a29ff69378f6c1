"""The shell command model of one RUN: what runs, in which order, joined how, nested where.

Every word, command, operator and redirect carries two spans: ``text_start/text_end`` in the
script text tree-sitter parsed (a :class:`ScriptText`) and ``start/end`` in the Dockerfile's
source bytes, mapped back through the script's segment map. Source spans are what edits use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Callable, Union

from slimfile.fast_init import fast_constructor
from slimfile.memo import cached_property
from slimfile.syntax.nodes import Heredoc, Instruction, LogicalLine

if TYPE_CHECKING:
    from slimfile.shell.cleanup import CleanupFact
    from slimfile.shell.interpreter import ShellInfo
    from slimfile.shell.packages import PackageFact
    from slimfile.shell.state import EarlyExit, StateChange


class Operator(str, Enum):
    """What joins a command to the one before or after it in the same list."""

    AND = "&&"
    OR = "||"
    SEMICOLON = ";"
    NEWLINE = "\n"
    BACKGROUND = "&"
    PIPE = "|"
    PIPE_ALL = "|&"  # bash: stdout and stderr into the pipe
    CASE_BREAK = ";;"
    CASE_FALLTHROUGH = ";&"
    CASE_CONTINUE = ";;&"


class ScopeKind(str, Enum):
    IF = "if"
    FOR = "for"
    WHILE = "while"
    UNTIL = "until"
    CASE = "case"
    SUBSHELL = "subshell"
    BRACE_GROUP = "brace-group"
    FUNCTION = "function"
    COMMAND_SUBSTITUTION = "command-substitution"
    PROCESS_SUBSTITUTION = "process-substitution"
    PIPELINE = "pipeline"
    NEGATION = "negation"
    HEREDOC_SCRIPT = "heredoc-script"  # the body of `bash <<EOF`, run by another shell process


# scopes whose commands run in another process: nothing they change reaches later commands
CHILD_PROCESS_SCOPES = frozenset(
    {
        ScopeKind.SUBSHELL,
        ScopeKind.COMMAND_SUBSTITUTION,
        ScopeKind.PROCESS_SUBSTITUTION,
        ScopeKind.PIPELINE,
        ScopeKind.HEREDOC_SCRIPT,
    }
)


def child_process_steps(command: Command, entered: list[int]) -> tuple[int, list[int]]:
    """How a walk in command order moves from the child processes it is in (``entered``, the
    scope ids, outermost first) to those ``command`` runs in: how many of them it stays in,
    and the ids it enters after them. What the walk leaves ends there (a subshell's ``cd`` and
    variables); shared by the effects walk and the cache-order planner's ScriptEnv."""
    chain = [scope.id for scope in command.scopes if scope.kind in CHILD_PROCESS_SCOPES]
    kept = 0
    while kept < len(entered) and kept < len(chain) and entered[kept] == chain[kept]:
        kept += 1
    return kept, chain[kept:]


class CommandKind(str, Enum):
    SIMPLE = "simple"
    DECLARATION = "declaration"  # export, declare, typeset, readonly, local
    UNSET = "unset"
    TEST = "test"  # [ ... ] and [[ ... ]]
    ARITHMETIC = "arithmetic"  # (( ... ))
    ASSIGNMENT = "assignment"  # only variable assignments, no command word


@dataclass(frozen=True, slots=True)
class ScriptText:
    """A piece of shell text that was parsed, and the map from its offsets to source bytes.

    ``kind`` is ``"run"`` (the RUN's logical arguments), ``"heredoc"`` (the body of
    ``RUN <<EOF``, the script itself) or ``"nested-heredoc"`` (the body of ``bash <<EOF`` that
    a command inside the script feeds to another shell).
    """

    kind: str
    text: bytes
    map: LogicalLine
    heredoc: Heredoc | None = None  # the Dockerfile heredoc the text comes from, if any
    shell: ShellInfo | None = None  # the shell that runs this text

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        return self.map.source_span(start, end)

    def to_source(self, offset: int, *, at_end: bool = False) -> int:
        return self.map.to_source(offset, at_end=at_end)


@dataclass(frozen=True, slots=True)
class Word:
    """One shell word. ``value`` has quotes and escapes removed; expansions stay as written,
    and ``static`` says whether there were any. ``raw`` is the word as the script text has it.

    ``start``/``end`` (source bytes) are computed from ``text_start``/``text_end`` when asked
    for: a RUN has many words and passes look at the spans of a few."""

    value: str
    raw: str
    static: bool
    quoted: bool
    text_start: int
    text_end: int
    to_source: Callable[[int, int], tuple[int, int]] = field(repr=False, compare=False)

    @property
    def start(self) -> int:
        return self.to_source(self.text_start, self.text_end)[0]

    @property
    def end(self) -> int:
        return self.to_source(self.text_start, self.text_end)[1]


@dataclass(frozen=True, slots=True)
class Assignment:
    """``NAME=value`` before a command, alone, or after ``env``/``sudo``."""

    name: str
    value: Word | None  # None for ``NAME=``
    raw: str
    start: int
    end: int

    @property
    def value_text(self) -> str:
        return self.value.value if self.value is not None else ""


@dataclass(frozen=True, slots=True)
class HeredocBody:
    """The body of a heredoc redirect, as source bytes."""

    delimiter: str
    strip_tabs: bool
    quoted: bool  # quoted delimiter: the body is not expanded
    body_start: int
    body_end: int
    content: bytes


@dataclass(frozen=True, slots=True)
class Redirect:
    """``[fd]op target``; for heredocs ``target`` is the delimiter word and ``heredoc`` the body."""

    operator: str  # as written without the fd: ">", ">>", "<", ">&", "&>", "<<", "<<-", "<<<", ...
    fd: int | None
    target: Word | None
    start: int
    end: int
    heredoc: HeredocBody | None = None


@dataclass(frozen=True, slots=True)
class Joint:
    """An operator between two items of a list (``&&`` token, ``;``, a newline, ``|``)."""

    operator: Operator
    start: int
    end: int
    text_start: int
    text_end: int


@dataclass(frozen=True, slots=True)
class Scope:
    """A construct a command sits in. A compound command has one scope per role (an ``if``
    has a ``condition`` and a ``body`` scope); they share ``id``, span and joints."""

    kind: ScopeKind
    role: str | None  # "condition", "body", "words" (for ... in WORDS), "subject" (case WORD in)
    id: int
    start: int
    end: int
    text_start: int
    text_end: int
    before: Joint | None  # the operators joining the whole compound to its neighbours
    after: Joint | None


@dataclass(frozen=True, slots=True)
class Command:
    """One simple command (or test/arithmetic/declaration/bare assignment) of the script.

    ``words`` is everything after the prefix assignments, wrappers included; ``name_index``
    points at the word that names the program that runs after wrappers such as ``sudo``,
    ``env A=b``, ``nice``, ``time``, ``command`` and ``exec`` (see ``data/shell.toml``).
    ``assignments`` are the variables set for this command only: prefix ``A=b`` and those given
    to ``env``/``sudo``; for a bare ``A=b`` command they are what it assigns.
    """

    index: int
    kind: CommandKind
    words: tuple[Word, ...]
    name_index: int | None
    wrappers: tuple[str, ...]
    assignments: tuple[Assignment, ...]
    redirects: tuple[Redirect, ...]
    before: Joint | None
    after: Joint | None
    scopes: tuple[Scope, ...]  # outermost first
    errexit: bool  # `set -e` (or the shell's -e) is in force where the command runs
    start: int
    end: int
    text_start: int
    text_end: int
    text: int  # index into ShellScript.texts
    # argv0's basename after wrappers (``/usr/bin/apt-get`` -> ``apt-get``); set by __post_init__
    name: str | None = field(default=None, init=False, compare=False)

    def __post_init__(self) -> None:
        if self.name_index is not None:  # computed once: passes and facts ask for it a lot
            object.__setattr__(self, "name", basename(self.words[self.name_index].value))

    @property
    def argv(self) -> tuple[str, ...]:
        if self.name_index is None:
            return ()
        return tuple(w.value for w in self.words[self.name_index :])

    @property
    def arg_words(self) -> tuple[Word, ...]:
        """The words after the program name."""
        if self.name_index is None:
            return ()
        return self.words[self.name_index + 1 :]

    @property
    def operator(self) -> Operator | None:
        return self.before.operator if self.before is not None else None

    def in_scope(self, kind: ScopeKind) -> bool:
        return any(scope.kind is kind for scope in self.scopes)

    @property
    def in_child_process(self) -> bool:
        """True inside a subshell, ``$( )``, a pipeline or a nested heredoc script."""
        return any(scope.kind in CHILD_PROCESS_SCOPES for scope in self.scopes)

    @property
    def is_top_level(self) -> bool:
        return not self.scopes


def basename(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1] if "/" in path.rstrip("/") else path


@dataclass(frozen=True, slots=True)
class Comment:
    start: int
    end: int
    text_start: int
    text_end: int
    text: int


@dataclass(frozen=True, slots=True)
class FunctionDef:
    """``name() { ...; }``: defines a function for the rest of the shell."""

    name: str
    start: int
    end: int
    in_child_process: bool


@dataclass(frozen=True, eq=False)
class ShellScript:
    """A RUN understood as a shell script.

    ``origin`` says where the script is: ``"run"`` (the shell-form arguments; any heredocs are
    data fed to commands) or ``"heredoc"`` (``RUN <<EOF``: the body is the script).
    Package, cleanup and state facts are computed on first use.
    """

    instruction: Instruction
    shell: ShellInfo
    origin: str
    texts: tuple[ScriptText, ...]
    commands: tuple[Command, ...]
    comments: tuple[Comment, ...]
    functions: tuple[FunctionDef, ...]
    errexit_at_start: bool

    opaque = None  # a ShellScript is never opaque; see OpaqueRun

    @property
    def text(self) -> ScriptText:
        """The main script text (nested heredoc scripts come after it in ``texts``)."""
        return self.texts[0]

    @cached_property
    def packages(self) -> tuple[PackageFact, ...]:
        from slimfile.shell.packages import package_facts

        return package_facts(self)

    @cached_property
    def cleanups(self) -> tuple[CleanupFact, ...]:
        from slimfile.shell.cleanup import cleanup_facts

        return cleanup_facts(self)

    @cached_property
    def state_changes(self) -> tuple[StateChange, ...]:
        from slimfile.shell.state import state_changes

        return state_changes(self)

    @cached_property
    def exits(self) -> tuple[EarlyExit, ...]:
        from slimfile.shell.state import early_exits

        return early_exits(self)

    def command_named(self, *names: str) -> tuple[Command, ...]:
        return tuple(c for c in self.commands if c.name in names)


@dataclass(frozen=True, eq=False)
class OpaqueRun:
    """A RUN slimfile does not read as a POSIX shell script, with the reason. Never edited."""

    instruction: Instruction
    reason: str
    shell: ShellInfo | None

    commands: tuple[Command, ...] = ()
    packages: tuple = ()
    cleanups: tuple = ()
    state_changes: tuple = ()
    exits: tuple = ()

    @property
    def opaque(self) -> str:
        return self.reason


RunShell = Union[ShellScript, OpaqueRun]

# Words and Commands are built by the hundred per RUN: these build them without the frozen
# dataclass's per-field __setattr__ (slimfile/fast_init.py says why); same objects as Word(...)
new_word = fast_constructor(Word)
new_command = fast_constructor(Command)
