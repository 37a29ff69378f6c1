"""What verify found, as data (``to_dict`` for ``--json``) and as tables for people (rich).

Exit codes: 0 the rewrite is verified (it builds, and every difference was declared by a fix);
1 the rewritten Dockerfile does not build, or differs in a way no applied fix declared;
2 verify could not do its job (bad arguments, unparsable Dockerfile, no engine, or the original
Dockerfile does not build, also when it stops building while the rewrite is checked).

A build that fails is run once more (slimfile/verify/build.py); ``retried_builds`` names the
cold builds and warm rebuilds that needed it, so that a flaky network shows in the report
instead of in the verdict (the control and ``--per-fix`` builds are retried the same way).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from slimfile.verify.attribution import RuleSaving
from slimfile.verify.build import BuildResult
from slimfile.verify.cache import WarmRebuild
from slimfile.verify.config_diff import CONFIG_FIELDS, ConfigChange
from slimfile.verify.fs_diff import FsDiff
from slimfile.verify.layers import LayerChange, LayerRow
from slimfile.verify.run_compare import RunComparison
from slimfile.verify.verdict import Problem

EXIT_VERIFIED, EXIT_DIFFERENCE, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130
SCHEMA = "slimfile-verify/1"
INSTRUCTION_WIDTH = 70


@dataclass
class ImageFacts:
    """One built image: its cold build, warm rebuild, size, layers and config."""

    tag: str
    build: BuildResult
    warm: WarmRebuild | None = None
    size: int | None = None
    layers: int | None = None
    rows: list[LayerRow] = field(default_factory=list)
    config: dict | None = None

    def to_dict(self) -> dict:
        return {
            "tag": self.tag,
            "size": self.size,
            "layers": self.layers,
            "build": self.build.to_dict(),
            "warm_rebuild": self.warm.to_dict() if self.warm else None,
            "history": [row.to_dict() for row in self.rows],
            "config": {key: (self.config or {}).get(key) for key in CONFIG_FIELDS},
        }


@dataclass
class RewriteSummary:
    changed: bool
    applied: list[dict]  # code, name, line, safety, declares
    declares: list[str]
    rejected: list[str]

    @property
    def unsafe_applied(self) -> bool:
        return any(fix["safety"] == "unsafe" for fix in self.applied)


@dataclass
class VerifyReport:
    dockerfile: str
    context: str
    target: str | None
    unsafe_fixes: bool
    engine: dict = field(default_factory=dict)
    rewrite: RewriteSummary | None = None
    before: ImageFacts | None = None
    after: ImageFacts | None = None
    layer_changes: list[LayerChange] = field(default_factory=list)
    config_changes: list[ConfigChange] = field(default_factory=list)
    files: FsDiff | None = None
    app_paths: dict | None = None
    run: RunComparison | None = None
    per_fix: list[RuleSaving] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    error: str | None = None
    error_log: list[str] = field(default_factory=list)
    interrupted: bool = False
    built_images: list[str] = field(default_factory=list)  # every tag verify built
    kept_images: list[str] = field(default_factory=list)
    not_removed: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return EXIT_INTERRUPTED
        if self.error is not None:
            return EXIT_ERROR
        return EXIT_DIFFERENCE if self.problems else EXIT_VERIFIED

    @property
    def verdict(self) -> str:
        if self.interrupted:
            return "interrupted"
        if self.error is not None:
            return "error"
        if any(p.kind == "build" for p in self.problems):
            return "rewrite-does-not-build"
        return "undeclared-differences" if self.problems else "verified"

    def retried_builds(self) -> list[tuple[str, BuildResult]]:
        """The builds that failed once and were run again, with what they built."""
        found = []
        for label, facts in (("original", self.before), ("rewritten", self.after)):
            if facts is None:
                continue
            found.append((f"{label} (cold)", facts.build))
            if facts.warm is not None and facts.warm.build is not None:
                found.append((f"{label} (warm rebuild)", facts.warm.build))
        return [(label, build) for label, build in found if build.tries > 1]

    @property
    def size_delta(self) -> int | None:
        if self.before and self.after and self.before.size is not None and self.after.size is not None:
            return self.after.size - self.before.size
        return None

    @property
    def size_ratio(self) -> float | None:
        if self.before and self.after and self.before.size and self.after.size is not None:
            return self.after.size / self.before.size
        return None

    @property
    def layer_delta(self) -> int | None:
        if self.before and self.after and self.before.layers is not None and self.after.layers is not None:
            return self.after.layers - self.before.layers
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "dockerfile": self.dockerfile,
            "context": self.context,
            "target": self.target,
            "unsafe_fixes": self.unsafe_fixes,
            "engine": self.engine,
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "error": self.error,
            "error_log": self.error_log or None,
            "retried_builds": [label for label, _build in self.retried_builds()],
            "rewrite": None if self.rewrite is None else {
                "changed": self.rewrite.changed,
                "applied": self.rewrite.applied,
                "declares": self.rewrite.declares,
                "unsafe_applied": self.rewrite.unsafe_applied,
                "rejected": self.rewrite.rejected,
            },
            "before": self.before.to_dict() if self.before else None,
            "after": self.after.to_dict() if self.after else None,
            "comparison": {
                "size_delta": self.size_delta,
                "size_ratio": None if self.size_ratio is None else round(self.size_ratio, 4),
                "layer_delta": self.layer_delta,
                "layer_changes": [c.to_dict() for c in self.layer_changes if c.kind != "unchanged"],
                "config_changes": [c.to_dict() for c in self.config_changes],
                "files": self.files.to_dict() if self.files else None,
                "app_paths": self.app_paths,
                "run": self.run.to_dict() if self.run else None,
            },
            "per_fix": [saving.to_dict() for saving in self.per_fix],
            "problems": [p.to_dict() for p in self.problems],
            "images": {"built": self.built_images, "kept": self.kept_images, "not_removed": self.not_removed},
        }


def human_size(size: int | None) -> str:
    """Decimal units, as ``docker images`` prints them."""
    if size is None:
        return "-"
    sign = "-" if size < 0 else ""
    value = float(abs(size))
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{sign}{value:.0f} {unit}" if unit == "B" else f"{sign}{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def signed_size(delta: int | None) -> str:
    if delta is None:
        return "-"
    return ("+" if delta > 0 else "") + human_size(delta) if delta else "±0"
