"""The shell text of a RUN and the map from its offsets to Dockerfile bytes.

A shell-form RUN hands buildkit's logical line (``instruction.args``) to ``sh -c``; continuation
markers and comment lines inside continuations are already gone from it, so its offsets are
mapped back through the instruction's :class:`LogicalLine`. ``RUN <<EOF`` alone runs the
heredoc body as the script; its offsets map into the body's source bytes, line by line when
``<<-`` strips leading tabs. Every map is a :class:`LogicalLine` so one mapping code serves all.
"""

from __future__ import annotations

import bisect

from slimfile.shell.model import ScriptText
from slimfile.syntax.nodes import Heredoc, Instruction, LogicalLine, Segment


def sub_map(parent: LogicalLine, pieces: list[tuple[int, int]]) -> LogicalLine:
    """Map of the text made by joining ``parent.text[a:b]`` for each piece, through ``parent``."""
    if len(pieces) == 1 and parent.segments:  # one slice (a RUN's arguments): no copying
        return _slice_map(parent, *pieces[0])
    text = bytearray()
    segments: list[Segment] = []
    for start, end in pieces:
        for lo, hi, source_start in _overlaps(parent, start, end):
            segments.append(Segment(len(text), source_start, hi - lo))
            text += parent.text[lo:hi]
    if not segments:
        anchor = parent.to_source(pieces[0][0] if pieces else 0, at_end=True) if parent.segments else 0
        segments.append(Segment(0, anchor, 0))
    return LogicalLine(bytes(text), tuple(segments))


def _overlaps(parent: LogicalLine, start: int, end: int):
    """(logical lo, logical hi, source start) of each piece of ``parent`` inside [start, end)."""
    parents = parent.segments
    starts = [seg.logical_start for seg in parents]
    for seg in parents[max(bisect.bisect_right(starts, start) - 1, 0) :]:
        if seg.logical_start >= end:
            break
        lo = max(start, seg.logical_start)
        hi = min(end, seg.logical_start + seg.length)
        if lo < hi:
            yield lo, hi, seg.source_start + (lo - seg.logical_start)


def _slice_map(parent: LogicalLine, start: int, end: int) -> LogicalLine:
    if len(parent.segments) == 1:  # an instruction on one line: its one piece, without a search
        logical_start, source_start, length = parent.segments[0]
        lo, hi = max(start, logical_start), min(end, logical_start + length)
        if lo < hi:
            piece = Segment(lo - start, source_start + (lo - logical_start), hi - lo)
            return LogicalLine(parent.text[start:end], (piece,))
    segments = [Segment(lo - start, source_start, hi - lo) for lo, hi, source_start in _overlaps(parent, start, end)]
    if not segments:
        anchor = parent.to_source(start, at_end=True)
        segments.append(Segment(0, anchor, 0))
    return LogicalLine(parent.text[start:end], tuple(segments))


def tab_stripped_pieces(text: bytes, start: int, end: int) -> list[tuple[int, int]]:
    """``text[start:end]`` line by line without leading tabs (what ``<<-`` removes)."""
    pieces = []
    pos = start
    while pos < end:
        nl = text.find(b"\n", pos, end)
        line_end = end if nl < 0 else nl + 1
        body = pos
        while body < line_end and text[body] == 0x09:
            body += 1
        pieces.append((body, line_end))
        pos = line_end
    return pieces


def run_args_text(instruction: Instruction) -> ScriptText:
    """The shell-form RUN's logical arguments: exactly what buildkit gives ``/bin/sh -c``."""
    mapping = sub_map(instruction.logical, [(instruction.args_start, instruction.args_end)])
    return ScriptText("run", instruction.args, mapping)


def heredoc_body_map(heredoc: Heredoc, strip_tabs: bool) -> LogicalLine:
    whole = LogicalLine(heredoc.content, (Segment(0, heredoc.body_start, len(heredoc.content)),))
    if not strip_tabs:
        return whole
    return sub_map(whole, tab_stripped_pieces(heredoc.content, 0, len(heredoc.content)))


def heredoc_script_text(heredoc: Heredoc, kind: str, strip_tabs: bool) -> ScriptText:
    """A Dockerfile heredoc's body as a script (``RUN <<EOF``, or ``RUN bash <<EOF``)."""
    mapping = heredoc_body_map(heredoc, strip_tabs)
    return ScriptText(kind, mapping.text, mapping, heredoc)


def nested_text(parent: ScriptText, start: int, end: int, strip_tabs: bool) -> ScriptText:
    """A heredoc body found inside a script (``bash <<EOF`` in a ``RUN <<EOF`` body)."""
    pieces = tab_stripped_pieces(parent.text, start, end) if strip_tabs else [(start, end)]
    mapping = sub_map(parent.map, pieces)
    return ScriptText("nested-heredoc", mapping.text, mapping, parent.heredoc)
