"""How the steps after a copy of the sources use what it brought: the paths they name, the
folders they write again, the programs that read version control.

A proposed ``.dockerignore`` (SF704) may leave out an entry of the build context only when
nothing after the copy needs it. Three kinds of facts decide, all from the shell model and
the instructions' own words, never from guesses:

- **references**: every word of a later instruction that names a path (a RUN's arguments,
  redirections and assignments; CMD, ENTRYPOINT, ENV, WORKDIR, VOLUME; the sources of a
  ``COPY --from``), resolved against the working directory it runs in. A word slimfile cannot
  resolve (an unknown variable, an unknown directory) still counts, by its path components;
- **rewrites**: steps that write a folder again from scratch — a node install writes
  ``node_modules`` where it runs, ``uv sync`` and ``python -m venv`` a virtualenv, ``cargo
  build`` ``target/``, ``python -m build`` ``dist/``;
- **readers of version control**: ``git`` and friends, and ``go build`` (it stamps the
  repository's revision into the binary unless ``-buildvcs=false``).

Positions are byte offsets of instructions, so "before the rewrite" is a comparison.
"""

from __future__ import annotations

import posixpath
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from slimfile.analysis.context import Context
from slimfile.analysis.globs import leading_folders, matches_leading
from slimfile.analysis.installs import ecosystem_of
from slimfile.analysis.steps import Step, assignments, expand, stage_steps
from slimfile.shell.data import load
from slimfile.shell.effects import command_effects
from slimfile.shell.model import Command, ShellScript, Word
from slimfile.shell.packages import PackageFact, facts_by_command
from slimfile.syntax.gocompat import parse_words
from slimfile.syntax.stages import Stage

NODE_ECOSYSTEMS = ("npm", "yarn", "pnpm")
PYTHON_MANAGERS = ("pip", "uv", "poetry", "conda", "pipenv", "pdm")
_PYTHON = re.compile(r"python[0-9.]*\Z")
_GLOB = re.compile(r"[*?\[]")
_PATH_INSTRUCTIONS = ("CMD", "ENTRYPOINT", "WORKDIR", "VOLUME", "HEALTHCHECK", "SHELL")


@dataclass(frozen=True)
class Reference:
    """A path a later instruction names: absolute (globs kept), or only its text when it
    cannot be resolved."""

    position: int  # byte offset of the instruction
    line: int
    path: str | None
    text: str

    def names(self, image_path: str, name: str) -> bool:
        """True when this reference names ``image_path`` or something inside it (``name``,
        its last component, is matched when the reference could not be resolved)."""
        if self.path is None:
            return name in self.text.strip("\"'").split("/")
        if _GLOB.search(self.path):
            return matches_leading(self.path, image_path)
        return self.path == image_path or self.path.startswith(image_path.rstrip("/") + "/")


@dataclass(frozen=True)
class Rewrite:
    """A step that writes ``path`` (a whole folder) again: what the context sent there is not
    needed by anything after it."""

    position: int
    line: int
    path: str
    what: str  # the command, for messages: "npm ci"
    kind: str  # "node" (an install's node_modules), "venv" (a virtualenv), "build" (an output folder)


@dataclass
class Uses:
    """What the instructions of a file do with paths, in file order."""

    references: list[Reference] = field(default_factory=list)
    rewrites: list[Rewrite] = field(default_factory=list)
    python_installs: list[tuple[int, int, str]] = field(default_factory=list)  # position, line, command
    vcs_readers: list[tuple[int, int, str]] = field(default_factory=list)
    node_reads: list[tuple[int, int, str, str]] = field(default_factory=list)  # position, line, path, command

    def references_between(self, start: int, end: int | None) -> list[Reference]:
        return [r for r in self.references if start < r.position and (end is None or r.position < end)]

    def lookup(self) -> UsesIndex:
        """The facts indexed by path and position, built on first use: SF704 asks about every
        (context entry, copy) pair, and a scan of every reference per question made a large
        file in a large context cubic (a 400 KB Dockerfile took ten minutes). The lists must
        be complete first (``file_uses`` fills them all before anyone asks)."""
        if self._lookup is None:
            self._lookup = UsesIndex(self)
        return self._lookup

    _lookup: UsesIndex | None = field(default=None, init=False, repr=False, compare=False)


# how deep the "paths under this folder" index goes; a deeper folder is looked up at this
# depth and its candidates checked one by one (keys are prefixes: deeper would cost a long
# path's length per component)
UNDER_DEPTH = 32


class _Bucket:
    """Items in file order (their positions never decrease) with the positions for bisection."""

    __slots__ = ("items", "positions")

    def __init__(self) -> None:
        self.positions: list[int] = []
        self.items: list = []

    def add(self, position: int, item) -> None:
        self.positions.append(position)
        self.items.append(item)

    def window(self, after: int, before: int | None):
        """The items with ``after < position < before`` (no upper bound for None), in order."""
        i = bisect_right(self.positions, after)
        stop = len(self.items) if before is None else bisect_left(self.positions, before)
        return self.items[i:stop] if i < stop else ()

    def inclusive(self, first: int, last: int):
        """The items with ``first <= position <= last``, in order."""
        return self.items[bisect_left(self.positions, first) : bisect_right(self.positions, last)]


def _folders(path: str) -> Iterator[str]:
    """The folders ``path`` lies in, as prefixes (``""`` for the root; the first ``UNDER_DEPTH``)."""
    return leading_folders(path, UNDER_DEPTH)


def _literal_folder(pattern: str) -> str:
    """The components of a glob before the first one with a special character."""
    parts = pattern.split("/")
    literal = next(i for i, part in enumerate(parts) if _GLOB.search(part) or "\\" in part)
    return "/".join(parts[:literal])


class UsesIndex:
    """:class:`Uses` indexed so that each question costs a lookup and a bisection, not a scan.

    Positions are instruction offsets collected in file order, so every bucket is sorted."""

    def __init__(self, uses: Uses) -> None:
        self._by_key: dict[tuple[str, str], _Bucket] = {}
        self._globs: dict[str, _Bucket] = {}  # pattern -> its references
        self._glob_folders: dict[str | None, list[str]] = {}  # literal leading folder (None: any) -> patterns
        self._globs_under: dict[str, list[str]] = {}  # folder -> patterns whose literal folder lies in it
        self._glob_answers: dict[str, list[_Bucket]] = {}
        for reference in uses.references:
            self._add_reference(reference)
        self._rewrites: dict[str, _Bucket] = {}
        for rewrite in uses.rewrites:
            self._rewrites.setdefault(rewrite.path, _Bucket()).add(rewrite.position, rewrite)
        self._python = _Bucket()
        for install in uses.python_installs:
            self._python.add(install[0], install)
        self._node_reads: dict[str, _Bucket] = {}
        for read in uses.node_reads:
            self._node_reads.setdefault(read[2], _Bucket()).add(read[0], read)
        self._vcs = _Bucket()
        for reader in uses.vcs_readers:
            self._vcs.add(reader[0], reader)

    def _bucket(self, kind: str, key: str) -> _Bucket:
        bucket = self._by_key.get((kind, key))
        if bucket is None:
            bucket = self._by_key[(kind, key)] = _Bucket()
        return bucket

    def _add_reference(self, reference: Reference) -> None:
        """Under every key a question can reach it by (see :meth:`Reference.names`)."""
        path = reference.path
        if path is None:
            for part in set(reference.text.strip("\"'").split("/")):
                self._bucket("name", part).add(reference.position, reference)
        elif _GLOB.search(path):
            # a glob names a path whose first components match its own: each pattern once,
            # found by its literal leading folder (`/var/lib/apt/lists` for `.../lists/*`)
            if path not in self._globs:
                self._globs[path] = _Bucket()
                self._file_glob(path)
            self._globs[path].add(reference.position, reference)
        else:
            self._bucket("path", path).add(reference.position, reference)
            for folder in _folders(path):
                self._bucket("under", folder).add(reference.position, reference)

    def _file_glob(self, pattern: str) -> None:
        if pattern.startswith("//"):  # POSIX keeps a leading `//`: components compare one off
            self._glob_folders.setdefault(None, []).append(pattern)
            return
        literal = _literal_folder(pattern)
        self._glob_folders.setdefault(literal, []).append(pattern)
        for folder in _folders(literal + "/"):
            self._globs_under.setdefault(folder, []).append(pattern)

    def _matching_globs(self, image_path: str, folder: str, under: str) -> list[_Bucket]:
        """The references of every glob that names ``image_path`` (the same for every copy
        of one entry: worked out once per path)."""
        known = self._glob_answers.get(image_path)
        if known is None:
            patterns = [*self._glob_folders.get(folder, ()), *self._globs_under.get(under, ()), *self._glob_folders.get(None, ())]
            for i, ch in enumerate(folder):
                if ch == "/":  # a glob whose literal folder holds the path
                    patterns.extend(self._glob_folders.get(folder[:i], ()))
            named = dict.fromkeys(p for p in patterns if matches_leading(p, image_path))
            known = self._glob_answers[image_path] = [self._globs[p] for p in named]
        return known

    def first_reference(self, after: int, before: int | None, image_path: str, name: str) -> Reference | None:
        """The first reference between the two positions that names ``image_path`` (or, when
        it could not be resolved, ``name``): what ``references_between`` + ``names`` found."""
        folder = image_path.rstrip("/")
        under = folder
        if folder.count("/") >= UNDER_DEPTH:  # looked up at the indexed depth, then checked
            cut = -1
            for _ in range(UNDER_DEPTH):
                cut = folder.find("/", cut + 1)
            under = folder[:cut]
        candidates = [
            self._by_key.get(("path", image_path)),
            self._by_key.get(("under", under)),
            self._by_key.get(("name", name)),
            *self._matching_globs(image_path, folder, under),
        ]
        best: Reference | None = None
        for bucket in candidates:
            if bucket is None:
                continue
            limit = before if best is None else best.position
            for reference in bucket.window(after, limit):
                if reference.names(image_path, name):
                    best = reference
                    break
        return best

    def names_anywhere(self, image_path: str, name: str) -> bool:
        """Whether anything in the file names ``image_path``: a reference (as ``first_reference``
        finds them), a rewrite or a read of it. When nothing does, no question about the path
        depends on where in the file it is asked."""
        return image_path in self._rewrites or image_path in self._node_reads or self.first_reference(-1, None, image_path, name) is not None

    def rewrites_in(self, first: int, last: int, path: str) -> list[Rewrite]:
        """The rewrites of ``path`` by instructions between the two positions (inclusive)."""
        bucket = self._rewrites.get(path)
        return list(bucket.inclusive(first, last)) if bucket is not None else []

    def python_installs_in(self, first: int, last: int) -> list[tuple[int, int, str]]:
        return list(self._python.inclusive(first, last))

    def first_node_read(self, first: int, last: int, path: str) -> tuple[int, int, str, str] | None:
        bucket = self._node_reads.get(path)
        found = bucket.inclusive(first, last) if bucket is not None else ()
        return found[0] if found else None

    def first_vcs_reader(self, after: int) -> tuple[int, int, str] | None:
        found = self._vcs.window(after, None)
        return found[0] if found else None


@lru_cache(maxsize=1)
def _data() -> dict:
    return load("context_files")


def file_uses(ctx: Context) -> Uses:
    """Every stage's uses, computed once per round."""
    return ctx.memo("context-uses", lambda: _collect(ctx))


def _collect(ctx: Context) -> Uses:
    uses = Uses()
    for stage in ctx.stages.stages:
        for step in stage_steps(ctx, stage):
            _instruction_uses(ctx, stage, step, uses)
    return uses


def _instruction_uses(ctx: Context, stage: Stage, step: Step, uses: Uses) -> None:
    node = step.instruction
    name = node.name
    if name == "RUN":
        script = ctx.shell(node)
        if isinstance(script, ShellScript):
            _run_uses(step, script, uses)
        else:
            _words_uses(step, _loose_words(node.args_text), uses)
    elif name in ("ENV", "ARG"):
        values = [value for value in assignments(node, ctx.dockerfile.escape).values() if value]
        _words_uses(step, values, uses)
    elif name in _PATH_INSTRUCTIONS:
        words = list(node.json) if node.json is not None else parse_words(node.args_text, ctx.dockerfile.escape)
        _words_uses(step, words, uses)
    elif name in ("COPY", "ADD") and node.flag("from") is not None:
        words = list(node.json) if node.json is not None else parse_words(node.args_text, ctx.dockerfile.escape)
        _words_uses(step, ["/" + w.lstrip("/") for w in words[:-1]], uses)


def _loose_words(text: str) -> list[str]:
    return [w.strip("\"'") for w in re.split(r"[\s;&|()<>]+", text) if w.strip("\"'")]


def _words_uses(step: Step, words: list[str], uses: Uses, cwd: str | None = None) -> None:
    node = step.instruction
    directory = cwd if cwd is not None else step.state.workdir
    for word in words:
        value = expand(word.strip("\"'"), step.state.env)
        for piece in _pieces(value if value is not None else word):
            uses.references.append(Reference(node.start, node.start_line, _resolve(piece, directory) if value is not None else None, piece))


def _pieces(text: str) -> list[str]:
    """The path-like parts of a word: ``PATH=/a/bin:/b`` has ``/a/bin`` and ``/b``;
    ``--out=dist`` has ``dist``."""
    pieces = []
    for part in text.split(":"):
        part = part.split("=", 1)[-1] if "=" in part else part
        part = part.strip("\"'")
        if part and part not in (".", "/") and not part.startswith("-"):
            pieces.append(part)
    return pieces


def _resolve(piece: str, cwd: str | None) -> str | None:
    if piece.startswith("/"):
        return posixpath.normpath(piece)
    if piece.startswith("~") or cwd is None:
        return None
    return posixpath.normpath(posixpath.join(cwd, piece))


# -- RUN ----------------------------------------------------------------------------------------


def _run_uses(step: Step, script: ShellScript, uses: Uses) -> None:
    state = step.state
    each = command_effects(script, workdir=state.workdir, env=state.env, home=state.home)
    facts = facts_by_command(script)
    node = step.instruction
    for item in each:
        command = item.command
        _words_uses(step, [w for w in _command_words(command)], uses, item.cwd)
        fact = facts.get(command.index)
        if fact is not None:
            _package_uses(step, fact, item.cwd, uses)
        elif command.name is not None:
            _program_uses(step, command, item.cwd, uses)
        if command.name in _data()["vcs_readers"]["programs"]:
            uses.vcs_readers.append((node.start, node.start_line, command.name))


def _command_words(command: Command) -> list[str]:
    words: list[Word] = list(command.words)
    words.extend(r.target for r in command.redirects if r.target is not None and r.heredoc is None)
    texts = [w.value if w.static else w.raw for w in words]
    texts.extend(a.value.value if a.value.static else a.value.raw for a in command.assignments if a.value is not None)
    return texts


def _text(fact: PackageFact) -> str:
    return " ".join([fact.tool, *(w.value for w in fact.subcommand)])


def _package_uses(step: Step, fact: PackageFact, cwd: str | None, uses: Uses) -> None:
    node = step.instruction
    position, line = node.start, node.start_line
    ecosystem = ecosystem_of(fact)
    if ecosystem in NODE_ECOSYSTEMS and cwd is not None:
        uses.rewrites.append(Rewrite(position, line, posixpath.join(cwd, "node_modules"), _text(fact), "node"))
        spec = load("dependency_installs")["ecosystems"][ecosystem]
        for name in (*spec["required"], *spec.get("optional", ()), *spec.get("dirs", ())):
            uses.node_reads.append((position, line, posixpath.join(cwd, name), _text(fact)))
    if fact.manager in PYTHON_MANAGERS and fact.action in ("install", "sync"):
        uses.python_installs.append((position, line, _text(fact)))
    if fact.manager == "uv" and fact.action == "sync" and cwd is not None and not _env(step, fact, "UV_PROJECT_ENVIRONMENT"):
        uses.rewrites.append(Rewrite(position, line, posixpath.join(cwd, ".venv"), _text(fact), "venv"))
    if fact.manager == "uv" and fact.action == "configure" and fact.subcommand and fact.subcommand[0].value == "venv":
        target = next((w.value for w in fact.operands if not w.value.startswith("-")), ".venv")
        _rewrite_at(step, cwd, target, _text(fact), "venv", uses)
    if _stamps_vcs(step, fact):
        uses.vcs_readers.append((position, line, _text(fact)))
    if fact.action == "build" and cwd is not None:
        _build_output(step, fact, cwd, uses)


def _stamps_vcs(step: Step, fact: PackageFact) -> bool:
    """``go build`` and friends embed the repository's revision (``-buildvcs``, on by default)."""
    if fact.manager != "go" or fact.action not in ("build", "install", "test", "run", "generate"):
        return False
    return not fact.has("no-vcs-stamp") and "-buildvcs=false" not in _env(step, fact, "GOFLAGS")


def _env(step: Step, fact: PackageFact, name: str) -> str:
    """A variable the command sees (its own prefix, an export, or ENV), "" when unset."""
    return fact.env[name] if name in fact.env else step.state.env.get(name, "")


def _build_output(step: Step, fact: PackageFact, cwd: str, uses: Uses) -> None:
    outputs = _data()["build_outputs"]
    folder = None
    if fact.manager == "cargo" and not fact.option("--target-dir") and not _env(step, fact, "CARGO_TARGET_DIR"):
        folder = outputs["cargo"]
    elif fact.manager == "maven" and not fact.option("-f", "--file"):
        folder = outputs["maven"]
    elif fact.manager == "gradle" and not fact.option("-p", "--project-dir", "-b", "--build-file"):
        folder = outputs["gradle"]
    if folder is not None:
        _rewrite_at(step, cwd, folder, _text(fact), "build", uses)


def _program_uses(step: Step, command: Command, cwd: str | None, uses: Uses) -> None:
    """Programs that are not package managers: virtualenv creators, ``python -m build``."""
    argv = command.argv
    name = command.name or ""
    if _PYTHON.match(name) and len(argv) >= 3 and argv[1] == "-m":
        module, rest = argv[2], argv[3:]
        if module in ("venv", "virtualenv"):
            target = next((a for a in rest if not a.startswith("-")), None)
            if target is not None:
                _rewrite_at(step, cwd, target, " ".join(argv[:3]), "venv", uses)
        elif module == "build" and not any(a in ("-o", "--outdir") or a.startswith("--outdir=") for a in rest):
            _rewrite_at(step, cwd, _data()["build_outputs"]["python-build"], "python -m build", "build", uses)
    elif name == "virtualenv" and (target := next((a for a in argv[1:] if not a.startswith("-")), None)):
        _rewrite_at(step, cwd, target, "virtualenv", "venv", uses)


def _rewrite_at(step: Step, cwd: str | None, target: str, what: str, kind: str, uses: Uses) -> None:
    path = _resolve(target, cwd)
    if path is not None:
        node = step.instruction
        uses.rewrites.append(Rewrite(node.start, node.start_line, path, what, kind))
