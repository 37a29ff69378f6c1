"""The base-image pass (SF801/SF802) over the shared corpus: what the FROMs name and what slimfile
decides for each, with the reasons of every refusal.

For every Dockerfile in ``../shared/corpus/files``: each FROM is a stage reference, ``scratch``,
an image the catalog knows (``data/images.toml``), another image, or unresolved (a variable
without a default). For the catalog's images on the stages the final image is built from, SF801
decides: swap, swap and add tools, refused (grouped by reason), not editable (digest, ARG used
elsewhere), or nothing to do (already slim, or no smaller variant: golang, php, nginx...).
Then the same for SF802 under ``base-variant = "alpine"``. Prints Markdown (``--json`` for the
raw rows); ``--sample N`` lists N decisions of each outcome for review by hand.

    python benchmarks/base_images.py
    python benchmarks/base_images.py --sample 15
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from slimfile.analysis.context import Context
from slimfile.analysis.from_images import final_chain, from_images
from slimfile.analysis.images import counterparts
from slimfile.engine import Settings
from slimfile.passes.base_image import Decision, _alpine, slim_decision
from slimfile.syntax.errors import DockerfileError
from slimfile.syntax.parser import parse

CORPUS = ROOT.parent / "shared" / "corpus" / "files"


def reason_group(decision: Decision) -> str:
    """One category per refusal, from the first blocker (the facts, not the message)."""
    blockers = decision.verdict.blockers
    need = blockers[0].need
    if need.kind == "unknown":
        if "missing from the build context" in need.why or "not in the build context" in need.why or "build context is not known" in need.why:
            return "a manifest or script the corpus has no build context for"
        return "runs a program slimfile cannot read (downloaded or made by the build)"
    if any(p.startswith("image:") for p in blockers[0].packages):
        return "runs a JDK program on a JRE"
    if need.kind == "build":
        return "compiles with the full image's compiler or headers"
    return f"needs more than the allowed packages ({need.why})"


def analyse(path: Path) -> list[dict]:
    try:
        dockerfile = parse(path.read_bytes(), path=str(path))
    except DockerfileError:
        return [{"file": path.name, "kind": "unparsable"}]
    ctx = Context(dockerfile, Settings(unsafe_fixes=True))
    chain = {stage.index for stage in final_chain(ctx)}
    rows = []
    for entry in from_images(ctx):
        row = {"file": path.name, "line": entry.line, "image": entry.written, "kind": entry.kind}
        if entry.kind == "image":
            row["kind"] = "catalog" if entry.image is not None else "other image"
        row["ships"] = entry.stage.index in chain
        if entry.image is not None and row["ships"]:
            row.update(_slim(ctx, entry))
            row.update(_alpine_row(ctx, entry))
        rows.append(row)
    return rows


def _slim(ctx: Context, entry) -> dict:
    decision = slim_decision(ctx, entry)
    if decision is None:
        _found, reason = counterparts(entry.image, "slim")
        return {"outcome": "nothing to do", "detail": reason}
    out = {"outcome": decision.outcome, "target": decision.candidate.text}
    if decision.outcome == "refused":
        out["detail"] = reason_group(decision)
        out["why"] = [m.need.why for m in decision.verdict.blockers][:3]
    elif decision.outcome == "swap+add":
        out["detail"] = ", ".join(decision.verdict.add)
    elif decision.outcome == "not-editable":
        out["detail"] = decision.problem
    source, target = entry.image.size, decision.candidate.image.size
    if source and target and decision.outcome in ("swap", "swap+add"):
        out["saved"] = source - target
    return out


def _alpine_row(ctx: Context, entry) -> dict:
    findings = list(_alpine(ctx, entry))
    if not findings:
        return {"alpine": "nothing to do"}
    finding = findings[0]
    return {"alpine": "swap" if finding.fix is not None else "refused", "alpine_message": finding.message}


def markdown(rows: list[dict], files: int) -> str:
    kinds = Counter(r["kind"] for r in rows)
    shipped = [r for r in rows if r.get("ships") and r["kind"] == "catalog"]
    outcomes = Counter(r["outcome"] for r in shipped)
    reasons = Counter(r["detail"] for r in shipped if r["outcome"] == "refused")
    nothing = Counter(_nothing(r["detail"]) for r in shipped if r["outcome"] == "nothing to do")
    alpine = Counter(r["alpine"] for r in shipped)
    saved = sum(r.get("saved", 0) for r in shipped)
    lines = [
        f"Corpus: {files} Dockerfiles, {len(rows)} FROM instructions (`python benchmarks/base_images.py`).",
        "",
        "| FROM names | count |",
        "|---|---|",
    ]
    lines += [f"| {kind} | {count} |" for kind, count in kinds.most_common()]
    lines += [
        "",
        f"Official images the catalog knows, on stages the final image is built from: {len(shipped)}.",
        "",
        "| SF801 decision | count |",
        "|---|---|",
    ]
    lines += [f"| {outcome} | {count} |" for outcome, count in outcomes.most_common()]
    lines += ["", f"Estimated saving of the swaps (typical sizes, data/images.toml): {saved / 1e6:.0f} MB.", ""]
    if reasons:
        lines += ["| refused because | count |", "|---|---|"]
        lines += [f"| {reason} | {count} |" for reason, count in reasons.most_common()]
        lines.append("")
    if nothing:
        lines += ["| nothing to do because | count |", "|---|---|"]
        lines += [f"| {reason} | {count} |" for reason, count in nothing.most_common()]
        lines.append("")
    lines += ["| SF802 (base-variant = \"alpine\") | count |", "|---|---|"]
    lines += [f"| {outcome} | {count} |" for outcome, count in alpine.most_common()]
    return "\n".join(lines) + "\n"


def _nothing(detail: str) -> str:
    if "is already" in detail:
        return "already the smaller variant (slim, JRE, Alpine) or distroless"
    if "is built on" in detail:
        return "built on Alpine, Windows or another distribution"
    return detail.split(":")[0].split(" (")[0]  # "<repository> has no slim variant"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print every FROM's row as JSON")
    parser.add_argument("--sample", type=int, default=0, help="also list N decisions of each outcome, for review")
    args = parser.parse_args(argv)
    files = sorted(p for p in CORPUS.iterdir() if p.is_file())
    rows = [row for path in files for row in analyse(path)]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(markdown(rows, len(files)), end="")
    if args.sample:
        shipped = [r for r in rows if r.get("ships") and r["kind"] == "catalog"]
        for outcome in ("swap", "swap+add", "refused", "not-editable"):
            chosen = [r for r in shipped if r["outcome"] == outcome][: args.sample]
            if chosen:
                print(f"\n### {outcome}\n")
                for r in chosen:
                    extra = "; ".join(r.get("why", [])) or r.get("detail", "")
                    print(f"- `{r['file']}` line {r['line']}: `{r['image']}` -> `{r.get('target', '')}` {extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
