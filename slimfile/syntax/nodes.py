"""Nodes of the lossless Dockerfile syntax tree.

Every node points into the original bytes with ``start``/``end`` offsets, and the top-level
items of a :class:`Dockerfile` tile the file exactly, so printing the tree gives back the
input byte for byte. Offsets into an instruction's *logical line* (buildkit's joined text)
map back to source bytes through :class:`LogicalLine`.
"""

from __future__ import annotations

import bisect
import operator
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Iterator, NamedTuple, Union

from slimfile.memo import cached_property
from slimfile.syntax.columns import CharColumns

if TYPE_CHECKING:
    from slimfile.syntax.stages import StageModel

BOM = b"\xef\xbb\xbf"


class LineRole(str, Enum):
    """What a physical line is to the parser."""

    DIRECTIVE = "directive"
    COMMENT = "comment"  # a comment line between instructions
    BLANK = "blank"  # an empty or whitespace-only line between instructions
    FIRST = "first"  # the line an instruction starts on
    CONTINUATION = "continuation"
    INNER_COMMENT = "inner-comment"  # a comment line inside a continuation (dropped by buildkit)
    INNER_EMPTY = "inner-empty"  # an empty line inside a continuation (dropped, with a warning)
    HEREDOC_BODY = "heredoc-body"
    HEREDOC_END = "heredoc-end"


class PhysicalLine(NamedTuple):
    """One line of the file: ``[start, content_end)`` is its text, ``[content_end, end)`` its EOL."""

    number: int  # 1-based, as buildkit counts
    start: int
    content_end: int
    end: int
    role: LineRole
    # where a continuation marker (escape char + trailing blanks) starts on this line, if any
    marker_start: int | None = None


class Segment(NamedTuple):
    """A run of the logical line copied verbatim from the source."""

    logical_start: int
    source_start: int
    length: int

    @property
    def logical_end(self) -> int:
        return self.logical_start + self.length

    @property
    def source_end(self) -> int:
        return self.source_start + self.length


_logical_start = operator.attrgetter("logical_start")


@dataclass(frozen=True, slots=True)
class LogicalLine:
    """buildkit's joined instruction text and the map from its offsets to source offsets."""

    text: bytes
    segments: tuple[Segment, ...]

    def to_source(self, offset: int, *, at_end: bool = False) -> int:
        """Source offset of logical ``offset``.

        At a seam between two source lines the same logical offset has two source positions:
        the end of the earlier piece (``at_end=True``, right after the text before it) or the
        start of the later one (for the text that follows).
        """
        segments = self.segments
        if len(segments) == 1:  # an instruction on one line: asked for every finding and edit
            seg = segments[0]
            return seg.source_start + (min(offset, seg.logical_start + seg.length) - seg.logical_start)
        if not segments:
            raise ValueError("empty logical line has no source positions")
        i = bisect.bisect_right(segments, offset, key=_logical_start) - 1
        i = max(i, 0)
        seg = self.segments[i]
        if at_end and offset == seg.logical_start and i > 0:
            prev = self.segments[i - 1]
            return prev.source_end
        if offset > seg.logical_end:
            offset = seg.logical_end
        return seg.source_start + (offset - seg.logical_start)

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """Source span of the logical span ``[start, end)``."""
        if start == end:
            pos = self.to_source(start, at_end=True)
            return pos, pos
        return self.to_source(start), self.to_source(end, at_end=True)

    def decode(self, start: int = 0, end: int | None = None) -> str:
        return self.text[start:end].decode("utf-8", "surrogateescape")


@dataclass(frozen=True, slots=True)
class Flag:
    """An instruction flag such as ``--mount=type=cache,target=/x``.

    ``value`` is what buildkit reports (quotes and escapes processed); the source text is
    ``source[start:end]``.
    """

    value: str
    logical_start: int
    logical_end: int
    start: int
    end: int

    @property
    def name(self) -> str:
        return self.value[2:].split("=", 1)[0]

    @property
    def argument(self) -> str | None:
        parts = self.value[2:].split("=", 1)
        return parts[1] if len(parts) == 2 else None


@dataclass(frozen=True, slots=True)
class Heredoc:
    """A heredoc of a RUN/COPY/ADD: the ``<<EOF`` word, its body lines and terminator line."""

    name: str
    fd: int
    chomp: bool  # <<-EOF: leading tabs are stripped
    expand: bool  # False when the delimiter word was quoted
    word_logical_start: int
    word_logical_end: int
    body_start: int
    body_end: int
    terminator_start: int
    terminator_end: int
    content: bytes  # the body exactly as buildkit collects it (lines with their EOLs)

    def body_text(self) -> str:
        return self.content.decode("utf-8", "surrogateescape")


@dataclass(slots=True)
class Instruction:
    """One Dockerfile instruction, from its first line to its last heredoc terminator."""

    keyword: str  # as written, e.g. "run"; "" for a line that is only a continuation marker
    start: int
    end: int
    lines: tuple[PhysicalLine, ...]
    logical: LogicalLine
    keyword_start: int  # logical offsets of the keyword
    keyword_end: int
    flags: tuple[Flag, ...]
    args_start: int  # logical offsets of the arguments (after keyword and flags, trimmed)
    args_end: int
    json: tuple[str, ...] | None = None  # exec form values when the arguments are a JSON array
    heredocs: tuple[Heredoc, ...] = ()
    inner: Instruction | None = None  # the instruction inside ONBUILD
    problems: tuple[str, ...] = ()  # what buildkit would reject at build time (kept, not fatal)
    has_empty_continuation_line: bool = False
    name: str = ""  # the keyword in upper case, as buildkit dispatches it (set from ``keyword``)

    def __post_init__(self) -> None:
        self.name = self.keyword.upper()

    @property
    def start_line(self) -> int:
        return self.lines[0].number

    @property
    def end_line(self) -> int:
        return self.lines[-1].number

    @property
    def args(self) -> bytes:
        return self.logical.text[self.args_start : self.args_end]

    @property
    def args_text(self) -> str:
        return self.logical.decode(self.args_start, self.args_end)

    @property
    def is_json(self) -> bool:
        return self.json is not None

    def flag(self, name: str) -> Flag | None:
        for flag in self.flags:
            if flag.name == name:
                return flag
        return None

    def flag_values(self) -> tuple[str, ...]:
        return tuple(f.value for f in self.flags)

    def args_source_span(self) -> tuple[int, int]:
        return self.logical.source_span(self.args_start, self.args_end)

    def keyword_source_span(self) -> tuple[int, int]:
        return self.logical.source_span(self.keyword_start, self.keyword_end)

    @property
    def effective(self) -> Instruction:
        """The instruction that runs: the ONBUILD inner one, or itself."""
        return self.inner if self.inner is not None else self


@dataclass(frozen=True, slots=True)
class Directive:
    """A parser directive (``# syntax=``, ``# escape=``, ``# check=``) at the top of the file."""

    name: str  # lower case
    value: str
    line: PhysicalLine

    @property
    def start(self) -> int:
        return self.line.start

    @property
    def end(self) -> int:
        return self.line.end


@dataclass(frozen=True, slots=True)
class Trivia:
    """A comment or blank line between instructions."""

    line: PhysicalLine

    @property
    def start(self) -> int:
        return self.line.start

    @property
    def end(self) -> int:
        return self.line.end

    @property
    def is_comment(self) -> bool:
        return self.line.role is LineRole.COMMENT


Item = Union[Directive, Trivia, Instruction]


@dataclass(slots=True)
class ParseWarning:
    line: int
    message: str


@dataclass(eq=False)
class Dockerfile:
    """A parsed Dockerfile. ``items`` tile ``source``: ``unparse() == source`` always."""

    source: bytes
    items: tuple[Item, ...]
    escape: str
    directives: tuple[Directive, ...]
    lines: tuple[PhysicalLine, ...]
    warnings: tuple[ParseWarning, ...] = ()
    path: str | None = None
    buildkit: str = "current"

    @property
    def bom(self) -> bool:
        return self.source.startswith(BOM)

    @cached_property
    def instructions(self) -> tuple[Instruction, ...]:
        return tuple(item for item in self.items if isinstance(item, Instruction))

    @cached_property
    def _item_positions(self) -> dict[int, int]:
        # the tree holds its items, so no other live object can have one of these ids
        return {id(item): i for i, item in enumerate(self.items)}

    def item_index(self, item: Item) -> int:
        """Where ``item`` is in ``items`` (a dict built once: passes ask for many instructions);
        KeyError for a node that is not a top-level item (the RUN inside an ONBUILD)."""
        return self._item_positions[id(item)]

    def unparse(self) -> bytes:
        return b"".join(self.source[item.start : item.end] for item in self.items)

    def text(self, start: int, end: int) -> str:
        return self.source[start:end].decode("utf-8", "surrogateescape")

    @cached_property
    def line_starts(self) -> list[int]:
        """Where each physical line starts: built once, every position look-up bisects it."""
        return [line.start for line in self.lines]

    @cached_property
    def _columns(self) -> CharColumns:
        return CharColumns(self.source)

    def line_of(self, offset: int) -> PhysicalLine:
        """The physical line that holds byte ``offset``."""
        i = max(bisect.bisect_right(self.line_starts, offset) - 1, 0)
        return self.lines[i]

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a byte offset; columns count characters, as editors do.
        An empty file has no line: its one position is 1:1."""
        if not self.lines:
            return 1, 1
        line = self.line_of(offset)
        text_start = line.start + (len(BOM) if line.number == 1 and self.bom else 0)
        return line.number, self._columns.characters(text_start, offset, line.end) + 1

    @cached_property
    def stages(self) -> StageModel:
        from slimfile.syntax.stages import build_stage_model

        return build_stage_model(self)

    def walk(self) -> Iterator[Instruction]:
        """Every instruction, with ONBUILD's inner instruction after its parent."""
        for instruction in self.instructions:
            yield instruction
            if instruction.inner is not None:
                yield instruction.inner

    @cached_property
    def newline(self) -> bytes:
        """The file's dominant line ending (LF when the file has none)."""
        crlf = self.source.count(b"\r\n")
        lf = self.source.count(b"\n") - crlf
        return b"\r\n" if crlf > lf else b"\n"
