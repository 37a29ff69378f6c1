"""Moving whole instructions: the *block* of an instruction is the instruction plus the comment
lines right above it (no blank line between), which describe it and go where it goes.

Moves keep every byte of the moved block (its continuations, inner comments, heredocs, EOLs
and escape character); what is new is only the text the caller inserts, built with
:func:`instruction_line` in the file's style. Blank lines are tidied the way a person would:
a block that stood alone between blank lines leaves one blank line behind, not two.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from slimfile.syntax.edits import Edit
from slimfile.syntax.nodes import Dockerfile, Instruction, Item, LineRole, Trivia
from slimfile.syntax.style import eol_of, same_case


@dataclass(frozen=True)
class Block:
    instruction: Instruction
    start: int  # first attached comment line, or the instruction's first byte
    end: int  # after the instruction's last line and its EOL
    blank_before: bool  # a blank line (or the file's start) right before the block
    blank_after: bool  # a blank line right after it
    following_blank: tuple[int, int] | None  # the blank line after it, if any


class ItemIndex:
    """Position of every instruction among the file's items (built once per file)."""

    def __init__(self, dockerfile: Dockerfile) -> None:
        self.dockerfile = dockerfile
        self.items: tuple[Item, ...] = dockerfile.items
        self.position = {id(item): i for i, item in enumerate(self.items) if isinstance(item, Instruction)}

    def block(self, instruction: Instruction) -> Block:
        i = self.position[id(instruction)]
        first = i
        while first > 0 and _is_comment(self.items[first - 1]):
            first -= 1
        before = self.items[first - 1] if first > 0 else None
        after = self.items[i + 1] if i + 1 < len(self.items) else None
        return Block(
            instruction=instruction,
            start=self.items[first].start,
            end=instruction.end,
            blank_before=before is None or _is_blank(before),
            blank_after=after is not None and _is_blank(after),
            following_blank=(after.start, after.end) if after is not None and _is_blank(after) else None,
        )


def _is_comment(item: Item) -> bool:
    return isinstance(item, Trivia) and item.line.role is LineRole.COMMENT


def _is_blank(item: Item) -> bool:
    return isinstance(item, Trivia) and item.line.role is LineRole.BLANK


def block_text(dockerfile: Dockerfile, block: Block) -> bytes:
    """The block's bytes, ending with an EOL (the file's newline when it was the last line)."""
    text = dockerfile.source[block.start : block.end]
    last = block.instruction.lines[-1]
    return text if last.end > last.content_end else text + dockerfile.newline


def removal(dockerfile: Dockerfile, block: Block) -> Edit:
    """Delete a block; a block that stood alone between blank lines takes one of them along,
    and a last line without EOL leaves the file ending without one."""
    start, end = block.start, block.end
    last = block.instruction.lines[-1]
    if last.end == last.content_end and start > 0:
        # the last line of the file: the EOL before it goes, so no new EOL appears at the end
        previous = dockerfile.line_of(start - 1)
        start = previous.content_end
    elif block.blank_before and block.following_blank is not None:
        end = block.following_blank[1]
    return Edit.delete(start, end)


def insertion_point(block: Block) -> int:
    """Where text goes to come right before ``block`` (before its comments)."""
    return block.start


def instruction_line(dockerfile: Dockerfile, like: Instruction, keyword: str, rest: str) -> bytes:
    """One new single-line instruction, written like ``like``: its keyword case, the file's
    EOL. ``rest`` is everything after the keyword (flags and arguments)."""
    return (same_case(keyword, like.keyword) + " " + rest).encode("utf-8", "surrogateescape") + eol_of(
        dockerfile, like.lines[0]
    )


# a word that means itself to a shell and to BuildKit's word lexer, so it is written as it is:
# a COPY argument (BuildKit reads quotes, `$`, the escape character and, in the shell form,
# spaces, in the JSON form too), a command run without a shell
PLAIN_WORD = re.compile(r"[A-Za-z0-9_./:@%+=,-]+\Z")


def copy_arguments(dockerfile: Dockerfile, words: list[str]) -> str:
    """COPY's sources and destination as written after its flags: plain words as they are,
    else a JSON array whose quotes, ``$`` and escape characters are escaped with the file's
    escape character. Unescaped, a folder named ``d$x``, ``q"uote`` or ``it's`` was a path
    BuildKit expanded or unquoted, and the copy failed ("not found"). The words must be
    paths COPY can name (:func:`copy_cannot_name`)."""
    if all(PLAIN_WORD.match(word) for word in words):
        return " ".join(words)
    special = _WORD_SPECIALS[dockerfile.escape]
    return json.dumps([special.sub(lambda m: dockerfile.escape + m.group(), word) for word in words])


# what BuildKit's word lexer reads in a COPY argument, by escape character (`\` or the backtick)
_WORD_SPECIALS = {escape: re.compile("[" + re.escape("\"'$" + escape) + "]") for escape in ("\\", "`")}


_PATTERN_OR_BREAK = re.compile(r"[\\*?\[\n\r]")


def copy_cannot_name(path: str) -> str:
    """Why slimfile writes no COPY of ``path``, or ``""``: BuildKit reads a source as a pattern
    (``*``, ``?``, ``[`` match other names; ``\\`` escapes, so ``COPY ["back\\\\slash/x", ...]``
    fails with "not found" on the zoo's engine), a line break is one no reviewer should meet
    inside an instruction, and a name that is not UTF-8 needs the JSON form, whose decoder
    turns its bytes into U+FFFD."""
    if _PATTERN_OR_BREAK.search(path):
        return "slimfile writes no COPY of a path holding a line break, `*`, `?`, `[` or `\\` (BuildKit reads the last four as a pattern)"
    if _NOT_UTF8.search(path):  # JSON, which BuildKit decodes, cannot carry the bytes
        return "slimfile writes no COPY of a path that is not valid UTF-8"
    return ""


_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # bytes os.fsdecode kept as surrogates


def group_text(pieces: list[bytes], separated: bool, newline: bytes) -> bytes:
    """The moved and new text as one group; ``separated`` adds a blank line after it (the
    moved steps stood as their own paragraph)."""
    text = b"".join(pieces)
    return text + newline if separated else text
