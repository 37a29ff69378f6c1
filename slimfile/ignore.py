"""Which paths a directory walk skips: default excludes, ``--exclude`` / ``--extend-exclude``
patterns, the ``exclude`` settings of the configuration closest to each directory, and
``.gitignore`` files, all with gitignore semantics (deeper files win, ``!`` re-includes, a
trailing ``/`` matches directories only, a pattern without ``/`` matches at any depth).

Each exclude pattern is matched against the path relative to the directory it belongs to: the
walk root for command-line patterns and the defaults, the configuration file's directory for
patterns from a configuration file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterable, Sequence

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


class ExcludeRules:
    """Exclude patterns, each group anchored at its own base directory."""

    def __init__(self, layers: Sequence[tuple[Path, Iterable[str]]]) -> None:
        self.layers = [(Path(os.path.abspath(base)), _spec(patterns)) for base, patterns in layers]
        self.layers = [(base, spec) for base, spec in self.layers if len(spec.patterns)]

    def matches(self, path: Path, *, is_dir: bool) -> bool:
        suffix = "/" if is_dir else ""
        for base, spec in self.layers:
            rel = _relative(path, base)
            if rel is not None and rel and spec.match_file(rel + suffix):
                return True
        return False


# directory -> the exclude rules that apply to the entries inside it
ExcludeProvider = Callable[[Path], ExcludeRules]


class IgnoreMatcher:
    def __init__(
        self,
        root: Path,
        exclude: Iterable[str] = (),
        respect_gitignore: bool = True,
        exclude_for: ExcludeProvider | None = None,
    ) -> None:
        self.root = root
        self.respect_gitignore = respect_gitignore
        fixed = ExcludeRules([(root, tuple(exclude))])
        self.exclude_for: ExcludeProvider = exclude_for or (lambda _directory: fixed)
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

    def excluded(self, path: Path, *, is_dir: bool) -> bool:
        path = Path(os.path.abspath(path))
        return self.exclude_for(path.parent).matches(path, is_dir=is_dir)

    def excluded_with_parents(self, path: Path) -> bool:
        """For a file named on the command line (``--force-exclude``): it, or a directory it is
        in, is excluded."""
        path = Path(os.path.abspath(path))
        if self.excluded(path, is_dir=False):
            return True
        return any(self.excluded(parent, is_dir=True) for parent in path.parents if parent != parent.parent)

    def ignored(self, path: Path, *, is_dir: bool) -> bool:
        path = Path(os.path.abspath(path))
        if self.excluded(path, is_dir=is_dir):
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
