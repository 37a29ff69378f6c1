"""yum / dnf / microdnf / zypper hygiene: answer yes, and clean the cache in the same RUN.

Before::

    FROM rockylinux:9
    RUN yum install httpd

After::

    FROM rockylinux:9
    RUN yum install -y httpd && yum clean all && rm -rf /var/cache/yum
"""

from __future__ import annotations

from typing import Iterator

from slimfile.analysis.context import Context
from slimfile.diagnostics import Finding, Rule
from slimfile.passes.common import (
    RunInfo,
    append_fix,
    cache_mount_covers,
    last_command_of,
    layers_are_reused,
    option_fix,
    runs,
    saving,
)
from slimfile.shell.packages import PackageFact

INSTALLS = frozenset({"install", "upgrade"})
# what each tool's cleanup is, and where its cache lives (for the finding's text)
CLEANUP = {
    "yum": ("yum clean all && rm -rf /var/cache/yum", "/var/cache/yum"),
    "dnf": ("dnf clean all", "/var/cache/dnf"),
    "dnf5": ("dnf5 clean all", "/var/cache/libdnf5"),
    "microdnf": ("microdnf clean all", "/var/cache/yum"),
    "tdnf": ("tdnf clean all", "/var/cache/tdnf"),
    "zypper": ("zypper clean --all", "/var/cache/zypp"),
}

ASSUME_YES = Rule(
    code="SF301",
    name="rpm-install-without-yes",
    summary="yum/dnf/microdnf/zypper install without `-y` stops at its prompt",
    fix_title="Add `-y`",
    related=("hadolint DL3030", "hadolint DL3038", "hadolint DL3037"),
    doc="""
## What it does
Adds `-y` to `yum`, `dnf`, `microdnf`, `tdnf` and `zypper` install and upgrade commands that
have neither `-y`/`--assumeyes` (`-n`/`--non-interactive`/`--no-confirm` for zypper).

## Why is this bad?
A build has no terminal to answer "Is this ok [y/N]", so the command aborts.

## Example
```dockerfile
RUN dnf install httpd
```

## Use instead
```dockerfile
RUN dnf install -y httpd
```

## Fix safety
Safe: only runs that would have failed change.
""",
)

CLEAN_ALL = Rule(
    code="SF302",
    name="rpm-cache-not-cleaned",
    summary="yum/dnf/microdnf/zypper leave their metadata and package cache in the layer",
    fix_title="Clean the cache in the same RUN",
    related=("hadolint DL3032", "hadolint DL3040", "hadolint DL3036"),
    doc="""
## What it does
Appends the tool's cleanup after its last install or upgrade in a RUN: `yum clean all &&
rm -rf /var/cache/yum`, `dnf clean all`, `microdnf clean all`, `zypper clean --all`, in stages
that end up in the final image or that another stage is built `FROM`.

## Why is this bad?
Repository metadata and downloaded packages are kept under `/var/cache` (often 30-150 MB)
and ship in the layer; a later RUN cannot take them out of it.

## Example
```dockerfile
RUN yum install -y httpd
```

## Use instead
```dockerfile
RUN yum install -y httpd && yum clean all && rm -rf /var/cache/yum
```

## Fix safety
Safe: only caches go. Skipped when the RUN already cleans after its last install, or when a
cache or tmpfs mount keeps the cache out of the layer.
The command goes right after the last install, or at the end of the RUN when a later `;` or `||`
list could end the RUN well without it (`install && x; y`).
""",
)

RULES = (ASSUME_YES, CLEAN_ALL)


def check(ctx: Context) -> Iterator[Finding]:
    for info in runs(ctx):
        facts = [f for f in info.script.packages if f.manager in ("dnf", "zypper")]
        for fact in facts:
            if fact.action in INSTALLS:
                yield from _assume_yes(ctx, info, fact)
        for tool in sorted({f.tool for f in facts}):
            yield from _clean_all(ctx, info, [f for f in facts if f.tool == tool])


def _assume_yes(ctx: Context, info: RunInfo, fact: PackageFact) -> Iterator[Finding]:
    if fact.has("assume-yes") or fact.anchor is None:
        return
    command = info.script.commands[fact.command]
    fix = option_fix(ctx, info, fact.anchor, "-y", ASSUME_YES)
    yield Finding(ASSUME_YES, f"`{fact.tool} {fact.anchor.value}` without `-y` aborts at its prompt",
                  command.start, fact.anchor.end, fix, saving("assume-yes"))


def _clean_all(ctx: Context, info: RunInfo, facts: list[PackageFact]) -> Iterator[Finding]:
    tool = facts[0].tool
    if tool not in CLEANUP or not layers_are_reused(ctx, info.stage):
        return
    installs = [f for f in facts if f.action in INSTALLS]
    if not installs:
        return
    text, cache = CLEANUP[tool]
    last_install = installs[-1]
    # any tool of the family cleans the same caches (`microdnf clean all` after `yum install`)
    if any(f.action == "clean" and f.manager == last_install.manager and f.start > last_install.start
           for f in info.script.packages):
        return
    if _cache_removed_after(info, last_install) or cache_mount_covers(info.instruction, cache):
        return
    fix = append_fix(ctx, info, last_command_of(info, facts), text, CLEAN_ALL)
    command = info.script.commands[last_install.command]
    yield Finding(CLEAN_ALL, f"`{tool}` cache is not cleaned after installing (it stays in {cache})",
                  command.start, command.end, fix, saving("rpm-clean", manager=tool, cache=cache))


def _cache_removed_after(info: RunInfo, after: PackageFact) -> bool:
    return any(
        c.kind == "remove-path" and c.manager == after.manager and c.coverage == "whole" and c.start > after.start
        for c in info.script.cleanups
    )
