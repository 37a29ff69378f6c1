"""Stop requests: ``slimfile verify`` must still remove what it built, and ``check`` / ``fix``
must stop their worker processes rather than leave them running.

Ctrl-C is already an exception (``KeyboardInterrupt``); SIGTERM (what ``timeout(1)`` and CI job
limits send) and SIGHUP (a closed terminal) are made one too, :class:`Interrupted`, so that every
``finally`` runs: the probe file is restored, the running build is stopped, images and
containers are removed, the workers of a parallel ``check`` are ended. While that clean-up runs, further stop requests are held back until it
is done (a second Ctrl-C must not leave half of it undone); only SIGKILL can cut it short.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


class Interrupted(BaseException):
    """SIGTERM or SIGHUP arrived; raised so that clean-up code runs."""


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def stop_signals_raise() -> Iterator[None]:
    """Turn SIGTERM/SIGHUP into :class:`Interrupted` in the block (Ctrl-C already raises)."""
    if not _main_thread():
        yield
        return

    def handler(signum, _frame):
        raise Interrupted(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextmanager
def stop_signals_held() -> Iterator[list[str]]:
    """Record Ctrl-C, SIGTERM and SIGHUP instead of acting on them while the block runs; the list
    of the ones that came is what the block gets (see :func:`act_on_held`)."""
    held: list[str] = []
    if not _main_thread():
        yield held
        return

    def handler(signum, _frame):
        held.append(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, *STOP_SIGNALS)}
    try:
        yield held
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def act_on_held(held: list[str]) -> None:
    """Stop now if a stop request was held back."""
    if "SIGINT" in held:
        raise KeyboardInterrupt
    if held:
        raise Interrupted(held[0])
