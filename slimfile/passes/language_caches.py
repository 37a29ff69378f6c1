"""Language package managers: no download cache in the layer.

Before::

    RUN pip install -r requirements.txt
    RUN npm ci
    RUN gem install rails

After::

    RUN pip install --no-cache-dir -r requirements.txt
    RUN npm ci && npm cache clean --force
    RUN gem install --no-document rails

One rule per tool (pip, npm, yarn, pnpm, gem, conda, composer), each either adding the tool's
no-cache option or appending its cache cleanup to the same RUN.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from slimfile.analysis.context import Context
from slimfile.diagnostics import Finding, Rule
from slimfile.passes.common import (
    RunInfo,
    append_fix,
    cache_mount_covers,
    env_value,
    last_command_of,
    layers_are_reused,
    option_fix,
    runs,
    saving,
    truthy,
)
from slimfile.shell.model import Command
from slimfile.shell.packages import PackageFact

_SAFETY_NOTE = (
    "Safe: only the download cache goes; the installed packages are the same. The command goes right after the\n"
    "last install, or at the end of the RUN when a later `;` or `||` list could end the RUN well without it."
)


def _doc(what: str, why: str, before: str, after: str, extra: str = "") -> str:
    return f"""
## What it does
{what}

## Why is this bad?
{why}

## Example
```dockerfile
{before}
```

## Use instead
```dockerfile
{after}
```

## Fix safety
{_SAFETY_NOTE} {extra}
"""


PIP = Rule(
    "SF401", "pip-cache", "`pip install` keeps downloaded wheels in ~/.cache/pip", "Add `--no-cache-dir`",
    _doc("Adds `--no-cache-dir` to `pip install` (also `pip3`, `python -m pip`) unless `PIP_NO_CACHE_DIR` is "
         "set, or a cache mount keeps the cache out of the layer. pip takes the last of `--cache-dir` and "
         "`--no-cache-dir`: after a `--cache-dir DIR` that follows the subcommand, it goes after that option.",
         "pip stores every wheel and HTTP response it downloads in `~/.cache/pip`; in an image that cache is "
         "never used again, and often weighs tens of megabytes.",
         "RUN pip install -r requirements.txt", "RUN pip install --no-cache-dir -r requirements.txt"),
    related=("hadolint DL3042",),
)
NPM = Rule(
    "SF402", "npm-cache", "`npm install`/`npm ci` keeps its cache in ~/.npm", "Append `npm cache clean --force`",
    _doc("Appends `npm cache clean --force` after the last npm install of a RUN, in stages that end up in the "
         "final image or under another stage. An install told where to keep its cache (`--cache /tmp/npm`, "
         "`npm_config_cache=/tmp/npm npm ci`) gets a cleanup told the same (yarn's `--cache-folder` and "
         "`YARN_CACHE_FOLDER`, pnpm's `--store-dir` likewise): the default cleanup would leave it. "
         "An absolute folder is declared to `slimfile verify` as what the fix cleans (`cleans:`); "
         "given both, the option wins over the variable, as it does for npm, yarn and pnpm.",
         "npm keeps every downloaded tarball in `~/.npm/_cacache`, which ships in the layer.",
         "RUN npm ci", "RUN npm ci && npm cache clean --force"),
    related=(),
)
YARN = Rule(
    "SF403", "yarn-cache", "`yarn install` keeps its cache", "Append `yarn cache clean`",
    _doc("Appends `yarn cache clean` after the last yarn install of a RUN, in stages that end up in the final "
         "image or under another stage.",
         "yarn v1 keeps every package in `/usr/local/share/.cache/yarn` (or `~/.cache/yarn`).",
         "RUN yarn install --frozen-lockfile", "RUN yarn install --frozen-lockfile && yarn cache clean"),
    related=("hadolint DL3060",),
)
PNPM = Rule(
    "SF404", "pnpm-store", "`pnpm install` keeps packages in its store", "Append `pnpm store prune`",
    _doc("Appends `pnpm store prune` after the last pnpm install of a RUN, in stages that end up in the final "
         "image or under another stage.",
         "pnpm keeps a content-addressed store of every package it downloaded.",
         "RUN pnpm install --frozen-lockfile", "RUN pnpm install --frozen-lockfile && pnpm store prune"),
    related=(),
)
GEM = Rule(
    "SF405", "gem-documentation", "`gem install` generates ri/rdoc documentation", "Add `--no-document`",
    _doc("Adds `--no-document` to `gem install` unless it already has `--no-document`, `-N` or "
         "`--no-ri --no-rdoc`.",
         "Generating documentation for every gem is slow and adds megabytes nobody reads in a container.",
         "RUN gem install bundler", "RUN gem install --no-document bundler",
         "The gems work the same; only their documentation is not generated."),
    related=(),
)
CONDA = Rule(
    "SF406", "conda-cache", "conda/mamba keep package tarballs and caches", "Append `conda clean -afy`",
    _doc("Appends `conda clean -afy` (`mamba clean -afy`, `micromamba clean --all --yes`) after the last "
         "install or create of a RUN, in stages that end up in the final image or under another stage.",
         "conda keeps every downloaded package tarball and the index cache in its pkgs directory: often "
         "hundreds of megabytes.",
         "RUN conda install -y numpy", "RUN conda install -y numpy && conda clean -afy"),
    related=(),
)
COMPOSER = Rule(
    "SF407", "composer-cache", "`composer install` keeps downloaded archives in its cache", "Add `--no-cache`",
    _doc("Adds `--no-cache` to `composer install` and `composer require`.",
         "composer keeps every downloaded dist archive in `~/.composer/cache` (or `~/.cache/composer`).",
         "RUN composer install --no-dev", "RUN composer install --no-cache --no-dev"),
    related=(),
)

UV = Rule(
    "SF408", "uv-cache", "`uv pip install`/`uv sync` keep downloaded wheels in ~/.cache/uv", "Add `--no-cache`",
    _doc("Adds `--no-cache` to uv commands that install (`uv pip install`, `uv pip sync`, `uv sync`, `uv add`, "
         "`uv tool install`) unless `UV_NO_CACHE` is set, `-n`/`--no-cache` is given, `uv cache clean` follows "
         "in the RUN, or a cache mount holds the cache (`--mount=type=cache,target=/root/.cache/uv`, or the "
         "folder `UV_CACHE_DIR`/`--cache-dir` names).",
         "uv keeps every wheel it downloads or builds, unpacked, and its index responses in `~/.cache/uv`; the "
         "installed files are hard links into it, but the rest stays in the layer (about 10 MB for requests, "
         "flask and pandas on python:3.11-slim). uv's own Docker guide recommends `--no-cache` or a cache mount.",
         "RUN uv pip install --system -r requirements.txt",
         "RUN uv pip install --no-cache --system -r requirements.txt"),
    related=(),
)

RULES = (PIP, NPM, YARN, PNPM, GEM, CONDA, COMPOSER, UV)

# the uv commands that fill the cache, by the fact's manager: `uv pip ...` is read as pip
_UV_INSTALLS = {"uv": frozenset({"install", "sync"}), "pip": frozenset({"install", "sync"})}


@dataclass(frozen=True)
class _Append:
    """A tool whose cleanup is a command appended after its installs."""

    rule: Rule
    manager: str
    tools: tuple[str, ...]
    actions: frozenset[str]
    cleanup: str  # may use {tool}
    cache: str
    saving_key: str
    # where the install was told to keep its cache, on its own command line (npm's `--cache
    # /tmp/npm`, `npm_config_cache=/tmp/npm npm ci`): the cleanup is told the same, or it
    # cleans the default cache and leaves the install's in the layer
    location_options: tuple[str, ...] = ()
    location_variables: tuple[str, ...] = ()


APPENDS = (
    _Append(NPM, "npm", ("npm",), frozenset({"install", "ci"}), "npm cache clean --force", "/root/.npm", "npm-cache",
            ("--cache",), ("npm_config_cache", "NPM_CONFIG_CACHE")),
    _Append(YARN, "yarn", ("yarn",), frozenset({"install"}), "yarn cache clean", "/usr/local/share/.cache/yarn",
            "yarn-cache", ("--cache-folder",), ("YARN_CACHE_FOLDER",)),
    _Append(PNPM, "pnpm", ("pnpm",), frozenset({"install", "ci"}), "pnpm store prune", "/root/.local/share/pnpm/store",
            "pnpm-store", ("--store-dir",), ("npm_config_store_dir", "NPM_CONFIG_STORE_DIR")),
    _Append(CONDA, "conda", ("conda", "mamba"), frozenset({"install"}), "{tool} clean -afy", "/opt/conda/pkgs",
            "conda-clean"),
    _Append(CONDA, "conda", ("micromamba",), frozenset({"install"}), "micromamba clean --all --yes",
            "/opt/conda/pkgs", "conda-clean"),
)


def check(ctx: Context) -> Iterator[Finding]:
    for info in runs(ctx):
        facts = info.script.packages
        for fact in facts:
            if fact.manager == "pip" and fact.action == "install":
                yield from _pip(ctx, info, fact)
            elif fact.manager == "gem" and fact.action == "install" and fact.tool == "gem":
                yield from _option(ctx, info, fact, GEM, "--no-document", ("no-document",), "gem-no-document",
                                   lambda f: f.has("no-ri") and f.has("no-rdoc"))
            elif fact.manager == "composer" and fact.action == "install":
                yield from _option(ctx, info, fact, COMPOSER, "--no-cache", ("no-cache",), "composer-no-cache")
            if _uv_install(fact):
                yield from _uv(ctx, info, fact)
        managers = {fact.manager for fact in facts}
        for spec in APPENDS:
            if spec.manager in managers:  # most RUNs use none of them: skip the scan
                yield from _append(ctx, info, spec)


def _pip(ctx: Context, info: RunInfo, fact: PackageFact) -> Iterator[Finding]:
    if fact.tool == "uv pip" or fact.has("no-cache") or fact.anchor is None:
        return
    if cache_mount_covers(info.instruction, "/root/.cache/pip") or cache_mount_covers(info.instruction, "/root/.cache"):
        return
    if truthy(env_value(ctx, info.stage, info.outer, "PIP_NO_CACHE_DIR")):
        return
    command = info.script.commands[fact.command]
    given = [o for o in fact.options if o.name == "--cache-dir"]
    if any(o.value and cache_mount_covers(info.instruction, o.value) for o in given):
        return  # the cache it was told to use is a cache mount, not the layer
    # pip reads its options in order and the last of --cache-dir/--no-cache-dir wins: after a
    # `--cache-dir DIR` that follows the subcommand, or the cache still goes to DIR
    later = [o for o in given if o.words[0].text_start > fact.anchor.text_start]
    fix = option_fix(ctx, info, later[-1].words[-1] if later else fact.anchor, "--no-cache-dir", PIP)
    yield Finding(PIP, f"`{fact.tool} install` without `--no-cache-dir` keeps its download cache in the layer",
                  command.start, fact.anchor.end, fix, saving("pip-no-cache"))


def _uv_install(fact: PackageFact) -> bool:
    if fact.tool == "uv pip":
        return fact.anchor is not None and fact.anchor.value in _UV_INSTALLS["pip"]
    return fact.manager == "uv" and fact.tool == "uv" and fact.action in _UV_INSTALLS["uv"]


def _uv(ctx: Context, info: RunInfo, fact: PackageFact) -> Iterator[Finding]:
    """SF408: a uv install whose cache would stay in the layer gets ``--no-cache``."""
    if fact.anchor is None or fact.has("no-cache") or any(o.name in ("-n", "--no-cache") for o in fact.options):
        return
    if truthy(fact.env.get("UV_NO_CACHE")) or truthy(env_value(ctx, info.stage, info.outer, "UV_NO_CACHE")):
        return
    if any(c.manager == "uv" and c.start > fact.start for c in info.script.cleanups):
        return  # `uv cache clean` after it
    told = [o.value for o in fact.options if o.name == "--cache-dir" and o.value]
    told += [value] if (value := fact.env.get("UV_CACHE_DIR")) else []
    variable = env_value(ctx, info.stage, info.outer, "UV_CACHE_DIR")
    told += [variable] if variable else []
    folders = told or ["/root/.cache/uv", "/root/.cache"]
    if any(cache_mount_covers(info.instruction, folder) for folder in folders) or _cache_mount_for(info, "uv"):
        return
    if not layers_are_reused(ctx, info.stage):
        return
    command = info.script.commands[fact.command]
    fix = option_fix(ctx, info, fact.anchor, "--no-cache", UV)
    subcommand = " ".join(word.value for word in fact.subcommand) or fact.anchor.value
    yield Finding(UV, f"`{fact.tool} {subcommand}` without `--no-cache` keeps uv's cache in the layer",
                  command.start, fact.anchor.end, fix, saving("uv-no-cache"))


def _option(ctx: Context, info: RunInfo, fact: PackageFact, rule: Rule, option: str, traits: tuple[str, ...],
            saving_key: str, already=lambda f: False) -> Iterator[Finding]:
    if fact.anchor is None or any(fact.has(t) for t in traits) or already(fact):
        return
    command = info.script.commands[fact.command]
    fix = option_fix(ctx, info, fact.anchor, option, rule)
    yield Finding(rule, f"`{fact.tool} {fact.anchor.value}` without `{option}`", command.start, fact.anchor.end,
                  fix, saving(saving_key))


def _append(ctx: Context, info: RunInfo, spec: _Append) -> Iterator[Finding]:
    facts = [f for f in info.script.packages if f.manager == spec.manager and f.tool in spec.tools]
    installs = [f for f in facts if f.action in spec.actions]
    if not installs or not layers_are_reused(ctx, info.stage):
        return
    last_install = installs[-1]
    if any(f.action == "clean" and f.start > last_install.start for f in facts):
        return
    if any(c.manager == spec.manager and c.start > last_install.start for c in info.script.cleanups):
        return
    if cache_mount_covers(info.instruction, spec.cache) or _cache_mount_for(info, spec.manager):
        return
    tool = last_install.tool
    command = info.script.commands[last_install.command]
    text = _told_where(spec.cleanup.format(tool=tool), command, last_install, spec)
    fix = append_fix(ctx, info, last_command_of(info, facts), text, spec.rule, declares=_told_folder(command, last_install, spec))
    yield Finding(spec.rule, f"`{tool} {last_install.action}` leaves its cache in the layer; run `{text}` after it",
                  command.start, command.end, fix, saving(spec.saving_key))


def _told_where(cleanup: str, command: Command, install: PackageFact, spec: _Append) -> str:
    """``cleanup`` with the cache location the install's own command line gives (its option
    words as written, its ``NAME=value`` prefix): ``npm cache clean --force --cache /tmp/npm``."""
    options = [" ".join(w.raw for w in o.words) for o in install.options if o.name in spec.location_options]
    prefix = [a.raw for a in command.assignments if a.name in spec.location_variables]
    return " ".join([*prefix, cleanup, *options[-1:]])


def _told_folder(command: Command, install: PackageFact, spec: _Append) -> frozenset[str]:
    """What the cleanup removes outside the application when the install was told an absolute
    cache folder (``cleans:/tmp/npm/**``, for ``slimfile verify``; the default ones are in its
    ignore list). npm, yarn and pnpm take the option over the variable, the last of each; a
    relative or variable folder declares nothing: verify then reports it."""
    options = [o for o in install.options if o.name in spec.location_options]
    assignments = [a for a in command.assignments if a.name in spec.location_variables]
    if options:
        told = options[-1]
        folder = told.value if all(w.static for w in told.words) else None
    elif assignments:
        assigned = assignments[-1]
        folder = assigned.value_text if assigned.value is None or assigned.value.static else None
    else:
        folder = None
    if not folder or not folder.startswith("/"):
        return frozenset()
    return frozenset({f"cleans:{folder}", f"cleans:{folder.rstrip('/')}/**"})


def _cache_mount_for(info: RunInfo, manager: str) -> bool:
    """Any cache/tmpfs mount whose target mentions the manager (``/root/.npm``, ``.cache/yarn``)."""
    for flag in info.instruction.flags:
        if flag.name == "mount" and flag.argument and ("type=cache" in flag.argument or "type=tmpfs" in flag.argument):
            if manager in flag.argument:
                return True
    return False
