"""The multi-stage split (SF901) over the shared corpus: how many files get a split, how many
are refused and why, and whether the outputs re-parse, are idempotent and keep every comment.

The corpus files come without their build contexts, so each file is measured twice: with the
context unknown (what a user gets from standard input: unsafe splits that keep every copied
file), and with the corpus folder as the context (what `slimfile fix FILE` does there: the
manifests and sources a recipe reads are missing, so those splits are refused).

    python benchmarks/splits.py [--corpus DIR]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from slimfile.engine import Settings, fix_source, lint
from slimfile.syntax.parser import parse

DEFAULT_CORPUS = Path(__import__("os").environ.get("SLIMFILE_SHARED", ROOT.parent / "shared")) / "corpus" / "files"


def measure(corpus: Path, context: str | None) -> dict:
    settings = Settings(unsafe_fixes=True, build_context=context, select=frozenset({"SF901"}))
    counts: Counter[str] = Counter()
    recipes: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    problems: list[str] = []
    for path in sorted(p for p in corpus.iterdir() if p.is_file()):
        source = path.read_bytes()
        tree = parse(source, path=str(path))
        counts["files"] += 1
        counts["single-stage"] += len(tree.stages.stages) == 1
        for finding in lint(tree, settings):
            if finding.fix is not None:
                counts["split"] += 1
                recipes[finding.message.split(": a release stage with ")[-1].split(" on ")[0]] += 1
            else:
                counts["refused"] += 1
                reasons[finding.message.split("not split: ")[-1]] += 1
        result = fix_source(source, str(path), settings)
        if result.changed:
            again = fix_source(result.output, str(path), settings)
            if again.output != result.output:
                problems.append(f"{path.name}: not idempotent")
            comments = [line for line in source.splitlines() if line.lstrip().startswith(b"#")]
            if any(comment not in result.output for comment in comments):
                problems.append(f"{path.name}: a comment was lost")
        problems += [f"{path.name}: dropped fix ({r.reason})" for r in result.rejected]
    return {"counts": counts, "recipes": recipes, "reasons": reasons, "problems": problems}


def report(title: str, data: dict) -> None:
    counts = data["counts"]
    print(f"## {title}")
    print(f"files {counts['files']}, single-stage {counts['single-stage']}, split {counts['split']}, refused {counts['refused']}")
    for what, n in data["recipes"].most_common():
        print(f"  split: {n} x {what}")
    for reason, n in data["reasons"].most_common():
        print(f"  refused: {n} x {reason}")
    print(f"problems: {len(data['problems'])}")
    for problem in data["problems"]:
        print(f"  {problem}")
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args(argv)
    unknown = measure(args.corpus, str(args.corpus / "no-such-context"))
    present = measure(args.corpus, None)
    report("build context unknown (standard input)", unknown)
    report("the corpus folder as the build context", present)
    return 1 if unknown["problems"] or present["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
