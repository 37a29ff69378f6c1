"""Which build-context file an image path holds when a step runs.

A rewrite such as ``npm install`` -> ``npm ci`` is right only when the lockfile is *in the
image* at that moment, not merely in the repository: ``COPY package.json ./`` followed by
``npm install`` never sees ``package-lock.json``. This module replays the COPY/ADD steps of a
stage (and of the stages it is built FROM) for a few image paths and answers, for each, where
its content came from:

* :class:`FromContext` — the file the build context sends at ``context_path``, put there by
  the instruction on ``line``;
* :class:`Absent` — no instruction of the file puts anything there (the base image's own
  files are not known; a project folder in a base image is taken to be empty);
* :class:`Unknown` — a step may have put or changed something there that slimfile cannot
  read: a copy from another stage or a URL, a RUN that writes that path, a RUN whose effects
  are unknown.

A path that stands for a folder (``node_modules``) is *present* when anything at all lands
under it (:func:`tree_origin`). Everything is decided from the steps' facts
(``analysis/steps.py``) and the build context (``analysis/build_context.py``).
"""

from __future__ import annotations

import bisect
import heapq
import posixpath
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from slimfile.analysis.build_context import BuildContext
from slimfile.analysis.context import Context
from slimfile.analysis.globs import clean_path
from slimfile.analysis.stage_tree import StageTree, WalkInstead
from slimfile.analysis.steps import Step, expand, stage_steps, step_index
from slimfile.shell.effects import overlaps
from slimfile.syntax.gocompat import parse_words
from slimfile.syntax.nodes import Instruction
from slimfile.syntax.stages import Stage

_GLOB = re.compile(r"[*?\[]")
_PLAIN_COPY_FLAGS = ("chown", "chmod", "link", "checksum")
_ARCHIVES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".gz", ".bz2", ".xz")


@dataclass(frozen=True)
class FromContext:
    context_path: str
    line: int


@dataclass(frozen=True)
class Absent:
    pass


@dataclass(frozen=True)
class Unknown:
    reason: str


Origin = FromContext | Absent | Unknown
ABSENT = Absent()


def chain_steps(ctx: Context, stage: Stage) -> list[Step]:
    """The steps that built the stage's filesystem: its base stages' first, then its own."""
    steps: list[Step] = []
    for member in reversed(stage.lineage()):
        steps.extend(stage_steps(ctx, member))
    return steps


def origins(ctx: Context, stage: Stage, before: Instruction, paths: Iterable[str]) -> dict[str, Origin]:
    """For each absolute image path (a file), where its content comes from when ``before`` runs:
    what the last step that changed it did (the first change met going back decides)."""
    found: dict[str, Origin] = {}
    for path in (posixpath.normpath(p) for p in paths):
        if path not in found:
            found[path] = next(
                (change for step in _steps_back(ctx, stage, before, path) if (change := _file_change(ctx, step, path)) is not None),
                ABSENT,
            )
    return found


def tree_origin(ctx: Context, stage: Stage, before: Instruction, folder: str) -> Origin:
    """Whether anything is under the image folder ``folder`` when ``before`` runs: the last
    step that put something there (as a :class:`FromContext` of a file or folder), or Absent,
    or Unknown."""
    folder = posixpath.normpath(folder)
    for step in _steps_back(ctx, stage, before, folder):
        change = _tree_change(ctx, step, folder)
        if change is not None:
            return change
    return ABSENT


def _steps_back(ctx: Context, stage: Stage, before: Instruction, path: str) -> Iterator[Step]:
    """The steps of :func:`chain_steps` before ``before`` (all of them when it is not one) that
    may change ``path``, last first: each stage's own writers, the stage ``before`` is in first,
    then the stages it is built FROM, met one by one (a question usually ends in the stage it
    is asked in, where building the whole chain's index for each stage of a chain of n stages
    cost n x n)."""
    stages = _writer_stages(ctx)
    start, limit = _holder(ctx, stages, stage, before)
    parts = _parts(path)
    current: int | None = start.index
    while current is not None:
        writers = _writers(ctx, ctx.stages.stages[current])
        yield from writers.back_from(len(writers.steps) if limit is None else limit, path)
        limit = None
        current = stages.nearest_writing(current, parts)


def _holder(ctx: Context, stages: _WriterStages, stage: Stage, before: Instruction) -> tuple[Stage, int | None]:
    """The stage of the lineage whose step ``before`` is and its position there, or the asking
    stage and None when it is no step of the lineage (an ONBUILD trigger's RUN): a look-up,
    where walking the lineage for it cost the lineage's length per question."""
    holder = ctx.stage_of(before)
    if holder is not None:
        index = step_index(ctx, holder).get(id(before))
        if index is not None and (holder is stage or stages.is_base(holder.index, stage.index)):
            return holder, index
    return stage, None


class _Writers:
    """The steps of one stage that may change what is at an image path, by the paths they
    write: a question about a file at a step walked back over every step before it, so n
    installs after n RUNs (or LABELs) cost n x n. Only a COPY, ADD or RUN changes files, and
    only where it writes (its effects; a globbed path by the folder before its glob), or
    anywhere when its effects are unknown: the steps met are those, latest first, and the
    questions decide on them as before."""

    def __init__(self, ctx: Context, stage: Stage) -> None:
        self.steps = stage_steps(ctx, stage)
        self.anywhere: list[int] = []  # unknown effects
        self.at: dict[tuple[str, ...], list[int]] = {}  # a written path -> its writers
        self.under: dict[tuple[str, ...], list[int]] = {}  # a folder -> who writes inside it
        keys_of: dict[frozenset[str], tuple[list[tuple[str, ...]], list[tuple[str, ...]]]] = {}
        for index, step in enumerate(self.steps):
            if step.instruction.name not in ("COPY", "ADD", "RUN"):
                continue
            if step.effects.unknown:
                self.anywhere.append(index)
                continue
            keys = keys_of.get(step.effects.writes)
            if keys is None:
                keys = keys_of[step.effects.writes] = _index_keys(step.effects.writes)
            for parts in keys[0]:
                _append_once(self.at.setdefault(parts, []), index)
            for folder in keys[1]:
                _append_once(self.under.setdefault(folder, []), index)

    def back_from(self, limit: int, path: str) -> Iterator[Step]:
        """The steps before position ``limit`` that may change ``path`` (write it, a folder
        holding it or something inside it), latest first."""
        parts = _parts(path)
        lists = [self.anywhere, self.under.get(parts, []), *(self.at.get(parts[:depth], []) for depth in range(len(parts) + 1))]
        met = -1
        for index in heapq.merge(*(_down_from(found, bisect.bisect_left(found, limit)) for found in lists), reverse=True):
            if index != met:
                met = index
                yield self.steps[index]


def _index_keys(writes: frozenset[str]) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """The keys a step with these writes is indexed under: the paths it writes and the
    folders above them, each once. Every apt install writes the same few dozen system paths:
    made once per set of writes, not once per step."""
    at = list(dict.fromkeys(_literal(_parts(written)) for written in writes))
    under = list(dict.fromkeys(parts[:depth] for parts in at for depth in range(len(parts))))
    return at, under


def _down_from(positions: list[int], end: int) -> Iterator[int]:
    """``positions[:end]`` last first, without copying them (a question usually stops at the
    first step met, and a copy per question of a long list is n x n again)."""
    for i in range(end - 1, -1, -1):
        yield positions[i]


def _literal(parts: tuple[str, ...]) -> tuple[str, ...]:
    """The components before the first with a glob (``/usr/src/linux-*``: usr, src): whatever
    the glob matches lies in that folder, so it stands for the written path in the index (every
    apt install writes such system paths)."""
    for depth, part in enumerate(parts):
        if _GLOB.search(part):
            return parts[:depth]
    return parts


def _parts(path: str) -> tuple[str, ...]:
    return tuple(part for part in path.split("/") if part)  # as effects.overlaps reads it


def _append_once(positions: list[int], index: int) -> None:
    if not positions or positions[-1] != index:
        positions.append(index)


def _writers(ctx: Context, stage: Stage) -> _Writers:
    return ctx.memo(("image_files.writers", stage.index), lambda: _Writers(ctx, stage))


class _WriterStages:
    """The stages by the keys of their writers' index, to go from a stage straight to the
    nearest base stage with a step that may change a path: meeting every base stage of a
    chain of n stages, each asking about a file, cost n x n (n/2 empty stages, then n/2
    ``yarn install``: ``fix --diff`` 17.8 s at 2,000 lines)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.keys: dict[tuple[str, tuple[str, ...]], list[int]] = {}  # ("at" | "under" | "anywhere", parts) -> stages
        self.tree = StageTree()

    def _parent(self, index: int) -> int | None:
        base = self.ctx.stages.stages[index].base_stage
        return base.index if base is not None else None

    def _index(self, index: int) -> None:
        writers = _writers(self.ctx, self.ctx.stages.stages[index])
        keys = [("at", parts) for parts in writers.at] + [("under", parts) for parts in writers.under]
        if writers.anywhere:
            keys.append(_ANYWHERE)
        for key in keys:
            bisect.insort(self.keys.setdefault(key, []), index)

    def is_base(self, candidate: int, index: int) -> bool:
        """``candidate`` is a base stage (at any distance) of stage ``index``."""
        self.tree.line(index, self._parent, self._index)
        return self.tree.is_base(candidate, index)

    def nearest_writing(self, index: int, parts: tuple[str, ...]) -> int | None:
        """The nearest base stage of stage ``index`` whose writers' index answers for a path of
        ``parts`` (what :meth:`_Writers.back_from` looks up), or None."""
        line = self.tree.line(index, self._parent, self._index)
        if not line.ordered:
            return line.parent
        keys = [_ANYWHERE, ("under", parts), *(("at", parts[:depth]) for depth in range(len(parts) + 1))]
        try:
            return self.tree.nearest_base(index, [self.keys[key] for key in keys if key in self.keys])
        except WalkInstead:  # many stages beside the lineage write there: one stage at a time
            return line.parent


_ANYWHERE: tuple[str, tuple[str, ...]] = ("anywhere", ())  # a stage with a step whose effects are unknown


def _writer_stages(ctx: Context) -> _WriterStages:
    return ctx.memo("image_files.writer-stages", lambda: _WriterStages(ctx))


# -- one step -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Copy:
    """A COPY/ADD from the build context, read: its sources (context paths, globs expanded
    later) and where they land."""

    sources: list[str]
    target: str
    into_folder: bool  # each source lands inside ``target`` (``COPY a b ./``, ``COPY a /app/``)


def _file_change(ctx: Context, step: Step, path: str) -> Origin | None:
    """What ``step`` does to the file at ``path``: None when nothing."""
    return _change(ctx, step, path, _copied_file, _run_writes_file)


def _tree_change(ctx: Context, step: Step, folder: str) -> Origin | None:
    """What ``step`` does to the files under ``folder``: None when nothing."""
    return _change(ctx, step, folder, _copied_tree, _run_writes_into)


def _change(ctx: Context, step: Step, target: str, copied, run_writes) -> Origin | None:
    """A COPY/ADD is read against the build context (``copied``); a RUN by its effects
    (``run_writes``); either is unknown when what it does cannot be followed."""
    node = step.instruction
    line = node.start_line
    if node.name in ("COPY", "ADD"):
        copy = _read_copy(ctx, step)
        if isinstance(copy, str):
            return Unknown(f"line {line}: {copy}") if _may_write(step, target) else None
        files = ctx.build_files
        if files is None:
            return Unknown(ctx.context_unread) if _may_write(step, target) else None
        landings = ctx.memo(("image_files.landings", id(step)), lambda: _landings(files, copy))
        return copied(files, landings, target, line)
    if node.name == "RUN":
        if step.effects.unknown:
            return Unknown(f"line {line} runs something slimfile cannot follow ({step.effects.unknown})")
        return run_writes(step, target, line)
    return None


def _run_writes_file(step: Step, path: str, line: int) -> Origin | None:
    clash = overlaps(step.effects.writes, [path])
    return Unknown(f"line {line} writes {clash[0]}") if clash else None


def _run_writes_into(step: Step, folder: str, line: int) -> Origin | None:
    inside = folder.rstrip("/") + "/"
    if any(w == folder or w.startswith(inside) for w in step.effects.writes):
        return Unknown(f"line {line} writes into {folder}")
    return None


def _may_write(step: Step, path: str) -> bool:
    if step.effects.unknown:
        return True
    return overlaps(step.effects.writes, [path]) is not None


def _read_copy(ctx: Context, step: Step) -> _Copy | str:
    """The copy as sources and a target, or why it is not a plain copy from the context (read
    once per round: every path asked about at this step asks it)."""
    return ctx.memo(("image_files.copy", id(step)), lambda: _copy_of(ctx, step))


def _copy_of(ctx: Context, step: Step) -> _Copy | str:
    node = step.instruction
    if node.heredocs:
        return "it writes a heredoc"
    if node.flag("from") is not None:
        return "it copies from another stage or image"
    other = next((f.name for f in node.flags if f.name not in _PLAIN_COPY_FLAGS), None)
    if other is not None:
        return f"`--{other}` changes what it copies where"
    if step.effects.unknown:
        return step.effects.unknown
    words = list(node.json) if node.json is not None else parse_words(node.args_text, ctx.dockerfile.escape)
    sources = []
    for word in words[:-1]:
        source = expand(word.strip("\"'") if node.json is None else word, step.state.env)
        if source is None:
            return f"the source `{word}` uses a variable slimfile does not know"
        if "://" in source or source.startswith("git@"):
            return f"it downloads `{source}`"
        if node.name == "ADD" and source.lower().endswith(_ARCHIVES):
            return f"ADD may unpack `{source}`"
        sources.append(clean_path(source))
    (target,) = step.effects.writes
    written = words[-1]
    into_folder = (
        written.endswith("/")
        or len(sources) > 1
        or any(_GLOB.search(s) for s in sources)
        or target == step.state.workdir
        or (step.state.workdir is not None and step.state.workdir.startswith(target.rstrip("/") + "/"))
    )
    return _Copy(sources, target, into_folder)


def _expanded(files: BuildContext, source: str) -> list[str]:
    if source == "":
        return [""]
    return files.glob(source)


def _landing(files: BuildContext, copy: _Copy, source: str) -> tuple[str, bool]:
    """Where a matched context path lands and whether its *contents* land there (a folder)."""
    if source == "" or files.is_dir(source):
        return copy.target, True
    if copy.into_folder:
        return posixpath.join(copy.target, posixpath.basename(source)), False
    return copy.target, False


def _landings(files: BuildContext, copy: _Copy) -> list[tuple[str, str, bool]]:
    """(context path, where it lands, whether its contents land there) for each path the copy
    sends, in order (worked out once per round: every image path asked about at this step
    looks at them)."""
    return [(source, *_landing(files, copy, source)) for pattern in copy.sources for source in _expanded(files, pattern)]


def _copied_file(files: BuildContext, landings: list[tuple[str, str, bool]], path: str, line: int) -> Origin | None:
    change: Origin | None = None
    for source, landing, contents in landings:
        if contents:
            relative = _inside(path, landing)
            if relative is None:
                continue
            context_path = clean_path(posixpath.join(source, relative))
            if files.is_file(context_path):
                change = FromContext(context_path, line)
            elif files.exists(context_path):
                change = Unknown(f"line {line} puts a folder at {path}")
        elif landing == path:
            change = FromContext(source, line)
    return change


def _copied_tree(files: BuildContext, landings: list[tuple[str, str, bool]], folder: str, line: int) -> Origin | None:
    change: Origin | None = None
    for source, landing, contents in landings:
        relative = _inside(folder, landing)
        if relative is not None:
            context_path = clean_path(posixpath.join(source, relative)) if contents else None
            if context_path is not None and files.exists(context_path):
                change = FromContext(context_path, line)
        elif _inside(landing, folder) is not None:
            change = FromContext(source, line)  # lands under the folder
    return change


def _inside(path: str, folder: str) -> str | None:
    """``path`` relative to ``folder`` ("" for the folder itself), or None when outside."""
    if path == folder:
        return ""
    prefix = folder.rstrip("/") + "/"
    return path[len(prefix) :] if path.startswith(prefix) else None
