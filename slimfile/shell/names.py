"""Which program a command runs once wrappers are looked through.

``sudo -E env DEBIAN_FRONTEND=noninteractive nice -n 5 apt-get install -y curl`` runs
``apt-get``; the wrappers and the environment they pass are kept. The wrapper table (options
that take a value, leading operands, ``NAME=value`` environment) is data in ``data/shell.toml``.
``xargs`` is deliberately not a wrapper: the command it runs gets arguments from stdin, so
facts read from its words alone would be wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from slimfile.shell.data import load
from slimfile.shell.model import basename

ASSIGNMENT_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")


@dataclass(frozen=True, slots=True)
class ResolvedName:
    name_index: int | None  # None: the words are only a wrapper (``exec >log``, bare ``env``)
    wrappers: tuple[str, ...]
    env_word_indexes: tuple[int, ...]  # ``NAME=value`` words given to env/sudo


_PLAIN = ResolvedName(0, (), ())


def resolve(values: Sequence[str]) -> ResolvedName:
    """Find the program among ``values`` (the unquoted command words, argv0 first)."""
    wrappers_table = load("shell")["wrappers"]
    if values and basename(values[0]) not in wrappers_table:
        return _PLAIN  # the common case: argv0 is the program
    wrappers: list[str] = []
    env_words: list[int] = []
    i = 0
    while i < len(values):
        name = basename(values[i])
        spec = wrappers_table.get(name)
        if spec is None:
            return ResolvedName(i, tuple(wrappers), tuple(env_words))
        j, stop = _skip_wrapper_arguments(values, i + 1, spec, env_words)
        if stop:
            return ResolvedName(i, tuple(wrappers), tuple(env_words))
        if j >= len(values):
            # nothing wrapped: the wrapper itself is the command (`exec >log`, `env`, `time`)
            return ResolvedName(i, tuple(wrappers), tuple(env_words))
        wrappers.append(name)
        i = j
    return ResolvedName(None, tuple(wrappers), tuple(env_words))


def identity_words(values: Sequence[str]) -> tuple[int, ...]:
    """Indices of the words of the wrappers that run the command as another user (``sudo -u
    app``, ``gosu app``; data ``identity``), their ``NAME=value`` words left out: a command
    appended after this one to clean up what it wrote must run as the same user."""
    wrappers_table = load("shell")["wrappers"]
    if not values or basename(values[0]) not in wrappers_table:
        return ()
    found: list[int] = []
    i = 0
    while i < len(values):
        spec = wrappers_table.get(basename(values[i]))
        if spec is None:
            break
        env_words: list[int] = []
        j, stop = _skip_wrapper_arguments(values, i + 1, spec, env_words)
        if stop or j >= len(values):
            break
        if spec.get("identity"):
            found.extend(k for k in range(i, j) if k not in env_words)
        i = j
    return tuple(found)


def _skip_wrapper_arguments(values: Sequence[str], j: int, spec: dict, env_words: list[int]) -> tuple[int, bool]:
    """Index of the wrapped command's name; ``stop`` when the wrapper does not run a command."""
    with_value = set(spec.get("options_with_value", ()))
    not_executing = set(spec.get("not_executing", ()))
    while j < len(values) and values[j].startswith("-") and values[j] != "-":
        option = values[j]
        if option == "--":
            j += 1
            break
        if option in not_executing:
            return j, True
        j += 2 if option in with_value else 1
    if spec.get("assignments"):
        while j < len(values) and ASSIGNMENT_WORD.match(values[j]):
            env_words.append(j)
            j += 1
    return j + int(spec.get("positional", 0)), False
