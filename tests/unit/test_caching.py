"""The per-process caches, lazily built objects and buffered writes, and their registry."""

from __future__ import annotations

import functools
import importlib
import pkgutil
import threading
import time
import types
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import override_settings

import weather
from tests.fakes.clock import Clock
from weather.caching import (
    NO_SETTING,
    PROCESS_CACHES,
    BoundedCache,
    Lazy,
    Memo,
    PendingWrites,
    ProcessCaches,
    TimedValue,
    clear_all,
    deep_size,
)

# --- BoundedCache ----------------------------------------------------------------------


def bounded(*, max_entries: int = 3, max_bytes: int = 100, clock=time.monotonic):
    return BoundedCache[bytes](
        name="test",
        max_entries=max_entries,
        max_bytes=max_bytes,
        weigh=len,
        clock=clock,
        registry=ProcessCaches(),
    )


def test_the_least_recently_used_entry_goes_first_past_the_count():
    cache = bounded()
    for key in "abc":
        cache.put(key, b"x")
    assert cache.get("a") == b"x"  # now the most recently used
    cache.put("d", b"x")
    assert cache.get("b") is None
    assert [cache.get(key) for key in "acd"] == [b"x", b"x", b"x"]
    assert len(cache) == 3


def test_entries_are_evicted_until_the_bytes_fit():
    cache = bounded(max_entries=100)
    cache.put("a", b"a" * 40)
    cache.put("b", b"b" * 40)
    cache.put("c", b"c" * 40)  # 120 bytes: "a" must go
    assert cache.get("a") is None
    assert cache.size_bytes == 80
    assert cache.get("b") is not None
    assert cache.get("c") is not None


def test_a_value_larger_than_the_whole_allowance_is_not_kept():
    cache = bounded()
    cache.put("small", b"s")
    cache.put("huge", b"h" * 101)
    assert cache.get("huge") is None
    assert cache.get("small") == b"s"
    assert cache.size_bytes == 1


def test_replacing_a_value_counts_only_its_new_weight():
    cache = bounded()
    cache.put("a", b"a" * 60)
    cache.put("a", b"a" * 10)
    assert cache.size_bytes == 10
    assert len(cache) == 1


def test_an_entry_put_with_a_ttl_is_forgotten_once_that_old():
    clock = Clock()
    cache = bounded(clock=clock)
    cache.put("a", b"x", ttl=10)
    cache.put("forever", b"y")
    clock.now += 9.9
    assert cache.get("a") == b"x"
    clock.now += 0.1
    assert cache.get("a") is None
    assert cache.size_bytes == 1  # the expired entry's bytes are given back
    clock.now += 10**6
    assert cache.get("forever") == b"y"


def test_get_or_make_makes_once_and_keeps_it():
    cache = bounded()
    made: list[str] = []

    def make() -> bytes:
        made.append("once")
        return b"value"

    assert cache.get_or_make("k", make) == b"value"
    assert cache.get_or_make("k", make) == b"value"
    assert made == ["once"]


def test_the_cache_stays_within_its_bounds_under_concurrent_use():
    cache = bounded(max_entries=50, max_bytes=1000)

    def use(worker: int) -> None:
        for i in range(500):
            cache.put((worker, i % 70), b"x" * (i % 30))
            cache.get((worker, (i * 7) % 70))

    threads = [threading.Thread(target=use, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(cache) <= 50
    assert 0 <= cache.size_bytes <= 1000


def test_deep_size_grows_with_what_a_value_refers_to():
    @dataclass
    class Holder:
        items: tuple[str, ...]

    small = deep_size(Holder(items=("a",)))
    large = deep_size(Holder(items=tuple(f"item-{i}" * 20 for i in range(100))))
    assert large > small + 100 * 100
    loop: list[object] = []
    loop.append(loop)
    assert deep_size(loop) > 0  # a cycle is walked once


# --- TimedValue and Lazy -----------------------------------------------------------------


def test_a_timed_value_is_made_again_once_it_is_that_old():
    clock = Clock()
    value = TimedValue[int](name="test", seconds=60, clock=clock, registry=ProcessCaches())
    counter = iter(range(10))
    assert value.get_or_make(lambda: next(counter)) == 0
    clock.now += 59
    assert value.get_or_make(lambda: next(counter)) == 0
    clock.now += 1
    assert value.get_or_make(lambda: next(counter)) == 1


def test_a_lazy_object_is_built_once_even_when_the_first_users_race():
    builds: list[object] = []
    ready = threading.Barrier(8)

    def build() -> object:
        builds.append(object())
        return builds[-1]

    lazy = Lazy(build, name="test", registry=ProcessCaches())
    seen: list[object] = []

    def use() -> None:
        ready.wait()
        seen.append(lazy())

    threads = [threading.Thread(target=use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(builds) == 1
    assert all(item is builds[0] for item in seen)
    lazy.clear()
    assert lazy() is not builds[0]


# --- PendingWrites -----------------------------------------------------------------------


def pending(write: Callable[[Counter[str]], Counter[str]], **kwargs) -> PendingWrites[str]:
    options: dict[str, object] = {"every": lambda: 10.0} | kwargs
    return PendingWrites(name="test", write=write, registry=ProcessCaches(), **options)  # type: ignore[arg-type]


def test_counts_are_written_together_once_the_interval_has_passed():
    clock = Clock()
    written: list[Counter[str]] = []

    def write(batch: Counter[str]) -> Counter[str]:
        written.append(batch)
        return Counter()

    writes = pending(write, clock=clock)
    writes.add("a")
    writes.add("a")
    writes.add("b")
    assert written == []
    clock.now += 10
    writes.add("b")
    assert written == [Counter({"a": 2, "b": 2})]
    assert len(writes) == 0


def test_what_could_not_be_written_waits_for_the_next_write():
    attempts: list[Counter[str]] = []

    def write(batch: Counter[str]) -> Counter[str]:
        attempts.append(batch.copy())
        return batch if len(attempts) == 1 else Counter()

    writes = pending(write, every=lambda: 0.0)
    writes.add("a")  # the first write fails and hands "a" back
    writes.add("a")
    assert attempts == [Counter({"a": 1}), Counter({"a": 2})]
    assert len(writes) == 0


def test_pending_entries_are_bounded_while_writes_fail():
    writes = pending(lambda batch: batch, every=lambda: 0.0, max_entries=5)
    for i in range(50):
        writes.add(f"entry-{i}")
    assert len(writes) == 5
    assert writes.dropped == 45


# --- The registry ------------------------------------------------------------------------


def test_clear_all_forgets_every_registered_entry():
    registry = ProcessCaches()
    cache = BoundedCache[bytes](name="c", max_entries=2, max_bytes=10, weigh=len, registry=registry)
    lazy = Lazy(object, name="l", registry=registry)
    first = lazy()
    cache.put("k", b"v")
    registry.clear_all()
    assert cache.get("k") is None
    assert lazy() is not first


def test_a_changed_setting_clears_only_what_depends_on_it():
    registry = ProcessCaches()
    vault = Lazy(object, name="vault", cleared_by=("VAULT_",), registry=registry)
    data = PendingWrites[str](
        name="data", write=lambda batch: Counter(), every=lambda: 60.0, registry=registry
    )
    derived = BoundedCache[bytes](
        name="derived", max_entries=2, max_bytes=10, weigh=len, registry=registry
    )
    kept, data_entry = vault(), "counted"
    data.add(data_entry)
    derived.put("k", b"v")
    registry.clear_all(setting="OPENWEATHER_BASE_URL")
    assert vault() is kept
    assert len(data) == 1
    assert derived.get("k") is None  # derived from settings: any change clears it
    registry.clear_all(setting="VAULT_ADDR")
    assert vault() is not kept
    assert len(data) == 1  # counts are data: only clear_all() drops them


def test_a_name_is_registered_once():
    registry = ProcessCaches()
    Lazy(object, name="same", registry=registry)
    with pytest.raises(ValueError, match="same"):
        Lazy(object, name="same", registry=registry)


# --- Memo ------------------------------------------------------------------------------


def test_a_memo_computes_once_per_argument_and_forgets_all_when_full():
    computed: list[str] = []

    def upper(text: str) -> str:
        computed.append(text)
        return text.upper()

    memo = Memo(upper, name="test.memo", max_entries=2, registry=ProcessCaches())
    assert [memo("a"), memo("b"), memo("a")] == ["A", "B", "A"]
    assert computed == ["a", "b"]
    memo("c")  # a third: the first two are forgotten
    assert len(memo) == 1
    memo("a")
    assert computed == ["a", "b", "c", "a"]
    memo.clear()
    assert len(memo) == 0


def test_a_visitor_hash_follows_the_secret_key():
    from weather.popularity import visitor_id

    before = visitor_id("192.0.2.1")
    assert visitor_id("192.0.2.1") == before
    with override_settings(SECRET_KEY="another-secret-key-for-this-test-only-0123456789"):
        assert visitor_id("192.0.2.1") != before
    assert visitor_id("192.0.2.1") == before


def test_django_s_setting_changed_reaches_the_registry():
    from weather.vault import api_keys

    with override_settings(VAULT_ADDR="http://127.0.0.1:1"):
        first = api_keys()
    assert api_keys() is not first  # leaving the override changed VAULT_ADDR back


def _weather_modules() -> list[types.ModuleType]:
    names = [
        info.name
        for info in pkgutil.walk_packages(weather.__path__, "weather.")
        if ".migrations" not in info.name and ".management.commands" not in info.name
    ]
    return [importlib.import_module(name) for name in names]


MUTABLE_STATE = (dict, list, set, deque, Counter)
DJANGO_NAMES = {"urlpatterns", "register"}


def test_every_piece_of_module_state_in_the_app_is_registered():
    unregistered = []
    for module in _weather_modules():
        for name, value in vars(module).items():
            if name.isupper() or name.startswith("__") or name in DJANGO_NAMES:
                continue  # constants, and what Python and Django keep
            hand_rolled_cache = (
                isinstance(value, functools._lru_cache_wrapper)
                and value.__module__ == module.__name__
            )
            kept_state = isinstance(value, (*MUTABLE_STATE, BoundedCache, TimedValue, Lazy, Memo))
            if hand_rolled_cache or (kept_state and value not in PROCESS_CACHES):
                unregistered.append(f"{module.__name__}.{name}")
    assert unregistered == []


def test_the_app_registers_its_caches_under_these_names():
    _weather_modules()
    assert {
        "clients.default_client",
        "client_ip.keys",
        "client_ip.trusted_proxies",
        "fragments.report_parts",
        "hit_counts.pending",
        "places.popular",
        "popularity.pending_visits",
        "popularity.visitors",
        "redaction.secrets",
        "reports.memo",
        "serializers.encoded_reports",
        "vault.api_keys",
    } <= set(PROCESS_CACHES.names())


def test_the_autouse_fixture_starts_each_test_with_empty_caches():
    from weather.redaction import mask, remember

    remember("a-secret-to-forget")
    assert mask("a-secret-to-forget") == "********"
    clear_all()
    assert mask("a-secret-to-forget") == "a-secret-to-forget"
    assert NO_SETTING == ()
