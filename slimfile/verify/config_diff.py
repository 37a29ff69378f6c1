"""Differences between the run-time config of two images (what ``docker inspect`` shows as
``Config``): the part of an image that a rewrite must never change unless a fix says so."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CONFIG_FIELDS = (
    "Cmd", "Entrypoint", "Env", "WorkingDir", "User", "ExposedPorts", "Volumes", "Labels", "Healthcheck", "StopSignal",
    "Shell",
)


@dataclass(frozen=True)
class ConfigChange:
    field: str
    before: Any
    after: Any
    details: tuple[str, ...] = ()  # per-key differences for Env and Labels

    def describe(self) -> str:
        if self.details:
            return f"{self.field}: " + "; ".join(self.details)
        return f"{self.field}: {_show(self.before)} -> {_show(self.after)}"

    def to_dict(self) -> dict:
        return {"field": self.field, "before": self.before, "after": self.after, "details": list(self.details)}


def normalised(config: dict | None, name: str) -> Any:
    """A field in a form where equal meaning compares equal: Env and Labels as mappings,
    ExposedPorts and Volumes as sorted lists, and empty values as ``None``."""
    value = (config or {}).get(name)
    if name == "Env":
        value = env_mapping(value or [])
    elif name in ("ExposedPorts", "Volumes"):
        value = sorted(value or {})
    elif name == "Labels":
        value = dict(value or {})
    return value if value not in ([], {}, "", None) else None


def env_mapping(env: list[str]) -> dict[str, str]:
    """``["A=1", "B=2"]`` -> ``{"A": "1", "B": "2"}``; a later duplicate wins, as Docker does."""
    mapping: dict[str, str] = {}
    for item in env:
        key, _, value = item.partition("=")
        mapping[key] = value
    return mapping


def config_differences(before: dict | None, after: dict | None) -> list[ConfigChange]:
    changes = []
    for name in CONFIG_FIELDS:
        old, new = normalised(before, name), normalised(after, name)
        if old == new:
            continue
        details = _mapping_details(old or {}, new or {}) if name in ("Env", "Labels") else ()
        changes.append(ConfigChange(name, old, new, details))
    return changes


def _mapping_details(old: dict[str, str], new: dict[str, str]) -> tuple[str, ...]:
    details = []
    for key in sorted(old.keys() | new.keys()):
        if key not in new:
            details.append(f"{key} removed (was {old[key]!r})")
        elif key not in old:
            details.append(f"{key}={new[key]!r} added")
        elif old[key] != new[key]:
            details.append(f"{key}: {old[key]!r} -> {new[key]!r}")
    return tuple(details)


def _show(value: Any) -> str:
    return "(none)" if value is None else repr(value)
