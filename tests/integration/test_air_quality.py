"""Air quality end to end: Django, the cache, the client over real HTTP to the fake
OpenWeather, the key from a real OpenBao. Its failure never costs the weather, and one
place costs one call per endpoint per TTL, in every unit system."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def test_a_failing_air_endpoint_leaves_the_weather_page_whole(client, live_settings, fake_upstream):
    fake_upstream.fail_endpoint("air_pollution", 500)
    response = client.get("/", {"q": "Zürich"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "5-day forecast" in html
    assert "Air quality is unavailable right now." in html
    assert fake_upstream.call_counts()["air_pollution"] == 1
    body = client.get("/api/weather", {"q": "Zürich"}).json()
    assert (body["air_quality"], body["air_quality_reason"]) == (None, "upstream_unavailable")


def test_the_page_shows_the_fake_upstream_s_index(client, live_settings, fake_upstream):
    body = client.get("/api/weather", {"q": "Kraków"}).json()
    aqi = body["air_quality"]["aqi"]
    assert 1 <= aqi <= 5
    html = client.get("/", {"q": "Kraków"}).content.decode()
    assert f'<span class="aqi-index">{aqi}</span>' in html


def test_one_place_in_every_language_and_unit_costs_one_call_per_endpoint(
    client, live_settings, fake_upstream
):
    """Languages, unit systems, wind units and clocks are all the app's own work on one
    stored answer: 210 pages (7 languages, 3 unit systems, 5 wind units, 2 clocks) and
    their API answers, one call per endpoint."""
    pages = 0
    for prefix in ("/", "/de/", "/fr/", "/es/", "/pt/", "/ja/", "/ar/"):
        lang = prefix.strip("/") or "en"
        for units in ("metric", "imperial", "standard"):
            for wind in ("kmh", "ms", "mph", "knots", "beaufort"):
                for clock in ("24h", "12h"):
                    shown = {"q": "Paris", "units": units, "wind": wind, "clock": clock}
                    page = client.get(prefix, shown)
                    assert (page.status_code, page["Content-Language"]) == (200, lang)
                    pages += 1
            api = client.get("/api/weather", {"q": "Paris", "units": units, "lang": lang})
            assert api.status_code == 200
    assert pages == 7 * 3 * 5 * 2
    counts = fake_upstream.call_counts()
    assert (counts["weather"], counts["forecast"], counts["air_pollution"]) == (1, 1, 1)


def test_a_cold_search_asks_for_weather_forecast_and_air_at_once(
    client, live_settings, fake_upstream
):
    """Two round trips, not three: geocoding, then the rest together."""
    fake_upstream.latency = 0.3  # long enough that requests in turn could not overlap
    body = client.get("/api/weather", {"q": "Paris"}).json()
    assert body["air_quality"]["aqi"] in range(1, 6)
    counts = fake_upstream.call_counts()
    assert (counts["weather"], counts["forecast"], counts["air_pollution"]) == (1, 1, 1)
    assert fake_upstream.most_in_flight == 3


def test_a_failing_air_call_beside_the_weather_spends_no_second_one(
    client, live_settings, fake_upstream
):
    fake_upstream.fail_endpoint("air_pollution", 500)
    body = client.get("/api/weather", {"q": "Paris"}).json()
    assert body["source"] == "upstream"
    assert (body["air_quality"], body["air_quality_reason"]) == (None, "upstream_unavailable")
    assert fake_upstream.call_counts()["air_pollution"] == 1
