"""A time bound for one fuzz input: a hang fails the test instead of stalling the suite."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def bounded(seconds: int) -> Iterator[None]:
    """Raise :class:`TimeoutError` in the block once ``seconds`` have passed (SIGALRM, main thread)."""

    def stop(signum, frame):
        raise TimeoutError(f"one input took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
