"""Which paths a directory walk skips: default excludes, ``--exclude`` / ``--extend-exclude``
patterns and ``.gitignore`` files, all with gitignore semantics (deeper files win, ``!``
re-includes, a trailing ``/`` matches directories only)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

import pathspec

DEFAULT_EXCLUDE = (
    ".git",
    ".hg",
    ".svn",
    ".bzr",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    "node_modules",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
)


def _spec(lines: Iterable[str]) -> pathspec.GitIgnoreSpec:
    return pathspec.GitIgnoreSpec.from_lines(list(lines))


class IgnoreMatcher:
    def __init__(self, root: Path, exclude: Iterable[str], respect_gitignore: bool = True) -> None:
        self.root = root
        self.respect_gitignore = respect_gitignore
        self.exclude = _spec(exclude)
        self.layers: list[tuple[Path, pathspec.GitIgnoreSpec]] = []
        self.loaded: set[Path] = set()
        if respect_gitignore:
            for parent in self._parents_to_repo_root(root):
                self._load(parent)

    @staticmethod
    def _parents_to_repo_root(root: Path) -> list[Path]:
        """Directories above ``root`` up to the enclosing git repository's top, outermost first."""
        chain = []
        for candidate in [root, *root.parents]:
            chain.append(candidate)
            if (candidate / ".git").exists():
                return list(reversed(chain[1:]))
        return []

    def _load(self, directory: Path) -> None:
        if directory in self.loaded:
            return
        self.loaded.add(directory)
        files = [directory / ".gitignore"]
        if (directory / ".git").is_dir():
            files.append(directory / ".git" / "info" / "exclude")
        for file in files:
            try:
                lines = file.read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                continue
            self.layers.append((directory, _spec(lines)))
        self.layers.sort(key=lambda layer: len(layer[0].parts))

    def enter(self, directory: Path) -> None:
        """Pick up the ``.gitignore`` of a directory the walk enters."""
        if self.respect_gitignore:
            self._load(Path(os.path.abspath(directory)))

    def ignored(self, path: Path, *, is_dir: bool) -> bool:
        path = Path(os.path.abspath(path))
        rel = _relative(path, self.root)
        if rel is not None:
            probe = rel + ("/" if is_dir else "")
            if self.exclude.match_file(probe) or self.exclude.match_file(path.name + ("/" if is_dir else "")):
                return True
        verdict = None
        for base, spec in self.layers:
            rel_base = _relative(path, base)
            if rel_base is None:
                continue
            result = spec.check_file(rel_base + ("/" if is_dir else ""))
            if result.include is not None:
                verdict = result.include
        return bool(verdict)


def _relative(path: Path, base: Path) -> str | None:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return None
