"""The dashboard's visitor features through Django's test client: suggestions endpoint,
remembered units, recent and popular places, local times, security headers.

Vault and OpenWeather are stubbed at the HTTP transport (see conftest.py).
"""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from tests.support.html import section_of
from tests.unit import payloads
from tests.unit.conftest import UPSTREAM

pytestmark = pytest.mark.django_db

PLACES_API = "/api/places"
# What a browser sends when the visitor clicks something on this site's own pages.
THIS_SITE = {"Sec-Fetch-Site": "same-origin"}
GEOCODE = re.compile(rf"{re.escape(UPSTREAM)}/geo/1\.0/direct\?.*")
WEATHER = re.compile(rf"{re.escape(UPSTREAM)}/data/2\.5/weather\?.*")
FORECAST = re.compile(rf"{re.escape(UPSTREAM)}/data/2\.5/forecast\?.*")


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


def test_a_spent_budget_means_no_suggestions_and_no_call(client, stubbed_services, settings):
    settings.WEATHER_BUDGET_PER_MINUTE = 0
    assert client.get(PLACES_API, {"q": "London", "lookup": "1"}).json() == {"places": []}
    assert geocode_calls(stubbed_services) == 0


def test_units_chosen_once_apply_to_later_searches(client, stubbed_services):
    client.get("/", {"q": "London", "units": "imperial"}, headers=THIS_SITE)
    page = client.get("/", {"q": "London"}).content.decode()
    assert '<span class="unit">°F</span>' in page
    assert re.search(r'value="imperial" aria-pressed="true"', page)
    weather_calls = [r for r in stubbed_services.request_history if "/data/2.5/weather" in r.url]
    assert weather_calls[-1].qs["units"] == ["imperial"]


def test_units_can_be_chosen_on_the_home_page(client, stubbed_services):
    home = client.get("/", {"units": "imperial"}, headers=THIS_SITE)
    assert home.status_code == 200
    assert stubbed_services.call_count == 0
    page = client.get("/", {"q": "London"}).content.decode()
    assert '<span class="unit">°F</span>' in page


def test_units_are_remembered_per_visitor(client, stubbed_services):
    client.get("/", {"units": "imperial"}, headers=THIS_SITE)
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
    page = client.get("/", {"q": "London"}).content.decode()
    assert '<span class="unit">°C</span>' in page


def test_an_old_browser_on_this_site_is_known_by_its_referer(client, stubbed_services):
    client.get("/", {"units": "imperial"}, headers={"Referer": "http://testserver/?q=Paris"})
    assert '<span class="unit">°F</span>' in client.get("/", {"q": "London"}).content.decode()


def test_invalid_units_are_a_form_error_and_not_remembered(client, stubbed_services):
    assert client.get("/", {"q": "London", "units": "kelvin"}).status_code == 400
    page = client.get("/", {"q": "London"}).content.decode()
    assert '<span class="unit">°C</span>' in page


def test_the_api_ignores_the_page_preference(client, stubbed_services):
    client.get("/", {"units": "imperial"}, headers=THIS_SITE)
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
    stubbed_services.get(WEATHER, json={**payloads.CURRENT, "timezone": 32400})
    page = client.get("/", {"q": "London"}).content.decode()
    assert re.search(r"<dt>Sunrise</dt><dd><time[^>]*>16:51</time>", page)
    assert "(UTC+09:00)" in page


def test_without_a_utc_offset_the_page_says_its_times_are_utc(client, stubbed_services):
    current = {k: v for k, v in payloads.CURRENT.items() if k != "timezone"}
    stubbed_services.get(WEATHER, json=current)
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
