"""How the cache-order rules (SF701, SF703) fare on the shared corpus: files that get a
manifest split or a move, and the installs left in place with the reasons, grouped.

The corpus has Dockerfiles only, no build contexts, so each file is fixed twice
(``--unsafe-fixes``, every rule selected):

- **context unknown** (``build_context`` is a folder that does not exist, as for a Dockerfile
  read from standard input): SF701 cannot read the manifests, so a split copies only the files
  the install command itself needs and is unsafe; SF703 moves need no context and stay safe;
- **as is** (the default: the Dockerfile's own folder, here ``corpus/files/`` with the other
  Dockerfiles and nothing else): the manifests are missing, so a split is refused ("package.json
  is not in the build context"), as it would be for a Dockerfile whose context is elsewhere and
  was not named with ``--context``.

    python benchmarks/cache_order_corpus.py [--show N]
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from slimfile.engine import Settings, fix_source  # noqa: E402
from slimfile.syntax.errors import DockerfileError  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "files"
MISSING_CONTEXT = str(ROOT / "benchmarks" / "no-such-build-context")
MODES = {"context unknown": MISSING_CONTEXT, "as is": None}

# refusal reasons (the text after "not moved: "), grouped: first match wins
REASON_GROUPS = (
    (r"is not in the build context", "a manifest is not in the build context"),
    (r"is excluded by \.dockerignore", "`.dockerignore` excludes a manifest"),
    (r"does not come from the copy", "a manifest is not under the copied folder"),
    (r"the build context sends", "the context sends what the install writes (`node_modules`...)"),
    (r"script \(`", "a lifecycle script may read other files"),
    (r"from a path|installs a local path|is a local path|reads a folder of the project|path of the project", "a local path dependency"),
    (r"workspace", "a workspace layout that cannot be listed"),
    (r"it would have to move past", "a step between the copy and the install does not commute with it"),
    (r"runs before it and slimfile does not know", "an earlier command of its RUN has unknown effects"),
    (r"runs before it and", "an earlier command of its RUN uses what the copy brings"),
    (r"cannot be split from the rest of its RUN", "the install cannot be split from the rest of its RUN"),
    (r"a directory slimfile cannot tell", "it runs in a directory slimfile cannot tell"),
    (r"adds named packages|points the install at another folder|installs every workspace", "the install is not a plain project install"),
)
_NOT_MOVED = re.compile(r"not moved: (?P<reason>.*)$")


@dataclass
class ModeFigures:
    files: int = 0
    unparsable: int = 0
    split: dict[str, list[str]] = field(default_factory=lambda: {"safe": [], "unsafe": []})  # SF701 applied
    moved: dict[str, list[str]] = field(default_factory=lambda: {"safe": [], "unsafe": []})  # SF703 only
    refused_files: set[str] = field(default_factory=set)
    reasons: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    rejected: list[str] = field(default_factory=list)  # fixes the engine's guard dropped


def group_of(reason: str) -> str:
    for pattern, group in REASON_GROUPS:
        if re.search(pattern, reason):
            return group
    return "other: " + re.sub(r"`[^`]*`", "`…`", reason)


def measure(build_context: str | None, corpus: Path = CORPUS) -> ModeFigures:
    figures = ModeFigures()
    for path in sorted(p for p in corpus.iterdir() if p.is_file()):
        figures.files += 1
        settings = Settings(unsafe_fixes=True, build_context=build_context)
        try:
            result = fix_source(path.read_bytes(), str(path), settings)
        except DockerfileError:
            figures.unparsable += 1
            continue
        applied = {f.rule.code: f for f in result.applied if f.rule.code in ("SF701", "SF703")}
        if "SF701" in applied:
            figures.split[applied["SF701"].fix.safety.value].append(path.name)
        elif "SF703" in applied:
            figures.moved[applied["SF703"].fix.safety.value].append(path.name)
        for finding in result.remaining:
            match = _NOT_MOVED.search(finding.message) if finding.rule.code == "SF701" and finding.fix is None else None
            if match:
                figures.refused_files.add(path.name)
                group = group_of(match["reason"])
                figures.reasons[group] += 1
                figures.examples.setdefault(group, []).append(f"{path.name}:{finding.line}: {match['reason']}")
        figures.rejected += [f"{path.name}: {r.finding.rule.code}: {r.reason}" for r in result.rejected if r.finding.rule.code.startswith("SF7")]
    return figures


def report(name: str, figures: ModeFigures, show: int) -> str:
    lines = [f"## {name}: {figures.files} files ({figures.unparsable} unparsable)"]
    for label, by_safety in (("manifest split (SF701)", figures.split), ("move only (SF703)", figures.moved)):
        total = sum(len(v) for v in by_safety.values())
        lines.append(f"{label}: {total} files ({len(by_safety['safe'])} safe, {len(by_safety['unsafe'])} unsafe)")
        for safety, names in by_safety.items():
            for file_name in names[:show]:
                lines.append(f"    {safety}: {file_name}")
    lines.append(f"installs left in place (SF701 without a fix): {sum(figures.reasons.values())} in {len(figures.refused_files)} files")
    for group, count in figures.reasons.most_common():
        lines.append(f"  {count:3d}  {group}")
        for example in figures.examples[group][:show]:
            lines.append(f"         e.g. {example}")
    lines.append(f"cache-order fixes dropped by the guard: {len(figures.rejected)}")
    lines += [f"    {item}" for item in figures.rejected[:show]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--show", type=int, default=3, help="list up to N files per figure")
    args = parser.parse_args(argv)
    for name, build_context in MODES.items():
        print(report(name, measure(build_context), args.show))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
