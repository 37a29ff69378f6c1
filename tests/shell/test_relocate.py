"""A moved model must be the model built from scratch at the new place, for every RUN we have."""

from __future__ import annotations

from pathlib import Path

import pytest

from slimfile.shell.analyze import analyze_run
from slimfile.shell.dump import run_dict
from slimfile.shell.interpreter import run_shells
from slimfile.shell.model import ShellScript
from slimfile.shell.relocate import relocate
from slimfile.syntax import parse
from tests.conftest import all_inputs

from .conftest import runs

INPUTS = all_inputs()
# inserted before the first instruction (directives and the BOM stay first): comment lines
# move every RUN to other lines too; blanks before the keyword keep every line number
PADDINGS = {"lines": b"# three lines that push every RUN down\n#\n#\n", "blanks": b"    "}


def _shifted(source: bytes, padding: bytes) -> tuple[bytes, int]:
    first = parse(source).instructions[0].start
    return source[:first] + padding + source[first:], len(padding)


def _words(command):
    yield from command.words
    yield from (a.value for a in command.assignments if a.value is not None)
    yield from (r.target for r in command.redirects if r.target is not None)


@pytest.mark.shared
@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("path", INPUTS, ids=[p.name for p in INPUTS])
def test_a_moved_model_equals_a_fresh_one(path: Path, padding: str) -> None:
    old = parse(path.read_bytes())  # every shared file parses (tests/syntax checks it)
    if not old.instructions:
        assert not list(runs(old))  # comments only: nothing to move
        return
    source, distance = _shifted(old.source, PADDINGS[padding])
    new = parse(source)
    old_shells, new_shells = run_shells(old), run_shells(new)
    moved_runs = 0
    for before, after in zip(runs(old), runs(new), strict=True):
        if old.source[before.start : before.end] != new.source[after.start : after.end]:
            assert before is old.instructions[0]  # the padded first instruction itself
            continue
        if old_shells.get(id(before)) != new_shells.get(id(after)):
            continue  # "SHELL line N" moved: the engine's cache key differs, it builds anew
        moved_runs += 1
        moved = relocate(analyze_run(old, before, old_shells), after, distance)
        fresh = analyze_run(new, after, new_shells)
        assert type(moved) is type(fresh) and moved.instruction is after
        assert run_dict(new, moved) == run_dict(new, fresh)  # commands, facts, their spans
        if not isinstance(fresh, ShellScript):
            assert moved.opaque == fresh.opaque
            continue
        assert moved.commands == fresh.commands  # every field but the words' span functions
        assert moved.comments == fresh.comments and moved.functions == fresh.functions
        for text_moved, text_fresh in zip(moved.texts, fresh.texts, strict=True):
            assert (text_moved.kind, text_moved.text, text_moved.map) == (text_fresh.kind, text_fresh.text, text_fresh.map)
            assert text_moved.heredoc is text_fresh.heredoc  # the new tree's heredoc, not the old one
        for command_moved, command_fresh in zip(moved.commands, fresh.commands):
            spans_moved = [(w.start, w.end) for w in _words(command_moved)]
            assert spans_moved == [(w.start, w.end) for w in _words(command_fresh)]
            assert all(source[a:b] == old.source[a - distance : b - distance] for a, b in spans_moved)
    if padding == "blanks":
        assert moved_runs == sum(1 for r in runs(old) if r is not old.instructions[0])


def test_shared_joints_and_scopes_stay_shared() -> None:
    source = b"FROM debian\nRUN if true; then a && b; fi; c\n"
    old = parse(source)
    new = parse(source.replace(b"FROM debian", b"FROM   debian"))
    moved = relocate(analyze_run(old, old.instructions[1]), new.instructions[1], 2)
    condition, a, b, c = moved.commands
    assert a.after is b.before and a.scopes[-1] is b.scopes[-1] and condition.scopes[0].id == a.scopes[0].id
    assert new.source[condition.start : condition.end] == b"true"
    assert new.source[a.start : a.end] == b"a" and new.source[c.start : c.end] == b"c"


# relocate.py lists, class by class, the fields that hold source offsets; a new field must be
# looked at there (does it hold one?) before this snapshot is updated
MODEL_FIELDS = {
    "ShellScript": "instruction shell origin texts commands comments functions errexit_at_start",
    "OpaqueRun": "instruction reason shell commands packages cleanups state_changes exits",
    "ScriptText": "kind text map heredoc shell",
    "Command": "index kind words name_index wrappers assignments redirects before after scopes errexit start end "
    "text_start text_end text name",
    "Word": "value raw static quoted text_start text_end to_source",
    "Assignment": "name value raw start end",
    "Redirect": "operator fd target start end heredoc",
    "HeredocBody": "delimiter strip_tabs quoted body_start body_end content",
    "Joint": "operator start end text_start text_end",
    "Scope": "kind role id start end text_start text_end before after",
    "Comment": "start end text_start text_end text",
    "FunctionDef": "name start end in_child_process",
}


@pytest.mark.parametrize("name", MODEL_FIELDS)
def test_relocate_knows_every_field_of_the_model(name: str) -> None:
    import dataclasses

    from slimfile.shell import model

    fields = " ".join(f.name for f in dataclasses.fields(getattr(model, name)))
    assert fields == MODEL_FIELDS[name], f"{name} changed: check slimfile/shell/relocate.py moves its offsets"
