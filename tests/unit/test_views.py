"""The views through Django's test client: the page, the JSON API, suggestions, remembered
units, recent and popular places, local times, robots.txt, health checks and headers.

Vault and OpenWeather are stubbed at the HTTP transport (see conftest.py).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import requests
from django.contrib.staticfiles import finders
from django.test import Client
from django.utils import timezone

from tests.support.html import section_of
from tests.unit import payloads
from tests.unit.conftest import STUB_KEY, UPSTREAM, VAULT
from weather.models import WeatherLookup
from weather.vault import api_keys

pytestmark = pytest.mark.django_db

PAGE, API = "/", "/api/weather"
PLACES_API = "/api/places"
# What a browser sends when the visitor clicks something on this site's own pages.
THIS_SITE = {"Sec-Fetch-Site": "same-origin"}
GEOCODE = re.compile(rf"{re.escape(UPSTREAM)}/geo/1\.0/direct\?.*")
WEATHER_URL = re.compile(rf"{re.escape(UPSTREAM)}/data/2\.5/weather\?.*")
FORECAST = re.compile(rf"{re.escape(UPSTREAM)}/data/2\.5/forecast\?.*")


def test_home_page_shows_the_search_form_and_calls_nothing(client, stubbed_services):
    response = client.get(PAGE)
    assert response.status_code == 200
    assert b'name="q"' in response.content
    assert stubbed_services.call_count == 0


def test_search_shows_place_current_conditions_and_forecast(client, stubbed_services):
    response = client.get(PAGE, {"q": "London", "units": "metric"})
    html = response.content.decode()
    assert response.status_code == 200
    # The forecast below shows some of the same words and icons: look in "now" only.
    current = section_of(html, r'<section class="current".*?</section>')
    assert "London" in current
    assert "England" in current
    assert "Broken clouds" in current
    assert '<span class="value">4</span>' in current  # 4.17 °C rounded
    assert "36 %" in current
    assert "1011 hPa" in current
    assert "07:51" in current  # sunrise 07:51:25 UTC, London's offset is 0
    assert "16:09" in current
    assert "/static/weather/icons/04d.svg" in current
    assert "Updated" in current
    assert "5-day forecast" in html


def test_ambiguous_name_links_to_the_other_matches_by_coordinates(client, stubbed_services):
    html = client.get(PAGE, {"q": "London"}).content.decode()
    assert "London, Ontario, CA" in html
    assert "London, Kentucky, US" in html
    assert "?lat=42.9837&amp;lon=-81.2497&amp;units=metric" in html


def test_picking_an_alternative_shows_that_place(client, stubbed_services):
    client.get(PAGE, {"q": "London"})
    response = client.get(PAGE, {"lat": "42.9837", "lon": "-81.2497", "units": "metric"})
    assert response.status_code == 200
    assert "Ontario" in response.content.decode()


def test_second_search_is_served_from_the_cache(client, stubbed_services):
    client.get(API, {"q": "London"})
    calls = stubbed_services.call_count
    body = client.get(API, {"q": " LONDON "}).json()
    assert body["source"] == "cache"
    assert stubbed_services.call_count == calls


def test_api_returns_the_documented_shape(client, stubbed_services):
    response = client.get(API, {"q": "London", "units": "imperial"})
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {
        "place",
        "units",
        "current",
        "forecast",
        "alternatives",
        "source",
        "fetched_at",
        "expires_at",
    }
    assert body["place"]["country"] == "GB"
    assert body["units"] == "imperial"
    assert body["source"] == "upstream"
    assert body["current"]["temp"] == 39.51  # 4.17 °C, fetched in metric, converted
    assert len(body["forecast"]["steps"]) == 40
    assert body["forecast"]["daily"][0]["high"] >= body["forecast"]["daily"][0]["low"]
    assert [p["country"] for p in body["alternatives"]] == ["CA", "US"]
    weather_call = next(r for r in stubbed_services.request_history if "/data/2.5/weather" in r.url)
    assert weather_call.qs["units"] == ["metric"]  # whatever the visitor's: one fetch each


def test_api_by_coordinates(client, stubbed_services):
    body = client.get(API, {"lat": "51.5", "lon": "-0.12"}).json()
    assert body["place"]["name"] == "London"  # named by the upstream's answer
    assert body["alternatives"] == []


def test_unknown_place_is_404_with_a_clear_message(client, stubbed_services):
    response = client.get(API, {"q": "Atlantis"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "place_not_found"
    assert "Atlantis" in response.json()["error"]["message"]
    page = client.get(PAGE, {"q": "Atlantis"})
    assert page.status_code == 404
    assert "No place called “Atlantis” was found" in page.content.decode()


BAD_INPUT = [
    ({"q": ""}, "Type a place name"),
    ({"q": "   "}, "Type a place name"),
    ({"q": "x" * 10_000}, "at most 100 characters"),
    ({"q": "Lon\x00don"}, "Null characters are not allowed"),
    ({"q": "!!!"}, "letters or digits"),
    ({"q": "London", "units": "kelvin"}, "Select a valid choice"),
    ({"lat": "abc", "lon": "1"}, "Enter a number"),
    ({"lat": "91", "lon": "1"}, "less than or equal to 90"),
    ({"lat": "1", "lon": "-180.5"}, "greater than or equal to -180"),
    ({"lat": "nan", "lon": "1"}, "Enter a number"),
    ({"lat": "inf", "lon": "1"}, "Enter a number"),
    ({"lat": "1"}, "both lat and lon"),
]


@pytest.mark.parametrize(("params", "message"), BAD_INPUT)
def test_api_rejects_bad_input_with_400_and_says_why(client, stubbed_services, params, message):
    response = client.get(API, params)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert message in error["message"]
    assert stubbed_services.call_count == 0


@pytest.mark.parametrize(("params", "message"), BAD_INPUT)
def test_page_shows_a_form_error_for_bad_input(client, stubbed_services, params, message):
    response = client.get(PAGE, params)
    assert response.status_code == 400
    assert message in response.content.decode()


ODD_BUT_VALID = [
    "🌧️ Rain city",
    "القاهرة",  # right-to-left script
    "<script>alert(1)</script>",
    "'; DROP TABLE weather_place; --",
    '" OR 1=1 --',
    "%00%27",
    "Zürich\u200b",
]


@pytest.mark.parametrize("query", ODD_BUT_VALID)
def test_odd_queries_are_looked_up_and_reflected_escaped(client, stubbed_services, query):
    response = client.get(PAGE, {"q": query})
    assert response.status_code == 404
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    api = client.get(API, {"q": query})
    assert api.status_code == 404
    assert api["Content-Type"] == "application/json"


def test_upstream_failure_is_503_with_retry_after(client, stubbed_services):
    stubbed_services.get(
        WEATHER_URL,
        status_code=500,
        json={"cod": "500", "message": "Internal error"},
    )
    api = client.get(API, {"q": "London"})
    assert api.status_code == 503
    assert api["Retry-After"] == "60"
    assert api.json()["error"]["code"] == "upstream_unavailable"
    page = client.get(PAGE, {"q": "London"})
    assert page.status_code == 503
    assert "not answering right now" in page.content.decode()


def test_upstream_timeout_is_503(client, stubbed_services):
    stubbed_services.get(
        re.compile(rf"{re.escape(UPSTREAM)}/geo/1\.0/direct\?.*"), exc=requests.ReadTimeout
    )
    assert client.get(API, {"q": "London"}).status_code == 503


def test_rate_limited_upstream_is_503_try_later(client, stubbed_services):
    stubbed_services.get(
        re.compile(rf"{re.escape(UPSTREAM)}/geo/1\.0/direct\?.*"),
        status_code=429,
        json={"cod": 429, "message": "blocked"},
    )
    response = client.get(API, {"q": "London"})
    assert response.status_code == 503
    assert "try again in a minute" in response.json()["error"]["message"]


def test_sealed_vault_is_503_with_a_clear_message(client, stubbed_services):
    stubbed_services.get(
        f"{VAULT}/v1/secret/data/weather", status_code=503, json={"errors": ["Vault is sealed"]}
    )
    api = client.get(API, {"q": "London"})
    assert api.status_code == 503
    assert api.json()["error"]["code"] == "vault_unavailable"
    page = client.get(PAGE, {"q": "London"})
    assert "credentials cannot be read" in page.content.decode()


@pytest.mark.parametrize("path", [API, PLACES_API, "/api/openapi.json"])
@pytest.mark.parametrize("method", ["post", "put", "delete", "patch"])
def test_only_get_and_head_are_allowed_on_the_api(stubbed_services, path, method):
    # With CSRF checks on, as a browser or any other client meets them: the API takes no
    # writes, so the answer is 405 naming what it takes, not a CSRF failure page.
    strict = Client(enforce_csrf_checks=True)
    response = getattr(strict, method)(path, {"q": "London"})
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


@pytest.mark.parametrize(
    "path",
    [
        PAGE,
        f"{PAGE}?q=London",
        API + "?q=London",
        PLACES_API + "?q=Lon",
        "/robots.txt",
        "/favicon.ico",
        "/units?units=imperial",
    ],
)
def test_head_answers_wherever_get_does(client, stubbed_services, path):
    get, head = client.get(path), client.head(path)
    assert head.status_code == get.status_code
    assert head.content == b""
    assert head.get("Cache-Control") == get.get("Cache-Control")


def test_healthz_calls_no_dependency(client, stubbed_services):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert stubbed_services.call_count == 0


def test_readyz_is_200_when_database_and_vault_answer(client, stubbed_services):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_tells_the_public_only_unavailable_and_logs_which_check_failed(
    client, stubbed_services, caplog
):
    stubbed_services.get(f"{VAULT}/v1/secret/data/weather", exc=requests.ConnectionError)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}
    (record,) = [r for r in caplog.records if r.name == "weather.views"]
    assert record.levelname == "WARNING"
    assert record.getMessage() == "readyz: the vault check failed: VaultUnreachable"


def test_readyz_details_can_be_turned_on_for_a_private_network(client, stubbed_services, settings):
    settings.WEATHER_READYZ_DETAILS = True
    assert client.get("/readyz").json()["checks"] == {
        "database": {"ok": True},
        "vault": {"ok": True},
    }
    stubbed_services.get(f"{VAULT}/v1/secret/data/weather", exc=requests.ConnectionError)
    api_keys().invalidate()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {
        "database": {"ok": True},
        "vault": {"ok": False, "error": "VaultUnreachable"},
    }


def test_the_key_is_in_no_response(client, stubbed_services):
    bodies = [
        client.get(PAGE, {"q": "London"}).content,
        client.get(API, {"q": "London"}).content,
        client.get(API, {"q": "Atlantis"}).content,
        client.get("/readyz").content,
    ]
    assert all(STUB_KEY.encode() not in body for body in bodies)


# --- stale copies and a spent budget, as the API and the page show them ---------------


def test_api_says_stale_with_its_age(client, stubbed_services):
    client.get("/api/weather", {"q": "London"})
    an_hour_ago = timezone.now() - timedelta(hours=1)
    WeatherLookup.objects.update(fetched_at=an_hour_ago, expires_at=an_hour_ago)
    stubbed_services.get(WEATHER_URL, status_code=503, text="down")
    body = client.get("/api/weather", {"q": "London"}).json()
    assert body["source"] == "stale"
    assert body["stale_reason"] == "upstream_unavailable"
    assert 3590 <= body["age_seconds"] <= 3610
    page = client.get("/", {"q": "London"}).content.decode()
    assert "Showing weather from <time" in page
    assert "an hour ago</time>: the weather service is not answering" in page


HUGE_TEMPERATURE = payloads.CURRENT_WITH_HUGE_TEMPERATURE


def test_a_number_too_large_for_a_float_is_a_503_without_a_copy(client, stubbed_services):
    stubbed_services.get(WEATHER_URL, text=HUGE_TEMPERATURE)
    api = client.get("/api/weather", {"q": "London"})
    assert api.status_code == 503
    assert api.json()["error"]["code"] == "upstream_unavailable"
    assert client.get("/", {"q": "London"}).status_code == 503


def test_a_number_too_large_for_a_float_serves_the_stored_copy(client, stubbed_services):
    client.get("/api/weather", {"q": "London"})
    WeatherLookup.objects.update(expires_at=timezone.now())
    stubbed_services.get(WEATHER_URL, text=HUGE_TEMPERATURE)
    body = client.get("/api/weather", {"q": "London"}).json()
    assert body["source"] == "stale"
    assert client.get("/", {"q": "London"}).status_code == 200


def test_spent_budget_without_a_copy_is_429_with_retry_after(client, stubbed_services, settings):
    settings.WEATHER_BUDGET_PER_MINUTE = 1  # the geocoding call spends it
    response = client.get("/api/weather", {"q": "London"})
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "budget_exhausted"
    assert 1 <= int(response["Retry-After"]) <= 60
    page = client.get("/", {"lat": "10", "lon": "10"})
    assert page.status_code == 429
    assert "allowance of weather updates" in page.content.decode()


def test_vault_down_with_a_stored_copy_still_answers(client, stubbed_services):
    client.get("/api/weather", {"q": "London"})
    WeatherLookup.objects.update(expires_at=timezone.now())
    stubbed_services.get(f"{VAULT}/v1/secret/data/weather", exc=requests.ConnectionError)
    api_keys().invalidate()
    body = client.get("/api/weather", {"q": "London"}).json()
    assert body["source"] == "stale"
    assert body["stale_reason"] == "vault_unavailable"


def test_a_client_past_its_allowance_is_told_so_and_others_are_not(
    client, stubbed_services, settings
):
    settings.WEATHER_CLIENT_BUDGET_PER_MINUTE = 3  # geocode + weather + forecast: one place
    assert client.get(API, {"q": "London"}).status_code == 200
    refused = client.get(API, {"lat": "10", "lon": "10"})
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "allowance_exhausted"
    assert 1 <= int(refused["Retry-After"]) <= 60
    page = client.get(PAGE, {"lat": "10", "lon": "10"})
    assert page.status_code == 429
    assert "asked for a lot of new weather" in page.content.decode()
    someone_else = client.get(API, {"lat": "10", "lon": "10"}, REMOTE_ADDR="192.0.2.44")
    assert someone_else.status_code == 200
    # What was looked up before still shows, from the cache.
    assert client.get(API, {"q": "London"}).json()["source"] == "cache"


# --- suggestions, remembered units, recent and popular places, headers --------------------


def geocode_calls(stubbed) -> int:
    return sum(1 for r in stubbed.request_history if "/geo/1.0/direct" in r.url)


def test_suggestions_for_a_name_list_each_place_with_coordinates(client, stubbed_services):
    response = client.get(PLACES_API, {"q": "London", "lookup": "1"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "max-age=60" in response["Cache-Control"]
    places = response.json()["places"]
    assert [p["label"] for p in places] == [
        "London, England, GB",
        "London, Ontario, CA",
        "London, Kentucky, US",
    ]
    assert places[1] == {
        "name": "London",
        "state": "Ontario",
        "country": "CA",
        "lat": 42.9837,
        "lon": -81.2497,
        "label": "London, Ontario, CA",
    }


@pytest.mark.parametrize(
    "params",
    [{}, {"q": ""}, {"q": "!!!"}, {"q": "a"}, {"q": "x" * 101}, {"q": "Lon\x00don"}],
)
def test_junk_gets_an_empty_list_and_no_upstream_call(client, stubbed_services, params):
    response = client.get(PLACES_API, params)
    assert response.status_code == 200
    assert response.json() == {"places": []}
    assert stubbed_services.call_count == 0


def test_while_typing_only_known_places_are_suggested(client, stubbed_services):
    """Without lookup=1 (the search box sends it only after a pause) nothing reaches
    the geocoder: typing a new name letter by letter costs no upstream call."""
    for prefix in ("Lo", "Lon", "Lond", "Londo", "London"):
        assert client.get(PLACES_API, {"q": prefix}).json() == {"places": []}
    assert geocode_calls(stubbed_services) == 0
    # The pause: one call for the name, and what it found is known from then on.
    assert len(client.get(PLACES_API, {"q": "London", "lookup": "1"}).json()["places"]) == 3
    assert len(client.get(PLACES_API, {"q": "Lond"}).json()["places"]) == 3
    assert geocode_calls(stubbed_services) == 1


def test_typing_on_after_a_match_costs_no_more_upstream_calls(client, stubbed_services):
    client.get(PLACES_API, {"q": "London", "lookup": "1"})
    for prefix in ("Lo", "Lon", "Lond", "Londo", "london"):
        assert len(client.get(PLACES_API, {"q": prefix}).json()["places"]) == 3
    assert geocode_calls(stubbed_services) == 1


def test_a_failing_geocoder_means_no_suggestions_not_an_error(client, stubbed_services):
    stubbed_services.get(GEOCODE, status_code=502, json={"cod": "502", "message": "Bad"})
    response = client.get(PLACES_API, {"q": "London", "lookup": "1"})
    assert response.status_code == 200
    assert response.json() == {"places": []}
    assert "no-store" in response["Cache-Control"]  # "none for now" is nobody else's answer
    assert "public" not in response["Cache-Control"]


def test_a_spent_budget_means_no_suggestions_and_no_call(client, stubbed_services, settings):
    settings.WEATHER_BUDGET_PER_MINUTE = 0
    response = client.get(PLACES_API, {"q": "London", "lookup": "1"})
    assert response.json() == {"places": []}
    assert "no-store" in response["Cache-Control"]
    assert geocode_calls(stubbed_services) == 0
    nothing_matches = client.get(PLACES_API, {"q": "!!!"})  # the same for everyone, always
    assert "public" in nothing_matches["Cache-Control"]


def test_units_chosen_once_apply_to_later_searches(client, stubbed_services):
    toggle = client.get("/units", {"q": "London", "units": "imperial"}, headers=THIS_SITE)
    assert toggle.status_code == 303
    page = client.get("/", {"q": "London"}).content.decode()
    assert '<span class="unit">°F</span>' in page
    assert re.search(r'value="imperial" aria-pressed="true"', page)
    weather_calls = [r for r in stubbed_services.request_history if "/data/2.5/weather" in r.url]
    assert weather_calls[-1].qs["units"] == ["metric"]  # converted locally


def test_units_can_be_chosen_on_the_home_page(client, stubbed_services):
    home = client.get("/units", {"units": "imperial"}, headers=THIS_SITE, follow=True)
    assert home.status_code == 200
    assert home.redirect_chain == [("/?units=imperial", 303)]
    assert stubbed_services.call_count == 0
    page = client.get("/", {"q": "London"}).content.decode()
    assert '<span class="unit">°F</span>' in page


def test_units_are_remembered_per_visitor(client, stubbed_services):
    client.get("/units", {"units": "imperial"}, headers=THIS_SITE)
    someone_else = Client()
    page = someone_else.get("/", {"q": "London"}).content.decode()
    assert '<span class="unit">°C</span>' in page


@pytest.mark.parametrize(
    "came_from",
    [{"Sec-Fetch-Site": "cross-site"}, {"Referer": "https://elsewhere.example/"}, {}],
    ids=["cross-site", "foreign referer", "nothing said"],
)
def test_a_link_from_elsewhere_shows_its_units_but_changes_no_preference(
    client, stubbed_services, came_from
):
    linked = client.get("/", {"q": "London", "units": "imperial"}, headers=came_from)
    assert '<span class="unit">°F</span>' in linked.content.decode()
    assert "weather_units" not in linked.cookies
    toggle = client.get("/units", {"q": "London", "units": "imperial"}, headers=came_from)
    assert "weather_units" not in toggle.cookies
    page = client.get("/", {"q": "London"}).content.decode()
    assert '<span class="unit">°C</span>' in page


def test_an_old_browser_on_this_site_is_known_by_its_referer(client, stubbed_services):
    client.get("/units", {"units": "imperial"}, headers={"Referer": "http://testserver/?q=Paris"})
    assert '<span class="unit">°F</span>' in client.get("/", {"q": "London"}).content.decode()


def test_invalid_units_are_a_form_error_and_not_remembered(client, stubbed_services):
    assert client.get("/", {"q": "London", "units": "kelvin"}).status_code == 400
    page = client.get("/", {"q": "London"}).content.decode()
    assert '<span class="unit">°C</span>' in page


def test_the_api_ignores_the_page_preference(client, stubbed_services):
    client.get("/units", {"units": "imperial"}, headers=THIS_SITE)
    assert client.get("/api/weather", {"q": "London"}).json()["units"] == "metric"


def test_a_result_page_names_its_place_for_the_browser_s_recent_list(client, stubbed_services):
    """Recent places are kept by the browser (dashboard.js); the page only says which
    place it shows, and the list's empty, hidden frame is the same for everyone."""
    page = client.get("/", {"q": "London"}).content.decode()
    article = section_of(page, r'<article class="report"[^>]*>')
    assert 'data-place-label="London, England, GB"' in article
    assert 'data-place-lat="51.5073" data-place-lon="-0.1276"' in article
    recents = section_of(page, r'<nav class="recents".*?</nav>')
    assert "hidden" in recents
    assert 'class="chip"' not in recents


def test_a_failed_search_names_no_place_for_the_recent_list(client, stubbed_services):
    assert "data-place-label" not in client.get("/", {"q": "Atlantis"}).content.decode()


def test_home_page_links_the_most_looked_up_places(client, stubbed_services):
    client.get("/", {"q": "London"})
    client.get("/", {"q": "London"})
    someone_else = Client()
    home = someone_else.get("/").content.decode()
    popular = section_of(home, r'<nav class="popular".*?</nav>')
    assert "Popular places" in popular
    assert "London, England, GB" in popular
    assert 'class="chip"' not in section_of(home, r'<nav class="recents".*?</nav>')


def test_a_new_site_suggests_examples_instead_of_popular_places(client, stubbed_services):
    home = client.get("/").content.decode()
    assert "Try one of these" in home
    assert 'href="?q=S%C3%A3o%20Paulo"' in home


def test_sun_times_are_in_the_place_s_local_time(client, stubbed_services):
    # Tokyo is UTC+09:00: sunrise at 07:51:25 UTC is 16:51 there.
    stubbed_services.get(WEATHER_URL, json={**payloads.CURRENT, "timezone": 32400})
    page = client.get("/", {"q": "London"}).content.decode()
    assert re.search(r"<dt>Sunrise</dt><dd><time[^>]*>16:51</time>", page)
    assert "(UTC+09:00)" in page


def test_without_a_utc_offset_the_page_says_its_times_are_utc(client, stubbed_services):
    current = {k: v for k, v in payloads.CURRENT.items() if k != "timezone"}
    stubbed_services.get(WEATHER_URL, json=current)
    stubbed_services.get(FORECAST, json={**payloads.FORECAST, "city": {}})
    page = client.get("/", {"q": "London"}).content.decode()
    assert "Times are in UTC: the weather service did not give London" in page
    assert re.search(r"<dt>Sunrise</dt><dd><time[^>]*>07:51</time>", page)
    assert "Every 3 hours, UTC" in page
    assert "Times are local to" not in page


def test_without_chances_precipitation_is_judged_by_its_volume(client, stubbed_services):
    steps = [
        {**{k: v for k, v in step.items() if k != "pop"}, "rain": {"3h": 1.5 if i == 3 else 0}}
        for i, step in enumerate(payloads.FORECAST["list"])
    ]
    stubbed_services.get(FORECAST, json={**payloads.FORECAST, "list": steps})
    page = client.get("/", {"q": "London"}).content.decode()
    days = section_of(page, r'<ol class="days">.*?</ol>')
    assert '1.5 mm<span class="pop-words"> of precipitation</span>' in days
    assert "chance of precipitation</span>" not in days
    assert "the most precipitation, 1.5 mm, falls on" in page
    assert "<td>not given</td>" in page


def test_empty_rain_blocks_beside_real_volumes_do_not_make_a_wet_day_dry(client, stubbed_services):
    steps = [
        {**{k: v for k, v in step.items() if k != "pop"}, "rain": {"3h": 13.0} if i % 2 else {}}
        for i, step in enumerate(payloads.FORECAST["list"])
    ]
    stubbed_services.get(FORECAST, json={**payloads.FORECAST, "list": steps})
    page = client.get("/", {"q": "London"}).content.decode()
    days = section_of(page, r'<ol class="days">.*?</ol>')
    assert ">Dry<" not in days
    assert 'mm<span class="pop-words"> of precipitation</span>' in days
    assert "the most precipitation, 13.0 mm, falls on" in page


def test_result_page_draws_the_forecast_chart_with_a_table(client, stubbed_services):
    page = client.get("/", {"q": "London"}).content.decode()
    assert '<svg class="chart-svg"' in page
    assert 'role="img" aria-labelledby="chart-title chart-desc"' in page
    assert page.count('<tr><th scope="row">') == 40


def test_pages_have_no_inline_scripts_or_styles(client, stubbed_services):
    for params in ({}, {"q": "London"}, {"q": "Atlantis"}, {"q": ""}):
        html = client.get("/", params).content.decode()
        assert "<style" not in html
        assert " style=" not in html
        assert not re.search(r"<script(?![^>]*\bsrc=)", html)
        assert not re.search(r"\son[a-z]+=", html)


def test_pages_send_a_strict_content_security_policy(client, stubbed_services):
    response = client.get("/")
    policy = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_robots_txt_keeps_crawlers_off_the_api(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert "Disallow: /api/" in response.content.decode()


def test_favicon_ico_points_at_the_app_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/weather/icons/01d.svg"
    assert finders.find("weather/icons/01d.svg")


def test_demo_mode_says_so_on_every_page(client, stubbed_services, settings):
    settings.WEATHER_DEMO_MODE = True
    for path, params in (("/", {}), ("/", {"q": "London"}), ("/", {"q": "Atlantis"})):
        page = client.get(path, params).content.decode()
        assert 'class="banner banner-demo"' in page, params
        assert "running against the bundled fake OpenWeather server" in page


def test_without_demo_mode_there_is_no_demo_notice(client, stubbed_services, settings):
    settings.WEATHER_DEMO_MODE = False
    assert "banner-demo" not in client.get("/", {"q": "London"}).content.decode()
