"""git-style unified diffs (``a/`` and ``b/`` paths), byte-faithful: CRLF and invalid UTF-8
survive, and a missing final newline is marked as git marks it."""

from __future__ import annotations

import difflib

NO_NEWLINE = "\\ No newline at end of file\n"



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
    name = path.lstrip("/") if path != "-" else "-"
    out = []
    for line in difflib.unified_diff(old, new, f"a/{name}", f"b/{name}", n=context):
        if line.startswith(("---", "+++")):
            out.append(line.rstrip("\n") + "\n")
            continue
        if not line.endswith("\n"):
            line += "\n" + NO_NEWLINE
        out.append(line)
    return "".join(out).encode("utf-8", "surrogateescape")


def render_diffs(outcomes) -> bytes:
    """Every changed file's diff, in outcome order."""
    return b"".join(unified_diff(o.fix.source, o.fix.output, o.path) for o in outcomes if o.fix is not None)
