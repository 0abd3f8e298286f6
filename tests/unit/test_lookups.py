"""The lookup flow against an injected fake client: what is cached, what is fetched."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from weather import lookups
from weather.clients.openweather import (
    Conditions,
    Forecast,
    ForecastStep,
    GeoPlace,
    PlaceNotFound,
    UpstreamUnavailable,
)
from weather.models import GeocodeQuery, Place, WeatherLookup

pytestmark = pytest.mark.django_db

LONDONS = [
    GeoPlace(name="London", country="GB", state="England", lat=51.5073219, lon=-0.1276474),
    GeoPlace(name="London", country="CA", state="Ontario", lat=42.9836747, lon=-81.2496068),
    GeoPlace(name="London", country="US", state="Kentucky", lat=37.1289771, lon=-84.0832646),
]


def conditions(temp: float = 11.0) -> Conditions:
    return Conditions(
        observed_at=1764140000,
        timezone_offset=0,
        temp=temp,
        feels_like=temp - 1,
        temp_min=temp - 2,
        temp_max=temp + 2,
        humidity=70,
        pressure=1012,
        wind_speed=3.0,
        wind_deg=200,
        condition_id=800,
        main="Clear",
        description="clear sky",
        icon="01d",
        sunrise=1764142000,
        sunset=1764172000,
        station_name="Somewhere",
        country="GB",
    )


def forecast(offset: int = 0) -> Forecast:
    start = 1764147600  # 2025-11-26 09:00 UTC
    steps = tuple(
        ForecastStep(
            at=start + 10800 * i,
            temp=5.0 + i % 8,
            temp_min=4.0 + i % 8,
            temp_max=6.0 + i % 8,
            feels_like=4.0,
            humidity=80,
            condition_id=500,
            main="Rain",
            description="light rain",
            icon="10d",
            wind_speed=2.0,
            pop=0.1 * (i % 10),
            rain_mm=0.5,
            snow_mm=0.0,
        )
        for i in range(40)
    )
    return Forecast(timezone_offset=offset, steps=steps)


class FakeClient:
    """Answers like OpenWeather would, and counts what it was asked."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.places = {"london": LONDONS}
        self.failing = False

    def geocode(
        self, query: str, *, limit: int = 5, deadline: float | None = None
    ) -> list[GeoPlace]:
        self.calls["geocode"] += 1
        if query not in self.places:
            raise PlaceNotFound("none")
        return self.places[query]

    def current(
        self, *, lat: float, lon: float, units: str, deadline: float | None = None
    ) -> Conditions:
        self.calls["current"] += 1
        if self.failing:
            raise UpstreamUnavailable("down")
        return conditions(temp=52.0 if units == "imperial" else 11.0)

    def forecast(
        self, *, lat: float, lon: float, units: str, deadline: float | None = None
    ) -> Forecast:
        self.calls["forecast"] += 1
        return forecast()


@pytest.fixture
def client() -> FakeClient:
    return FakeClient()


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("  LONDON ", "london"),
        ("london", "london"),
        ("New   York\t", "new york"),
        ("Springfield , IL ,US", "springfield,il,us"),
        ("ＬＯＮＤＯＮ", "london"),  # full-width letters fold under NFKC
        ("STRAẞE", "strasse"),  # casefold, not lower
        ("Zu\u0308rich", "zürich"),  # combining diaeresis composes under NFKC
    ],
)
def test_queries_are_normalised(raw, normalised):
    assert lookups.normalise_query(raw) == normalised


def test_first_lookup_fetches_and_stores(client):
    report = lookups.weather_for_query(query="London", units="metric", client=client)
    assert report.source == "upstream"
    assert report.place.country == "GB"
    assert [p.country for p in report.alternatives] == ["CA", "US"]
    assert client.calls == {"geocode": 1, "current": 1, "forecast": 1}
    stored = WeatherLookup.objects.get()
    assert stored.expires_at == stored.fetched_at + timedelta(seconds=600)


def test_fresh_lookup_is_served_without_any_upstream_call(client):
    lookups.weather_for_query(query="London", units="metric", client=client)
    report = lookups.weather_for_query(query="  LONDON ", units="metric", client=client)
    assert report.source == "cache"
    assert report.current.temp == 11.0
    assert client.calls == {"geocode": 1, "current": 1, "forecast": 1}
    assert WeatherLookup.objects.get().hit_count == 1


def test_expired_lookup_is_refetched(client):
    lookups.weather_for_query(query="London", units="metric", client=client)
    WeatherLookup.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    report = lookups.weather_for_query(query="London", units="metric", client=client)
    assert report.source == "upstream"
    assert client.calls["current"] == 2
    assert WeatherLookup.objects.count() == 1
    assert WeatherLookup.objects.get().fetch_count == 2


def test_units_are_part_of_the_cache_key(client):
    lookups.weather_for_query(query="London", units="metric", client=client)
    report = lookups.weather_for_query(query="London", units="imperial", client=client)
    assert report.source == "upstream"
    assert report.current.temp == 52.0
    assert WeatherLookup.objects.count() == 2


def test_ttl_comes_from_settings(client, settings):
    settings.WEATHER_CACHE_TTL = 30
    report = lookups.weather_for_query(query="London", units="metric", client=client)
    assert report.expires_at - report.fetched_at == timedelta(seconds=30)


def test_unreadable_stored_payload_is_refetched(client):
    lookups.weather_for_query(query="London", units="metric", client=client)
    WeatherLookup.objects.update(payload={"old": "shape"})
    report = lookups.weather_for_query(query="London", units="metric", client=client)
    assert report.source == "upstream"


def test_geocoding_is_cached_and_places_are_stored_once(client):
    lookups.find_places(query="London", client=client)
    lookups.find_places(query="london", client=client)
    assert client.calls["geocode"] == 1
    assert Place.objects.count() == 3
    assert GeocodeQuery.objects.get().hit_count == 1


def test_place_not_found_is_remembered_briefly(client, settings):
    settings.WEATHER_NEGATIVE_TTL = 60
    for _ in range(3):
        with pytest.raises(PlaceNotFound):
            lookups.find_places(query="Atlantis", client=client)
    assert client.calls["geocode"] == 1
    entry = GeocodeQuery.objects.get(query="atlantis")
    assert entry.expires_at - entry.fetched_at == timedelta(seconds=60)


def test_upstream_failure_stores_nothing(client):
    client.failing = True
    with pytest.raises(UpstreamUnavailable):
        lookups.weather_for_query(query="London", units="metric", client=client)
    assert not WeatherLookup.objects.exists()


def test_coordinates_of_a_known_place_select_it_exactly(client):
    lookups.find_places(query="London", client=client)
    report = lookups.weather_at(lat=42.9837, lon=-81.2496, units="metric", client=client)
    assert (report.place.country, report.place.state) == ("CA", "Ontario")


def test_nearby_coordinates_share_a_new_place_named_by_the_upstream(client):
    first = lookups.weather_at(lat=10.12345, lon=20.12345, units="metric", client=client)
    second = lookups.weather_at(lat=10.1236, lon=20.1231, units="metric", client=client)
    assert first.place.pk == second.place.pk
    assert second.source == "cache"
    assert first.place.name == "Somewhere"


def test_daily_summaries_group_by_local_day():
    days = lookups.daily_summaries(forecast(offset=0))
    assert len(days) in (5, 6)
    first = days[0]
    assert first.low <= first.high
    assert first.pop == pytest.approx(0.4)  # steps 09:00..21:00 UTC on the first day: 0..0.4


def test_daily_summaries_respect_the_place_offset():
    # At UTC+14 the first step (09:00 UTC) is 23:00 local, the only step of that day;
    # in UTC the same day holds five steps (09:00 to 21:00).
    days_utc = lookups.daily_summaries(forecast(offset=0))
    days_east = lookups.daily_summaries(forecast(offset=14 * 3600))
    assert (days_utc[0].low, days_utc[0].high) == (4.0, 10.0)
    assert (days_east[0].low, days_east[0].high) == (4.0, 6.0)
    assert days_east[1].day == days_utc[0].day + timedelta(days=1)


@pytest.fixture
def memo(settings):
    """Each process's short memory of served reports, on (it is off in the other tests)."""
    settings.WEATHER_MEMO_SECONDS = 60
    settings.WEATHER_HIT_FLUSH_SECONDS = 3600
    lookups._memo.clear()
    yield
    lookups._memo.clear()


def test_a_repeat_within_the_memo_time_costs_no_query(client, memo, django_assert_num_queries):
    lookups.weather_for_query(query="London", units="metric", client=client)
    with django_assert_num_queries(0):
        report = lookups.weather_for_query(query="london ", units="metric", client=client)
    assert report.source == "cache"
    assert [p.country for p in report.alternatives] == ["CA", "US"]
    assert client.calls["current"] == 1


def test_the_memo_never_outlives_the_lookups_expiry(client, memo, settings):
    settings.WEATHER_CACHE_TTL = 0.2
    lookups.weather_for_query(query="London", units="metric", client=client)
    time.sleep(0.25)
    assert lookups.weather_for_query(query="London", units="metric", client=client).source == (
        "upstream"
    )


def test_stale_reports_are_not_memoised(client, memo):
    lookups.weather_for_query(query="London", units="metric", client=client)
    WeatherLookup.objects.update(expires_at=timezone.now())
    lookups._memo.clear()
    client.failing = True
    assert lookups.weather_for_query(query="London", units="metric", client=client).is_stale
    client.failing = False
    assert lookups.weather_for_query(query="London", units="metric", client=client).source == (
        "upstream"
    )
