"""Facts derived from an object that never changes, computed once and kept on the object.

A parsed :class:`~slimfile.syntax.nodes.Dockerfile` and a RUN's
:class:`~slimfile.shell.model.ShellScript` do not change once built, but edit helpers and passes
ask the same question about them once per finding: which operators have a command after
them, which line style the RUN uses, which is its last top-level command. Each answer costs the
size of the RUN, so a RUN with thousands of findings made that quadratic. ``cached(obj, key,
compute)`` answers each question once per object.
"""

from __future__ import annotations

from typing import Any, Callable, Generic, Hashable, TypeVar

T = TypeVar("T")


class cached_property(Generic[T]):  # named as the functools one it replaces
    """``functools.cached_property`` without its lock (Python 3.11 takes a lock on every first
    access, a few percent of ``check`` on a file of many RUNs; 3.12 dropped it). Like it, the
    value is kept in the instance's ``__dict__``, which then answers every later access."""

    def __init__(self, func: Callable[[Any], T]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.func(instance)
        return value


def cached(owner: Any, key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, once per ``(owner, key)``; kept in ``owner``'s ``__dict__`` (as
    ``functools.cached_property`` does, so frozen dataclasses work too)."""
    memo = owner.__dict__.get("_memo")
    if memo is None:
        memo = owner.__dict__["_memo"] = {}
    if key not in memo:
        memo[key] = compute()
    return memo[key]
