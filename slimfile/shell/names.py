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
    if values and basename(values[0]) not in load("shell")["wrappers"]:
        return _PLAIN  # the common case: argv0 is the program
    env_words: list[int] = []
    segments, name_index = _wrapper_segments(values, env_words)
    return ResolvedName(name_index, tuple(basename(values[i]) for i, _end, _spec in segments), tuple(env_words))


def identity_words(values: Sequence[str]) -> tuple[int, ...]:
    """Indices of the words of the wrappers that run the command as another user (``sudo -u
    app``, ``gosu app``; data ``identity``), their ``NAME=value`` words left out: a command
    appended after this one to clean up what it wrote must run as the same user."""
    if not values or basename(values[0]) not in load("shell")["wrappers"]:
        return ()
    env_words: list[int] = []
    segments, _name_index = _wrapper_segments(values, env_words)
    given = set(env_words)
    return tuple(k for i, end, spec in segments if spec.get("identity") for k in range(i, end) if k not in given)


def _wrapper_segments(values: Sequence[str], env_words: list[int]) -> tuple[list[tuple[int, int, dict]], int | None]:
    """The wrappers before the program, each as (its first word, the word after its
    arguments, its data), and the program's index; ``env_words`` gets the ``NAME=value``
    words given to them. A wrapper that wraps nothing (`exec >log`, `env`, `command -v x`) is
    the program itself."""
    wrappers_table = load("shell")["wrappers"]
    segments: list[tuple[int, int, dict]] = []
    i = 0
    while i < len(values):
        spec = wrappers_table.get(basename(values[i]))
        if spec is None:
            return segments, i
        j, stop = _skip_wrapper_arguments(values, i + 1, spec, env_words)
        if stop or j >= len(values):
            return segments, i
        segments.append((i, j, spec))
        i = j
    return segments, None


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
