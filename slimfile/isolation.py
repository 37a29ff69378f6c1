"""One file's trouble costs that file only: a time budget per file, and internal errors that say
where they happened.

slimfile runs unattended over thousands of files (CI, PR bots). A generated or hostile file that
makes a pass slow, or a bug in a pass, must not stall or stop the run: the file gets an error
naming it (exit code 2), nothing is written to it, and the other files are processed.

The budget is a ``SIGALRM`` timer (``signal.setitimer``) in the process doing the work: the main
thread of the CLI for a few files, the main thread of each pool worker for many. Its handler
raises :class:`FileTimeout` at the next Python bytecode, which interrupts pure-Python work
(loops, regular-expression backtracking, sleeps) wherever it is, and the worker goes on with its
next file, so the pool survives. Where no timer can be set (a thread other than the main one,
or a platform without ``SIGALRM``) the work runs without a budget. Native code that never
returns to the interpreter is not interrupted.
"""

from __future__ import annotations

import signal
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from slimfile.syntax.errors import DockerfileError

DEFAULT_TIMEOUT = 60.0  # seconds per MiB of the file, at least this: no real Dockerfile takes a second
MIB = 1024 * 1024
TRACEBACK_FRAMES = 8  # --verbose shows the innermost frames: where the bug is


class FileTimeout(BaseException):
    """The file's budget ran out. A ``BaseException`` so that no ``except Exception`` in a pass
    can swallow it; ``where`` names the pass that was running, once known."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"timed out after {seconds:g} s")
        self.seconds = seconds
        self.where: str | None = None


class InternalError(Exception):
    """An unexpected exception in slimfile's own code; ``where`` names the pass, rule or stage."""

    def __init__(self, where: str, cause: BaseException) -> None:
        super().__init__(f"{where}: {type(cause).__name__}: {cause}")
        self.where = where
        self.cause = cause


class TimedOut(DockerfileError):
    """A file whose processing ran past the per-file budget."""


class InternalFailure(DockerfileError):
    """A file whose processing hit a bug; ``details`` is a short traceback for ``--verbose``."""

    def __init__(self, message: str, *, path: str | None = None, details: str = "") -> None:
        super().__init__(message, path=path)
        self.details = details


# budgets longer than this (about 31 years) are no budget: setitimer takes at most a few
# billion seconds, and a timeout of 1e23 was an OverflowError on every file
ENDLESS = 1e9


def parse_timeout(value: object, source: str) -> float | None:
    """Seconds from ``--timeout`` or the ``timeout`` setting; ``None`` (no budget) for ``0``,
    ``"none"``, ``false`` or more than ``ENDLESS``. Raises ValueError with a message naming
    ``source``."""
    if value is False or (isinstance(value, str) and value.strip().lower() == "none"):
        return None
    try:
        seconds = float("nan") if isinstance(value, bool) else float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        seconds = float("nan")
    if not 0 <= seconds < float("inf"):
        raise ValueError(f"{source} must be a number of seconds, 0 or 'none' (got {value!r})")
    return seconds if 0 < seconds <= ENDLESS else None


_armed = False  # whether an alarm now means "this file's budget is spent"
_budget = 0.0


def default_budget(size: int) -> float:
    """The budget of a file of ``size`` bytes when none is set: ``DEFAULT_TIMEOUT`` seconds,
    and as many per MiB for a bigger file. Only a stall should hit it, and a file near the
    4 MiB input limit (hundreds of thousands of instructions) can take a minute to fix on a
    slow machine (57 s here): a flat minute would stop it on a busier one; a budget that grows
    with the input stays about four times what its size can take."""
    return DEFAULT_TIMEOUT * max(1.0, size / MIB)


def _on_alarm(_signum, _frame) -> None:
    if _armed:
        raise FileTimeout(_budget)


def can_time_out() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    """Raise :class:`FileTimeout` in the block once ``seconds`` have passed (no limit for None)."""
    global _armed, _budget
    if not seconds or not can_time_out():
        yield
        return
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    _budget, _armed = seconds, True
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        _armed = False  # an alarm that is already on its way now does nothing
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def blame(where: str | Callable[[], str], expected: tuple[type[BaseException], ...] = ()) -> Iterator[None]:
    """Turn an unexpected exception in the block into an :class:`InternalError` naming ``where``
    (a string, or a callable that makes it only when needed), and tell a timeout where it hit.

    ``expected`` exceptions pass through (the parser's :class:`DockerfileError` is the input's
    fault), and so does ``RecursionError``: an input too deeply nested, not a bug."""
    try:
        yield
    except (InternalError, RecursionError, *expected):
        raise
    except FileTimeout as exc:
        if exc.where is None:
            exc.where = where() if callable(where) else where
        raise
    except Exception as exc:
        raise InternalError(where() if callable(where) else where, exc) from exc


def pass_label(check: Callable) -> str:
    """``pass apt (SF101-SF106)``: the pass module's name and its rule codes."""
    import sys

    module_name = getattr(check, "__module__", None) or "?"
    module = sys.modules.get(module_name)
    codes = [rule.code for rule in getattr(module, "RULES", ())]
    name = module_name.rsplit(".", 1)[-1]
    if getattr(check, "__name__", "check") != "check":
        name = f"{name}.{check.__name__}"
    if not codes:
        return f"pass {name}"
    shown = ", ".join(codes) if len(codes) <= 3 else f"{codes[0]}-{codes[-1]}"
    return f"pass {name} ({shown})"


def short_traceback(exc: BaseException, frames: int = TRACEBACK_FRAMES) -> str:
    """The innermost ``frames`` frames of the original exception, as ``traceback`` prints them."""
    original = exc.cause if isinstance(exc, InternalError) else exc
    lines = traceback.format_exception(type(original), original, original.__traceback__, limit=-frames)
    return "".join(lines).rstrip("\n")


def timeout_error(exc: FileTimeout, path: str) -> TimedOut:
    where = f" in {exc.where}" if exc.where else ""
    return TimedOut(
        f"timed out after {exc.seconds:g} s{where} (the per-file budget: --timeout / `timeout`); the file is left as it was",
        path=path,
    )


def internal_error(exc: BaseException, path: str) -> InternalFailure:
    if isinstance(exc, InternalError):
        where, cause = exc.where, exc.cause
    else:
        where, cause = "slimfile", exc
    message = (
        f"internal error in {where}: {type(cause).__name__}: {cause}; the file is left as it was "
        "(a bug in slimfile: please report it with this file; --verbose shows the traceback)"
    )
    return InternalFailure(message, path=path, details=short_traceback(exc))
