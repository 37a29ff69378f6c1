"""Move a cleanup-only RUN into the RUN that made the mess.

Before::

    RUN apt-get update && apt-get install -y gcc
    COPY . /src
    RUN rm -rf /var/lib/apt/lists/*

After::

    RUN apt-get update && apt-get install -y gcc \\
        && rm -rf /var/lib/apt/lists/*
    COPY . /src

Deleting files in a later RUN does not shrink the image: the files stay in the layer that
wrote them, and the later layer only adds a whiteout that hides them.

Fixes compose: a command the earlier RUN already runs whenever it succeeds, after its last
write of what the command removes (``shell.cleanup.cleanup_profile``, e.g. the removal SF105
added in an earlier round), is not moved again, and the fix declares what it brings
(``Fix.brings``) so that no other fix of the round brings the same cleanup into that RUN.

The maker of a package manager's leftovers is looked for among the RUNs of the stage that run
that manager (an index); the maker of other removed paths among the ``MAX_LOOKBACK`` RUNs
before the cleanup, whose texts are searched for the path, so that the cost stays linear in
the number of RUNs.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Iterator

from slimfile.analysis.context import Context
from slimfile.diagnostics import Finding, Rule
from slimfile.memo import cached
from slimfile.passes.common import RunInfo, last_top_level_command, runs, saving
from slimfile.passes.run_merge import is_and_list, script_has_comment
from slimfile.shell.cleanup import CleanupFact, cleanup_profile, command_cleanup_keys, rm_operands
from slimfile.shell.edit_helpers import EditRefused, append_command
from slimfile.shell.model import Command, ShellScript
from slimfile.syntax.edits import Edit, Fix, Safety
from slimfile.syntax.nodes import Dockerfile, Instruction, LineRole

MOVE_CLEANUP = Rule(
    code="SF501",
    name="cleanup-in-later-layer",
    summary="A RUN deletes files an earlier RUN wrote; they stay in the earlier layer",
    fix_title="Move the cleanup into the RUN that wrote the files",
    related=("hadolint DL3009",),
    doc="""
## What it does
Finds a RUN that only cleans up (removes package caches and lists, runs `apt-get clean`,
`yum clean all`, `npm cache clean`, `apk del`, or removes a directory an earlier RUN
created), and moves its commands to the end of the earlier RUN that wrote those files,
when nothing in between uses them. A command the earlier RUN already runs whenever it
succeeds, after its last write of what it removes (`rm -rf /var/lib/apt/lists/*` after the
install, perhaps added by SF105), is not repeated; a cleanup RUN that only repeats such
commands is removed. The moved commands keep their lines as written (continuation lines,
their indentation, comment lines among them).

## Why is this bad?
Each RUN is a layer, and layers only add: a file deleted by a later RUN is still shipped in
the layer that created it, and the later layer merely hides it. The image gets no smaller.

## Example
```dockerfile
RUN apt-get update && apt-get install -y gcc
RUN rm -rf /var/lib/apt/lists/*
```

## Use instead
```dockerfile
RUN apt-get update && apt-get install -y gcc \\
    && rm -rf /var/lib/apt/lists/*
```

## Fix safety
Safe. The move is made only when the instructions in between do not use what is removed
(no RUN of the same package manager, no mention of a removed path), do not change the user
(`USER`) or, when the cleanup uses `~`/`$HOME`, the environment; when every removed path is
absolute; and when the earlier RUN's last command is at its top level, so the cleanup still
runs after everything else in it. It runs in a subshell when it is not a plain `&&` list.
No fix is offered when the earlier RUN can exit early (`exit`, `exec`), or leaves shell state
that could change the cleanup (`set -f`, functions, aliases, `source`; a changed directory or
variables unless the cleanup only removes absolute paths, without `~`), when the cleanup RUN
has flags or is a heredoc, or when a `--mount` of the earlier RUN covers a removed path (the
cleanup would empty the mount instead of the layer). A repeated command is dropped only from a
plain `&&` list and never with a comment line next to it (the RUN then stays as it is).
""",
)

RULES = (MOVE_CLEANUP,)

_UNSAFE_BETWEEN = frozenset({"USER", "ONBUILD", "SHELL"})
# how many RUNs back the maker of a cleanup is looked for: whether an earlier RUN used or made
# the removed paths is a substring test that no index answers, so an unbounded walk was
# quadratic on a generated file of cleanups (in the shared corpus the farthest is 7 RUNs back)
MAX_LOOKBACK = 64
APT_LISTS = "/var/lib/apt/lists"


@dataclass(frozen=True)
class _Cleanup:
    managers: frozenset[str]  # package managers whose leftovers it removes
    paths: tuple[str, ...]  # other absolute paths it removes (build directories, downloads)
    uses_home: bool
    removes_apt_lists: bool  # only a RUN that ran `apt-get update` wrote those


def check(ctx: Context) -> Iterator[Finding]:
    infos = list(runs(ctx, include_onbuild=False))
    makers: _MakerIndex | None = None  # built at the first cleanup-only RUN
    for position, info in enumerate(infos):
        cleanup = _cleanup_only(info.script)
        if cleanup is None:
            continue
        makers = makers or _MakerIndex(infos)
        target = _maker(ctx, makers, position, cleanup)
        if target is None:
            continue
        yield _finding(ctx, target, info, cleanup)


def _cleanup_only(script: ShellScript) -> _Cleanup | None:
    """What the RUN cleans, when cleaning is all it does."""
    if not script.commands or script_has_comment(script):
        return None
    by_command: dict[int, list[CleanupFact]] = {}
    for fact in script.cleanups:
        by_command.setdefault(fact.command, []).append(fact)
    managers: set[str] = set()
    paths: list[str] = []
    uses_home = False
    for command in script.commands:
        facts = by_command.get(command.index, [])
        if command.scopes:
            return None
        if command.name == "rm":
            # cache paths belong to their package manager; any other path (tmp included)
            # must be absolute and mentioned by the RUN that made it
            cache_words = {id(f.word) for f in facts if f.word is not None and f.manager != "tmp"}
            for word in rm_operands(command):
                if not word.static:
                    return None
                value = word.value
                uses_home = uses_home or value.startswith(("~", "$HOME", "${HOME}"))
                if id(word) not in cache_words:
                    if not value.startswith("/") or value.rstrip("/*") in ("", "/"):
                        return None
                    paths.append(value)
            managers.update(f.manager for f in facts if f.manager != "tmp")
        elif facts:
            managers.update(f.manager for f in facts)
        else:
            return None
    if not managers and not paths:
        return None
    lists = any(APT_LISTS in f.paths for f in script.cleanups)
    return _Cleanup(frozenset(managers), tuple(paths), uses_home, lists)


class _MakerIndex:
    """Answers "the nearest earlier RUN of the stage, within the lookback, that mentions one of
    these paths or runs one of these package managers" without a Python loop over the RUNs in
    between: the RUNs' logical lines joined by NUL bytes (one ``rfind`` per path, in C), and
    per package manager the positions of the RUNs that run it."""

    def __init__(self, infos: list[RunInfo]) -> None:
        self.infos = infos
        texts = [info.instruction.logical.text for info in infos]
        self.starts: list[int] = []
        offset = 0
        for text in texts:
            self.starts.append(offset)
            offset += len(text) + 1
        self.blob = b"\0".join(texts)
        # the first position of the run of RUNs sharing each RUN's stage (stages are contiguous)
        self.stage_start: list[int] = []
        for position, info in enumerate(infos):
            same = position and infos[position - 1].stage is info.stage
            self.stage_start.append(self.stage_start[-1] if same else position)
        self._by_manager: dict[str, list[int]] | None = None

    def window_start(self, position: int, cleanup: _Cleanup) -> int:
        """The farthest RUN the cleanup at ``position`` may be moved to: any RUN of its stage
        for a cleanup of package managers' files alone (their RUNs are indexed), one of the
        ``MAX_LOOKBACK`` before it for one that removes other paths (a substring test)."""
        if not cleanup.paths:
            return self.stage_start[position]
        return max(position - MAX_LOOKBACK, self.stage_start[position])

    def last_mention(self, roots: list[bytes], low: int, position: int) -> int:
        """The position of the last RUN in ``[low, position)`` whose text holds one of
        ``roots``, or -1."""
        begin, end = self.starts[low], self.starts[position] - 1
        found = -1
        for root in roots:
            if b"\0" in root:  # could span two texts in the joined bytes: look in each
                hit = next((i for i in range(position - 1, low - 1, -1) if root in self.infos[i].instruction.logical.text), -1)
                found = max(found, hit)
                continue
            hit = self.blob.rfind(root, begin, end)
            if hit >= 0:
                found = max(found, bisect.bisect_right(self.starts, hit) - 1)
        return found

    def last_use(self, managers: frozenset[str], low: int, position: int) -> int:
        """The position of the last RUN in ``[low, position)`` that runs one of ``managers``."""
        if self._by_manager is None:
            self._by_manager = {}
            for index, info in enumerate(self.infos):
                for manager in _managers(info.script):
                    self._by_manager.setdefault(manager, []).append(index)
        found = -1
        for manager in managers:
            positions = self._by_manager.get(manager, ())
            i = bisect.bisect_left(positions, position) - 1
            if i >= 0 and positions[i] >= low:
                found = max(found, positions[i])
        return found


def _managers(script: ShellScript) -> set[str]:
    return cached(script, "move_cleanup.managers", lambda: {f.manager for f in script.packages})


def _maker(ctx: Context, makers: _MakerIndex, position: int, cleanup: _Cleanup) -> RunInfo | None:
    """The nearest earlier RUN of the stage that made everything the cleanup removes, provided
    nothing between it and the cleanup (``infos[position]``) uses those files.

    Only the nearest RUN that mentions a removed path or runs one of the cleanup's package
    managers decides: the RUNs after it neither made nor used the files, and moving the
    cleanup past it is not safe unless it is the maker."""
    roots = [_path_root(path).encode() for path in cleanup.paths]
    low = makers.window_start(position, cleanup)
    if low >= position:
        return None
    nearest = makers.last_mention(roots, low, position)
    if cleanup.managers:
        nearest = max(nearest, makers.last_use(cleanup.managers, low, position))
    if nearest < 0:
        return None
    candidate = makers.infos[nearest]
    text = candidate.instruction.logical.text
    if _made_by(candidate, cleanup, _managers(candidate.script)) and all(root in text for root in roots):
        if _between_is_safe(ctx, candidate.instruction, makers.infos[position].instruction, cleanup):
            return candidate
    return None


def _made_by(info: RunInfo, cleanup: _Cleanup, managers: set[str]) -> bool:
    """The RUN ran the package managers whose leftovers the cleanup removes (and the update
    that fetched apt's lists, when it removes those)."""
    if not cleanup.managers <= managers:
        return False
    return not cleanup.removes_apt_lists or any(f.manager == "apt" and f.action == "update" for f in info.script.packages)


# `set` options that cannot change what a static `rm` or a cache-clean command does
_HARMLESS_OPTIONS = frozenset({"errexit", "xtrace", "verbose", "nounset", "pipefail"})
_DIRECTORY_KINDS = frozenset({"cd", "pushd", "popd", "umask"})
_VARIABLE_KINDS = frozenset({"export", "declare", "unset", "read", "assignment"})


def _target_changes_the_cleanup(target: ShellScript, cleaner: ShellScript, cleanup: _Cleanup) -> bool:
    """In the earlier RUN the cleanup runs in that RUN's shell, after everything it did: an
    early ``exit``/``exec`` would skip it, ``set -f`` would stop its globs, a function or alias
    could replace it. The working directory does not matter to ``rm`` of absolute paths, nor
    variables unless it uses ``~``; other cleanup commands (``npm cache clean`` reads
    ``npm_config_cache`` and ``.npmrc``, ``go clean`` works on the current package) are only
    moved past changes that cannot reach them."""
    if any(e.ends_script for e in target.exits):
        return True
    only_rm = all(c.name == "rm" for c in cleaner.commands)
    for change in target.state_changes:
        if not change.persists:
            continue
        if change.kind == "set" and set(change.names) <= _HARMLESS_OPTIONS:
            continue
        if change.kind in _DIRECTORY_KINDS and only_rm:
            continue
        if change.kind in _VARIABLE_KINDS and only_rm and not cleanup.uses_home:
            continue
        return True
    return False


def _mounts_overlap(instruction: Instruction, cleaner: ShellScript, cleanup: _Cleanup) -> bool:
    removed = [p for fact in cleaner.cleanups for p in fact.paths] + [_path_root(p) for p in cleanup.paths]
    for flag in instruction.flags:
        if flag.name != "mount" or flag.argument is None:
            continue
        fields = dict(part.split("=", 1) if "=" in part else (part, "") for part in flag.argument.split(","))
        mount = (fields.get("target") or fields.get("dst") or fields.get("destination") or "").rstrip("/")
        if not mount or any(_nested(mount, path) or _nested(path, mount) for path in removed):
            return True
    return False


def _nested(inner: str, outer: str) -> bool:
    outer = outer.rstrip("/")
    return inner == outer or inner.startswith(outer + "/") or outer == ""


def _path_root(path: str) -> str:
    return path.rstrip("*").rstrip("/") or "/"


def _between_is_safe(ctx: Context, maker: Instruction, cleaner: Instruction, cleanup: _Cleanup) -> bool:
    """No USER, ONBUILD or SHELL between the two RUNs (nor ENV or ARG when the cleanup uses
    ``~``); RUNs in between were vetted by :func:`_maker`'s walk: they do not touch what is
    removed. Counted by prefix sums over the file's items: a slice of the items between per
    cleanup was as long as the distance, which the lookback no longer bounds."""
    dockerfile = ctx.dockerfile
    unsafe, variables = ctx.memo("move_cleanup.between", lambda: _between_counts(dockerfile))
    low, high = dockerfile.item_index(maker) + 1, dockerfile.item_index(cleaner)
    if unsafe[high] - unsafe[low]:
        return False
    return not (cleanup.uses_home and variables[high] - variables[low])


def _between_counts(dockerfile: Dockerfile) -> tuple[list[int], list[int]]:
    """How many USER/ONBUILD/SHELL instructions, and how many ENV/ARG, come before each item."""
    unsafe, variables = [0], [0]
    for node in dockerfile.items:
        name = node.name if isinstance(node, Instruction) else None
        unsafe.append(unsafe[-1] + (name in _UNSAFE_BETWEEN))
        variables.append(variables[-1] + (name in ("ENV", "ARG")))
    return unsafe, variables


def _finding(ctx: Context, target: RunInfo, cleaner: RunInfo, cleanup: _Cleanup) -> Finding:
    start, end = cleaner.instruction.keyword_source_span()
    what = ", ".join(sorted(cleanup.managers) + [p for p in cleanup.paths]) or "files"
    line = target.instruction.start_line
    plan = _plan(target, cleaner)
    if plan is not None and not plan.kept:
        message = f"This RUN only removes what the RUN on line {line} already removed ({what}); it is a layer for nothing"
    else:
        message = f"This RUN only removes files written by the RUN on line {line} ({what}); they stay in that layer"
    fix = _fix(ctx, target, cleaner, cleanup, plan)
    return Finding(MOVE_CLEANUP, message, start, end, fix, saving("move-cleanup", what=f"what it removes ({what})"))


@dataclass(frozen=True)
class _Plan:
    """Which commands of the cleanup RUN go into the earlier RUN: those it does not already
    run after its last write of what they remove (``kept``, in order), and what they bring."""

    kept: tuple[Command, ...]
    brings: frozenset[str]


def _plan(target: RunInfo, cleaner: RunInfo) -> _Plan:
    done = cleanup_profile(target.script).certain  # removed whenever the RUN ends well
    keys = command_cleanup_keys(cleaner.script)
    kept = []
    for command in cleaner.script.commands:
        undoes = keys.get(command.index, frozenset())
        if not undoes or not undoes <= done:
            kept.append(command)
    brings = frozenset(k.key for c in kept for k in keys.get(c.index, ()))
    return _Plan(tuple(kept), brings)


def _fix(ctx: Context, target: RunInfo, cleaner: RunInfo, cleanup: _Cleanup, plan: _Plan) -> Fix | None:
    if cleaner.instruction.flags or _target_changes_the_cleanup(target.script, cleaner.script, cleanup):
        return None  # its mounts are part of what it does; or the earlier RUN may skip or change it
    if not plan.kept:  # the earlier RUN already does all of it: the RUN only goes
        edits = _delete_keeping_comment_lines(ctx, cleaner.outer)
        return Fix(edits, Safety.SAFE, MOVE_CLEANUP.fix_title, runs_removed=1) if edits else None
    removal = Edit.delete(cleaner.outer.start, cleaner.outer.end)
    anchor = last_top_level_command(target.script)
    if anchor is None or cleaner.script.origin != "run" or cleaner.instruction.heredocs:
        return None  # its text is not a one-line command
    if _mounts_overlap(target.instruction, cleaner.script, cleanup):
        return None  # in the earlier RUN the cleanup would reach into a mount instead
    text = _moved_text(ctx, cleaner, plan)
    if text is None:
        return None
    try:
        append = append_command(ctx.dockerfile, target.script, anchor, text, operator="&&")
    except EditRefused:
        return None
    brings = tuple((target.outer.start, key) for key in sorted(plan.brings))
    return Fix((append, removal), Safety.SAFE, MOVE_CLEANUP.fix_title, runs_removed=1, brings=brings)


def _moved_text(ctx: Context, cleaner: RunInfo, plan: _Plan) -> str | None:
    """The cleanup RUN's script as its source has it (continuation lines, their indentation and
    the comment lines among them kept: the logical line would glue the lines with their
    indentation in between), minus the commands the earlier RUN already runs. Those go only from
    a plain ``&&`` list and never with a comment line; None when that cannot be done."""
    source = ctx.dockerfile.source
    start, end = cleaner.instruction.args_source_span()
    commands = cleaner.script.commands
    wrap = not is_and_list(cleaner.script)
    if len(plan.kept) == len(commands):
        text = source[start:end]
    else:
        if wrap:
            return None
        pieces: list[tuple[int, int]] = []
        dropped: list[tuple[int, int]] = []
        kept = {c.index for c in plan.kept}
        previous_end = start
        for command in commands:  # each command owns the separator before it
            if command.index not in kept:
                dropped.append((previous_end, command.end))
            elif pieces:
                pieces.append((previous_end, command.end))
            else:  # the first command that goes keeps no separator before it
                dropped.append((previous_end, command.start))
                pieces.append((command.start, command.end))
            previous_end = command.end
        dropped.append((previous_end, end))
        if any(_has_comment_line(cleaner.instruction, a, b) for a, b in dropped):
            return None  # the comment would be lost with the command
        text = b"".join(source[a:b] for a, b in pieces)
    decoded = text.decode("utf-8", "surrogateescape")
    return f"({decoded})" if wrap else decoded


def _delete_keeping_comment_lines(ctx: Context, instruction: Instruction) -> tuple[Edit, ...]:
    """The instruction goes; its comment lines stay where they were, as comment lines between
    instructions (nothing the author wrote is lost). Nothing when a heredoc body line would be
    lost that reads as a comment."""
    source = ctx.dockerfile.source
    kept = [line for line in instruction.lines if line.role is LineRole.INNER_COMMENT]
    if any(line.role is LineRole.HEREDOC_BODY and source[line.start : line.content_end].lstrip().startswith(b"#")
           for line in instruction.lines):
        return ()
    edits, position = [], instruction.start
    for line in kept:
        if line.start > position:
            edits.append(Edit.delete(position, line.start))
        position = max(position, line.end)
    if instruction.end > position:
        edits.append(Edit.delete(position, instruction.end))
    return tuple(edits)


def _has_comment_line(instruction: Instruction, start: int, end: int) -> bool:
    return any(
        line.role in (LineRole.INNER_COMMENT, LineRole.INNER_EMPTY) and start < line.end and line.start < end
        for line in instruction.lines
    )
