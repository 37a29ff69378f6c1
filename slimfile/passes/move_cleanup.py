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

The maker is looked for among the ``MAX_LOOKBACK`` RUNs before the cleanup, so that the cost
stays linear in the number of RUNs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from slimfile.analysis.context import Context
from slimfile.diagnostics import Finding, Rule
from slimfile.memo import cached
from slimfile.passes.common import RunInfo, last_top_level_command, runs, saving
from slimfile.passes.run_merge import is_and_list, script_has_comment
from slimfile.shell.cleanup import CleanupFact, rm_operands
from slimfile.shell.edit_helpers import EditRefused, append_command
from slimfile.shell.model import ShellScript
from slimfile.syntax.edits import Edit, Fix, Safety
from slimfile.syntax.nodes import Instruction

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
when nothing in between uses them.

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
cleanup would empty the mount instead of the layer).
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
    for position, info in enumerate(infos):
        cleanup = _cleanup_only(info.script)
        if cleanup is None:
            continue
        target = _maker(ctx, infos, position, cleanup)
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


def _maker(ctx: Context, infos: list[RunInfo], position: int, cleanup: _Cleanup) -> RunInfo | None:
    """The nearest earlier RUN of the stage that made everything the cleanup removes, provided
    nothing between it and the cleanup (``infos[position]``) uses those files."""
    cleanup_run = infos[position]
    roots = [_path_root(path).encode() for path in cleanup.paths]
    for earlier in range(position - 1, max(position - MAX_LOOKBACK, 0) - 1, -1):
        candidate = infos[earlier]
        if candidate.stage is not cleanup_run.stage:
            return None
        text = candidate.instruction.logical.text
        mentioned = [root in text for root in roots]
        if not cleanup.managers and not any(mentioned):
            continue  # it neither made nor used the paths
        managers = cached(candidate.script, "move_cleanup.managers", lambda: {f.manager for f in candidate.script.packages})
        if _made_by(candidate, cleanup, managers) and all(mentioned):
            if _between_is_safe(ctx, candidate.instruction, cleanup_run.instruction, cleanup):
                return candidate
        if cleanup.managers & managers or any(mentioned):
            return None  # it uses the files (or part of them): moving past it is not safe
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
    dockerfile = ctx.dockerfile
    between = dockerfile.items[dockerfile.item_index(maker) + 1 : dockerfile.item_index(cleaner)]
    for node in between:
        if not isinstance(node, Instruction):
            continue
        # RUNs in between were vetted by _maker's walk: they do not touch what is removed
        if node.name in _UNSAFE_BETWEEN or (cleanup.uses_home and node.name in ("ENV", "ARG")):
            return False
    return True


def _finding(ctx: Context, target: RunInfo, cleaner: RunInfo, cleanup: _Cleanup) -> Finding:
    start, end = cleaner.instruction.keyword_source_span()
    what = ", ".join(sorted(cleanup.managers) + [p for p in cleanup.paths]) or "files"
    message = f"This RUN only removes files written by the RUN on line {target.instruction.start_line} ({what}); they stay in that layer"
    fix = _fix(ctx, target, cleaner, cleanup)
    return Finding(MOVE_CLEANUP, message, start, end, fix, saving("move-cleanup", what=f"what it removes ({what})"))


def _fix(ctx: Context, target: RunInfo, cleaner: RunInfo, cleanup: _Cleanup) -> Fix | None:
    anchor = last_top_level_command(target.script)
    if anchor is None or _target_changes_the_cleanup(target.script, cleaner.script, cleanup):
        return None
    if cleaner.script.origin != "run" or cleaner.instruction.heredocs or cleaner.instruction.flags:
        return None  # its text is not a one-line command, or its mounts are part of what it does
    if _mounts_overlap(target.instruction, cleaner.script, cleanup):
        return None  # in the earlier RUN the cleanup would reach into a mount instead
    text = cleaner.instruction.args_text
    if not is_and_list(cleaner.script):
        text = f"({text})"
    try:
        append = append_command(ctx.dockerfile, target.script, anchor, text, operator="&&")
    except EditRefused:
        return None
    removal = Edit.delete(cleaner.outer.start, cleaner.outer.end)
    return Fix((append, removal), Safety.SAFE, MOVE_CLEANUP.fix_title, runs_removed=1)
