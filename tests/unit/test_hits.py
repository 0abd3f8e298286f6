"""Buffered cache-hit counters: summed in memory, written in one UPDATE per row."""

from __future__ import annotations

import pytest
from django.utils import timezone

from weather import hits
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
    hits.flush()
    with django_assert_num_queries(0):
        hits.record(WeatherLookup, lookup.pk)
        hits.record(WeatherLookup, lookup.pk)
    lookup.refresh_from_db()
    assert lookup.hit_count == 0
    with django_assert_num_queries(1):
        hits.flush()
    lookup.refresh_from_db()
    assert lookup.hit_count == 2


def test_with_no_interval_every_hit_is_written_at_once(settings, lookup):
    settings.WEATHER_HIT_FLUSH_SECONDS = 0
    hits.record(WeatherLookup, lookup.pk)
    lookup.refresh_from_db()
    assert lookup.hit_count == 1
