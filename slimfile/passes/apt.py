"""apt hygiene: update and install in one layer, ``-y``, ``apt-get`` rather than ``apt``,
``--no-install-recommends``, and the package lists removed in the layer that fetched them.

Before::

    FROM debian:bookworm
    RUN apt-get update
    RUN apt install curl

After (with ``--unsafe-fixes``)::

    FROM debian:bookworm
    RUN apt-get update \\
        && apt-get install --no-install-recommends -y curl ca-certificates \\
        && rm -rf /var/lib/apt/lists/*
"""

from __future__ import annotations

from typing import Iterator

from slimfile.analysis.context import Context
from slimfile.diagnostics import Finding, Rule
from slimfile.memo import cached_property
from slimfile.passes.common import (
    PACKAGES,
    RunInfo,
    append_fix,
    cache_mount_covers,
    last_command_of,
    layers_are_reused,
    option_fix,
    runs,
    saving,
)
from slimfile.passes.run_merge import MergePlan, merge_edits, plan_merge
from slimfile.shell.data import load
from slimfile.shell.model import Command, Operator, ShellScript
from slimfile.shell.packages import PackageFact
from slimfile.syntax.edits import Edit, Fix, Safety

LISTS = "/var/lib/apt/lists"
RM_LISTS = "rm -rf /var/lib/apt/lists/*"
NEEDS_LISTS = frozenset({"install", "upgrade", "download"})
UPDATE_KEY = "apt update"  # what SF106 brings into a RUN and SF101 joins to one (Fix.brings, Fix.joins)

UPDATE_ALONE = Rule(
    code="SF101",
    name="apt-update-alone",
    summary="`apt-get update` runs in its own layer, apart from the install it feeds",
    fix_title="Join the update RUN with the install RUN that follows it",
    related=("hadolint DL3009", "hadolint DL3059"),
    doc="""
## What it does
Finds a RUN that only runs `apt-get update` and is directly followed by a RUN that installs
packages, and joins the two into one RUN.

## Why is this bad?
The build cache keeps the `apt-get update` layer as long as its line does not change. When
you later add a package to the install RUN, it installs from package lists that may be
months old: versions that no longer exist on the mirror, or missing security updates. The
lists also stay in that layer for good, even if a later RUN deletes them.

## Example
```dockerfile
RUN apt-get update
RUN apt-get install -y curl
```

## Use instead
```dockerfile
RUN apt-get update \\
    && apt-get install -y curl
```

## Fix safety
Safe: the same commands run in the same order in the same shell; the first RUN goes into a
subshell when it changes shell state. Comments between the RUNs are kept inside the
continuation; blank lines between them are removed.
""",
)

INSTALL_YES = Rule(
    code="SF102",
    name="apt-install-without-yes",
    summary="`apt-get install` without `-y` aborts at its prompt in a build",
    fix_title="Add `-y`",
    related=("hadolint DL3014",),
    doc="""
## What it does
Adds `-y` to `apt-get install` commands that have neither `-y`/`--yes`/`--assume-yes` nor
`-qq` (which implies `-y`).

## Why is this bad?
A build has no terminal. Without `-y`, `apt-get install` stops at "Do you want to
continue? [Y/n]", reads end-of-file and aborts whenever it has something to install.

## Example
```dockerfile
RUN apt-get install curl
```

## Use instead
```dockerfile
RUN apt-get install -y curl
```

## Fix safety
Safe: the only runs it changes are the ones that would have failed.
""",
)

APT_NOT_APT_GET = Rule(
    code="SF103",
    name="apt-in-script",
    summary="`apt` is the interactive front end; scripts use `apt-get` / `apt-cache`",
    fix_title="Use `apt-get` (or `apt-cache`)",
    related=("hadolint DL3027",),
    doc="""
## What it does
Replaces `apt` with `apt-get` for `install`, `update`, `remove`, `purge`, `autoremove`,
`clean`, `dist-upgrade`, ... (`apt full-upgrade` becomes `apt-get dist-upgrade`, `apt upgrade`
becomes `apt-get upgrade --with-new-pkgs`), and with `apt-cache` for `show`, `search`,
`policy`, `depends`, `rdepends` and `showsrc`. `apt list` and `apt edit-sources` have no
script equivalent and are only reported.

## Why is this bad?
`apt` prints "WARNING: apt does not have a stable CLI interface. Use with caution in
scripts." Its output and behaviour are tuned for people and may change between releases.

## Example
```dockerfile
RUN apt update && apt install -y curl
```

## Use instead
```dockerfile
RUN apt-get update && apt-get install -y curl
```

## Fix safety
Safe: each replacement is the documented script equivalent of the same operation.
""",
)

NO_RECOMMENDS = Rule(
    code="SF104",
    name="apt-install-recommends",
    summary="`apt-get install` also installs recommended packages",
    fix_title="Add `--no-install-recommends` (keeping ca-certificates where HTTPS needs it)",
    related=("hadolint DL3015",),
    safety=Safety.UNSAFE,
    doc="""
## What it does
Adds `--no-install-recommends` to `apt-get install`. When the command installs a tool that
talks HTTPS (curl, wget, git, ...) and does not list `ca-certificates`, it adds
`ca-certificates` too: it is only a *recommended* package of those tools, and without it
HTTPS fails at run time while the build still passes. It goes after the last package, on a
line of its own when the list has one package per line.

## Why is this bad?
Recommended packages are often large and rarely needed in a container: git recommends
openssh-client, patch and less; python3-pip recommends a whole compiler toolchain.

## Example
```dockerfile
RUN apt-get update && apt-get install -y curl
```

## Use instead
```dockerfile
RUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates
```

## Fix safety
Unsafe: the image no longer contains the recommended packages, and something may rely on one
(a compiler recommended by python3-pip, ssh for git). Run `slimfile verify --run ...` to check.
`preferences.keep-ca-certificates = false` stops the fix from adding `ca-certificates`.
""",
)

LISTS_NOT_REMOVED = Rule(
    code="SF105",
    name="apt-lists-not-removed",
    summary="apt package lists stay in the image",
    fix_title="Remove /var/lib/apt/lists/* in the same RUN",
    related=("hadolint DL3009",),
    doc="""
## What it does
Appends `rm -rf /var/lib/apt/lists/*` after the last apt command of a RUN that runs
`apt-get update` and installs packages, in stages that end up in the final image or that
another stage is built `FROM`.

## Why is this bad?
The lists are about 20 MB on Debian (more on Ubuntu) and are only needed to install
packages. A later RUN cannot remove them from the layer that wrote them.

## Example
```dockerfile
RUN apt-get update && apt-get install -y curl
```

## Use instead
```dockerfile
RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*
```
(A RUN written over several lines gets the removal on a continuation line of its own.) An
install run through `sudo`, `doas`, `gosu` or `su-exec` (a dev container's `USER vscode` then
`sudo apt-get install`) gets the removal through the same wrapper: `sudo rm -rf
/var/lib/apt/lists/*` (the user cannot remove root's lists, and the build would fail). The
other appended cleanups (SF302, SF402-SF406) do the same.

## Fix safety
Safe. It is not offered when a later RUN of the stage installs packages without its own
`apt-get update` (it would fail without the lists: see SF106), nor when a cache or tmpfs
mount already keeps the lists out of the layer.
The command goes right after the last install, or at the end of the RUN when a later `;` or `||`
list could end the RUN well without it (`install && x; y`).
""",
)

STALE_LISTS = Rule(
    code="SF106",
    name="apt-install-stale-lists",
    summary="`apt-get install` uses package lists fetched by an earlier layer",
    fix_title="Run `apt-get update` in this RUN first",
    related=("hadolint DL3009",),
    safety=Safety.UNSAFE,
    doc="""
## What it does
Finds an `apt-get install` (or upgrade) in a RUN that has no `apt-get update` of its own
while an earlier RUN of the stage ran one, and prepends `apt-get update &&` to it.

## Why is this bad?
The install depends on lists cached in an earlier layer, which may be old, and which that
layer can therefore never delete (SF105 cannot help it).

## Example
```dockerfile
RUN apt-get update && apt-get install -y curl
RUN apt-get install -y jq
```

## Use instead
```dockerfile
RUN apt-get update && apt-get install -y curl
RUN apt-get update && apt-get install -y jq
```

## Fix safety
Unsafe: fresh lists may install newer package versions than the cached ones did. Not fixed
when the RUN runs `apt-get update` after the install: it would run twice.
""",
)

RULES = (UPDATE_ALONE, INSTALL_YES, APT_NOT_APT_GET, NO_RECOMMENDS, LISTS_NOT_REMOVED, STALE_LISTS)

_APT_GET_SUBCOMMANDS = frozenset(
    {"install", "reinstall", "update", "remove", "purge", "autoremove", "autopurge", "clean", "autoclean",
     "dist-upgrade", "source", "build-dep", "download", "satisfy", "check", "changelog"}
)
_APT_CACHE_SUBCOMMANDS = frozenset({"show", "search", "policy", "depends", "rdepends", "showsrc", "showpkg"})


def check(ctx: Context) -> Iterator[Finding]:
    all_runs = list(runs(ctx))
    timeline = _ListsTimeline(ctx, all_runs)
    for position, info in enumerate(all_runs):
        facts = [f for f in info.script.packages if f.manager == "apt"]
        for fact in facts:
            yield from _apt_not_apt_get(ctx, info, fact)
            if fact.action == "install":
                yield from _install_yes(ctx, info, fact)
                yield from _no_recommends(ctx, info, fact)
        yield from _lists_not_removed(ctx, info, facts, timeline, position)
        yield from _stale_lists(ctx, info, facts, timeline, position)
        if position + 1 < len(all_runs):
            yield from _update_alone(ctx, info, facts, all_runs[position + 1])


# -- SF103 ------------------------------------------------------------------------------------


def _apt_not_apt_get(ctx: Context, info: RunInfo, fact: PackageFact) -> Iterator[Finding]:
    if fact.tool != "apt":
        return
    command = info.script.commands[fact.command]
    tool = command.words[command.name_index]
    sub = fact.subcommand[0] if fact.subcommand else None
    sub_value = sub.value if sub is not None else ""
    message = f"Use apt-get instead of `apt {sub_value}` in scripts".replace(" `apt `", " `apt`")
    fix = None
    if tool.raw == tool.value and sub is not None and sub.raw == sub.value:
        edits = _apt_replacement(tool, sub)
        if edits:
            fix = Fix(edits, Safety.SAFE, APT_NOT_APT_GET.fix_title)
            if sub_value in _APT_CACHE_SUBCOMMANDS:
                message = f"Use apt-cache instead of `apt {sub_value}` in scripts"
    yield Finding(APT_NOT_APT_GET, message, tool.start, tool.end, fix, saving("apt-get-not-apt"))


def _apt_replacement(tool, sub) -> tuple[Edit, ...]:
    prefix = tool.value[: -len("apt")]  # keeps /usr/bin/
    if sub.value in _APT_CACHE_SUBCOMMANDS:
        return (Edit(tool.start, tool.end, f"{prefix}apt-cache".encode()),)
    new_tool = Edit(tool.start, tool.end, f"{prefix}apt-get".encode())
    if sub.value in _APT_GET_SUBCOMMANDS:
        return (new_tool,)
    if sub.value == "full-upgrade":
        return (new_tool, Edit(sub.start, sub.end, b"dist-upgrade"))
    if sub.value == "upgrade":
        return (new_tool, Edit.insert(sub.end, b" --with-new-pkgs"))
    return ()


# -- SF102 / SF104 ----------------------------------------------------------------------------


def _install_yes(ctx: Context, info: RunInfo, fact: PackageFact) -> Iterator[Finding]:
    if fact.has("assume-yes") or fact.anchor is None:  # -qq and -q=2 count as assume-yes
        return
    command = info.script.commands[fact.command]
    fix = option_fix(ctx, info, fact.anchor, "-y", INSTALL_YES)
    yield Finding(INSTALL_YES, f"`{fact.tool} install` without `-y` aborts at its prompt", command.start,
                  fact.anchor.end, fix, saving("assume-yes"))


def _no_recommends(ctx: Context, info: RunInfo, fact: PackageFact) -> Iterator[Finding]:
    if fact.has("no-install-recommends") or fact.anchor is None or fact.tool == "aptitude":
        return
    command = info.script.commands[fact.command]
    extra = _keep_ca_certificates(ctx, fact) if ctx.option("keep-ca-certificates", True) else ()
    fix = option_fix(ctx, info, fact.anchor, "--no-install-recommends", NO_RECOMMENDS, Safety.UNSAFE, extra, PACKAGES)
    message = f"`{fact.tool} install` without `--no-install-recommends` also installs recommended packages"
    if extra:
        message += " (the fix keeps ca-certificates for HTTPS)"
    yield Finding(NO_RECOMMENDS, message, command.start, fact.anchor.end, fix, saving("apt-recommends"))


def _keep_ca_certificates(ctx: Context, fact: PackageFact) -> tuple[Edit, ...]:
    """Add ca-certificates when an HTTPS tool is installed without it (LESSONS-FROM-PEERS #8):
    after the last package, on a line of its own when the list has one package per line."""
    if not fact.packages or not all(w.static for w in fact.packages):
        return ()
    names = {w.value.split("=", 1)[0].split(":", 1)[0] for w in fact.packages}
    keep = load("apt")["keep_recommended"]
    needed = sorted({dep for name in names for dep in keep.get(name, ())} - names)
    if not needed:
        return ()
    last = fact.packages[-1]
    own_line = _one_per_line_tail(ctx.dockerfile.source, fact, ctx.dockerfile.escape)
    if own_line is not None:
        continuation, indent = own_line
        return (Edit.insert(last.end, b"".join(continuation + indent + name.encode() for name in needed)),)
    return (Edit.insert(last.end, (" " + " ".join(needed)).encode()),)


def _one_per_line_tail(source: bytes, fact: PackageFact, escape: str) -> tuple[bytes, bytes] | None:
    """For a list with one package per line (each of the last two alone at the start of its
    line), the line continuation to write after the last package (the escape character and
    the newline, as written there or on the line above) and the last package's indentation;
    None for any other layout."""
    if len(fact.packages) < 2:
        return None
    last, before = fact.packages[-1], fact.packages[-2]
    line_start = source.rfind(b"\n", 0, last.start) + 1
    if before.start >= line_start or not _blank(source[line_start : last.start]):
        return None
    before_start = source.rfind(b"\n", 0, before.start) + 1
    if not _blank(source[before_start : before.start]):
        return None
    indent = source[line_start : last.start]
    trailer = _continued_line_end(source, last.end, escape)
    if trailer is not None:  # `zip \` then more: the new line goes between
        return trailer, indent
    line_end = source.find(b"\n", last.end)
    rest = source[last.end : line_end if line_end >= 0 else len(source)]
    earlier = _continued_line_end(source, before.end, escape)
    if _blank(rest.rstrip(b"\r")) and earlier is not None:  # `zip` ends the RUN: continue it as the line above does
        return earlier, indent
    return None


def _continued_line_end(source: bytes, end: int, escape: str) -> bytes | None:
    """The bytes from ``end`` to the next line when only a line continuation follows ``end``
    on its line (the escape character and the newline, as written), else None."""
    line_end = source.find(b"\n", end)
    if line_end < 0:
        return None
    if source[end:line_end].rstrip(b"\r").strip(b" \t") != escape.encode():
        return None
    return source[end : line_end + 1]


def _blank(text: bytes) -> bool:
    return not text.strip(b" \t")


# -- SF105 ------------------------------------------------------------------------------------


def _lists_not_removed(
    ctx: Context, info: RunInfo, facts: list[PackageFact], timeline: _ListsTimeline, position: int
) -> Iterator[Finding]:
    updates = [f for f in facts if f.action == "update"]
    if not updates or not layers_are_reused(ctx, info.stage):
        return
    last_update = updates[-1]
    uses = [f for f in facts if f.action in NEEDS_LISTS and f.start > last_update.start]
    if not uses:
        return  # an update on its own: SF101 joins it with its install
    if _lists_removed_after(info.script, uses[-1]) or _lists_kept_out(info):
        return
    if timeline.later_install_needs_these_lists(position):
        return  # removing the lists would break that later install (SF106 first)
    fix = append_fix(ctx, info, last_command_of(info, facts), RM_LISTS, LISTS_NOT_REMOVED)
    yield Finding(LISTS_NOT_REMOVED, "apt lists are not removed after `apt-get update` (they stay in this layer)",
                  last_update.start, last_update.end, fix, saving("apt-lists"))


def _lists_removed_after(script: ShellScript, after: PackageFact) -> bool:
    for cleanup in script.cleanups:
        if cleanup.kind == "remove-path" and cleanup.coverage == "whole" and LISTS in cleanup.paths:
            if cleanup.start > after.start:
                return True
    return False


def _lists_kept_out(info: RunInfo) -> bool:
    instruction = info.instruction
    return cache_mount_covers(instruction, LISTS) or (
        cache_mount_covers(instruction, "/var/lib/apt") and cache_mount_covers(instruction, "/var/cache/apt")
    )


class _ListsTimeline:
    """Which RUNs fetch apt lists and which rely on lists fetched before, in file order, so that
    each RUN asks about the RUNs before or after it on its lineage (its stage, and the stages
    built FROM it or that it is built FROM) in constant time: scanning them per RUN was
    quadratic. Stages are contiguous and a stage's base comes before it, so every RUN of a
    base stage comes before every RUN of the stages built on it."""

    def __init__(self, ctx: Context, all_runs: list[RunInfo]) -> None:
        self.ctx = ctx
        self.all_runs = all_runs

    @cached_property
    def _updates(self) -> list[bool]:
        return [_runs_update(info) for info in self.all_runs]

    @cached_property
    def _relies(self) -> list[bool]:
        return [_relies_on_earlier_lists(info) for info in self.all_runs]

    @cached_property
    def _first_update(self) -> dict[int, int]:
        """Stage index -> position of its first RUN that runs ``apt-get update``."""
        first: dict[int, int] = {}
        for position, (info, update) in enumerate(zip(self.all_runs, self._updates)):
            if update and info.stage is not None:
                first.setdefault(info.stage.index, position)
        return first

    @cached_property
    def _updated_below(self) -> dict[int, bool]:
        """Stage index -> some stage it is built FROM (transitively) runs ``apt-get update``."""
        below: dict[int, bool] = {}
        for stage in self.ctx.stages.stages:  # a base stage comes before the stages on it
            base = stage.base_stage
            below[stage.index] = base is not None and (base.index in self._first_update or below.get(base.index, False))
        return below

    def update_before(self, position: int) -> bool:
        """An earlier RUN this one runs on top of (same stage, or a stage it is built FROM)
        runs ``apt-get update``."""
        stage = self.all_runs[position].stage
        if stage is None:
            return False
        return self._first_update.get(stage.index, position) < position or self._updated_below[stage.index]

    @cached_property
    def _next_event(self) -> list[int | None]:
        """For each RUN, the next RUN of its stage that runs ``apt-get update`` or relies on
        earlier lists."""
        following: list[int | None] = [None] * len(self.all_runs)
        upcoming: dict[int, int] = {}
        for position in range(len(self.all_runs) - 1, -1, -1):
            stage = self.all_runs[position].stage
            if stage is None:
                continue
            following[position] = upcoming.get(stage.index)
            if self._updates[position] or self._relies[position]:
                upcoming[stage.index] = position
        return following

    @cached_property
    def _first_event_above(self) -> dict[int, int]:
        """Stage index -> the first such RUN in the stages built FROM it (transitively)."""
        first_event: dict[int, int] = {}
        for position, info in enumerate(self.all_runs):
            if info.stage is not None and (self._updates[position] or self._relies[position]):
                first_event.setdefault(info.stage.index, position)
        above: dict[int, int] = {}
        for stage in reversed(self.ctx.stages.stages):  # the stages on a stage come after it
            base = stage.base_stage
            if base is None:
                continue
            candidates = [p for p in (first_event.get(stage.index), above.get(stage.index), above.get(base.index)) if p is not None]
            if candidates:
                above[base.index] = min(candidates)
        return above

    def later_install_needs_these_lists(self, position: int) -> bool:
        """A later RUN on top of this layer installs without its own update before another RUN
        fetched fresh lists."""
        stage = self.all_runs[position].stage
        if stage is None:
            return False
        event = self._next_event[position]
        if event is None:
            event = self._first_event_above.get(stage.index)
        return event is not None and self._relies[event]


def _relies_on_earlier_lists(info: RunInfo) -> bool:
    """The RUN installs with apt before (or without) running its own update."""
    for fact in info.script.packages:
        if fact.manager != "apt":
            continue
        if fact.action == "update":
            return False
        if fact.action in NEEDS_LISTS:
            return True
    return False


# -- SF106 ------------------------------------------------------------------------------------


def _stale_lists(
    ctx: Context, info: RunInfo, facts: list[PackageFact], timeline: _ListsTimeline, position: int
) -> Iterator[Finding]:
    if not _relies_on_earlier_lists(info):
        return
    if not timeline.update_before(position):
        return
    fact = next(f for f in facts if f.action in NEEDS_LISTS)
    command = info.script.commands[fact.command]
    fix = None
    message = f"`{fact.tool} {fact.action}` uses package lists from an earlier layer"
    joiner = _prepend_joiner(command)
    if _runs_update(info):
        # a second `apt-get update` in the RUN: the author's one after the install would stay
        message += " (not fixed automatically: the RUN runs `apt-get update` after it; move that before it)"
    elif joiner is not None:
        tool = "apt-get" if fact.tool == "apt-get" else fact.tool
        edit = Edit.insert(command.start, f"{tool} update{joiner}".encode())
        # fresh lists: other versions. What it brings, so that no merge brings an update too
        fix = Fix((edit,), Safety.UNSAFE, STALE_LISTS.fix_title, PACKAGES, brings=((info.outer.start, UPDATE_KEY),))
    yield Finding(STALE_LISTS, message, command.start, command.end, fix, saving("apt-update-same-layer"))


def _runs_update(info: RunInfo) -> bool:
    return any(f.manager == "apt" and f.action == "update" for f in info.script.packages)


def _prepend_joiner(command: Command) -> str | None:
    """How a new `apt-get update` goes before the command and keeps the script's meaning:
    ` && `; under `set -e` a new statement (`; `), because `update && install` would ignore a
    failed update there and go on without the install; None when neither is right."""
    if command.scopes or command.name_index is None:
        return None
    before = command.before
    statement_start = before is None or before.operator in (Operator.SEMICOLON, Operator.NEWLINE)
    if command.errexit:
        return "; " if statement_start else None
    return " && " if statement_start or before.operator is Operator.AND else None


# -- SF101 ------------------------------------------------------------------------------------


def _update_alone(ctx: Context, info: RunInfo, facts: list[PackageFact], following: RunInfo) -> Iterator[Finding]:
    commands = info.script.commands
    if not commands or len(facts) != len(commands) or any(f.action != "update" for f in facts):
        return
    if not _relies_on_earlier_lists(following):
        return
    plan = plan_merge(ctx, info, following)
    fix = None
    if isinstance(plan, MergePlan):
        # the install RUN gets this update: no other fix of the round may bring one into it
        joins = (*plan.joins, (following.outer.start, UPDATE_KEY))
        fix = Fix(merge_edits(ctx, plan), Safety.SAFE, UPDATE_ALONE.fix_title, runs_removed=1, joins=joins)
    start, end = info.instruction.keyword_source_span()
    message = "`apt-get update` runs in its own RUN; join it with the install that follows"
    if fix is None:
        message += f" (not joined automatically: {plan})"
    yield Finding(UPDATE_ALONE, message, start, end, fix, saving("apt-update-same-layer"))
