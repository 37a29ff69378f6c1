"""git-style unified diffs (``a/`` and ``b/`` paths), byte-faithful: CRLF and invalid UTF-8
survive, and a missing final newline is marked as git marks it."""

from __future__ import annotations

import difflib
import re

NO_NEWLINE = "\\ No newline at end of file\n"
HUNK_HEADER = re.compile(r"^@@ -(\d+)(,\d+)? \+(\d+)(,\d+)? @@")


def _split_keep(data: bytes) -> list[str]:
    """Split on \\n only (splitlines would also split on \\r, \\x0b, \\x1c, ... inside lines)."""
    text = data.decode("utf-8", "surrogateescape")
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def unified_diff(before: bytes, after: bytes, path: str, context: int = 3) -> bytes:
    """The diff between two versions of ``path``; empty when they are equal."""
    if before == after:
        return b""
    old, new = _split_keep(before), _split_keep(after)
    skipped, old, new = _trim_common_ends(old, new, context)
    name = path.lstrip("/") if path != "-" else "-"
    out = []
    for line in difflib.unified_diff(old, new, f"a/{name}", f"b/{name}", n=context):
        if line.startswith(("---", "+++")):
            out.append(line.rstrip("\n") + "\n")
            continue
        if skipped and line.startswith("@@"):
            line = _shift_hunk_header(line, skipped)
        if not line.endswith("\n"):
            line += "\n" + NO_NEWLINE
        out.append(line)
    return "".join(out).encode("utf-8", "surrogateescape")


def _trim_common_ends(old: list[str], new: list[str], context: int) -> tuple[int, list[str], list[str]]:
    """Drop the equal lines at both ends that no hunk shows (all but ``context`` of them).

    A fix touches a few lines of a file; without this, difflib compares every line of both
    versions, the slowest part of ``fix --diff`` on a monorepo. Returns how many lines were
    dropped at the top (hunk headers must count them) and the two middles."""
    limit = min(len(old), len(new))
    top = 0
    while top < limit and old[top] == new[top]:
        top += 1
    bottom = 0
    while bottom < limit - top and old[-1 - bottom] == new[-1 - bottom]:
        bottom += 1
    skip_top, skip_bottom = max(top - context, 0), max(bottom - context, 0)
    return skip_top, old[skip_top : len(old) - skip_bottom], new[skip_top : len(new) - skip_bottom]


def _shift_hunk_header(line: str, skipped: int) -> str:
    match = HUNK_HEADER.match(line)
    assert match is not None, line
    old_start, old_len, new_start, new_len = match.groups()
    shifted = f"@@ -{int(old_start) + skipped}{old_len or ''} +{int(new_start) + skipped}{new_len or ''} @@"
    return shifted + line[match.end() :]


def new_file_diff(path: str, content: bytes) -> bytes:
    """A diff that creates ``path`` (``--- /dev/null``), as ``git apply`` and ``patch -p1``
    read it; ``git diff`` writes the same hunk after its own ``diff --git`` header."""
    if not content:
        return b""
    name = path.lstrip("/")
    lines = _split_keep(content)
    out = ["--- /dev/null\n", f"+++ b/{name}\n", f"@@ -0,0 +1{'' if len(lines) == 1 else ',' + str(len(lines))} @@\n"]
    for line in lines:
        out.append("+" + line if line.endswith("\n") else "+" + line + "\n" + NO_NEWLINE)
    return "".join(out).encode("utf-8", "surrogateescape")


def fix_diff(result, path: str) -> bytes:
    """Everything a fix result changes: the Dockerfile's diff, then each file it creates."""
    parts = [unified_diff(result.source, result.output, path)]
    parts.extend(new_file_diff(new.path, new.content) for new in result.created)
    return b"".join(parts)


def render_diffs(outcomes) -> bytes:
    """Every changed file's diff, in outcome order (the workers made most of them already)."""
    return b"".join(outcome_diff(o) for o in outcomes if o.fix is not None)


def outcome_diff(outcome) -> bytes:
    """The diff of a fixed file: the one its worker rendered, else rendered now."""
    if outcome.diff is not None:
        return outcome.diff
    return fix_diff(outcome.fix, outcome.path)
