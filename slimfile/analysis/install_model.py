"""The shapes every dependency-install reader shares (``analysis/installs.py`` and the
per-ecosystem modules beside it): where a copy puts context files, what an install reads and
writes, why one cannot move, and the request a reader answers."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from slimfile.analysis.build_context import BuildContext
from slimfile.analysis.globs import clean_path
from slimfile.shell.data import load
from slimfile.shell.effects import expand_paths
from slimfile.shell.model import Command
from slimfile.shell.packages import PackageFact


@lru_cache(maxsize=1)
def ecosystems() -> dict:
    """``[ecosystems.*]`` of ``data/dependency_installs.toml``."""
    return load("dependency_installs")["ecosystems"]


@dataclass(frozen=True)
class CopyMap:
    """A copy of a context folder ``source`` ("" is the root) to the image folder ``dest``."""

    source: str
    dest: str

    def context_path(self, image_path: str) -> str | None:
        """The context path a file at ``image_path`` comes from, or None when outside the copy."""
        image_path = posixpath.normpath(image_path)
        if image_path == self.dest:
            return self.source
        prefix = self.dest.rstrip("/") + "/"
        if not image_path.startswith(prefix):
            return None
        return clean_path(posixpath.join(self.source, image_path[len(prefix) :]))

    def image_path(self, context_path: str) -> str | None:
        context_path = clean_path(context_path)
        if self.source and context_path != self.source and not context_path.startswith(self.source + "/"):
            return None
        relative = context_path[len(self.source) :].lstrip("/") if self.source else context_path
        return posixpath.normpath(posixpath.join(self.dest, relative)) if relative else self.dest


@dataclass(frozen=True)
class Install:
    """A dependency install whose reads are known."""

    ecosystem: str
    fact: PackageFact
    reads: tuple[str, ...]  # image paths (absolute) of the files and directories it reads
    outputs: tuple[str, ...]  # image paths it writes inside the project
    # when the install also reads the project (poetry installs the root package, `go build`
    # compiles it), the command that installs only the dependencies, run in a new RUN above
    # the copy while the original stays where it is
    prepare: str | None = None
    writes: tuple[str, ...] = ()  # image paths it writes outside the project (caches, prefixes)
    env: tuple[str, ...] = ()  # variables it reads (a trailing * is a prefix)
    uses: tuple[str, ...] = ()  # image paths outside the project it reads (its config, the interpreter)
    # ``reads`` as a set, when the installs of one project share it (installs._project_reads):
    # a set made per install from a workspace's m manifests costs n x m over n installs
    read_set: frozenset[str] | None = field(default=None, compare=False, repr=False)

    def reads_path(self, path: str) -> bool:
        """``path`` is one of the files and folders the install reads."""
        return path in (self.read_set if self.read_set is not None else self.reads)


@dataclass(frozen=True)
class NotMovable:
    """A dependency install whose reads cannot be bounded, and why."""

    ecosystem: str
    reason: str


@dataclass(frozen=True)
class InstallRequest:
    """One install command to read: its ecosystem, its facts, where it runs and what it sees."""

    ecosystem: str
    fact: PackageFact
    command: Command
    cwd: str  # the image folder it runs in
    files: BuildContext | None  # None: the build context was not read
    copy: CopyMap
    home: str | None  # the running user's home directory, when known
    env: Mapping[str, str] = field(default_factory=dict)  # ENV/ARG values known where it runs

    @property
    def spec(self) -> dict:
        return ecosystems()[self.ecosystem]

    def refuse(self, reason: str) -> NotMovable:
        return NotMovable(self.ecosystem, reason)

    def image(self, name: str) -> str:
        return posixpath.normpath(posixpath.join(self.cwd, name))

    def context(self, name: str) -> str | None:
        """The context path the broad copy brings to ``name`` (relative to the install's folder)."""
        return self.copy.context_path(self.image(name))

    def sent(self, name: str) -> bool:
        """The build context sends the file or folder the copy puts at ``name``."""
        source = self.context(name)
        return self.files is not None and source is not None and self.files.exists(source)

    def present(self, names) -> list[str]:
        """Image paths of those of ``names`` that the copy brings."""
        return [self.image(name) for name in names if self.sent(name)]

    def text(self, name: str) -> str | None:
        source = self.context(name)
        return self.files.read_text(source) if self.files is not None and source is not None else None

    def variable(self, name: str, unknown: str) -> str | None | NotMovable:
        """The value of a variable set where the install runs (an ENV, ``export``, ``A=b
        cmd``); None when it is not set; one set to a value not known here (``$X``, a build
        argument) refuses with ``unknown``, "(value)" added."""
        from slimfile.analysis.steps import is_set  # steps needs the context, which needs this module

        if not is_set(self.env, name):
            return None
        value = self.env.get(name)
        if value is None or "$" in value:
            return self.refuse(f"{unknown} ({value or name})")
        return value

    def argument_variable(self, name: str) -> list[str] | NotMovable:
        """The words of a variable the tool reads as more of its command line (GOFLAGS,
        MAVEN_ARGS): none when it is not set; one set to a value not known here refuses."""
        value = self.variable(name, f"{name} is set to a value not known here")
        return value if isinstance(value, NotMovable) else value.split() if value is not None else []

    def outside(self) -> tuple[tuple[str, ...], tuple[str, ...]] | str:
        """(uses, writes): the spec's paths outside the project, expanded for this user."""
        return outside_paths(self.spec, self.home, self.env, self.cwd)

    def with_option(self, option: str) -> str | None:
        """The command as written, with ``option`` after its subcommand (the dependencies-only
        form: ``poetry install --no-root``); None when it cannot be written back as one line."""
        command = self.command
        anchor = self.fact.subcommand[-1] if self.fact.subcommand else None
        if anchor is None or command.name_index is None:
            return None
        prefix = [a.raw for a in command.assignments if a.start < command.words[0].start]
        words: list[str] = []
        for word in command.words:
            words.append(word.raw)
            if word.text_start == anchor.text_start:
                words.append(option)
        for redirect in command.redirects:
            if redirect.target is None or redirect.heredoc is not None:
                return None
            words.append(f"{redirect.fd if redirect.fd is not None else ''}{redirect.operator}{redirect.target.raw}")
        return " ".join([*prefix, *words])


def outside_paths(spec: dict, home: str | None, env: Mapping[str, str], cwd: str) -> tuple[tuple[str, ...], tuple[str, ...]] | str:
    """(uses, writes) of an ecosystem's spec: ``@group`` and ``$HOME`` entries expanded for a
    user whose home is ``home``, and ``$NAME`` entries (``$COMPOSER_HOME``,
    ``$XDG_CONFIG_HOME/pypoetry``) for the variables set where the install runs (each ``:``
    entry of the value, a relative one from ``cwd``; an entry whose variable is not set is
    the tool's default, listed beside it). A string is the reason they cannot be known."""
    found: list[tuple[str, ...]] = []
    for key in ("uses", "writes"):
        entries = spec.get(key, ())
        named = _named_paths([e for e in entries if _is_named(e)], env, cwd)
        plain = expand_paths([e for e in entries if not _is_named(e)], home)
        for paths in (named, plain):
            if isinstance(paths, str):
                return paths
        found.append(tuple(sorted({*named, *plain})))
    return found[0], found[1]


def _is_named(entry: str) -> bool:
    return entry.startswith("$") and not entry.startswith("$HOME")


def _named_paths(entries: list[str], env: Mapping[str, str], cwd: str) -> set[str] | str:
    from slimfile.analysis.steps import is_set  # steps needs the context, which needs this module

    paths: set[str] = set()
    for entry in entries:
        name, _, rest = entry[1:].partition("/")
        if not is_set(env, name):
            continue
        value = env.get(name)
        if value is None or "$" in value:
            return f"{name} names a folder the install reads, to a value not known here ({value or name})"
        for part in filter(None, value.split(":")):
            paths.add(posixpath.normpath(posixpath.join(cwd, part, rest)))
    return paths
