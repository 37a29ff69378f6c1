"""Which files of the final image are the application's own: the ones the Dockerfile copies in.

Files copied from the build context are known exactly (the context is listed with Docker's
``.dockerignore`` rules and each COPY/ADD source is expanded against it). Files copied from
another stage (``COPY --from``), from a URL or out of an archive are only known by their
destination, so everything under that destination counts.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from slimfile.analysis.build_context import ContextListing
from slimfile.analysis.globs import clean_path, matches
from slimfile.syntax.gocompat import go_split_whitespace
from slimfile.syntax.nodes import Instruction
from slimfile.syntax.stages import Stage

_GLOB_CHARS = re.compile(r"[*?\[]")
_VARIABLE = re.compile(r"\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?::?-(?P<default>[^}]*))?\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")
_ARCHIVE_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst")


@dataclass(frozen=True)
class CopyStep:
    """A COPY or ADD with its destination resolved against WORKDIR (relative to the image root)."""

    keyword: str
    sources: tuple[str, ...]
    dest: str  # cleaned, relative to "/", "" is the root
    dest_is_dir: bool
    from_stage: str | None
    line: int
    stage: str

    @property
    def from_context(self) -> bool:
        return self.from_stage is None and not any(_is_remote(s) for s in self.sources)


def copy_steps(chain: list[Stage], base_workdir: str = "/", global_env: dict[str, str] | None = None) -> list[CopyStep]:
    """The COPY/ADD instructions of the stage chain in build order."""
    env = dict(global_env or {})
    workdir = base_workdir or "/"
    steps: list[CopyStep] = []
    for stage in chain:
        for instruction in stage.instructions:
            name = instruction.name
            if name == "WORKDIR":
                workdir = posixpath.join("/", workdir, expand(instruction.args_text.strip(), env))
            elif name in ("ENV", "ARG"):
                env.update(assignments(instruction))
            elif name in ("COPY", "ADD"):
                step = _copy_step(instruction, stage, workdir, env)
                if step is not None:
                    steps.append(step)
    return steps


def _copy_step(instruction: Instruction, stage: Stage, workdir: str, env: dict[str, str]) -> CopyStep | None:
    words = list(instruction.json) if instruction.json is not None else [
        w.decode("utf-8", "surrogateescape") for w in go_split_whitespace(instruction.args)
    ]
    if len(words) < 2 or instruction.heredocs:
        return None
    words = [expand(w, env) for w in words]
    sources, dest = tuple(words[:-1]), words[-1]
    from_flag = instruction.flag("from")
    dest_is_dir = dest.endswith("/") or dest in (".", "./") or len(sources) > 1 or any(_GLOB_CHARS.search(s) for s in sources)
    return CopyStep(
        keyword=instruction.name,
        sources=sources,
        dest=clean_path(posixpath.join("/", workdir, dest)),
        dest_is_dir=dest_is_dir,
        from_stage=from_flag.argument if from_flag else None,
        line=instruction.start_line,
        stage=stage.label,
    )


def assignments(instruction: Instruction) -> dict[str, str]:
    """``ENV A=1 B=2`` / ``ENV A 1`` / ``ARG A=1``: values without their quotes, best effort."""
    text = instruction.args_text.strip()
    if instruction.name == "ENV" and "=" not in text.split(" ", 1)[0]:
        key, _, value = text.partition(" ")
        return {key: value.strip()}
    out = {}
    for word in text.split():
        key, sep, value = word.partition("=")
        if sep:
            out[key] = value.strip("\"'")
    return out


def expand(text: str, env: dict[str, str]) -> str:
    """Substitute ``$VAR``, ``${VAR}`` and ``${VAR:-default}`` the way the builder would."""

    def value(match: re.Match[str]) -> str:
        name = match.group("braced") or match.group("plain")
        if name in env:
            return env[name]
        return match.group("default") or ""

    return _VARIABLE.sub(value, text)


def _is_remote(source: str) -> bool:
    return source.startswith(("http://", "https://", "git@")) or source.endswith(".git")


def expand_sources(step: CopyStep, listing: ContextListing) -> list[tuple[str, str]]:
    """``(context path, image path)`` of every file and directory a context COPY/ADD puts in."""
    out: list[tuple[str, str]] = []
    dirs = set(listing.dirs)
    for source in step.sources:
        pattern = clean_path(source)
        for item in _matching(pattern, listing, dirs):
            if item == "" or item in dirs:
                out.extend(_tree(item, step.dest, listing))
            else:
                target = posixpath.join(step.dest, posixpath.basename(item)) if step.dest_is_dir else step.dest
                out.append((item, clean_path(target)))
    return out


def _matching(pattern: str, listing: ContextListing, dirs: set[str]) -> list[str]:
    if pattern == "":
        return [""]
    if not _GLOB_CHARS.search(pattern):
        return [pattern] if pattern in dirs or pattern in listing.files else []
    return [p for p in [*listing.dirs, *listing.files] if matches(pattern, p)]


def _tree(directory: str, dest: str, listing: ContextListing) -> list[tuple[str, str]]:
    """A directory source copies its contents (not itself) into the destination."""
    prefix = directory + "/" if directory else ""
    out = [(directory, dest)]
    for path in [*listing.dirs, *listing.files]:
        if path.startswith(prefix):
            out.append((path, clean_path(posixpath.join(dest, path[len(prefix) :]))))
    return out


class AppPaths:
    """Answers "is this image path one of the application's own files?"."""

    def __init__(self, exact: set[str], trees: set[str]) -> None:
        self.exact = exact
        self.trees = tuple(sorted(trees))

    def __call__(self, path: str) -> bool:
        path = clean_path(path)
        if path in self.exact:
            return True
        return any(path == tree or path.startswith(tree + "/") for tree in self.trees if tree)

    def to_dict(self) -> dict:
        return {"files": len(self.exact), "trees": ["/" + t for t in self.trees]}


def app_paths(steps: list[CopyStep], listing: ContextListing) -> AppPaths:
    exact: set[str] = set()
    trees: set[str] = set()
    for step in steps:
        if step.from_context and not (step.keyword == "ADD" and _has_archive(step)):
            exact.update(image_path for _context_path, image_path in expand_sources(step, listing))
        else:
            trees.add(step.dest)
    return AppPaths(exact, trees)


def _has_archive(step: CopyStep) -> bool:
    return any(s.lower().endswith(_ARCHIVE_SUFFIXES) for s in step.sources)
