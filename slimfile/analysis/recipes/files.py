"""Runtime files: what a stage copied from the build context that its release still needs.

The application may read files at run time (templates, config, static assets, entrypoint
scripts), so everything a COPY brought goes to the release stage except what only builds the
application (``data/recipes.toml``). The result is the fewest COPY lines that cover exactly
those files: a folder whose files are all needed is copied whole.
"""

from __future__ import annotations

import fnmatch
import posixpath
from dataclasses import dataclass
from functools import lru_cache

from slimfile.analysis.build_context import ContextTooLarge
from slimfile.analysis.context import Context
from slimfile.analysis.globs import clean_path, leading_folders
from slimfile.analysis.steps import Step, expand
from slimfile.shell.data import load
from slimfile.syntax.gocompat import parse_words

MAX_COPIES = 24  # more lines than this: copy the copied folder whole


@dataclass(frozen=True)
class RuntimeCopy:
    """An image path of the build stage the release copies, and who owns it there."""

    path: str
    chown: str | None


@lru_cache(maxsize=1)
def _table() -> dict:
    return load("recipes")


def build_only(recipe: str) -> list[str]:
    return list(_table()["always"]) + list(_table().get(recipe, {}).get("build_only", ()))


def recipe_data(recipe: str) -> dict:
    return _table().get(recipe, {})


def _matches(path: str, patterns: list[str]) -> bool:
    parts = path.split("/")
    return any(fnmatch.fnmatchcase(part, pattern) for part in parts for pattern in patterns)


def runtime_copies(ctx: Context, steps: list[Step], recipe: str) -> list[RuntimeCopy] | str:
    """What the release must copy from the build stage besides the artefacts, or why that
    cannot be known (then the caller refuses)."""
    patterns = build_only(recipe)
    copies: list[RuntimeCopy] = []
    for step in steps:
        node = step.instruction
        if node.name not in ("COPY", "ADD"):
            continue
        if node.heredocs:
            return "a COPY writes a heredoc: slimfile does not tell whether the application reads it"
        from_flag = node.flag("from")
        chown = node.flag("chown")
        owner = chown.argument if chown else None
        destination = next(iter(step.effects.writes), None) if not step.effects.unknown else None
        if destination is None:
            return f"the destination of `{_short(node)}` (line {node.start_line}) is not known"
        if from_flag is not None:
            copies.append(RuntimeCopy(destination, owner))  # from another stage: whatever it is
            continue
        found = _context_copies(ctx, step, destination, owner, patterns)
        if isinstance(found, str):
            return found
        copies.extend(found)
    return _deduplicated(copies)


def _deduplicated(copies: list[RuntimeCopy]) -> list[RuntimeCopy]:
    """Each path once, and none inside a folder that is copied whole (a later COPY of the same
    path wins, as in the build: its owner counts)."""
    latest = {copy.path: copy for copy in copies}
    by_folder: dict[str, set[str]] = {}  # a path without its trailing slash -> the paths
    for path in latest:
        by_folder.setdefault(path.rstrip("/"), set()).add(path)
    return [
        copy
        for path, copy in latest.items()
        if not any(by_folder.get(folder, set()) - {path} for folder in leading_folders(path))
    ]


def _context_copies(ctx: Context, step: Step, destination: str, owner: str | None, patterns: list[str]) -> list[RuntimeCopy] | str:
    node = step.instruction
    files = ctx.build_files
    if files is None:
        # which of the copied files the application reads is not known: the release keeps them all
        return [RuntimeCopy(destination, owner)]
    words = list(node.json) if node.json is not None else parse_words(node.args_text, ctx.dockerfile.escape)
    sources = [expand(w.strip("\"'"), step.state.env) for w in words[:-1]]
    if any(s is None or "://" in s for s in sources):
        return f"`{_short(node)}` (line {node.start_line}) copies from a variable or a URL"
    try:
        listing = files.listing()
        globbed = any(ch in s for s in sources for ch in "*?[")
        if globbed:  # `COPY package*.json ./`: the paths the patterns name, as Docker expands them
            sources = [path for s in sources for path in (files.glob(s) if any(ch in s for ch in "*?[") else [s])]
    except ContextTooLarge as exc:
        return str(exc)
    out: list[RuntimeCopy] = []
    for source in sources:
        cleaned = clean_path(source)
        if cleaned and files.is_file(cleaned):
            if not _matches(cleaned, patterns):
                into_folder = len(sources) > 1 or globbed or _is_dir_destination(node)
                target = posixpath.join(destination, posixpath.basename(cleaned)) if into_folder else destination
                out.append(RuntimeCopy(target, owner))
            continue
        if cleaned and not files.is_dir(cleaned):
            return f"`{source}` of line {node.start_line} is not a plain file or folder of the build context"
        prefix = cleaned + "/" if cleaned else ""
        inside = [p[len(prefix):] for p in listing.files if p.startswith(prefix)]
        needed = {p for p in inside if not _matches(p, patterns)}
        for relative in _cover(inside, needed):
            out.append(RuntimeCopy(posixpath.normpath(posixpath.join(destination, relative)) if relative else destination, owner))
    if len(out) > MAX_COPIES:
        return [RuntimeCopy(destination, owner)]
    return out


def _is_dir_destination(node) -> bool:
    text = node.json[-1] if node.json is not None else node.args_text.split()[-1]
    return text.endswith("/") or text in (".", "./")


def _cover(files: list[str], needed: set[str]) -> list[str]:
    """The fewest paths (folders or files, relative) whose files are exactly ``needed``."""
    if not needed:
        return []
    if len(needed) == len(files):
        return [""]
    tree: dict[str, list[str]] = {}
    for path in files:
        head, _, rest = path.partition("/")
        tree.setdefault(head, []).append(rest)
    out = []
    for head, rests in sorted(tree.items()):
        if rests == [""]:  # a file
            if head in needed:
                out.append(head)
            continue
        sub_needed = {r for r in rests if f"{head}/{r}" in needed}
        out.extend(posixpath.join(head, p) if p else head for p in _cover(rests, sub_needed))
    return out


def _short(node) -> str:
    text = " ".join(node.logical.decode(node.keyword_start).split())
    return text if len(text) <= 40 else text[:37] + "..."
