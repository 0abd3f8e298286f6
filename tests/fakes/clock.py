"""A clock that stands still until a test moves it."""

from __future__ import annotations


class Clock:
    """Pass it where code takes ``clock=`` (a callable returning seconds); move ``now`` by hand."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
