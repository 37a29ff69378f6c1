"""The warm rebuild: change one line of an application source file, rebuild, count the steps
the cache still served. Cache-order fixes exist to raise that number.

The file is one the Dockerfile copies in, taken from the last COPY/ADD of the build context that
copies a source file (dependency manifests and lockfiles are skipped: changing them is a
dependency change, not an edit). The change is one comment line appended in the file's own
comment syntax (after a blank line), so that compilers and format checks still accept it, and
the file is restored byte for byte, with its times, when the rebuild ends, fails or is
interrupted (Ctrl-C, SIGTERM, SIGHUP).
"""

from __future__ import annotations

import os
import posixpath
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from slimfile.signals import Interrupted, act_on_held, stop_signals_held, stop_signals_raise
from slimfile.verify.app_files import ContextListing, CopyStep, expand_sources
from slimfile.verify.build import BuildResult, run_build
from slimfile.verify.docker_engine import Engine

__all__ = ["Interrupted", "Probe", "WarmRebuild", "one_line_change", "pick_probe", "warm_rebuild"]

PROBE_TEXT = "slimfile verify: warm-rebuild probe {token} (removed again after the build)"

DEPENDENCY_FILES = frozenset(
    {
        "requirements.txt", "constraints.txt", "pipfile", "pipfile.lock", "pyproject.toml", "poetry.lock",
        "setup.py", "setup.cfg", "uv.lock", "package.json", "package-lock.json", "npm-shrinkwrap.json",
        "yarn.lock", "pnpm-lock.yaml", ".npmrc", ".yarnrc", "go.mod", "go.sum", "gemfile", "gemfile.lock",
        "composer.json", "composer.lock", "cargo.toml", "cargo.lock", "pom.xml", "build.gradle",
        "build.gradle.kts", "settings.gradle", "mix.exs", "mix.lock", "dockerfile", ".dockerignore",
    }
)

# comment markers by file suffix: only files with one of these suffixes are changed
COMMENT_STYLES = {
    "#": (".py", ".sh", ".bash", ".rb", ".pl", ".r", ".yaml", ".yml", ".toml", ".conf", ".cfg", ".txt", ".env", ".ex", ".exs"),
    "//": (".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".go", ".c", ".h", ".cc", ".cpp", ".hpp", ".java", ".kt", ".rs", ".cs", ".swift", ".scala", ".dart"),
    "--": (".sql", ".lua", ".hs"),
    "<!--": (".html", ".htm", ".xml", ".svg", ".md", ".vue"),
    "/*": (".css", ".scss", ".less"),
}
_SOURCE_SUFFIXES = {suffix for suffixes in COMMENT_STYLES.values() for suffix in suffixes} - {".txt", ".md", ".yaml", ".yml", ".toml", ".cfg", ".conf", ".env"}


@dataclass(frozen=True)
class Probe:
    """The file the warm rebuild changes, and why it was chosen."""

    path: Path  # absolute, in the user's context
    context_path: str  # relative to the context
    image_path: str
    line: int  # the COPY/ADD that copies it

    def to_dict(self) -> dict:
        return {"file": self.context_path, "image_path": "/" + self.image_path, "copied_by_line": self.line}


def pick_probe(steps: list[CopyStep], listing: ContextListing, context: Path) -> Probe | None:
    """A source file of the last context COPY/ADD that copies one; ``None`` when there is none."""
    for step in reversed([s for s in steps if s.from_context]):
        candidates = [
            (context_path, image_path)
            for context_path, image_path in expand_sources(step, listing)
            if comment_for(context_path) is not None and _editable(context, context_path)
        ]
        if candidates:
            context_path, image_path = min(candidates, key=_preference)
            return Probe(context / context_path, context_path, image_path, step.line)
    return None


def _preference(candidate: tuple[str, str]) -> tuple:
    """Source code first, shallow paths first, then by name (deterministic)."""
    context_path = candidate[0]
    suffix = posixpath.splitext(context_path)[1].lower()
    return (suffix not in _SOURCE_SUFFIXES, context_path.count("/"), context_path)


def _editable(context: Path, context_path: str) -> bool:
    name = posixpath.basename(context_path).lower()
    if name in DEPENDENCY_FILES or name.endswith(".lock") or name.startswith("requirements"):
        return False
    path = context / context_path
    if path.is_symlink() or not path.is_file() or not os.access(path, os.W_OK):
        return False
    with open(path, "rb") as handle:
        return b"\0" not in handle.read(8192)


def comment_for(path: str, token: str = "") -> str | None:
    """A comment line in the file's language, or ``None`` when the suffix is not known."""
    suffix = posixpath.splitext(path)[1].lower()
    for marker, suffixes in COMMENT_STYLES.items():
        if suffix in suffixes:
            closing = {"<!--": " -->", "/*": " */"}.get(marker, "")
            return f"{marker} {PROBE_TEXT.format(token=token)}{closing}"
    return None


def probe_line(path: str, original: bytes, token: str) -> bytes:
    """The bytes appended: the comment line, set off by a blank line (gofmt and other format
    checks that builds run reject a comment glued to the last statement).

    ``token`` makes every probe unique, so a rebuild can never be served from the cache of an
    earlier probe (the original's warm rebuild must not warm the rewritten one's)."""
    comment = comment_for(path, token) or ""
    newline = b"\r\n" if b"\r\n" in original else b"\n"
    if not original or original.endswith(newline + newline):
        lead = b""
    elif original.endswith(b"\n"):
        lead = newline
    else:
        lead = newline + newline
    return lead + comment.encode() + newline


@dataclass
class WarmRebuild:
    probe: Probe | None
    build: BuildResult | None
    note: str = ""

    def to_dict(self) -> dict:
        data: dict = {"probe": self.probe.to_dict() if self.probe else None, "note": self.note or None}
        if self.build is not None:
            data.update(self.build.to_dict())
        return data


def warm_rebuild(engine: Engine, dockerfile: Path, context: Path, tag: str, probe: Probe | None, **build_options) -> WarmRebuild:
    """Rebuild with the cache after the one-line change; the file is restored before returning."""
    if probe is None:
        return WarmRebuild(None, None, "not measured: no COPY/ADD of the build context copies an application source file")
    with one_line_change(probe.path):
        build = run_build(engine, dockerfile, context, tag, **build_options)
    return WarmRebuild(probe, build)


@contextmanager
def one_line_change(path: Path, token: str | None = None) -> Iterator[None]:
    """Append one line to ``path`` for the duration of the block, then put the file back exactly."""
    token = token or secrets.token_hex(6)
    times = path.stat()  # before reading: the read itself may update the access time
    original = path.read_bytes()
    with stop_signals_raise():
        try:
            with open(path, "ab") as handle:
                handle.write(probe_line(path.name, original, token))
            yield
        finally:
            with stop_signals_held() as held:  # a second Ctrl-C must not cut the restore short
                _restore(path, original, times.st_atime_ns, times.st_mtime_ns)
            act_on_held(held)


def _restore(path: Path, original: bytes, atime_ns: int, mtime_ns: int) -> None:
    with open(path, "r+b") as handle:  # same inode: permissions, owner and hard links stay
        handle.truncate(len(original))
        handle.seek(0)
        if handle.read() != original:
            handle.seek(0)
            handle.write(original)
            handle.truncate(len(original))
    os.utime(path, ns=(atime_ns, mtime_ns))
