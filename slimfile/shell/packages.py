"""Package-manager facts: which manager a command runs, what it does, with which packages and
options, each with source spans.

The grammar of every family (which options take a value, the subcommands, which options mean
what) is data in ``data/package_managers.toml``; this module only applies it. Options and
environment are normalised into *traits* (``assume-yes``, ``no-install-recommends``,
``no-cache``...), so a pass asks ``fact.has("no-install-recommends")`` whether the author wrote
``--no-install-recommends`` or ``-o APT::Install-Recommends=false``.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, NamedTuple, Sequence

from slimfile.memo import cached
from slimfile.shell.data import load
from slimfile.shell.model import Command, ShellScript, Word

_PYTHON = re.compile(r"python(\d+(\.\d+)?)?")
_PYTHON_FLAGS_WITHOUT_VALUE = frozenset("bBdEhiIOqsSuvVx")


@dataclass(frozen=True, slots=True)
class PackageOption:
    """One option as the tool reads it; bundled short options (``-qy``) are split into one
    option per letter, each pointing at the bundle's word."""

    name: str  # "-y", "--no-install-recommends", "-o", "--setopt"
    value: str | None  # "APT::Install-Recommends=false" for `-o APT::...`, "dev" for --omit=dev
    words: tuple[Word, ...]  # the word holding it, and the value's word when separate


class _Exports:
    """The values a script's top-level ``export NAME=value`` commands give, by their count so
    far: each package fact sees a position of it (:class:`FactEnv`), where a copy of every
    export per fact made a RUN of n exports and n installs cost n squared."""

    def __init__(self) -> None:
        self.count = 0
        self.history: dict[str, tuple[list[int], list[str]]] = {}
        self.folded: dict[str, set[str]] = {}  # lower-case name -> the names written

    def set(self, name: str, value: str) -> None:
        self.count += 1
        positions, values = self.history.setdefault(name, ([], []))
        positions.append(self.count)
        values.append(value)
        self.folded.setdefault(name.lower(), set()).add(name)

    def value(self, name: str, position: int) -> str | None:
        found = self.history.get(name)
        if found is None:
            return None
        index = bisect.bisect_right(found[0], position) - 1
        return found[1][index] if index >= 0 else None


class FactEnv(Mapping):
    """The variables a package command sees: its own assignments (``A=b cmd``, ``env A=b
    cmd``) over the exports before it. Looking a name up costs a logarithm; iterating costs
    every export of the script, so passes look names up."""

    __slots__ = ("_exports", "_own", "_position")

    def __init__(self, own: Mapping[str, str] | None = None, exports: _Exports | None = None, position: int = 0) -> None:
        self._own = dict(own or {})
        self._exports = exports
        self._position = position

    def __getitem__(self, name: str) -> str:
        if name in self._own:
            return self._own[name]
        value = self._exports.value(name, self._position) if self._exports is not None else None
        if value is None:
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        yield from self._own
        if self._exports is not None:
            yield from (n for n in self._exports.history if n not in self._own and self._exports.value(n, self._position) is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def named(self, folded: str) -> list[str]:
        """The names it has that are ``folded`` without case (npm reads ``NPM_CONFIG_X`` as
        ``npm_config_x``)."""
        names = {name for name in self._own if name.lower() == folded}
        if self._exports is not None:
            names.update(n for n in self._exports.folded.get(folded, ()) if self._exports.value(n, self._position) is not None)
        return sorted(names)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self.items()) == dict(other.items())

    def __hash__(self) -> int:
        return hash(frozenset(self.items()))

    def __repr__(self) -> str:
        return f"FactEnv({dict(self.items())!r})"


@dataclass(frozen=True, slots=True)
class PackageFact:
    """One package-manager command."""

    manager: str  # family: apt, apk, dnf, zypper, pip, uv, npm, yarn, pnpm, gem, bundler, ...
    tool: str  # as invoked: "apt-get", "yum", "python3 -m pip", "uv pip", "gradlew"
    action: str  # normalised: install, remove, update, upgrade, clean, autoremove, build, ...
    subcommand: tuple[Word, ...]  # the word(s) naming the action, e.g. `install` or `cache clean`
    packages: tuple[Word, ...]  # operands, for install/remove/upgrade/download actions
    operands: tuple[Word, ...]  # every operand after the subcommand (goals, scripts, files)
    options: tuple[PackageOption, ...]
    traits: frozenset[str]
    env: FactEnv  # environment it sees: prefix, env/sudo and earlier exports
    command: int  # index into ShellScript.commands
    start: int
    end: int

    @property
    def package_names(self) -> tuple[str, ...]:
        return tuple(w.value for w in self.packages)

    def has(self, trait: str) -> bool:
        return trait in self.traits

    def option(self, *names: str) -> PackageOption | None:
        for option in self.options:
            if option.name in names:
                return option
        return None

    def option_values(self, *names: str) -> tuple[str, ...]:
        return tuple(o.value for o in self.options if o.name in names and o.value is not None)

    @property
    def anchor(self) -> Word | None:
        """The word after which new options go: the subcommand's last word (``install``)."""
        return self.subcommand[-1] if self.subcommand else None


@dataclass(frozen=True, slots=True)
class _Invocation:
    manager: str
    tool: str
    args: tuple[Word, ...]  # words after the tool (and after `-m pip` / `uv pip`)
    tool_word: Word


def package_facts(script: ShellScript) -> tuple[PackageFact, ...]:
    """Every package-manager command of the script, in source order."""
    facts: list[PackageFact] = []
    exported = _Exports()
    for command in script.commands:
        if not command.in_child_process:
            _note_exports(command, exported)
        invocation = identify(command)
        if invocation is not None:
            facts.append(_fact(command, invocation, exported))
    return tuple(facts)


def facts_by_command(script: ShellScript) -> dict[int, PackageFact]:
    """The package fact of each command that has one (a command has at most one), by command
    index: a look-up per command where a scan of every fact per command was quadratic."""
    return cached(script, "package-facts-by-command", lambda: {fact.command: fact for fact in script.packages})


# -- which tool -----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _managers() -> tuple[dict[str, str], list[tuple[re.Pattern[str], str]]]:
    by_name: dict[str, str] = {}
    patterns: list[tuple[re.Pattern[str], str]] = []
    for manager, spec in load("package_managers")["managers"].items():
        for name in spec.get("commands", ()):
            by_name[name] = manager
        for pattern in spec.get("command_patterns", ()):
            patterns.append((re.compile(pattern), manager))
    return by_name, patterns


def manager_of(name: str) -> str | None:
    """The family a program basename belongs to (``pip3.11`` -> ``pip``)."""
    by_name, patterns = _managers()
    if name in by_name:
        return by_name[name]
    for pattern, manager in patterns:
        if pattern.fullmatch(name):
            return manager
    return None


def identify(command: Command) -> _Invocation | None:
    """The package manager a command runs, including ``python -m pip`` and ``uv pip``."""
    name = command.name
    if name is None:
        return None
    words = command.words[command.name_index :]
    if _PYTHON.fullmatch(name):
        return _python_module_pip(name, words)
    if name == "uv" and len(words) > 1 and words[1].value == "pip":
        return _Invocation("pip", "uv pip", words[2:], words[1])
    manager = manager_of(name)
    if manager is None:
        return None
    return _Invocation(manager, name, words[1:], words[0])


def _python_module_pip(name: str, words: Sequence[Word]) -> _Invocation | None:
    i = 1
    while i < len(words) and words[i].value.startswith("-") and words[i].value != "-m":
        if not set(words[i].value[1:]) <= _PYTHON_FLAGS_WITHOUT_VALUE:
            return None
        i += 1
    if i + 1 < len(words) and words[i].value == "-m" and words[i + 1].value in ("pip", "pip3"):
        return _Invocation("pip", f"{name} -m pip", tuple(words[i + 2 :]), words[i + 1])
    return None


# -- reading the arguments -----------------------------------------------------------------------


def _fact(command: Command, invocation: _Invocation, exported: _Exports) -> PackageFact:
    spec = load("package_managers")["managers"][invocation.manager]
    tables = _tables(invocation.manager)
    with_value = tables.with_value
    options, operands = parse_options(invocation.args, with_value, spec.get("clusters", False))
    action, subcommand, rest = _action(spec, operands)
    extra = spec.get("with_value_by_subcommand", {}).get(" ".join(w.value for w in subcommand))
    if extra:
        with_value = with_value | set(extra)
        options, operands = parse_options(invocation.args, with_value, spec.get("clusters", False))
        action, subcommand, rest = _action(spec, operands)
    if action == "run" and subcommand:
        # `npm run build -- --x`, `bundle exec tool --opt`: what follows belongs to what runs
        options = [o for o in options if o.words[0].text_start < subcommand[0].text_start]
        rest = [w for w in invocation.args if w.text_start > subcommand[-1].text_start]
    env = _environment(command, exported)
    package_actions = spec.get("package_actions", load("package_managers")["package_actions"])
    return PackageFact(
        manager=invocation.manager,
        tool=invocation.tool,
        action=action,
        subcommand=subcommand,
        packages=tuple(rest) if action in package_actions and not spec.get("goals") else (),
        operands=tuple(rest),
        options=tuple(options),
        traits=_traits(spec, tables, options, env),
        env=env,
        command=command.index,
        start=command.start,
        end=command.end,
    )


def parse_options(
    words: Sequence[Word], with_value: AbstractSet[str], clusters: bool
) -> tuple[list[PackageOption], list[Word]]:
    """Split arguments into options and operands, getopt-style (options may follow operands)."""
    options: list[PackageOption] = []
    operands: list[Word] = []
    i = 0
    only_operands = False
    while i < len(words):
        word = words[i]
        value = word.value
        if only_operands or not value.startswith("-") or value == "-":
            operands.append(word)
        elif value == "--":
            only_operands = True
        elif value.startswith("--") or not clusters or value in with_value or value[2:3] == "=":
            i = _long_option(words, i, with_value, options)  # `-q=2` is one option with a value
        else:
            i = _bundle(words, i, with_value, options)
        i += 1
    return options, operands


def _long_option(words: Sequence[Word], i: int, with_value: AbstractSet[str], options: list[PackageOption]) -> int:
    """``--name``, ``--name=value``, ``--name value`` (and single-dash long options)."""
    word = words[i]
    name, eq, value = word.value.partition("=")
    if eq:
        options.append(PackageOption(name, value, (word,)))
    elif name in with_value and i + 1 < len(words):
        options.append(PackageOption(name, words[i + 1].value, (word, words[i + 1])))
        return i + 1
    else:
        options.append(PackageOption(name, None, (word,)))
    return i


def _bundle(words: Sequence[Word], i: int, with_value: AbstractSet[str], options: list[PackageOption]) -> int:
    """``-qy`` as ``-q -y``; a letter that takes a value takes the rest or the next word."""
    word = words[i]
    letters = word.value[1:]
    for k, letter in enumerate(letters):
        name = "-" + letter
        if name not in with_value:
            options.append(PackageOption(name, None, (word,)))
            continue
        rest = letters[k + 1 :].lstrip("=")
        if rest:
            options.append(PackageOption(name, rest, (word,)))
        elif i + 1 < len(words):
            options.append(PackageOption(name, words[i + 1].value, (word, words[i + 1])))
            return i + 1
        else:
            options.append(PackageOption(name, None, (word,)))
        break
    return i


def _action(spec: dict[str, Any], operands: list[Word]) -> tuple[str, tuple[Word, ...], list[Word]]:
    """(action, subcommand words, remaining operands)."""
    actions: dict[str, str] = spec.get("actions", {})
    if spec.get("goals"):
        chosen = [actions[w.value] for w in operands if w.value in actions]
        return (chosen[-1] if chosen else spec.get("default_action", "build")), (), operands
    if not operands:
        return spec.get("default_action", "none"), (), []
    if len(operands) > 1 and f"{operands[0].value} {operands[1].value}" in actions:
        return actions[f"{operands[0].value} {operands[1].value}"], tuple(operands[:2]), operands[2:]
    if operands[0].value in actions:
        return actions[operands[0].value], (operands[0],), operands[1:]
    return spec.get("unknown_action", "other"), (operands[0],), operands[1:]


# -- environment and traits ----------------------------------------------------------------------


def _note_exports(command: Command, exported: _Exports) -> None:
    if command.name != "export":
        return
    for word in command.arg_words:
        name, eq, value = word.value.partition("=")
        if eq:
            exported.set(name, value)


def _environment(command: Command, exported: _Exports) -> FactEnv:
    own = {assignment.name: assignment.value_text for assignment in command.assignments}
    return FactEnv(own, exported, exported.count)


class _ManagerTables(NamedTuple):
    """What a manager's data says, in the forms the facts look things up in."""

    with_value: frozenset[str]  # the manager's options that take a value (subcommands add some)
    traits: _TraitTable
    env_traits: _TraitTable


@cache
def _tables(manager: str) -> _ManagerTables:
    """Once per manager (the data does not change), not once per package command."""
    spec = load("package_managers")["managers"][manager]
    return _ManagerTables(
        frozenset(spec.get("with_value", ())), _TraitTable(spec.get("traits", {})), _TraitTable(spec.get("env_traits", {}))
    )


def _traits(
    spec: dict[str, Any], tables: _ManagerTables, options: list[PackageOption], env: FactEnv
) -> frozenset[str]:
    """Traits from options (see :func:`_option_trait`), environment and combinations. The
    manager's own value-taking options decide, without subcommand-specific additions."""
    table, with_value = tables.traits, tables.with_value
    traits = set()
    for option in options:
        trait = _option_trait(table, option, with_value)
        if trait is not None:
            traits.add(trait)
    env_table = tables.env_traits
    for name in (written for folded in env_table.names for written in env.named(folded)):
        value = env[name]
        trait = env_table.get(f"{name}={value}") or (env_table.get(f"{name}=*") if value else None)
        if trait is not None:
            traits.add(trait)
    for combined, parts in spec.get("combined_traits", {}).items():
        if set(parts) <= traits:
            traits.add(combined)
    for trait, rule in spec.get("counted_traits", {}).items():
        if _option_count(options, rule["options"]) >= rule["at_least"]:
            traits.add(trait)
    return frozenset(traits)


def _option_count(options: list[PackageOption], names: list[str]) -> int:
    """How many times the options are given; ``-q=2`` counts as two."""
    count = 0
    for option in options:
        if option.name in names:
            count += int(option.value) if option.value and option.value.isdigit() else 1
    return count


class _TraitTable:
    """Option names match exactly (``-U`` is not ``-u``); ``name=value`` keys also match
    without case (``APT::Install-Recommends=False``)."""

    def __init__(self, table: dict[str, str]) -> None:
        self.exact = table
        self.folded = {key.lower(): trait for key, trait in table.items() if "=" in key}
        self.names = sorted({key.partition("=")[0].lower() for key in table if "=" in key})  # for env_traits

    def get(self, key: str) -> str | None:
        found = self.exact.get(key)
        if found is None and "=" in key:
            found = self.folded.get(key.lower())
        return found


def _option_trait(table: _TraitTable, option: PackageOption, with_value: AbstractSet[str]) -> str | None:
    """An option's trait: ``name=value`` first; the bare name for value-taking options (any
    ``--virtual NAME`` is virtual) and for options written without a value."""
    if option.value is None:
        return table.get(option.name)
    exact = table.get(f"{option.name}={option.value}")
    if exact is not None or option.name not in with_value:
        return exact
    return table.get(option.name)
