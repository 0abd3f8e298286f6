"""Several gunicorn workers, one database: one upstream call per place and TTL, a hard budget."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.conftest import API_KEY
from tests.fakes.keys import FakeKeys
from tests.fakes.places import PLACES
from tests.support.appserver import AppServer
from tests.support.crowd import hammer
from tests.support.network import wait_for_a_fresh_minute
from weather.clients.openweather import OpenWeatherClient
from weather.units import Units

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

POINTS = [(round(-60 + 4.1 * i, 2), round(-170 + 11.3 * i, 2)) for i in range(30)]


def test_a_crowd_costs_one_upstream_call_per_place_and_ttl(server_env, fake_upstream):
    fake_upstream.latency = 0.15  # a realistic round trip, so requests really overlap
    places = POINTS[:20]
    # 50 clients, 200 requests: every place asked for ten times, in shuffled order.
    urls = [f"/api/weather?lat={lat}&lon={lon}" for lat, lon in places] * 10
    urls = urls[::7] + urls[1::7] + urls[2::7] + urls[3::7] + urls[4::7] + urls[5::7] + urls[6::7]
    # Three calls per place (weather, forecast, air pollution): a cap above the 60 needed.
    env = {**server_env, "WEATHER_BUDGET_PER_MINUTE": "100"}
    with AppServer(env=env, workers=4) as server:
        statuses = hammer(server.base_url, urls, clients=50)
        assert statuses == {200: 200}, server.log_text()[-3000:]
        calls = fake_upstream.call_counts()
        assert (calls["weather"], calls["forecast"], calls["air_pollution"]) == (20, 20, 20)

        again = hammer(server.base_url, urls[:100], clients=50)
        assert again == {200: 100}
        assert fake_upstream.call_counts() == calls


@pytest.mark.parametrize("attempt", range(3))
def test_a_crowd_asking_for_new_names_never_hears_not_found(server_env, fake_upstream, attempt):
    """Real places asked for by name, all at once: each is geocoded once and none answers
    404 (a race between the geocoding cache's two reads once made one do so)."""
    fake_upstream.latency = 0.05
    names = sorted({place.name for place in PLACES})
    urls = [f"/api/weather?q={quote(name)}" for name in names] * 8
    urls = urls[attempt::3] + [url for i, url in enumerate(urls) if i % 3 != attempt]
    # Four calls per name with its air quality: a cap that does not refuse any of them.
    env = {**server_env, "WEATHER_BUDGET_PER_MINUTE": str(8 * len(names))}
    with AppServer(env=env, workers=4) as server:
        statuses = hammer(server.base_url, urls, clients=50)
    assert statuses == {200: len(urls)}, statuses
    assert fake_upstream.call_counts()["geocode"] == len(names)


def test_the_budget_is_never_exceeded_across_workers(server_env, fake_upstream):
    env = {**server_env, "WEATHER_BUDGET_PER_MINUTE": "10"}
    urls = [f"/api/weather?lat={lat}&lon={lon}" for lat, lon in POINTS]
    with AppServer(env=env, workers=4) as server:
        wait_for_a_fresh_minute()
        statuses = hammer(server.base_url, urls, clients=30)
        calls = fake_upstream.call_counts()
        assert calls["weather"] + calls["forecast"] + calls["geocode"] <= 10
        assert set(statuses) <= {200, 429}, statuses
        assert statuses[429] >= 25  # each place needs two calls: at most 5 fit in 10
        refused = server.get("/api/weather", lat=POINTS[-1][0], lon=POINTS[-1][1])
        if refused.status_code == 429:
            assert int(refused.headers["Retry-After"]) <= 60
            assert refused.json()["error"]["code"] == "budget_exhausted"


def test_weather_and_forecast_are_asked_for_at_the_same_time(fake_upstream):
    """A cold search waits for two round trips (geocode, then both at once), not three."""
    fake_upstream.latency = 0.3  # long enough that two requests in turn could not overlap
    client = OpenWeatherClient(base_url=fake_upstream.base_url, keys=FakeKeys(API_KEY))
    current, forecast = client.current_and_forecast(lat=51.51, lon=-0.13, units=Units.METRIC)
    assert current.station_name == "London"
    assert len(forecast.steps) == 40
    assert fake_upstream.call_counts()["weather"] == fake_upstream.call_counts()["forecast"] == 1
    assert fake_upstream.most_in_flight == 2
