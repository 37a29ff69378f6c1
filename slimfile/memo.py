"""Facts derived from an object that never changes, computed once and kept on the object.

A parsed :class:`~slimfile.syntax.nodes.Dockerfile` and a RUN's
:class:`~slimfile.shell.model.ShellScript` do not change once built, but edit helpers and passes
ask the same question about them once per finding: which operators have a command after
them, which line style the RUN uses, which is its last top-level command. Each answer costs the
size of the RUN, so a RUN with thousands of findings made that quadratic. ``cached(obj, key,
compute)`` answers each question once per object.
"""

from __future__ import annotations

from typing import Any, Callable, Hashable, TypeVar

T = TypeVar("T")


def cached(owner: Any, key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``, once per ``(owner, key)``; kept in ``owner``'s ``__dict__`` (as
    ``functools.cached_property`` does, so frozen dataclasses work too)."""
    memo = owner.__dict__.get("_memo")
    if memo is None:
        memo = owner.__dict__["_memo"] = {}
    if key not in memo:
        memo[key] = compute()
    return memo[key]
