"""HTTP caching: validators and Cache-Control that follow the lookup's own expiry."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
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


# --- the page ----------------------------------------------------------------------------

PAGE = "/"


@pytest.fixture
def warm_caches(settings):
    """As in production: each worker re-serves reports, and writes hit counts in batches."""
    settings.WEATHER_MEMO_SECONDS = 60
    settings.WEATHER_HIT_FLUSH_SECONDS = 3600


def test_a_result_page_with_all_its_choices_in_the_address_is_the_same_for_everyone(
    client, stubbed_services
):
    # Units alone are not enough: the wind unit and clock would come from the cookie.
    address = {"q": "London", "units": "metric", "wind": "ms", "clock": "24h"}
    response = client.get(PAGE, address)
    assert "public" in directives(response)
    assert 595 <= max_age(response) <= 600
    assert "Cookie" not in response.get("Vary", "")
    assert "Set-Cookie" not in response.headers


def test_without_units_in_the_address_the_page_varies_on_the_cookie(client, stubbed_services):
    response = client.get(PAGE, {"q": "London"})
    assert "public" in directives(response)
    assert "Cookie" in response["Vary"]


def test_the_units_toggle_is_never_kept_by_a_cache(client, stubbed_services):
    toggle = client.get(
        "/units", {"q": "London", "units": "imperial"}, headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert toggle.status_code == 303
    assert toggle["Location"] == "/?q=London&units=imperial"
    assert toggle.cookies["weather_units"].value == "imperial"
    assert {"private", "no-store"} <= directives(toggle)
    assert not directives(toggle) & {"public", "s-maxage", "stale-if-error"}
    page = client.get(toggle["Location"], headers={"Sec-Fetch-Site": "same-origin"})
    assert "public" in directives(page)
    assert "Set-Cookie" not in page.headers  # the page itself sets nothing: a cache may keep it


def test_a_toggle_someone_else_fetched_first_still_remembers_the_choice(client, stubbed_services):
    stranger = Client().get("/units", {"q": "London", "units": "imperial"})
    assert "weather_units" not in stranger.cookies  # not made on this site: not remembered
    assert "no-store" in directives(stranger)
    mine = client.get(
        "/units", {"q": "London", "units": "imperial"}, headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert mine.cookies["weather_units"].value == "imperial"


def test_a_page_conditional_get_is_304_with_the_same_etag(client, stubbed_services):
    first = client.get(PAGE, {"q": "London", "units": "metric"})
    again = client.get(
        PAGE, {"q": "London", "units": "metric"}, headers={"if-none-match": first["ETag"]}
    )
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]
    other_units = client.get(
        PAGE, {"q": "London", "units": "imperial"}, headers={"if-none-match": first["ETag"]}
    )
    assert other_units.status_code == 200


@pytest.mark.parametrize("params", [{"q": "Atlantis"}, {"q": "!!!"}, {"lat": "1"}])
def test_pages_with_errors_are_not_cached(client, stubbed_services, params):
    response = client.get(PAGE, params)
    assert response.status_code in (400, 404)
    assert {"no-cache", "no-store"} <= directives(response)


@pytest.mark.parametrize("cookie", [None, "imperial"], ids=["no cookie", "units cookie"])
def test_a_cached_page_view_writes_nothing_to_the_database(
    client, stubbed_services, warm_caches, cookie
):
    if cookie:
        client.cookies["weather_units"] = cookie
    client.get(PAGE, {"q": "London"})
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            response = client.get(PAGE, {"q": "London"})
            assert response.status_code == 200
    writes = [q["sql"] for q in queries if not q["sql"].lstrip().upper().startswith("SELECT")]
    assert writes == []
    assert len(queries) == 0  # the memo serves the report; no session is read
    assert not Session.objects.exists()
