"""fast_constructor must build exactly what the dataclass's own __init__ builds."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pytest

from slimfile.fast_init import fast_constructor
from slimfile.shell.analyze import analyze_run
from slimfile.shell.model import Command, ShellScript, Word
from slimfile.syntax.parser import parse


@dataclass(frozen=True, slots=True)
class Sample:
    a: int
    b: str
    c: tuple = ()
    derived: int = field(default=0, init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "derived", self.a * 2)


def test_same_object_as_the_dataclass_init():
    new_sample = fast_constructor(Sample)
    fast, slow = new_sample(1, "x", (2,)), Sample(1, "x", (2,))
    assert fast == slow and hash(fast) == hash(slow) and repr(fast) == repr(slow)
    assert fast.derived == 2
    assert new_sample(a=3, b="y", c=()) == Sample(3, "y")


def test_still_frozen():
    item = fast_constructor(Sample)(1, "x", ())
    with pytest.raises(dataclasses.FrozenInstanceError):
        item.a = 2  # type: ignore[misc]


def test_every_argument_is_required():
    with pytest.raises(TypeError):
        fast_constructor(Sample)(1, "x")


def test_refuses_classes_without_slots():
    @dataclass(frozen=True)
    class Plain:
        a: int

    with pytest.raises(TypeError):
        fast_constructor(Plain)


def test_the_shell_model_is_built_with_it_and_matches():
    dockerfile = parse(b"FROM debian\nRUN sudo env A=1 apt-get install -y curl && cd /x\n")
    model = analyze_run(dockerfile, dockerfile.instructions[1])
    assert isinstance(model, ShellScript)
    for command in model.commands:
        values = {f.name: getattr(command, f.name) for f in dataclasses.fields(Command) if f.init}
        assert Command(**values) == command and command.name == Command(**values).name
        for word in command.words:
            values = {f.name: getattr(word, f.name) for f in dataclasses.fields(Word)}
            assert Word(**values) == word
    assert [c.name for c in model.commands] == ["apt-get", "cd"]
