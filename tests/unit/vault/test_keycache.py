"""The key cache: its TTL, one read at a time outside its lock, and the backoff after a failure."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

import pytest

from tests.fakes.clock import Clock
from weather.vault import ApiKeyCache, VaultError, VaultSealed, VaultUnreachable


class Reads:
    def __init__(self, *values: str) -> None:
        self.values = list(values)
        self.count = 0

    def __call__(self) -> str:
        self.count += 1
        return self.values[min(self.count, len(self.values)) - 1]


def test_key_is_served_from_memory_within_the_ttl():
    clock, reads = Clock(), Reads("first")
    cache = ApiKeyCache(read=reads, ttl=300, clock=clock)
    assert cache.get().reveal() == "first"
    clock.now += 299
    assert cache.get().reveal() == "first"
    assert reads.count == 1


def test_key_is_read_again_once_the_ttl_has_passed():
    clock, reads = Clock(), Reads("first", "second")
    cache = ApiKeyCache(read=reads, ttl=300, clock=clock)
    cache.get()
    clock.now += 300
    assert cache.get().reveal() == "second"
    assert reads.count == 2


def test_invalidate_forces_the_next_get_to_read_vault():
    reads = Reads("first", "rotated")
    cache = ApiKeyCache(read=reads, ttl=300, clock=Clock())
    cache.get()
    cache.invalidate()
    assert not cache.is_cached
    assert cache.get().reveal() == "rotated"
    assert cache.reads == 2


def test_a_failed_read_leaves_nothing_cached():
    def failing() -> str:
        raise VaultUnreachable("down")

    cache = ApiKeyCache(read=failing, ttl=300, clock=Clock())
    with pytest.raises(VaultUnreachable):
        cache.get()
    assert not cache.is_cached


def test_repr_never_shows_the_key():
    cache = ApiKeyCache(read=lambda: "s3cret-value", ttl=300)
    cache.get()
    assert "s3cret-value" not in repr(cache)


def failing(error: Exception) -> Callable[[], str]:
    calls = []

    def read() -> str:
        calls.append(1)
        raise error

    read.calls = calls  # type: ignore[attr-defined]
    return read


def test_a_failed_read_is_not_repeated_during_the_backoff():
    clock = Clock()
    read = failing(VaultUnreachable("down"))
    cache = ApiKeyCache(read=read, ttl=300, clock=clock, backoff=2, backoff_max=30)
    with pytest.raises(VaultUnreachable):
        cache.get()
    for _ in range(5):
        with pytest.raises(VaultUnreachable, match="down"):
            cache.get()
    assert len(read.calls) == 1  # type: ignore[attr-defined]
    clock.now += 2  # the first window is 1 to 2 s
    with pytest.raises(VaultUnreachable):
        cache.get()
    assert len(read.calls) == 2  # type: ignore[attr-defined]


def seconds_until_the_next_read(cache: ApiKeyCache, clock: Clock, calls: list[int]) -> float:
    """Move the clock in small steps until ``get()`` calls Vault again; return how far."""
    start, before = clock.now, len(calls)
    while len(calls) == before:
        clock.now += 0.01
        with contextlib.suppress(VaultError):
            cache.get()
    return clock.now - start


def test_the_backoff_doubles_up_to_its_maximum():
    clock, read = Clock(), failing(VaultSealed("sealed"))
    cache = ApiKeyCache(read=read, ttl=300, clock=clock, backoff=2, backoff_max=8)
    with pytest.raises(VaultSealed):
        cache.get()
    windows = [seconds_until_the_next_read(cache, clock, read.calls) for _ in range(5)]  # type: ignore[attr-defined]
    # 1-2 s, 2-4 s, then 4-8 s from there on (jitter picks within each).
    assert 1 <= windows[0] <= 2.02
    assert 2 <= windows[1] <= 4.02
    assert all(4 <= window <= 8.02 for window in windows[2:])


def test_a_success_ends_the_backoff():
    clock = Clock()
    outcomes: list[str | Exception] = [VaultSealed("sealed"), "key-value-1", VaultSealed("x")]

    def read() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    cache = ApiKeyCache(read=read, ttl=10, clock=clock, backoff=2, backoff_max=30)
    with pytest.raises(VaultSealed):
        cache.get()
    clock.now += 2
    assert cache.get().reveal() == "key-value-1"
    clock.now += 10
    with pytest.raises(VaultSealed):
        cache.get()  # a first failure again: the window is back to 1-2 s
    clock.now += 2
    with pytest.raises(IndexError):
        cache.get()  # read was called: no backoff left over from before


def test_a_zero_backoff_retries_at_once():
    read = failing(VaultUnreachable("down"))
    cache = ApiKeyCache(read=read, ttl=300, clock=Clock(), backoff=0)
    for _ in range(3):
        with pytest.raises(VaultUnreachable):
            cache.get()
    assert len(read.calls) == 3  # type: ignore[attr-defined]


class BlockedRead:
    """A read that hangs until the test lets it go, as a Vault that does not answer."""

    def __init__(self, value: str = "fresh-key-value") -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.value = value
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        self.started.set()
        assert self.release.wait(10)
        return self.value


def start_reading(cache: ApiKeyCache) -> threading.Thread:
    thread = threading.Thread(target=cache.get, daemon=True)
    thread.start()
    return thread


def test_others_get_the_expiring_key_while_one_thread_reads():
    clock, read = Clock(), BlockedRead()
    cache = ApiKeyCache(read=Reads("old-key-value"), ttl=300, clock=clock)
    cache.get()
    cache._read = read  # the next read is the slow one
    clock.now += 300
    reader = start_reading(cache)
    assert read.started.wait(5)
    assert [cache.get().reveal() for _ in range(3)] == ["old-key-value"] * 3
    read.release.set()
    reader.join(5)
    assert cache.get().reveal() == "fresh-key-value"
    assert read.calls == 1


def test_without_a_key_others_wait_briefly_for_the_read_then_give_up():
    read = BlockedRead()
    cache = ApiKeyCache(read=read, ttl=300, clock=Clock(), wait=0.2)
    reader = start_reading(cache)
    assert read.started.wait(5)
    with pytest.raises(VaultUnreachable, match="still being read"):
        cache.get()
    assert read.calls == 1
    read.release.set()
    reader.join(5)
    assert cache.get().reveal() == "fresh-key-value"


def test_a_waiting_thread_gets_the_key_the_reader_brings():
    read = BlockedRead()
    cache = ApiKeyCache(read=read, ttl=300, clock=Clock(), wait=5)
    reader = start_reading(cache)
    assert read.started.wait(5)
    threading.Timer(0.1, read.release.set).start()
    assert cache.get().reveal() == "fresh-key-value"
    reader.join(5)
    assert read.calls == 1


def test_a_key_read_before_invalidate_is_not_kept():
    read = BlockedRead("refused-key-value")
    cache = ApiKeyCache(read=read, ttl=300, clock=Clock())
    reader = start_reading(cache)
    assert read.started.wait(5)
    cache.invalidate()
    read.release.set()
    reader.join(5)
    assert not cache.is_cached
