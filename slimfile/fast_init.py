"""Fast constructors for the frozen dataclasses that slimfile creates by the million.

A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``, which costs
twice as much as a plain one; a RUN's shell model creates a Word per word and a Command per
command. :func:`fast_constructor` generates, once per class, a function that fills the slots
through their descriptors instead. What it returns is exactly what ``cls(...)`` returns: equal,
same hash, still frozen (tests/test_fast_init.py checks this for every class that uses it).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any


def fast_constructor(cls: type) -> Callable[..., Any]:
    """``cls(*init_fields)`` for a frozen, slotted dataclass, without per-field ``__setattr__``.
    Fields with ``init=False`` get their default, then ``__post_init__`` runs, as in ``cls()``."""
    if not (dataclasses.is_dataclass(cls) and "__slots__" in cls.__dict__):
        raise TypeError(f"{cls.__name__} is not a slotted dataclass")
    fields = dataclasses.fields(cls)
    namespace: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    body = ["    obj = _new(_cls)"]
    for field in fields:
        namespace[f"_set_{field.name}"] = cls.__dict__[field.name].__set__
        if field.init:
            value = field.name
        elif field.default is not dataclasses.MISSING:
            namespace[f"_default_{field.name}"] = field.default
            value = f"_default_{field.name}"
        else:
            raise TypeError(f"{cls.__name__}.{field.name}: init=False needs a plain default")
        body.append(f"    _set_{field.name}(obj, {value})")
    if hasattr(cls, "__post_init__"):
        namespace["_post_init"] = cls.__post_init__
        body.append("    _post_init(obj)")
    arguments = ", ".join(field.name for field in fields if field.init)
    source = f"def construct({arguments}):\n" + "\n".join(body) + "\n    return obj\n"
    exec(source, namespace)  # noqa: S102 - code built above from the field names only
    construct = namespace["construct"]
    construct.__qualname__ = construct.__name__ = f"new_{cls.__name__.lower()}"
    return construct
