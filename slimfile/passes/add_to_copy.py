"""ADD → COPY for local files and directories.

Before::

    ADD requirements.txt /app/
    ADD . /app

After::

    COPY requirements.txt /app/
    COPY . /app

ADD fetches URLs, clones git repositories and unpacks local tar archives; COPY only copies.
For plain files and directories both make the same layer, so COPY says what happens and
cannot surprise. URLs, git sources, archives, heredocs and ADD-only flags are left alone.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Iterator

from slimfile.analysis.context import Context
from slimfile.diagnostics import Finding, Rule
from slimfile.passes.common import saving
from slimfile.syntax.edits import Edit, Fix, Safety
from slimfile.syntax.gocompat import parse_words
from slimfile.syntax.nodes import Instruction
from slimfile.syntax.style import same_case

ADD_TO_COPY = Rule(
    code="SF601",
    name="add-to-copy",
    summary="ADD used for local files; COPY does the same without fetching or unpacking",
    fix_title="Replace ADD with COPY",
    related=("hadolint DL3020",),
    safety=Safety.SAFE,
    doc="""
## What it does
Finds `ADD` instructions whose sources are local files or directories, and replaces `ADD`
with `COPY`.

## Why is this bad?
`ADD` has two hidden behaviours: it downloads URLs and git repositories, and it unpacks
local tar archives (gzip, bzip2 and xz too), recognised by their *content*, not their name.
`COPY` only copies. For plain files both produce the same layer, so `COPY` states the intent
and cannot change behaviour when someone later drops an archive into the build context.

## Example
```dockerfile
ADD requirements.txt /app/
ADD . /app
```

## Use instead
```dockerfile
COPY requirements.txt /app/
COPY . /app
```

## Fix safety
Safe when every source could be checked in the build context (the Dockerfile's directory,
or `--context`) and none of them is a tar archive. Unsafe when a source cannot be checked
(it uses a variable, or the context is elsewhere): if it were an archive, `ADD` would have
unpacked it and `COPY` will not. Sources named like archives (`.tar`, `.tgz`, `.gz`, `.xz`,
...), URLs, git sources, heredocs and the ADD-only flags `--checksum`, `--keep-git-dir` and
`--unpack` are never touched.
""",
)

RULES = (ADD_TO_COPY,)

ARCHIVE_SUFFIXES = (
    ".tar", ".z", ".bz2", ".gz", ".lz", ".lzma", ".tz", ".tb2", ".tbz", ".tbz2", ".tgz", ".tlz",
    ".tpz", ".txz", ".xz", ".zst", ".tzst",
)
ADD_ONLY_FLAGS = frozenset({"checksum", "keep-git-dir", "unpack"})
REMOTE_PREFIXES = ("http://", "https://", "git@", "git://", "ssh://")
# magic numbers of what ADD unpacks: gzip, bzip2, xz, and a tar header's "ustar" at 257
_MAGIC = (b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00")


def check(ctx: Context) -> Iterator[Finding]:
    for instruction in ctx.dockerfile.instructions:
        if instruction.name == "ADD":
            finding = _finding(ctx, instruction)
            if finding is not None:
                yield finding


def _finding(ctx: Context, instruction: Instruction) -> Finding | None:
    if instruction.heredocs or any(f.name in ADD_ONLY_FLAGS for f in instruction.flags):
        return None
    sources = _sources(ctx, instruction)
    if not sources or any(_is_remote(s) or _named_like_archive(s) for s in sources):
        return None
    verdict = _local_verdict(ctx, sources)
    if verdict == "archive":
        return None
    start, end = instruction.keyword_source_span()
    safety = Safety.SAFE if verdict == "plain" else Safety.UNSAFE
    message = "Use COPY instead of ADD for local files and directories"
    if safety is Safety.UNSAFE:
        message += f" ({verdict})"
    return Finding(
        ADD_TO_COPY,
        message,
        start,
        end,
        Fix((Edit(start, end, same_case("COPY", instruction.keyword).encode()),), safety, ADD_TO_COPY.fix_title),
        saving("add-to-copy"),
    )


def _sources(ctx: Context, instruction: Instruction) -> list[str]:
    """Every argument but the destination, quotes removed."""
    if instruction.json is not None:
        words = list(instruction.json)
    else:
        words = [w.strip("\"'") for w in parse_words(instruction.args_text, ctx.dockerfile.escape)]
    return words[:-1] if len(words) >= 2 else []


def _is_remote(source: str) -> bool:
    """URLs and git references as buildkit recognises them; a local `.git` directory is local."""
    lowered = source.lower()
    return lowered.startswith(REMOTE_PREFIXES) or lowered.startswith("github.com/") or "://" in lowered


def _named_like_archive(source: str) -> bool:
    return source.lower().endswith(ARCHIVE_SUFFIXES)


def _local_verdict(ctx: Context, sources: list[str]) -> str:
    """"plain" when every source was found and none is an archive, "archive" when one is,
    otherwise the reason the sources could not be checked."""
    context = ctx.build_context
    if context is None:
        return "build context unknown: could not check that no source is an archive"
    for source in sources:
        if "$" in source:
            return f"could not check `{source}`: it uses a variable"
        matches = _expand(context, source)
        if not matches:
            return f"`{source}` not found in the build context {context}"
        for match in matches:
            if match.is_file() and _is_archive_file(match):
                return "archive"
    return "plain"


def _expand(context: Path, source: str) -> list[Path]:
    pattern = os.path.join(str(context), source.lstrip("/"))
    if glob.has_magic(source):
        return [Path(p) for p in sorted(glob.glob(pattern))]
    path = Path(pattern)
    return [path] if path.exists() else []


def _is_archive_file(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(512)
    except OSError:
        return True  # unreadable: assume the worst, leave ADD alone
    return head.startswith(_MAGIC) or head[257:262] == b"ustar"
