"""Buffered cache-hit counters: summed in memory, written in one UPDATE per row."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import DatabaseError, connection
from django.utils import timezone

from weather import hit_counts
from weather.models import Place, WeatherLookup

pytestmark = pytest.mark.django_db


@pytest.fixture
def lookup() -> WeatherLookup:
    place = Place.objects.create(name="Here", lat=1, lon=1)
    now = timezone.now()
    return WeatherLookup.objects.create(
        place=place, units="metric", payload={}, fetched_at=now, expires_at=now
    )


def test_hits_wait_in_memory_until_the_interval_passes(settings, lookup, django_assert_num_queries):
    settings.WEATHER_HIT_FLUSH_SECONDS = 3600
    hit_counts.flush()
    with django_assert_num_queries(0):
        hit_counts.record(WeatherLookup, lookup.pk)
        hit_counts.record(WeatherLookup, lookup.pk)
    lookup.refresh_from_db()
    assert lookup.hit_count == 0
    with django_assert_num_queries(1):
        hit_counts.flush()
    lookup.refresh_from_db()
    assert lookup.hit_count == 2


def test_with_no_interval_every_hit_is_written_at_once(settings, lookup):
    settings.WEATHER_HIT_FLUSH_SECONDS = 0
    hit_counts.record(WeatherLookup, lookup.pk)
    lookup.refresh_from_db()
    assert lookup.hit_count == 1


@contextmanager
def database_refusing_writes() -> Iterator[None]:
    def refuse(execute, sql, params, many, context):
        if sql.lstrip().upper().startswith("UPDATE"):
            raise DatabaseError("the database is down")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(refuse):
        yield


# Autocommit, as in production: in a test's transaction the failed UPDATE would spoil it.
@pytest.mark.django_db(transaction=True)
def test_a_database_error_during_a_flush_keeps_the_counts_for_the_next(settings, lookup):
    settings.WEATHER_HIT_FLUSH_SECONDS = 3600
    hit_counts.record(WeatherLookup, lookup.pk)
    hit_counts.record(WeatherLookup, lookup.pk)
    with database_refusing_writes():
        hit_counts.flush()  # must not raise: statistics never fail a request
    lookup.refresh_from_db()
    assert lookup.hit_count == 0
    hit_counts.flush()
    lookup.refresh_from_db()
    assert lookup.hit_count == 2
