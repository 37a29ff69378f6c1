"""SF704-SF706 on the corpus, with synthetic build contexts (the corpus has Dockerfiles only).

The shared corpus is 207 Dockerfiles in one folder, without their repositories: their real
build contexts are unknown, and the folder itself (other Dockerfiles, MANIFEST.tsv) is no
realistic context. So each file is checked in a context of its own, made up of:

- every source its COPY/ADD instructions name (a file, or a folder for a name ending in ``/``),
  so the rules see what the build needs;
- a typical developer checkout's extras: ``.git/``, ``node_modules/``, a virtualenv
  ``.venv/`` (with ``pyvenv.cfg``), ``__pycache__/``, ``.DS_Store``, a ``.env`` that sets a
  value and a private key ``deploy/id_rsa``.

What it measures: how many files have a broad copy, get SF704 and SF705; per extra, how often
the proposal leaves it out and why it keeps it (from the proposed file's own comments); and
one invariant: once the proposal is written as ``.dockerignore``, SF706 (a COPY of something
the ignore file excludes) finds nothing, and SF704 no longer fires.

Usage: python benchmarks/context_rules.py    (figures in docs/benchmarks.md, "Build context")
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from slimfile.analysis.globs import clean_path  # noqa: E402
from slimfile.engine import Settings, check_source  # noqa: E402
from slimfile.syntax.errors import DockerfileError  # noqa: E402
from slimfile.syntax.gocompat import parse_words  # noqa: E402
from slimfile.syntax.parser import parse  # noqa: E402

CORPUS = Path(os.environ.get("SLIMFILE_SHARED", ROOT.parent / "shared")) / "corpus" / "files"
EXTRAS = {
    ".git/HEAD": "ref: refs/heads/main\n",
    "node_modules/left-pad/index.js": "module.exports = 1;\n",
    ".venv/pyvenv.cfg": "home = /usr/bin\n",
    "__pycache__/app.cpython-311.pyc": "bytecode\n",
    ".DS_Store": "finder\n",
    ".env": "SECRET_KEY=not-a-real-secret\n",
    "deploy/id_rsa": "-----BEGIN OPENSSH PRIVATE KEY-----\nnot a real key\n-----END OPENSSH PRIVATE KEY-----\n",
}
EXTRA_ENTRIES = {".git": ".git", "node_modules": "node_modules", ".venv": ".venv", "__pycache__": "**/__pycache__",
                 ".DS_Store": "**/.DS_Store", ".env": ".env", "deploy/id_rsa": "deploy/id_rsa"}
SETTINGS = Settings(unsafe_fixes=True, select=frozenset({"SF704", "SF705", "SF706"}))


def named_sources(source: bytes) -> list[str]:
    """Context paths the file's COPY/ADD name (variables and patterns left out)."""
    names = []
    for node in parse(source).instructions:
        node = node.effective
        if node.name not in ("COPY", "ADD") or node.flag("from") is not None or node.heredocs:
            continue
        words = list(node.json) if node.json is not None else parse_words(node.args_text, "\\")
        for word in words[:-1]:
            if "$" in word or "://" in word or re.search(r"[*?\[]", word):
                continue
            names.append(word.strip("\"'"))
    return names


def make_context(root: Path, source: bytes) -> None:
    for relative, text in EXTRAS.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for name in named_sources(source):
        cleaned = clean_path(name)
        if not cleaned:
            continue
        path = root / cleaned
        try:
            if name.endswith("/"):
                path.mkdir(parents=True, exist_ok=True)
            elif not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text("named by a COPY\n")
        except OSError:
            pass  # a name that clashes with an extra (a file where a folder is needed)


def main() -> None:
    files = sorted(p for p in CORPUS.iterdir() if p.is_file() and p.name != "NOTICE")
    counts: Counter[str] = Counter()
    left_out: Counter[str] = Counter()
    kept: Counter[tuple[str, str]] = Counter()
    broken: list[str] = []
    for corpus_file in files:
        source = corpus_file.read_bytes()
        try:
            named_sources(source)
        except DockerfileError:
            counts["unparsable"] += 1
            continue
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            make_context(root, source)
            dockerfile = root / "Dockerfile"
            dockerfile.write_bytes(source)
            findings = check_source(source, str(dockerfile), SETTINGS)
            codes = Counter(f.rule.code for f in findings)
            counts["files"] += 1
            counts.update({f"with {code}": 1 for code in codes})
            proposal = next((f for f in findings if f.rule.code == "SF704" and f.fix is not None), None)
            if proposal is None:
                continue
            (new,) = proposal.fix.creates
            text = new.content.decode().replace("\r\n", "\n")
            lines = set(text.splitlines())
            for entry, line in EXTRA_ENTRIES.items():
                if line in lines:
                    left_out[entry] += 1
                else:
                    reason = re.search(rf"^#   {re.escape(entry)}/?: (.*)$", text, re.MULTILINE)
                    if reason:
                        kept[(entry, re.sub(r"line \d+", "line N", reason.group(1)))] += 1
            Path(new.path).write_bytes(new.content)
            after = check_source(source, str(dockerfile), SETTINGS)
            counts["SF705 after the proposal"] += any(f.rule.code == "SF705" for f in after)
            if any(f.rule.code in ("SF704", "SF706") for f in after):
                broken.append(corpus_file.name)
    print(f"corpus files: {len(files)}, checked: {counts['files']}, unparsable: {counts['unparsable']}")
    for code in ("SF704", "SF705", "SF706"):
        print(f"  with {code}: {counts['with ' + code]}")
    print(f"  SF705 still reported once the proposal is written: {counts['SF705 after the proposal']}")
    print(f"  SF704 or SF706 after writing the proposal (must be 0): {len(broken)} {broken[:5]}")
    print("extras left out by the proposal / kept, and why:")
    for entry in EXTRA_ENTRIES:
        reasons = [(reason, n) for (name, reason), n in kept.items() if name == entry]
        detail = "; ".join(f"{n}x {reason}" for reason, n in sorted(reasons, key=lambda r: -r[1])[:4])
        print(f"  {entry:<16} left out {left_out[entry]:>4}  kept {sum(n for _, n in reasons):>4}  {detail}")


if __name__ == "__main__":
    main()
