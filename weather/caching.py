"""What each worker keeps in memory, in one registry: bounded caches, lazily built objects,
buffered writes, and the one call that forgets them all.

The database stays the shared truth; these only save a worker from repeating work it
has already done (encoding a report, rendering its page part) or from writing on every
request. Every piece of process state registers itself under a name when it is made, so
one call, ``clear_all()``, forgets all of it: the tests' autouse fixture calls it, and
so does the ``setting_changed`` receiver below (for the entries a changed setting
invalidates). As ``django.contrib.sites`` has one ``SITE_CACHE`` and one
``clear_cache()``, a test never lists the caches to reset, and a new cache cannot be
forgotten by it::

    PROCESS_CACHES                 the registry: register(), clear_all(), names()
    ├── BoundedCache   values by key, bounded by count and by (approximate) bytes,
    │                  least recently used first out, each optionally for a time
    ├── TimedValue     one value, made again once it is a given age
    ├── Lazy           one object built on first use (a client, a key cache)
    ├── Memo           a pure function's results for its last few thousand arguments
    └── PendingWrites  counts gathered in memory, written together every few seconds

Sizes are bounded by construction: every cache has a count limit, and a byte limit
where its values vary in size (a Memo's are short strings); a buffered writer has a
limit on its distinct pending entries.
"""

from __future__ import annotations

import atexit
import dataclasses
import sys
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, Protocol, TypeVar

from django.core.signals import setting_changed
from django.dispatch import receiver

V = TypeVar("V")
K = TypeVar("K", bound=Hashable)
C = TypeVar("C", bound="Clearable")

Clock = Callable[[], float]

# Prefixes of the settings whose change makes an entry wrong. "" matches every setting:
# what is derived from settings (rendered parts, encoded documents) is simply made again.
ANY_SETTING: tuple[str, ...] = ("",)
NO_SETTING: tuple[str, ...] = ()


class Clearable(Protocol):
    def clear(self) -> None: ...


class ProcessCaches:
    """The per-process state of the app, by name, with one call to forget it all."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[Clearable, tuple[str, ...]]] = {}
        self._lock = threading.Lock()

    def register(self, entry: C, *, name: str, cleared_by: Iterable[str] = ANY_SETTING) -> C:
        """Keep ``entry`` under ``name``; ``cleared_by``: prefixes of the settings whose
        change clears it (``ANY_SETTING``, or ``NO_SETTING`` for state that is data)."""
        with self._lock:
            if name in self._entries:
                raise ValueError(f"A process cache named {name!r} is already registered")
            self._entries[name] = (entry, tuple(cleared_by))
        return entry

    def clear_all(self, *, setting: str | None = None) -> None:
        """Forget everything (a new worker's state); with ``setting``, only what it affects."""
        with self._lock:
            entries = list(self._entries.values())
        for entry, prefixes in entries:
            if setting is None or any(setting.startswith(prefix) for prefix in prefixes):
                entry.clear()

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._entries)

    def __contains__(self, entry: object) -> bool:
        with self._lock:
            return any(registered is entry for registered, _ in self._entries.values())


PROCESS_CACHES = ProcessCaches()


def clear_all(*, setting: str | None = None) -> None:
    """Forget every per-process cache, buffer and lazily built object (see ``ProcessCaches``)."""
    PROCESS_CACHES.clear_all(setting=setting)


@receiver(setting_changed)
def _clear_on_setting_change(*, setting: str, **kwargs: object) -> None:
    clear_all(setting=setting)


def deep_size(value: object) -> int:
    """About how many bytes ``value`` holds, with everything it refers to.

    Walks containers, dataclasses and plain objects once each; good enough to bound a
    cache's memory (not an exact account: interned and shared objects count once per walk).
    """
    seen: set[int] = set()
    stack = [value]
    total = 0
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        total += sys.getsizeof(item)
        if isinstance(item, (str, bytes, bytearray, int, float, complex, type)) or item is None:
            continue
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(item)
        elif dataclasses.is_dataclass(item):
            stack.extend(getattr(item, field.name) for field in dataclasses.fields(item))
        elif hasattr(item, "__dict__"):
            stack.extend(vars(item).values())
    return total


class BoundedCache(Generic[V]):
    """Values by key: at most ``max_entries`` of them and ``max_bytes`` in all (as ``weigh``
    measures them), the least recently used going first; a value heavier than the whole
    allowance is not kept. A value put with ``ttl`` is forgotten once that old."""

    def __init__(
        self,
        *,
        name: str,
        max_entries: int,
        max_bytes: int,
        weigh: Callable[[V], int] = deep_size,
        cleared_by: Iterable[str] = ANY_SETTING,
        clock: Clock = time.monotonic,
        registry: ProcessCaches = PROCESS_CACHES,
    ) -> None:
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._weigh = weigh
        self._clock = clock
        # key -> (value, its weight, the clock reading it expires at)
        self._entries: OrderedDict[Hashable, tuple[V, int, float]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        registry.register(self, name=name, cleared_by=cleared_by)

    def get(self, key: Hashable) -> V | None:
        """The value kept for ``key``, or None when there is none (or it is too old)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            value, weight, expires_at = entry
            if self._clock() >= expires_at:
                del self._entries[key]
                self._bytes -= weight
                return None
            self._entries.move_to_end(key)
            return value

    def put(self, key: Hashable, value: V, *, ttl: float | None = None) -> None:
        """Keep ``value`` for ``key`` (for ``ttl`` seconds at most), evicting the least
        recently used entries until the cache is within its bounds."""
        weight = self._weigh(value)  # outside the lock: it may walk a large value
        expires_at = float("inf") if ttl is None else self._clock() + ttl
        with self._lock:
            if (old := self._entries.pop(key, None)) is not None:
                self._bytes -= old[1]
            if weight > self._max_bytes:
                return
            self._entries[key] = (value, weight, expires_at)
            self._bytes += weight
            while len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
                _, (_, evicted, _) = self._entries.popitem(last=False)
                self._bytes -= evicted

    def get_or_make(self, key: Hashable, make: Callable[[], V]) -> V:
        """The value for ``key``, made (outside the lock) and kept if absent."""
        if (value := self.get(key)) is not None:
            return value
        value = make()
        self.put(key, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    @property
    def size_bytes(self) -> int:
        with self._lock:
            return self._bytes

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


class TimedValue(Generic[V]):
    """One value, made again once it is ``seconds`` old."""

    def __init__(
        self,
        *,
        name: str,
        seconds: float,
        cleared_by: Iterable[str] = ANY_SETTING,
        clock: Clock = time.monotonic,
        registry: ProcessCaches = PROCESS_CACHES,
    ) -> None:
        self._seconds = seconds
        self._clock = clock
        self._value: tuple[float, V] | None = None
        self._lock = threading.Lock()
        registry.register(self, name=name, cleared_by=cleared_by)

    def get_or_make(self, make: Callable[[], V]) -> V:
        with self._lock:
            if self._value is not None and self._clock() < self._value[0]:
                return self._value[1]
        value = make()
        with self._lock:
            self._value = (self._clock() + self._seconds, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._value = None


class Lazy(Generic[V]):
    """One process-wide object, built by ``build`` on first use, even when the first
    users race (``functools.cache`` may build once per racing thread); ``clear()``
    makes the next use build it again from the settings of the moment."""

    def __init__(
        self,
        build: Callable[[], V],
        *,
        name: str,
        cleared_by: Iterable[str] = ANY_SETTING,
        registry: ProcessCaches = PROCESS_CACHES,
    ) -> None:
        self._build = build
        self._value: V | None = None
        self._lock = threading.Lock()
        registry.register(self, name=name, cleared_by=cleared_by)

    def __call__(self) -> V:
        with self._lock:
            if self._value is None:
                self._value = self._build()
            return self._value

    def clear(self) -> None:
        with self._lock:
            self._value = None


_MISSING = object()


class Memo(Generic[K, V]):
    """The results of ``compute``, a pure function of one hashable argument, for at
    most ``max_entries`` arguments: when full it forgets them all and fills again. For
    small values asked for on every request (a client's key, its visitor hash), where
    a ``BoundedCache``'s lock and recency order cost as much as computing them again;
    a lookup is one dict read, safe between threads as such."""

    def __init__(
        self,
        compute: Callable[[K], V],
        *,
        name: str,
        max_entries: int,
        cleared_by: Iterable[str] = ANY_SETTING,
        registry: ProcessCaches = PROCESS_CACHES,
    ) -> None:
        self._compute = compute
        self._max_entries = max_entries
        self._values: dict[K, V] = {}
        registry.register(self, name=name, cleared_by=cleared_by)

    def __call__(self, argument: K) -> V:
        values = self._values
        value = values.get(argument, _MISSING)
        if value is _MISSING:
            value = self._compute(argument)
            if len(values) >= self._max_entries:
                values = self._values = {}
            values[argument] = value
        return value  # type: ignore[return-value]

    def __len__(self) -> int:
        return len(self._values)

    def clear(self) -> None:
        self._values = {}


class _WritesInThread(threading.local):
    """Whether this thread has written pending entries since it last set ``happened``
    to False (``weather/replay.py`` asks, around counting a kept view)."""

    happened = False


writes_in_thread = _WritesInThread()


class PendingWrites(Generic[K]):
    """Entries counted in memory and handed to ``write`` together, at most once every
    ``every()`` seconds (0: at once), and when the process exits.

    ``write`` gets the counts gathered since the last write and returns those it could
    not store, which wait for the next one: statistics must never fail a request. At
    most ``max_entries`` distinct entries wait; past that, new ones are dropped (and
    counted in ``dropped``) until a write succeeds, so a database that is down for long
    cannot make a worker's memory grow.
    """

    def __init__(
        self,
        *,
        name: str,
        write: Callable[[Counter[K]], Counter[K]],
        every: Callable[[], float],
        max_entries: int = 10_000,
        clock: Clock = time.monotonic,
        registry: ProcessCaches = PROCESS_CACHES,
    ) -> None:
        self._write = write
        self._every = every
        self._max_entries = max_entries
        self._clock = clock
        self._pending: Counter[K] = Counter()
        self._last = clock()
        self._lock = threading.Lock()
        self.dropped = 0
        # Counts are data, not derived from settings: only clear_all() drops them.
        registry.register(self, name=name, cleared_by=NO_SETTING)
        atexit.register(self.flush)

    def add(self, entry: K) -> None:
        """Count ``entry`` once; write everything pending if the interval has passed."""
        with self._lock:
            self._count(entry, 1)
            if self._clock() - self._last < self._every():
                return
            self._last = self._clock()
        self.flush()

    def flush(self) -> None:
        """Write everything pending now."""
        with self._lock:
            batch = self._pending
            self._pending = Counter()
        if not batch:
            return
        writes_in_thread.happened = True
        unwritten = self._write(batch)
        if unwritten:
            with self._lock:
                for entry, count in unwritten.items():
                    self._count(entry, count)

    def _count(self, entry: K, count: int) -> None:
        # The lock is held.
        if entry in self._pending or len(self._pending) < self._max_entries:
            self._pending[entry] += count
        else:
            self.dropped += count

    def clear(self) -> None:
        """Drop everything pending without writing it (a new worker's, or a test's, start)."""
        with self._lock:
            self._pending.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending)
