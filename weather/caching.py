"""A bounded, thread-safe per-process cache: what each worker keeps of work done once.

Every per-process cache in the app is one of these, named in its module, with a
public ``clear``: the database stays the shared truth, these only save repeating
work a worker has already done (encoding a report, rendering its page part).
"""

from __future__ import annotations

import atexit
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")
K = TypeVar("K", bound=Hashable)


class BoundedCache(Generic[V]):
    """At most ``size`` values by key; the least recently used goes first."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, key: Hashable, make: Callable[[], V]) -> V:
        """The value for ``key``, made (outside the lock) and kept if absent."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        value = make()
        with self._lock:
            self._entries[key] = value
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


class TimedValue(Generic[V]):
    """One value, made again once it is ``seconds`` old."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._value: tuple[float, V] | None = None
        self._lock = threading.Lock()

    def get_or_make(self, make: Callable[[], V]) -> V:
        with self._lock:
            if self._value is not None and time.monotonic() < self._value[0]:
                return self._value[1]
        value = make()
        with self._lock:
            self._value = (time.monotonic() + self._seconds, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._value = None


class PendingWrites(Generic[K]):
    """Entries counted in memory and handed to ``write`` together, at most once every
    ``every()`` seconds (0: at once), and when the process exits.

    ``write`` gets the counts gathered since the last write and returns those it could
    not store, which wait for the next one: statistics must never fail a request.
    """

    def __init__(
        self, *, write: Callable[[Counter[K]], Counter[K]], every: Callable[[], float]
    ) -> None:
        self._write = write
        self._every = every
        self._pending: Counter[K] = Counter()
        self._last = time.monotonic()
        self._lock = threading.Lock()
        atexit.register(self.flush)

    def add(self, entry: K) -> None:
        """Count ``entry`` once; write everything pending if the interval has passed."""
        with self._lock:
            self._pending[entry] += 1
            if time.monotonic() - self._last < self._every():
                return
            self._last = time.monotonic()
        self.flush()

    def flush(self) -> None:
        """Write everything pending now."""
        with self._lock:
            batch = self._pending
            self._pending = Counter()
        if not batch:
            return
        unwritten = self._write(batch)
        if unwritten:
            with self._lock:
                self._pending.update(unwritten)

    def discard(self) -> None:
        """Drop everything pending without writing it (a test's fresh start)."""
        with self._lock:
            self._pending.clear()
