"""Configuration: ``[tool.slimfile]`` in pyproject.toml, or ``slimfile.toml`` / ``.slimfile.toml``,
found hierarchically as ruff does (the closest one to each file wins, no merging between
files); command-line options override it.

Keys: ``select``, ``extend-select``, ``ignore``, ``unsafe-fixes``, ``per-file-ignores``
(a table of glob -> codes), ``exclude``, ``extend-exclude``, ``respect-gitignore``, ``timeout``
(seconds per file), and a ``preferences`` table for pass options (for example ``merge-runs``).
"""

from __future__ import annotations

import fnmatch
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from slimfile.files import read_limited
from slimfile.isolation import parse_timeout
from slimfile.syntax.errors import DockerfileError
from slimfile.textformats import toml_loads

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_NAMES = (".slimfile.toml", "slimfile.toml", "pyproject.toml")
KNOWN_KEYS = {
    "select",
    "extend-select",
    "ignore",
    "unsafe-fixes",
    "per-file-ignores",
    "exclude",
    "extend-exclude",
    "respect-gitignore",
    "preferences",
    "timeout",
}
KNOWN_PREFERENCES = {
    "merge-runs": ("small", "all"),
    "keep-ca-certificates": (True, False),
    "base-variant": ("slim", "alpine", "none"),
}


class ConfigError(DockerfileError):
    """A configuration file that cannot be used (bad TOML, unknown key or rule), or a bad option."""

    def __str__(self) -> str:
        return super().__str__() if self.path else self.message  # a command-line option: no file to name


@dataclass(frozen=True)
class FileConfig:
    path: str | None = None
    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    unsafe_fixes: bool | None = None
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    exclude: tuple[str, ...] | None = None
    extend_exclude: tuple[str, ...] = ()
    respect_gitignore: bool | None = None
    timeout: float | None = None  # seconds per file; 0.0 turns the budget off; None: not set here
    preferences: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def root(self) -> Path | None:
        return Path(self.path).parent if self.path else None

    def ignores_for(self, file: str) -> tuple[str, ...]:
        """Codes ignored for ``file`` by ``per-file-ignores`` (globs relative to the config)."""
        if not self.per_file_ignores:
            return ()
        absolute = Path(os.path.abspath(file))
        relative = absolute.as_posix()
        if self.root is not None:
            try:
                relative = absolute.relative_to(Path(os.path.abspath(self.root))).as_posix()
            except ValueError:
                pass
        codes: list[str] = []
        for pattern, pattern_codes in self.per_file_ignores:
            if fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(absolute.name, pattern):
                codes.extend(pattern_codes)
        return tuple(codes)


def find_config(start: Path) -> Path | None:
    """The closest config file at or above ``start`` (pyproject.toml only with [tool.slimfile])."""
    directory = start if start.is_dir() else start.parent
    directory = Path(os.path.abspath(directory))
    for candidate_dir in [directory, *directory.parents]:
        found = config_in(candidate_dir)
        if found is not None:
            return found
    return None


def config_in(directory: str | os.PathLike) -> Path | None:
    """The config file of ``directory`` itself, by precedence: .slimfile.toml, slimfile.toml,
    then pyproject.toml if it has a [tool.slimfile] table."""
    for name in CONFIG_NAMES:
        candidate = os.path.join(directory, name)  # strings: this runs for every directory walked
        if not os.path.isfile(candidate):
            continue
        if name == "pyproject.toml" and not _has_tool_table(Path(candidate)):
            continue
        return Path(candidate)
    return None


def _has_tool_table(path: Path) -> bool:
    """The pyproject.toml has a [tool.slimfile] table; one that is not valid TOML has one
    when a line of it names the table (``[tool.slimfile]``, ``[tool.slimfile.preferences]``,
    ``tool.slimfile.select = ...``): it is then the configuration, and loading it reports the
    error, as ruff and black do, instead of slimfile running without it."""
    try:
        data = _read_config_bytes(path)
    except OSError:
        return False
    if len(data) > MAX_CONFIG_BYTES:  # not parsed: loading it says it is too large
        return _NAMES_TOOL_TABLE.search(data[:MAX_CONFIG_BYTES].decode("utf-8", "replace")) is not None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    try:
        parsed = toml_loads(text)
    except tomllib.TOMLDecodeError:
        return _NAMES_TOOL_TABLE.search(text) is not None
    return isinstance(parsed.get("tool"), dict) and "slimfile" in parsed["tool"]


MAX_CONFIG_BYTES = 16 * 1024 * 1024  # a configuration is a few KB; a repository under review may hold anything


def _read_config_bytes(path: Path) -> bytes:
    """At most one byte more than ``MAX_CONFIG_BYTES``: a configuration is read before any
    file's time budget, so a huge one must not be read and parsed whole."""
    with path.open("rb") as handle:
        return read_limited(handle, MAX_CONFIG_BYTES)


_NAMES_TOOL_TABLE = re.compile(
    r"^[ \t]*(?:\[[ \t]*tool[ \t]*\.[ \t]*slimfile[ \t]*[\].]|tool[ \t]*\.[ \t]*slimfile[ \t]*\.)", re.MULTILINE
)


def load_config(path: Path, known_codes: Iterable[str] | None = None) -> FileConfig:
    try:
        raw = _read_config_bytes(path)
        if len(raw) > MAX_CONFIG_BYTES:
            raise ConfigError(f"configuration file is larger than {MAX_CONFIG_BYTES // (1024 * 1024)} MiB", path=str(path))
        data = toml_loads(raw.decode("utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read configuration: {exc.strerror}", path=str(path)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"invalid TOML: {exc}", path=str(path)) from None
    if path.name == "pyproject.toml":
        table = data.get("tool", {}).get("slimfile", {})
    else:
        table = data
    if not isinstance(table, dict):
        raise ConfigError("[tool.slimfile] must be a table", path=str(path))
    return parse_config_table(table, str(path), known_codes)


def parse_config_table(table: dict, path: str, known_codes: Iterable[str] | None = None) -> FileConfig:
    unknown = sorted(set(table) - KNOWN_KEYS)
    if unknown:
        raise ConfigError(f"unknown configuration key(s): {', '.join(unknown)} (known: {', '.join(sorted(KNOWN_KEYS))})", path=path)
    codes = list(known_codes) if known_codes is not None else None

    def code_list(key: str) -> tuple[str, ...] | None:
        if key not in table:
            return None
        value = table[key]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"'{key}' must be a list of rule codes", path=path)
        return validate_codes(value, codes, path, key)

    def str_list(key: str) -> tuple[str, ...] | None:
        if key not in table:
            return None
        value = table[key]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"'{key}' must be a list of strings", path=path)
        return tuple(value)

    def patterns(key: str) -> tuple[str, ...] | None:
        values = str_list(key)
        for value in values or ():
            check_exclude_pattern(value, f"'{key}'", path)
        return values

    def boolean(key: str) -> bool | None:
        if key not in table:
            return None
        if not isinstance(table[key], bool):
            raise ConfigError(f"'{key}' must be true or false", path=path)
        return table[key]

    per_file: list[tuple[str, tuple[str, ...]]] = []
    raw_pfi = table.get("per-file-ignores", {})
    if not isinstance(raw_pfi, dict):
        raise ConfigError("'per-file-ignores' must be a table of glob = [codes]", path=path)
    for pattern, value in raw_pfi.items():
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"per-file-ignores '{pattern}' must be a list of rule codes", path=path)
        per_file.append((pattern, validate_codes(value, codes, path, f"per-file-ignores.{pattern}")))
    timeout = None
    if "timeout" in table:
        try:
            timeout = parse_timeout(table["timeout"], "'timeout'") or 0.0
        except ValueError as exc:
            raise ConfigError(str(exc), path=path) from None
    preferences = table.get("preferences", {})
    if not isinstance(preferences, dict):
        raise ConfigError("'preferences' must be a table", path=path)
    for key, value in preferences.items():
        if key not in KNOWN_PREFERENCES:
            raise ConfigError(f"unknown preference '{key}' (known: {', '.join(sorted(KNOWN_PREFERENCES))})", path=path)
        if value not in KNOWN_PREFERENCES[key]:
            allowed = ", ".join(repr(v) for v in KNOWN_PREFERENCES[key])
            raise ConfigError(f"preference '{key}' must be one of {allowed}", path=path)
    return FileConfig(
        path=path,
        select=code_list("select"),
        extend_select=code_list("extend-select") or (),
        ignore=code_list("ignore") or (),
        unsafe_fixes=boolean("unsafe-fixes"),
        per_file_ignores=tuple(per_file),
        exclude=patterns("exclude"),
        extend_exclude=patterns("extend-exclude") or (),
        respect_gitignore=boolean("respect-gitignore"),
        timeout=timeout,
        preferences=dict(preferences),
    )


def check_exclude_pattern(pattern: str, key: str, path: str | None = None) -> None:
    """A ConfigError for an exclude pattern pathspec cannot read (``a\\``, ``[z-a]``)."""
    from slimfile.ignore import pattern_problem

    problem = pattern_problem(pattern)
    if problem:
        raise ConfigError(f"{key}: invalid pattern `{pattern}` ({problem})", path=path)


def validate_codes(values: Iterable[str], known: list[str] | None, path: str | None, key: str) -> tuple[str, ...]:
    """Upper-cased codes; each must be ALL or a prefix of at least one rule code."""
    out = []
    for raw in values:
        code = raw.strip().upper()
        if not code:
            continue
        if code != "ALL" and known is not None and not any(k.startswith(code) for k in known):
            raise ConfigError(f"unknown rule code '{raw}' in {key} (see `slimfile rules`)", path=path)
        out.append(code)
    return tuple(out)


def split_codes(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]
