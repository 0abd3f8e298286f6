"""The stored answers' one write path (``FetchedAnswer.store``): one statement usually,
and a correct row whatever happened to it while the answer was being fetched."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from weather.models import AirQualityLookup, Place, WeatherLookup

pytestmark = pytest.mark.django_db


@pytest.fixture
def place() -> Place:
    return Place.objects.create(name="London", country="GB", lat="51.5073", lon="-0.1277")


def answer(n: int) -> dict[str, object]:
    now = timezone.now()
    return {"payload": {"n": n}, "fetched_at": now, "expires_at": now + timedelta(minutes=10)}


def writes(queries: CaptureQueriesContext) -> list[str]:
    skip = ("BEGIN", "SAVEPOINT", "RELEASE", "COMMIT")
    return [q["sql"].split()[0] for q in queries.captured_queries if not q["sql"].startswith(skip)]


@pytest.mark.parametrize("model", [WeatherLookup, AirQualityLookup])
def test_a_first_answer_is_one_insert_counted_once(place, model):
    key = {"place": place} | ({"units": "metric"} if model is WeatherLookup else {})
    with CaptureQueriesContext(connection) as queries:
        row = model.store(None, answer(1), **key)
    assert writes(queries) == ["INSERT"]
    stored = model.objects.get(pk=row.pk)
    assert (stored.payload, stored.fetch_count) == ({"n": 1}, 1)


def test_a_known_row_is_one_update_that_counts_the_fetch(place):
    known = WeatherLookup.store(None, answer(1), place=place, units="metric")
    with CaptureQueriesContext(connection) as queries:
        row = WeatherLookup.store(known, answer(2), place=place, units="metric")
    assert writes(queries) == ["UPDATE"]
    assert row.payload == {"n": 2}
    stored = WeatherLookup.objects.get(pk=known.pk)
    assert (stored.payload, stored.fetch_count) == ({"n": 2}, 2)


def test_a_row_deleted_while_fetching_is_stored_again(place):
    known = WeatherLookup.store(None, answer(1), place=place, units="metric")
    WeatherLookup.objects.all().delete()  # an operator, in the admin
    WeatherLookup.store(known, answer(2), place=place, units="metric")
    stored = WeatherLookup.objects.get(place=place)
    assert (stored.payload, stored.fetch_count) == ({"n": 2}, 1)


def test_a_row_another_worker_stored_meanwhile_is_overwritten_and_counted(place):
    WeatherLookup.store(None, answer(1), place=place, units="metric")  # the other worker
    WeatherLookup.store(None, answer(2), place=place, units="metric")  # read none before
    stored = WeatherLookup.objects.get(place=place)
    assert (stored.payload, stored.fetch_count) == ({"n": 2}, 2)
