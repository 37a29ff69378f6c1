"""apk hygiene: ``apk add --no-cache`` instead of ``apk update && apk add``, and build-only
packages grouped under ``--virtual`` and deleted in the same RUN.

Before::

    FROM alpine:3.20
    RUN apk update && apk add gcc musl-dev && make && make install

After (with ``--unsafe-fixes``)::

    FROM alpine:3.20
    RUN apk add --virtual .build-deps --no-cache gcc musl-dev && make && make install && apk del .build-deps
"""

from __future__ import annotations

from typing import Iterator

from slimfile.analysis.context import Context
from slimfile.diagnostics import Finding, Rule
from slimfile.memo import cached
from slimfile.passes.common import (
    PACKAGES,
    RunInfo,
    append_fix,
    cache_mount_covers,
    last_top_level_command,
    option_fix,
    runs,
    saving,
)
from slimfile.shell.data import load
from slimfile.shell.edit_helpers import EditRefused, remove_command
from slimfile.shell.packages import PackageFact
from slimfile.syntax.edits import Edit, Fix, Safety

NO_CACHE = Rule(
    code="SF201",
    name="apk-add-without-no-cache",
    summary="`apk add` keeps the package index in /var/cache/apk",
    fix_title="Use `apk add --no-cache` (and drop the separate `apk update`)",
    related=("hadolint DL3019",),
    doc="""
## What it does
Adds `--no-cache` to `apk add`. When the RUN also runs `apk update` only to feed those
`apk add` commands, the `apk update` goes: `--no-cache` fetches a fresh index anyway.

## Why is this bad?
`apk update` and `apk add` without `--no-cache` store the APKINDEX files in
`/var/cache/apk`, which then ship in the layer.

## Example
```dockerfile
RUN apk update && apk add curl
```

## Use instead
```dockerfile
RUN apk add --no-cache curl
```

## Fix safety
Safe: the same packages are installed from a freshly fetched index; only the cache differs.
Skipped when a cache or tmpfs mount already keeps `/var/cache/apk` out of the layer.
""",
)

VIRTUAL = Rule(
    code="SF202",
    name="apk-build-deps-kept",
    summary="Build-only packages stay in the image",
    fix_title="Install them under `--virtual .build-deps` and `apk del` them in the same RUN",
    related=(),
    safety=Safety.UNSAFE,
    doc="""
## What it does
Finds an `apk add` whose packages are all build tools (compilers, `-dev` headers, `make`,
`build-base`, ...: the list is `data/apk.toml`) in a RUN that goes on to use them, when no
later RUN of the stage needs them. It installs them under `--virtual .build-deps` and appends
`apk del .build-deps` to the RUN (`.build-deps-2`... when the RUN already has a group of that
name: adding to an existing virtual package replaces what it holds). An `apk add --virtual
NAME` without a matching `apk del NAME` in its RUN gets the `apk del`.

## Why is this bad?
Compilers and headers are only needed while building; in the final image they are dead
weight (often 100 MB or more) and attack surface.

## Example
```dockerfile
RUN apk add --no-cache gcc musl-dev && pip install --no-cache-dir psutil
```

## Use instead
```dockerfile
RUN apk add --virtual .build-deps --no-cache gcc musl-dev && pip install --no-cache-dir psutil && apk del .build-deps
```

## Fix safety
Unsafe: `apk del` also removes the libraries the `-dev` packages pulled in, and what was
built may need them at run time (psycopg2 needs libpq). Check with
`slimfile verify --run ...`, and list runtime libraries in a separate `apk add`.
""",
)

RULES = (NO_CACHE, VIRTUAL)


def check(ctx: Context) -> Iterator[Finding]:
    infos = list(runs(ctx))
    for position, info in enumerate(infos):
        facts = [f for f in info.script.packages if f.manager == "apk"]
        if not facts:
            continue
        yield from _no_cache(ctx, info, facts)
        yield from _virtual(ctx, info, facts, infos, position)


# -- SF201 ------------------------------------------------------------------------------------


def _no_cache(ctx: Context, info: RunInfo, facts: list[PackageFact]) -> Iterator[Finding]:
    if cache_mount_covers(info.instruction, "/var/cache/apk"):
        return
    adds = [f for f in facts if f.action == "install" and f.tool.endswith("apk") and not f.has("no-cache")]
    for add in adds:
        if add.anchor is None:
            continue
        fix = option_fix(ctx, info, add.anchor, "--no-cache", NO_CACHE)
        if fix is not None and add is adds[0]:
            fix = _drop_redundant_update(ctx, info, facts, fix)
        yield Finding(NO_CACHE, "`apk add` without `--no-cache` keeps the index in /var/cache/apk",
                      info.script.commands[add.command].start, add.anchor.end, fix, saving("apk-no-cache"))


def _drop_redundant_update(ctx: Context, info: RunInfo, facts: list[PackageFact], fix: Fix) -> Fix:
    """``apk update`` only feeds ``apk add`` commands that will all use ``--no-cache``."""
    updates = [f for f in facts if f.action == "update" and not f.options]
    others = [f for f in facts if f.action not in ("update", "install") or (f.action == "install" and f.has("no-cache"))]
    if len(updates) != 1 or others:
        return fix
    try:
        removal = remove_command(ctx.dockerfile, info.script, info.script.commands[updates[0].command])
    except EditRefused:
        return fix
    if any(edit.overlaps(other) or edit.touches(other) for edit in removal for other in fix.edits):
        return fix
    return Fix((*fix.edits, *removal), fix.safety, fix.title)


# -- SF202 ------------------------------------------------------------------------------------


def _virtual(ctx: Context, info: RunInfo, facts: list[PackageFact], infos: list[RunInfo], position: int) -> Iterator[Finding]:
    deleted = {w.value for f in facts if f.action == "remove" for w in f.packages}
    for add in (f for f in facts if f.action == "install"):
        virtual = add.option_values("-t", "--virtual")
        if virtual:
            name = virtual[0]
            if name not in deleted and _used_after_in_run(info, add):
                yield _missing_del(ctx, info, add, name)
            continue
        if _build_only(add) and _used_after_in_run(info, add) and not _needed_later(ctx, infos, position):
            yield _add_virtual(ctx, info, facts, add)


def _missing_del(ctx: Context, info: RunInfo, add: PackageFact, name: str) -> Finding:
    """The virtual group is deleted at the very end of the RUN, after everything that uses it."""
    command = info.script.commands[add.command]
    last = last_top_level_command(info.script)
    fix = append_fix(ctx, info, last, f"apk del {name}", VIRTUAL, Safety.UNSAFE, PACKAGES) if last is not None else None
    return Finding(VIRTUAL, f"`apk add --virtual {name}` is never deleted in this RUN", command.start, command.end,
                   fix, saving("apk-virtual"))


def _add_virtual(ctx: Context, info: RunInfo, facts: list[PackageFact], add: PackageFact) -> Finding:
    command = info.script.commands[add.command]
    last = last_top_level_command(info.script)
    fix = None
    if last is not None and add.anchor is not None:
        name = cached(info.script, "apk.free-virtual-name", lambda: _free_virtual_name(facts))
        append = append_fix(ctx, info, last, f"apk del {name}", VIRTUAL, Safety.UNSAFE)
        if append is not None:
            virtual = Edit.insert(add.anchor.end, f" --virtual {name}".encode())
            fix = Fix((virtual, *append.edits), Safety.UNSAFE, VIRTUAL.fix_title, PACKAGES, brings=append.brings)
    names = " ".join(add.package_names)
    return Finding(VIRTUAL, f"build-only packages ({names}) stay in the image", command.start, command.end, fix,
                   saving("apk-virtual"))


def _free_virtual_name(facts: list[PackageFact]) -> str:
    """``.build-deps``, or ``.build-deps-2``...: adding to a virtual package that exists replaces
    what it depends on, so the packages of the first group would stay when it is deleted."""
    used = {name for f in facts for name in f.option_values("-t", "--virtual")}
    used |= {w.value for f in facts if f.action == "remove" for w in f.packages}
    name, number = ".build-deps", 1
    while name in used:
        number += 1
        name = f".build-deps-{number}"
    return name


def _build_only(add: PackageFact) -> bool:
    table = load("apk")
    exact, suffixes = set(table["build_only"]), tuple(table["build_only_suffixes"])
    names = add.package_names
    return bool(names) and all(w.static for w in add.packages) and all(
        n in exact or n.endswith(suffixes) for n in names
    )


def _used_after_in_run(info: RunInfo, add: PackageFact) -> bool:
    """Something runs after the install in the same RUN (so the tools were used here)."""
    return cached(info.script, "apk.last-other-command", lambda: _last_other_command(info.script)) > add.command


def _last_other_command(script) -> int:
    """Index of the RUN's last command that is not apk (-1 if none): asked per install."""
    return max((c.index for c in script.commands if c.name not in (None, "apk")), default=-1)


def _needed_later(ctx: Context, infos: list[RunInfo], position: int) -> bool:
    """A later RUN of the stage compiles or builds (it would miss the tools)."""
    last = ctx.memo("apk.last-build-run", lambda: _last_build_run(infos))
    stage = infos[position].stage
    return last.get(id(stage), -1) > position


def _last_build_run(infos: list[RunInfo]) -> dict[int, int]:
    """``id`` of each stage -> position of its last RUN that compiles or builds: one pass over
    the RUNs, instead of a scan of the later RUNs for each build-only install."""
    tools = set(load("apk")["build_commands"])
    last: dict[int, int] = {}
    for position, other in enumerate(infos):
        if any(c.name in tools for c in other.script.commands):
            last[id(other.stage)] = position
    return last
