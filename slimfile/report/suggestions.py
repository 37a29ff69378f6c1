"""A fix as whole lines replaced: what a GitHub ```` ```suggestion ```` block needs.

A review suggestion replaces complete lines of the file, so each fix is widened to the lines
its edits touch and those lines are shown as they read after the fix alone (the fix is applied
to the reported text, not combined with other fixes: each suggestion must apply on its own).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from slimfile.report.positions import LineIndex
from slimfile.syntax.edits import Fix, apply_edits
from slimfile.textformats import visible


@dataclass(frozen=True)
class LineSuggestion:
    start_line: int  # 1-based, inclusive
    end_line: int  # inclusive
    old_text: str  # the lines as they are, EOLs normalised to "\n", without the final EOL
    new_text: str  # the same lines after the fix (may be empty: the lines are deleted)


def line_suggestion(fix: Fix, index: LineIndex) -> LineSuggestion:
    source = index.source
    first = min(index.line_number(fix.start), index.line_count)
    last = _last_line(fix, index, first)
    span_start, span_end = index.line_start(first), index.line_end(last)
    shifted = [type(e)(e.start - span_start, e.end - span_start, e.content) for e in fix.edits]
    old = source[span_start:span_end]
    new = apply_edits(old, shifted)
    return LineSuggestion(first, last, _lines_text(old), _lines_text(new))


def _last_line(fix: Fix, index: LineIndex, first: int) -> int:
    """The last line a fix changes.

    An edit that ends right after an EOL does not touch the next line; an insertion at the very
    end of a file that ends with an EOL belongs to the last line (there is no line after it).
    """
    end = fix.end
    last = index.line_number(end)
    ends_removal = any(e.end == end and e.start < e.end for e in fix.edits)
    if end == index.line_start(last) and last > first and (ends_removal or last > index.line_count):
        last -= 1
    return min(max(last, first), index.line_count)


def _lines_text(data: bytes) -> str:
    text = data.decode("utf-8", "surrogateescape").replace("\r\n", "\n")
    return text[:-1] if text.endswith("\n") else text


def code_fence(text: str, minimum: int = 3) -> str:
    """A backtick fence longer than any backtick run inside ``text`` (so it cannot close early)."""
    longest = run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    return "`" * max(minimum, longest + 1)


def code_span(text: str) -> str:
    """``text`` as an inline code span (CommonMark) that a backtick in it cannot close early,
    on one line: a file name of a pull request can hold both, and would otherwise end the
    span and be read as markdown (a link, an image) in the bot's comment."""
    text = visible(text)
    fence = code_fence(text, minimum=1)
    padded = text.startswith("`") or text.endswith("`") or (text.startswith(" ") and text.endswith(" ") and text.strip())
    return f"{fence} {text} {fence}" if padded else f"{fence}{text}{fence}"


# what makes a link, an image, raw HTML or an autolink (``<https://...>``), a code span, or
# escapes one: escaped outside the code spans of a message (emphasis is left: it only styles)
_MARKDOWN_ACTIVE = frozenset("\\`[]<>")


def message_markdown(message: str) -> str:
    """A finding's message as markdown that reads as written: its code spans (backtick runs
    paired as CommonMark pairs them) stay code, and everything else that could make a link,
    an image or HTML is escaped. Text of the pull request reaches messages (a folder with a
    backtick shifts which backticks pair, a shell parse error quotes the script): whichever
    way they pair, no link, image or HTML comes out of the bot's comment."""
    text = visible(message)
    runs = [(m.start(), m.end()) for m in _BACKTICKS.finditer(text)]
    closer = _closing_runs(runs)
    pieces: list[str] = []
    plain = index = 0
    while index < len(runs):
        partner = closer[index]
        if partner is None:  # no run of the same length later: literal backticks
            index += 1
            continue
        opening, closing = runs[index][0], runs[partner][1]
        pieces.append(_escaped(text[plain:opening]))
        pieces.append(text[opening:closing])
        plain, index = closing, partner + 1
    pieces.append(_escaped(text[plain:]))
    return "".join(pieces)


_BACKTICKS = re.compile("`+")


def _closing_runs(runs: list[tuple[int, int]]) -> list[int | None]:
    """For each backtick run, the next run of exactly its length (CommonMark's closer), found
    in one pass from the end: a name of thousands of unpaired runs costs its length, not its
    square."""
    closer: list[int | None] = [None] * len(runs)
    next_of_length: dict[int, int] = {}
    for index in range(len(runs) - 1, -1, -1):
        length = runs[index][1] - runs[index][0]
        closer[index] = next_of_length.get(length)
        next_of_length[length] = index
    return closer


def _escaped(text: str) -> str:
    escaped = "".join("\\" + char if char in _MARKDOWN_ACTIVE else char for char in text)
    return _MENTION.sub(lambda m: f"`{m.group()}`", escaped)


# what GitHub reads as a mention of a user or team (`@types/node`, a scoped npm package in a
# note): put in a code span, where GitHub mentions nobody; an e-mail address (a word before
# the @) is left as it is
_MENTION = re.compile(r"(?<!\w)@[A-Za-z0-9](?:[\w./-]*\w)?")
