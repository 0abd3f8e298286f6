"""HTTP caching: validators and Cache-Control that follow the lookup's own expiry."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.cache import get_max_age

from tests.unit.conftest import UPSTREAM
from weather.models import WeatherLookup

pytestmark = pytest.mark.django_db

API = "/api/weather"
WEATHER = re.compile(rf"{re.escape(UPSTREAM)}/data/2\.5/weather\?.*")


def directives(response) -> set[str]:
    return {part.strip() for part in response["Cache-Control"].split(",")}


def max_age(response) -> int:
    seconds = get_max_age(response)
    assert seconds is not None, response["Cache-Control"]
    return seconds


def test_a_fresh_answer_may_be_kept_by_any_cache_until_the_lookup_expires(client, stubbed_services):
    response = client.get(API, {"q": "London"})
    assert response.status_code == 200
    assert "public" in directives(response)
    assert 595 <= max_age(response) <= 600  # WEATHER_CACHE_TTL, less the time taken
    assert f"s-maxage={max_age(response)}" in directives(response)
    # Servable by a cache while this site would serve it stale: 6 h from the fetch.
    assert "stale-if-error=21000" in directives(response)
    assert response["ETag"].startswith('W/"')  # weak: see weather/freshness.py
    assert response["Last-Modified"].endswith("GMT")


def test_the_max_age_shrinks_with_the_time_left(client, stubbed_services):
    client.get(API, {"q": "London"})
    WeatherLookup.objects.update(expires_at=timezone.now() + timedelta(seconds=42))
    assert 40 <= max_age(client.get(API, {"q": "London"})) <= 42


def test_a_conditional_get_with_the_same_etag_is_304_without_a_body(client, stubbed_services):
    first = client.get(API, {"q": "London"})
    again = client.get(API, {"q": "London"}, headers={"if-none-match": first["ETag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]
    assert "public" in directives(again)


def test_a_new_fetch_is_a_new_etag(client, stubbed_services):
    first = client.get(API, {"q": "London"})
    WeatherLookup.objects.update(expires_at=timezone.now())
    again = client.get(API, {"q": "London"}, headers={"if-none-match": first["ETag"]})
    assert again.status_code == 200
    assert again["ETag"] != first["ETag"]


def test_a_stale_answer_is_never_cached_as_fresh(client, stubbed_services):
    client.get(API, {"q": "London"})
    an_hour_ago = timezone.now() - timedelta(hours=1)
    WeatherLookup.objects.update(fetched_at=an_hour_ago, expires_at=an_hour_ago)
    stubbed_services.get(WEATHER, status_code=503, text="down")
    response = client.get(API, {"q": "London"})
    assert response.json()["source"] == "stale"
    assert {"no-cache", "no-store", "private"} <= directives(response)
    assert "public" not in directives(response)


@pytest.mark.parametrize("params", [{"q": "Atlantis"}, {"lat": "999", "lon": "0"}])
def test_errors_are_not_cached(client, stubbed_services, params):
    response = client.get(API, params)
    assert response.status_code in (400, 404)
    assert {"no-cache", "no-store"} <= directives(response)
