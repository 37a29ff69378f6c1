"""The result of ``slimfile layers``: layers, waste items with their rules, the efficiency score,
and how the command went (exit code). Renderers (text, JSON, Markdown, HTML) only read it."""

from __future__ import annotations

from dataclasses import dataclass, field

from slimfile.layers.fixes import FIRES, PENDING, SILENT, RuleMatch
from slimfile.layers.origins import LayerOrigin
from slimfile.verify.build import BuildResult

SCHEMA = "slimfile-layers/1"
EXIT_OK, EXIT_BELOW_THRESHOLD, EXIT_ERROR = 0, 1, 2

GENERIC_CATEGORIES = ("deleted", "overwritten", "duplicate")  # no category of waste.toml claims them
KIND_TEXT = {
    "present": "in the final image",
    "deleted": "deleted by a later layer",
    "overwritten": "overwritten by a later layer",
    "duplicate": "same content as a file of an earlier layer",
}


@dataclass
class LayerReport:
    index: int  # 1-based, oldest first
    diff_id: str
    origin: LayerOrigin
    file_bytes: int  # regular file bytes in the layer's tar
    symlink_bytes: int
    files: int  # entries other than directories and whiteouts
    deleted_paths: int  # whiteouts and opaque directories
    waste_bytes: int = 0
    largest_files: list[tuple[str, int]] = field(default_factory=list)
    largest_folders: list[tuple[str, int, int]] = field(default_factory=list)
    fixes: list[RuleMatch] = field(default_factory=list)  # findings on this instruction

    @property
    def history_size(self) -> int:
        return self.origin.history_size

    @property
    def label(self) -> str:
        """What made the layer, for people: the Dockerfile line, or the base image."""
        if self.origin.origin == "base":
            return f"base image: {self.origin.history_text or '(imported filesystem)'}"
        return self.origin.history_text

    def to_dict(self) -> dict:
        o = self.origin
        return {
            "index": self.index,
            "diff_id": self.diff_id,
            "origin": o.origin,
            "instruction": o.history_text,
            "line": o.line,
            "end_line": o.end_line,
            "stage": o.stage,
            "history_size": o.history_size,
            "file_bytes": self.file_bytes,
            "symlink_bytes": self.symlink_bytes,
            "files": self.files,
            "deleted_paths": self.deleted_paths,
            "waste_bytes": self.waste_bytes,
            "largest_files": [{"path": p, "bytes": b} for p, b in self.largest_files],
            "largest_folders": [{"path": p, "bytes": b, "files": n} for p, b, n in self.largest_folders],
            "fixes": [f.to_dict() for f in self.fixes],
        }


@dataclass
class WasteItem:
    layer: int  # 1-based index of the layer that holds the bytes
    kind: str  # present, deleted, overwritten, duplicate
    category: str
    title: str
    bytes: int
    files: int
    examples: list[tuple[str, int]]
    line: int | None  # the instruction that made the bytes (a base layer: its FROM line)
    instruction: str
    from_base: bool
    other_layer: int | None = None  # the layer that hid them, or that holds the first copy
    other_line: int | None = None
    rule: RuleMatch | None = None

    def describe(self) -> str:
        """``apt package lists and caches, deleted by line 4``; hidden bytes and duplicates
        that no category claims are just "files"."""
        title = "files" if self.category in GENERIC_CATEGORIES else self.title
        if self.kind == "present":
            return f"{title}, in the final image"
        other = f"line {self.other_line}" if self.other_line is not None else f"layer {self.other_layer}"
        if self.kind == "duplicate":
            return f"{title} with the same content as files of {other}"
        return f"{title}, {self.kind} by {other}"

    def to_dict(self) -> dict:
        return {
            "layer": self.layer,
            "line": self.line,
            "instruction": self.instruction,
            "from_base_image": self.from_base,
            "kind": self.kind,
            "category": self.category,
            "title": self.title,
            "bytes": self.bytes,
            "files": self.files,
            "examples": [{"path": p, "bytes": b} for p, b in self.examples],
            "other_layer": self.other_layer,
            "other_line": self.other_line,
            "rule": self.rule.to_dict() if self.rule else None,
        }


@dataclass
class RuleTotal:
    """One rule over the whole image: the bytes it would remove as measured, and the
    estimates of its findings."""

    code: str
    status: str
    name: str | None
    measured_bytes: int = 0
    items: int = 0
    estimates: list[str] = field(default_factory=list)
    estimate_bytes: int | None = None

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "status": self.status,
            "measured_bytes": self.measured_bytes,
            "items": self.items,
            "estimates": self.estimates,
            "estimate_bytes": self.estimate_bytes,
        }


@dataclass
class LayersReport:
    image: str
    dockerfile: str | None = None
    context: str | None = None
    target: str | None = None
    engine: dict | None = None
    build: BuildResult | None = None
    built_tag: str | None = None
    image_id: str | None = None
    image_size: int | None = None  # ``docker image inspect`` Size
    layers: list[LayerReport] = field(default_factory=list)
    waste: list[WasteItem] = field(default_factory=list)
    final_bytes: int = 0
    final_files: int = 0
    hidden_bytes: int = 0
    base_image: str | None = None
    base_line: int | None = None
    mismatches: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    fail_under: float | None = None  # percent
    error: str | None = None
    error_log: list[str] = field(default_factory=list)
    interrupted: bool = False
    not_removed: list[str] = field(default_factory=list)

    # figures --------------------------------------------------------------------------------

    @property
    def total_bytes(self) -> int:
        """Bytes of every layer's files: what the image ships, hidden files included."""
        return sum(layer.file_bytes for layer in self.layers)

    @property
    def waste_bytes(self) -> int:
        return sum(item.bytes for item in self.waste)

    @property
    def efficiency(self) -> float:
        """The share of the image's bytes that are not waste (1.0 for an empty image)."""
        total = self.total_bytes
        return 1.0 if total == 0 else max(0.0, (total - self.waste_bytes) / total)

    @property
    def recoverable_bytes(self) -> int:
        """Measured waste that a fix slimfile proposes for this Dockerfile removes."""
        return sum(item.bytes for item in self.waste if item.rule is not None and item.rule.status == FIRES)

    def bytes_with_status(self, *statuses: str) -> int:
        return sum(item.bytes for item in self.waste if item.rule is not None and item.rule.status in statuses)

    @property
    def unruled_bytes(self) -> int:
        return sum(item.bytes for item in self.waste if item.rule is None)

    def rule_totals(self) -> list[RuleTotal]:
        totals: dict[str, RuleTotal] = {}
        seen_estimates: set[tuple[str, int | None, str | None]] = set()
        for item in self.waste:
            rule = item.rule
            if rule is None:
                continue
            total = totals.setdefault(rule.code, RuleTotal(rule.code, rule.status, rule.name))
            total.measured_bytes += item.bytes
            total.items += 1
            key = (rule.code, rule.line, rule.estimate)
            if rule.estimate and key not in seen_estimates:
                seen_estimates.add(key)
                total.estimates.append(rule.estimate)
                if rule.estimate_bytes is not None:
                    total.estimate_bytes = (total.estimate_bytes or 0) + rule.estimate_bytes
        order = {FIRES: 0, SILENT: 1, PENDING: 2}
        return sorted(totals.values(), key=lambda t: (order.get(t.status, 3), -t.measured_bytes))

    @property
    def exit_code(self) -> int:
        if self.error is not None or self.interrupted:
            return 130 if self.interrupted else EXIT_ERROR
        if self.fail_under is not None and self.efficiency * 100 < self.fail_under:
            return EXIT_BELOW_THRESHOLD
        return EXIT_OK

    def to_dict(self) -> dict:
        return {
            "schema": SCHEMA,
            "image": self.image,
            "image_id": self.image_id,
            "dockerfile": self.dockerfile,
            "context": self.context,
            "target": self.target,
            "engine": self.engine,
            "build": self.build.to_dict() if self.build else None,
            "exit_code": self.exit_code,
            "error": self.error,
            "error_log": self.error_log,
            "image_size": self.image_size,
            "total_bytes": self.total_bytes,
            "final_bytes": self.final_bytes,
            "final_files": self.final_files,
            "hidden_bytes": self.hidden_bytes,
            "waste_bytes": self.waste_bytes,
            "efficiency": round(self.efficiency, 6),
            "fail_under": self.fail_under,
            "recoverable_bytes": self.recoverable_bytes,
            "base_image": self.base_image,
            "base_line": self.base_line,
            "layers": [layer.to_dict() for layer in self.layers],
            "waste": [item.to_dict() for item in self.waste],
            "rules": [total.to_dict() for total in self.rule_totals()],
            "mismatches": self.mismatches,
            "notes": self.notes,
            "not_removed": self.not_removed,
        }
