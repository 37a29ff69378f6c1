"""Fixes widened to whole lines, for suggestion blocks."""

from __future__ import annotations

from slimfile.report.positions import LineIndex
from slimfile.report.suggestions import code_fence, line_suggestion
from slimfile.syntax.edits import Edit, Fix

SOURCE = b"FROM x\nRUN a \\\n    b\nCMD c\n"


def suggest(*edits: Edit, source: bytes = SOURCE):
    return line_suggestion(Fix(edits), LineIndex(source))


def test_edit_inside_one_line():
    s = suggest(Edit(11, 12, b"apt"))
    assert (s.start_line, s.end_line, s.old_text, s.new_text) == (2, 2, "RUN a \\", "RUN apt \\")


def test_edits_over_a_continuation_cover_every_line_between():
    s = suggest(Edit(11, 12, b"x"), Edit(19, 20, b"y"))
    assert (s.start_line, s.end_line, s.new_text) == (2, 3, "RUN x \\\n    y")


def test_deleting_whole_lines_suggests_nothing_in_their_place():
    s = suggest(Edit(7, 21))  # lines 2-3 with their EOLs
    assert (s.start_line, s.end_line, s.new_text) == (2, 3, "")


def test_insertion_at_a_line_start_belongs_to_that_line():
    s = suggest(Edit.insert(21, b"RUN z\n"))
    assert (s.start_line, s.end_line, s.new_text) == (4, 4, "RUN z\nCMD c")


def test_insertion_at_the_end_of_the_file_belongs_to_the_last_line():
    s = suggest(Edit.insert(len(SOURCE), b"USER app\n"))
    assert (s.start_line, s.end_line, s.new_text) == (4, 4, "CMD c\nUSER app")


def test_file_without_final_newline():
    s = suggest(Edit(5, 6, b"y"), source=b"FROM x")
    assert (s.start_line, s.end_line, s.old_text, s.new_text) == (1, 1, "FROM x", "FROM y")


def test_crlf_lines_are_shown_with_lf():
    s = suggest(Edit(5, 6, b"y"), source=b"FROM x\r\nCMD c\r\n")
    assert s.new_text == "FROM y"


def test_code_fence():
    assert code_fence("plain") == "```"
    assert code_fence("a ```` b") == "`````"
