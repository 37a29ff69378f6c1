"""Write new text the way the file already writes it: its newline, escape character and
continuation indentation. Every pass builds inserted text through these helpers."""

from __future__ import annotations

from weakref import WeakKeyDictionary

from slimfile.syntax.nodes import Dockerfile, Instruction, LineRole, PhysicalLine

DEFAULT_INDENT = b"    "
# a file's usual indentation, worked out once per parsed file: helpers ask for it per edit
_FILE_INDENTS: WeakKeyDictionary[Dockerfile, bytes] = WeakKeyDictionary()


def eol_of(dockerfile: Dockerfile, line: PhysicalLine) -> bytes:
    """The line's own EOL bytes, or the file's newline when the line has none (last line)."""
    eol = dockerfile.source[line.content_end : line.end]
    return eol if eol else dockerfile.newline


def escape_byte(dockerfile: Dockerfile) -> bytes:
    return dockerfile.escape.encode()


def continuation_indent(dockerfile: Dockerfile, instruction: Instruction) -> bytes:
    """Indentation of the instruction's continuation lines, else the file's usual one."""
    for line in instruction.lines:
        if line.role is LineRole.CONTINUATION:
            return _leading_blanks(dockerfile.source, line)
    return file_indent(dockerfile)


def file_indent(dockerfile: Dockerfile) -> bytes:
    """The most common continuation indentation in the file (four spaces when there is none)."""
    indent = _FILE_INDENTS.get(dockerfile)
    if indent is None:
        indent = _FILE_INDENTS[dockerfile] = _most_common_indent(dockerfile)
    return indent


def _most_common_indent(dockerfile: Dockerfile) -> bytes:
    counts: dict[bytes, int] = {}
    for line in dockerfile.lines:
        if line.role is LineRole.CONTINUATION:
            indent = _leading_blanks(dockerfile.source, line)
            if indent:
                counts[indent] = counts.get(indent, 0) + 1
    if not counts:
        return DEFAULT_INDENT
    return max(counts.items(), key=lambda kv: (kv[1], -len(kv[0])))[0]


def marker_spacing(dockerfile: Dockerfile, instruction: Instruction) -> bytes:
    """What the author writes before the continuation escape (usually one space)."""
    src = dockerfile.source
    for line in instruction.lines:
        if line.marker_start is not None and line.marker_start > line.start:
            i = line.marker_start
            while i > line.start and src[i - 1] in (0x20, 0x09):
                i -= 1
            if i < line.marker_start:
                return src[i : line.marker_start]
    return b" "


def line_break(dockerfile: Dockerfile, instruction: Instruction, line: PhysicalLine | None = None) -> bytes:
    """The bytes that end one line of ``instruction`` and open the next continuation line:
    spacing, escape, EOL and indentation, all in the file's style."""
    line = line or instruction.lines[0]
    return (
        marker_spacing(dockerfile, instruction)
        + escape_byte(dockerfile)
        + eol_of(dockerfile, line)
        + continuation_indent(dockerfile, instruction)
    )


def same_case(word: str, like: str) -> str:
    """``word`` in the case the author wrote ``like`` in (``add`` → ``copy``)."""
    if like.islower():
        return word.lower()
    if like[:1].isupper() and like[1:].islower():
        return word.capitalize()
    return word.upper()


def _leading_blanks(src: bytes, line: PhysicalLine) -> bytes:
    i = line.start
    while i < line.content_end and src[i] in (0x20, 0x09):
        i += 1
    return src[line.start : i]
