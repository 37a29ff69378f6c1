"""git-style unified diffs (``a/`` and ``b/`` paths), byte-faithful: CRLF and invalid UTF-8
survive, and a missing final newline is marked as git marks it.

difflib compares whole sequences, and its matching is quadratic when a long file has changes
all through it (a generated file with thousands of merged RUNs took longer to diff than to
fix). A file of ordinary size (``WHOLE_FILE``) is given to difflib whole, so the diff is
exactly what ``difflib.unified_diff`` prints. For a longer one, when the engine knows which
bytes its fixes changed (``FixResult.changes``), only the lines around those are given to
difflib, each stretch on its own, and the lines between them are equal by construction;
without that knowledge the equal lines at both ends are trimmed and the middle is compared as
one stretch. Both give a valid diff of the same texts in linear time, whose alignment may
differ from difflib's on the whole file (a blank line kept above rather than below a moved
block). Either way the hunks are grouped and printed as difflib does.
"""

from __future__ import annotations

import bisect
import difflib
from collections import Counter
from typing import Sequence

from slimfile.syntax.edits import Change

NO_NEWLINE = "\\ No newline at end of file\n"
# changed stretches are compared together by difflib when fewer than this many equal lines
# (or only "popular" ones) separate them: around a short gap difflib may align the lines
# another way than the fixes made them (a blank line kept above rather than below)
SEPARATE_AFTER = 7
# but a run of stretches is cut at its next gap once it spans this many lines
MAX_PIECE = 200
# files of at most this many old lines x new lines (about 200 x 200) are given to difflib whole
WHOLE_FILE = 40_000
# equal lines given to difflib around each piece
PADDING = 7
# a piece bigger than this (old lines x new lines) is shown as removed and added instead of
# being aligned by difflib, whose matching is quadratic in it
MAX_ALIGNED = 4_000_000

Opcode = tuple[str, int, int, int, int]


# what git quotes in a diff header (quote.c, ``sq_must_quote`` without core.quotePath's bytes
# over 0x7f): written as it is, a line break in a name ends the header and corrupts the patch
_QUOTED = {code: f"\\{code:03o}" for code in (*range(0x20), 0x7F)} | {
    0x07: "\\a", 0x08: "\\b", 0x09: "\\t", 0x0A: "\\n", 0x0B: "\\v", 0x0C: "\\f", 0x0D: "\\r",
    0x22: '\\"', 0x5C: "\\\\",
}


def header_path(path: str) -> str:
    """``path`` as git writes it after ``---`` / ``+++``: C-quoted when it holds a control
    character, ``"`` or ``\\``, which ``git apply`` and GNU patch unquote."""
    quoted = path.translate(_QUOTED)
    return path if quoted == path else f'"{quoted}"'


def _split_keep(data: bytes) -> list[str]:
    """Split on \\n only (splitlines would also split on \\r, \\x0b, \\x1c, ... inside lines)."""
    text = data.decode("utf-8", "surrogateescape")
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def unified_diff(
    before: bytes, after: bytes, path: str, context: int = 3, changes: Sequence[Change] | None = None
) -> bytes:
    """The diff between two versions of ``path``; empty when they are equal. ``changes`` says
    where ``after`` differs from ``before`` (see :func:`slimfile.syntax.edits.compose_changes`)."""
    if before == after:
        return b""
    old, new = _split_keep(before), _split_keep(after)
    if len(old) * len(new) <= WHOLE_FILE:
        popular = _popular_in(new)
        pieces = [(0, len(old), 0, len(new))]
    else:
        stretches = None if changes is None else _changed_stretches(old, new, before, after, changes)
        popular = _popular(old, new, context)
        pieces = [_trimmed_middle(old, new, context)] if stretches is None else _pieces(old, new, stretches, popular)
    opcodes = _opcodes(old, new, pieces, popular)
    name = path.lstrip("/") if path != "-" else "-"
    return _render(old, new, opcodes, name, context).encode("utf-8", "surrogateescape")


def _trimmed_middle(old: list[str], new: list[str], context: int) -> tuple[int, int, int, int]:
    """The lines between the equal lines at both ends that no hunk shows (all but ``context``
    of them): (old start, old end, new start, new end)."""
    top, bottom = _equal_ends(old, new)
    skip_top, skip_bottom = max(top - context, 0), max(bottom - context, 0)
    return skip_top, len(old) - skip_bottom, skip_top, len(new) - skip_bottom


def _equal_ends(old: list[str], new: list[str]) -> tuple[int, int]:
    """How many lines at the top and at the bottom the two texts share (never overlapping)."""
    limit = min(len(old), len(new))
    top = 0
    while top < limit and old[top] == new[top]:
        top += 1
    bottom = 0
    while bottom < limit - top and old[-1 - bottom] == new[-1 - bottom]:
        bottom += 1
    return top, bottom


def _popular(old: list[str], new: list[str], context: int) -> set[str]:
    """difflib's "popular" lines (more than 1% of the compared new lines, when there are at
    least 200), counted over the trimmed middle as a whole comparison would count them: they
    never start a match, whichever way the lines are split up."""
    _, _, start, end = _trimmed_middle(old, new, context)
    return _popular_in(new[start:end])


def _popular_in(compared: list[str]) -> set[str]:
    if len(compared) < 200:
        return set()
    limit = len(compared) // 100 + 1
    return {line for line, count in Counter(compared).items() if count > limit}


def _changed_stretches(
    old: list[str], new: list[str], before: bytes, after: bytes, changes: Sequence[Change]
) -> list[tuple[int, int, int, int]] | None:
    """The line ranges around each change, merged where they meet; None if the lines between
    them are not equal after all (the changes do not describe these texts)."""
    old_lines = _LineStarts(old, before)
    new_lines = _LineStarts(new, after)
    stretches: list[list[int]] = []
    for old_start, old_end, new_start, new_end in changes:
        clean_end = old_lines.at_start(old_end) and new_lines.at_start(new_end)
        stretch = [
            old_lines.index(old_start),
            old_lines.index(old_end) + (0 if clean_end else 1),
            new_lines.index(new_start),
            new_lines.index(new_end) + (0 if clean_end else 1),
        ]
        stretch[1] = min(max(stretch[1], stretch[0]), len(old))
        stretch[3] = min(max(stretch[3], stretch[2]), len(new))
        if stretches and (stretch[0] <= stretches[-1][1] or stretch[2] <= stretches[-1][3]):
            last = stretches[-1]
            last[1], last[3] = max(last[1], stretch[1]), max(last[3], stretch[3])
        else:
            stretches.append(stretch)
    old_at = new_at = 0
    for old_start, old_end, new_start, new_end in [*stretches, [len(old), len(old), len(new), len(new)]]:
        if old_start - old_at != new_start - new_at or old[old_at:old_start] != new[new_at:new_start]:
            return None
        old_at, new_at = old_end, new_end
    return [tuple(s) for s in stretches]


def _pieces(old: list[str], new: list[str], stretches, popular: set[str]) -> list[tuple[int, int, int, int]]:
    """The changed stretches, joined into the pieces difflib compares (see SEPARATE_AFTER),
    each with up to PADDING equal lines around it (never more than half the gap to the next
    piece): difflib may pair a changed line with an equal one nearby, as it would in the whole
    file (two identical lines, one of them changed)."""
    pieces = [list(stretches[0])]
    for stretch in stretches[1:]:
        piece = pieces[-1]
        gap = old[piece[1] : stretch[0]]
        size = max(piece[1] - piece[0], piece[3] - piece[2])
        if (len(gap) >= SEPARATE_AFTER and not popular.issuperset(gap)) or size >= MAX_PIECE:
            pieces.append(list(stretch))
        else:
            piece[1], piece[3] = stretch[1], stretch[3]
    padded = []
    for i, (old_start, old_end, new_start, new_end) in enumerate(pieces):
        before = old_start if i == 0 else (old_start - pieces[i - 1][1]) // 2
        after = len(old) - old_end if i == len(pieces) - 1 else (pieces[i + 1][0] - old_end - 1) // 2
        before, after = min(before, new_start, PADDING), min(after, len(new) - new_end, PADDING)
        padded.append((old_start - before, old_end + after, new_start - before, new_end + after))
    return padded


class _LineStarts:
    def __init__(self, lines: list[str], data: bytes) -> None:
        self.starts = []
        offset = 0
        for line in lines:
            self.starts.append(offset)
            offset += len(line.encode("utf-8", "surrogateescape"))
        self.data = data

    def index(self, offset: int) -> int:
        """The line holding byte ``offset`` (the line count at the end of the text)."""
        if offset >= len(self.data) and (not self.data or self.data.endswith(b"\n")):
            return len(self.starts)
        return bisect.bisect_right(self.starts, offset) - 1

    def at_start(self, offset: int) -> bool:
        return offset == 0 or self.data[offset - 1 : offset] == b"\n"


def _opcodes(old: list[str], new: list[str], pieces, popular: set[str]) -> list[Opcode]:
    """difflib opcodes for the whole texts: each piece aligned by difflib, equal between."""
    out: list[Opcode] = []
    old_at = new_at = 0
    for old_start, old_end, new_start, new_end in pieces:
        _add(out, ("equal", old_at, old_start, new_at, new_start))
        for tag, i1, i2, j1, j2 in _align(old[old_start:old_end], new[new_start:new_end], popular):
            _add(out, (tag, i1 + old_start, i2 + old_start, j1 + new_start, j2 + new_start))
        old_at, new_at = old_end, new_end
    _add(out, ("equal", old_at, len(old), new_at, len(new)))
    return out


def _add(out: list[Opcode], code: Opcode) -> None:
    tag, i1, i2, j1, j2 = code
    if i1 == i2 and j1 == j2:
        return
    if out and out[-1][0] == tag == "equal":
        out[-1] = ("equal", out[-1][1], i2, out[-1][3], j2)
    else:
        out.append(code)


def _align(old: list[str], new: list[str], popular: set[str]) -> list[Opcode]:
    if not old or not new:
        return [("delete" if old else "insert", 0, len(old), 0, len(new))]
    if len(old) * len(new) > MAX_ALIGNED:
        return _unaligned(old, new)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for line in popular.intersection(matcher.b2j):
        del matcher.b2j[line]
    return matcher.get_opcodes()


def _unaligned(old: list[str], new: list[str]) -> list[Opcode]:
    """Equal lines at both ends, everything between replaced."""
    top, bottom = _equal_ends(old, new)
    codes = [("equal", 0, top, 0, top)] if top else []
    middle = ("replace", top, len(old) - bottom, top, len(new) - bottom)
    if middle[1] == middle[2]:
        middle = ("insert", *middle[1:])
    elif middle[3] == middle[4]:
        middle = ("delete", *middle[1:])
    codes.append(middle)
    if bottom:
        codes.append(("equal", len(old) - bottom, len(old), len(new) - bottom, len(new)))
    return codes


class _KnownOpcodes(difflib.SequenceMatcher):
    """A SequenceMatcher that groups opcodes worked out elsewhere (its grouping is public)."""

    def __init__(self, opcodes: list[Opcode]) -> None:
        super().__init__(None, "", "")
        self.known = opcodes

    def get_opcodes(self) -> list[Opcode]:
        return self.known


def _render(old: list[str], new: list[str], opcodes: list[Opcode], name: str, context: int) -> str:
    """What ``difflib.unified_diff(old, new, "a/name", "b/name", n=context)`` prints, with git's
    mark for a missing final newline."""
    out = []
    for group in _KnownOpcodes(opcodes).get_grouped_opcodes(context):
        if not out:
            out.append(f"--- {header_path('a/' + name)}\n")
            out.append(f"+++ {header_path('b/' + name)}\n")
        first, last = group[0], group[-1]
        out.append(f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@\n")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out.extend(_marked(" ", old[i1:i2]))
                continue
            if tag in ("replace", "delete"):
                out.extend(_marked("-", old[i1:i2]))
            if tag in ("replace", "insert"):
                out.extend(_marked("+", new[j1:j2]))
    return "".join(out)


def _marked(mark: str, lines: list[str]) -> list[str]:
    return [mark + line if line.endswith("\n") else mark + line + "\n" + NO_NEWLINE for line in lines]


def _range(start: int, stop: int) -> str:
    """A hunk header range, as difflib writes it."""
    beginning, length = start + 1, stop - start
    if length == 1:
        return f"{beginning}"
    if not length:
        beginning -= 1
    return f"{beginning},{length}"


def new_file_diff(path: str, content: bytes) -> bytes:
    """A diff that creates ``path`` (``--- /dev/null``), as ``git apply`` and ``patch -p1``
    read it; ``git diff`` writes the same hunk after its own ``diff --git`` header."""
    if not content:
        return b""
    name = path.lstrip("/")
    lines = _split_keep(content)
    out = ["--- /dev/null\n", f"+++ {header_path('b/' + name)}\n", f"@@ -0,0 +1{'' if len(lines) == 1 else ',' + str(len(lines))} @@\n"]
    for line in lines:
        out.append("+" + line if line.endswith("\n") else "+" + line + "\n" + NO_NEWLINE)
    return "".join(out).encode("utf-8", "surrogateescape")


def fix_diff(result, path: str) -> bytes:
    """Everything a fix result changes: the Dockerfile's diff, then each file it creates."""
    parts = [unified_diff(result.source, result.output, path, changes=result.changes)]
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
